#include "ks_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ks_log.h"
#include "ks_mem.h"

struct ks_progress {
    char *label;
    size_t total;
    size_t done;
    bool quiet;
    bool tty;
    bool drawn;
    int last_decile;
    double last_draw;
    char detail[128];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ks_progress *ks_progress_new(const char *label, size_t total, bool quiet)
{
    ks_progress *p = ks_calloc(1, sizeof *p);
    p->label = ks_strdup(label);
    p->total = total;
    p->quiet = quiet;
    p->tty = isatty(STDERR_FILENO);
    p->last_decile = -1;
    return p;
}

static void draw(ks_progress *p, bool final)
{
    if (p->tty) {
        const int width = 30;
        int filled = p->total ? (int)((double)p->done / (double)p->total * width) : 0;
        if (filled > width)
            filled = width;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        /* the raw stream: its "\r\033[K" redraws the line; what it shows
         * was escaped when it came in (ks_progress_update) */
        FILE *f = ks_output_raw_stderr();
        if (p->total)
            fprintf(f, "\r\033[K%s [%s] %zu/%zu %s", p->label, bar, p->done, p->total, p->detail);
        else
            fprintf(f, "\r\033[K%s %zu %s", p->label, p->done, p->detail);
        if (final)
            fputc('\n', f);
        fflush(f);
        p->drawn = true;
        return;
    }
    if (p->total)
        fprintf(stderr, "%s: %zu/%zu (%d%%) %s\n", p->label, p->done, p->total,
                (int)(100.0 * (double)p->done / (double)p->total), p->detail);
    else
        fprintf(stderr, "%s: %zu %s\n", p->label, p->done, p->detail);
}

void ks_progress_update(ks_progress *p, size_t done, const char *detail)
{
    if (!p || p->quiet)
        return;
    p->done = done;
    /* (a server's name or a file's: escaped, it goes to the raw stream) */
    char esc[4 * sizeof p->detail + 1];
    const char *d = detail ? detail : "";
    size_t n = strlen(d);
    size_t m = ks_escape_controls(d, n < sizeof p->detail ? n : sizeof p->detail - 1, esc);
    if (m >= sizeof p->detail)
        m = sizeof p->detail - 1;
    memcpy(p->detail, esc, m);
    p->detail[m] = '\0';
    if (p->tty) {
        double t = now_s();
        if (t - p->last_draw < 0.1 && done != p->total)
            return;
        p->last_draw = t;
        draw(p, false);
        return;
    }
    if (!p->total) {
        /* open-ended work (a collection without --duration): a line a
         * minute, so that a log shows it is alive */
        double t = now_s();
        if (p->drawn && t - p->last_draw < 60)
            return;
        p->last_draw = t;
        p->drawn = true;
        draw(p, false);
        return;
    }
    int decile = (int)(10 * done / p->total);
    if (decile != p->last_decile) {
        p->last_decile = decile;
        draw(p, false);
    }
}

void ks_progress_done(ks_progress *p)
{
    if (!p || p->quiet)
        return;
    if (p->tty)
        draw(p, true);
    else if (p->last_decile != 10)
        draw(p, true);
}

void ks_progress_free(ks_progress *p)
{
    if (!p)
        return;
    free(p->label);
    free(p);
}
