/* rep_pdf.c: the report printed to PDF by headless Chromium. */
#include "rep_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ks_child.h"
#include "ks_fs.h"
#include "ks_mem.h"

int rep_pdf_print(const char *program, const char *html_path, const char *pdf_path,
                  const char *profile_dir, int timeout_s, ks_error *err)
{
    KS_AUTOFREE char *exe = rep_which(program);
    if (!exe) {
        ks_error_set(err, KS_E_USAGE, ENOENT,
                     "Chromium ('%s') is not installed: install it (apt-get install chromium) "
                     "or point KS_CHROMIUM at it, then run kvmshift report --pdf again; "
                     "index.html prints to PDF from any browser too",
                     program);
        return -1;
    }
    if (ks_mkdir_p(profile_dir, err) < 0)
        return -1;
    KS_AUTOFREE char *abs_html = realpath(html_path, NULL);
    if (!abs_html) {
        ks_error_set(err, KS_E_IO, errno, "cannot find '%s': %s", html_path, strerror(errno));
        return -1;
    }
    KS_AUTOFREE char *url = ks_asprintf("file://%s", abs_html);
    KS_AUTOFREE char *a_pdf = ks_asprintf("--print-to-pdf=%s", pdf_path);
    KS_AUTOFREE char *a_prof = ks_asprintf("--user-data-dir=%s", profile_dir);
    KS_AUTOFREE char *log = ks_path_join(profile_dir, "chromium.log");
    const char *argv[] = {exe,
                          "--headless",
                          "--no-sandbox",
                          "--disable-gpu",
                          "--disable-background-networking",
                          "--no-first-run",
                          "--no-default-browser-check",
                          "--no-pdf-header-footer",
                          a_prof,
                          a_pdf,
                          url,
                          NULL};
    unlink(pdf_path);
    /* its own process group: its helpers (zygote, renderer) go with it
     * when it is stopped, and those it leaves behind when it is freed */
    ks_child_opts o = {.flags = KS_CHILD_GROUP | KS_CHILD_ERR_TO_OUT, .out_file = log};
    ks_error se;
    ks_child *c = ks_child_spawn(argv, &o, &se);
    if (!c) {
        ks_error_set(err, KS_E_IO, se.errnum, "cannot start Chromium ('%s'): %s", exe,
                     strerror(se.errnum));
        return -1;
    }
    int status = 0;
    bool timed_out = ks_child_wait(c, timeout_s, &status) < 0 && errno == ETIMEDOUT;
    ks_child_free(c);
    struct stat st;
    bool written = stat(pdf_path, &st) == 0 && st.st_size > 0;
    if (timed_out) {
        unlink(pdf_path);
        ks_error_set(err, KS_E_TIMEOUT, 0,
                     "Chromium ('%s') did not print the report within %d s and was stopped; "
                     "open index.html in a browser and print it to PDF",
                     exe, timeout_s);
        return -1;
    }
    if (!written || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(pdf_path);
        ks_error_set(err, KS_E_REMOTE, 0,
                     "Chromium ('%s') %s and wrote no PDF; open index.html in a browser and "
                     "print it to PDF",
                     exe,
                     WIFSIGNALED(status)                        ? "was killed by a signal"
                     : WIFEXITED(status) && WEXITSTATUS(status) ? "failed"
                                                                : "exited");
        return -1;
    }
    return 0;
}
