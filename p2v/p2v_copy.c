/* p2v_copy.c: kvmshift p2v copy: the disks of a running server into
 * images, one SSH connection and one thread per disk, with the journal
 * written by this (main) thread from what the disk threads have flushed.
 *
 * Order of a run: the study's facts say which disks the server has; the
 * source's current layout (p2v_layout.c) must agree. The journal says what
 * the images hold. Where the data sits on LVM with free extents, a
 * snapshot of each LV is taken by a "guardian" shell on the control
 * connection, which removes them when it reads end of input: at the end,
 * on failure, on Ctrl-C, and also when kvmshift is killed or the
 * connection drops (sshd closes the shell's input then). Snapshots left by
 * a source that rebooted in the middle are removed at the next run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_fs.h"
#include "ks_inventory.h"
#include "ks_json.h"
#include "ks_log.h"
#include "ks_mem.h"
#include "ks_progress.h"
#include "ks_signal.h"
#include "ks_ssh.h"
#include "ks_study.h"
#include "ks_time.h"
#include "p2v.h"
#include "p2v_journal.h"
#include "p2v_stream.h"
#include "p2v_upload.h"

#define SNAP_PREFIX P2V_SNAP_PREFIX
/* Our snapshots come and go within a copy: LVM is told not to archive
 * and back up its metadata for them, which would write files under
 * /etc/lvm on the source (and make the copy of / differ from the source
 * by those files). Inside double quotes of the scripts. */
#define LVM_NO_ARCHIVE "--config \"backup { backup = 0 archive = 0 }\""
/* the helper's directories on the source: ksp2v-helper.XXXXXX */
#define HELPER_DIR_PREFIX "ksp2v-helper."
#define DEFAULT_CHUNK (4u << 20)

/* Set by the main thread when SIGINT/SIGTERM arrived (ks_signal) or the
 * journal cannot be written: the disk threads stop at their next step. */
static atomic_bool stop_flag;

typedef struct facts_disk {
    char *name;
    uint64_t size;
} facts_disk;

typedef struct run {
    const char *study;
    const char *server;
    const p2v_copy_options *opt;
    const ks_server *srv;
    char *journal_path;
    char *dir;
    ks_ssh_target st;
    char origin[128];
    ks_ssh *ctl;
    p2v_layout *layout;
    facts_disk *fdisks;
    size_t nfdisks;
    char **aside; /* disks of the facts not copied this time (--disk) */
    size_t naside;
    p2v_journal *j;
    bool sudo;
    /* snapshots */
    ssh_channel guard;
    char **snaps; /* "vg/lv" of ours */
    size_t nsnaps;
    size_t lvs_total, lvs_snapped;
    /* the helper: its directory on the source (the guardian's, removed
     * with it) and its path once uploaded and probed */
    bool want_helper;
    char *helper_dir, *helper;
    ks_signal *sig; /* while the disks are copied */
    bool ran;       /* the disks' copy started (the jobs' results mean something) */
    p2v_disk_job *jobs;
    size_t njobs;
    bool uploaded; /* into a pool through libvirt, with what up says */
    p2v_upload_result up;
} run;

void p2v_copy_result_free(p2v_copy_result *res)
{
    if (!res)
        return;
    free(res->disks);
    memset(res, 0, sizeof *res);
}

/* ---- inputs ---------------------------------------------------------------- */

static int read_facts(run *r, ks_error *err)
{
    KS_AUTOFREE char *path = ks_study_physical_facts(r->study, r->server);
    ks_error e;
    json_t *f = ks_json_read_file(path, &e);
    if (!f) {
        ks_error_set(err, KS_E_CONFIG, e.errnum,
                     "no facts of '%s' (%s): run 'kvmshift facts %s' first, so that kvmshift "
                     "knows its disks",
                     r->server, e.message, r->study);
        return -1;
    }
    json_t *disks = json_object_get(f, "disks");
    size_t i;
    json_t *d;
    json_array_foreach(disks, i, d)
    {
        json_t *n = json_object_get(d, "name"), *s = json_object_get(d, "size_bytes");
        if (!json_is_string(n) || !json_is_integer(s) || json_integer_value(s) <= 0)
            continue;
        r->fdisks = ks_reallocarray(r->fdisks, r->nfdisks + 1, sizeof *r->fdisks);
        r->fdisks[r->nfdisks++] =
            (facts_disk){ks_strdup(json_string_value(n)), (uint64_t)json_integer_value(s)};
    }
    json_decref(f);
    if (!r->nfdisks) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "the facts of '%s' list no disks: run 'kvmshift facts %s' again", r->server,
                     r->study);
        return -1;
    }
    return 0;
}

/* The facts' disks and the source's must be the same set, of the same
 * sizes: a copy of a disk that was replaced, or without a new one, would
 * not be the server. */
static int check_disks(run *r, ks_error *err)
{
    for (size_t i = 0; i < r->nfdisks; i++) {
        const p2v_srcdisk *d = p2v_layout_disk(r->layout, r->fdisks[i].name);
        if (!d) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "disk '%s' of '%s' is in its facts but gone from the server: check the "
                         "server, then take its facts again (kvmshift facts %s)",
                         r->fdisks[i].name, r->server, r->study);
            return -1;
        }
        if (d->size != r->fdisks[i].size) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "disk '%s' of '%s' is %llu bytes now, %llu in its facts: check the "
                         "server, then take its facts again (kvmshift facts %s)",
                         d->name, r->server, (unsigned long long)d->size,
                         (unsigned long long)r->fdisks[i].size, r->study);
            return -1;
        }
    }
    for (size_t i = 0; i < r->layout->ndisks; i++) {
        const p2v_srcdisk *d = &r->layout->disks[i];
        bool known = false;
        for (size_t k = 0; k < r->nfdisks; k++)
            known |= strcmp(r->fdisks[k].name, d->name) == 0;
        if (!known && d->size > 0) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "disk '%s' of '%s' (%llu bytes) is new: it is not in the server's "
                         "facts; take its facts again (kvmshift facts %s) so the copy includes "
                         "it",
                         d->name, r->server, (unsigned long long)d->size, r->study);
            return -1;
        }
    }
    return 0;
}

/* --disk: copy only the disks named (each must be one of the facts'); the
 * others are kept aside, for the journal's overall state. */
static int select_disks(run *r, ks_error *err)
{
    const p2v_copy_options *o = r->opt;
    if (!o->ndisks)
        return 0;
    for (size_t k = 0; k < o->ndisks; k++) {
        bool found = false;
        for (size_t i = 0; i < r->nfdisks; i++)
            found |= strcmp(r->fdisks[i].name, o->disks[k]) == 0;
        if (!found) {
            ks_buf names;
            ks_buf_init(&names, 1 << 16);
            for (size_t i = 0; i < r->nfdisks; i++)
                ks_buf_printf(&names, "%s%s", i ? ", " : "", r->fdisks[i].name);
            ks_error_set(err, KS_E_USAGE, 0, "'%s' has no disk '%s' in its facts (it has: %s)",
                         r->server, o->disks[k], ks_buf_str(&names));
            ks_buf_free(&names);
            return -1;
        }
    }
    size_t keep = 0;
    for (size_t i = 0; i < r->nfdisks; i++) {
        bool want = false;
        for (size_t k = 0; k < o->ndisks; k++)
            want |= strcmp(r->fdisks[i].name, o->disks[k]) == 0;
        facts_disk d = r->fdisks[i];
        if (want) {
            r->fdisks[keep++] = d;
        } else {
            r->aside = ks_reallocarray(r->aside, r->naside + 1, sizeof *r->aside);
            r->aside[r->naside++] = d.name;
        }
    }
    r->nfdisks = keep;
    return 0;
}

static int read_layout(run *r, p2v_layout **out, ks_error *err)
{
    ks_buf text;
    ks_buf_init(&text, 16 << 20);
    int status = -1;
    KS_AUTOFREE char *cmd =
        ks_asprintf("%s/bin/sh -c '%s'", r->sudo ? "sudo -n " : "", p2v_layout_command);
    int rc = ks_ssh_run(r->ctl, cmd, NULL, 0, &text, &status, r->opt->timeout, err);
    if (rc == 0) {
        *out = p2v_layout_parse(text.data ? text.data : "", text.len, r->server, err);
        rc = *out ? 0 : -1;
    }
    ks_buf_free(&text);
    return rc;
}

/* ---- snapshots ------------------------------------------------------------- */

/* A path the guardian printed: quoted nowhere, so only plain characters. */
static bool path_ok(const char *p)
{
    if (!*p || strlen(p) > 200 || strstr(p, ".."))
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

static bool is_ours(const char *lv)
{
    return strncmp(lv, SNAP_PREFIX, strlen(SNAP_PREFIX)) == 0;
}

/* Snapshots of an earlier run whose guardian could not remove them (the
 * source rebooted in the middle): remove them now. */
static int remove_stale(run *r, ks_error *err)
{
    ks_buf cmd;
    ks_buf_init(&cmd, 1 << 20);
    size_t n = 0;
    for (size_t i = 0; i < r->layout->nsegs; i++) {
        const p2v_seg *s = &r->layout->segs[i];
        if (!is_ours(s->lv) || (i && strcmp(r->layout->segs[i - 1].lv, s->lv) == 0 &&
                                strcmp(r->layout->segs[i - 1].vg, s->vg) == 0))
            continue;
        ks_buf_printf(&cmd, "lvremove -f " LVM_NO_ARCHIVE " %s/%s >/dev/null && echo %s/%s;", s->vg,
                      s->lv, s->vg, s->lv);
        n++;
    }
    if (!n) {
        ks_buf_free(&cmd);
        return 0;
    }
    KS_AUTOFREE char *full =
        ks_asprintf("%s/bin/sh -c '%s'", r->sudo ? "sudo -n " : "", ks_buf_str(&cmd));
    ks_buf out;
    ks_buf_init(&out, 1 << 20);
    int status;
    int rc = ks_ssh_run(r->ctl, full, NULL, 0, &out, &status, r->opt->timeout, err);
    if (rc == 0 && status == 0)
        ks_log_warn("'%s': removed %zu LVM snapshot(s) left by an earlier kvmshift run (the "
                    "server was probably rebooted during it): %s",
                    r->server, n, ks_buf_str(&out));
    else if (rc == 0)
        rc = -1;
    ks_buf_free(&out);
    ks_buf_free(&cmd);
    return rc;
}

/* Is LV vg/lv entirely on disks that are being copied? */
static bool lv_on_copied_disks(const run *r, const char *vg, const char *lv)
{
    const p2v_layout *l = r->layout;
    for (size_t i = 0; i < l->nsegs; i++) {
        const p2v_seg *s = &l->segs[i];
        if (strcmp(s->vg, vg) || strcmp(s->lv, lv))
            continue;
        if (!s->pv)
            return false;
        const char *b = strrchr(s->pv, '/');
        b = b ? b + 1 : s->pv;
        bool found = false;
        for (size_t k = 0; k < r->nfdisks && !found; k++) {
            size_t dl = strlen(r->fdisks[k].name);
            found = strncmp(b, r->fdisks[k].name, dl) == 0;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Start the guardian, the source's half of the cleanup: one snapshot per LV
 * of the copied disks (with snap), sized from the free extents of its VG,
 * and the helper's directory (with r->want_helper), all removed when its
 * input ends: when kvmshift is done, killed, or cut off. */
static int start_guardian(run *r, bool snap, ks_error *err)
{
    const p2v_layout *l = r->layout;
    ks_buf script;
    ks_buf_init(&script, 1 << 20);
    ks_buf_appends(&script,
                   "trap \"\" PIPE\n"
                   "S=\"\"\n"
                   "D=\"\"\n"
                   "gone() { for s in $S; do lvremove -f " LVM_NO_ARCHIVE
                   " \"$s\" >/dev/null 2>&1 && "
                   "echo \"removed $s\"; done; S=\"\"; "
                   "if [ -n \"$D\" ] && rm -rf \"$D\"; then echo \"removed $D\"; fi; "
                   "D=\"\"; }\n"
                   "trap \"gone; exit 0\" EXIT\n"
                   "trap \"exit 1\" HUP INT TERM\n"
                   "mk() { if lvcreate -q " LVM_NO_ARCHIVE " -s -n \"$3\" -l \"$4\" \"$1/$2\" "
                   ">/dev/null 2>&1; then S=\"$S $1/$3\"; echo \"snap $1 $2\"; "
                   "else echo \"nosnap $1 $2\"; fi; }\n");
    if (r->want_helper)
        /* a directory where programs may run (/dev/shm or /tmp may be
         * noexec), only root's; those of earlier guardians that are gone
         * (the source rebooted) are removed */
        ks_buf_appends(
            &script,
            "for o in /dev/shm/" HELPER_DIR_PREFIX "* /run/" HELPER_DIR_PREFIX
            "* /tmp/" HELPER_DIR_PREFIX "* /var/tmp/" HELPER_DIR_PREFIX "*; do\n"
            "  [ -d \"$o\" ] || continue\n"
            "  p=$(cat \"$o/pid\" 2>/dev/null)\n"
            "  if [ -z \"$p\" ] || ! kill -0 \"$p\" 2>/dev/null; then rm -rf \"$o\"; "
            "echo \"stale $o\"; fi\n"
            "done\n"
            "for b in /dev/shm /run /tmp /var/tmp; do\n"
            "  D=$(umask 077; mktemp -d \"$b/" HELPER_DIR_PREFIX
            "XXXXXX\" 2>/dev/null) || { D=\"\"; continue; }\n"
            "  echo $$ >\"$D/pid\"\n"
            "  printf \"#!/bin/sh\\necho x\\n\" >\"$D/probe\" && chmod 700 \"$D/probe\" && "
            "[ \"$(\"$D/probe\" 2>/dev/null)\" = x ] && break\n"
            "  rm -rf \"$D\"; D=\"\"\n"
            "done\n"
            "[ -n \"$D\" ] && echo \"helperdir $D\"\n");
    size_t planned = 0;
    for (size_t v = 0; snap && v < l->nvgs; v++) {
        const p2v_vg *vg = &l->vgs[v];
        /* the LVs of this VG, once each */
        size_t nlv = 0;
        for (size_t i = 0; i < l->nsegs; i++) {
            const p2v_seg *s = &l->segs[i];
            bool first = true;
            for (size_t k = 0; k < i; k++)
                first &= !(strcmp(l->segs[k].vg, s->vg) == 0 && strcmp(l->segs[k].lv, s->lv) == 0);
            if (first && strcmp(s->vg, vg->name) == 0 && s->attr[0] != 's' && !is_ours(s->lv) &&
                lv_on_copied_disks(r, s->vg, s->lv))
                nlv++;
        }
        r->lvs_total += nlv;
        if (!nlv)
            continue;
        uint64_t share = vg->free_extents / nlv;
        for (size_t i = 0; i < l->nsegs; i++) {
            const p2v_seg *s = &l->segs[i];
            bool first = true;
            for (size_t k = 0; k < i; k++)
                first &= !(strcmp(l->segs[k].vg, s->vg) == 0 && strcmp(l->segs[k].lv, s->lv) == 0);
            if (!first || strcmp(s->vg, vg->name) || s->attr[0] != '-' || is_ours(s->lv) ||
                !lv_on_copied_disks(r, s->vg, s->lv) || strlen(s->lv) > 100)
                continue;
            uint64_t lv_extents = s->lv_size / vg->extent_size;
            uint64_t want = share < lv_extents ? share : lv_extents;
            if (want < 2) {
                ks_log_warn("'%s': no snapshot of %s/%s: its volume group has %llu free "
                            "extents for %zu volumes",
                            r->server, s->vg, s->lv, (unsigned long long)vg->free_extents, nlv);
                continue;
            }
            ks_buf_printf(&script, "mk %s %s %s%s %llu\n", s->vg, s->lv, SNAP_PREFIX, s->lv,
                          (unsigned long long)want);
            planned++;
        }
    }
    ks_buf_appends(&script, "echo ready\ncat >/dev/null\n");
    if (!planned && !r->want_helper) {
        ks_buf_free(&script);
        return 0;
    }
    KS_AUTOFREE char *cmd = ks_asprintf("%sLC_ALL=C exec /bin/sh -c '%s'",
                                        r->sudo ? "sudo -n " : "", ks_buf_str(&script));
    ks_buf_free(&script);
    r->guard = ks_ssh_exec(r->ctl, cmd, r->opt->timeout, err);
    if (!r->guard)
        return -1;
    /* read until "ready" */
    ks_buf lines;
    ks_buf_init(&lines, 1 << 20);
    double started = ks_time_mono();
    double deadline = started + r->opt->timeout + 60;
    char buf[4096];
    ks_buf errs;
    ks_buf_init(&errs, 1 << 12);
    while (!strstr(ks_buf_str(&lines), "ready\n")) {
        int n = ssh_channel_read_nonblocking(r->guard, buf, sizeof buf, 0);
        if (n > 0) {
            ks_buf_append(&lines, buf, (size_t)n);
            continue;
        }
        int ne = ssh_channel_read_nonblocking(r->guard, buf, sizeof buf, 1);
        if (ne > 0) {
            ks_buf_append(&errs, buf, (size_t)ne);
            continue;
        }
        bool eof = ssh_channel_is_eof(r->guard);
        if (n == SSH_ERROR || eof || ks_time_mono() > deadline) {
            /* what it said on stderr, on one line */
            for (char *p = errs.data; p && *p; p++)
                if (*p == '\n' || (unsigned char)*p < 0x20)
                    *p = ' ';
            KS_AUTOFREE char *why =
                n == SSH_ERROR ? ks_strdup(ssh_get_error(ks_ssh_session(r->ctl)))
                : eof
                    ? ks_asprintf("its shell ended after %.0f s%s%.200s", ks_time_mono() - started,
                                  errs.len ? ": " : "", ks_buf_str(&errs))
                    : ks_asprintf("no answer in %.0f s", ks_time_mono() - started);
            ks_error_set(err, KS_E_REMOTE, 0,
                         "'%s' did not confirm its LVM snapshots (%s): nothing was copied; "
                         "try again, or copy without snapshots (--no-snapshot)",
                         r->server, why);
            ks_buf_free(&lines);
            ks_buf_free(&errs);
            return -1;
        }
        ks_ssh_wait(r->ctl, 0.2);
    }
    ks_buf_free(&errs);
    for (char *p = lines.data; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        char vg[256], lv[256];
        if (sscanf(p, "snap %255s %255s", vg, lv) == 2) {
            r->snaps = ks_reallocarray(r->snaps, r->nsnaps + 1, sizeof *r->snaps);
            r->snaps[r->nsnaps++] = ks_asprintf("%s/%s%s", vg, SNAP_PREFIX, lv);
            r->lvs_snapped++;
        } else if (strncmp(p, "helperdir /", 11) == 0 && path_ok(p + 10)) {
            r->helper_dir = ks_strdup(p + 10);
        } else if (strncmp(p, "stale /", 7) == 0) {
            ks_log_warn("'%s': removed %s, left by an earlier kvmshift run (the server was "
                        "probably rebooted during it)",
                        r->server, p + 6);
        } else if (sscanf(p, "nosnap %255s %255s", vg, lv) == 2) {
            ks_log_warn("'%s': lvcreate refused a snapshot of %s/%s: that volume is copied "
                        "live (crash-consistent only)",
                        r->server, vg, lv);
        }
        p = nl ? nl + 1 : NULL;
    }
    ks_buf_free(&lines);
    return 0;
}

/* End the guardian: its input closed, it removes the snapshots and says
 * so. Then check from outside that none is left. */
static int stop_guardian(run *r, ks_error *err)
{
    if (!r->guard)
        return 0;
    ssh_channel_send_eof(r->guard);
    ks_buf lines;
    ks_buf_init(&lines, 1 << 20);
    double deadline = ks_time_mono() + 120;
    char buf[4096];
    while (ks_time_mono() < deadline) {
        int n = ssh_channel_read_nonblocking(r->guard, buf, sizeof buf, 0);
        if (n > 0) {
            ks_buf_append(&lines, buf, (size_t)n);
            continue;
        }
        if (n == SSH_ERROR || ssh_channel_is_eof(r->guard) || ssh_channel_is_closed(r->guard))
            break;
        ks_ssh_wait(r->ctl, 0.2);
    }
    ssh_channel_close(r->guard);
    ssh_channel_free(r->guard);
    r->guard = NULL;
    int rc = 0;
    for (size_t i = 0; i < r->nsnaps; i++) {
        KS_AUTOFREE char *want = ks_asprintf("removed %s\n", r->snaps[i]);
        if (!strstr(ks_buf_str(&lines), want)) {
            ks_error_set(err, KS_E_REMOTE, 0,
                         "'%s' did not confirm the removal of the snapshot %s: check with 'lvs' "
                         "on the server and remove it with 'lvremove %s'",
                         r->server, r->snaps[i], r->snaps[i]);
            rc = -1;
        }
    }
    if (r->helper_dir) {
        KS_AUTOFREE char *want = ks_asprintf("removed %s\n", r->helper_dir);
        if (!strstr(ks_buf_str(&lines), want)) {
            ks_error_set(err, KS_E_REMOTE, 0,
                         "'%s' did not confirm the removal of kvmshift's helper directory %s: "
                         "remove it by hand ('rm -r %s')",
                         r->server, r->helper_dir, r->helper_dir);
            rc = -1;
        }
    }
    ks_buf_free(&lines);
    return rc;
}

/* Upload the helper into the guardian's directory and check that it runs
 * there. On failure the copy goes on with the shell loop. */
static void upload_helper(run *r)
{
    KS_AUTOFREE char *path = ks_asprintf("%s/ksp2v-helper", r->helper_dir);
    KS_AUTOFREE char *cmd = ks_asprintf("%s/bin/sh -c 'cat >%s && chmod 700 %s && exec %s probe'",
                                        r->sudo ? "sudo -n " : "", path, path, path);
    ks_buf out;
    ks_buf_init(&out, 1 << 16);
    int status = -1;
    ks_error e;
    int rc = ks_ssh_run(r->ctl, cmd, p2v_helper_blob, p2v_helper_size(), &out, &status,
                        r->opt->timeout, &e);
    if (rc == 0 && status == 0 && strncmp(ks_buf_str(&out), "ksp2v-helper 1 b2sum", 20) == 0) {
        r->helper = path;
        path = NULL;
    } else
        ks_log_warn("'%s': the helper does not run there (%s): copying with sh, dd and the "
                    "checksum tool instead (slower)",
                    r->server,
                    rc < 0        ? e.message
                    : status != 0 ? e.message
                                  : ks_buf_str(&out));
    ks_buf_free(&out);
}

/* ---- journal and images ---------------------------------------------------- */

static const char *format_name(p2v_format f)
{
    return f == P2V_RAW ? "raw" : "qcow2";
}

static char *image_path(const run *r, const char *disk)
{
    return ks_asprintf("%s/%s-%s.%s", r->dir, r->server, disk, format_name(r->opt->format));
}

static int save_journal(run *r, ks_error *err)
{
    for (size_t i = 0; i < r->njobs; i++) {
        p2v_disk_job *j = &r->jobs[i];
        p2v_jdisk *d = p2v_journal_disk(r->j, j->name);
        pthread_mutex_lock(&j->mu);
        memcpy(d->map.hex, j->durable.hex, j->durable.n * P2V_HASH_HEX);
        j->dirty = false;
        pthread_mutex_unlock(&j->mu);
    }
    r->j->updated = time(NULL);
    return p2v_journal_save(r->j, r->journal_path, err);
}

static int hash_zero(const char *tool, uint64_t len, char *out)
{
    p2v_hasher *h = p2v_hasher_new(tool);
    if (!h)
        return -1;
    void *z = ks_calloc(1, len ? len : 1);
    char hex[160];
    p2v_hash_hex(h, z, len, hex);
    memcpy(out, hex, P2V_HASH_HEX);
    out[P2V_HASH_HEX] = '\0';
    free(z);
    p2v_hasher_free(h);
    return 0;
}

/* What the journal and the target directory say against this copy, checked
 * before the source is touched (no snapshot made, no helper sent) */
static int check_journal_disks(run *r, ks_error *err)
{
    const p2v_copy_options *o = r->opt;
    for (size_t i = 0; i < r->nfdisks; i++) {
        const facts_disk *fd = &r->fdisks[i];
        p2v_jdisk *d = p2v_journal_disk(r->j, fd->name);
        if (!d) {
            KS_AUTOFREE char *img = image_path(r, fd->name);
            if (ks_path_exists(img)) {
                ks_error_set(err, KS_E_IO, EEXIST,
                             "'%s' exists and no journal of this study knows it: move it away "
                             "or run with --force to replace it",
                             img);
                return -1;
            }
            continue;
        }
        if (d->map.disk_size != fd->size) {
            ks_error_set(err, KS_E_CONFIG, 0,
                         "disk '%s' of '%s' is %llu bytes, its copy %llu: the disk changed; "
                         "copy it again with --force",
                         fd->name, r->server, (unsigned long long)fd->size,
                         (unsigned long long)d->map.disk_size);
            return -1;
        }
        if (!ks_path_exists(d->image)) {
            ks_error_set(err, KS_E_IO, ENOENT,
                         "the image '%s' of disk '%s' of '%s' is gone, its journal still "
                         "lists it: copy again with --force",
                         d->image, fd->name, r->server);
            return -1;
        }
        if (strcmp(d->format, format_name(o->format)) != 0 && o->format == P2V_RAW) {
            ks_error_set(err, KS_E_USAGE, 0,
                         "disk '%s' of '%s' is being copied as %s ('%s'): run with --format "
                         "%s, or --force to copy again as %s",
                         fd->name, r->server, d->format, d->image, d->format,
                         format_name(o->format));
            return -1;
        }
    }
    return 0;
}

/* Prepare each disk: its journal entry (new, or checked against the
 * source), its image (created, or opened to resume), its source map. */
static int setup_jobs(run *r, ks_error *err)
{
    const p2v_copy_options *o = r->opt;
    uint32_t cs = o->chunk_size ? o->chunk_size : DEFAULT_CHUNK;
    const p2v_target_ops *ops = p2v_target_ops_for(format_name(o->format));
    r->jobs = ks_calloc(r->nfdisks, sizeof *r->jobs);
    for (size_t i = 0; i < r->nfdisks; i++) {
        const facts_disk *fd = &r->fdisks[i];
        p2v_disk_job *j = &r->jobs[r->njobs];
        pthread_mutex_init(&j->mu, NULL);
        ks_buf_init(&j->remote_err, 1 << 16);
        r->njobs++;
        j->server = r->server;
        j->name = ks_strdup(fd->name);
        p2v_jdisk *d = p2v_journal_disk(r->j, fd->name);
        KS_AUTOFREE char *img = image_path(r, fd->name);
        bool create = false;
        if (!d) {
            d = p2v_journal_add_disk(r->j, fd->name);
            p2v_journal_set(&d->image, img);
            p2v_journal_set(&d->format, format_name(o->format));
            /* the helper computes b2sum's digest, whatever the source has */
            p2v_journal_set(&d->hash, r->helper ? "b2sum" : r->layout->hash_tool);
            p2v_chunkmap_init(&d->map, fd->size, cs);
            create = true;
        }
        /* the checksums of the journal are the ones to compare with: the
         * helper when they are b2sum's, else the same tool on the source */
        bool helper = r->helper && strcmp(d->hash, "b2sum") == 0;
        const p2v_layout *l = r->layout;
        bool tool = (strcmp(d->hash, "b2sum") == 0 && l->have_b2sum) ||
                    (strcmp(d->hash, "sha256sum") == 0 && l->have_sha256sum) ||
                    (strcmp(d->hash, "md5sum") == 0 && l->have_md5sum);
        if (!helper && !tool) {
            ks_error_set(err, KS_E_REMOTE, 0,
                         "the journal of disk '%s' of '%s' holds %s checksums, and the server "
                         "has no %s%s: copy again with --force",
                         fd->name, r->server, d->hash, d->hash,
                         r->helper ? "" : " (and kvmshift's helper cannot run there)");
            return -1;
        }
        j->helper = helper ? r->helper : NULL;
        j->hash_tool = d->hash;
        j->hasher = p2v_hasher_new(d->hash);
        if (!j->hasher) {
            ks_error_set(err, KS_E_CONFIG, 0, "checksum tool '%s' is not supported", d->hash);
            return -1;
        }
        p2v_chunkmap_init(&j->cur, d->map.disk_size, d->map.chunk_size);
        memcpy(j->cur.hex, d->map.hex, d->map.n * P2V_HASH_HEX);
        p2v_chunkmap_init(&j->durable, d->map.disk_size, d->map.chunk_size);
        memcpy(j->durable.hex, d->map.hex, d->map.n * P2V_HASH_HEX);
        hash_zero(d->hash, d->map.chunk_size, j->zero_full);
        hash_zero(d->hash, p2v_chunk_len(&d->map, d->map.n - 1), j->zero_last);
        j->target =
            p2v_target_open(p2v_target_ops_for(d->format) ? p2v_target_ops_for(d->format) : ops,
                            d->image, fd->size, create, err);
        if (!j->target)
            return -1;
        j->fresh = create;
        j->sync = o->sync;
        j->have_gzip = r->layout->have_gzip;
        j->have_zstd = r->layout->have_zstd;
        j->sudo = r->sudo;
        j->compress = o->compress;
        j->timeout = o->timeout;
        j->stop = &stop_flag;
        p2v_sourcemap_from_layout(&j->src, r->layout, fd->name, SNAP_PREFIX);
        snprintf(j->res.name, sizeof j->res.name, "%s", fd->name);
        snprintf(j->res.image, sizeof j->res.image, "%s", d->image);
        if (j->helper)
            snprintf(j->res.reader, sizeof j->res.reader, "ksp2v-helper");
        else
            snprintf(j->res.reader, sizeof j->res.reader, "sh+dd+%s", d->hash);
        j->res.size = fd->size;
        j->res.chunks = d->map.n;
    }
    return 0;
}

/* ---- running --------------------------------------------------------------- */

typedef struct worker {
    run *r;
    size_t next; /* next job to start, under mu */
    pthread_mutex_t mu;
} worker;

static void run_job(run *r, p2v_disk_job *j)
{
    double t0 = ks_time_mono();
    size_t *list = ks_calloc(j->cur.n, sizeof *list), n = 0;
    for (size_t i = 0; i < j->cur.n; i++) {
        if (!r->opt->sync && p2v_chunkmap_present(&j->cur, i)) {
            j->res.skipped_present++;
            continue;
        }
        list[n++] = i;
    }
    if (!n) {
        j->rc = 0;
        free(list);
        return;
    }
    j->ssh = ks_ssh_new(&r->st, &j->err);
    if (!j->ssh || ks_ssh_connect(j->ssh, r->opt->timeout, &j->err) < 0) {
        j->rc = -1;
    } else {
        j->rc = p2v_stream_run(j, list, n);
    }
    ks_ssh_free(j->ssh);
    j->ssh = NULL;
    free(list);
    j->res.seconds = ks_time_mono() - t0;
}

static void *worker_main(void *p)
{
    worker *w = p;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        size_t k = w->next++;
        pthread_mutex_unlock(&w->mu);
        if (k >= w->r->njobs)
            return NULL;
        run_job(w->r, &w->r->jobs[k]);
    }
}

static void human_bytes(double b, char *out, size_t n)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (b >= 1024 && k < 4) {
        b /= 1024;
        k++;
    }
    snprintf(out, n, k ? "%.1f %s" : "%.0f %s", b, u[k]);
}

static int run_jobs(run *r, ks_error *err)
{
    const p2v_copy_options *o = r->opt;
    uint64_t total = 0;
    for (size_t i = 0; i < r->njobs; i++)
        for (size_t c = 0; c < r->jobs[i].cur.n; c++)
            if (o->sync || !p2v_chunkmap_present(&r->jobs[i].cur, c))
                total += p2v_chunk_len(&r->jobs[i].cur, c);
    size_t nthreads = o->jobs && o->jobs < r->njobs ? o->jobs : r->njobs;
    worker w = {.r = r};
    pthread_mutex_init(&w.mu, NULL);
    pthread_t *th = ks_calloc(nthreads, sizeof *th);
    bool *joined = ks_calloc(nthreads, sizeof *joined);
    for (size_t i = 0; i < nthreads; i++)
        pthread_create(&th[i], NULL, worker_main, &w);

    KS_AUTOFREE char *label = ks_asprintf("copying %s", r->server);
    /* the bar counts KiB: ks_progress takes a size_t total */
    ks_progress *bar = ks_progress_new(label, (size_t)(total >> 10), o->quiet);
    double t0 = ks_time_mono(), last_journal = t0;
    int rc = 0;
    for (;;) {
        bool alive = false;
        uint64_t done = 0, wire = 0;
        for (size_t i = 0; i < r->njobs; i++) {
            done += atomic_load(&r->jobs[i].done_bytes);
            wire += atomic_load(&r->jobs[i].wire_bytes);
        }
        for (size_t i = 0; i < nthreads; i++) {
            if (joined[i])
                continue;
            if (pthread_tryjoin_np(th[i], NULL) == 0)
                joined[i] = true;
            else
                alive = true;
        }
        double now = ks_time_mono(), el = now - t0;
        char d1[32], d2[32], detail[160];
        human_bytes((double)done, d1, sizeof d1);
        human_bytes(el > 0 ? (double)done / el : 0, d2, sizeof d2);
        double left = done && total > done ? el * (double)(total - done) / (double)done : 0;
        snprintf(detail, sizeof detail, "%s, %s/s, %.0f s left, %.0f MiB received", d1, d2, left,
                 (double)wire / 1048576.0);
        ks_progress_update(bar, (size_t)(done >> 10), detail);
        if (!alive)
            break;
        if (ks_signal_stop_requested(r->sig))
            atomic_store(&stop_flag, true);
        if (now - last_journal > 2.0) {
            bool dirty = false;
            for (size_t i = 0; i < r->njobs; i++) {
                pthread_mutex_lock(&r->jobs[i].mu);
                dirty |= r->jobs[i].dirty;
                pthread_mutex_unlock(&r->jobs[i].mu);
            }
            if (dirty && save_journal(r, err) < 0) {
                atomic_store(&stop_flag, true);
                rc = -1;
            }
            last_journal = now;
        }
        usleep(100000);
    }
    ks_progress_done(bar);
    ks_progress_free(bar);
    free(th);
    free(joined);
    pthread_mutex_destroy(&w.mu);
    return rc;
}

/* ---- the command ----------------------------------------------------------- */

static void free_run(run *r)
{
    for (size_t i = 0; i < r->njobs; i++) {
        p2v_disk_job *j = &r->jobs[i];
        p2v_target_close(j->target);
        p2v_hasher_free(j->hasher);
        p2v_chunkmap_free(&j->cur);
        p2v_chunkmap_free(&j->durable);
        p2v_sourcemap_clear(&j->src);
        pthread_mutex_destroy(&j->mu);
        ks_buf_free(&j->remote_err);
        free(j->name);
    }
    free(r->jobs);
    for (size_t i = 0; i < r->nfdisks; i++)
        free(r->fdisks[i].name);
    free(r->fdisks);
    for (size_t i = 0; i < r->naside; i++)
        free(r->aside[i]);
    free(r->aside);
    for (size_t i = 0; i < r->nsnaps; i++)
        free(r->snaps[i]);
    free(r->snaps);
    free(r->helper_dir);
    free(r->helper);
    p2v_layout_free(r->layout);
    p2v_journal_free(r->j);
    if (r->guard) {
        ssh_channel_close(r->guard);
        ssh_channel_free(r->guard);
    }
    ks_ssh_free(r->ctl);
    free(r->journal_path);
    free(r->dir);
}

static void fill_result(run *r, p2v_copy_result *res, double t0)
{
    if (!res)
        return;
    memset(res, 0, sizeof *res);
    res->ndisks = r->ran ? r->njobs : 0;
    res->disks = ks_calloc(r->njobs ? r->njobs : 1, sizeof *res->disks);
    res->complete = res->ndisks > 0;
    for (size_t i = 0; i < res->ndisks; i++) {
        res->disks[i] = r->jobs[i].res;
        res->complete &= p2v_chunkmap_count_present(&r->jobs[i].durable) == r->jobs[i].durable.n;
    }
    res->snapshotted = r->lvs_total && r->lvs_snapped == r->lvs_total;
    snprintf(res->consistency, sizeof res->consistency, "%s", r->j ? r->j->consistency : "");
    res->seconds = ks_time_mono() - t0;
    res->uploaded = r->uploaded;
    res->upload_sent = r->up.sent;
    res->upload_same = r->up.same;
    res->upload_bytes = r->up.bytes_sent;
    res->upload_seconds = r->up.seconds;
}

static void describe_consistency(run *r)
{
    char text[512];
    if (r->lvs_total && r->lvs_snapped == r->lvs_total)
        snprintf(text, sizeof text,
                 "LVM volumes read through snapshots (%zu of %zu: each a crash-consistent point "
                 "in time); other partitions read live",
                 r->lvs_snapped, r->lvs_total);
    else if (r->lvs_snapped)
        snprintf(text, sizeof text,
                 "%zu of %zu LVM volumes read through snapshots; the rest read live: "
                 "crash-consistent only where snapshotted, the final sync with the services "
                 "stopped makes the copy consistent",
                 r->lvs_snapped, r->lvs_total);
    else
        snprintf(text, sizeof text,
                 "no snapshot possible (%s): read live, so this copy is crash-consistent at "
                 "best; the final sync with the services stopped (cutover) is what makes it "
                 "consistent",
                 !r->opt->snapshot      ? "--no-snapshot"
                 : !r->layout->have_lvm ? "no LVM on the server, or not root there"
                 : !r->lvs_total        ? "no LVM volume on the copied disks"
                                        : "no free extents for snapshots");
    p2v_journal_set(&r->j->consistency, text);
    if (!r->opt->quiet)
        fprintf(stderr, "%s: %s\n", r->server, text);
}

/* The run itself, once the study's inputs are read; free_run cleans up. */
static int copy_run(run *r, const char *study_dir, const char *server, const p2v_copy_options *o,
                    double t0, ks_error *err)
{
    KS_AUTOFREE char *inv_path = ks_path_join(study_dir, "inventory.csv");
    /* access: the ssh_* columns when given, else the collection ones */
    const ks_server *s = r->srv;
    const ks_ssh_access *acc = &s->ssh;
    if (!*acc->address) {
        ks_error_set(err, KS_E_CONFIG, 0,
                     "'%s' has no SSH address for imaging (method %s): fill its ssh_address "
                     "column in %s",
                     server, ks_method_name(s->method), inv_path);
        return -1;
    }
    snprintf(r->origin, sizeof r->origin, "inventory line %u", s->line);
    KS_AUTOFREE char *known = ks_path_join(study_dir, "known_hosts");
    r->st = (ks_ssh_target){
        .name = server,
        .address = acc->address,
        .port = acc->port,
        .user = acc->user,
        .key = acc->key,
        .study_dir = study_dir,
        .known_hosts = known,
        .accept_new_hostkeys = o->accept_new_hostkeys,
        .origin = r->origin,
    };
    r->ctl = ks_ssh_new(&r->st, err);
    if (!r->ctl || ks_ssh_connect(r->ctl, o->timeout, err) < 0)
        return -1;
    /* the disk connections must not record the key again */
    r->st.accept_new_hostkeys = false;
    r->sudo = strcmp(acc->user, "root") != 0 && *acc->user;
    if (read_layout(r, &r->layout, err) < 0)
        return -1;
    if (r->layout->uid != 0) {
        ks_error_set(err, KS_E_AUTH, 0,
                     "'%s' runs the copy as uid %u, not root: block devices need root; log in "
                     "as root or allow '%s' to run sudo without a password",
                     server, r->layout->uid, acc->user);
        return -1;
    }
    if (!r->layout->hash_tool || !r->layout->dd_bytes) {
        ks_error_set(err, KS_E_REMOTE, 0,
                     "'%s' lacks %s: the copy needs GNU dd and b2sum, sha256sum or md5sum "
                     "(coreutils)",
                     server,
                     !r->layout->hash_tool ? "a checksum tool" : "a dd with iflag=skip_bytes");
        return -1;
    }
    if (check_disks(r, err) < 0 || select_disks(r, err) < 0)
        return -1;

    ks_error je;
    if (o->force) {
        /* start over for the disks copied this time; the others (left
         * aside with --disk) keep their copies and journal entries */
        r->j = NULL;
        for (size_t i = 0; i < r->nfdisks; i++) {
            KS_AUTOFREE char *img = image_path(r, r->fdisks[i].name);
            unlink(img);
        }
        p2v_journal *old = p2v_journal_load(r->journal_path, &je);
        for (size_t i = 0; old && i < r->nfdisks; i++) {
            p2v_jdisk *d = p2v_journal_disk(old, r->fdisks[i].name);
            if (d) {
                unlink(d->image);
                p2v_journal_remove_disk(old, d);
            }
        }
        if (old && old->ndisks && r->naside) {
            r->j = old;
            old->converted_at = 0;
        } else {
            p2v_journal_free(old);
            unlink(r->journal_path);
        }
    } else {
        r->j = p2v_journal_load(r->journal_path, &je);
        if (!r->j && je.errnum != ENOENT) {
            ks_error_set(err, KS_E_IO, 0, "%s: fix or move the journal away (or --force)",
                         je.message);
            return -1;
        }
        if (r->j && p2v_journal_recover(r->j, r->journal_path, err) < 0)
            return -1;
    }
    bool had_journal = r->j != NULL;
    if (!r->j)
        r->j = p2v_journal_new(server);
    if (check_journal_disks(r, err) < 0)
        return -1;

    bool snap = o->snapshot && r->layout->have_lvm;
    if (snap && remove_stale(r, err) < 0)
        return -1;
    r->want_helper = !o->no_helper && p2v_helper_size() > 0 && r->layout->arch &&
                     strcmp(r->layout->arch, p2v_helper_arch()) == 0;
    if (start_guardian(r, snap, err) < 0)
        return -1;
    if (r->nsnaps) {
        p2v_layout *after = NULL;
        if (read_layout(r, &after, err) < 0)
            return -1;
        p2v_layout_free(r->layout);
        r->layout = after;
    }
    if (r->helper_dir)
        upload_helper(r);
    else if (r->want_helper)
        ks_log_warn("'%s' has no directory where kvmshift's helper may run: copying with sh, "
                    "dd and the checksum tool instead (slower)",
                    server);
    describe_consistency(r);
    if (setup_jobs(r, err) < 0)
        return -1;
    if (save_journal(r, err) < 0)
        return -1;

    atomic_store(&stop_flag, false);
    r->sig = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_IGNORE_PIPE, NULL);
    r->ran = true;
    int jrc = run_jobs(r, err);
    bool stopped = ks_signal_stop_requested(r->sig);
    ks_signal_free(r->sig);
    r->sig = NULL;

    ks_error gerr;
    int grc = stop_guardian(r, &gerr);

    /* the outcome, in the journal */
    const ks_error *first = NULL;
    bool run_complete = true, any_failed_chunk = false;
    for (size_t i = 0; i < r->njobs; i++) {
        p2v_disk_job *j = &r->jobs[i];
        if (j->rc < 0 && !first)
            first = &j->err;
        any_failed_chunk |= j->res.failed > 0;
        run_complete &= p2v_chunkmap_count_present(&j->durable) == j->durable.n;
    }
    /* the server's copy is complete only with the disks left aside too */
    bool complete = run_complete;
    for (size_t i = 0; i < r->naside; i++) {
        const p2v_jdisk *d = p2v_journal_disk(r->j, r->aside[i]);
        complete &= d && p2v_chunkmap_count_present(&d->map) == d->map.n;
    }
    time_t now = time(NULL);
    json_t *runj = json_object();
    char iso[KS_TIME_ISO_LEN];
    ks_time_iso(now, iso);
    json_object_set_new(runj, "ended", json_string(iso));
    json_object_set_new(runj, "kind",
                        json_string(o->sync       ? "sync"
                                    : had_journal ? "resume"
                                                  : "copy"));
    json_object_set_new(runj, "seconds", json_real(ks_time_mono() - t0));
    json_t *rd = json_array();
    for (size_t i = 0; i < r->njobs; i++) {
        p2v_disk_job *j = &r->jobs[i];
        p2v_jdisk *d = p2v_journal_disk(r->j, j->name);
        /* chunks written from the source undo a conversion there */
        if (j->res.sent || j->res.changed)
            r->j->converted_at = 0;
        if (run_complete) {
            if (!d->copied_at)
                d->copied_at = now;
            d->synced_at = now;
            if (o->sync) {
                d->changed = j->res.changed;
                d->changed_bytes = j->res.changed_bytes;
            }
        }
        json_array_append_new(
            rd, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "disk", j->name, "examined",
                          (json_int_t)j->res.examined, "sent", (json_int_t)j->res.sent, "zero",
                          (json_int_t)j->res.zero, "unchanged", (json_int_t)j->res.same, "resent",
                          (json_int_t)j->res.resent, "changed", (json_int_t)j->res.changed,
                          "changed_bytes", (json_int_t)j->res.changed_bytes, "bytes_wire",
                          (json_int_t)j->res.bytes_wire, "compression", j->res.mode));
        json_object_set_new(json_array_get(rd, json_array_size(rd) - 1), "reader",
                            json_string(j->res.reader));
    }
    json_object_set_new(runj, "disks", rd);
    json_array_append_new(r->j->runs, runj);
    if (first) {
        p2v_journal_set(&r->j->state, "failed");
        p2v_journal_set(&r->j->error, first->message);
    } else if (stopped) {
        p2v_journal_set(&r->j->state, "interrupted");
        p2v_journal_set(&r->j->error, "interrupted (Ctrl-C or SIGTERM): run again to resume");
    } else if (!complete) {
        p2v_journal_set(&r->j->state, "copying");
        p2v_journal_set(&r->j->error, any_failed_chunk ? "some chunks kept changing while read: "
                                                         "run again (or --sync) to copy them"
                                                       : "");
    } else {
        p2v_journal_set(&r->j->state, "synced");
        p2v_journal_set(&r->j->error, "");
    }
    ks_error serr;
    int src = save_journal(r, &serr);
    if (first)
        ks_error_copy(err, first);
    else if (jrc < 0)
        ; /* err already says why the journal could not be written */
    else if (grc < 0)
        ks_error_copy(err, &gerr);
    else if (src < 0)
        ks_error_copy(err, &serr);
    else if (stopped)
        ks_error_set(err, KS_E_USAGE, EINTR,
                     "copy of '%s' interrupted: the journal is saved, run the same command again "
                     "to resume",
                     server);
    return first || jrc < 0 || grc < 0 || src < 0 ? -1 : (run_complete ? 0 : 1);
}

static bool upload_stop(void *arg)
{
    return ks_signal_stop_requested(arg);
}

/* The staged images into the volumes of a pool reached through libvirt. */
static int upload_run(run *r, const char *uri, const char *pool, ks_error *err)
{
    ks_signal *sig = ks_signal_new(KS_SIGNAL_STOP | KS_SIGNAL_IGNORE_PIPE, err);
    if (!sig)
        return -1;
    /* the copy is over: its images are closed (qemu-nbd holds a lock) */
    const char **names = ks_calloc(r->njobs + 1, sizeof *names);
    for (size_t i = 0; i < r->njobs; i++) {
        names[i] = r->jobs[i].name;
        p2v_target_close(r->jobs[i].target);
        r->jobs[i].target = NULL;
    }
    p2v_upload_args a = {.server = r->server,
                         .disks = names,
                         .ndisks = r->njobs,
                         .journal_path = r->journal_path,
                         .uri = uri,
                         .pool = pool,
                         .force = r->opt->force,
                         .quiet = r->opt->quiet,
                         .stop = upload_stop,
                         .stop_arg = sig};
    int rc = p2v_upload_journal(r->j, &a, &r->up, err);
    ks_signal_free(sig);
    free(names);
    r->uploaded = rc == 0;
    return rc;
}

int p2v_copy(const char *study_dir, const char *server, const p2v_copy_options *opt,
             p2v_copy_result *res, ks_error *err)
{
    double t0 = ks_time_mono();
    run r = {.study = study_dir, .server = server, .opt = opt};
    p2v_copy_options o = *opt;
    if (!o.timeout)
        o.timeout = 120;
    r.opt = &o;
    const char *pool = o.to && strncmp(o.to, "pool:", 5) == 0 ? o.to + 5 : NULL;
    const char *uri = o.target_uri ? o.target_uri : "qemu:///system";
    if (res)
        memset(res, 0, sizeof *res);
    int rc = -1, lockfd = -1, kind = 0;
    ks_inventory *inv = NULL;
    KS_AUTOFREE char *inv_path = ks_path_join(study_dir, "inventory.csv");
    KS_AUTOFREE char *base = ks_asprintf("%s/p2v/%s", study_dir, server);

    inv = ks_inventory_load(inv_path, err);
    if (!inv)
        goto out;
    r.srv = ks_inventory_find(inv, server);
    if (!r.srv) {
        ks_error_set(err, KS_E_USAGE, 0, "no server '%s' in %s", server, inv_path);
        goto out;
    }
    if (ks_mkdir_p(base, err) < 0)
        goto out;
    lockfd = p2v_journal_lock(base, server, err);
    if (lockfd < 0)
        goto out;
    r.journal_path = ks_path_join(base, "journal.json");
    kind = pool ? p2v_pool_probe(uri, pool, &r.dir, err) : 0;
    if (kind < 0)
        goto out;
    if (kind == 1) /* staged here, then uploaded */
        r.dir = ks_path_join(base, "disks");
    if (pool) {
        if (ks_mkdir_p(r.dir, err) < 0 || read_facts(&r, err) < 0)
            goto out;
    } else {
        r.dir = o.to ? ks_strdup(o.to) : ks_path_join(base, "disks");
        if (ks_mkdir_p(r.dir, err) < 0 || read_facts(&r, err) < 0)
            goto out;
    }

    rc = copy_run(&r, study_dir, server, &o, t0, err);
    ks_error pe;
    if (kind == 0 && pool && p2v_pool_refresh(uri, pool, &pe) < 0)
        ks_log_warn("%s", pe.message);
    if (kind == 1 && rc == 0)
        rc = upload_run(&r, uri, pool, err);
out:
    if (rc == -1 && r.guard) {
        ks_error ge;
        stop_guardian(&r, &ge);
    }
    fill_result(&r, res, t0);
    free_run(&r);
    ks_inventory_free(inv);
    if (lockfd >= 0)
        close(lockfd);
    return rc;
}
