/* col_facts.h: the hardware/OS/services inventory of one server
 * ("facts"), gathered with one shell script over the collector's session and
 * stored as STUDY/facts/NAME.json. Internal to the collector; its own header
 * for the unit tests and fuzzers.
 */
#ifndef COL_FACTS_H
#define COL_FACTS_H

#include <stddef.h>

#include <jansson.h>

#include "ks_error.h"

/* POSIX sh text sent to the server's shell. It only reads (never changes the
 * server), tolerates missing tools (lsblk, ss, systemctl, ip) with fallbacks
 * to /proc and /sys, and prints sections introduced by "@@KS <name>" lines,
 * ending with "@@KS end" (COL_END_MARKER). */
extern const char col_facts_command[];

/* Parse the output of col_facts_command into a new JSON object (caller owns
 * it). name is the inventory name of the server, stored as "name".
 * Missing sections give missing or empty members, not an error; -1/NULL only
 * for output that is not the script's at all. See README "facts" for the
 * schema. */
json_t *col_facts_parse(const char *text, size_t len, const char *name, ks_error *err);

/* CPU capacity in MHz (physical cores x nominal MHz per core) of a facts
 * object, or 0 when unknown. */
double col_facts_cpu_capacity_mhz(const json_t *facts);

/* Names of the physical NICs of a facts object (borrowed from facts: valid
 * while facts lives); returns how many, *names newly allocated array (free
 * it, not its strings). 0 when the server has none that are physical. */
size_t col_facts_physical_nics(const json_t *facts, const char ***names);

#endif
