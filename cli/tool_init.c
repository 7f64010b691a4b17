/* tool_init.c: kvmshift init DIR */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ks_error.h"
#include "ks_study.h"
#include "tool.h"

int tool_init(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            tool_usage("init", stdout);
            return TOOL_OK;
        }
        tool_usage("init", stderr);
        return TOOL_USAGE;
    }
    if (optind != argc - 1) {
        tool_usage("init", stderr);
        return TOOL_USAGE;
    }
    const char *dir = argv[optind];
    ks_error err;
    ks_error_clear(&err);
    if (ks_study_init(dir, &err) < 0) {
        fprintf(stderr, "kvmshift init: %s\n", err.message);
        return err.code == KS_E_USAGE ? TOOL_USAGE : TOOL_FAIL;
    }
    printf("created study '%s'\n"
           "next: list your servers in %s/inventory.csv, then run\n"
           "  kvmshift collect %s --once --accept-new-hostkeys\n",
           dir, dir, dir);
    return TOOL_OK;
}
