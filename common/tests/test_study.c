/* test_study.c: the study directory, atomic file writes, file reads, JSON files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ks_buf.h"
#include "ks_fs.h"
#include "ks_ini.h"
#include "ks_inventory.h"
#include "ks_json.h"
#include "ks_mem.h"
#include "ks_study.h"
#include "ks_test.h"

static char tmproot[256];

/* A fresh, empty directory under tmproot, newly allocated. */
static char *fresh_dir(const char *name)
{
    char *p = ks_path_join(tmproot, name);
    if (mkdir(p, 0755) < 0) {
        fprintf(stderr, "cannot create '%s': %s\n", p, strerror(errno));
        exit(2);
    }
    return p;
}

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *sub = ks_path_join(path, e->d_name);
            rm_rf(sub);
            free(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* The names in dir, sorted, joined by ' ' ("" when empty). */
static char *list_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    ks_buf out;
    ks_buf_init(&out, 1 << 16);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
            if (out.len)
                ks_buf_appends(&out, " ");
            ks_buf_appends(&out, names[i]->d_name);
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    return ks_buf_steal(&out);
}

static char *slurp(const char *path)
{
    ks_error err;
    char *s = ks_read_file(path, 1 << 20, NULL, &err);
    if (!s)
        fprintf(stderr, "  %s\n", err.message);
    return s;
}

KS_TEST(init_creates_the_layout)
{
    char *root = fresh_dir("init");
    char *dir = ks_path_join(root, "a/b/study"); /* parents are created too */
    ks_error err;
    ks_error_clear(&err);
    KS_CHECK(ks_study_init(dir, &err) == 0);
    KS_CHECK(err.code == KS_OK);
    char *names = list_dir(dir);
    KS_CHECK_STR(names, "facts inventory.csv rrd state study.ini");
    free(names);
    static const char *subs[] = {"rrd", "facts", "state"};
    for (size_t i = 0; i < 3; i++) {
        char *p = ks_path_join(dir, subs[i]);
        KS_CHECK(ks_is_dir(p));
        char *inside = list_dir(p);
        KS_CHECK_STR(inside, "");
        free(inside);
        free(p);
    }

    /* the files are complete and parse */
    char *ini_path = ks_path_join(dir, "study.ini");
    char *inv_path = ks_path_join(dir, "inventory.csv");
    struct stat st;
    KS_CHECK(stat(ini_path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 100);
    ks_ini *ini = ks_ini_load(ini_path, &err);
    KS_CHECK(ini != NULL);
    if (ini) {
        KS_CHECK_STR(ks_ini_get(ini, "study", "name"), "example study");
        KS_CHECK(ks_ini_section_count(ini) == 2);
        KS_CHECK_STR(ks_ini_section_name(ini, 1), "collector");
        /* every collector key is commented out: defaults apply */
        long interval = 0;
        KS_CHECK(ks_ini_get_long(ini, "collector", "interval", 60, 1, 86400, &interval, &err) == 0);
        KS_CHECK(interval == 60);
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }
    ks_ini_free(ini);
    ks_inventory *inv = ks_inventory_load(inv_path, &err);
    KS_CHECK(inv != NULL);
    if (inv)
        KS_CHECK(inv->count == 0);
    else
        fprintf(stderr, "  %s\n", err.message);
    ks_inventory_free(inv);

    /* the commented example lines become valid servers once uncommented */
    char *text = slurp(inv_path);
    if (text) {
        ks_buf b;
        ks_buf_init(&b, 1 << 20);
        for (const char *p = text; *p;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
            if (strncmp(p, "#web01,", 7) == 0 || strncmp(p, "#dns1,", 6) == 0)
                ks_buf_append(&b, p + 1, n - 1);
            else
                ks_buf_append(&b, p, n);
            p += n;
        }
        inv = ks_inventory_parse(b.data, b.len, "inventory.csv", &err);
        KS_CHECK(inv != NULL);
        if (inv) {
            KS_CHECK(inv->count == 2);
            const ks_server *s = ks_inventory_find(inv, "web01");
            KS_CHECK(s && s->ntags == 2 && strcmp(s->key, "keys/id_ed25519") == 0);
        } else {
            fprintf(stderr, "  %s\n", err.message);
        }
        ks_inventory_free(inv);
        ks_buf_free(&b);
    }
    free(text);
    free(ini_path);
    free(inv_path);
    free(dir);
    free(root);
}

KS_TEST(second_init_refuses_and_changes_nothing)
{
    char *dir = fresh_dir("twice");
    ks_error err;
    KS_CHECK(ks_study_init(dir, &err) == 0);
    char *inv_path = ks_path_join(dir, "inventory.csv");
    char *ini_path = ks_path_join(dir, "study.ini");
    /* the user edited the inventory and removed the study.ini */
    const char *edited = "name,address,method\nh1,10.0.0.1,ssh\n";
    KS_CHECK(ks_write_file_atomic(inv_path, edited, strlen(edited), 0600, &err) == 0);
    KS_CHECK(unlink(ini_path) == 0);
    char *before = list_dir(dir);

    ks_error_clear(&err);
    KS_CHECK(ks_study_init(dir, &err) == -1);
    KS_CHECK(err.code == KS_E_USAGE);
    KS_CHECK(strstr(err.message, dir) != NULL);
    KS_CHECK(strstr(err.message, "already holds a study") != NULL);
    char *after = list_dir(dir);
    KS_CHECK_STR(after, before);
    KS_CHECK(!ks_path_exists(ini_path));
    char *text = slurp(inv_path);
    KS_CHECK_STR(text, edited);
    struct stat st;
    KS_CHECK(stat(inv_path, &st) == 0 && (st.st_mode & 0777) == 0600);

    /* with both files present: refused too */
    KS_CHECK(ks_write_file_atomic(ini_path, "[study]\n", 8, 0644, &err) == 0);
    KS_CHECK(ks_study_init(dir, &err) == -1);
    KS_CHECK(err.code == KS_E_USAGE);
    char *ini_text = slurp(ini_path);
    KS_CHECK_STR(ini_text, "[study]\n");

    free(ini_text);
    free(text);
    free(before);
    free(after);
    free(inv_path);
    free(ini_path);
    free(dir);
}

KS_TEST(init_into_existing_empty_dir_and_bad_paths)
{
    char *dir = fresh_dir("empty");
    ks_error err;
    KS_CHECK(ks_study_init(dir, &err) == 0);
    free(dir);

    /* a file where the directory should be */
    char *file = ks_path_join(tmproot, "plainfile");
    KS_CHECK(ks_write_file_atomic(file, "x", 1, 0644, &err) == 0);
    ks_error_clear(&err);
    KS_CHECK(ks_study_init(file, &err) == -1);
    KS_CHECK(err.code == KS_E_IO);
    KS_CHECK(strstr(err.message, file) != NULL);
    KS_CHECK(strstr(err.message, "not a directory") != NULL);
    char *text = slurp(file);
    KS_CHECK_STR(text, "x");
    free(text);
    free(file);

    /* an empty name */
    ks_error_clear(&err);
    KS_CHECK(ks_mkdir_p("", &err) == -1);
    KS_CHECK(err.code == KS_E_IO);
    KS_CHECK(strstr(err.message, "empty name") != NULL);
}

KS_TEST(mkdir_p)
{
    char *root = fresh_dir("mkdir");
    char *deep = ks_path_join(root, "x/y//z/");
    ks_error err;
    KS_CHECK(ks_mkdir_p(deep, &err) == 0);
    KS_CHECK(ks_is_dir(deep));
    KS_CHECK(ks_mkdir_p(deep, &err) == 0); /* existing is fine */
    char *file = ks_path_join(root, "x/f");
    KS_CHECK(ks_write_file_atomic(file, "", 0, 0644, &err) == 0);
    KS_CHECK(ks_path_exists(file));
    KS_CHECK(!ks_is_dir(file));
    char *under = ks_path_join(file, "sub");
    ks_error_clear(&err);
    KS_CHECK(ks_mkdir_p(under, &err) == -1);
    KS_CHECK(err.code == KS_E_IO);
    KS_CHECK(err.errnum == ENOTDIR);
    KS_CHECK(strstr(err.message, "cannot create directory") != NULL);
    free(under);
    free(file);
    free(deep);
    free(root);

    char *p = ks_path_join("/a/", "b");
    KS_CHECK_STR(p, "/a/b");
    free(p);
    p = ks_path_join("/a", "b");
    KS_CHECK_STR(p, "/a/b");
    free(p);
}

KS_TEST(open_study)
{
    char *dir = fresh_dir("open");
    ks_error err;
    ks_error_clear(&err);
    ks_study *s = ks_study_open(dir, &err);
    KS_CHECK(s == NULL);
    KS_CHECK(err.code == KS_E_USAGE);
    KS_CHECK(strstr(err.message, "no study.ini") != NULL);
    KS_CHECK(strstr(err.message, "'kvmshift init") != NULL);
    KS_CHECK(strstr(err.message, dir) != NULL);

    KS_CHECK(ks_study_init(dir, &err) == 0);
    s = ks_study_open(dir, &err);
    KS_CHECK(s != NULL);
    if (s) {
        KS_CHECK_STR(ks_study_dir(s), dir);
        KS_CHECK_STR(ks_ini_get(ks_study_ini(s), "study", "name"), "example study");
        char *p = ks_study_path(s, "inventory.csv");
        char *want = ks_path_join(dir, "inventory.csv");
        KS_CHECK_STR(p, want);
        KS_CHECK(ks_path_exists(p));
        free(p);
        free(want);
        p = ks_study_server_file(s, "rrd", "web01", "rrd");
        want = ks_path_join(dir, "rrd/web01.rrd");
        KS_CHECK_STR(p, want);
        free(p);
        free(want);
    }
    ks_study_free(s);
    ks_study_free(NULL);

    /* a trailing slash on the directory does not double */
    char *slash = ks_asprintf("%s/", dir);
    s = ks_study_open(slash, &err);
    KS_CHECK(s != NULL);
    if (s) {
        char *p = ks_study_server_file(s, "facts", "db1", "json");
        char *want = ks_asprintf("%s/facts/db1.json", dir);
        KS_CHECK_STR(p, want);
        free(p);
        free(want);
    }
    ks_study_free(s);
    free(slash);

    /* a broken study.ini: the ini error, with file:line */
    char *ini_path = ks_path_join(dir, "study.ini");
    KS_CHECK(ks_write_file_atomic(ini_path, "[study]\nname\n", 13, 0644, &err) == 0);
    s = ks_study_open(dir, &err);
    KS_CHECK(s == NULL);
    KS_CHECK(err.code == KS_E_CONFIG);
    char *where = ks_asprintf("%s:2:", ini_path);
    KS_CHECK(strstr(err.message, where) == err.message);
    free(where);
    free(ini_path);
    free(dir);
}

/* A symbolic link planted at the temporary names: never followed, the
 * file it points to unchanged (the write fails or uses a free name). */
KS_TEST(write_file_atomic_planted_links)
{
    char *dir = fresh_dir("planted");
    char *path = ks_path_join(dir, "plan.json");
    char *victim = ks_path_join(dir, "victim");
    ks_error err;
    KS_CHECK(ks_write_file_atomic(victim, "mine\n", 5, 0644, &err) == 0);
    for (int n = 0; n < 400; n++) {
        char *t = ks_asprintf("%s.tmp.%ld.%ld.%d", path, (long)getpid(), (long)gettid(), n);
        KS_CHECK(symlink(victim, t) == 0);
        free(t);
    }
    int rc = ks_write_file_atomic(path, "{}", 2, 0644, &err);
    char *text = slurp(victim);
    KS_CHECK_STR(text, "mine\n");
    free(text);
    struct stat st;
    KS_CHECK(rc < 0 ? lstat(path, &st) < 0 : lstat(path, &st) == 0 && S_ISREG(st.st_mode));
    free(victim);
    free(path);
    free(dir);
}

/* The lock: refused at once with the holder named, refused after a wait,
 * free once its holder is killed (-9: nothing to clean up). */
KS_TEST(lock_names_its_holder)
{
    char *dir = fresh_dir("lock");
    char *path = ks_path_join(dir, ".lock");
    int go[2];
    KS_CHECK(pipe(go) == 0);
    pid_t child = fork();
    if (child == 0) {
        ks_error e;
        int fd = ks_lock_take(path, "the test", "kvmshift tester", 0, NULL, NULL, &e);
        char c = fd >= 0 ? 'y' : 'n';
        if (write(go[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c = 0;
    KS_CHECK(read(go[0], &c, 1) == 1 && c == 'y');
    ks_error err;
    ks_error_clear(&err);
    KS_CHECK(ks_lock_take(path, "the test", "other", 0, NULL, NULL, &err) < 0);
    char *want = ks_asprintf("the test is in use by another kvmshift (pid %ld, kvmshift tester;",
                             (long)child);
    KS_CHECK(strstr(err.message, want) != NULL);
    free(want);
    KS_CHECK(err.code == KS_E_USAGE && err.errnum == EWOULDBLOCK);
    KS_CHECK(ks_lock_take(path, "the test", "other", 0.3, NULL, NULL, &err) < 0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    int fd = ks_lock_take(path, "the test", "other", 0, NULL, NULL, &err);
    KS_CHECK(fd >= 0);
    char holder[64];
    ks_lock_holder(fd, holder, sizeof holder);
    char *me = ks_asprintf("pid %ld, other", (long)getpid());
    KS_CHECK_STR(holder, me);
    free(me);
    ks_lock_release(fd);
    close(go[0]);
    close(go[1]);
    free(path);
    free(dir);
}

KS_TEST(write_file_atomic)
{
    char *dir = fresh_dir("atomic");
    char *path = ks_path_join(dir, "facts.json");
    ks_error err;
    KS_CHECK(ks_write_file_atomic(path, "first version\n", 14, 0640, &err) == 0);
    char *names = list_dir(dir);
    KS_CHECK_STR(names, "facts.json");
    free(names);
    char *text = slurp(path);
    KS_CHECK_STR(text, "first version\n");
    free(text);
    struct stat st;
    KS_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0640 & ~0022));
    ino_t first = st.st_ino;

    /* replacing: a new file renamed over the old one, nothing left behind */
    KS_CHECK(ks_write_file_atomic(path, "2", 1, 0644, &err) == 0);
    names = list_dir(dir);
    KS_CHECK_STR(names, "facts.json");
    free(names);
    text = slurp(path);
    KS_CHECK_STR(text, "2");
    free(text);
    KS_CHECK(stat(path, &st) == 0 && st.st_size == 1);
    KS_CHECK(st.st_ino != first);

    /* binary content with NULs, and an empty file */
    const char bin[] = {'a', 0, 'b', 0, 0};
    KS_CHECK(ks_write_file_atomic(path, bin, sizeof bin, 0644, &err) == 0);
    size_t len = 0;
    char *back = ks_read_file(path, 100, &len, &err);
    KS_CHECK(back && len == sizeof bin && memcmp(back, bin, len) == 0);
    free(back);
    KS_CHECK(ks_write_file_atomic(path, "", 0, 0644, &err) == 0);
    back = ks_read_file(path, 100, &len, &err);
    KS_CHECK(back && len == 0 && back[0] == '\0');
    free(back);
    names = list_dir(dir);
    KS_CHECK_STR(names, "facts.json");
    free(names);
    free(path);
    free(dir);
}

/* The journal primitive from several threads at once: each replaces the
 * same file 200 times; every read sees one whole version, and no
 * temporary file is left (temporary names are unique per thread). */
typedef struct writer_arg {
    const char *path;
    int id;
    int failures;
} writer_arg;

static void *writer_thread(void *p)
{
    writer_arg *a = p;
    char text[64];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(text, sizeof text, "writer %d version %03d\n", a->id, i);
        ks_error err;
        if (ks_write_file_atomic(a->path, text, (size_t)n, 0644, &err) < 0)
            a->failures++;
    }
    return NULL;
}

KS_TEST(write_file_atomic_threads)
{
    char *dir = fresh_dir("atomic-threads");
    char *path = ks_path_join(dir, "journal.json");
    writer_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (writer_arg){path, i, 0};
        KS_CHECK(pthread_create(&th[i], NULL, writer_thread, &args[i]) == 0);
    }
    int torn = 0;
    for (int r = 0; r < 200; r++) {
        ks_error err;
        size_t len = 0;
        char *t = ks_read_file(path, 100, &len, &err);
        int id = 0, v = 0;
        /* "writer N version VVV\n": 21 bytes */
        if (t && (len != 21 || sscanf(t, "writer %d version %d", &id, &v) != 2))
            torn++;
        free(t);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        KS_CHECK(args[i].failures == 0);
    }
    KS_CHECK(torn == 0);
    /* the last version standing is one writer's 200th */
    size_t len = 0;
    ks_error err;
    char *last = ks_read_file(path, 100, &len, &err);
    KS_CHECK(last && len == 21 && strstr(last, " version 199\n"));
    free(last);
    char *names = list_dir(dir);
    KS_CHECK_STR(names, "journal.json");
    free(names);
    free(path);
    free(dir);
}

KS_TEST(write_into_missing_directory)
{
    char *dir = fresh_dir("missing");
    char *path = ks_path_join(dir, "nodir/state.json");
    ks_error err;
    ks_error_clear(&err);
    KS_CHECK(ks_write_file_atomic(path, "{}", 2, 0644, &err) == -1);
    KS_CHECK(err.code == KS_E_IO);
    KS_CHECK(err.errnum == ENOENT);
    KS_CHECK(strstr(err.message, path) != NULL);
    KS_CHECK(strstr(err.message, strerror(ENOENT)) != NULL);
    KS_CHECK(!ks_path_exists(path));
    char *names = list_dir(dir);
    KS_CHECK_STR(names, "");
    free(names);
    free(path);

    /* a directory in the way of the rename: the temporary file is removed */
    char *target = ks_path_join(dir, "taken");
    KS_CHECK(mkdir(target, 0755) == 0);
    char *inner = ks_path_join(target, "x");
    KS_CHECK(ks_write_file_atomic(inner, "x", 1, 0644, &err) == 0);
    ks_error_clear(&err);
    KS_CHECK(ks_write_file_atomic(target, "data", 4, 0644, &err) == -1);
    KS_CHECK(err.code == KS_E_IO);
    KS_CHECK(strstr(err.message, "cannot rename") != NULL);
    names = list_dir(dir);
    KS_CHECK_STR(names, "taken");
    free(names);
    free(inner);
    free(target);
    free(dir);
}

KS_TEST(read_file_max)
{
    char *dir = fresh_dir("read");
    char *path = ks_path_join(dir, "f");
    ks_error err;
    static const size_t sizes[] = {0, 1, 10, 4095, 4096, 4097, 8191, 8192, 10000};
    char *data = malloc(20000);
    for (size_t i = 0; i < 20000; i++)
        data[i] = (char)('a' + i % 26);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        KS_CHECK(ks_write_file_atomic(path, data, n, 0644, &err) == 0);
        /* exactly max: fine */
        size_t len = 12345;
        char *s = ks_read_file(path, n, &len, &err);
        KS_CHECK(s != NULL);
        if (s) {
            KS_CHECK(len == n);
            KS_CHECK(memcmp(s, data, n) == 0);
            KS_CHECK(s[n] == '\0');
        }
        free(s);
        /* one byte more than max: refused */
        if (n > 0) {
            ks_error_clear(&err);
            len = 12345;
            s = ks_read_file(path, n - 1, &len, &err);
            KS_CHECK(s == NULL);
            KS_CHECK(len == 12345);
            KS_CHECK(err.code == KS_E_IO);
            KS_CHECK(err.errnum == EFBIG);
            char *want = ks_asprintf("'%s' is larger than %zu bytes", path, n - 1);
            KS_CHECK_STR(err.message, want);
            free(want);
            free(s);
        }
    }
    /* len may be NULL */
    char *s = ks_read_file(path, 1 << 20, NULL, &err);
    KS_CHECK(s && strlen(s) == 10000);
    free(s);

    ks_error_clear(&err);
    char *none = ks_path_join(dir, "none");
    KS_CHECK(ks_read_file(none, 100, NULL, &err) == NULL);
    KS_CHECK(err.code == KS_E_IO);
    KS_CHECK(err.errnum == ENOENT);
    char *want = ks_asprintf("cannot open '%s': %s", none, strerror(ENOENT));
    KS_CHECK_STR(err.message, want);
    free(want);
    free(none);
    free(data);
    free(path);
    free(dir);
}

KS_TEST(copy_and_remove_tree)
{
    char *dir = fresh_dir("tree");
    ks_error err;
    ks_error_clear(&err);
    char *a = ks_path_join(dir, "a"), *b = ks_path_join(dir, "b");
    char *sub = ks_path_join(dir, "sub/deeper/deepest");
    KS_CHECK(ks_write_file_atomic(a, "hello\n", 6, 0600, &err) == 0);
    KS_CHECK(ks_copy_file(a, b, &err) == 0);
    size_t len = 0;
    char *s = ks_read_file(b, 100, &len, &err);
    KS_CHECK_STR(s, "hello\n");
    free(s);
    /* never overwrites */
    ks_error_clear(&err);
    KS_CHECK(ks_copy_file(a, b, &err) < 0 && err.errnum == EEXIST);
    KS_CHECK(strstr(err.message, "cannot create") != NULL);
    char *none = ks_path_join(dir, "none"), *c = ks_path_join(dir, "c");
    KS_CHECK(ks_copy_file(none, c, &err) < 0 && err.errnum == ENOENT && !ks_path_exists(c));

    /* a tree with files, an empty directory and a symbolic link to a
     * directory outside it: the link goes, its target stays */
    KS_CHECK(ks_mkdir_p(sub, &err) == 0);
    char *f = ks_path_join(sub, "f");
    KS_CHECK(ks_write_file_atomic(f, "x", 1, 0644, &err) == 0);
    char *outside = ks_path_join(dir, "outside"), *kept = ks_path_join(dir, "outside/kept");
    KS_CHECK(ks_mkdir_p(outside, &err) == 0);
    KS_CHECK(ks_write_file_atomic(kept, "y", 1, 0644, &err) == 0);
    char *link = ks_path_join(dir, "sub/link");
    KS_CHECK(symlink(outside, link) == 0);
    char *top = ks_path_join(dir, "sub");
    KS_CHECK(ks_remove_tree(top, &err) == 0);
    KS_CHECK(!ks_path_exists(top));
    KS_CHECK(ks_path_exists(kept));
    /* missing: fine; a plain file: removed */
    KS_CHECK(ks_remove_tree(top, &err) == 0);
    KS_CHECK(ks_remove_tree(b, &err) == 0 && !ks_path_exists(b));
    free(a);
    free(b);
    free(c);
    free(none);
    free(sub);
    free(f);
    free(outside);
    free(kept);
    free(link);
    free(top);
    free(dir);
}

KS_TEST(json_round_trip)
{
    char *dir = fresh_dir("json");
    char *path = ks_path_join(dir, "web01.json");
    ks_error err;
    json_t *j = json_pack("{s:s, s:i, s:f, s:b, s:[s,s], s:{s:n}}", "name", "web01", "cpus", 8,
                          "load", 0.25, "virtual", 0, "tags", "prod", "dmz", "disk", "sda");
    KS_CHECK(j != NULL);
    KS_CHECK(ks_json_write_file(path, j, &err) == 0);
    char *names = list_dir(dir);
    KS_CHECK_STR(names, "web01.json");
    free(names);

    /* indented, keys in insertion order, trailing newline */
    char *text = slurp(path);
    KS_CHECK(text != NULL);
    if (text) {
        size_t n = strlen(text);
        KS_CHECK(n > 2 && text[n - 1] == '\n' && text[n - 2] == '}');
        KS_CHECK(strncmp(text, "{\n  \"name\": \"web01\",\n  \"cpus\": 8,", 32) == 0);
        KS_CHECK(strstr(text, "\"name\"") < strstr(text, "\"tags\""));
    }
    free(text);

    json_t *back = ks_json_read_file(path, &err);
    KS_CHECK(back != NULL);
    KS_CHECK(back && json_equal(j, back));
    if (back) {
        KS_CHECK_STR(json_string_value(json_object_get(back, "name")), "web01");
        KS_CHECK(json_integer_value(json_object_get(back, "cpus")) == 8);
        KS_CHECK_NEAR(json_real_value(json_object_get(back, "load")), 0.25, 0);
    }
    json_decref(back);
    json_decref(j);

    /* bad JSON: a parse error naming file:line */
    KS_CHECK(ks_write_file_atomic(path, "{\n  \"a\": 1,\n  oops\n}\n", 22, 0644, &err) == 0);
    ks_error_clear(&err);
    KS_CHECK(ks_json_read_file(path, &err) == NULL);
    KS_CHECK(err.code == KS_E_PARSE);
    char *where = ks_asprintf("%s:3: not valid JSON", path);
    KS_CHECK(strstr(err.message, where) == err.message);
    free(where);

    char *none = ks_path_join(dir, "none.json");
    ks_error_clear(&err);
    KS_CHECK(ks_json_read_file(none, &err) == NULL);
    KS_CHECK(err.code == KS_E_IO);
    KS_CHECK(strstr(err.message, none) != NULL);

    /* into a missing directory: error, nothing written */
    char *bad = ks_path_join(dir, "nodir/x.json");
    json_t *o = json_object();
    ks_error_clear(&err);
    KS_CHECK(ks_json_write_file(bad, o, &err) == -1);
    KS_CHECK(err.code == KS_E_IO);
    json_decref(o);
    names = list_dir(dir);
    KS_CHECK_STR(names, "web01.json");
    free(names);
    free(bad);
    free(none);
    free(path);
    free(dir);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmproot, sizeof tmproot, "%s/ks_test_study.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmproot)) {
        fprintf(stderr, "mkdtemp '%s': %s\n", tmproot, strerror(errno));
        return 2;
    }
    umask(022);

    KS_RUN(init_creates_the_layout);
    KS_RUN(second_init_refuses_and_changes_nothing);
    KS_RUN(init_into_existing_empty_dir_and_bad_paths);
    KS_RUN(mkdir_p);
    KS_RUN(open_study);
    KS_RUN(write_file_atomic);
    KS_RUN(write_file_atomic_planted_links);
    KS_RUN(lock_names_its_holder);
    KS_RUN(write_file_atomic_threads);
    KS_RUN(write_into_missing_directory);
    KS_RUN(read_file_max);
    KS_RUN(copy_and_remove_tree);
    KS_RUN(json_round_trip);

    rm_rf(tmproot);
    return ks_test_summary();
}
