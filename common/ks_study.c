#include "ks_study.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ks_fs.h"
#include "ks_log.h"
#include "ks_mem.h"

struct ks_study {
    char *dir;
    ks_ini *ini;
    int lockfd; /* the writer lock (ks_study_open_writer), or -1 */
};

static const char study_ini_template[] =
    "# kvmshift study settings. Lines starting with '#' or ';' are comments.\n"
    "# Every key has a default; remove the '#' in front of a key to change it.\n"
    "\n"
    "[study]\n"
    "# A name for reports.\n"
    "name = example study\n"
    "\n"
    "[collector]\n"
    "# Seconds between two samples of a server (kvmshift collect --interval).\n"
    "#interval = 60\n"
    "# Seconds to establish a connection (TCP, SSH handshake, authentication).\n"
    "#connect_timeout = 10\n"
    "# Seconds a server has to answer one sample request.\n"
    "#command_timeout = 20\n"
    "# Longest wait, in seconds, between reconnection attempts to a failing server.\n"
    "#max_backoff = 300\n"
    "# Write through rrdcached instead of to the files directly, so that several\n"
    "# collector machines can share one store, e.g. unix:/run/rrdcached.sock or\n"
    "# 127.0.0.1:42217. Empty: write the files directly.\n"
    "#rrdcached =\n";

static const char inventory_template[] =
    "# kvmshift inventory: one server a line. Lines starting with '#' are comments.\n"
    "# The first other line names the columns (any order; name, address and method\n"
    "# are required):\n"
    "#   name     unique, letters/digits/./_/-, names the server's files\n"
    "#   address  IP address or DNS name\n"
    "#   method   ssh\n"
    "#   port     SSH port, default 22\n"
    "#   user     login, default your local user name\n"
    "#   key      private key file (relative to this directory); empty: ssh-agent\n"
    "#            and ~/.ssh default keys\n"
    "#   role     what the server is for: web, mail, db, backup, infrastructure, ...\n"
    "#   group    affinity group, e.g. an application\n"
    "#   tags     words separated by ';'\n"
    "# Quote a field that contains a comma: \"a,b\".\n"
    "name,address,method,port,user,key,role,group,tags\n"
    "#web01,192.0.2.10,ssh,22,kvmshift,keys/id_ed25519,web,shop,prod;dmz\n"
    "#dns1,192.0.2.53,ssh,22,kvmshift,keys/id_ed25519,infrastructure,dns,prod\n";

int ks_study_init(const char *dir, ks_error *err)
{
    KS_AUTOFREE char *ini = ks_path_join(dir, "study.ini");
    KS_AUTOFREE char *inv = ks_path_join(dir, "inventory.csv");
    if (ks_path_exists(ini) || ks_path_exists(inv)) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "'%s' already holds a study (study.ini or inventory.csv): choose another "
                     "directory, or edit the files there",
                     dir);
        return -1;
    }
    if (ks_mkdir_p(dir, err) < 0)
        return -1;
    static const char *subs[] = {"rrd", "facts", "state"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        KS_AUTOFREE char *p = ks_path_join(dir, subs[i]);
        if (ks_mkdir_p(p, err) < 0)
            return -1;
    }
    if (ks_write_file_atomic(inv, inventory_template, sizeof inventory_template - 1, 0644, err) < 0)
        return -1;
    if (ks_write_file_atomic(ini, study_ini_template, sizeof study_ini_template - 1, 0644, err) < 0)
        return -1;
    return 0;
}

/* Every section and key of study.ini that some part of kvmshift reads
 * (README: "study.ini keys"); anything else is refused with the nearest
 * known name, so that a typo is not silently a default. */
static const char *const k_study[] = {"name", NULL};
static const char *const k_collector[] = {"interval",    "connect_timeout", "command_timeout",
                                          "max_backoff", "rrdcached",       NULL};
static const char *const k_policy[] = {"percentile",
                                       "headroom_percent",
                                       "max_host_share_percent",
                                       "min_confidence_percent",
                                       "allow_upsize",
                                       "cpu_cap",
                                       "slot_seconds",
                                       "start",
                                       "end",
                                       "cpu_max_percent",
                                       "memory_max_percent",
                                       "host_cpu_overhead_mhz",
                                       "host_memory_overhead_gib",
                                       "vm_memory_overhead_mib",
                                       "vcpu_ratio",
                                       "n_plus_1",
                                       "mixed_fleet",
                                       "server_power_base_w",
                                       "server_power_socket_idle_w",
                                       "server_power_socket_max_w",
                                       "server_power_w_per_gib",
                                       "hardware_blockers",
                                       "physical_roles",
                                       NULL};
static const char *const k_host_model[] = {"cores", "mhz",          "memory_gib",   "storage_mbps",
                                           "iops",  "network_gbps", "power_idle_w", "power_max_w",
                                           "cost",  "rack_units",   "speed_factor", "existing",
                                           NULL};
static const char *const k_cpu_speed[] = {"match", "factor", NULL};
static const char *const k_servers[] = {"servers", NULL};
static const char *const k_migration[] = {"start_date",
                                          "window_start",
                                          "window_end",
                                          "days",
                                          "max_parallel",
                                          "bandwidth_mbps",
                                          "conversion_minutes",
                                          "validation_minutes",
                                          "default_disk_gib",
                                          "dependencies",
                                          NULL};
static const char *const k_depends[] = {"servers", "needs", NULL};
static const char *const k_night[] = {"target_uri",    "pool",     "shutdown_source",
                                      "console_log",   "power_on", "validate_wait",
                                      "rollback_wait", NULL};
static const char *const k_cutover[] = {"stop_services", "vm_address", "vm_port", NULL};
static const char *const k_target_host[] = {"uri", "pool", NULL};
static const char *const k_p2v[] = {"network", "bridge", "virt_type", NULL};

static const ks_ini_section_spec study_sections[] = {
    {"study", k_study},
    {"collector", k_collector},
    {"policy", k_policy},
    {"host-model ", k_host_model},
    {"cpu-speed ", k_cpu_speed},
    {"anti-affinity ", k_servers},
    {"affinity ", k_servers},
    {"pin", NULL},          /* SERVER = host number */
    {"server-power", NULL}, /* SERVER = watts */
    {"migration", k_migration},
    {"depends ", k_depends},
    {"night", k_night},
    {"cutover ", k_cutover},
    {"target-host ", k_target_host},
    {"p2v", k_p2v},
};

int ks_study_ini_check(const ks_ini *ini, ks_error *err)
{
    return ks_ini_check(ini, study_sections, sizeof study_sections / sizeof *study_sections, err);
}

ks_study *ks_study_open(const char *dir, ks_error *err)
{
    KS_AUTOFREE char *ini_path = ks_path_join(dir, "study.ini");
    if (!ks_path_exists(ini_path)) {
        ks_error_set(err, KS_E_USAGE, 0,
                     "'%s' is not a study directory (no study.ini): create one with "
                     "'kvmshift init %s'",
                     dir, dir);
        return NULL;
    }
    ks_ini *ini = ks_ini_load(ini_path, err);
    if (!ini)
        return NULL;
    if (ks_study_ini_check(ini, err) < 0) {
        ks_ini_free(ini);
        return NULL;
    }
    ks_study *s = ks_calloc(1, sizeof *s);
    s->dir = ks_strdup(dir);
    s->ini = ini;
    s->lockfd = -1;
    return s;
}

ks_study *ks_study_open_writer(const char *dir, const char *who, ks_error *err)
{
    KS_AUTOFREE char *ini_path = ks_path_join(dir, "study.ini");
    if (!ks_path_exists(ini_path))
        return ks_study_open(dir, err); /* its error */
    int fd = ks_study_lock(dir, who, err);
    if (fd < 0)
        return NULL;
    /* read once the lock is held: what the previous writer left */
    ks_study *s = ks_study_open(dir, err);
    if (!s) {
        ks_study_unlock(fd);
        return NULL;
    }
    s->lockfd = fd;
    return s;
}

void ks_study_free(ks_study *s)
{
    if (!s)
        return;
    ks_study_unlock(s->lockfd);
    ks_ini_free(s->ini);
    free(s->dir);
    free(s);
}

const char *ks_study_dir(const ks_study *s)
{
    return s->dir;
}

const ks_ini *ks_study_ini(const ks_study *s)
{
    return s->ini;
}

char *ks_study_path(const ks_study *s, const char *rel)
{
    return ks_path_join(s->dir, rel);
}

char *ks_study_server_file(const ks_study *s, const char *sub, const char *name, const char *ext)
{
    size_t n = strlen(s->dir);
    const char *sep = (n && s->dir[n - 1] == '/') ? "" : "/";
    return ks_asprintf("%s%s%s/%s.%s", s->dir, sep, sub, name, ext);
}

/* DIR/physical/NAME<phys> when it exists, else DIR/sub/NAME.ext. */
static char *physical_or(const char *dir, const char *name, const char *phys, const char *sub,
                         const char *ext)
{
    char *p = ks_asprintf("%s/physical/%s%s", dir, name, phys);
    if (ks_path_exists(p))
        return p;
    free(p);
    return ks_asprintf("%s/%s/%s.%s", dir, sub, name, ext);
}

char *ks_study_physical_facts(const char *dir, const char *name)
{
    return physical_or(dir, name, ".facts.json", "facts", "json");
}

char *ks_study_physical_rrd(const char *dir, const char *name)
{
    return physical_or(dir, name, ".rrd", "rrd", "rrd");
}

static void say_waiting(const char *holder, void *arg)
{
    fprintf(stderr,
            "kvmshift: the study '%s' is being changed by another kvmshift (%s): waiting "
            "for it to end (Ctrl-C gives up)\n",
            (const char *)arg, holder);
}

int ks_study_lock(const char *dir, const char *who, ks_error *err)
{
    if (!ks_is_dir(dir)) {
        ks_error_set(err, KS_E_USAGE, ENOENT,
                     "'%s' is not a study directory: create one with 'kvmshift init %s'", dir, dir);
        return -1;
    }
    KS_AUTOFREE char *path = ks_path_join(dir, ".lock");
    KS_AUTOFREE char *what = ks_asprintf("the study '%s'", dir);
    int fd = ks_lock_take(path, what, who, -1, say_waiting, (void *)dir, err);
    if (fd >= 0)
        ks_study_remove_stale(dir);
    return fd;
}

void ks_study_unlock(int fd)
{
    ks_lock_release(fd);
}

/* Digits at *p, at most 9, moved past; -1 when there are none. */
static long digits(const char **p)
{
    long v = 0;
    const char *d = *p;
    while (*d >= '0' && *d <= '9' && d - *p < 9)
        v = v * 10 + (*d++ - '0');
    if (d == *p)
        return -1;
    *p = d;
    return v;
}

/* The pid in a temporary's name, or 0 when the name is not one: the
 * temporaries are NAME.tmp.PID (an import's series) and NAME.tmp.PID.TID.N
 * (ks_write_file_atomic), nothing after them; the study's real files all
 * end in an extension (web.tmp.5.rrd is server web.tmp.5's series). */
static long temp_pid(const char *name)
{
    const char *p = strstr(name, ".tmp.");
    while (p && p != name) {
        const char *q = p + 5;
        long pid = digits(&q);
        if (pid > 0 && !*q)
            return pid;
        if (pid > 0 && *q == '.') {
            q++;
            if (digits(&q) >= 0 && *q == '.') {
                q++;
                if (digits(&q) >= 0 && !*q)
                    return pid;
            }
        }
        p = strstr(p + 1, ".tmp.");
    }
    return 0;
}

static bool pid_gone(long pid)
{
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static unsigned remove_stale_in(const char *dir, const char *sub, bool top)
{
    KS_AUTOFREE char *path = sub ? ks_path_join(dir, sub) : ks_strdup(dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        bool report_tmp = top && S_ISDIR(st.st_mode) && strncmp(e->d_name, "report.tmp.", 11) == 0;
        long pid = S_ISDIR(st.st_mode) ? 0 : temp_pid(e->d_name);
        if (!report_tmp && !(pid > 0 && pid_gone(pid)))
            continue;
        KS_AUTOFREE char *victim = ks_path_join(path, e->d_name);
        ks_error err;
        if (ks_remove_tree(victim, &err) < 0) {
            ks_log_warn("%s", err.message);
            continue;
        }
        ks_log_warn("removed '%s', left by a run that ended before finishing it%s", victim,
                    report_tmp ? " (a report)" : "");
        n++;
    }
    closedir(d);
    return n;
}

unsigned ks_study_remove_stale(const char *dir)
{
    static const char *const subs[] = {"rrd", "facts", "state", "physical", "validation"};
    unsigned n = remove_stale_in(dir, NULL, true);
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        n += remove_stale_in(dir, subs[i], false);
    return n;
}
