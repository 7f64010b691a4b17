#!/bin/bash
# shellcheck disable=SC2015,SC2016
# (SC2015: "A && B || die" is meant; SC2016: the sampler and the silent
# agents' scripts are single-quoted on purpose.)
# bench_snmp_scale.sh: can one kvmshift collector sample thousands of SNMP
# servers every 60 s, with some of them silent? Answering agents are a few
# snmpd processes, each listening on many 127.x.y.z addresses; silent ones
# are UDP sockets that read and never answer. Measures the collector's CPU
# (% of one core), peak RSS, samples per interval, how many answering
# servers were sampled in every interval, the time until every RRD file
# exists, and the agents' own CPU. Run on demand, as root; not a ctest test
# and nothing here asserts a time. See README.md in this directory.
#
#   tests/bench/bench_snmp_scale.sh [--bin PATH] [--servers N] [--silent-pct P]
#                                   [--agents N] [--duration SECS]
#                                   [--interval SECS] [--port PORT]
#                                   [--study-parent DIR] [--json FILE]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

BIN=$ROOT/build/cli/kvmshift
SERVERS=2000
SILENT_PCT=10
AGENTS=12
DURATION=240
INTERVAL=60
PORT=16100
STUDY_PARENT=""
JSON=""
COMMUNITY=kvmshift-bench
# RRD file size (8 MiB with the layout of col_rrd.c) plus room for the rest.
MIB_PER_SERVER=10

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

die() {
    printf 'bench_snmp_scale: %s\n' "$*" >&2
    exit 1
}

note() {
    printf 'bench_snmp_scale: %s\n' "$*" >&2
}

posint() {
    [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 wants a positive whole number, not '$2'"
}

while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=${2:?--bin PATH}; shift 2 ;;
    --servers) SERVERS=${2:?--servers N}; shift 2 ;;
    --silent-pct) SILENT_PCT=${2:?--silent-pct P}; shift 2 ;;
    --agents) AGENTS=${2:?--agents N}; shift 2 ;;
    --duration) DURATION=${2:?--duration SECS}; shift 2 ;;
    --interval) INTERVAL=${2:?--interval SECS}; shift 2 ;;
    --port) PORT=${2:?--port PORT}; shift 2 ;;
    --study-parent) STUDY_PARENT=${2:?--study-parent DIR}; shift 2 ;;
    --json) JSON=${2:?--json FILE}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) printf 'bench_snmp_scale: unknown argument %s\n' "$1" >&2; usage 2 ;;
    esac
done
posint --servers "$SERVERS"
posint --agents "$AGENTS"
posint --duration "$DURATION"
posint --interval "$INTERVAL"
posint --port "$PORT"
[[ $SILENT_PCT =~ ^[0-9]+$ ]] && [ "$SILENT_PCT" -lt 100 ] || die "--silent-pct wants 0-99, not '$SILENT_PCT'"
[ "$SERVERS" -le 20000 ] || die "--servers $SERVERS: at most 20000"
[ "$PORT" -le 65535 ] || die "--port $PORT: not a UDP port"
[ "$DURATION" -ge $((2 * INTERVAL)) ] || die "--duration $DURATION: at least two --interval ($INTERVAL) are needed for one rate"
[ -x "$BIN" ] || die "'$BIN' is missing: build it, or pass --bin PATH"
BIN=$(realpath "$BIN")
if [ -n "$JSON" ]; then
    case $JSON in /*) ;; *) JSON=$PWD/$JSON ;; esac
    : >"$JSON" || die "cannot write '$JSON'"
fi

ks_need_root
ks_need snmpd snmpget python3 ss ps awk df
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is missing: install it with 'apt-get install time'"

SILENT=$((SERVERS * SILENT_PCT / 100))
ANSWERING=$((SERVERS - SILENT))
[ "$ANSWERING" -ge "$AGENTS" ] || die "--agents $AGENTS is more than the $ANSWERING answering servers"
READINGS=$(((DURATION + INTERVAL - 1) / INTERVAL))
INTERVALS=$((READINGS - 1)) # the first reading of a server only starts its rates
CLK_TCK=$(getconf CLK_TCK)

# Addresses: answering server k (0-based) is 127.1.(k / 250).(k % 250 + 1),
# silent server k is 127.2.(k / 250).(k % 250 + 1), all on --port. Only
# 127.0.0.0/8, which answers on lo without any configuration.
addr_of() { printf '127.%d.%d.%d' "$1" $(($2 / 250)) $(($2 % 250 + 1)); }

ks_workdir
if [ -z "$STUDY_PARENT" ]; then
    STUDY_PARENT=$KS_WORKDIR
fi
[ -d "$STUDY_PARENT" ] || die "--study-parent '$STUDY_PARENT' is not a directory"
STUDY=$(cd "$STUDY_PARENT" && pwd)/kvmshift-bench-study.$$
NEED_MIB=$((SERVERS * MIB_PER_SERVER))
FREE_MIB=$(df -Pm "$STUDY_PARENT" | awk 'NR == 2 { print $4 }')
[ "$FREE_MIB" -ge "$NEED_MIB" ] ||
    die "$SERVERS RRD files of 8 MiB need about $((NEED_MIB / 1024)) GiB, but the file system of '$STUDY_PARENT' has $((FREE_MIB / 1024)) GiB free: pass --study-parent DIR on a larger one, or fewer --servers"
# The study is 8 MiB a server: delete it even with KS_KEEP=1.
ks_defer rm -rf "$STUDY"

# Nothing else may hold our UDP addresses (a wildcard socket on the port
# included).
[ -z "$(ss -Hunl "sport = :$PORT")" ] || die "UDP port $PORT is already used (see 'ss -unlp sport = :$PORT'): pass --port"

# ------------------------------------------------------------------- agents
A=$KS_WORKDIR/snmpd
mkdir -p "$A"
cat >"$A/snmpd.conf" <<EOF
rocommunity $COMMUNITY 127.0.0.0/8
dontLogTCPWrappersConnects yes
EOF
note "starting $AGENTS snmpd for $ANSWERING answering servers on 127.1.x.y:$PORT"
SNMPD_PIDS=()
for ((a = 0; a < AGENTS; a++)); do
    first=$((a * ANSWERING / AGENTS))
    last=$(((a + 1) * ANSWERING / AGENTS - 1))
    list=""
    for ((k = first; k <= last; k++)); do
        list+="udp:$(addr_of 1 "$k"):$PORT,"
    done
    mkdir -p "$A/$a/persist"
    ks_run env SNMP_PERSISTENT_DIR="$A/$a/persist" snmpd -f -Lf "$A/$a/snmpd.log" -C \
        -c "$A/snmpd.conf" -p "$A/$a/snmpd.pid" -M /dev/null -m "" "${list%,}"
    SNMPD_PIDS+=("$KS_LAST_PID")
done

note "starting $SILENT silent servers on 127.2.x.y:$PORT (one python3 process)"
SILENT_PID=""
if [ "$SILENT" -gt 0 ]; then
    # Bound UDP sockets that read every datagram and drop it: the collector
    # sees a real timeout, not an ICMP "port unreachable".
    ks_run python3 -c '
import selectors, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
for k in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.2.%d.%d" % (k // 250, k % 250 + 1), port))
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        try:
            key.fileobj.recv(65535)
        except OSError:
            pass
' "$PORT" "$SILENT"
    SILENT_PID=$KS_LAST_PID
fi

want=$((ANSWERING + SILENT))
for ((i = 0; i < 300; i++)); do
    have=$(ss -Hunl "sport = :$PORT" | wc -l)
    [ "$have" -ge "$want" ] && break
    for p in "${SNMPD_PIDS[@]}" $SILENT_PID; do
        ks__alive "$p" || die "an agent (pid $p) exited at start; see $KS_WORKDIR/logs and $A/*/snmpd.log"
    done
    sleep 0.2
done
[ "$have" -ge "$want" ] || die "only $have of $want UDP sockets listen on port $PORT after 60 s"
for ((a = 0; a < AGENTS; a++)); do
    k=$((a * ANSWERING / AGENTS))
    snmpget -v2c -c "$COMMUNITY" -t 2 -r 1 "$(addr_of 1 "$k"):$PORT" 1.3.6.1.2.1.1.3.0 >/dev/null ||
        die "snmpd $a does not answer on $(addr_of 1 "$k"):$PORT"
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

# -------------------------------------------------------------------- study
"$BIN" init "$STUDY" >"$KS_WORKDIR/logs/kvmshift-init.log" 2>&1 ||
    die "'$BIN init $STUDY' failed: $(cat "$KS_WORKDIR/logs/kvmshift-init.log")"
mkdir -p "$STUDY/snmp"
printf 'version = 2c\ncommunity = %s\n' "$COMMUNITY" >"$STUDY/snmp/bench.secrets"
chmod 600 "$STUDY/snmp/bench.secrets"
{
    for ((k = 0; k < ANSWERING; k++)); do
        printf 'agent%05d,%s,snmp,%d,,snmp/bench.secrets,bench,,\n' "$k" "$(addr_of 1 "$k")" "$PORT"
    done
    for ((k = 0; k < SILENT; k++)); do
        printf 'silent%05d,%s,snmp,%d,,snmp/bench.secrets,bench,,\n' "$k" "$(addr_of 2 "$k")" "$PORT"
    done
} >>"$STUDY/inventory.csv"
bad=$(awk -F, '/^[[:space:]]*(#|$)/ || /^name,/ { next } $2 !~ /^127\./ { print NR ": " $0 }' "$STUDY/inventory.csv")
[ -z "$bad" ] || die "inventory has servers outside 127.0.0.0/8: $bad"

# ------------------------------------------------------------------ collect
# Once a second: seconds since start, the collector's CPU ticks (all its
# threads, the RRD creator included), its RSS (KiB), RRD files that exist
# (made under a temporary name, then renamed), the agents' CPU ticks.
SERIES=$KS_WORKDIR/series.tsv
: >"$SERIES"
sampler() {
    ks_run bash -c '
        root=$1 dir=$2 out=$3; shift 3
        t0=${EPOCHREALTIME/./}
        kid=""
        while kill -0 "$root" 2>/dev/null; do
            [ -n "$kid" ] || kid=$(ps -o pid= --ppid "$root" | awk "NR == 1 { print \$1 }")
            now=${EPOCHREALTIME/./}
            if [ -n "$kid" ] && read -r st 2>/dev/null <"/proc/$kid/stat"; then
                st=${st##*) }; set -- $st
                cpu=$(( ${12} + ${13} ))
                rss=$(awk "/^VmRSS:/ { print \$2 }" "/proc/$kid/status" 2>/dev/null || echo 0)
                files=$(find "$dir" -maxdepth 1 -name "*.rrd" 2>/dev/null | wc -l)
                ag=0
                for p in $agents; do
                    read -r s <"/proc/$p/stat"; s=${s##*) }
                    set -- $s; ag=$((ag + ${12} + ${13}))
                done
                printf "%d.%06d\t%d\t%d\t%d\t%d\n" $(((now - t0) / 1000000)) $(((now - t0) % 1000000)) \
                    "$cpu" "${rss:-0}" "$files" "$ag" >>"$out"
            fi
            sleep 1
        done' sampler "$1" "$STUDY/rrd" "$SERIES"
}

note "kvmshift collect: $SERVERS servers ($SILENT silent), every $INTERVAL s for $DURATION s"
a0=$(agents_cpu)
TF=$KS_WORKDIR/time.kvmshift
SUMMARY=$KS_WORKDIR/summary.json
ERRLOG=$KS_WORKDIR/collect.err
export agents="${SNMPD_PIDS[*]}" SUMMARY ERRLOG
ks_run /usr/bin/time -f '%e %U %S %M' -o "$TF" sh -c 'exec "$0" "$@" >"$SUMMARY" 2>"$ERRLOG"' \
    "$BIN" collect "$STUDY" --interval "$INTERVAL" --duration "$DURATION" --quiet --format json
TPID=$KS_LAST_PID
sampler "$TPID"
SPID=$KS_LAST_PID
RC=0
wait "$TPID" || RC=$?
ks_kill "$SPID" 2>/dev/null || true
a1=$(agents_cpu)
read -r WALL USER SYS MAXRSS < <(tail -n 1 "$TF")
AGENTS_CPU=$(awk -v a="$a0" -v b="$a1" 'BEGIN { printf "%.2f", b - a }')
if [ "$RC" != 0 ] && [ "$RC" != 3 ]; then
    note "warning: kvmshift collect exited with status $RC; its error output ends with:"
    tail -n 10 "$ERRLOG" | sed 's/^/    /' >&2 || true
fi

# samples per server from the summary; status reads the RRD files back
STATUS=$KS_WORKDIR/status.json
"$BIN" status "$STUDY" --format json >"$STATUS" 2>"$KS_WORKDIR/status.err" || true
read -r S_TOTAL S_ANS S_SIL S_FULL S_ZERO S_MIN S_FAIL_ANS < <(python3 - "$SUMMARY" "$INTERVALS" <<'EOF' || echo "0 0 0 0 0 0 0"
import json, sys
r = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
ans = [x for x in r if x["name"].startswith("agent")]
sil = [x for x in r if x["name"].startswith("silent")]
s = lambda l: sum(x.get("samples", 0) or 0 for x in l)
full = sum(1 for x in ans if (x.get("samples") or 0) >= want)
zero = sum(1 for x in ans if not x.get("samples"))
mn = min((x.get("samples") or 0 for x in ans), default=0)
failed = sum(1 for x in ans if x.get("error"))
print(s(r), s(ans), s(sil), full, zero, mn, failed)
EOF
)
read -r ST_SAMPLES ST_GAPS < <(python3 - "$STATUS" <<'EOF' || echo "0 0"
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    print(0, 0); sys.exit()
print(sum(x.get("samples", 0) or 0 for x in r if x["name"].startswith("agent")),
      sum(x.get("gaps", 0) or 0 for x in r if x["name"].startswith("agent")))
EOF
)
ERR_LINES=$(wc -l <"$ERRLOG")
ERR_ANS=$(grep -c "'agent[0-9]*'" "$ERRLOG" || true)

# ------------------------------------------------------------------- report
awk -F'\t' -v servers="$SERVERS" -v silent="$SILENT" -v answering="$ANSWERING" -v agents="$AGENTS" \
    -v interval="$INTERVAL" -v duration="$DURATION" -v intervals="$INTERVALS" -v hz="$CLK_TCK" \
    -v wall="$WALL" -v user="$USER" -v sys="$SYS" -v maxrss="$MAXRSS" -v rc="$RC" \
    -v agents_cpu="$AGENTS_CPU" -v s_total="$S_TOTAL" -v s_ans="$S_ANS" -v s_sil="$S_SIL" \
    -v s_full="$S_FULL" -v s_zero="$S_ZERO" -v s_min="$S_MIN" -v s_fail_ans="$S_FAIL_ANS" \
    -v st_samples="$ST_SAMPLES" -v st_gaps="$ST_GAPS" -v err_lines="$ERR_LINES" -v err_ans="$ERR_ANS" \
    -v bin="$BIN" -v json="$JSON" -v study="$STUDY" '
function jesc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return s }
function num(x) { return x == "" ? "null" : x }
{
    t[NR] = $1; cpu[NR] = $2; rss[NR] = $3; files[NR] = $4; ag[NR] = $5; n = NR
    if ($3 > peak_rss) peak_rss = $3
    if (ready == "" && $4 >= servers) ready = $1
}
END {
    cpu_s = user + sys
    pct = wall > 0 ? 100 * cpu_s / wall : 0
    # steady state: from one interval after every file exists (facts and
    # first readings done) to the last sample of the series
    st_pct = ""; st_from = ""; st_agents = ""
    if (ready != "") {
        from = ready + interval
        for (i = 1; i <= n; i++) if (t[i] >= from) { k = i; break }
        if (k && n > k && t[n] - t[k] >= interval / 2) {
            st_from = t[k]
            st_pct = sprintf("%.1f", 100 * (cpu[n] - cpu[k]) / hz / (t[n] - t[k]))
            st_agents = sprintf("%.1f", 100 * (ag[n] - ag[k]) / hz / (t[n] - t[k]))
        }
    }
    expected = answering * intervals
    printf "\nSNMP collection, %d servers (%d answering on %d snmpd, %d silent), every %d s for %d s\n\n", \
        servers, answering, agents, silent, interval, duration
    fmt = "%-58s %14s\n"
    printf fmt, "collector CPU s (user + sys), whole run", sprintf("%.2f", cpu_s)
    printf fmt, "collector CPU, % of one core, whole run", sprintf("%.1f", pct)
    printf fmt, "collector CPU, % of one core, steady state*", st_pct == "" ? "n/a" : st_pct
    printf fmt, "collector peak RSS (MiB, GNU time %M)", sprintf("%.1f", maxrss / 1024)
    printf fmt, "collector RSS at the end (MiB, sampled)", sprintf("%.1f", rss[n] / 1024)
    printf fmt, "time until all RRD files exist (s)", ready == "" ? "never" : sprintf("%.0f", ready)
    printf fmt, "samples expected (answering x intervals)", sprintf("%d x %d = %d", answering, intervals, expected)
    printf fmt, "samples stored, answering servers (summary)", s_ans
    printf fmt, "samples per interval (stored / intervals)", sprintf("%.1f", intervals ? s_ans / intervals : 0)
    printf fmt, "answering servers sampled in every interval", sprintf("%d of %d", s_full, answering)
    printf fmt, "answering servers never sampled", s_zero
    printf fmt, "answering servers with an error in the summary", s_fail_ans
    printf fmt, "samples of silent servers (should be 0)", s_sil
    printf fmt, "non-missing 1-min rows in the RRD files (status)", st_samples
    printf fmt, "agents (snmpd) CPU s, whole run", agents_cpu
    printf fmt, "agents (snmpd) CPU, % of one core, whole run", sprintf("%.1f", wall > 0 ? 100 * agents_cpu / wall : 0)
    printf fmt, "agents (snmpd) CPU, % of one core, steady state*", st_agents == "" ? "n/a" : st_agents
    printf fmt, "wall time (s)", wall
    printf fmt, "exit status (3: some servers failed)", rc
    printf fmt, "error output lines (all / naming an answering server)", err_lines " / " err_ans
    printf "\n* from %s s (one interval after the last RRD file appeared) to the end\n", st_from == "" ? "n/a" : st_from

    if (json != "") {
        printf "{\n  \"benchmark\": \"snmp_scale\",\n  \"servers\": %d,\n  \"answering\": %d,\n  \"silent\": %d,\n" \
            "  \"snmpd_processes\": %d,\n  \"interval_s\": %d,\n  \"duration_s\": %d,\n  \"intervals\": %d,\n" \
            "  \"bin\": \"%s\",\n", servers, answering, silent, agents, interval, duration, intervals, jesc(bin) >json
        printf "  \"kvmshift\": {\"wall_s\": %.2f, \"user_s\": %.2f, \"sys_s\": %.2f, \"cpu_s\": %.2f, " \
            "\"cpu_pct_one_core\": %.2f, \"cpu_pct_one_core_steady\": %s, \"steady_from_s\": %s, " \
            "\"peak_rss_kib\": %d, \"peak_rss_kib_sampled\": %d, \"files_ready_s\": %s, \"exit_status\": %d},\n", \
            wall, user, sys, cpu_s, pct, num(st_pct), num(st_from), maxrss, peak_rss, num(ready), rc >json
        printf "  \"samples\": {\"expected\": %d, \"answering\": %d, \"silent\": %d, \"per_interval\": %.1f, " \
            "\"servers_every_interval\": %d, \"servers_never\": %d, \"answering_with_error\": %d, " \
            "\"rrd_rows_known\": %d, \"rrd_gaps\": %d},\n", expected, s_ans, s_sil, \
            intervals ? s_ans / intervals : 0, s_full, s_zero, s_fail_ans, st_samples, st_gaps >json
        printf "  \"agents\": {\"cpu_s\": %.2f, \"cpu_pct_one_core\": %.2f, \"cpu_pct_one_core_steady\": %s}\n}\n", \
            agents_cpu, (wall > 0 ? 100 * agents_cpu / wall : 0), num(st_agents) >json
        close(json)
        printf "figures written to %s\n", json
    }
}' "$SERIES"
