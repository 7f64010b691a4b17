/* tool.h: the kvmshift subcommands. Each parses its own arguments and
 * calls the public APIs; nothing else lives in cli/. */
#ifndef TOOL_H
#define TOOL_H

#include <stdio.h>

/* Exit codes of every subcommand. */
enum {
    TOOL_OK = 0,      /* everything worked */
    TOOL_FAIL = 1,    /* nothing could be done (bad study, bad inventory, ...) */
    TOOL_USAGE = 2,   /* bad command line */
    TOOL_PARTIAL = 3, /* done, but some servers failed (see the table); report --strict:
                         some charts or the PDF could not be made */
};

int tool_init(int argc, char **argv);
int tool_collect(int argc, char **argv);
int tool_facts(int argc, char **argv);
int tool_status(int argc, char **argv);
int tool_import(int argc, char **argv);
int tool_analyze(int argc, char **argv);
int tool_demo(int argc, char **argv);
int tool_report(int argc, char **argv);
int tool_p2v(int argc, char **argv);
int tool_validate(int argc, char **argv);
int tool_night(int argc, char **argv);

/* Print the usage text of a subcommand ("collect") to f; false if unknown. */
int tool_usage(const char *cmd, FILE *f);

/* Output formats of the reporting subcommands. */
typedef enum tool_format { FMT_TABLE, FMT_JSON, FMT_CSV } tool_format;
int tool_parse_format(const char *s, tool_format *out);

/* Print one CSV field, quoted as RFC 4180 wants when it holds a comma, a
 * quote or a newline. */
void tool_csv_field(FILE *f, const char *s);

#endif
