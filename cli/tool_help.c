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
               "how many 1-minute samples (rows of its own step for an imported server)\n"
               "are stored (last 8 days), how many gaps and missing rows there are between\n"
               "its first and last sample, whether its facts were taken, and the last\n"
               "error the collector met (with its time).\n"
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
               "  csv        FILE (as it is, or compressed with gzip: export.csv.gz) has a\n"
               "             header naming the columns: server, timestamp, any of\n"
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
               "Rows are grouped per server and sorted by time; the RRD heartbeat, and\n"
               "from 300 s up its step, follow each server's most common interval (30\n"
               "days of hourly rows: 120 kB). Rows are skipped, counted per reason and\n"
               "shown with their file:line: a repeated timestamp (the first row is\n"
               "kept), an unreadable number or timestamp, missing or extra fields, a\n"
               "negative value, an invalid server name. cpu_pct above 100 is stored as 100\n"
               "(the demand stays in cpu_mhz). A file whose header is not the expected one\n"
               "is an error naming file:line.\n"
               "\n"
               "A server already in the inventory with method import is replaced; one with\n"
               "another method (ssh, ...) is refused, and the others are imported. The\n"
               "facts of a server of method import are kept when no import made them (no\n"
               "\"source\": \"import:...\"; e.g. written by hand): only its data is replaced.\n"
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
               "  kvmshift import lab --format csv export.csv --summary json\n"},
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
                "[host-model NAME] of study.ini: one scenario per model, and with two\n"
                "models or more a 'mixed' one (hosts of the largest model, each turned into\n"
                "the cheapest model its VMs fit), compared on cost, hosts and power; hosts\n"
                "that exist already ([host-model NAME] existing = N) are filled first.\n"
                "Settings: study.ini\n"
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
    {"demo", "usage: kvmshift demo [--sample NAME] [--out DIR] [--samples-dir DIR] [-q]\n"
             "       kvmshift demo --list [--samples-dir DIR]\n"
             "\n"
             "Try kvmshift on a bundled sample study, with no server to sample: the\n"
             "sample is copied into the study directory DIR, its data imported (as\n"
             "'kvmshift import --format csv' does), its servers analyzed (DIR/plan.json,\n"
             "as 'kvmshift analyze' does) and its report written (DIR/report/index.html).\n"
             "The last lines printed name the study, the plan and the report:\n"
             "  study:  /home/me/kvmshift-demo\n"
             "  plan:   /home/me/kvmshift-demo/plan.json\n"
             "  report: /home/me/kvmshift-demo/report/index.html\n"
             "\n"
             "Samples:\n"
             "  lab        16 physical servers of a research laboratory over two weeks\n"
             "             (5-minute data, synthetic): mail, web, database, monitoring,\n"
             "             SSH gateways, DNS, LDAP, NFS, backup, compute nodes (one too\n"
             "             busy to move), a licence server with a USB dongle; two host\n"
             "             models, anti-affinity, dependencies, migration nights\n"
             "  bitbrains  250 virtual machines of the public GWA-T-12 Bitbrains trace\n"
             "             (TU Delft) over a month, hourly; the trace's reference host\n"
             "             model (2 x 16 cores, 384 GiB) and a denser one; its RRD\n"
             "             files take about 2 GB\n"
             "A sample is a directory NAME holding study.ini, inventory.csv, facts/ and\n"
             "data/*.csv.gz (see samples/README.md in the sources).\n"
             "\n"
             "DIR is put together under a temporary name next to it and renamed into\n"
             "place once its data is in, so a failed demo leaves no half-made DIR. A DIR\n"
             "made by an earlier demo (it holds the file .kvmshift-demo) is replaced; an\n"
             "empty directory is used; anything else is refused and left unchanged.\n"
             "\n"
             "Options:\n"
             "  --sample NAME        the sample to use (default lab)\n"
             "  --out DIR            the study directory to write (default ./kvmshift-demo)\n"
             "  --samples-dir DIR    where the samples are. Default: $KS_SAMPLES, else the\n"
             "                       installed ones (share/kvmshift/samples under the\n"
             "                       installation prefix), else the samples/ directory of\n"
             "                       the source tree kvmshift was built from\n"
             "  --list               list the samples found there, then stop\n"
             "  -q, --quiet          print only the last lines (study, plan, report)\n"
             "  -v, --verbose / -h, --help\n"
             "\n"
             "Exit status: 0 report written (a kvmshift built without the report\n"
             "component stops at the plan, says so, and exits 0), 1 the sample could not\n"
             "be imported, analyzed or reported, 2 bad usage, an unknown sample, or DIR\n"
             "exists and was not made by kvmshift demo.\n"
             "\n"
             "Example:\n"
             "  kvmshift demo\n"
             "  kvmshift demo --sample bitbrains --out bb-study\n"
             "  kvmshift analyze kvmshift-demo --explain dns01\n"},
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
