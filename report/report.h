/* report.h: kvmshift's consolidation report (public API).
 *
 * Writes STUDY/report/: index.html (one self-contained file: CSS, a little
 * plain JavaScript for sorting and filtering, charts inlined as SVG drawn by
 * gnuplot), servers.csv, placements.csv, nights.csv, and per-server pages
 * for large studies. Everything is written under a temporary directory and
 * renamed into place at the end: a failed run leaves the previous report
 * whole. See README "The report".
 *
 * Not thread-safe; one report at a time per study.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ks_error.h"
#include "ks_inventory.h"
#include "ks_study.h"

typedef struct rep_options {
    bool strict;          /* the caller treats a chart that could not be drawn as a failure */
    bool pdf;             /* also write report.pdf through headless Chromium */
    bool quiet;           /* no progress display */
    const char *gnuplot;  /* gnuplot program; NULL: $KS_GNUPLOT, else "gnuplot" from PATH */
    const char *chromium; /* browser for --pdf; NULL: $KS_CHROMIUM, else chromium from PATH */
} rep_options;

typedef struct rep_result {
    char *dir;            /* STUDY/report, newly allocated */
    char *index_path;     /* STUDY/report/index.html */
    char *pdf_path;       /* NULL unless a PDF was written */
    size_t charts;        /* charts drawn */
    size_t charts_failed; /* charts replaced by a note (gnuplot missing or failing) */
    size_t servers;       /* servers in the report */
    char *pdf_error;      /* NULL, or why the PDF could not be written */
    double plan_seconds;  /* building the plan (reading the study, packing) */
    double chart_seconds; /* drawing the charts with gnuplot */
    double write_seconds; /* CSV files, pages, the PDF, putting them in place */
} rep_result;

/* Build the plan of study (the same deterministic plan as `kvmshift
 * analyze`) and write the report. opt may be NULL (defaults). 0 with res
 * filled (free with rep_result_free), also when some charts could not be
 * drawn (res->charts_failed > 0, each replaced by a note in the report); -1
 * with err when no report could be written (bad study: the analyzer's
 * errors; KS_E_IO). */
int rep_write(const ks_study *study, const ks_inventory *inv, const rep_options *opt,
              rep_result *res, ks_error *err);
void rep_result_free(rep_result *res);

#endif
