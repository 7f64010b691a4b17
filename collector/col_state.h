/* col_state.h: STUDY/state/NAME.json, what the collector last saw of a
 * server (written by the loop, read by 'kvmshift status'). Internal. */
#ifndef COL_STATE_H
#define COL_STATE_H

#include <time.h>

#include "ks_error.h"

/* Record the outcome of the latest attempt on a server: err NULL or
 * code KS_OK for a success. Written atomically; failures to write are
 * logged, not fatal (collection goes on). */
void col_state_write(const char *study_dir, const char *name, const ks_error *last_error,
                     time_t when);

#endif
