/* p2v_layout.c: the source's disks, partitions and LVM layout, as the
 * source itself tells it at copy time (sysfs and lvm's reporting
 * commands), and the tools the copy can use there.
 *
 * The facts taken during the study say which disks the server has; this
 * says where each partition and each LV extent lies now, which is what a
 * snapshot-consistent copy needs. Nothing here writes on the source.
 */
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"
#include "ks_parse.h"
#include "p2v_internal.h"

/* LVM's reporting commands write a metadata backup (and archive) when theirs
 * is older than the VG: after our snapshots, made without one, they would
 * write under /etc/lvm, so they are told not to either.
 * Printed sections: "key value..." lines, and the raw lvm reports after a
 * "== NAME" line each. lvm may be missing or not allowed (not root): its
 * sections are then empty. */
const char p2v_layout_command[] =
    "LC_ALL=C; export LC_ALL\n"
    "echo \"uid $(id -u)\"\n"
    "echo \"arch $(uname -m)\"\n"
    "for t in b2sum sha256sum md5sum gzip zstd dd; do\n"
    "  command -v $t >/dev/null 2>&1 && echo \"tool $t\"\n"
    "done\n"
    "dd if=/dev/zero of=/dev/null bs=4096 iflag=skip_bytes,count_bytes skip=1 count=1 "
    "2>/dev/null && echo ddbytes\n"
    "command -v lvs >/dev/null 2>&1 && [ \"$(id -u)\" = 0 ] && echo lvm\n"
    "echo \"== disks\"\n"
    "for d in /sys/block/*; do\n"
    "  n=${d##*/}\n"
    "  case $n in loop*|ram*|zram*|sr*|fd*|dm-*|md*|nbd*) continue;; esac\n"
    "  [ -r \"$d/size\" ] || continue\n"
    "  echo \"disk $n $(cat \"$d/size\")\"\n"
    "  for p in \"$d\"/\"$n\"*; do\n"
    "    [ -r \"$p/start\" ] && echo \"part ${p##*/} $n $(cat \"$p/start\") $(cat \"$p/size\")\"\n"
    "  done\n"
    "done\n"
    "if command -v lvs >/dev/null 2>&1 && [ \"$(id -u)\" = 0 ]; then\n"
    "  o=\"--noheadings --nosuffix --units b --separator |\"\n"
    "  c=\"backup { backup = 0 archive = 0 }\"\n"
    "  echo \"== pvs\"; pvs --config \"$c\" $o -o pv_name,vg_name,pe_start 2>/dev/null\n"
    "  echo \"== vgs\"; vgs --config \"$c\" $o -o vg_name,vg_extent_size,vg_free_count "
    "2>/dev/null\n"
    "  echo \"== segs\"; lvs --config \"$c\" $o --segments -o "
    "vg_name,lv_name,seg_start_pe,seg_size_pe,seg_pe_ranges,lv_attr,lv_size,origin,segtype "
    "2>/dev/null\n"
    "fi\n"
    "echo \"== end\"\n";

static void free_str(char **p)
{
    free(*p);
    *p = NULL;
}

void p2v_layout_free(p2v_layout *l)
{
    if (!l)
        return;
    free(l->hash_tool);
    free(l->arch);
    for (size_t i = 0; i < l->ndisks; i++)
        free(l->disks[i].name);
    for (size_t i = 0; i < l->nparts; i++) {
        free(l->parts[i].name);
        free(l->parts[i].disk);
    }
    for (size_t i = 0; i < l->npvs; i++) {
        free(l->pvs[i].name);
        free(l->pvs[i].vg);
    }
    for (size_t i = 0; i < l->nvgs; i++)
        free(l->vgs[i].name);
    for (size_t i = 0; i < l->nsegs; i++) {
        p2v_seg *s = &l->segs[i];
        free_str(&s->vg);
        free_str(&s->lv);
        free_str(&s->pv);
        free_str(&s->attr);
        free_str(&s->origin);
        free_str(&s->type);
    }
    free(l->disks);
    free(l->parts);
    free(l->pvs);
    free(l->vgs);
    free(l->segs);
    free(l);
}

const p2v_srcdisk *p2v_layout_disk(const p2v_layout *l, const char *name)
{
    for (size_t i = 0; i < l->ndisks; i++)
        if (strcmp(l->disks[i].name, name) == 0)
            return &l->disks[i];
    return NULL;
}

/* A device or VG/LV name as the source printed it: no spaces, no shell
 * characters (they end up in the copy's shell text), bounded length. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '+' || c == '/' || c == ':'))
            return false;
    }
    return true;
}

static bool u64(const char *s, uint64_t *out)
{
    return ks_parse_u64(s, out);
}

/* Split s in place at sep into at most max fields (spaces around each
 * trimmed); returns the count. */
static size_t split(char *s, char sep, char **f, size_t max)
{
    size_t n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        char *end = sep == ' ' ? strpbrk(s, " \t") : strchr(s, sep);
        if (n < max)
            f[n++] = s;
        if (!end)
            break;
        char *e = end;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *e = '\0';
        s = end + 1;
        if (sep == ' ' && !*s)
            break;
    }
    if (n) {
        char *last = f[n - 1];
        size_t l = strlen(last);
        while (l && (last[l - 1] == ' ' || last[l - 1] == '\t' || last[l - 1] == '\r'))
            last[--l] = '\0';
    }
    return n;
}

#define GROW(arr, n)                                                                               \
    ((arr) = ks_reallocarray((arr), (n) + 1, sizeof *(arr)),                                       \
     memset(&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++])

/* "/dev/sda2:0-639" -> pv, first extent, count. */
static bool pe_range(const char *s, char **pv, uint64_t *pe, uint64_t *count)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    const char *dash = strchr(colon + 1, '-');
    uint64_t a, b;
    if (!dash)
        return false;
    KS_AUTOFREE char *first = ks_strndup(colon + 1, (size_t)(dash - colon - 1));
    if (!ks_parse_u64(first, &a) || !ks_parse_u64(dash + 1, &b) || b < a)
        return false;
    *pv = ks_strndup(s, (size_t)(colon - s));
    if (!name_ok(*pv)) {
        free_str(pv);
        return false;
    }
    *pe = a;
    *count = b - a + 1;
    return true;
}

static int parse_line(p2v_layout *l, const char *section, char *line)
{
    char *f[12];
    if (!*section) {
        size_t n = split(line, ' ', f, 12);
        if (n == 2 && strcmp(f[0], "uid") == 0) {
            uint64_t u;
            if (!u64(f[1], &u) || u > UINT32_MAX)
                return -1;
            l->uid = (uint32_t)u;
            l->have_uid = true;
        } else if (n == 2 && strcmp(f[0], "tool") == 0) {
            if (strcmp(f[1], "gzip") == 0)
                l->have_gzip = true;
            else if (strcmp(f[1], "zstd") == 0)
                l->have_zstd = true;
            else if (strcmp(f[1], "b2sum") == 0 || strcmp(f[1], "sha256sum") == 0 ||
                     strcmp(f[1], "md5sum") == 0) {
                l->have_b2sum |= f[1][0] == 'b';
                l->have_sha256sum |= f[1][0] == 's';
                l->have_md5sum |= f[1][0] == 'm';
                if (!l->hash_tool) /* the first found is the preferred one */
                    l->hash_tool = ks_strdup(f[1]);
            }
        } else if (n == 2 && strcmp(f[0], "arch") == 0) {
            if (!name_ok(f[1]))
                return -1;
            free(l->arch);
            l->arch = ks_strdup(f[1]);
        } else if (n == 1 && strcmp(f[0], "ddbytes") == 0) {
            l->dd_bytes = true;
        } else if (n == 1 && strcmp(f[0], "lvm") == 0) {
            l->have_lvm = true;
        }
        return 0;
    }
    if (strcmp(section, "disks") == 0) {
        size_t n = split(line, ' ', f, 12);
        uint64_t a, b;
        if (n == 3 && strcmp(f[0], "disk") == 0) {
            if (!name_ok(f[1]) || strchr(f[1], '/') || !u64(f[2], &a) || a > UINT64_MAX / 512)
                return -1;
            p2v_srcdisk *d = GROW(l->disks, l->ndisks);
            d->name = ks_strdup(f[1]);
            d->size = a * 512;
        } else if (n == 5 && strcmp(f[0], "part") == 0) {
            if (!name_ok(f[1]) || !name_ok(f[2]) || !u64(f[3], &a) || !u64(f[4], &b) ||
                a > UINT64_MAX / 512 || b > UINT64_MAX / 512)
                return -1;
            p2v_part *p = GROW(l->parts, l->nparts);
            p->name = ks_strdup(f[1]);
            p->disk = ks_strdup(f[2]);
            p->start = a * 512;
            p->size = b * 512;
        } else {
            return -1;
        }
        return 0;
    }
    if (strcmp(section, "pvs") == 0) {
        size_t n = split(line, '|', f, 12);
        uint64_t a;
        if (n != 3 || !name_ok(f[0]) || !u64(f[2], &a))
            return -1;
        if (!*f[1])
            return 0; /* a PV in no VG */
        if (!name_ok(f[1]))
            return -1;
        p2v_pv *p = GROW(l->pvs, l->npvs);
        p->name = ks_strdup(f[0]);
        p->vg = ks_strdup(f[1]);
        p->pe_start = a;
        return 0;
    }
    if (strcmp(section, "vgs") == 0) {
        size_t n = split(line, '|', f, 12);
        uint64_t a, b;
        if (n != 3 || !name_ok(f[0]) || !u64(f[1], &a) || !u64(f[2], &b) || a == 0 || a % 512)
            return -1;
        p2v_vg *v = GROW(l->vgs, l->nvgs);
        v->name = ks_strdup(f[0]);
        v->extent_size = a;
        v->free_extents = b;
        return 0;
    }
    if (strcmp(section, "segs") == 0) {
        size_t n = split(line, '|', f, 12);
        uint64_t le, cnt, size;
        if (n != 9 || !name_ok(f[0]) || !name_ok(f[1]) || !u64(f[2], &le) || !u64(f[3], &cnt) ||
            !u64(f[6], &size) || strlen(f[5]) > 20 || strlen(f[8]) > 40 ||
            (*f[7] && !name_ok(f[7])))
            return -1;
        p2v_seg *s = GROW(l->segs, l->nsegs);
        s->vg = ks_strdup(f[0]);
        s->lv = ks_strdup(f[1]);
        s->le = le;
        s->count = cnt;
        s->attr = ks_strdup(f[5]);
        s->lv_size = size;
        s->origin = ks_strdup(f[7]);
        s->type = ks_strdup(f[8]);
        /* linear segments on one PV are the ones a copy can redirect */
        uint64_t pe, pcnt;
        char *pv = NULL;
        if (strcmp(f[8], "linear") == 0 && *f[4] && !strchr(f[4], ' ') &&
            pe_range(f[4], &pv, &pe, &pcnt) && pcnt == cnt) {
            s->pv = pv;
            s->pe = pe;
        } else {
            free(pv);
        }
        return 0;
    }
    return 0; /* a section of a later version */
}

p2v_layout *p2v_layout_parse(const char *text, size_t len, const char *server, ks_error *err)
{
    p2v_layout *l = ks_calloc(1, sizeof *l);
    KS_AUTOFREE char *copy = ks_strndup(text, len);
    char section[16] = "";
    bool ended = false;
    unsigned lineno = 0;
    for (char *line = copy, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (strncmp(line, "== ", 3) == 0) {
            snprintf(section, sizeof section, "%s", line + 3);
            if (strcmp(section, "end") == 0)
                ended = true;
            continue;
        }
        if (!*line || ended)
            continue;
        char shown[81];
        snprintf(shown, sizeof shown, "%s", line);
        if (parse_line(l, section, line) < 0) {
            ks_error_set(err, KS_E_PARSE, 0,
                         "cannot read the disk layout of '%s': line %u ('%s') is not what sysfs "
                         "or lvm print",
                         server, lineno, shown);
            p2v_layout_free(l);
            return NULL;
        }
    }
    if (!ended || !l->have_uid) {
        ks_error_set(err, KS_E_PARSE, 0,
                     "the disk layout of '%s' is incomplete (the listing stopped early): "
                     "check that its /bin/sh is a POSIX shell",
                     server);
        p2v_layout_free(l);
        return NULL;
    }
    return l;
}
