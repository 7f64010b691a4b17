/* test_facts.c: the facts script run on this machine, and the parser on
 * kept outputs of real-looking servers (collector/tests/data/facts/NAME.txt)
 * checked value by value and against golden files (NAME.json).
 *
 *   REGENERATE=1 test_facts    rewrites the golden files and this-machine.txt
 *                              from the current parser and machine: review the
 *                              diff before keeping it.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "col_facts.h"
#include "col_proc.h"
#include "ks_buf.h"
#include "ks_json.h"
#include "ks_mem.h"
#include "ks_test.h"

static bool regenerate(void)
{
    const char *r = getenv("REGENERATE");
    return r && *r && strcmp(r, "0") != 0;
}

/* ------------------------------------------------------------------------ */
/* Schema: every key present with its type, whatever the input. */

static int schema_errors;

static void schema_fail(const char *what)
{
    fprintf(stderr, "%s: schema: %s\n", ks_test_current, what);
    schema_errors++;
}

/* K_ARR_OPT: an array, or absent (services_running: systemd only) */
enum kind {
    K_STR,
    K_STR_NULL,
    K_INT,
    K_INT_NULL,
    K_NUM_NULL,
    K_BOOL,
    K_BOOL_NULL,
    K_ARR,
    K_ARR_OPT,
    K_STR_OPT, /* a string, or absent */
    K_OBJ
};

static bool kind_ok(const json_t *v, enum kind k)
{
    switch (k) {
    case K_STR:
        return json_is_string(v);
    case K_STR_NULL:
        return json_is_string(v) || json_is_null(v);
    case K_INT:
        return json_is_integer(v);
    case K_INT_NULL:
        return json_is_integer(v) || json_is_null(v);
    case K_NUM_NULL:
        return json_is_number(v) || json_is_null(v);
    case K_BOOL:
        return json_is_boolean(v);
    case K_BOOL_NULL:
        return json_is_boolean(v) || json_is_null(v);
    case K_ARR:
        return json_is_array(v);
    case K_ARR_OPT:
        return !v || json_is_array(v);
    case K_STR_OPT:
        return !v || json_is_string(v);
    case K_OBJ:
        return json_is_object(v);
    }
    return false;
}

typedef struct field {
    const char *key;
    enum kind kind;
} field;

static void check_fields(const json_t *o, const char *where, const field *fields, size_t n)
{
    char msg[256];
    if (!json_is_object(o)) {
        snprintf(msg, sizeof msg, "%s is not an object", where);
        schema_fail(msg);
        return;
    }
    size_t want = n;
    for (size_t i = 0; i < n; i++)
        if ((fields[i].kind == K_ARR_OPT || fields[i].kind == K_STR_OPT) &&
            !json_object_get(o, fields[i].key))
            want--;
    if (json_object_size(o) != want) {
        snprintf(msg, sizeof msg, "%s has %zu keys, expected %zu", where, json_object_size(o),
                 want);
        schema_fail(msg);
    }
    for (size_t i = 0; i < n; i++) {
        if (!kind_ok(json_object_get(o, fields[i].key), fields[i].kind)) {
            snprintf(msg, sizeof msg, "%s.%s missing or of the wrong type", where, fields[i].key);
            schema_fail(msg);
        }
    }
}

#define CHECK_FIELDS(o, where, ...)                                                                \
    do {                                                                                           \
        static const field f_[] = {__VA_ARGS__};                                                   \
        check_fields((o), (where), f_, sizeof f_ / sizeof f_[0]);                                  \
    } while (0)

static void check_array_of(const json_t *arr, const char *where, const field *fields, size_t n)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) check_fields(e, where, fields, n);
}

#define CHECK_ARRAY(arr, where, ...)                                                               \
    do {                                                                                           \
        static const field f_[] = {__VA_ARGS__};                                                   \
        check_array_of((arr), (where), f_, sizeof f_ / sizeof f_[0]);                              \
    } while (0)

static bool schema_ok(const json_t *f)
{
    int before = schema_errors;
    CHECK_FIELDS(f, "facts", {"name", K_STR_NULL}, {"hostname", K_STR_NULL},
                 {"collected_at", K_STR_NULL}, {"os", K_OBJ}, {"cpu", K_OBJ}, {"memory", K_OBJ},
                 {"disks", K_ARR}, {"lvm", K_ARR}, {"filesystems", K_ARR}, {"nfs_mounts", K_ARR},
                 {"nics", K_ARR}, {"boot_mode", K_STR_NULL}, {"virtualization", K_STR_NULL},
                 {"listening", K_ARR}, {"services", K_ARR}, {"services_unknown", K_STR_OPT},
                 {"services_running", K_ARR_OPT}, {"services_failed", K_ARR_OPT},
                 {"hardware", K_OBJ}, {"virtualization_blockers", K_ARR});
    if (schema_errors != before)
        return false;
    CHECK_FIELDS(json_object_get(f, "os"), "os", {"id", K_STR_NULL}, {"version_id", K_STR_NULL},
                 {"pretty_name", K_STR_NULL}, {"kernel", K_STR_NULL}, {"arch", K_STR_NULL});
    CHECK_FIELDS(json_object_get(f, "cpu"), "cpu", {"model", K_STR_NULL}, {"vendor", K_STR_NULL},
                 {"sockets", K_INT_NULL}, {"cores", K_INT_NULL}, {"threads", K_INT_NULL},
                 {"mhz", K_NUM_NULL});
    CHECK_FIELDS(json_object_get(f, "memory"), "memory", {"total_bytes", K_INT_NULL});
    const json_t *disks = json_object_get(f, "disks");
    CHECK_ARRAY(disks, "disk", {"name", K_STR}, {"size_bytes", K_INT_NULL}, {"model", K_STR_NULL},
                {"rotational", K_BOOL_NULL}, {"transport", K_STR_NULL}, {"partitions", K_ARR});
    size_t i;
    json_t *e;
    json_array_foreach(disks, i, e)
    {
        CHECK_ARRAY(json_object_get(e, "partitions"), "partition", {"name", K_STR},
                    {"size_bytes", K_INT_NULL}, {"fstype", K_STR_NULL}, {"mountpoint", K_STR_NULL});
    }
    CHECK_ARRAY(json_object_get(f, "lvm"), "lvm", {"name", K_STR}, {"size_bytes", K_INT_NULL},
                {"fstype", K_STR_NULL}, {"mountpoint", K_STR_NULL});
    CHECK_ARRAY(json_object_get(f, "filesystems"), "filesystem", {"device", K_STR_NULL},
                {"type", K_STR_NULL}, {"mountpoint", K_STR_NULL}, {"size_bytes", K_INT_NULL},
                {"used_bytes", K_INT_NULL});
    CHECK_ARRAY(json_object_get(f, "nfs_mounts"), "nfs_mount", {"source", K_STR},
                {"type", K_STR_NULL}, {"mountpoint", K_STR});
    const json_t *nics = json_object_get(f, "nics");
    CHECK_ARRAY(nics, "nic", {"name", K_STR_NULL}, {"mac", K_STR_NULL}, {"speed_mbps", K_INT_NULL},
                {"state", K_STR_NULL}, {"physical", K_BOOL}, {"addresses", K_ARR},
                {"addresses_dynamic", K_ARR});
    json_array_foreach(nics, i, e)
    {
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(e, "addresses"), k, a)
        {
            if (!json_is_string(a))
                schema_fail("nic address is not a string");
        }
    }
    CHECK_ARRAY(json_object_get(f, "listening"), "listening", {"proto", K_STR}, {"address", K_STR},
                {"port", K_INT}, {"process", K_STR_NULL}, {"pid", K_INT_NULL});
    json_array_foreach(json_object_get(f, "services"), i, e)
    {
        if (!json_is_string(e))
            schema_fail("service is not a string");
    }
    const json_t *hw = json_object_get(f, "hardware");
    CHECK_FIELDS(hw, "hardware", {"usb", K_ARR}, {"fc_hbas", K_ARR}, {"gpus", K_ARR});
    CHECK_ARRAY(json_object_get(hw, "usb"), "usb", {"vendor_id", K_STR}, {"product_id", K_STR},
                {"manufacturer", K_STR_NULL}, {"product", K_STR_NULL}, {"dongle", K_BOOL});
    CHECK_ARRAY(json_object_get(hw, "fc_hbas"), "fc_hba", {"name", K_STR_NULL},
                {"port_name", K_STR_NULL});
    CHECK_ARRAY(json_object_get(hw, "gpus"), "gpu", {"slot", K_STR_NULL}, {"vendor_id", K_STR},
                {"device_id", K_STR});
    json_array_foreach(json_object_get(f, "virtualization_blockers"), i, e)
    {
        if (!json_is_string(e))
            schema_fail("blocker is not a string");
    }
    const char *boot = json_string_value(json_object_get(f, "boot_mode"));
    if (boot && strcmp(boot, "uefi") != 0 && strcmp(boot, "bios") != 0)
        schema_fail("boot_mode is neither uefi nor bios");
    /* everything must serialize (valid UTF-8) */
    char *text = json_dumps(f, 0);
    if (!text)
        schema_fail("facts do not serialize");
    free(text);
    return schema_errors == before;
}

/* ------------------------------------------------------------------------ */
/* Access by path: "cpu.cores", "disks.0.partitions.1.name". */

static const json_t *at(const json_t *j, const char *path)
{
    const char *p = path;
    while (j && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        if (json_is_array(j)) {
            char *end;
            unsigned long idx = strtoul(key, &end, 10);
            j = *end ? NULL : json_array_get(j, idx);
        } else {
            j = json_object_get(j, key);
        }
        p += n + (dot != NULL);
    }
    return j;
}

static const char *at_str(const json_t *j, const char *path)
{
    return json_string_value(at(j, path));
}

static long long at_int(const json_t *j, const char *path)
{
    const json_t *v = at(j, path);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -12345;
}

static double at_num(const json_t *j, const char *path)
{
    const json_t *v = at(j, path);
    return json_is_number(v) ? json_number_value(v) : -12345.0;
}

static size_t at_len(const json_t *j, const char *path)
{
    const json_t *v = at(j, path);
    return json_is_array(v) ? json_array_size(v) : 999999;
}

static bool at_null(const json_t *j, const char *path)
{
    return json_is_null(at(j, path));
}

static bool at_true(const json_t *j, const char *path)
{
    return json_is_true(at(j, path));
}

static bool at_false(const json_t *j, const char *path)
{
    return json_is_false(at(j, path));
}

static bool has_string(const json_t *arr, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Corpus files and golden files. */

static json_t *parse_text(const char *text, size_t len, const char *name)
{
    ks_error err;
    ks_error_clear(&err);
    json_t *f = col_facts_parse(text, len, name, &err);
    if (!f)
        fprintf(stderr, "%s: parse failed: %s\n", ks_test_current, err.message);
    return f;
}

/* Compare facts with facts/<base>.json (rewritten under REGENERATE=1). */
static bool golden_ok(const json_t *f, const char *base)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/facts/%s.json", KS_TEST_DATA, base);
    ks_error err;
    ks_error_clear(&err);
    if (regenerate()) {
        if (ks_json_write_file(path, f, &err) < 0) {
            fprintf(stderr, "%s: %s\n", ks_test_current, err.message);
            return false;
        }
        return true;
    }
    json_t *want = ks_json_read_file(path, &err);
    if (!want) {
        fprintf(stderr, "%s: %s (run with REGENERATE=1 to create it)\n", ks_test_current,
                err.message);
        return false;
    }
    bool same = json_equal(want, (json_t *)f);
    if (!same) {
        char *got = json_dumps(f, JSON_INDENT(2));
        fprintf(stderr, "%s: facts differ from %s; got:\n%s\n", ks_test_current, path, got);
        free(got);
    }
    json_decref(want);
    return same;
}

/* Parse facts/<base>.txt, check the schema and the golden file. */
static json_t *corpus(const char *base, const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "facts/%s.txt", base);
    size_t len;
    char *text = ks_test_read(rel, &len);
    json_t *f = parse_text(text, len, name);
    free(text);
    KS_CHECK(f != NULL);
    if (f) {
        KS_CHECK(schema_ok(f));
        KS_CHECK(golden_ok(f, base));
    }
    return f;
}

/* ------------------------------------------------------------------------ */
/* Running the script here, through a shell reading it on stdin as the
 * collector's persistent shell does. */

static char *run_script(const char *const argv[], size_t *len)
{
    int in[2], out[2];
    if (pipe(in) < 0 || pipe(out) < 0)
        return NULL;
    pid_t pid = fork();
    if (pid < 0)
        return NULL;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    signal(SIGPIPE, SIG_IGN);
    /* the whole script fits in the pipe buffer; stdin stays open after it,
     * so a probe that read stdin would hang and fail the timeout below */
    const char *p = col_facts_command;
    size_t left = strlen(col_facts_command);
    while (left > 0) {
        ssize_t w = write(in[1], p, left);
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    ks_buf b;
    ks_buf_init(&b, 64 << 20);
    bool done = false;
    time_t deadline = time(NULL) + 180;
    while (!done && time(NULL) < deadline) {
        struct pollfd pfd = {out[0], POLLIN, 0};
        if (poll(&pfd, 1, 1000) <= 0)
            continue;
        char chunk[65536];
        ssize_t r = read(out[0], chunk, sizeof chunk);
        if (r <= 0)
            break;
        ks_buf_append(&b, chunk, (size_t)r);
        const char *s = ks_buf_str(&b);
        const char *m = strstr(s, "\n" COL_END_MARKER "\n");
        done = m || strncmp(s, COL_END_MARKER "\n", sizeof COL_END_MARKER) == 0;
    }
    close(in[1]);
    close(out[0]);
    if (!done)
        kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    if (!done) {
        fprintf(stderr, "%s: no '%s' from %s within 180 s; output so far:\n%s\n", ks_test_current,
                COL_END_MARKER, argv[0], ks_buf_str(&b));
        ks_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return ks_buf_steal(&b);
}

static uint64_t local_memtotal(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return (uint64_t)kb * 1024;
}

/* Type of the file system mounted on "/", from /proc/self/mounts. */
static void root_fstype(char *out, size_t outlen)
{
    FILE *f = fopen("/proc/self/mounts", "r");
    char line[1024], dev[512], mnt[512], type[64];
    snprintf(out, outlen, "?");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%511s %511s %63s", dev, mnt, type) == 3 && strcmp(mnt, "/") == 0)
            snprintf(out, outlen, "%s", type);
    if (f)
        fclose(f);
}

static void check_live(const char *shell, const char *const argv[], bool save)
{
    size_t len = 0;
    char *text = run_script(argv, &len);
    KS_CHECK(text != NULL);
    if (!text)
        return;
    if (save && regenerate()) {
        char path[4096];
        snprintf(path, sizeof path, "%s/facts/this-machine.txt", KS_TEST_DATA);
        FILE *o = fopen(path, "wb");
        KS_CHECK(o && fwrite(text, 1, len, o) == len);
        if (o)
            fclose(o);
    }
    /* every section the script prints on a Linux box with its usual tools */
    static const char *const always[] = {"hostname", "date",        "uname",  "cpuinfo",
                                         "meminfo",  "nics",        "boot",   "usb",
                                         "fc",       "pci-display", "mounts", "ip-addr"};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++) {
        char h[64];
        snprintf(h, sizeof h, "\n@@KS %s\n", always[i]);
        if (!strstr(text, h))
            fprintf(stderr, "%s: %s: no section '%s'\n", ks_test_current, shell, always[i]);
        KS_CHECK(strstr(text, h) != NULL);
    }

    json_t *f = parse_text(text, len, "localhost");
    free(text);
    KS_CHECK(f != NULL);
    if (!f)
        return;
    KS_CHECK(schema_ok(f));

    struct utsname u;
    uname(&u);
    KS_CHECK_STR(at_str(f, "os.kernel"), u.release);
    KS_CHECK_STR(at_str(f, "os.arch"), u.machine);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    KS_CHECK_STR(at_str(f, "hostname"), host);
    KS_CHECK_STR(at_str(f, "name"), "localhost");

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    KS_CHECK(at_int(f, "cpu.threads") == ncpu);
    KS_CHECK(at_int(f, "cpu.cores") >= 1 && at_int(f, "cpu.cores") <= ncpu);
    KS_CHECK(at_int(f, "cpu.sockets") >= 1 && at_int(f, "cpu.sockets") <= at_int(f, "cpu.cores"));
    KS_CHECK(at_int(f, "memory.total_bytes") == (long long)local_memtotal());
    KS_CHECK(local_memtotal() > 0);
    if (at_null(f, "cpu.mhz"))
        KS_CHECK(col_facts_cpu_capacity_mhz(f) == 0);
    else
        KS_CHECK_NEAR(col_facts_cpu_capacity_mhz(f),
                      (double)at_int(f, "cpu.cores") * at_num(f, "cpu.mhz"), 1e-6);

    /* "/" is a real file system unless this runs in a container */
    char rootfs[64];
    root_fstype(rootfs, sizeof rootfs);
    if (strcmp(rootfs, "overlay") == 0 || strcmp(rootfs, "tmpfs") == 0) {
        fprintf(stderr, "%s: '/' is %s here (a container): not looking for it\n", ks_test_current,
                rootfs);
    } else {
        bool root = false;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(f, "filesystems"), i, e)
        {
            const char *m = json_string_value(json_object_get(e, "mountpoint"));
            root = root || (m && strcmp(m, "/") == 0);
        }
        KS_CHECK(root);
    }

    struct stat st;
    bool efi = stat("/sys/firmware/efi", &st) == 0;
    KS_CHECK_STR(at_str(f, "boot_mode"), efi ? "uefi" : "bios");
    KS_CHECK(at_str(f, "virtualization") != NULL);

    /* every interface of /sys/class/net but lo, physical iff it has a device */
    DIR *d = opendir("/sys/class/net");
    size_t seen = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "lo") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "/sys/class/net/%s", de->d_name);
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        seen++;
        snprintf(path, sizeof path, "/sys/class/net/%s/device", de->d_name);
        bool phys = stat(path, &st) == 0;
        bool found = false;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(f, "nics"), i, e)
        {
            const char *n = json_string_value(json_object_get(e, "name"));
            if (n && strcmp(n, de->d_name) == 0) {
                found = true;
                KS_CHECK(json_is_true(json_object_get(e, "physical")) == phys);
            }
        }
        KS_CHECK(found);
    }
    if (d)
        closedir(d);
    KS_CHECK(at_len(f, "nics") == seen);

    /* the date is the server's UTC clock, now */
    const char *when = at_str(f, "collected_at");
    KS_CHECK(when != NULL);
    struct tm tm = {0};
    if (when && sscanf(when, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                       &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        double skew = difftime(time(NULL), timegm(&tm));
        KS_CHECK(skew > -5 && skew < 300);
    }
    json_decref(f);
}

KS_TEST(test_live_machine)
{
    static const char *const sh[] = {"/bin/sh", NULL};
    check_live("/bin/sh", sh, true);
}

/* RHEL and SUSE have bash as /bin/sh, Debian and Ubuntu dash. */
KS_TEST(test_live_machine_bash)
{
    static const char *const bash[] = {"/bin/bash", "--posix", NULL};
    static const char *const dash[] = {"/bin/dash", NULL};
    struct stat st;
    if (stat(bash[0], &st) == 0)
        check_live("bash --posix", bash, false);
    else
        fprintf(stderr, "%s: skipped: no %s\n", ks_test_current, bash[0]);
    if (stat(dash[0], &st) == 0)
        check_live("dash", dash, false);
}

KS_TEST(test_script_text)
{
    size_t n = strlen(col_facts_command);
    KS_CHECK(n > 0 && col_facts_command[n - 1] == '\n');
    KS_CHECK(strstr(col_facts_command, COL_END_MARKER) != NULL);
    /* only reads: the few commands that could change something never appear */
    static const char *const never[] = {" rm ",      "mkfs",     " dd ",
                                        "> /",       ">/etc",    "shutdown",
                                        "reboot",    "modprobe", "systemctl start",
                                        "sysctl -w", "\r"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        KS_CHECK(strstr(col_facts_command, never[i]) == NULL);
}

/* The kept output of this machine (REGENERATE=1 refreshes it). */
KS_TEST(test_this_machine_corpus)
{
    json_t *f = corpus("this-machine", "vm");
    if (!f)
        return;
    KS_CHECK(at_int(f, "cpu.threads") >= 1);
    KS_CHECK(at_len(f, "filesystems") >= 1);
    KS_CHECK(at_str(f, "os.kernel") != NULL);
    json_decref(f);
}

/* Dell R720, RHEL 8.9, 2 x Xeon E5-2670 with Hyper-Threading, lsblk 2.32
 * (every JSON value a string), bonded NICs, Oracle listener. */
KS_TEST(test_xeon_two_sockets)
{
    json_t *f = corpus("xeon-2s-rhel8", "ora-prod-01");
    if (!f)
        return;
    KS_CHECK_STR(at_str(f, "name"), "ora-prod-01");
    KS_CHECK_STR(at_str(f, "hostname"), "ora-prod-01.example.com");
    KS_CHECK_STR(at_str(f, "collected_at"), "2024-03-14T09:26:53Z");
    KS_CHECK_STR(at_str(f, "os.id"), "rhel");
    KS_CHECK_STR(at_str(f, "os.version_id"), "8.9");
    KS_CHECK_STR(at_str(f, "os.pretty_name"), "Red Hat Enterprise Linux 8.9 (Ootpa)");
    KS_CHECK_STR(at_str(f, "os.kernel"), "4.18.0-513.5.1.el8_9.x86_64");
    KS_CHECK_STR(at_str(f, "os.arch"), "x86_64");

    KS_CHECK_STR(at_str(f, "cpu.model"), "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz");
    KS_CHECK_STR(at_str(f, "cpu.vendor"), "Intel");
    KS_CHECK(at_int(f, "cpu.sockets") == 2);
    KS_CHECK(at_int(f, "cpu.cores") == 16);
    KS_CHECK(at_int(f, "cpu.threads") == 32);
    /* from the model name, not the turbo cpufreq max (3.3 GHz) nor cpu MHz */
    KS_CHECK_NEAR(at_num(f, "cpu.mhz"), 2600, 1e-9);
    KS_CHECK_NEAR(col_facts_cpu_capacity_mhz(f), 16 * 2600, 1e-6);
    KS_CHECK(at_int(f, "memory.total_bytes") == 131843824LL * 1024);

    KS_CHECK(at_len(f, "disks") == 1); /* sr0 (rom) left out */
    KS_CHECK_STR(at_str(f, "disks.0.name"), "sda");
    KS_CHECK_STR(at_str(f, "disks.0.model"), "PERC H710"); /* padding trimmed */
    KS_CHECK(at_int(f, "disks.0.size_bytes") == 598879502336LL);
    KS_CHECK(at_true(f, "disks.0.rotational"));
    KS_CHECK(at_null(f, "disks.0.transport"));
    KS_CHECK(at_len(f, "disks.0.partitions") == 3);
    KS_CHECK_STR(at_str(f, "disks.0.partitions.0.mountpoint"), "/boot/efi");
    KS_CHECK_STR(at_str(f, "disks.0.partitions.2.fstype"), "LVM2_member");
    KS_CHECK(at_null(f, "disks.0.partitions.2.mountpoint"));
    KS_CHECK(at_len(f, "lvm") == 3);
    KS_CHECK_STR(at_str(f, "lvm.0.name"), "rhel-root");
    KS_CHECK_STR(at_str(f, "lvm.0.mountpoint"), "/");
    KS_CHECK(at_int(f, "lvm.2.size_bytes") == 513553137664LL);

    /* tmpfs and devtmpfs are left out */
    KS_CHECK(at_len(f, "filesystems") == 4);
    KS_CHECK_STR(at_str(f, "filesystems.0.device"), "/dev/mapper/rhel-root");
    KS_CHECK_STR(at_str(f, "filesystems.0.type"), "xfs");
    KS_CHECK(at_int(f, "filesystems.0.size_bytes") == 75125227520LL);
    KS_CHECK(at_int(f, "filesystems.0.used_bytes") == 21876391936LL);
    KS_CHECK(at_len(f, "nfs_mounts") == 0);

    KS_CHECK(at_len(f, "nics") == 5); /* lo left out */
    KS_CHECK_STR(at_str(f, "nics.0.name"), "bond0");
    KS_CHECK(at_false(f, "nics.0.physical"));
    KS_CHECK(at_int(f, "nics.0.speed_mbps") == 2000);
    KS_CHECK(at_len(f, "nics.0.addresses") == 2); /* link-local left out */
    KS_CHECK_STR(at_str(f, "nics.0.addresses.1"), "10.20.30.45/24");
    KS_CHECK_STR(at_str(f, "nics.1.mac"), "b8:2a:72:dc:41:10");
    KS_CHECK(at_int(f, "nics.1.speed_mbps") == 1000);
    KS_CHECK(at_null(f, "nics.3.speed_mbps")); /* unreadable when down */
    KS_CHECK(at_null(f, "nics.4.speed_mbps")); /* -1 */
    KS_CHECK_STR(at_str(f, "nics.4.state"), "down");
    const char **names;
    size_t n = col_facts_physical_nics(f, &names);
    KS_CHECK(n == 4);
    if (n == 4) {
        KS_CHECK_STR(names[0], "eno1");
        KS_CHECK_STR(names[3], "eno4");
    }
    free(names);

    KS_CHECK_STR(at_str(f, "boot_mode"), "uefi");
    KS_CHECK_STR(at_str(f, "virtualization"), "none");
    KS_CHECK(at_len(f, "listening") == 7);
    KS_CHECK_STR(at_str(f, "listening.0.proto"), "tcp");
    KS_CHECK_STR(at_str(f, "listening.0.address"), "0.0.0.0");
    KS_CHECK(at_int(f, "listening.0.port") == 111);
    KS_CHECK_STR(at_str(f, "listening.0.process"), "rpcbind");
    KS_CHECK(at_int(f, "listening.0.pid") == 1021);
    KS_CHECK_STR(at_str(f, "listening.3.address"), "*");
    KS_CHECK(at_int(f, "listening.3.port") == 1521);
    KS_CHECK_STR(at_str(f, "listening.3.process"), "tnslsnr");
    KS_CHECK_STR(at_str(f, "listening.5.address"), "::");
    KS_CHECK_STR(at_str(f, "listening.6.address"), "::1");
    KS_CHECK(at_len(f, "services") == 17);
    KS_CHECK(has_string(at(f, "services"), "sshd.service"));
    KS_CHECK(has_string(at(f, "services"), "oracle-ohasd.service"));
    KS_CHECK(has_string(at(f, "services"), "getty@.service"));

    /* hubs and root hubs left out, the iDRAC keyboard kept; Matrox VGA is
     * no GPU */
    KS_CHECK(at_len(f, "hardware.usb") == 1);
    KS_CHECK_STR(at_str(f, "hardware.usb.0.vendor_id"), "0624");
    KS_CHECK_STR(at_str(f, "hardware.usb.0.manufacturer"), "Avocent");
    KS_CHECK(at_false(f, "hardware.usb.0.dongle"));
    KS_CHECK(at_len(f, "hardware.gpus") == 0);
    KS_CHECK(at_len(f, "hardware.fc_hbas") == 0);
    KS_CHECK(at_len(f, "virtualization_blockers") == 0);
    json_decref(f);
}

/* Ampere Altra (Neoverse-N1), Ubuntu 22.04: ARM cpuinfo has no model name,
 * no physical id, no MHz. */
KS_TEST(test_arm)
{
    json_t *f = corpus("arm-altra-ubuntu", "build-arm-07");
    if (!f)
        return;
    KS_CHECK_STR(at_str(f, "os.arch"), "aarch64");
    KS_CHECK_STR(at_str(f, "os.id"), "ubuntu");
    KS_CHECK_STR(at_str(f, "os.version_id"), "22.04");
    KS_CHECK_STR(at_str(f, "cpu.model"), "ARM Neoverse-N1");
    KS_CHECK_STR(at_str(f, "cpu.vendor"), "ARM");
    KS_CHECK(at_int(f, "cpu.sockets") == 1);
    KS_CHECK(at_int(f, "cpu.cores") == 32);
    KS_CHECK(at_int(f, "cpu.threads") == 32);
    KS_CHECK_NEAR(at_num(f, "cpu.mhz"), 1700, 1e-9); /* cpuinfo_max_freq */
    KS_CHECK_NEAR(col_facts_cpu_capacity_mhz(f), 32 * 1700, 1e-6);

    KS_CHECK(at_len(f, "disks") == 1); /* loop devices left out */
    KS_CHECK_STR(at_str(f, "disks.0.name"), "nvme0n1");
    KS_CHECK_STR(at_str(f, "disks.0.transport"), "nvme");
    KS_CHECK(at_false(f, "disks.0.rotational"));
    KS_CHECK(at_len(f, "disks.0.partitions") == 2);
    KS_CHECK(at_int(f, "disks.0.partitions.1.size_bytes") == 959067799552LL);
    KS_CHECK(at_len(f, "filesystems") == 2); /* squashfs snaps left out */
    KS_CHECK_STR(at_str(f, "filesystems.1.mountpoint"), "/boot/efi");

    KS_CHECK(at_len(f, "nics") == 3);
    KS_CHECK_STR(at_str(f, "nics.1.name"), "enP2p1s0f0");
    KS_CHECK(at_int(f, "nics.1.speed_mbps") == 25000);
    KS_CHECK(at_len(f, "nics.1.addresses") == 2);
    KS_CHECK_STR(at_str(f, "nics.1.addresses.1"), "2001:db8:8::21/64");
    const char **names;
    KS_CHECK(col_facts_physical_nics(f, &names) == 2);
    free(names);

    KS_CHECK_STR(at_str(f, "listening.0.address"), "127.0.0.53"); /* "%lo" cut */
    KS_CHECK(at_int(f, "listening.0.port") == 53);
    KS_CHECK_STR(at_str(f, "listening.0.process"), "systemd-resolve");
    KS_CHECK(at_len(f, "services") == 15);
    KS_CHECK(at_len(f, "hardware.usb") == 0);
    KS_CHECK(at_len(f, "hardware.gpus") == 0); /* ASPEED BMC */
    KS_CHECK(at_len(f, "virtualization_blockers") == 0);
    json_decref(f);
}

/* Supermicro CAD licence server: a HASP dongle, a FC HBA with a
 * multipathed LUN, an NVIDIA T4 and the ASPEED BMC VGA. */
KS_TEST(test_blockers)
{
    json_t *f = corpus("blockers-dongle-fc-gpu", "cad-lic01");
    if (!f)
        return;
    KS_CHECK(at_int(f, "cpu.sockets") == 1);
    KS_CHECK(at_int(f, "cpu.cores") == 12);
    KS_CHECK(at_int(f, "cpu.threads") == 24);
    KS_CHECK_NEAR(at_num(f, "cpu.mhz"), 2200, 1e-9);

    KS_CHECK(at_len(f, "hardware.usb") == 2);
    KS_CHECK_STR(at_str(f, "hardware.usb.0.vendor_id"), "0529");
    KS_CHECK_STR(at_str(f, "hardware.usb.0.product_id"), "0001");
    KS_CHECK_STR(at_str(f, "hardware.usb.0.product"), "Sentinel HL");
    KS_CHECK(at_true(f, "hardware.usb.0.dongle"));
    KS_CHECK(at_false(f, "hardware.usb.1.dongle"));
    KS_CHECK(at_len(f, "hardware.fc_hbas") == 1);
    KS_CHECK_STR(at_str(f, "hardware.fc_hbas.0.name"), "host3");
    KS_CHECK_STR(at_str(f, "hardware.fc_hbas.0.port_name"), "0x21000024ff000001");
    KS_CHECK(at_len(f, "hardware.gpus") == 1);
    KS_CHECK_STR(at_str(f, "hardware.gpus.0.slot"), "0000:3b:00.0");
    KS_CHECK_STR(at_str(f, "hardware.gpus.0.vendor_id"), "10de");
    KS_CHECK_STR(at_str(f, "hardware.gpus.0.device_id"), "1eb8");

    const json_t *b = at(f, "virtualization_blockers");
    KS_CHECK(json_array_size(b) == 3);
    KS_CHECK_STR(at_str(f, "virtualization_blockers.0"),
                 "USB licence dongle 0529:0001 (SafeNet HASP): needs USB passthrough or a "
                 "network dongle server");
    KS_CHECK_STR(at_str(f, "virtualization_blockers.1"),
                 "Fibre Channel HBA host3 (port 0x21000024ff000001): SAN storage must be "
                 "re-presented to the hypervisor");
    KS_CHECK_STR(at_str(f, "virtualization_blockers.2"),
                 "GPU 10de:1eb8 in slot 0000:3b:00.0: needs PCI passthrough");
    size_t i;
    json_t *e;
    json_array_foreach(b, i, e)
    {
        KS_CHECK(strstr(json_string_value(e), "1a03") == NULL);
        KS_CHECK(strstr(json_string_value(e), "0000:03:00.0") == NULL);
    }

    /* the LUN seen through two FC paths (sdb, sdc) is one disk, mpatha */
    KS_CHECK(at_len(f, "disks") == 2);
    KS_CHECK_STR(at_str(f, "disks.0.name"), "sda");
    KS_CHECK_STR(at_str(f, "disks.0.transport"), "sata");
    KS_CHECK_STR(at_str(f, "disks.1.name"), "mpatha");
    KS_CHECK_STR(at_str(f, "disks.1.transport"), "fc");
    KS_CHECK_STR(at_str(f, "disks.1.model"), "VRAID");
    KS_CHECK(at_int(f, "disks.1.size_bytes") == 2199023255552LL);
    KS_CHECK(at_len(f, "disks.1.partitions") == 1);
    KS_CHECK_STR(at_str(f, "disks.1.partitions.0.mountpoint"), "/srv/cad");
    KS_CHECK_STR(at_str(f, "listening.1.process"), "hasplmd");
    KS_CHECK(at_int(f, "listening.1.port") == 1947);
    json_decref(f);
}

/* HPE DL360, CentOS 7: lsblk without -J (util-linux 2.23, pairs output),
 * a volume group over two disks, NFS and CIFS mounts, ss without -H. */
KS_TEST(test_lvm_nfs)
{
    json_t *f = corpus("lvm-nfs-centos7", "filesrv02");
    if (!f)
        return;
    KS_CHECK_STR(at_str(f, "os.id"), "centos");
    KS_CHECK_STR(at_str(f, "os.version_id"), "7");
    KS_CHECK(at_int(f, "cpu.sockets") == 1);
    KS_CHECK(at_int(f, "cpu.cores") == 8);
    KS_CHECK(at_int(f, "cpu.threads") == 8);
    KS_CHECK_NEAR(col_facts_cpu_capacity_mhz(f), 8 * 2100, 1e-6);

    KS_CHECK(at_len(f, "disks") == 3);
    KS_CHECK_STR(at_str(f, "disks.0.model"), "LOGICAL VOLUME");
    KS_CHECK_STR(at_str(f, "disks.0.transport"), "sas");
    KS_CHECK(at_len(f, "disks.0.partitions") == 2);
    KS_CHECK_STR(at_str(f, "disks.0.partitions.0.fstype"), "xfs");
    KS_CHECK_STR(at_str(f, "disks.0.partitions.0.mountpoint"), "/boot");
    KS_CHECK(at_len(f, "disks.1.partitions") == 0); /* whole-disk PV */

    /* the LV spanning sdb and sdc is listed once */
    KS_CHECK(at_len(f, "lvm") == 4);
    KS_CHECK_STR(at_str(f, "lvm.3.name"), "vg_data-lv_shared");
    KS_CHECK_STR(at_str(f, "lvm.3.mountpoint"), "/srv/shared data"); /* \x20 */
    KS_CHECK(at_int(f, "lvm.3.size_bytes") == 2199023255552LL);
    KS_CHECK_STR(at_str(f, "lvm.1.mountpoint"), "[SWAP]");

    KS_CHECK(at_len(f, "filesystems") == 4);
    KS_CHECK_STR(at_str(f, "filesystems.3.mountpoint"), "/srv/shared data");
    KS_CHECK(at_len(f, "nfs_mounts") == 3);
    KS_CHECK_STR(at_str(f, "nfs_mounts.0.source"), "nas01.example.com:/export/home");
    KS_CHECK_STR(at_str(f, "nfs_mounts.0.type"), "nfs4");
    KS_CHECK_STR(at_str(f, "nfs_mounts.0.mountpoint"), "/home");
    KS_CHECK_STR(at_str(f, "nfs_mounts.1.type"), "nfs");
    KS_CHECK_STR(at_str(f, "nfs_mounts.2.type"), "cifs");
    KS_CHECK_STR(at_str(f, "nfs_mounts.2.mountpoint"), "/mnt/scan share"); /* \040 */

    /* old ss: a header line, "*:22" and ":::22" */
    KS_CHECK(at_len(f, "listening") == 7);
    KS_CHECK_STR(at_str(f, "listening.1.address"), "*");
    KS_CHECK(at_int(f, "listening.1.port") == 22);
    KS_CHECK_STR(at_str(f, "listening.5.address"), "::");
    KS_CHECK(at_int(f, "listening.5.port") == 22);
    KS_CHECK(at_int(f, "listening.5.pid") == 1187);
    KS_CHECK_STR(at_str(f, "listening.6.address"), "::1");
    KS_CHECK(at_len(f, "services") == 12);
    KS_CHECK(has_string(at(f, "services"), "smb.service"));
    KS_CHECK_STR(at_str(f, "boot_mode"), "bios");
    KS_CHECK(at_len(f, "virtualization_blockers") == 0);
    json_decref(f);
}

/* systemd runs but its systemctl gave nothing in time (a loaded server):
 * the script says so instead of reading the SysV links, and the facts say
 * the enabled services are not known. */
KS_TEST(test_systemctl_failed)
{
    size_t len;
    char *text = ks_test_read("facts/lvm-nfs-centos7.txt", &len);
    char *a = strstr(text, "\n@@KS systemctl\n");
    KS_CHECK(a != NULL);
    if (!a) {
        free(text);
        return;
    }
    char *b = strstr(a + 1, "\n@@KS ");
    KS_CHECK(b != NULL);
    char *cut = ks_asprintf("%.*s\n@@KS systemctl-failed%s", (int)(a - text), text, b);
    json_t *f = parse_text(cut, strlen(cut), "filesrv02");
    KS_CHECK(f != NULL);
    if (f) {
        KS_CHECK(schema_ok(f));
        KS_CHECK(at_len(f, "services") == 0);
        KS_CHECK_STR(at_str(f, "services_unknown"),
                     "systemctl list-unit-files gave nothing within 40 s");
    }
    json_t *g = corpus("lvm-nfs-centos7", "filesrv02");
    KS_CHECK(g && !json_object_get(g, "services_unknown"));
    json_decref(g);
    json_decref(f);
    free(cut);
    free(text);
}

/* HP DL380 G5, CentOS 5.11: no os-release, lsblk, ss, systemctl nor
 * systemd-detect-virt; the script falls back to /proc and /etc. */
KS_TEST(test_old_server_fallbacks)
{
    json_t *f = corpus("old-centos5", "erp-db");
    if (!f)
        return;
    KS_CHECK_STR(at_str(f, "os.id"), "centos");
    KS_CHECK_STR(at_str(f, "os.version_id"), "5.11");
    KS_CHECK_STR(at_str(f, "os.pretty_name"), "CentOS release 5.11 (Final)");
    KS_CHECK_STR(at_str(f, "os.kernel"), "2.6.18-419.el5");

    /* sockets numbered 0 and 3 by the firmware; blanks in the model name */
    KS_CHECK_STR(at_str(f, "cpu.model"), "Intel(R) Xeon(R) CPU E5345 @ 2.33GHz");
    KS_CHECK(at_int(f, "cpu.sockets") == 2);
    KS_CHECK(at_int(f, "cpu.cores") == 8);
    KS_CHECK(at_int(f, "cpu.threads") == 8);
    KS_CHECK_NEAR(at_num(f, "cpu.mhz"), 2330, 1e-9);

    /* /proc/partitions */
    KS_CHECK(at_len(f, "disks") == 2);
    KS_CHECK_STR(at_str(f, "disks.0.name"), "cciss/c0d0");
    KS_CHECK(at_int(f, "disks.0.size_bytes") == 143338560LL * 1024);
    KS_CHECK(at_null(f, "disks.0.rotational"));
    KS_CHECK(at_null(f, "disks.0.model"));
    KS_CHECK(at_len(f, "disks.0.partitions") == 2);
    KS_CHECK_STR(at_str(f, "disks.0.partitions.1.name"), "cciss/c0d0p2");
    KS_CHECK(at_len(f, "disks.1.partitions") == 1);
    KS_CHECK(at_len(f, "lvm") == 3);
    KS_CHECK_STR(at_str(f, "lvm.0.name"), "dm-0");
    KS_CHECK(at_len(f, "nfs_mounts") == 1);

    /* /sys/class/net/X/speed did not exist yet */
    KS_CHECK(at_len(f, "nics") == 3);
    KS_CHECK(at_null(f, "nics.0.speed_mbps"));
    KS_CHECK_STR(at_str(f, "nics.0.addresses.1"), "10.1.20.16/24");
    KS_CHECK(at_false(f, "nics.2.physical")); /* sit0 */

    /* DMI says HP ProLiant: not a VM */
    KS_CHECK_STR(at_str(f, "virtualization"), "none");

    /* /proc/net/tcp and tcp6, LISTEN rows only, no process */
    KS_CHECK(at_len(f, "listening") == 6);
    KS_CHECK_STR(at_str(f, "listening.0.address"), "0.0.0.0");
    KS_CHECK(at_int(f, "listening.0.port") == 3306);
    KS_CHECK(at_null(f, "listening.0.process"));
    KS_CHECK(at_null(f, "listening.0.pid"));
    KS_CHECK_STR(at_str(f, "listening.3.address"), "127.0.0.1");
    KS_CHECK(at_int(f, "listening.3.port") == 25);
    KS_CHECK_STR(at_str(f, "listening.4.address"), "::");
    KS_CHECK(at_int(f, "listening.4.port") == 22);
    KS_CHECK_STR(at_str(f, "listening.5.address"), "::1");

    /* /etc/rc[2-5].d/S*, each name once, named as systemd would */
    KS_CHECK(at_len(f, "services") == 9);
    KS_CHECK_STR(at_str(f, "services.0"), "iptables.service");
    KS_CHECK(has_string(at(f, "services"), "mysqld.service"));
    KS_CHECK(has_string(at(f, "services"), "portmap.service"));

    /* root hubs of old kernels have vendor 0000; ES1000 VGA is no GPU */
    KS_CHECK(at_len(f, "hardware.usb") == 1);
    KS_CHECK_STR(at_str(f, "hardware.usb.0.product"), "Virtual Keyboard");
    KS_CHECK(at_len(f, "hardware.gpus") == 0);
    KS_CHECK(at_len(f, "virtualization_blockers") == 0);
    json_decref(f);
}

/* Output cut in the middle of the lsblk JSON (connection lost). */
KS_TEST(test_truncated)
{
    json_t *f = corpus("truncated", "cad-lic01");
    if (!f)
        return;
    KS_CHECK_STR(at_str(f, "hostname"), "cad-lic01");
    KS_CHECK(at_int(f, "cpu.threads") == 24);
    KS_CHECK(at_int(f, "memory.total_bytes") == 131548400LL * 1024);
    KS_CHECK(at_len(f, "disks") == 0);
    KS_CHECK(at_len(f, "filesystems") == 0);
    KS_CHECK(at_len(f, "services") == 0);
    KS_CHECK(at_null(f, "boot_mode"));
    KS_CHECK(at_null(f, "virtualization"));
    KS_CHECK(at_len(f, "virtualization_blockers") == 0);
    json_decref(f);

    /* cut inside cpuinfo, in the middle of a line */
    size_t len;
    char *text = ks_test_read("facts/xeon-2s-rhel8.txt", &len);
    const char *cut = strstr(text, "processor\t: 5\n");
    KS_CHECK(cut != NULL);
    if (cut) {
        f = parse_text(text, (size_t)(cut - text) + 20, "ora-prod-01");
        KS_CHECK(f && schema_ok(f));
        KS_CHECK(at_int(f, "cpu.threads") == 6);
        KS_CHECK(at_int(f, "cpu.sockets") == 1);
        KS_CHECK(at_null(f, "memory.total_bytes"));
        KS_CHECK(at_len(f, "nics") == 0);
        json_decref(f);
    }
    /* every prefix of a real output parses to well-formed facts */
    for (size_t n = 1; n < len; n += 97) {
        ks_error err;
        ks_error_clear(&err);
        f = col_facts_parse(text, n, "p", &err);
        if (f) {
            KS_CHECK(schema_ok(f));
            json_decref(f);
        } else {
            KS_CHECK(err.code == KS_E_PARSE);
        }
    }
    free(text);
}

KS_TEST(test_not_script_output)
{
    ks_error err;
    ks_error_clear(&err);
    KS_CHECK(col_facts_parse("", 0, "web01", &err) == NULL);
    KS_CHECK(err.code == KS_E_PARSE);
    KS_CHECK(strstr(err.message, "'web01'") != NULL);

    static const char banner[] = "This account is currently not available.\n";
    ks_error_clear(&err);
    KS_CHECK(col_facts_parse(banner, sizeof banner - 1, "web01", &err) == NULL);
    KS_CHECK(err.code == KS_E_PARSE);
    KS_CHECK(strstr(err.message, "'web01'") != NULL);
    KS_CHECK(strstr(err.message, "This account is currently not available.") != NULL);
    KS_CHECK(strstr(err.message, "POSIX sh") != NULL);

    /* binary noise without a section, quoted printable and short */
    char noise[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof noise; i++) {
        x = x * 1103515245u + 12345u;
        noise[i] = (char)(x >> 16);
        if (noise[i] == '@')
            noise[i] = 'A';
    }
    ks_error_clear(&err);
    KS_CHECK(col_facts_parse(noise, sizeof noise, "web01", &err) == NULL);
    KS_CHECK(strlen(err.message) < 400);
    for (const char *p = err.message; *p; p++)
        KS_CHECK(*p >= 0x20 && *p < 0x7f);

    /* the end marker alone: the script ran but printed nothing useful */
    static const char empty[] = "@@KS end\n";
    json_t *f = parse_text(empty, sizeof empty - 1, "web01");
    KS_CHECK(f && schema_ok(f));
    KS_CHECK(at_null(f, "cpu.threads"));
    KS_CHECK(at_null(f, "memory.total_bytes"));
    KS_CHECK(col_facts_cpu_capacity_mhz(f) == 0);
    json_decref(f);
}

/* Noise inside sections: invalid UTF-8, NUL bytes, CR LF line ends,
 * repeated sections. */
KS_TEST(test_noise_in_sections)
{
    static const char text[] = "@@KS hostname\nweb\xff\xfe"
                               "01\x01\n"
                               "@@KS cpuinfo\nprocessor\t: 0\nmodel name\t: Caf\xc3\xa9 \xe2\x82 "
                               "CPU @ 9999999999999999999999999999999999GHz\n"
                               "processor\t: 1\nphysical id\t: 99999999999999999999999\n"
                               "@@KS cpuinfo\nprocessor\t: 0\n"
                               "@@KS nics\neth0 - 18446744073709551616 up 1\n"
                               "eth1 aa:bb 65535 up 1\neth2 aa:bb 10000 up\n"
                               "@@KS ss\nLISTEN 0 128 0.0.0.0:99999 0.0.0.0:*\n"
                               "LISTEN 0 128 :22 x\nLISTEN 0 128 [::]:22 [::]:* users:((\"a\n"
                               "@@KS end\n";
    json_t *f = parse_text(text, sizeof text - 1, "web01");
    KS_CHECK(f && schema_ok(f));
    KS_CHECK_STR(at_str(f, "hostname"), "web??01?");
    KS_CHECK_STR(at_str(f, "cpu.model"),
                 "Caf\xc3\xa9 ?? CPU @ 9999999999999999999999999999999999GHz");
    KS_CHECK(at_null(f, "cpu.mhz"));         /* absurd frequency refused */
    KS_CHECK(at_int(f, "cpu.threads") == 2); /* first cpuinfo section wins */
    KS_CHECK(at_len(f, "nics") == 2);
    KS_CHECK(at_null(f, "nics.0.mac"));
    KS_CHECK(at_null(f, "nics.0.speed_mbps"));
    KS_CHECK(at_null(f, "nics.1.speed_mbps"));
    KS_CHECK(at_len(f, "listening") == 1);
    KS_CHECK_STR(at_str(f, "listening.0.address"), "::");
    KS_CHECK(at_null(f, "listening.0.process"));
    json_decref(f);

    /* CR LF line ends (a pty in the way) give the same facts */
    size_t len;
    char *lf = ks_test_read("facts/xeon-2s-rhel8.txt", &len);
    char *crlf = ks_malloc(2 * len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (lf[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = lf[i];
    }
    json_t *a = parse_text(lf, len, "x"), *b = parse_text(crlf, o, "x");
    KS_CHECK(a && b && json_equal(a, b));
    json_decref(a);
    json_decref(b);

    /* NUL bytes */
    for (size_t i = 0; i < len; i += 131)
        lf[i] = '\0';
    a = parse_text(lf, len, "x");
    KS_CHECK(a && schema_ok(a));
    json_decref(a);
    free(lf);
    free(crlf);
}

/* Variants of the tools' output the corpus servers do not show. */
KS_TEST(test_format_variants)
{
    /* df -k fallback, os-release in single quotes, SuSE and Debian releases */
    static const char t1[] =
        "@@KS os-release\nNAME='Acme Linux'\nVERSION=\"2 \\\"Road\\\"\"\nID=acme\n"
        "@@KS df-k\nFilesystem     Type 1024-blocks    Used Available Capacity Mounted on\n"
        "/dev/sda1      ext4    10190136 2097152   7552312      22% /\n"
        "/dev/sdb1      xfs            -       -         -        - /data\n"
        "@@KS virt\nkvm\n@@KS end\n";
    json_t *f = parse_text(t1, sizeof t1 - 1, "a");
    KS_CHECK(f && schema_ok(f));
    KS_CHECK_STR(at_str(f, "os.id"), "acme");
    KS_CHECK_STR(at_str(f, "os.pretty_name"), "Acme Linux 2 \"Road\"");
    KS_CHECK(at_null(f, "os.version_id"));
    KS_CHECK(at_int(f, "filesystems.0.size_bytes") == 10190136LL * 1024);
    KS_CHECK(at_int(f, "filesystems.0.used_bytes") == 2097152LL * 1024);
    KS_CHECK(at_null(f, "filesystems.1.size_bytes"));
    KS_CHECK_STR(at_str(f, "virtualization"), "kvm");
    json_decref(f);

    static const char t2[] = "@@KS SuSE-release\nSUSE Linux Enterprise Server 11 (x86_64)\n"
                             "VERSION = 11\nPATCHLEVEL = 4\n"
                             "@@KS dmi\nsys_vendor=VMware, Inc.\nproduct_name=VMware Virtual "
                             "Platform\n@@KS end\n";
    f = parse_text(t2, sizeof t2 - 1, "b");
    KS_CHECK_STR(at_str(f, "os.id"), "sles");
    KS_CHECK_STR(at_str(f, "os.version_id"), "11.4");
    KS_CHECK_STR(at_str(f, "virtualization"), "vmware");
    json_decref(f);

    static const char t3[] = "@@KS debian_version\n6.0.10\n"
                             "@@KS cpuinfo\nprocessor\t: 0\nflags\t\t: fpu hypervisor sse\n"
                             "@@KS dmi\nsys_vendor=Acme\nproduct_name=Box\n@@KS end\n";
    f = parse_text(t3, sizeof t3 - 1, "c");
    KS_CHECK_STR(at_str(f, "os.id"), "debian");
    KS_CHECK_STR(at_str(f, "os.version_id"), "6.0.10");
    KS_CHECK_STR(at_str(f, "virtualization"), "vm-other");
    KS_CHECK(at_null(f, "cpu.model"));
    KS_CHECK(at_null(f, "cpu.mhz"));
    json_decref(f);

    /* POWER9 (cpu/clock lines) and 32-bit ARM (Processor line, no part) */
    static const char t4[] = "@@KS cpuinfo\nprocessor\t: 0\ncpu\t\t: POWER9 (raw), altivec "
                             "supported\nclock\t\t: 3800.000000MHz\nrevision\t: 2.2\n\n"
                             "processor\t: 1\ncpu\t\t: POWER9 (raw), altivec supported\n"
                             "clock\t\t: 2300.000000MHz\n@@KS uname\narch=ppc64le\n@@KS end\n";
    f = parse_text(t4, sizeof t4 - 1, "d");
    KS_CHECK_STR(at_str(f, "cpu.model"), "POWER9 (raw), altivec supported");
    KS_CHECK_STR(at_str(f, "cpu.vendor"), "IBM");
    KS_CHECK(at_int(f, "cpu.threads") == 2);
    KS_CHECK_NEAR(at_num(f, "cpu.mhz"), 3800, 1e-9);
    json_decref(f);

    static const char t5[] = "@@KS cpuinfo\nProcessor\t: ARMv7 Processor rev 4 (v7l)\n"
                             "processor\t: 0\nBogoMIPS\t: 38.40\n\nprocessor\t: 1\n"
                             "CPU implementer\t: 0x99\n@@KS end\n";
    f = parse_text(t5, sizeof t5 - 1, "e");
    KS_CHECK_STR(at_str(f, "cpu.model"), "ARMv7 Processor rev 4 (v7l)");
    KS_CHECK(at_null(f, "cpu.vendor"));
    KS_CHECK(at_int(f, "cpu.cores") == 2);
    json_decref(f);

    /* lsblk 2.33+ typed JSON mixed with strings; /proc/partitions names */
    static const char t6[] =
        "@@KS lsblk\n{\"blockdevices\": [{\"name\": \"sda\", \"type\": \"disk\", \"size\": "
        "\"1000\", \"rota\": \"0\", \"tran\": \"\", \"children\": [{\"name\": \"sda1\", "
        "\"type\": \"part\", \"size\": 500, \"children\": [{\"name\": \"luks-1\", \"type\": "
        "\"crypt\", \"size\": 400, \"children\": [{\"name\": \"vg-lv\", \"type\": \"lvm\", "
        "\"size\": 300, \"fstype\": \"ext4\", \"mountpoint\": \"/\"}]}]}]}, {\"name\": \"sr0\", "
        "\"type\": \"rom\", \"size\": 4}, {\"name\": \"md0\", \"type\": \"raid1\", \"size\": 9}, "
        "{\"name\": \"sdz\", \"type\": \"disk\", \"size\": 0}]}\n@@KS end\n";
    f = parse_text(t6, sizeof t6 - 1, "f");
    KS_CHECK(f && schema_ok(f));
    KS_CHECK(at_len(f, "disks") == 1); /* empty card reader sdz left out */
    KS_CHECK(at_int(f, "disks.0.size_bytes") == 1000);
    KS_CHECK(at_false(f, "disks.0.rotational"));
    KS_CHECK(at_null(f, "disks.0.transport"));
    KS_CHECK(at_int(f, "disks.0.partitions.0.size_bytes") == 500);
    KS_CHECK(at_len(f, "lvm") == 1);
    KS_CHECK_STR(at_str(f, "lvm.0.mountpoint"), "/");
    json_decref(f);

    static const char t7[] = "@@KS partitions\nmajor minor  #blocks  name\n\n"
                             " 259 0 1000 nvme0n1\n 259 1 400 nvme0n1p1\n 259 2 10 nvme0n10\n"
                             "   8 0 2000 sda\n   8 1 100 sda1\n   8 16 3000 sdaa\n"
                             "   7 0 50 loop0\n  11 0 60 sr0\n   9 0 70 md0\n@@KS end\n";
    f = parse_text(t7, sizeof t7 - 1, "g");
    KS_CHECK(at_len(f, "disks") == 4);
    KS_CHECK(at_len(f, "disks.0.partitions") == 1);
    KS_CHECK_STR(at_str(f, "disks.1.name"), "nvme0n10");
    KS_CHECK_STR(at_str(f, "disks.2.partitions.0.name"), "sda1");
    KS_CHECK_STR(at_str(f, "disks.3.name"), "sdaa");
    KS_CHECK(at_int(f, "disks.3.size_bytes") == 3000 * 1024);
    json_decref(f);

    /* /proc/net/tcp of a big-endian server (s390x) */
    static const char t8[] = "@@KS uname\narch=s390x\n@@KS proc-tcp\n"
                             "   0: 7F000001:0016 00000000:0000 0A 0\n"
                             "   1: 00000000000000000000000000000001:0050 0 0A\n@@KS end\n";
    f = parse_text(t8, sizeof t8 - 1, "h");
    KS_CHECK(at_len(f, "listening") == 2);
    KS_CHECK_STR(at_str(f, "listening.0.address"), "127.0.0.1");
    KS_CHECK(at_int(f, "listening.0.port") == 22);
    KS_CHECK_STR(at_str(f, "listening.1.address"), "::1");
    KS_CHECK(at_int(f, "listening.1.port") == 80);
    json_decref(f);

    /* every dongle vendor is recognised; a dual-port HBA is two blockers */
    static const char t9[] =
        "@@KS usb\ndev=1-1\nvendor=04b9\nproduct_id=0300\nclass=00\nmanufacturer=\nproduct=\n"
        "dev=1-2\nvendor=064F\nproduct_id=2af9\nclass=00\n"
        "dev=1-3\nvendor=096e\nproduct_id=0006\n"
        "dev=1-4\nvendor=0d7a\nproduct_id=0001\n"
        "dev=1-5\nvendor=1bc0\nproduct_id=8013\n"
        "dev=1-6\nvendor=zzzz\nproduct_id=0001\n"
        "@@KS fc\nhost1 0x2100001b32000001\nhost2\n"
        "@@KS pci-display\n0000:00:02.0 0x030000 0x8086 0x3e9b\n"
        "0000:00:01.0 0x038000 0x1234 0x1111\nbroken\n@@KS end\n";
    f = parse_text(t9, sizeof t9 - 1, "i");
    KS_CHECK(f && schema_ok(f));
    KS_CHECK(at_len(f, "hardware.usb") == 5);
    KS_CHECK(at_true(f, "hardware.usb.1.dongle"));
    KS_CHECK_STR(at_str(f, "hardware.usb.1.vendor_id"), "064f");
    KS_CHECK(at_null(f, "hardware.usb.0.manufacturer"));
    KS_CHECK(at_null(f, "hardware.fc_hbas.1.port_name"));
    KS_CHECK(at_len(f, "hardware.gpus") == 1);
    KS_CHECK(at_len(f, "virtualization_blockers") == 8);
    KS_CHECK_STR(at_str(f, "virtualization_blockers.1"),
                 "USB licence dongle 064f:2af9 (WIBU CodeMeter): needs USB passthrough or a "
                 "network dongle server");
    KS_CHECK_STR(at_str(f, "virtualization_blockers.6"),
                 "Fibre Channel HBA host2 (port unknown): SAN storage must be re-presented to "
                 "the hypervisor");
    json_decref(f);
}

KS_TEST(test_helpers_on_partial_facts)
{
    const char **names = (const char **)&names;
    KS_CHECK(col_facts_cpu_capacity_mhz(NULL) == 0);
    KS_CHECK(col_facts_physical_nics(NULL, &names) == 0);
    KS_CHECK(names == NULL);
    json_t *f = json_pack("{s:{s:i,s:n}, s:[{s:s,s:b},{s:s,s:b},{s:i,s:b}]}", "cpu", "cores", 4,
                          "mhz", "nics", "name", "eth0", "physical", 0, "name", "eth1", "physical",
                          1, "name", 3, "physical", 1);
    KS_CHECK(col_facts_cpu_capacity_mhz(f) == 0);
    KS_CHECK(col_facts_physical_nics(f, &names) == 1);
    KS_CHECK_STR(names[0], "eth1");
    free(names);
    json_object_set_new(json_object_get(f, "cpu"), "mhz", json_integer(2000));
    KS_CHECK_NEAR(col_facts_cpu_capacity_mhz(f), 8000, 1e-9);
    json_object_set_new(json_object_get(f, "cpu"), "cores", json_integer(-1));
    KS_CHECK(col_facts_cpu_capacity_mhz(f) == 0);
    json_decref(f);
}

int main(void)
{
    KS_RUN(test_script_text);
    KS_RUN(test_live_machine);
    KS_RUN(test_live_machine_bash);
    KS_RUN(test_this_machine_corpus);
    KS_RUN(test_xeon_two_sockets);
    KS_RUN(test_arm);
    KS_RUN(test_blockers);
    KS_RUN(test_lvm_nfs);
    KS_RUN(test_systemctl_failed);
    KS_RUN(test_old_server_fallbacks);
    KS_RUN(test_truncated);
    KS_RUN(test_not_script_output);
    KS_RUN(test_noise_in_sections);
    KS_RUN(test_format_variants);
    KS_RUN(test_helpers_on_partial_facts);
    return ks_test_summary();
}
