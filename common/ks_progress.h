/* ks_progress.h: progress of long work.
 *
 * On a terminal, a bar redrawn in place on stderr (at most 10 times a
 * second); otherwise a plain line at each 10% step (once a minute
 * when the total is unknown), so that logs stay readable. Quiet mode prints nothing. Not
 * thread-safe.
 */
#ifndef KS_PROGRESS_H
#define KS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ks_progress ks_progress;

/* label: what is being done ("collecting"); total: units of work (0 when
 * unknown). The label is copied. */
ks_progress *ks_progress_new(const char *label, size_t total, bool quiet);
/* Report that done units of total are finished; detail (may be NULL) is a
 * short note shown after the bar ("12 ok, 1 failing"). */
void ks_progress_update(ks_progress *p, size_t done, const char *detail);
/* Finish the display (prints the last state and a newline). */
void ks_progress_done(ks_progress *p);
void ks_progress_free(ks_progress *p);

#endif
