/* main.c: kvmshift's entry point: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "ks_log.h"
#include "tool.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"init", tool_init, "create a study directory with a commented study.ini and inventory"},
    {"collect", tool_collect, "sample the inventory's servers over SSH into RRD files"},
    {"facts", tool_facts, "take the hardware/OS/services inventory of the servers"},
    {"status", tool_status, "show per server: last sample, samples stored, gaps, last error"},
    {"import", tool_import, "turn existing monitoring exports (Bitbrains, CSV) into study data"},
    {"analyze", tool_analyze, "judge, right-size and pack the servers onto KVM hosts: plan.json"},
    {"report", tool_report, "write the study's report: report/index.html, CSV files, charts"},
    {"p2v", tool_p2v, "copy a running server's disks into VM images over SSH, then only the delta"},
    {"night", tool_night, "run a migration night of the plan: cutovers, rollback, validation"},
    {"validate", tool_validate, "compare a migrated server's VM with the physical server's facts"},
    {"demo", tool_demo, "a bundled sample study imported, analyzed and reported, to try kvmshift"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: kvmshift COMMAND [OPTIONS] [ARGS]\n"
               "\n"
               "kvmshift studies physical servers before their move to KVM virtual machines:\n"
               "it samples their load without installing anything on them, and keeps the\n"
               "data in a study directory.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-9s %s\n", "help", "show this text, or 'help COMMAND' for one command");
    fprintf(f, "\n"
               "Run 'kvmshift COMMAND --help' for a command's options.\n"
               "To see a whole study first:  kvmshift demo   (a sample laboratory, its report)\n"
               "A first study:  kvmshift init mystudy   (then edit mystudy/inventory.csv)\n"
               "                kvmshift collect mystudy --once --accept-new-hostkeys\n");
}

int main(int argc, char **argv)
{
    /* text from remote machines reaches the terminal with its control
     * characters escaped (ks_log.h) */
    ks_output_escape_controls();
    if (argc < 2) {
        usage(stderr);
        return TOOL_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            if (!tool_usage(argv[2], stdout)) {
                fprintf(stderr, "kvmshift: no command '%s'; see 'kvmshift help'\n", argv[2]);
                return TOOL_USAGE;
            }
            return TOOL_OK;
        }
        usage(stdout);
        return TOOL_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("kvmshift %s\n", KS_VERSION);
        return TOOL_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "kvmshift: no command '%s'; see 'kvmshift help'\n", cmd);
    return TOOL_USAGE;
}
