/* rep_chart.c: charts drawn by gnuplot, driven through pipes.
 *
 * One or two gnuplot processes (the machine's cores) read generated
 * scripts on stdin: per chart, the svg terminal, an output file, inline
 * datablocks, the plot, then a marker printed to stderr. Reading stderr
 * tells which chart each message belongs to, so that one bad chart becomes
 * a note and the others are still drawn. The scripts are generated one
 * chart at a time as the pipes drain: 2,000 charts never sit in memory.
 * A gnuplot that dies is restarted after the chart it died on; one that
 * draws nothing at all (missing, /bin/false) fails every chart with one
 * note.
 */
#define _GNU_SOURCE /* strcasestr */
#include "rep_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ks_child.h"
#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_progress.h"
#include "ks_signal.h"

#define MARKER "@@kvmshift-chart-done@@"
/* seconds without a chart finished before gnuplot is killed (a chart of
 * 2,000 points takes milliseconds); a gnuplot that only talks, or only
 * reads, without finishing charts is killed too */
#define SILENCE_S 300
#define SVG_MAX ((size_t)64 << 20)

enum { PENDING, DRAWN, FAILED };

typedef struct chart {
    char *id, *title, *svg_path;
    int w, h;
    int state;
    char *note;
} chart;

struct rep_charts {
    char *dir;
    rep_chart_script_fn script;
    void *ctx;
    chart *v;
    size_t n;
    size_t drawn, failed;
};

rep_charts *rep_charts_new(const char *scratch_dir, rep_chart_script_fn script, void *ctx)
{
    rep_charts *c = ks_calloc(1, sizeof *c);
    c->dir = ks_strdup(scratch_dir);
    c->script = script;
    c->ctx = ctx;
    return c;
}

void rep_charts_free(rep_charts *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].id);
        free(c->v[i].title);
        free(c->v[i].svg_path);
        free(c->v[i].note);
    }
    free(c->v);
    free(c->dir);
    free(c);
}

size_t rep_charts_add(rep_charts *c, const char *id, const char *title, int width, int height)
{
    c->v = ks_reallocarray(c->v, c->n + 1, sizeof *c->v);
    chart *ch = &c->v[c->n];
    *ch = (chart){
        .id = ks_strdup(id),
        .title = ks_strdup(title),
        .w = width,
        .h = height,
        .state = PENDING,
    };
    char *name = ks_asprintf("%s.svg", id);
    ch->svg_path = ks_path_join(c->dir, name);
    free(name);
    return c->n++;
}

size_t rep_charts_count(const rep_charts *c)
{
    return c->n;
}

size_t rep_charts_drawn(const rep_charts *c)
{
    return c->drawn;
}

size_t rep_charts_failed(const rep_charts *c)
{
    return c->failed;
}

const char *rep_charts_note(const rep_charts *c, size_t i)
{
    return i < c->n ? c->v[i].note : NULL;
}

static void fail(rep_charts *c, size_t i, char *note)
{
    chart *ch = &c->v[i];
    if (ch->state != PENDING) {
        free(note);
        return;
    }
    ch->state = FAILED;
    ch->note = note;
    c->failed++;
}

/* ---- One gnuplot process ------------------------------------------------- */

typedef struct proc {
    ks_child *child; /* NULL: not started */
    size_t *queue;   /* chart indices, in the order they are sent */
    size_t nq;
    size_t sent;          /* charts whose script is generated */
    size_t marked;        /* markers read: queue[marked] is the chart being drawn */
    char **err;           /* per queue entry: gnuplot's first error message, or NULL */
    ks_buf out;           /* script bytes not yet written */
    size_t out_off;       /* of out, written */
    ks_buf line;          /* stderr, the line being read */
    char first_line[256]; /* stderr's first line, for a gnuplot that draws nothing */
    int status;
} proc;

/* gnuplot reads the scripts on stdin and says what it drew on stderr;
 * stdout is not used. */
static int spawn(proc *p, const char *program, ks_error *err)
{
    const char *argv[] = {program, NULL};
    /* numbers with a decimal point whatever the user's locale */
    static const char *const env[] = {"LC_ALL=C.UTF-8", NULL};
    ks_child_opts o = {.flags = KS_CHILD_PIPE_IN | KS_CHILD_PIPE_ERR | KS_CHILD_NONBLOCK,
                       .env = env};
    p->child = ks_child_spawn(argv, &o, err);
    if (!p->child)
        return -1;
    ks_buf_init(&p->out, REP_BUF_MAX);
    ks_buf_init(&p->line, 1 << 16);
    return 0;
}

/* gnuplot's stdin (0) or stderr (2), -1 when closed or not started. */
static int proc_fd(const proc *p, int stream)
{
    return p->child ? ks_child_fd(p->child, stream) : -1;
}

/* The next chart's script into p->out; closes stdin after the last. */
static void feed_next(rep_charts *c, proc *p)
{
    ks_buf_reset(&p->out);
    p->out_off = 0;
    if (p->sent == p->nq) {
        ks_child_close_fd(p->child, 0);
        return;
    }
    const chart *ch = &c->v[p->queue[p->sent++]];
    ks_buf *b = &p->out;
    if (p->sent == 1)
        ks_buf_appends(b, "set encoding utf8\n");
    ks_buf_printf(b,
                  "reset\nset terminal svg size %d,%d dynamic enhanced font 'sans,10' "
                  "background '#ffffff'\nset output '",
                  ch->w, ch->h);
    rep_gp_str(b, ch->svg_path);
    ks_buf_appends(b, "'\n");
    c->script(c->ctx, (size_t)(ch - c->v), b);
    ks_buf_appends(b, "\nunset output\nprint '" MARKER "'\n");
}

static void on_line(proc *p, const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line)
        return;
    if (!p->first_line[0])
        snprintf(p->first_line, sizeof p->first_line, "%s", line);
    if (strcmp(line, MARKER) == 0) {
        if (p->marked < p->nq)
            p->marked++;
        return;
    }
    /* a caret under the echoed command says nothing by itself */
    if (strcmp(line, "^") == 0 || strcasestr(line, "warning:"))
        return;
    if (p->marked < p->nq && !p->err[p->marked])
        p->err[p->marked] = ks_strdup(line);
}

static void read_err(proc *p)
{
    char buf[8192];
    ssize_t n = read(proc_fd(p, 2), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        if (p->line.len)
            on_line(p, ks_buf_str(&p->line));
        ks_buf_reset(&p->line);
        ks_child_close_fd(p->child, 2);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            on_line(p, ks_buf_str(&p->line));
            ks_buf_reset(&p->line);
        } else if (ks_buf_append(&p->line, &buf[i], 1) < 0) {
            /* an endless line: keep its start */
        }
    }
}

/* Write what can be written now, generating the next scripts as the pipe
 * drains; stdin is closed after the last one or when gnuplot stops reading. */
static void write_some(rep_charts *c, proc *p)
{
    for (;;) {
        if (p->out_off == p->out.len) {
            feed_next(c, p);
            if (proc_fd(p, 0) < 0)
                return;
        }
        ssize_t n = write(proc_fd(p, 0), p->out.data + p->out_off, p->out.len - p->out_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0) {
            /* EPIPE: it exited; what it did not read stays undrawn */
            ks_child_close_fd(p->child, 0);
            return;
        }
        p->out_off += (size_t)n;
    }
}

static bool svg_whole(const char *path)
{
    size_t len = 0;
    char *s = ks_read_file(path, SVG_MAX, &len, NULL);
    bool ok = s && len > 0 && strstr(s, "<svg") && strstr(s, "</svg>");
    free(s);
    return ok;
}

static char *status_text(int status)
{
    if (WIFSIGNALED(status))
        return ks_asprintf("was killed by signal %d", WTERMSIG(status));
    if (WIFEXITED(status))
        return ks_asprintf("stopped (exit status %d)", WEXITSTATUS(status));
    return ks_strdup("stopped");
}

/* One round over the pending charts; false when it drew nothing new and
 * settled nothing (then the caller stops). */
static bool round_run(rep_charts *c, const char *program, unsigned jobs, ks_progress *prog,
                      size_t *settled)
{
    size_t npend = 0;
    for (size_t i = 0; i < c->n; i++)
        npend += c->v[i].state == PENDING;
    if (!npend)
        return false;
    if (jobs > npend)
        jobs = (unsigned)npend;
    proc ps[2];
    memset(ps, 0, sizeof ps);
    for (unsigned j = 0; j < jobs; j++) {
        ps[j].queue = ks_calloc(npend, sizeof *ps[j].queue);
        ps[j].err = ks_calloc(npend, sizeof *ps[j].err);
    }
    /* interleaved, so that both get a share of the big and small charts */
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].state == PENDING) {
            proc *p = &ps[k++ % jobs];
            p->queue[p->nq++] = i;
        }
    unsigned started = 0;
    int spawn_errno = 0;
    time_t last;
    size_t last_done = 0;
    bool killed = false;
    for (unsigned j = 0; j < jobs; j++) {
        ks_error se;
        if (spawn(&ps[j], program, &se) == 0)
            started++;
        else
            spawn_errno = se.errnum;
    }
    if (!started) {
        for (unsigned j = 0; j < jobs; j++)
            for (size_t q = 0; q < ps[j].nq; q++)
                fail(c, ps[j].queue[q],
                     ks_asprintf("gnuplot ('%s') could not be started: %s", program,
                                 strerror(spawn_errno)));
        goto out;
    }

    last = time(NULL);
    for (;;) {
        struct pollfd pfd[4];
        proc *owner[4];
        int kind[4];
        nfds_t n = 0;
        for (unsigned j = 0; j < jobs; j++) {
            proc *p = &ps[j];
            if (proc_fd(p, 0) >= 0) {
                pfd[n] = (struct pollfd){.fd = proc_fd(p, 0), .events = POLLOUT};
                owner[n] = p;
                kind[n++] = 0;
            }
            if (proc_fd(p, 2) >= 0) {
                pfd[n] = (struct pollfd){.fd = proc_fd(p, 2), .events = POLLIN};
                owner[n] = p;
                kind[n++] = 1;
            }
        }
        if (!n)
            break;
        int r = poll(pfd, n, 1000);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0) {
            for (nfds_t i = 0; i < n; i++) {
                if (!pfd[i].revents)
                    continue;
                if (kind[i] == 0)
                    write_some(c, owner[i]);
                else
                    read_err(owner[i]);
            }
            size_t done = *settled;
            for (unsigned j = 0; j < jobs; j++)
                done += ps[j].marked;
            ks_progress_update(prog, done, NULL);
            if (done > last_done) {
                last_done = done;
                last = time(NULL);
            }
        } else if (time(NULL) - last > SILENCE_S) {
            for (unsigned j = 0; j < jobs; j++) {
                if (!ps[j].child)
                    continue;
                ks_child_kill(ps[j].child, 0);
                ks_child_close_fd(ps[j].child, 0);
                ks_child_close_fd(ps[j].child, 2);
            }
            killed = true;
            break;
        }
    }
    for (unsigned j = 0; j < jobs; j++)
        if (ps[j].child)
            ks_child_wait(ps[j].child, -1, &ps[j].status);

    for (unsigned j = 0; j < jobs; j++) {
        proc *p = &ps[j];
        if (!p->child) {
            /* this one did not start; the other did: try again next round */
            continue;
        }
        for (size_t q = 0; q < p->marked; q++) {
            size_t i = p->queue[q];
            if (p->err[q])
                fail(c, i, ks_asprintf("gnuplot said: %s", p->err[q]));
            else if (!svg_whole(c->v[i].svg_path))
                fail(c, i, ks_asprintf("gnuplot reported no error but left no whole SVG file"));
            else {
                c->v[i].state = DRAWN;
                c->drawn++;
            }
        }
        if (p->marked == p->nq)
            continue;
        char *how = killed ? ks_asprintf("did not answer for %d s and was killed", SILENCE_S)
                           : status_text(p->status);
        if (!p->marked) {
            /* drew nothing: the same cause for every chart it had */
            for (size_t q = 0; q < p->nq; q++)
                fail(c, p->queue[q],
                     ks_asprintf("gnuplot ('%s') %s before drawing it%s%s%s", program, how,
                                 p->first_line[0] ? " (its first message: '" : "", p->first_line,
                                 p->first_line[0] ? "')" : ""));
        } else {
            /* it died on queue[marked]: that chart fails, the rest are
             * tried again by a new gnuplot */
            fail(c, p->queue[p->marked],
                 ks_asprintf("gnuplot ('%s') %s while drawing it%s%s%s", program, how,
                             p->err[p->marked] ? " (it said: '" : "",
                             p->err[p->marked] ? p->err[p->marked] : "",
                             p->err[p->marked] ? "')" : ""));
            if (killed)
                for (size_t q = p->marked + 1; q < p->nq; q++)
                    fail(c, p->queue[q], ks_asprintf("gnuplot %s before drawing it", how));
        }
        free(how);
    }
out:
    *settled = c->drawn + c->failed;
    for (unsigned j = 0; j < jobs; j++) {
        for (size_t q = 0; q < ps[j].nq; q++)
            free(ps[j].err[q]);
        free(ps[j].err);
        free(ps[j].queue);
        ks_child_free(ps[j].child);
        ks_buf_free(&ps[j].out);
        ks_buf_free(&ps[j].line);
    }
    size_t npend2 = 0;
    for (size_t i = 0; i < c->n; i++)
        npend2 += c->v[i].state == PENDING;
    return npend2 < npend;
}

void rep_charts_run(rep_charts *c, const char *program, unsigned jobs, bool quiet)
{
    if (!c->n)
        return;
    if (jobs < 1)
        jobs = 1;
    if (jobs > 2)
        jobs = 2;
    char *path = rep_which(program);
    if (!path) {
        for (size_t i = 0; i < c->n; i++)
            fail(c, i, ks_asprintf("gnuplot ('%s') is not installed or not executable", program));
        return;
    }
    /* a gnuplot that exits early must not kill us with SIGPIPE */
    ks_signal *sig = ks_signal_new(KS_SIGNAL_IGNORE_PIPE, NULL);
    ks_progress *prog = ks_progress_new("charts", c->n, quiet);
    size_t settled = 0;
    while (round_run(c, path, jobs, prog, &settled))
        ;
    for (size_t i = 0; i < c->n; i++)
        fail(c, i, ks_asprintf("gnuplot ('%s') stopped before drawing it", program));
    ks_progress_update(prog, c->n, NULL);
    ks_progress_done(prog);
    ks_progress_free(prog);
    ks_signal_free(sig);
    free(path);
}

/* ---- Figures ------------------------------------------------------------- */

/* gnuplot's SVG, made smaller for pages that hold many: from the <svg
 * element on; empty groups (gnuplot opens one per line style, used or not)
 * dropped; line breaks with their indentation as one newline; element ids
 * of gnuplot's canvas and plots dropped (every chart has the same ones);
 * attributes at their initial value dropped; path coordinates to one
 * decimal; the chart's own title instead of "Gnuplot". */
static bool append_svg(const chart *ch, ks_buf *out)
{
    size_t len = 0;
    char *s = ks_read_file(ch->svg_path, SVG_MAX, &len, NULL);
    if (!s)
        return false;
    char *p = strstr(s, "<svg");
    if (!p) {
        free(s);
        return false;
    }
    size_t start = out->len;
    bool in_d = false; /* inside a path's d='...' */
    while (*p) {
        if (in_d) {
            /* coordinates to a tenth of a pixel: the second decimal of
             * gnuplot's "L576.15,156.90" is a sixth of the path's bytes */
            if (*p == '\'')
                in_d = false;
            else if (*p == '.' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
                     !(p[3] >= '0' && p[3] <= '9')) {
                ks_buf_append(out, p, 2);
                p += 3;
                continue;
            }
            ks_buf_append(out, p, 1);
            p++;
            continue;
        }
        if (strncmp(p, " d='", 4) == 0) {
            ks_buf_append(out, p, 4);
            p += 4;
            in_d = true;
            continue;
        }
        if (*p == '\n') {
            ks_buf_appends(out, "\n");
            while (*p == '\n' || *p == '\t' || *p == ' ')
                p++;
            continue;
        }
        /* SVG's initial values, and gnuplot never nests a group that sets
         * others */
        if (strncmp(p, " stroke-linecap=\"butt\"", 22) == 0) {
            p += 22;
            continue;
        }
        if (strncmp(p, " stroke-linejoin=\"miter\"", 24) == 0) {
            p += 24;
            continue;
        }
        if (strncmp(p, "<title>Gnuplot</title>", 22) == 0) {
            ks_buf_appends(out, "<title>");
            rep_html(out, ch->title);
            ks_buf_appends(out, "</title>");
            p += 22;
            continue;
        }
        if (strncmp(p, " id=\"gnuplot_", 13) == 0) {
            char *q = strchr(p + 5, '"');
            if (q) {
                p = q + 1;
                continue;
            }
        }
        if (strncmp(p, "<g ", 3) == 0) {
            /* <g ...> and only blanks up to its </g>: nothing to draw */
            char *gt = strchr(p, '>');
            char *q = gt ? gt + 1 : NULL;
            while (q && (*q == '\n' || *q == '\t' || *q == ' '))
                q++;
            if (q && strncmp(q, "</g>", 4) == 0) {
                p = q + 4;
                continue;
            }
        }
        ks_buf_append(out, p, 1);
        p++;
    }
    while (out->len > start && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == ' '))
        out->data[--out->len] = '\0';
    free(s);
    return true;
}

void rep_charts_figure(const rep_charts *c, size_t i, const char *caption_html, ks_buf *out)
{
    const chart *ch = &c->v[i];
    ks_buf_appends(out, "<figure class=\"chart\" id=\"fig-");
    rep_html(out, ch->id);
    ks_buf_appends(out, "\">");
    if (ch->state != DRAWN || !append_svg(ch, out)) {
        ks_buf_appends(out, "<p class=\"note\">Chart \u201c");
        rep_html(out, ch->title);
        ks_buf_appends(out, "\u201d not drawn: ");
        rep_html(out, ch->note ? ch->note : "its SVG file could not be read back");
        ks_buf_appends(out, ". The rest of the report is complete; to get the chart, run "
                            "kvmshift report again with a working gnuplot (apt-get install "
                            "gnuplot-nox; KS_GNUPLOT names another program).</p>");
    }
    if (caption_html) {
        ks_buf_appends(out, "<figcaption>");
        ks_buf_appends(out, caption_html);
        ks_buf_appends(out, "</figcaption>");
    }
    ks_buf_appends(out, "</figure>\n");
}
