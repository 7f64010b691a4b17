#!/bin/bash
# shellcheck disable=SC2015
# (SC2015: "A && B || die" is meant.)
# bench_rrd.sh: samples written per second by kvmshift's RRD store
# (collector/col_rrd.c) with librrd directly and through rrdcached, measured
# in the same run on fresh files, plus a variant with many more files and
# fewer samples each. Builds nothing (bench_rrd is built with the project);
# run on demand, not a ctest test, and nothing here asserts a time. See
# README.md in this directory.
#
#   tests/bench/bench_rrd.sh [--bin PATH] [--files N] [--samples S]
#                            [--many-files N] [--many-samples S]
#                            [--no-many] [--json FILE]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

BIN=$ROOT/build/tests/bench_rrd
FILES=200
SAMPLES=300
MANY_FILES=2000
MANY_SAMPLES=20
MANY=1
JSON=""
FILE_MB=8 # one kvmshift RRD file is 7.8 MB (col_rrd.c's layout)

usage() {
    sed -n '4,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

die() {
    printf 'bench_rrd: %s\n' "$*" >&2
    exit 1
}

posint() {
    [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 wants a positive whole number, not '$2'"
}

while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=${2:?--bin PATH}; shift 2 ;;
    --files) FILES=${2:?--files N}; shift 2 ;;
    --samples) SAMPLES=${2:?--samples S}; shift 2 ;;
    --many-files) MANY_FILES=${2:?--many-files N}; shift 2 ;;
    --many-samples) MANY_SAMPLES=${2:?--many-samples S}; shift 2 ;;
    --no-many) MANY=0; shift ;;
    --json) JSON=${2:?--json FILE}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) printf 'bench_rrd: unknown argument %s\n' "$1" >&2; usage 2 ;;
    esac
done
posint --files "$FILES"
posint --samples "$SAMPLES"
posint --many-files "$MANY_FILES"
posint --many-samples "$MANY_SAMPLES"
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
[ -x "$BIN" ] || die "'$BIN' is missing: build the project (it builds tests/bench_rrd), or pass --bin PATH"
if [ -n "$JSON" ]; then
    case $JSON in /*) ;; *) JSON=$PWD/$JSON ;; esac
    : >"$JSON" || die "cannot write '$JSON'"
fi

ks_need rrdcached jq df awk

ks_workdir
W=$KS_WORKDIR

# Only one set of files exists at a time (each run deletes its own), so the
# largest set must fit, with 10 % to spare.
biggest=$FILES
[ $MANY = 1 ] && [ "$MANY_FILES" -gt "$biggest" ] && biggest=$MANY_FILES
need_kb=$((biggest * FILE_MB * 1024 * 11 / 10))
have_kb=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
[ "$have_kb" -ge "$need_kb" ] ||
    die "$biggest files need about $((need_kb / 1024)) MB in '$W' but only $((have_kb / 1024)) MB are free: set TMPDIR to a file system with room"
printf 'bench_rrd: work directory %s (%d MB free, %d MB needed)\n' "$W" $((have_kb / 1024)) $((need_kb / 1024))

# run_direct LABEL N S: bench_rrd writing the files with librrd.
run_direct() {
    local label=$1 n=$2 s=$3 dir="$W/$1"
    mkdir -p "$dir"
    printf '\n'
    "$BIN" --dir "$dir" --files "$n" --samples "$s" --json "$W/$label.json" ||
        die "$label: bench_rrd failed"
    rm -rf "$dir"
}

# run_daemon LABEL N S: a fresh rrdcached, bench_rrd writing through it, the
# daemon stopped by pid. Options:
#   -g             stay in the foreground, so that the pid ks_run tracks is
#                  the daemon's own
#   -l unix:SOCK   a unix socket in the work directory (as the integration
#                  test does); no TCP port to find or to expose
#   -j DIR         journal every accepted update, as a production daemon
#                  would (without it a crash loses up to -w seconds of data);
#                  part of the cost of accepting
#   -w 3600 -z 1   write a file at most once an hour (the figure for "many
#                  updates per write"), with 1 s of random spread: nothing
#                  reaches the files before bench_rrd's flush, so "accepted"
#                  and "on disk" are two separate phases
#   -f 7200        flush stale values after 2 hours: never during the run
#   -t 4           four writer threads (the default, stated): the flush is
#                  one FLUSH request per file, each waited for, so only one
#                  writes at a time anyway
#   -p PIDFILE     a pid file in the work directory, not /var/run
# Not -F (flush everything on shutdown): bench_rrd has flushed already, and
# after a failed run it would write files that are deleted next. Not -B:
# col_store sends absolute paths.
run_daemon() {
    local label=$1 n=$2 s=$3 dir="$W/$1"
    local sock="$W/$label.sock" journal="$W/$label.journal"
    mkdir -p "$dir" "$journal"
    ks_run rrdcached -g -l "unix:$sock" -j "$journal" -w 3600 -z 1 -f 7200 -t 4 -p "$W/$label.pid"
    local pid=$KS_LAST_PID log=$KS_LAST_LOG i
    for ((i = 0; i < 100; i++)); do
        [ -S "$sock" ] && break
        ks__alive "$pid" || break
        sleep 0.1
    done
    [ -S "$sock" ] || {
        sed 's/^/    /' "$log" >&2
        die "$label: rrdcached (pid $pid) did not open $sock; its output is above"
    }
    printf '\n'
    "$BIN" --dir "$dir" --files "$n" --samples "$s" --daemon "unix:$sock" --daemon-pid "$pid" \
        --json "$W/$label.json" || die "$label: bench_rrd failed; rrdcached's output is in $log"
    ks_kill "$pid"
    rm -rf "$dir" "$journal"
}

run_direct direct "$FILES" "$SAMPLES"
run_daemon rrdcached "$FILES" "$SAMPLES"
if [ $MANY = 1 ]; then
    run_direct many_direct "$MANY_FILES" "$MANY_SAMPLES"
    run_daemon many_rrdcached "$MANY_FILES" "$MANY_SAMPLES"
fi

# ------------------------------------------------------------------- report
# table DIRECT_JSON DAEMON_JSON: one block of the table.
table() {
    jq -r -n --slurpfile d "$1" --slurpfile c "$2" '
        def f0: if . == null then "n/a" else (. + 0.5 | floor | tostring) end;
        def f2: if . == null then "n/a" else (. * 100 + 0.5 | floor / 100 | tostring) end;
        def ratio(a; b): if a == null or b == null or b == 0 then "n/a" else (a / b | f2) end;
        $d[0] as $d | $c[0] as $c |
        "\($d.files) files x \($d.samples_per_file) samples (\($d.updates) updates)",
        "  direct, samples/s (in the files)           \($d.update.samples_per_s | f0)",
        "  rrdcached, accepted/s                      \($c.update.samples_per_s | f0)   x\(ratio($c.update.samples_per_s; $d.update.samples_per_s)) of direct",
        "  rrdcached, on disk/s (update + flush)      \($c.on_disk.samples_per_s | f0)   x\(ratio($c.on_disk.samples_per_s; $d.update.samples_per_s)) of direct",
        "  rrdcached flush                            \($c.flush.wall_s | f2) s",
        "  CPU s, bench process: direct update        \($d.update.cpu_s | f2)",
        "  CPU s, bench process: rrdcached update+flush \($c.on_disk.cpu_s | f2)",
        "  CPU s, rrdcached daemon: update / flush    \($c.update.daemon_cpu_s | f2) / \($c.flush.daemon_cpu_s | f2)",
        "  CPU us per sample, direct / via daemon (both processes)  \(($d.update.cpu_s / $d.updates * 1e6) | f0) / \((($c.on_disk.cpu_s + $c.update.daemon_cpu_s + $c.flush.daemon_cpu_s) / $c.updates * 1e6) | f0)",
        "  files created/s, direct / via daemon       \($d.create.files_per_s | f0) / \($c.create.files_per_s | f0)"'
}

printf '\nbench_rrd: results (%s, %s CPUs)\n' "$(date '+%F %T')" "$(nproc)"
table "$W/direct.json" "$W/rrdcached.json"
[ $MANY = 1 ] && table "$W/many_direct.json" "$W/many_rrdcached.json"

if [ -n "$JSON" ]; then
    many_d=null many_c=null
    if [ $MANY = 1 ]; then
        many_d=$W/many_direct.json many_c=$W/many_rrdcached.json
    fi
    jq -n --arg date "$(date -u '+%FT%TZ')" --argjson cpus "$(nproc)" --arg bin "$BIN" \
        --slurpfile d "$W/direct.json" --slurpfile c "$W/rrdcached.json" \
        --argjson md "$([ $MANY = 1 ] && cat "$many_d" || echo null)" \
        --argjson mc "$([ $MANY = 1 ] && cat "$many_c" || echo null)" '
        def ratio(a; b): if a == null or b == null or b == 0 then null else a / b end;
        def pair(d; c): {
            direct: d, rrdcached: c,
            ratio_accepted_over_direct: ratio(c.update.samples_per_s; d.update.samples_per_s),
            ratio_on_disk_over_direct: ratio(c.on_disk.samples_per_s; d.update.samples_per_s) };
        { benchmark: "rrd", date: $date, cpus: $cpus, bin: $bin,
          main: pair($d[0]; $c[0]),
          many_files: (if $md == null then null else pair($md; $mc) end) }' >"$JSON"
    printf '\nbench_rrd: wrote %s\n' "$JSON"
fi
