#!/bin/bash
# shellcheck disable=SC2015,SC2016
# (SC2015: "A && B || die" is meant; SC2016: the sampler script is single-quoted
# on purpose.)
# bench_ssh.sh: CPU and memory of the SSH collector against the naive way
# (one ssh process per sample), both measured in the same run against the
# same 50 sshd on 127.0.0.1. Run on demand, as root; not a ctest test and
# nothing here asserts a time. See README.md in this directory.
#
#   tests/bench/bench_ssh.sh [--bin PATH] [--servers N] [--duration SECS]
#                            [--interval SECS] [--base-port PORT]
#                            [--only kvmshift|naive] [--json FILE]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

BIN=$ROOT/build/cli/kvmshift
SERVERS=50
DURATION=60
INTERVAL=2
BASE_PORT=22000
ONLY=""
JSON=""

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

die() {
    printf 'bench_ssh: %s\n' "$*" >&2
    exit 1
}

posint() {
    [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 wants a positive whole number, not '$2'"
}

while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=${2:?--bin PATH}; shift 2 ;;
    --servers) SERVERS=${2:?--servers N}; shift 2 ;;
    --duration) DURATION=${2:?--duration SECS}; shift 2 ;;
    --interval) INTERVAL=${2:?--interval SECS}; shift 2 ;;
    --base-port) BASE_PORT=${2:?--base-port PORT}; shift 2 ;;
    --only) ONLY=${2:?--only kvmshift|naive}; shift 2 ;;
    --json) JSON=${2:?--json FILE}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) printf 'bench_ssh: unknown argument %s\n' "$1" >&2; usage 2 ;;
    esac
done
posint --servers "$SERVERS"
posint --duration "$DURATION"
posint --interval "$INTERVAL"
posint --base-port "$BASE_PORT"
case $ONLY in "" | kvmshift | naive) ;; *) die "--only takes 'kvmshift' or 'naive', not '$ONLY'" ;; esac
[ "$SERVERS" -le 500 ] || die "--servers $SERVERS: at most 500"
[ "$DURATION" -ge "$INTERVAL" ] || die "--duration $DURATION is shorter than one --interval ($INTERVAL)"
if [ -n "$JSON" ]; then
    case $JSON in /*) ;; *) JSON=$PWD/$JSON ;; esac
    : >"$JSON" || die "cannot write '$JSON'"
fi

ks_need_root
ks_need "$KS_SSHD_BIN" ssh ssh-keygen ss ps awk
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is missing: install it with 'apt-get install time'"

INTERVALS=$((DURATION / INTERVAL))
SAMPLES=$((SERVERS * INTERVALS))
CLK_TCK=$(getconf CLK_TCK)

RUN_KVMSHIFT=1
RUN_NAIVE=1
[ "$ONLY" = naive ] && RUN_KVMSHIFT=0
[ "$ONLY" = kvmshift ] && RUN_NAIVE=0
KVMSHIFT_NOTE=""
if [ $RUN_KVMSHIFT = 1 ] && [ ! -x "$BIN" ]; then
    KVMSHIFT_NOTE="not measured: '$BIN' is missing (build it, or pass --bin PATH)"
    printf 'bench_ssh: kvmshift side %s\n' "$KVMSHIFT_NOTE" >&2
    RUN_KVMSHIFT=0
fi
[ $RUN_KVMSHIFT = 1 ] || [ $RUN_NAIVE = 1 ] || die "nothing to measure"

ks_workdir
ks_keygen "$KS_WORKDIR/client"
KEY=$KS_CLIENT_KEY

# ------------------------------------------------------------------ servers
BASE=$(ks_free_ports "$SERVERS" "$BASE_PORT")
printf 'bench_ssh: starting %d sshd on 127.0.0.1:%d-%d\n' "$SERVERS" "$BASE" $((BASE + SERVERS - 1))
LISTENERS=()
for ((i = 1; i <= SERVERS; i++)); do
    name=$(printf 'bench%03d' "$i")
    ks_sshd_start "$name" 127.0.0.1 $((BASE + i - 1))
    LISTENERS+=("$KS_LAST_PID")
done

# CPU seconds used by the sshd side: for each listener, its own utime+stime
# plus cutime+cstime, the CPU of every session process it has reaped (each
# sshd session process waits for its own children, the user's shell and the
# commands, so their CPU reaches the listener when the session ends). Read
# only when no session is open.
server_cpu() {
    local pid line
    for pid in "${LISTENERS[@]}"; do
        read -r line <"/proc/$pid/stat" || die "sshd pid $pid is gone"
        line=${line##*) }
        printf '%s\n' "$line"
    done | awk -v hz="$CLK_TCK" '{ t += $12 + $13 + $14 + $15 } END { printf "%.2f\n", t / hz }'
}

# Wait until no listener has a child (every session has ended and been
# reaped), at most 60 s.
sessions_wait() {
    local i n
    for ((i = 0; i < 600; i++)); do
        n=$(ps -e -o ppid= | awk -v l=" ${LISTENERS[*]} " 'index(l, " " $1 " ") { n++ } END { print n + 0 }')
        [ "$n" = 0 ] && return 0
        sleep 0.1
    done
    printf 'bench_ssh: warning: %s sshd sessions still open after 60 s; server CPU is undercounted\n' "$n" >&2
}

# Peak total RSS (KiB) of the processes under PID (not PID itself, which is
# /usr/bin/time), sampled every 0.2 s into FILE until PID exits. A separate
# process, measured by neither side.
rss_sampler() {
    ks_run bash -c '
        root=$1 out=$2 peak=0
        while kill -0 "$root" 2>/dev/null; do
            now=$(ps -e -o pid=,ppid=,rss= | awk -v root="$root" "
                { parent[\$1] = \$2; rss[\$1] = \$3 }
                END {
                    keep[root] = 1
                    do { c = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; c = 1 } } while (c)
                    for (p in keep) if (p != root) t += rss[p]
                    print t + 0
                }")
            [ "$now" -gt "$peak" ] && peak=$now && echo "$peak" >"$out"
            sleep 0.2
        done' rss "$1" "$2"
}

# measure LABEL CMD...: run CMD under /usr/bin/time, in the background so
# that a signal to this script still stops it (by pid, through the harness).
# Sets M_WALL M_USER M_SYS M_MAXRSS M_TREERSS M_SERVER M_RC M_LOG (output).
measure() {
    local label=$1
    shift
    sessions_wait
    local s0 s1 tf="$KS_WORKDIR/time.$label" rf="$KS_WORKDIR/rss.$label"
    echo 0 >"$rf"
    s0=$(server_cpu)
    ks_run /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@"
    local pid=$KS_LAST_PID
    M_LOG=$KS_LAST_LOG
    rss_sampler "$pid" "$rf"
    local sampler=$KS_LAST_PID
    M_RC=0
    wait "$pid" || M_RC=$?
    ks_kill "$sampler"
    sessions_wait
    s1=$(server_cpu)
    # time writes "Command exited with non-zero status N" first on failure.
    read -r M_WALL M_USER M_SYS M_MAXRSS < <(tail -n 1 "$tf")
    M_TREERSS=$(cat "$rf")
    M_SERVER=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')
}

# ----------------------------------------------------------------- kvmshift
if [ $RUN_KVMSHIFT = 1 ]; then
    STUDY=$KS_WORKDIR/study
    "$BIN" init "$STUDY" >"$KS_WORKDIR/logs/kvmshift-init.log" 2>&1 ||
        die "'$BIN init $STUDY' failed: $(cat "$KS_WORKDIR/logs/kvmshift-init.log")"
    for ((i = 1; i <= SERVERS; i++)); do
        ks_inventory_line "$(printf 'bench%03d' "$i")" 127.0.0.1 $((BASE + i - 1)) "$KEY" bench
    done >>"$STUDY/inventory.csv"
    # Every server of the study must be one of ours on loopback.
    bad=$(awk -F, '/^[[:space:]]*(#|$)/ || /^name,/ { next } $2 != "127.0.0.1" { print NR ": " $0 }' "$STUDY/inventory.csv")
    [ -z "$bad" ] || die "inventory has servers that are not on 127.0.0.1: $bad"

    printf 'bench_ssh: kvmshift collect, %d servers, every %d s for %d s\n' "$SERVERS" "$INTERVAL" "$DURATION"
    measure kvmshift "$BIN" collect "$STUDY" --interval "$INTERVAL" --duration "$DURATION" --accept-new-hostkeys --quiet
    K_WALL=$M_WALL K_USER=$M_USER K_SYS=$M_SYS K_MAXRSS=$M_MAXRSS K_TREERSS=$M_TREERSS K_SERVER=$M_SERVER K_RC=$M_RC K_LOG=$M_LOG
    K_RRD=$(find "$STUDY/rrd" -name '*.rrd' 2>/dev/null | wc -l)
    if [ "$K_RC" != 0 ]; then
        printf 'bench_ssh: warning: kvmshift collect exited with status %s; its output:\n' "$K_RC" >&2
        tail -n 20 "$K_LOG" | sed 's/^/    /' >&2 || true
    fi
fi

# -------------------------------------------------------------------- naive
# What a cron-driven script does: every interval, one ssh per server, all in
# parallel, wait for the batch, sleep to the next interval.
if [ $RUN_NAIVE = 1 ]; then
    cat >"$KS_WORKDIR/naive.sh" <<'EOF'
#!/bin/bash
# naive.sh KEY BASE SERVERS INTERVALS INTERVAL RESULT ERRLOG
key=$1 base=$2 servers=$3 intervals=$4 interval=$5 result=$6 errlog=$7
ok=0 failed=0 late=0
start=${EPOCHREALTIME/./}
for ((k = 0; k < intervals; k++)); do
    pids=()
    for ((i = 0; i < servers; i++)); do
        ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
            -o BatchMode=yes -o LogLevel=ERROR root@127.0.0.1 -p $((base + i)) \
            'cat /proc/stat /proc/meminfo /proc/diskstats /proc/net/dev' \
            </dev/null >/dev/null 2>>"$errlog" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do
        if wait "$p"; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
    done
    next=$((start + (k + 1) * interval * 1000000))
    now=${EPOCHREALTIME/./}
    if [ "$now" -lt "$next" ]; then
        d=$((next - now))
        sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
    elif [ $((k + 1)) -lt "$intervals" ]; then
        late=$((late + 1))
    fi
done
echo "$ok $failed $late" >"$result"
EOF
    printf 'bench_ssh: naive ssh, %d servers, every %d s for %d s\n' "$SERVERS" "$INTERVAL" "$DURATION"
    : >"$KS_WORKDIR/naive.err"
    measure naive bash "$KS_WORKDIR/naive.sh" "$KEY" "$BASE" "$SERVERS" "$INTERVALS" "$INTERVAL" \
        "$KS_WORKDIR/naive.result" "$KS_WORKDIR/naive.err"
    N_WALL=$M_WALL N_USER=$M_USER N_SYS=$M_SYS N_MAXRSS=$M_MAXRSS N_TREERSS=$M_TREERSS N_SERVER=$M_SERVER N_RC=$M_RC
    N_OK=0 N_FAILED=$SAMPLES N_LATE=0
    [ -f "$KS_WORKDIR/naive.result" ] && read -r N_OK N_FAILED N_LATE <"$KS_WORKDIR/naive.result"
    if [ "$N_FAILED" != 0 ]; then
        printf 'bench_ssh: warning: %s of %s naive samples failed; first errors:\n' "$N_FAILED" "$SAMPLES" >&2
        head -n 5 "$KS_WORKDIR/naive.err" | sed 's/^/    /' >&2
    fi
    [ "$N_LATE" = 0 ] || printf 'bench_ssh: note: %s naive batches took longer than the %s s interval\n' "$N_LATE" "$INTERVAL" >&2
fi

# ------------------------------------------------------------------- report
# Figures per 1,000 samples use the samples asked for (servers x intervals)
# on both sides, so the denominators are equal.
awk -v samples="$SAMPLES" -v servers="$SERVERS" -v intervals="$INTERVALS" -v interval="$INTERVAL" \
    -v duration="$DURATION" -v bashrc="${KS_SSHD_SOURCE_BASHRC:-0}" -v bin="$BIN" -v json="$JSON" \
    -v k_run="$RUN_KVMSHIFT" -v k_note="$KVMSHIFT_NOTE" \
    -v k_wall="${K_WALL:-0}" -v k_user="${K_USER:-0}" -v k_sys="${K_SYS:-0}" -v k_maxrss="${K_MAXRSS:-0}" \
    -v k_tree="${K_TREERSS:-0}" -v k_server="${K_SERVER:-0}" -v k_rc="${K_RC:-0}" -v k_rrd="${K_RRD:-0}" \
    -v n_run="$RUN_NAIVE" \
    -v n_wall="${N_WALL:-0}" -v n_user="${N_USER:-0}" -v n_sys="${N_SYS:-0}" -v n_maxrss="${N_MAXRSS:-0}" \
    -v n_tree="${N_TREERSS:-0}" -v n_server="${N_SERVER:-0}" -v n_rc="${N_RC:-0}" \
    -v n_ok="${N_OK:-0}" -v n_failed="${N_FAILED:-0}" -v n_late="${N_LATE:-0}" '
function per1k(x) { return x * 1000 / samples }
function ratio(n, k) { return (k_run && n_run && k > 0) ? sprintf("%.1f", n / k) : "n/a" }
function jratio(n, k) { return (k_run && n_run && k > 0) ? sprintf("%.2f", n / k) : "null" }
function cell(run, x, fmt) { return run ? sprintf(fmt, x) : "-" }
function jesc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return s }
function side(run, wall, user, sys, server, maxrss, tree, rc, extra) {
    if (!run) return "null"
    return sprintf("{\"wall_s\": %.2f, \"client_user_s\": %.2f, \"client_sys_s\": %.2f, " \
        "\"client_cpu_s\": %.2f, \"server_cpu_s\": %.2f, " \
        "\"client_cpu_s_per_1000_samples\": %.3f, \"server_cpu_s_per_1000_samples\": %.3f, " \
        "\"total_cpu_s_per_1000_samples\": %.3f, " \
        "\"peak_rss_kib_largest_process\": %d, \"peak_rss_kib_tree_sampled\": %d, \"exit_status\": %d%s}",
        wall, user, sys, user + sys, server, per1k(user + sys), per1k(server),
        per1k(user + sys + server), maxrss, tree, rc, extra)
}
BEGIN {
    kc = k_user + k_sys; nc = n_user + n_sys
    printf "\nSSH collection, %d servers on 127.0.0.1, every %d s for %d s: %d samples per side\n", \
        servers, interval, duration, samples
    printf "(sessions %s root'"'"'s ~/.bashrc; KS_SSHD_SOURCE_BASHRC=%s)\n\n", bashrc == 1 ? "run" : "skip", bashrc
    fmt = "%-42s %12s %12s %14s\n"
    printf fmt, "", "kvmshift", "naive ssh", "naive/kvmshift"
    printf fmt, "client CPU s per 1,000 samples", cell(k_run, per1k(kc), "%.3f"), cell(n_run, per1k(nc), "%.3f"), ratio(nc, kc)
    printf fmt, "server (sshd) CPU s per 1,000 samples", cell(k_run, per1k(k_server), "%.3f"), cell(n_run, per1k(n_server), "%.3f"), ratio(n_server, k_server)
    printf fmt, "total CPU s per 1,000 samples", cell(k_run, per1k(kc + k_server), "%.3f"), cell(n_run, per1k(nc + n_server), "%.3f"), ratio(nc + n_server, kc + k_server)
    printf fmt, "client peak RSS, largest process (MiB)", cell(k_run, k_maxrss / 1024, "%.1f"), cell(n_run, n_maxrss / 1024, "%.1f"), ratio(n_maxrss, k_maxrss)
    printf fmt, "client peak RSS, all processes (MiB)*", cell(k_run, k_tree / 1024, "%.1f"), cell(n_run, n_tree / 1024, "%.1f"), ratio(n_tree, k_tree)
    printf fmt, "wall time (s)", cell(k_run, k_wall, "%.1f"), cell(n_run, n_wall, "%.1f"), ""
    printf fmt, "exit status", cell(k_run, k_rc, "%d"), cell(n_run, n_rc, "%d"), ""
    if (n_run) printf fmt, "naive samples ok / failed", "", n_ok " / " n_failed, ""
    if (k_run) printf fmt, "kvmshift servers with an rrd file", k_rrd, "", ""
    if (!k_run && k_note != "") printf "\nkvmshift: %s\n", k_note
    printf "\n* sampled every 0.2 s: the sum over the measured process and its children\n"

    if (json != "") {
        printf "{\n  \"benchmark\": \"ssh\",\n  \"servers\": %d,\n  \"interval_s\": %d,\n  \"duration_s\": %d,\n" \
            "  \"intervals\": %d,\n  \"samples\": %d,\n  \"bashrc_sourced\": %s,\n  \"bin\": \"%s\",\n", \
            servers, interval, duration, intervals, samples, bashrc == 1 ? "true" : "false", jesc(bin) >json
        printf "  \"kvmshift\": %s,\n", side(k_run, k_wall, k_user, k_sys, k_server, k_maxrss, k_tree, k_rc, \
            sprintf(", \"servers_with_rrd\": %d", k_rrd)) >json
        if (!k_run && k_note != "") printf "  \"kvmshift_note\": \"%s\",\n", jesc(k_note) >json
        printf "  \"naive\": %s,\n", side(n_run, n_wall, n_user, n_sys, n_server, n_maxrss, n_tree, n_rc, \
            sprintf(", \"samples_ok\": %d, \"samples_failed\": %d, \"late_batches\": %d", n_ok, n_failed, n_late)) >json
        printf "  \"ratio_naive_over_kvmshift\": {\"client_cpu\": %s, \"server_cpu\": %s, \"total_cpu\": %s, " \
            "\"peak_rss_largest_process\": %s, \"peak_rss_tree\": %s}\n}\n", \
            jratio(nc, kc), jratio(n_server, k_server), jratio(nc + n_server, kc + k_server), \
            jratio(n_maxrss, k_maxrss), jratio(n_tree, k_tree) >json
        close(json)
        printf "figures written to %s\n", json
    }
}'
