#!/bin/bash
# shellcheck disable=SC2016,SC2009
# (SC2016: single-quoted strings are eval'd or sent to the remote shell on
# purpose; SC2009: ps | grep -F matches a path literally, pgrep -f would not.)
# selftest_lib.sh: checks the integration harness (lib.sh) against the real
# thing: sshd on loopback and in a network namespace, host key changes,
# banner timeouts, and that nothing is left once a script ends, whether it
# ends normally, on an error, or on SIGTERM.
#
# Each scenario runs as a separate script invocation (this file with
# --phase NAME STATEDIR); this process then checks from the outside that the
# scenario's processes, namespaces, links, routes and work directory are gone.
# Prints "N passed, M failed"; exit 0 only when nothing failed, 77 when a
# needed tool is missing or not root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

PASSED=0
FAILED=0

ok() {
    PASSED=$((PASSED + 1))
    printf 'ok - %s\n' "$*"
}

not_ok() {
    FAILED=$((FAILED + 1))
    printf 'not ok - %s\n' "$*"
}

# check DESCRIPTION CMD...: CMD's status decides.
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

contains() { [[ $1 == *"$2"* ]]; }

# Save what the outside checks need: counts, work directory, state files.
save_state() {
    local out=$1
    printf '%s\n' "$KS_WORKDIR" >"$out.workdir"
    cp "$KS_WORKDIR/.ks/procs" "$out.procs"
    cp "$KS_WORKDIR/.ks/netns" "$out.netns"
    cp "$KS_WORKDIR/.ks/run_id" "$out.run_id"
}

save_counts() {
    printf '%s %s\n' "$PASSED" "$FAILED" >"$1.counts"
}

ssh_plain() {
    # The login the brief asks tests to use, without the harness helper.
    local addr=$1 port=$2
    shift 2
    ssh -i "$KS_CLIENT_KEY" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o BatchMode=yes -o LogLevel=ERROR -p "$port" "root@$addr" "$@" </dev/null
}

served_fingerprint() {
    # The key the server really presents, not the file on disk.
    ssh-keyscan -t ed25519 -p "$2" "$1" 2>/dev/null | ssh-keygen -l -E sha256 -f - | awk '{ print $2 }'
}

port_closed() {
    ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

has_children() {
    [ -n "$(ps -o pid= --ppid "$1")" ]
}

# ---------------------------------------------------------------- phase main
phase_main() {
    local out=$1
    ks_workdir
    ks_keygen "$KS_WORKDIR/client"
    check "ks_keygen made an ed25519 pair" \
        test -s "$KS_WORKDIR/client/id_ed25519" -a -s "$KS_WORKDIR/client/id_ed25519.pub" -a "$KS_CLIENT_KEY" = "$KS_WORKDIR/client/id_ed25519"

    local base pa pb ps
    base=$(ks_free_ports 3 22100)
    pa=$base pb=$((base + 1)) ps=$((base + 2))

    ks_sshd_start a 127.0.0.1 "$pa"
    ks_sshd_start b 127.0.0.1 "$pb"
    local pid_a sshd_pid_a
    pid_a=$(ks_sshd_pid a)
    sshd_pid_a=$(cat "$KS_WORKDIR/sshd/a/sshd.pid")
    check "recorded pid of sshd a ($pid_a) is sshd's own (PidFile: $sshd_pid_a)" test "$pid_a" = "$sshd_pid_a"
    check "sshd a runs from the generated config" \
        grep -q "sshd -D -e -f $KS_WORKDIR/sshd/a/sshd_config" <(tr '\0' ' ' <"/proc/$pid_a/cmdline")

    local dev_a dev_b
    dev_a=$(ssh_plain 127.0.0.1 "$pa" cat /proc/net/dev) || dev_a=""
    dev_b=$(ssh_plain 127.0.0.1 "$pb" cat /proc/net/dev) || dev_b=""
    check "ssh root@127.0.0.1 -p $pa cat /proc/net/dev" contains "$dev_a" " lo:"
    check "ssh root@127.0.0.1 -p $pb cat /proc/net/dev" contains "$dev_b" " lo:"
    local fa fb
    fa=$(ks_sshd_fingerprint a)
    fb=$(ks_sshd_fingerprint b)
    check "servers a and b have distinct host keys ($fa, $fb)" test "$fa" != "$fb"
    check "ks_ssh runs commands with root's ~/.bashrc skipped (SHLVL=2 in session)" \
        test "$(ks_ssh 127.0.0.1 "$pa" 'echo $SHLVL')" = 2

    # A server of its own in a namespace, on port 22 there.
    local idx=201 addr ns
    addr=$(ks_netns_host srv "$idx")
    ns=$(ks_netns_of srv)
    check "ks_netns_host printed 10.250.$idx.2 (got $addr) for namespace '$ns'" \
        test "$addr" = "10.250.$idx.2" -a "$ns" = "ks-$$-$idx"
    check "route to $addr goes through our veth ks$$h$idx" \
        contains "$(ip route get "$addr")" " dev ks$$h$idx "
    check "guard route 'unreachable 10.250.$idx.0/30 metric 4000' is in place" \
        contains "$(ip route show 10.250.$idx.0/30)" "unreachable 10.250.$idx.0/30 metric 4000"
    ks_sshd_start c "$addr" 22 srv
    local dev_c
    dev_c=$(ssh_plain "$addr" 22 cat /proc/net/dev) || dev_c=""
    check "ssh root@$addr cat /proc/net/dev shows the namespace's veth ks$$n$idx" \
        contains "$dev_c" "ks$$n$idx:"
    local host_if seen=""
    while read -r host_if; do
        contains "$dev_c" " $host_if:" && seen+=" $host_if"
    done < <(awk -F: 'NR > 2 { gsub(/ /, "", $1); if ($1 != "lo") print $1 }' /proc/net/dev)
    check "namespace server sees none of the host's interfaces${seen:+ (sees$seen)}" test -z "$seen"
    check "namespace server's sshd runs inside '$ns'" \
        grep -qx "$(ks_sshd_pid c)" <(ip netns pids "$ns")

    # Host key kept across a restart, replaced by ks_sshd_newkey.
    ks_sshd_stop b
    check "ks_sshd_stop b closed port $pb" port_closed 127.0.0.1 "$pb"
    ks_sshd_start b 127.0.0.1 "$pb"
    check "restarted b presents the same host key" test "$(served_fingerprint 127.0.0.1 "$pb")" = "$fb"

    local kh="$KS_WORKDIR/known_hosts"
    check "first login to a records its key in a known_hosts file" \
        ssh -i "$KS_CLIENT_KEY" -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$kh" \
        -o BatchMode=yes -o LogLevel=ERROR -p "$pa" root@127.0.0.1 true

    # An open session to a; stopping a must end it (the server "goes away").
    ks_run ssh -i "$KS_CLIENT_KEY" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o BatchMode=yes -p "$pa" root@127.0.0.1 'sleep 300'
    local client=$KS_LAST_PID i
    for ((i = 0; i < 100; i++)); do
        has_children "$pid_a" && break
        sleep 0.05
    done
    check "sshd a serves the open session" has_children "$pid_a"
    ks_sshd_stop a
    for ((i = 0; i < 100; i++)); do
        kill -0 "$client" 2>/dev/null || break
        sleep 0.05
    done
    check "stopping sshd a ended its open session (client pid $client exited)" eval '! kill -0 "$client" 2>/dev/null'

    ks_sshd_newkey a
    ks_sshd_start a 127.0.0.1 "$pa"
    local fa2 served
    fa2=$(ks_sshd_fingerprint a)
    served=$(served_fingerprint 127.0.0.1 "$pa")
    printf '# host key of a: before %s, after %s, served %s\n' "$fa" "$fa2" "$served"
    check "ks_sshd_newkey changed a's host key" test "$fa2" != "$fa"
    check "restarted a presents the new key" test "$served" = "$fa2"
    local err
    err=$(ssh -i "$KS_CLIENT_KEY" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$kh" \
        -o BatchMode=yes -p "$pa" root@127.0.0.1 true 2>&1 </dev/null) && err="(login succeeded)"
    check "ssh with the old known_hosts refuses a: changed host key" \
        contains "$err" "REMOTE HOST IDENTIFICATION HAS CHANGED"

    # A listener that never sends a banner.
    ks_silent_listener 127.0.0.1 "$ps"
    local t0=$SECONDS
    err=$(timeout 20 ssh -i "$KS_CLIENT_KEY" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o BatchMode=yes -o ConnectTimeout=2 -p "$ps" root@127.0.0.1 true 2>&1 </dev/null) && err="(login succeeded)"
    local took=$((SECONDS - t0))
    check "ssh to the silent listener fails with a banner timeout (${took}s: $err)" \
        eval 'contains "$err" "banner exchange" && [ "$took" -lt 15 ]'

    # ks_run / ks_kill.
    ks_run sleep 300
    local s1=$KS_LAST_PID
    ks_run sleep 301
    local s2=$KS_LAST_PID
    check "ks_run started sleep (pid $s1)" kill -0 "$s1"
    ks_kill "$s1"
    check "ks_kill stopped pid $s1" eval '! kill -0 "$s1" 2>/dev/null'
    check "ks_kill refuses a pid the harness did not start" eval '! ks_kill $$ 2>/dev/null'
    : "$s2" # left running: the cleanup must stop it

    check "ks_inventory_line" test "$(ks_inventory_line web01 127.0.0.1 2222 /k/id_ed25519 web)" = \
        "web01,127.0.0.1,ssh,2222,root,/k/id_ed25519,web,,"

    save_state "$out"
    save_counts "$out"
}

# ---------------------------------------------------------------- phase fail
# Starts things, then fails under set -e. Run with KS_KEEP=1.
phase_fail() {
    local out=$1
    ks_workdir
    local p
    p=$(ks_free_ports 1 22200)
    ks_sshd_start f 127.0.0.1 "$p"
    local addr
    addr=$(ks_netns_host srvf 202)
    ks_sshd_start g "$addr" 22 srvf
    ks_run ip netns exec "$(ks_netns_of srvf)" sleep 302
    # Ignores SIGTERM: the cleanup has to SIGKILL it.
    ks_run bash -c 'trap "" TERM; while :; do sleep 0.2; done'
    save_state "$out"
    false
    echo "not reached"
}

# -------------------------------------------------------------- phase signal
# Starts things, says it is ready, waits; the caller sends SIGTERM.
phase_signal() {
    local out=$1
    ks_workdir
    local p
    p=$(ks_free_ports 1 22300)
    ks_sshd_start s 127.0.0.1 "$p"
    local addr
    addr=$(ks_netns_host srvs 203)
    ks_sshd_start t "$addr" 22 srvs
    ks_run sleep 303
    save_state "$out"
    : >"$out.ready"
    wait "$KS_LAST_PID"
}

# ------------------------------------------------- checks from the outside
# Nothing of the scenario whose state files start with $1 may remain.
check_leftovers() {
    local st=$1 what=$2 keep=${3:-0}
    local workdir run_id
    workdir=$(cat "$st.workdir")
    run_id=$(cat "$st.run_id")

    local pid stime label alive=""
    while read -r pid stime label; do
        [ -n "$pid" ] || continue
        if ks__same "$pid" "$stime"; then alive+=" $pid($label)"; fi
    done <"$st.procs"
    check "$what: no process started by the harness is left${alive:+:$alive}" test -z "$alive"

    local tagged
    tagged=$(KS_RUN_ID=$run_id ks__tagged | tr '\n' ' ')
    check "$what: no process carries KS_HARNESS_RUN=$run_id${tagged:+: $tagged}" test -z "$tagged"

    local sshds
    sshds=$(ps -eo pid=,args= | grep -F -- "$workdir/sshd/" | grep -v grep || true)
    check "$what: no sshd runs from $workdir${sshds:+: $sshds}" test -z "$sshds"

    local ns link idx
    while read -r _ ns link idx; do
        [ -n "$ns" ] || continue
        check "$what: namespace '$ns' is gone" eval '! ip netns list | grep -qw "$ns"'
        check "$what: link '$link' is gone" eval '! ip link show "$link" >/dev/null 2>&1'
        check "$what: no route for 10.250.$idx.0/30 is left" test -z "$(ip route show "10.250.$idx.0/30")"
    done <"$st.netns"

    if [ "$keep" = 1 ]; then
        check "$what: KS_KEEP=1 kept $workdir" test -d "$workdir"
        rm -rf "$workdir"
    else
        check "$what: work directory $workdir is removed" test ! -e "$workdir"
    fi
}

add_counts() {
    local p f
    if [ -f "$1.counts" ]; then
        read -r p f <"$1.counts"
        PASSED=$((PASSED + p))
        FAILED=$((FAILED + f))
    else
        not_ok "phase $2 wrote no results"
    fi
}

main() {
    ks_need_root
    ks_need "$KS_SSHD_BIN" ssh ssh-keygen ssh-keyscan ip ss python3 flock timeout ps
    ks_workdir
    local st="$KS_WORKDIR/state"
    mkdir -p "$st"

    local out
    out=$(bash -c '. "$1"; ks_need no-such-command-kvmshift' _ "$HERE/lib.sh") && rc=0 || rc=$?
    check "ks_need of a missing command exits 77 with 'SKIP: ...' ($rc: $out)" \
        eval '[ "$rc" = 77 ] && contains "$out" "SKIP: '"'"'no-such-command-kvmshift'"'"' is not installed"'
    out=$(bash -c 'set -euo pipefail; . "$1"; x=$(ks_workdir)' _ "$HERE/lib.sh" 2>&1) && rc=0 || rc=$?
    check "ks_workdir refuses to run in \$(...)" eval '[ "$rc" != 0 ] && contains "$out" "must be called directly"'

    echo "# phase main"
    bash "$0" --phase main "$st/main" && rc=0 || rc=$?
    check "phase main exits 0 (got $rc)" test "$rc" = 0
    add_counts "$st/main" main
    [ -f "$st/main.workdir" ] && check_leftovers "$st/main" "after a normal end"

    echo "# phase fail (set -e failure, KS_KEEP=1)"
    KS_KEEP=1 bash "$0" --phase fail "$st/fail" && rc=0 || rc=$?
    check "phase fail exits 1 (got $rc)" test "$rc" = 1
    [ -f "$st/fail.workdir" ] && check_leftovers "$st/fail" "after an error" 1

    echo "# phase signal (SIGTERM)"
    ks_run bash "$0" --phase signal "$st/signal"
    local child=$KS_LAST_PID i
    for ((i = 0; i < 300; i++)); do
        [ -f "$st/signal.ready" ] && break
        kill -0 "$child" 2>/dev/null || break
        sleep 0.1
    done
    check "phase signal got ready" test -f "$st/signal.ready"
    kill -TERM "$child"
    wait "$child" && rc=0 || rc=$?
    check "phase signal exits 143 on SIGTERM (got $rc)" test "$rc" = 143
    [ -f "$st/signal.workdir" ] && check_leftovers "$st/signal" "after SIGTERM"

    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ]
}

if [ "${1:-}" = --phase ]; then
    "phase_$2" "$3"
else
    main
fi
