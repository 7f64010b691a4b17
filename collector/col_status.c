/* col_status.c: the collector's per-server state file and 'status'. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rrd.h>

#include "col_state.h"
#include "collector.h"
#include "ks_fs.h"
#include "ks_json.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_rrdfile.h"
#include "ks_time.h"

void col_state_write(const char *study_dir, const char *name, const ks_error *last_error,
                     time_t when)
{
    KS_AUTOFREE char *path = ks_asprintf("%s/state/%s.json", study_dir, name);
    char stamp[KS_TIME_ISO_LEN];
    ks_time_iso(when, stamp);
    ks_error e;
    json_t *old = ks_path_exists(path) ? ks_json_read_file(path, &e) : NULL;
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(name));
    bool failed = last_error && last_error->code != KS_OK;
    if (failed) {
        json_object_set_new(j, "last_error", json_string(last_error->message));
        json_object_set_new(j, "last_error_code", json_string(ks_errcode_name(last_error->code)));
        json_object_set_new(j, "last_error_time", json_string(stamp));
        json_t *ok = old ? json_object_get(old, "last_success_time") : NULL;
        json_object_set(j, "last_success_time", ok ? ok : json_null());
    } else {
        json_object_set_new(j, "last_error", json_null());
        json_object_set_new(j, "last_error_code", json_null());
        json_t *et = old ? json_object_get(old, "last_error_time") : NULL;
        json_object_set(j, "last_error_time", et ? et : json_null());
        json_object_set_new(j, "last_success_time", json_string(stamp));
    }
    json_decref(old);
    if (ks_json_write_file(path, j, &e) < 0)
        ks_log_error("%s", e.message);
    json_decref(j);
}

/* Count the known rows of cpu_pct in the 8 days up to the file's last
 * update, at the file's own step: the 1-minute archive of a collected file
 * (updated a moment ago), the data's own step in an imported one (whose
 * last row may be months old). */
static void rrd_counts(const char *path, unsigned long file_step, time_t last_update,
                       col_status *st)
{
    time_t end = last_update > 0 ? last_update : time(NULL);
    unsigned long step = file_step ? file_step : 60, ds_cnt = 0;
    time_t start = end - 8 * 86400 + (time_t)step;
    char **ds_names = NULL;
    rrd_value_t *data = NULL;
    rrd_clear_error();
    if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &ds_cnt, &ds_names, &data) != 0) {
        ks_log_warn("cannot read '%s': %s", path, rrd_get_error());
        return;
    }
    unsigned long rows = step ? (unsigned long)(end - start) / step : 0;
    long first = -1, last = -1;
    for (unsigned long r = 0; r < rows; r++) {
        if (ds_cnt && !isnan(data[r * ds_cnt])) {
            if (first < 0)
                first = (long)r;
            last = (long)r;
            st->samples++;
        }
    }
    if (first >= 0) {
        bool in_gap = false;
        for (long r = first; r <= last; r++) {
            bool missing = isnan(data[(unsigned long)r * ds_cnt]);
            if (missing) {
                st->missing++;
                if (!in_gap)
                    st->gaps++;
            }
            in_gap = missing;
        }
        st->last_sample = start + (time_t)((unsigned long)(last + 1) * step);
    }
    for (unsigned long i = 0; i < ds_cnt; i++)
        rrd_freemem(ds_names[i]);
    rrd_freemem(ds_names);
    rrd_freemem(data);
}

/* Time of the last update (*any), and of the last one that stored a CPU
 * value (returned; the current 1-minute row may not be complete yet, so
 * the fetch above does not see it). */
static time_t rrd_last_known(const char *path, time_t *any)
{
    time_t last = 0;
    unsigned long n = 0;
    char **names = NULL, **values = NULL;
    *any = 0;
    rrd_clear_error();
    if (rrd_lastupdate_r(path, &last, &n, &names, &values) != 0)
        return 0;
    *any = last;
    bool known = n > 0 && strcmp(values[0], "U") != 0;
    for (unsigned long i = 0; i < n; i++) {
        rrd_freemem(names[i]);
        rrd_freemem(values[i]);
    }
    rrd_freemem(names);
    rrd_freemem(values);
    return known ? last : 0;
}

col_status *col_status_read(const ks_study *study, const ks_inventory *inv, ks_error *err)
{
    (void)err;
    col_status *out = ks_calloc(inv->count ? inv->count : 1, sizeof *out);
    for (size_t i = 0; i < inv->count; i++) {
        const char *name = inv->servers[i].name;
        col_status *st = &out[i];
        st->name = ks_strdup(name);
        KS_AUTOFREE char *rrd = ks_study_server_file(study, "rrd", name, "rrd");
        KS_AUTOFREE char *facts = ks_study_server_file(study, "facts", name, "json");
        KS_AUTOFREE char *state = ks_study_server_file(study, "state", name, "json");
        /* a damaged file is checked before librrd reads it (it would
         * crash) and shown as the server's last error */
        KS_AUTOFREE char *rrd_problem = NULL;
        ks_rrd_header h;
        ks_error re;
        if (ks_path_exists(rrd) && ks_rrd_check(rrd, &h, &re) < 0) {
            rrd_problem = ks_strdup(re.message);
        } else if (ks_path_exists(rrd)) {
            time_t any;
            time_t t = rrd_last_known(rrd, &any);
            rrd_counts(rrd, h.step, any, st);
            if (t > st->last_sample)
                st->last_sample = t;
            free(h.ds_names);
        }
        st->has_facts = ks_path_exists(facts);
        if (ks_path_exists(state)) {
            ks_error e;
            json_t *j = ks_json_read_file(state, &e);
            if (!j) {
                ks_log_warn("%s", e.message);
            } else {
                const char *m = json_string_value(json_object_get(j, "last_error"));
                const char *c = json_string_value(json_object_get(j, "last_error_code"));
                st->last_error = m ? ks_strdup(m) : NULL;
                st->last_error_code = c ? ks_strdup(c) : NULL;
                time_t et = 0;
                st->last_error_time =
                    ks_time_parse_iso(json_string_value(json_object_get(j, "last_error_time")), &et)
                        ? et
                        : 0;
                json_decref(j);
            }
        }
        if (rrd_problem) {
            free(st->last_error);
            free(st->last_error_code);
            st->last_error = ks_strdup(rrd_problem);
            st->last_error_code = ks_strdup(ks_errcode_name(KS_E_RRD));
            st->last_error_time = time(NULL);
        }
    }
    return out;
}

void col_status_free(col_status *st, size_t n)
{
    if (!st)
        return;
    for (size_t i = 0; i < n; i++) {
        free(st[i].name);
        free(st[i].last_error);
        free(st[i].last_error_code);
    }
    free(st);
}
