/* tool_help.c: usage text of every subcommand, written like man pages. */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const struct {
    const char *cmd;
    const char *text;
} usages[] = {
    {"init", "usage: kvmshift init DIR\n"
             "\n"
             "Create the study directory DIR with a commented study.ini (settings), an\n"
             "example inventory.csv (the servers to study) and the rrd/, facts/ and state/\n"
             "directories. Refuses to touch a directory that already holds a study.\n"
             "\n"
             "inventory.csv has a header line naming its columns: name, address, method\n"
             "(required), port, user, key, role, group, tags. '#' starts a comment line.\n"
             "\n"
             "Exit status: 0 created, 1 failed, 2 bad usage or DIR already a study.\n"},
    {"collect", "usage: kvmshift collect DIR [OPTIONS]\n"
                "\n"
                "Sample every server of DIR/inventory.csv over SSH: CPU, memory, disk and\n"
                "network I/O, stored in DIR/rrd/NAME.rrd (one file per server; data sources\n"
                "cpu_pct, cpu_mhz, mem_used, mem_total, disk_rd_bps, disk_wr_bps,\n"
                "disk_rd_iops, disk_wr_iops, net_rx_bps, net_tx_bps). Nothing is installed\n"
                "on the servers: one SSH connection each stays open and a persistent /bin/sh\n"
                "reads /proc. Facts (DIR/facts/NAME.json) are taken on first contact.\n"
                "\n"
                "Host keys are checked against DIR/known_hosts. An unknown key is refused\n"
                "unless --accept-new-hostkeys is given; a changed key is always refused.\n"
                "A failing server is retried with growing delays (up to study.ini\n"
                "[collector] max_backoff) and never holds up the others.\n"
                "\n"
                "Options:\n"
                "  --once                 take one sample of each server (two readings\n"
                "                         --window seconds apart), then stop\n"
                "  --interval SECONDS     seconds between samples (default: study.ini\n"
                "                         [collector] interval, else 60); with --once from\n"
                "                         cron, set it to the cron period\n"
                "  --duration SECONDS     stop after this long (default: run until\n"
                "                         interrupted with Ctrl-C or SIGTERM)\n"
                "  --window SECONDS       with --once, seconds between the two readings\n"
                "                         (default 2)\n"
                "  --accept-new-hostkeys  record the host key of servers seen for the first\n"
                "                         time (check the fingerprints printed)\n"
                "  --only NAME[,NAME...]  only these servers\n"
                "  --shard K/N            only this machine's share of the inventory: N\n"
                "                         collector machines, each run with its K (1..N),\n"
                "                         split the servers by a hash of their names, with\n"
                "                         no overlap; point them at one rrdcached\n"
                "  --format table|json|csv  the summary printed at the end (default table)\n"
                "  -q, --quiet            no progress display, warnings only\n"
                "  -v, --verbose          debug messages\n"
                "  -h, --help             this text\n"
                "\n"
                "Exit status: 0 every server sampled, 1 nothing could be done (bad study or\n"
                "inventory: every bad line is listed), 2 bad usage, 3 some servers failed\n"
                "(the summary says which and why).\n"
                "\n"
                "Example:\n"
                "  kvmshift collect lab --once --accept-new-hostkeys\n"
                "  kvmshift collect lab --interval 60 --duration 1209600   # two weeks\n"},
    {"facts", "usage: kvmshift facts DIR [OPTIONS]\n"
              "\n"
              "Take the inventory facts of every server of DIR/inventory.csv again, now:\n"
              "CPU model, sockets/cores/threads and MHz, memory, disks, partitions and\n"
              "LVM, file systems and NFS mounts, NICs, OS and kernel, boot mode,\n"
              "listening TCP ports with their process, enabled services, and hardware\n"
              "that complicates virtualization (USB licence dongles, FC HBAs, GPUs).\n"
              "Each server's facts are written to DIR/facts/NAME.json (one JSON object).\n"
              "The servers are only read, never changed.\n"
              "\n"
              "Options:\n"
              "  --accept-new-hostkeys  record unknown host keys (see 'collect --help')\n"
              "  --only NAME[,NAME...]  only these servers\n"
              "  --format table|json|csv  the summary printed at the end (default table)\n"
              "  -q, --quiet / -v, --verbose / -h, --help\n"
              "\n"
              "Exit status: 0 all taken, 1 nothing could be done, 2 bad usage, 3 some\n"
              "servers failed.\n"},
    {"status", "usage: kvmshift status DIR [--format table|json|csv]\n"
               "\n"
               "Show, for every server of DIR/inventory.csv: the time of its last sample,\n"
               "how many 1-minute samples are stored (last 8 days), how many gaps and\n"
               "missing minutes there are between its first and last sample, whether its\n"
               "facts were taken, and the last error the collector met (with its time).\n"
               "\n"
               "Exit status: 0 shown, 1 bad study or inventory, 2 bad usage.\n"},
    {"import", "usage: kvmshift import DIR --format bitbrains INPUTDIR [--prefix P] [OPTIONS]\n"
               "       kvmshift import DIR --format csv FILE [--prefix P] [OPTIONS]\n"
               "\n"
               "Turn existing monitoring exports into the study's data, so that a study can\n"
               "use months of history at once: for each server, DIR/rrd/NAME.rrd (written\n"
               "through a temporary name), minimal facts DIR/facts/NAME.json (\"source\":\n"
               "\"import:bitbrains\" or \"import:csv\"; CPU cores and MHz, memory size, the\n"
               "rest null) and a line 'NAME,,import,...' added to DIR/inventory.csv. The\n"
               "collector never polls servers of method import.\n"
               "\n"
               "Input formats:\n"
               "  bitbrains  INPUTDIR holds the GWA-T-12 files N.csv (';' and a tab between\n"
               "             fields, the 11-column header); N.csv becomes server PN\n"
               "             (default prefix 'bb-': bb-1). Sizes in KB are multiplied by\n"
               "             1024; disk_rd_iops and disk_wr_iops are unknown.\n"
               "  csv        FILE has a header naming the columns: server, timestamp, any of\n"
               "             cpu_pct, cpu_mhz, mem_used, mem_total, disk_rd_bps, disk_wr_bps,\n"
               "             disk_rd_iops, disk_wr_iops, net_rx_bps, net_tx_bps, and optional\n"
               "             cores and mhz (per core) for the facts. Separator ',' or ';'\n"
               "             (or tab), found from the header; \"quoted\" fields; a BOM and\n"
               "             CRLF are fine; an empty cell is unknown; with ';' a decimal comma\n"
               "             (1,5) is read too. A unit in brackets scales a column:\n"
               "               mem_used, mem_total:  B kB MB GB TB KiB MiB GiB TiB\n"
               "               *_bps:  B/s kB/s MB/s GB/s KiB/s MiB/s GiB/s\n"
               "                       bit/s kbit/s Mbit/s Gbit/s\n"
               "               cpu_pct: %   cpu_mhz, mhz: MHz GHz   *_iops: 1/s /s IOPS\n"
               "             (without a unit: bytes, bytes/s, MHz). Timestamps: Unix seconds\n"
               "             or ISO 8601 ('2024-03-01 12:00:00', '2024-03-01T12:00:00Z',\n"
               "             '...+02:00'); without a zone, UTC.\n"
               "\n"
               "Rows are grouped per server and sorted by time; the RRD heartbeat follows\n"
               "each server's most common interval. Rows are skipped, counted per reason\n"
               "and shown with their file:line: a repeated timestamp (the first row is\n"
               "kept), an unreadable number or timestamp, missing or extra fields, a\n"
               "negative value, an invalid server name. cpu_pct above 100 is stored as 100\n"
               "(the demand stays in cpu_mhz). A file whose header is not the expected one\n"
               "is an error naming file:line.\n"
               "\n"
               "A server already in the inventory with method import is replaced; one with\n"
               "another method (ssh, ...) is refused, and the others are imported.\n"
               "\n"
               "Options:\n"
               "  --format bitbrains|csv   the input format (required)\n"
               "  --prefix P               put P before every server name\n"
               "  --summary table|json|csv the summary printed at the end (default table)\n"
               "  -q, --quiet / -v, --verbose / -h, --help\n"
               "\n"
               "Exit status: 0 every server imported, 1 nothing imported (bad study,\n"
               "inventory or input), 2 bad usage, 3 some servers refused or files unusable.\n"
               "\n"
               "Example:\n"
               "  kvmshift import lab --format bitbrains rnd-2013-07\n"
               "  kvmshift import lab --format csv export.csv --format json\n"},
    {"analyze", "usage: kvmshift analyze DIR [--explain SERVER] [--format table|json]\n"
                "\n"
                "Plan the move of the study's servers to KVM virtual machines and write\n"
                "DIR/plan.json. Every server is judged eligible, conditional or not eligible,\n"
                "with its reasons: too busy for one host, disks beyond a host's storage\n"
                "budget, hardware that does not virtualize (USB dongles, FC HBAs, GPUs),\n"
                "roles kept physical (backup, infrastructure), services the hypervisors may\n"
                "need (ports 53, 67, 123, 389, 2049), too little data. Each VM is sized on a\n"
                "percentile of its hourly demand plus headroom (whole vCPUs, memory in 512\n"
                "MiB steps), then the VMs are packed hour by hour onto hosts of every\n"
                "[host-model NAME] of study.ini: one scenario per model (mixed fleets are\n"
                "not planned yet), compared on hosts, cost and power. Settings: study.ini\n"
                "[policy], [host-model NAME], [cpu-speed NAME], [anti-affinity NAME],\n"
                "[affinity NAME], [pin], [server-power] (see README \"Analyzing a study\").\n"
                "\n"
                "Options:\n"
                "  --explain SERVER       say why SERVER is placed where it is, or why it is\n"
                "                         not eligible (plan.json is written too)\n"
                "  --format table|json    the summary printed (default table)\n"
                "  -q, --quiet / -v, --verbose / -h, --help\n"
                "\n"
                "Exit status: 0 plan written, 1 bad study, inventory or study.ini (file:line\n"
                "and how to fix it), 2 bad usage or unknown server for --explain.\n"
                "\n"
                "Example:\n"
                "  kvmshift analyze lab\n"
                "  kvmshift analyze lab --explain web01\n"},
    {"report", "usage: kvmshift report DIR [--pdf] [--strict] [-q]\n"
               "\n"
               "Write the document an eligibility study ends with into DIR/report/: what a\n"
               "manager decides from and what an engineer checks line by line. The plan is\n"
               "built from the study's data as 'kvmshift analyze' builds it (if plan.json\n"
               "differs, the report says so in a note; run analyze to update it).\n"
               "\n"
               "  index.html       one self-contained file (charts inline as SVG, no network\n"
               "                   needed), readable on screen and printable: summary (servers,\n"
               "                   eligible, hosts needed, consolidation ratio, power, rack\n"
               "                   space, cost), method and limits, an eligibility table of\n"
               "                   every server (sortable, filterable), placements per host\n"
               "                   with each host's stacked CPU demand against its capacity\n"
               "                   and limit, scenarios side by side, migration nights as a\n"
               "                   calendar, data-quality notes (gaps, too little data)\n"
               "  servers.csv      one row per server\n"
               "  placements.csv   one row per VM per scenario\n"
               "  nights.csv       one row per conversion\n"
               "  servers/NAME.html, hosts/HOST.html\n"
               "                   a page per server (studies of more than 60 servers) and per\n"
               "                   host (more than 24 hosts), so that index.html stays small\n"
               "  report.pdf       with --pdf\n"
               "\n"
               "Charts are drawn by gnuplot (package gnuplot-nox; KS_GNUPLOT names another\n"
               "program). Without it, or when it fails, the report is still written, with a\n"
               "note in place of each chart. The report is made under a temporary name and\n"
               "replaces the previous one only when complete.\n"
               "\n"
               "Options:\n"
               "  --pdf           also print the report to report.pdf with headless Chromium\n"
               "                  (package chromium; KS_CHROMIUM names another program)\n"
               "  --strict        exit 3 when a chart could not be drawn or the PDF failed\n"
               "  -q, --quiet / -v, --verbose / -h, --help\n"
               "\n"
               "Exit status: 0 report written (charts that could not be drawn are notes in\n"
               "it, and a PDF that failed is a warning), 1 no report written (bad study,\n"
               "inventory or study.ini; the previous report is left as it was), 2 bad usage,\n"
               "3 with --strict: written, but some charts or the PDF are missing.\n"
               "\n"
               "Example:\n"
               "  kvmshift report lab\n"
               "  kvmshift report lab --pdf     # then open lab/report/index.html\n"},
};

int tool_usage(const char *cmd, FILE *f)
{
    for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++) {
        if (strcmp(usages[i].cmd, cmd) == 0) {
            fputs(usages[i].text, f);
            return 1;
        }
    }
    return 0;
}

int tool_parse_format(const char *s, tool_format *out)
{
    if (strcmp(s, "table") == 0)
        *out = FMT_TABLE;
    else if (strcmp(s, "json") == 0)
        *out = FMT_JSON;
    else if (strcmp(s, "csv") == 0)
        *out = FMT_CSV;
    else
        return -1;
    return 0;
}

void tool_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
