#!/bin/bash
# shellcheck disable=SC2015,SC2016
# (SC2015: "A && B || die" is meant; SC2016: single-quoted scripts on purpose.)
# bench_snmp_collectd.sh: kvmshift's SNMP collector against collectd's snmp
# plugin (with its rrdtool plugin), polling the same snmpd agents on
# 127.1.x.y for the same OIDs into RRD files: CPU seconds per 10,000
# samples at the same interval, then, at a compressed interval, the share
# of samples each one stores as the agent count grows (see README.md for
# how that is scaled to 60 s). Run on demand, as root; not a ctest test and
# nothing here asserts a time.
#
#   tests/bench/bench_snmp_collectd.sh [--bin PATH] [--agents N] [--snmpd N]
#                                      [--interval SECS] [--duration SECS]
#                                      [--sweep "N1 N2 ..."] [--sweep-interval SECS]
#                                      [--sweep-duration SECS] [--read-threads N]
#                                      [--port PORT] [--only kvmshift|collectd]
#                                      [--json FILE]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

BIN=$ROOT/build/cli/kvmshift
AGENTS=600
SNMPD=8
INTERVAL=60
DURATION=180
SWEEP="600 1200 1800"
SWEEP_INTERVAL=10
SWEEP_DURATION=60
READ_THREADS=64
PORT=16100
ONLY=""
JSON=""
COMMUNITY=kvmshift-bench
COLLECTD=/usr/sbin/collectd

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

die() {
    printf 'bench_snmp_collectd: %s\n' "$*" >&2
    exit 1
}

note() {
    printf 'bench_snmp_collectd: %s\n' "$*" >&2
}

posint() {
    [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 wants a positive whole number, not '$2'"
}

while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=${2:?--bin PATH}; shift 2 ;;
    --agents) AGENTS=${2:?--agents N}; shift 2 ;;
    --snmpd) SNMPD=${2:?--snmpd N}; shift 2 ;;
    --interval) INTERVAL=${2:?--interval SECS}; shift 2 ;;
    --duration) DURATION=${2:?--duration SECS}; shift 2 ;;
    --sweep) SWEEP=${2?--sweep "N1 N2 ..."}; shift 2 ;;
    --sweep-interval) SWEEP_INTERVAL=${2:?--sweep-interval SECS}; shift 2 ;;
    --sweep-duration) SWEEP_DURATION=${2:?--sweep-duration SECS}; shift 2 ;;
    --read-threads) READ_THREADS=${2:?--read-threads N}; shift 2 ;;
    --port) PORT=${2:?--port PORT}; shift 2 ;;
    --only) ONLY=${2:?--only kvmshift|collectd}; shift 2 ;;
    --json) JSON=${2:?--json FILE}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) printf 'bench_snmp_collectd: unknown argument %s\n' "$1" >&2; usage 2 ;;
    esac
done
for v in AGENTS SNMPD INTERVAL DURATION SWEEP_INTERVAL SWEEP_DURATION READ_THREADS PORT; do
    posint "--$(tr '_A-Z' '-a-z' <<<"$v")" "${!v}"
done
for n in $SWEEP; do posint --sweep "$n"; done
case $ONLY in "" | kvmshift | collectd) ;; *) die "--only takes 'kvmshift' or 'collectd', not '$ONLY'" ;; esac
[ "$DURATION" -ge $((2 * INTERVAL)) ] || die "--duration $DURATION: at least two --interval ($INTERVAL)"
[ "$SWEEP_DURATION" -ge $((3 * SWEEP_INTERVAL)) ] || die "--sweep-duration $SWEEP_DURATION: at least three --sweep-interval ($SWEEP_INTERVAL)"
[ "$SWEEP_INTERVAL" -ge 10 ] || die "--sweep-interval $SWEEP_INTERVAL: net-snmp refreshes its CPU counters every 5 s, so at least 10 s"
MAXN=$AGENTS
for n in $SWEEP; do [ "$n" -le "$MAXN" ] || MAXN=$n; done
[ "$MAXN" -le 20000 ] || die "at most 20000 agents"
[ "$MAXN" -ge "$SNMPD" ] || die "--snmpd $SNMPD is more than the $MAXN agents"
if [ -n "$JSON" ]; then
    case $JSON in /*) ;; *) JSON=$PWD/$JSON ;; esac
    : >"$JSON" || die "cannot write '$JSON'"
fi
RUN_K=1 RUN_C=1
[ "$ONLY" = collectd ] && RUN_K=0
[ "$ONLY" = kvmshift ] && RUN_C=0
if [ $RUN_K = 1 ]; then
    [ -x "$BIN" ] || die "'$BIN' is missing: build it, or pass --bin PATH (or --only collectd)"
    BIN=$(realpath "$BIN")
fi

ks_need_root
ks_need snmpd snmpget python3 ss ps awk rrdtool df
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is missing: install it with 'apt-get install time'"
if [ $RUN_C = 1 ]; then
    [ -x "$COLLECTD" ] && [ -f /usr/lib/collectd/snmp.so ] && [ -f /usr/lib/collectd/rrdtool.so ] ||
        die "collectd with its snmp and rrdtool plugins is missing: install it with 'apt-get install collectd-core'"
fi
CLK_TCK=$(getconf CLK_TCK)
# kvmshift: 8 MiB a server; collectd: one file per value list, ~40 a server.
NEED_MIB=$((MAXN * 16))
FREE_MIB=$(df -Pm "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }')
[ "$FREE_MIB" -ge "$NEED_MIB" ] ||
    die "about $((NEED_MIB / 1024)) GiB are needed under '${TMPDIR:-/tmp}' for the RRD files; $((FREE_MIB / 1024)) GiB are free: set TMPDIR to a larger file system"

addr_of() { printf '127.1.%d.%d' $(($1 / 250)) $(($1 % 250 + 1)); }

ks_workdir
[ -z "$(ss -Hunl "sport = :$PORT")" ] || die "UDP port $PORT is already used (see 'ss -unlp sport = :$PORT'): pass --port"

# ------------------------------------------------------------------- agents
A=$KS_WORKDIR/snmpd
mkdir -p "$A"
printf 'rocommunity %s 127.0.0.0/8\ndontLogTCPWrappersConnects yes\n' "$COMMUNITY" >"$A/snmpd.conf"
note "starting $SNMPD snmpd for $MAXN agents on 127.1.x.y:$PORT"
SNMPD_PIDS=()
for ((a = 0; a < SNMPD; a++)); do
    list=""
    for ((k = a * MAXN / SNMPD; k < (a + 1) * MAXN / SNMPD; k++)); do
        list+="udp:$(addr_of "$k"):$PORT,"
    done
    mkdir -p "$A/$a/persist"
    ks_run env SNMP_PERSISTENT_DIR="$A/$a/persist" snmpd -f -Lf "$A/$a/snmpd.log" -C \
        -c "$A/snmpd.conf" -p "$A/$a/snmpd.pid" -M /dev/null -m "" "${list%,}"
    SNMPD_PIDS+=("$KS_LAST_PID")
done
for ((i = 0; i < 300; i++)); do
    have=$(ss -Hunl "sport = :$PORT" | wc -l)
    [ "$have" -ge "$MAXN" ] && break
    sleep 0.2
done
[ "$have" -ge "$MAXN" ] || die "only $have of $MAXN agent addresses listen after 60 s; see $A/*/snmpd.log"
for ((a = 0; a < SNMPD; a++)); do
    snmpget -v2c -c "$COMMUNITY" -t 2 -r 1 "$(addr_of $((a * MAXN / SNMPD))):$PORT" 1.3.6.1.2.1.1.3.0 >/dev/null ||
        die "snmpd $a does not answer"
done
sleep 6 # net-snmp's first CPU reading

agents_cpu() {
    local pid line
    for pid in "${SNMPD_PIDS[@]}"; do
        read -r line <"/proc/$pid/stat" || die "snmpd pid $pid is gone"
        line=${line##*) }
        printf '%s\n' "$line"
    done | awk -v hz="$CLK_TCK" '{ t += $12 + $13 + $14 + $15 } END { printf "%.2f\n", t / hz }'
}

# CPU seconds (all threads) and peak RSS (KiB) of a running process.
proc_cpu() {
    local s
    read -r s <"/proc/$1/stat" || return 1
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    awk -v t=$((${12} + ${13})) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f\n", t / hz }'
}
proc_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# ----------------------------------------------------------------- kvmshift
STUDY=$KS_WORKDIR/study
ks_defer rm -rf "$STUDY"
# inventory of the first N agents
k_inventory() {
    local n=$1 k
    {
        echo "name,address,method,port,user,key,role,group,tags"
        for ((k = 0; k < n; k++)); do
            printf 'agent%05d,%s,snmp,%d,,snmp/bench.secrets,bench,,\n' "$k" "$(addr_of "$k")" "$PORT"
        done
    } >"$STUDY/inventory.csv"
}
if [ $RUN_K = 1 ]; then
    "$BIN" init "$STUDY" >"$KS_WORKDIR/logs/kvmshift-init.log" 2>&1 || die "'$BIN init $STUDY' failed"
    mkdir -p "$STUDY/snmp"
    printf 'version = 2c\ncommunity = %s\n' "$COMMUNITY" >"$STUDY/snmp/bench.secrets"
    chmod 600 "$STUDY/snmp/bench.secrets"
    # One warm-up run makes every RRD file (8 MiB each) and takes the facts,
    # which a long study does once: the measured runs find them made.
    k_inventory "$MAXN"
    note "kvmshift warm-up: RRD files and facts of $MAXN agents"
    "$BIN" collect "$STUDY" --once --window 6 --interval "$INTERVAL" --quiet --format json \
        >"$KS_WORKDIR/k-warmup.json" 2>"$KS_WORKDIR/k-warmup.err" || note "warning: warm-up exited with $?"
fi

# k_run N INTERVAL DURATION: sets K_CPU K_RSS K_WALL K_SAMPLES K_READINGS
k_run() {
    local n=$1 iv=$2 dur=$3 tf="$KS_WORKDIR/time.k.$1.$2"
    k_inventory "$n"
    local out="$KS_WORKDIR/k.$n.$iv.json" err="$KS_WORKDIR/k.$n.$iv.err"
    export K_OUT=$out K_ERR=$err
    ks_run /usr/bin/time -f '%e %U %S %M' -o "$tf" sh -c 'exec "$0" "$@" >"$K_OUT" 2>"$K_ERR"' \
        "$BIN" collect "$STUDY" --interval "$iv" --duration "$dur" --quiet --format json
    local pid=$KS_LAST_PID rc=0
    wait "$pid" || rc=$?
    local u s
    read -r K_WALL u s K_RSS < <(tail -n 1 "$tf")
    K_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    # samples: readings with rates (the summary); read cycles: those plus
    # the first reading of each server, which costs the same
    read -r K_SAMPLES K_READINGS < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = sum(x.get("samples") or 0 for x in r)
print(s, s + sum(1 for x in r if (x.get("samples") or 0) > 0))' "$out" 2>/dev/null || echo "0 0")
    [ "$rc" = 0 ] || note "kvmshift exited with $rc ($n agents every $iv s); see $err"
}

# ----------------------------------------------------------------- collectd
# c_conf N INTERVAL DIR: collectd.conf polling the first N agents for what
# kvmshift reads per sample: ssCpuRaw*, memory, uptime, IF-MIB HC octets per
# interface, UCD-DISKIO bytes and operations per device.
c_conf() {
    local n=$1 iv=$2 d=$3 k
    mkdir -p "$d/rrd"
    {
        cat <<EOF
Hostname "bench"
FQDNLookup false
Interval $iv
ReadThreads $READ_THREADS
BaseDir "$d"
PIDFile "$d/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel warning
  File "$d/collectd.log"
  Timestamp true
</Plugin>
LoadPlugin snmp
LoadPlugin rrdtool
<Plugin rrdtool>
  DataDir "$d/rrd"
  HeartBeat $((iv * 3 / 2))
</Plugin>
<Plugin snmp>
EOF
        local i=0 cpu
        for cpu in user:50 nice:51 system:52 idle:53 wait:54 interrupt:56 softirq:61 steal:64; do
            printf '  <Data "cpu_%s">\n    Type "cpu"\n    Table false\n    TypeInstance "%s"\n    Values ".1.3.6.1.4.1.2021.11.%s.0"\n  </Data>\n' \
                "${cpu%%:*}" "${cpu%%:*}" "${cpu##*:}"
        done
        local m
        for m in total:5 avail:6 buffer:14 cached:15 sysavail:27; do
            printf '  <Data "mem_%s">\n    Type "memory"\n    Table false\n    TypeInstance "%s"\n    Values ".1.3.6.1.4.1.2021.4.%s.0"\n    Scale 1024\n  </Data>\n' \
                "${m%%:*}" "${m%%:*}" "${m##*:}"
        done
        cat <<'EOF'
  <Data "uptime">
    Type "uptime"
    Table false
    Values ".1.3.6.1.2.1.25.1.1.0"
    Scale 0.01
  </Data>
  <Data "if_octets">
    Type "if_octets"
    Table true
    TypeInstanceOID ".1.3.6.1.2.1.31.1.1.1.1"
    Values ".1.3.6.1.2.1.31.1.1.1.6" ".1.3.6.1.2.1.31.1.1.1.10"
  </Data>
  <Data "disk_octets">
    Type "disk_octets"
    Table true
    TypeInstanceOID ".1.3.6.1.4.1.2021.13.15.1.1.2"
    Values ".1.3.6.1.4.1.2021.13.15.1.1.12" ".1.3.6.1.4.1.2021.13.15.1.1.13"
  </Data>
  <Data "disk_ops">
    Type "disk_ops"
    Table true
    TypeInstanceOID ".1.3.6.1.4.1.2021.13.15.1.1.2"
    Values ".1.3.6.1.4.1.2021.13.15.1.1.5" ".1.3.6.1.4.1.2021.13.15.1.1.6"
  </Data>
EOF
        for ((k = 0; k < n; k++)); do
            printf '  <Host "agent%05d">\n    Address "%s:%d"\n    Version 2\n    Community "%s"\n    Timeout 2\n    Retries 1\n    Interval %d\n' \
                "$k" "$(addr_of "$k")" "$PORT" "$COMMUNITY" "$iv"
            printf '    Collect "cpu_user" "cpu_nice" "cpu_system" "cpu_idle" "cpu_wait" "cpu_interrupt" "cpu_softirq" "cpu_steal" "mem_total" "mem_avail" "mem_buffer" "mem_cached" "mem_sysavail" "uptime" "if_octets" "disk_octets" "disk_ops"\n  </Host>\n'
        done
        echo "</Plugin>"
    } >"$d/collectd.conf"
    "$COLLECTD" -t -C "$d/collectd.conf" >"$d/conftest.log" 2>&1 ||
        die "collectd rejects $d/collectd.conf: $(head -n 3 "$d/conftest.log")"
}

# c_count DIR N INTERVAL T0 T1: "KNOWN TOTAL" rows of the hosts' uptime.rrd
# whose time stamps (rrdtool's, the end of each row: row T holds (T - I, T])
# are in [T0, T1]. collectd writes one value per read cycle at its own phase
# in the interval, so row T is known only once the first write at or after T
# has arrived (at most one interval later); a skipped cycle leaves a gap of
# 2 I > the heartbeat of 1.5 I, which makes the rows inside it unknown (k
# skipped cycles in a row: k or k + 1 unknown rows, by the host's phase, so
# the known share is a lower bound on the share stored). T1 must be at least one interval
# before collectd is stopped, or its last row counts as a gap. Note that
# 'rrdtool fetch -s S -e E' prints rows S + I .. E + I, so the rows are
# filtered by time stamp here. A missing file counts as rows of unknowns.
c_count() {
    local d=$1 n=$2 iv=$3 t0=$4 t1=$5 k f missing=0
    : >"$d/fetch.cmd"
    for ((k = 0; k < n; k++)); do
        f=$(printf '%s/rrd/agent%05d/snmp/uptime.rrd' "$d" "$k")
        if [ -f "$f" ]; then
            printf 'fetch %s AVERAGE -r %d -s %d -e %d\n' "$f" "$iv" $((t0 - iv)) "$t1" >>"$d/fetch.cmd"
        else
            missing=$((missing + 1))
        fi
    done
    rrdtool - <"$d/fetch.cmd" >"$d/fetch.out" 2>&1 || true
    awk -v miss="$missing" -v per=$(((t1 - t0) / iv + 1)) -v t0="$t0" -v t1="$t1" '
        /^ *[0-9]+: / { ts = $1 + 0; if (ts < t0 || ts > t1) next; t++; if ($2 !~ /nan/) c++ }
        END { print c + 0, t + miss * per }' "$d/fetch.out"
}

# c_run N INTERVAL DURATION: sets C_CPU C_RSS C_WALL C_CYCLES C_EXPECTED
c_run() {
    local n=$1 iv=$2 dur=$3 d="$KS_WORKDIR/collectd.$1.$2"
    c_conf "$n" "$iv" "$d"
    # Warm-up: one read cycle makes every RRD file (and the first value of
    # each counter); then the measured window starts.
    MIBS="" MIBDIRS=/dev/null ks_run "$COLLECTD" -f -C "$d/collectd.conf"
    local pid=$KS_LAST_PID
    local i
    for ((i = 0; i < 120; i++)); do
        sleep 1
        ks__alive "$pid" || die "collectd exited; see $d/collectd.log and $KS_LAST_LOG"
        [ "$(find "$d/rrd" -name uptime.rrd 2>/dev/null | wc -l)" -ge "$n" ] && break
    done
    # start the window on an interval boundary after the files exist
    local now t0
    now=$(date +%s)
    t0=$(((now / iv + 1) * iv))
    sleep $((t0 - now))
    local c0 w0
    c0=$(proc_cpu "$pid")
    w0=${EPOCHREALTIME}
    sleep "$dur"
    local c1 w1
    c1=$(proc_cpu "$pid")
    w1=${EPOCHREALTIME}
    C_RSS=$(proc_hwm "$pid")
    ks_kill "$pid"
    C_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
    C_WALL=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }')
    # read cycles in (t0, t0 + dur]: dur / iv per host
    C_EXPECTED=$((n * dur / iv))
    # The share stored is that of the known rows stamped t0 + iv .. t0 +
    # dur - iv (dur / iv - 1 per host): each is made known by the write of
    # one cycle inside the window. Row t0 + dur is left out: the write that
    # would close it comes after collectd is stopped (counting it made every
    # run read 50 % at dur = 2 or 3 intervals).
    local known total
    read -r known total < <(c_count "$d" "$n" "$iv" $((t0 + iv)) $((t0 + dur - iv)))
    C_ROWS="$known/$total"
    C_CYCLES=$(awk -v k="$known" -v t="$total" -v e="$C_EXPECTED" 'BEGIN { printf "%d", (t > 0 ? e * k / t + 0.5 : 0) }')
    # collectd's own word on falling behind: warnings, stamped in the
    # window, that one host's read took longer than the interval (a count of
    # late reads, not a share)
    C_LATE=$(awk -v from="[$(date -d "@$t0" '+%Y-%m-%d %H:%M:%S')]" '
        /above its read interval/ && $1 " " $2 >= from { c++ } END { print c + 0 }' "$d/collectd.log" 2>/dev/null || echo 0)
    note "collectd: $C_ROWS rows known ($n agents every $iv s); $C_LATE 'above its read interval' warnings in its log"
}

# ------------------------------------------------------- same-interval CPU
RESULTS=$KS_WORKDIR/results.tsv
: >"$RESULTS"
if [ $RUN_K = 1 ]; then
    note "kvmshift: $AGENTS agents every $INTERVAL s for $DURATION s"
    a0=$(agents_cpu)
    k_run "$AGENTS" "$INTERVAL" "$DURATION"
    a1=$(agents_cpu)
    # asked for: every agent read at 0, I, 2I, ... before the end
    ask=$((AGENTS * ((DURATION + INTERVAL - 1) / INTERVAL)))
    printf 'cpu\tkvmshift\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$AGENTS" "$INTERVAL" "$K_CPU" "$K_RSS" "$K_WALL" \
        "$K_READINGS" "$ask" "$(awk -v a="$a0" -v b="$a1" 'BEGIN { printf "%.2f", b - a }')" - >>"$RESULTS"
fi
if [ $RUN_C = 1 ]; then
    note "collectd: $AGENTS agents every $INTERVAL s for $DURATION s (after one warm-up cycle)"
    a0=$(agents_cpu)
    c_run "$AGENTS" "$INTERVAL" "$DURATION"
    a1=$(agents_cpu)
    printf 'cpu\tcollectd\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$AGENTS" "$INTERVAL" "$C_CPU" "$C_RSS" "$C_WALL" \
        "$C_CYCLES" "$C_EXPECTED" "$(awk -v a="$a0" -v b="$a1" 'BEGIN { printf "%.2f", b - a }')" "$C_LATE" >>"$RESULTS"
fi

# -------------------------------------------------------------------- sweep
for n in $SWEEP; do
    if [ $RUN_K = 1 ]; then
        note "sweep: kvmshift, $n agents every $SWEEP_INTERVAL s for $SWEEP_DURATION s"
        a0=$(agents_cpu)
        k_run "$n" "$SWEEP_INTERVAL" "$SWEEP_DURATION"
        a1=$(agents_cpu)
        ask=$((n * ((SWEEP_DURATION + SWEEP_INTERVAL - 1) / SWEEP_INTERVAL)))
        printf 'sweep\tkvmshift\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$SWEEP_INTERVAL" "$K_CPU" "$K_RSS" "$K_WALL" \
            "$K_READINGS" "$ask" "$(awk -v a="$a0" -v b="$a1" 'BEGIN { printf "%.2f", b - a }')" - >>"$RESULTS"
    fi
    if [ $RUN_C = 1 ]; then
        note "sweep: collectd, $n agents every $SWEEP_INTERVAL s for $SWEEP_DURATION s"
        a0=$(agents_cpu)
        c_run "$n" "$SWEEP_INTERVAL" "$SWEEP_DURATION"
        a1=$(agents_cpu)
        printf 'sweep\tcollectd\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$SWEEP_INTERVAL" "$C_CPU" "$C_RSS" "$C_WALL" \
            "$C_CYCLES" "$C_EXPECTED" "$(awk -v a="$a0" -v b="$a1" 'BEGIN { printf "%.2f", b - a }')" "$C_LATE" >>"$RESULTS"
        rm -rf "$KS_WORKDIR/collectd.$n.$SWEEP_INTERVAL"
    fi
done

# ------------------------------------------------------------------- report
# Per 10,000 samples: CPU seconds / read cycles asked for (agents x readings
# in the window) on both sides, as bench_ssh.sh does; the share stored is
# shown next to it. A tool keeps up at N when it stores >= 99% of what was
# asked; the 60 s figure scales the largest such N by 60 / sweep interval.
awk -F'\t' -v json="$JSON" -v bin="$BIN" -v threads="$READ_THREADS" -v snmpd="$SNMPD" \
    -v sweep_iv="$SWEEP_INTERVAL" -v sweep_dur="$SWEEP_DURATION" -v duration="$DURATION" '
function jesc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return s }
{
    kind = $1; tool = $2; n = $3; iv = $4; cpu = $5; rss = $6; wall = $7; got = $8; ask = $9; ag = $10; late = $11
    share = ask > 0 ? got / ask : 0
    pct = wall > 0 ? 100 * cpu / wall : 0
    if (kind == "cpu") {
        per[tool] = ask > 0 ? cpu * 10000 / ask : 0
        line[tool] = sprintf("%s %d %d %.2f %d %.2f %d %d %.2f %.1f", tool, n, iv, cpu, rss, wall, got, ask, ag, pct)
        row[tool] = sprintf("{\"agents\": %d, \"interval_s\": %d, \"cpu_s\": %.2f, \"cpu_pct_one_core\": %.2f, " \
            "\"peak_rss_kib\": %d, \"wall_s\": %.2f, \"read_cycles_stored\": %d, \"read_cycles_asked\": %d, " \
            "\"cpu_s_per_10000_samples\": %.3f, \"agents_cpu_s\": %.2f%s}", n, iv, cpu, pct, rss, wall, got, ask, per[tool], ag, \
            late == "-" ? "" : ", \"late_read_warnings\": " late)
        clate[tool] = late
        cn = n; civ = iv
    } else {
        ns++; s_tool[ns] = tool; s_n[ns] = n; s_share[ns] = share; s_pct[ns] = pct; s_rss[ns] = rss; s_ag[ns] = ag
        s_cpu[ns] = cpu; s_wall[ns] = wall; s_late[ns] = late
        if (share >= 0.99 && n > maxok[tool]) maxok[tool] = n
        if (!(tool in minbad) && share < 0.99) minbad[tool] = n
        if (share < 0.99 && n < minbad[tool]) minbad[tool] = n
    }
}
END {
    printf "\nSNMP: kvmshift against collectd (snmp + rrdtool plugins, ReadThreads %d), %d snmpd on 127.1.x.y\n\n", threads, snmpd
    if (cn) {
        printf "Same interval: %d agents every %d s for %d s\n", cn, civ, duration
        fmt = "%-44s %12s %12s %16s\n"
        printf fmt, "", "kvmshift", "collectd", "collectd/kvmshift"
        for (t in line) { split(line[t], f, " "); c[t, "cpu"] = f[4]; c[t, "rss"] = f[5]; c[t, "got"] = f[7]; c[t, "ask"] = f[8]; c[t, "ag"] = f[9]; c[t, "pct"] = f[10] }
        kr = ("kvmshift" in line); cr = ("collectd" in line)
        printf fmt, "CPU s per 10,000 samples", kr ? sprintf("%.3f", per["kvmshift"]) : "-", cr ? sprintf("%.3f", per["collectd"]) : "-", \
            (kr && cr && per["kvmshift"] > 0) ? sprintf("%.1f", per["collectd"] / per["kvmshift"]) : "n/a"
        printf fmt, "CPU, % of one core", kr ? c["kvmshift", "pct"] : "-", cr ? c["collectd", "pct"] : "-", ""
        printf fmt, "peak RSS (MiB)", kr ? sprintf("%.1f", c["kvmshift", "rss"] / 1024) : "-", cr ? sprintf("%.1f", c["collectd", "rss"] / 1024) : "-", \
            (kr && cr && c["kvmshift", "rss"] > 0) ? sprintf("%.1f", c["collectd", "rss"] / c["kvmshift", "rss"]) : "n/a"
        printf fmt, "read cycles stored / asked", kr ? c["kvmshift", "got"] "/" c["kvmshift", "ask"] : "-", cr ? c["collectd", "got"] "/" c["collectd", "ask"] : "-", ""
        printf fmt, "agents (snmpd) CPU s in the same time", kr ? c["kvmshift", "ag"] : "-", cr ? c["collectd", "ag"] : "-", ""
        if (cr) printf fmt, "collectd: reads above the interval (log)", "", clate["collectd"], ""
    }
    if (ns) {
        printf "\nCompressed interval: every %d s for %d s\n", sweep_iv, sweep_dur
        fmt = "%-10s %8s %14s %14s %12s %14s %12s\n"
        printf fmt, "tool", "agents", "stored/asked", "CPU % 1 core", "RSS MiB", "snmpd CPU %", "late reads"
        for (i = 1; i <= ns; i++)
            printf fmt, s_tool[i], s_n[i], sprintf("%.1f%%", 100 * s_share[i]), sprintf("%.1f", s_pct[i]), \
                sprintf("%.1f", s_rss[i] / 1024), sprintf("%.1f", s_wall[i] > 0 ? 100 * s_ag[i] / s_wall[i] : 0), s_late[i]
        printf "\nlargest agent count kept up with (>= 99%% stored), scaled by 60/%d:\n", sweep_iv
        for (t in maxok)
            printf "  %-10s %d at %d s -> %d at 60 s%s\n", t, maxok[t], sweep_iv, maxok[t] * 60 / sweep_iv, \
                (t in minbad) ? sprintf(" (fell behind at %d)", minbad[t]) : " (never fell behind: a lower bound)"
    }
    if (json != "") {
        printf "{\n  \"benchmark\": \"snmp_collectd\",\n  \"bin\": \"%s\",\n  \"read_threads\": %d,\n  \"snmpd_processes\": %d,\n", \
            jesc(bin), threads, snmpd >json
        printf "  \"same_interval\": {\"kvmshift\": %s, \"collectd\": %s, \"ratio_collectd_over_kvmshift_cpu_per_sample\": %s},\n", \
            ("kvmshift" in row) ? row["kvmshift"] : "null", ("collectd" in row) ? row["collectd"] : "null", \
            (("kvmshift" in per) && ("collectd" in per) && per["kvmshift"] > 0) ? sprintf("%.2f", per["collectd"] / per["kvmshift"]) : "null" >json
        printf "  \"sweep_interval_s\": %d,\n  \"sweep_duration_s\": %d,\n  \"sweep\": [", sweep_iv, sweep_dur >json
        for (i = 1; i <= ns; i++)
            printf "%s\n    {\"tool\": \"%s\", \"agents\": %d, \"stored_share\": %.4f, \"cpu_pct_one_core\": %.2f, \"peak_rss_kib\": %d, \"agents_cpu_s\": %.2f%s}", \
                (i > 1 ? "," : ""), s_tool[i], s_n[i], s_share[i], s_pct[i], s_rss[i], s_ag[i], \
                s_late[i] == "-" ? "" : ", \"late_read_warnings\": " s_late[i] >json
        printf "\n  ],\n  \"max_agents_at_60s\": {" >json
        sep = ""
        for (t in maxok) { printf "%s\"%s\": %d", sep, t, maxok[t] * 60 / sweep_iv >json; sep = ", " }
        printf "}\n}\n" >json
        close(json)
        printf "figures written to %s\n", json
    }
}' "$RESULTS"
