/* col_backend.h: what a collection method (ssh, snmp) provides to the
 * collector's event loop. A backend is a table of function pointers filled
 * with designated initializers; adding a method is adding a file.
 *
 * A connection is non-blocking throughout: the loop asks which fd to poll,
 * calls step() when it is ready (and now and then regardless), and enforces
 * deadlines itself by closing a connection that takes too long.
 */
#ifndef COL_BACKEND_H
#define COL_BACKEND_H

#include <stdbool.h>

#include <jansson.h>

#include "col_proc.h"
#include "ks_error.h"
#include "ks_inventory.h"

typedef struct col_conn col_conn; /* backend-private */

/* What a backend needs to know about the study. */
typedef struct col_target {
    const ks_server *server;
    const char *study_dir;
    const char *known_hosts; /* path of the study's known_hosts */
    bool accept_new_hostkeys;
} col_target;

typedef enum col_event {
    COL_EV_AGAIN,     /* nothing finished: poll again */
    COL_EV_CONNECTED, /* connection up and idle: requests can be sent */
    COL_EV_SAMPLE,    /* a sample request finished: *raw is filled */
    COL_EV_FACTS,     /* a facts request finished: *facts is a new reference */
    COL_EV_FAILED,    /* err is filled and the connection is dead: close it */
} col_event;

typedef struct col_backend {
    const char *method;
    /* Allocate a connection and start connecting (never blocks, except for
     * resolving a host name). NULL with err on immediate failure. */
    col_conn *(*open)(const col_target *t, ks_error *err);
    void (*close)(col_conn *c);
    /* The fd to poll and the events wanted; -1 when none. */
    int (*pollfd)(col_conn *c, short *events);
    /* Start a request on an idle connection. */
    int (*request_sample)(col_conn *c, ks_error *err);
    int (*request_facts)(col_conn *c, ks_error *err);
    /* Make progress; see col_event. */
    col_event (*step)(col_conn *c, col_raw *raw, json_t **facts, ks_error *err);
    /* Words for a timeout message: what the connection is doing now
     * ("connecting", "authenticating", "waiting for the sample"). */
    const char *(*phase)(const col_conn *c);
    /* Shortest interval, in seconds, over which two readings give rates
     * (an agent that refreshes its counters every 5 s needs more than 5);
     * 0: any. --once waits at least this long between its readings. */
    double min_window;
} col_backend;

extern const col_backend col_backend_ssh;
extern const col_backend col_backend_snmp;

/* The backend for a method; NULL for a method that is not polled. */
const col_backend *col_backend_for(ks_method m);

#endif
