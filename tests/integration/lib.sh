# shellcheck shell=bash disable=SC2015,SC2016
# (SC2015: "A && B || C" is used on purpose; SC2016: the quotes in
# "${ns:+ in namespace '$ns'}" are text and $ns does expand.)
# lib.sh: harness for integration tests and benchmarks that need real SSH
# servers. Source it from a bash script (safe under `set -euo pipefail`):
#
#     #!/bin/bash
#     set -euo pipefail
#     . "$(dirname "$0")/lib.sh"
#     ks_need ssh sshd ssh-keygen
#     ks_workdir
#     ks_keygen "$KS_WORKDIR/client"
#     ks_sshd_start web01 127.0.0.1 "$(ks_free_ports 1)"
#
# Functions (each returns 0, or prints "ERROR: ..." on stderr and returns 1;
# KS_ variables are set by the harness, ks__ names are internal):
#
#   ks_skip MSG                 print "SKIP: MSG", exit 77 (ctest's skip code;
#                               tests set SKIP_RETURN_CODE 77)
#   ks_need CMD...              ks_skip unless every CMD is found
#   ks_need_root                ks_skip unless running as root (namespaces,
#                               sshd's privilege separation)
#   ks_workdir                  create KS_WORKDIR (mktemp -d under ${TMPDIR:-/tmp})
#                               and install the cleanup trap (EXIT, INT, TERM,
#                               HUP). Call it directly, not in $(...). The trap
#                               stops every process started through the harness
#                               by its pid (SIGTERM, wait 5 s, SIGKILL), with
#                               the processes they started, deletes the
#                               namespaces, veth links and routes it created,
#                               then removes KS_WORKDIR unless KS_KEEP=1. Do not
#                               replace the EXIT trap; register extra cleanup
#                               with ks_defer.
#   ks_defer CMD...             run CMD at cleanup, before processes are stopped
#   ks_keygen DIR               client key pair DIR/id_ed25519{,.pub}; sets
#                               KS_CLIENT_KEY and adds the public key to the
#                               file every harness sshd accepts
#                               ($KS_WORKDIR/authorized_keys)
#   ks_free_ports N [BASE]      print the first of N consecutive TCP ports, from
#                               BASE (default 22000) up, that nothing listens
#                               on in the root namespace
#   ks_sshd_start NAME ADDR PORT [NETNS]
#                               start /usr/sbin/sshd -D -e -f CONFIG listening
#                               on ADDR:PORT (inside NETNS if given: a name from
#                               ks_netns_host or its "ks-PID-INDEX" name); wait
#                               up to 10 s for the port; sets KS_LAST_PID. Its
#                               files are in $KS_WORKDIR/sshd/NAME/ (sshd_config,
#                               ssh_host_ed25519_key, sshd.log, sshd.pid). The
#                               host key is made on first start and kept across
#                               restarts. Without a client key, ks_keygen
#                               "$KS_WORKDIR/client" is called first.
#   ks_sshd_stop NAME [--keep-sessions]
#                               stop that sshd by pid and wait for it. Its open
#                               sessions are stopped too (as when a server goes
#                               away), unless --keep-sessions (as on a restart
#                               of the ssh service).
#   ks_sshd_newkey NAME         replace NAME's host key; takes effect at the
#                               next ks_sshd_start (the "host key changed" case)
#   ks_sshd_pid NAME            print the pid of NAME's running sshd
#   ks_sshd_fingerprint NAME    print NAME's host key fingerprint (SHA256:...)
#   ks_ssh ADDR PORT CMD...     run CMD as root on a harness sshd with the
#                               client key, no host key checks, BatchMode and a
#                               5 s connect timeout (for checks in tests)
#   ks_netns_host NAME INDEX    make network namespace "ks-$$-INDEX" joined to
#                               the root namespace by a veth pair: root side
#                               "ks$$hINDEX" 10.250.INDEX.1/30, namespace side
#                               "ks$$nINDEX" 10.250.INDEX.2/30, links and the
#                               namespace's lo up; print 10.250.INDEX.2. INDEX:
#                               1-254, one per namespace in a run. May be called
#                               in $(...).
#   ks_netns_of NAME            print the namespace name made for NAME
#   ks_wait_port ADDR PORT [NETNS] [SECONDS]
#                               wait (default 10 s) until ADDR:PORT accepts a
#                               TCP connection
#   ks_inventory_line NAME ADDR PORT KEY [ROLE]
#                               print "NAME,ADDR,ssh,PORT,root,KEY,ROLE,,"
#   ks_run CMD...               start CMD in the background, stdin from
#                               /dev/null, output to $KS_WORKDIR/logs/; track
#                               its pid (set in KS_LAST_PID; its output file
#                               in KS_LAST_LOG). To run it in a
#                               namespace: ks_run ip netns exec NS CMD...
#   ks_kill PID...              stop tracked processes by pid now (SIGTERM,
#                               then SIGKILL after 5 s) with their children
#   ks_silent_listener ADDR PORT [NETNS]
#                               accept TCP connections on ADDR:PORT and never
#                               send a byte (an SSH server that hangs before its
#                               banner); sets KS_LAST_PID
#
# Addresses. Tests send traffic only to loopback or to addresses of network
# namespaces they made, never elsewhere. Preference, and why:
#   1. 127.0.0.1 with distinct ports: needs nothing, touches no routing; every
#      sshd there shares the host's /proc, so it is one "server" seen many times.
#   2. A namespace from ks_netns_host, when a test needs a server of its own
#      (its own /proc/net/dev, its own address, port 22 free). Its addresses are
#      10.250.INDEX.0/30: private (RFC 1918) space that no route of this machine
#      uses (checked before use: a run refuses an INDEX whose subnet already has
#      an address or route), on a veth pair that ends in our namespace, which
#      has no default route, so nothing goes further. While the namespace
#      exists, an "unreachable" route for the /30 with metric 4000 sits behind
#      the veth's route: if the link goes down or the namespace is deleted
#      while a client still retries, the kernel answers "no route to host"
#      instead of sending the packets to the default gateway (which it does
#      otherwise: a /30 without its link falls back to the default route).
#      The harness checks with `ip route get` that the namespace address goes
#      through the veth before returning it.
#
# Environment:
#   KS_KEEP=1                   keep KS_WORKDIR (logs, configs) after the run
#   KS_SSHD_SETENV="A=1 B=2"    more variables for the sessions of sshd started
#                               from then on (e.g. a PATH with a fake tool)
#   KS_SSHD_SOURCE_BASHRC=1     let sessions run root's ~/.bashrc. By default
#                               the sshd config has "SetEnv SHLVL=1", which
#                               makes bash skip ~/.bashrc for ssh commands (bash
#                               sources it only when SHLVL was unset or 0): the
#                               build machine's /root/.bashrc runs `pyenv init`,
#                               ~100 ms of CPU per session, which a server's
#                               default ~/.bashrc does not.
#   KS_SSHD_TIMEOUT             seconds to wait for an sshd port (default 10)
#
# State lives in files under $KS_WORKDIR/.ks/ rather than in shell variables,
# so that functions called in $(...) subshells are still cleaned up:
#   procs    "PID STARTTIME LABEL" per started process; the start time (from
#            /proc/PID/stat) guards against killing a reused pid
#   netns    "NAME NS ROOTLINK INDEX" per namespace (written before creation,
#            so a half-made one is removed too)
#   defer    commands for ks_defer
# Every process the harness starts also gets KS_HARNESS_RUN=$KS_RUN_ID in its
# environment; the cleanup stops any process that still carries it (e.g. an
# sshd session whose parent already exited), again by pid.

# Sourced twice: keep the state of the first time.
[ -z "${KS__LIB_OWNER:-}" ] || [ "$KS__LIB_OWNER" != "$$" ] || return 0
KS__LIB_OWNER=$$
KS_SSHD_BIN=${KS_SSHD_BIN:-/usr/sbin/sshd}
# Not taken from the environment: each script has its own work directory.
KS_WORKDIR=
KS_RUN_ID=
KS_CLIENT_KEY=
KS_LAST_PID=
KS_LAST_LOG=
KS_HARNESS_LOCK=${KS_HARNESS_LOCK:-/run/lock/kvmshift-harness.lock}

ks__err() {
    printf 'ERROR: %s\n' "$*" >&2
    return 1
}

ks__note() {
    printf '%s\n' "$*" >&2
}

ks_skip() {
    printf 'SKIP: %s\n' "$*"
    exit 77
}

ks_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || ks_skip "'$c' is not installed (needed by this test)"
    done
}

ks_need_root() {
    [ "$(id -u)" -eq 0 ] || ks_skip "needs root (network namespaces, sshd privilege separation)"
}

ks__need_workdir() {
    [ -n "$KS_WORKDIR" ] && [ -d "$KS_WORKDIR/.ks" ] ||
        ks__err "${FUNCNAME[1]}: call ks_workdir first"
}

ks_workdir() {
    if [ "${BASH_SUBSHELL:-0}" -gt 0 ]; then
        ks__err "ks_workdir must be called directly, not in \$(...) or a subshell: its cleanup trap would run when the subshell ends"
        return 1
    fi
    if [ -n "$KS_WORKDIR" ] && [ -d "$KS_WORKDIR/.ks" ]; then
        return 0
    fi
    KS_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/kvmshift-test.XXXXXX") ||
        ks__err "cannot create a temporary directory under '${TMPDIR:-/tmp}'" || return 1
    KS_RUN_ID="$$.$(date +%s%N)"
    mkdir -p "$KS_WORKDIR/.ks" "$KS_WORKDIR/logs"
    : >"$KS_WORKDIR/.ks/procs"
    : >"$KS_WORKDIR/.ks/netns"
    : >"$KS_WORKDIR/.ks/defer"
    printf '%s\n' "$KS_RUN_ID" >"$KS_WORKDIR/.ks/run_id"
    trap 'ks__cleanup' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

ks_defer() {
    ks__need_workdir || return 1
    local q
    printf -v q '%q ' "$@"
    printf '%s\n' "$q" >>"$KS_WORKDIR/.ks/defer"
}

# Field 22 of /proc/PID/stat (start time in clock ticks since boot); fails
# when the process is gone.
ks__starttime() {
    local s
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    printf '%s\n' "${20}"
}

# Alive and not a zombie.
ks__alive() {
    local s
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }
    [ "${s:0:1}" != Z ] && [ "${s:0:1}" != X ]
}

ks__track() {
    local pid=$1 label=$2 st
    st=$(ks__starttime "$pid") || st=0
    printf '%s %s %s\n' "$pid" "$st" "$label" >>"$KS_WORKDIR/.ks/procs"
}

# Is PID still the process we recorded (same start time)?
ks__same() {
    local st
    st=$(ks__starttime "$1") || return 1
    [ "$2" = 0 ] || [ "$st" = "$2" ]
}

# Print PIDs and all their descendants (one per line), from one `ps` run.
ks__with_descendants() {
    [ $# -gt 0 ] || return 0
    ps -e -o pid=,ppid= | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
        { parent[$1] = $2; pids[++m] = $1 }
        END {
            do {
                changed = 0
                for (i = 1; i <= m; i++) {
                    p = pids[i]
                    if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
                }
            } while (changed)
            for (p in keep) print p
        }'
}

# Processes carrying this run's KS_HARNESS_RUN tag.
ks__tagged() {
    [ -n "$KS_RUN_ID" ] || return 0
    local f p
    for f in /proc/[0-9]*/environ; do
        p=${f#/proc/}
        p=${p%/environ}
        [ "$p" = "$$" ] || [ "$p" = "${BASHPID:-}" ] && continue
        if grep -qsxzF "KS_HARNESS_RUN=$KS_RUN_ID" "$f" 2>/dev/null; then
            printf '%s\n' "$p"
        fi
    done
}

# Send SIGTERM to PIDs, wait up to SECS for them to end, SIGKILL the rest.
# Our own children are reaped so that they do not linger as zombies.
ks__terminate() {
    local secs=$1
    shift
    local -a pids=()
    local p
    for p in "$@"; do
        [ "$p" = "$$" ] && continue
        [ "$p" = "${BASHPID:-}" ] && continue
        pids+=("$p")
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local i left
    for ((i = 0; i < secs * 20; i++)); do
        left=0
        for p in "${pids[@]}"; do
            ks__alive "$p" && left=1 && break
        done
        [ $left = 0 ] && break
        sleep 0.05
    done
    local -a stragglers=()
    for p in "${pids[@]}"; do
        ks__alive "$p" && stragglers+=("$p")
    done
    if [ ${#stragglers[@]} -gt 0 ]; then
        ks__note "harness: SIGKILL to pids still running after ${secs}s: ${stragglers[*]}"
        kill -KILL "${stragglers[@]}" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do
            left=0
            for p in "${stragglers[@]}"; do
                ks__alive "$p" && left=1 && break
            done
            [ $left = 0 ] && break
            sleep 0.05
        done
    fi
    # Reap our own children (a process stuck in D state is not waited for).
    for p in "${pids[@]}"; do
        ks__alive "$p" || wait "$p" 2>/dev/null || true
    done
}

ks__cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM HUP
    [ -n "$KS_WORKDIR" ] && [ -d "$KS_WORKDIR/.ks" ] || exit "$rc"
    local st="$KS_WORKDIR/.ks"

    local line
    while IFS= read -r line; do
        [ -n "$line" ] && eval "$line"
    done <"$st/defer"

    # Everything to stop: tracked processes that are still the ones we
    # started, their descendants, anything with our tag, anything left in our
    # namespaces.
    local -a roots=()
    local pid stime label
    while read -r pid stime label; do
        [ -n "$pid" ] && ks__same "$pid" "$stime" && roots+=("$pid")
    done <"$st/procs"
    local name ns link idx
    while read -r name ns link idx; do
        [ -n "$ns" ] && [ -e "/run/netns/$ns" ] || continue
        while read -r pid; do
            [ -n "$pid" ] && roots+=("$pid")
        done < <(ip netns pids "$ns" 2>/dev/null)
    done <"$st/netns"
    local -a all=()
    mapfile -t all < <({
        ks__with_descendants "${roots[@]}"
        ks__tagged
    } | sort -un)
    ks__terminate 5 "${all[@]}"
    # A second pass for anything the first one made while it was stopping.
    mapfile -t all < <(ks__tagged)
    ks__terminate 2 "${all[@]}"

    while read -r name ns link idx; do
        [ -n "$ns" ] || continue
        if [ -e "/run/netns/$ns" ]; then
            ip netns del "$ns" 2>/dev/null || ks__note "harness: could not delete namespace '$ns': delete it with 'ip netns del $ns'"
        fi
        if ip link show "$link" >/dev/null 2>&1; then
            ip link del "$link" 2>/dev/null || ks__note "harness: could not delete link '$link'"
        fi
        ip route del unreachable "10.250.$idx.0/30" metric 4000 2>/dev/null
    done <"$st/netns"

    if [ "${KS_KEEP:-0}" = 1 ]; then
        ks__note "harness: KS_KEEP=1: kept $KS_WORKDIR"
    else
        rm -rf "$KS_WORKDIR"
    fi
    exit "$rc"
}

ks_keygen() {
    local dir=${1:?ks_keygen DIR}
    ks__need_workdir || return 1
    mkdir -p "$dir" || return 1
    if [ ! -f "$dir/id_ed25519" ]; then
        ssh-keygen -q -t ed25519 -N '' -C "kvmshift-test-client" -f "$dir/id_ed25519" </dev/null ||
            ks__err "ssh-keygen could not make '$dir/id_ed25519'" || return 1
    fi
    cat "$dir/id_ed25519.pub" >>"$KS_WORKDIR/authorized_keys"
    KS_CLIENT_KEY="$dir/id_ed25519"
}

ks_free_ports() {
    local n=${1:?ks_free_ports N [BASE]} base=${2:-22000} p i ok
    command -v ss >/dev/null 2>&1 || ks__err "ks_free_ports needs 'ss' (package iproute2)" || return 1
    local used
    used=" $(ss -Htln 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un | tr '\n' ' ') "
    for ((p = base; p + n - 1 <= 65535; p++)); do
        ok=1
        for ((i = 0; i < n; i++)); do
            if [[ $used == *" $((p + i)) "* ]]; then
                ok=0
                p=$((p + i))
                break
            fi
        done
        if [ $ok = 1 ]; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    ks__err "no $n consecutive free TCP ports from $base up"
}

# NETNS argument: a ks_netns_host NAME or a namespace name; prints the latter.
ks__resolve_netns() {
    local arg=$1 name ns link idx
    [ -n "$arg" ] || return 0
    if [ -n "$KS_WORKDIR" ] && [ -f "$KS_WORKDIR/.ks/netns" ]; then
        while read -r name ns link idx; do
            if [ "$name" = "$arg" ]; then
                printf '%s\n' "$ns"
                return 0
            fi
        done <"$KS_WORKDIR/.ks/netns"
    fi
    [ -e "/run/netns/$arg" ] || ks__err "network namespace '$arg' does not exist (make it with ks_netns_host)" || return 1
    printf '%s\n' "$arg"
}

ks_netns_of() {
    local ns
    ns=$(ks__resolve_netns "${1:?ks_netns_of NAME}") || return 1
    printf '%s\n' "$ns"
}

# Does anything listen on TCP port PORT (any address) in namespace NS?
ks__port_listened() {
    local port=$1 ns=$2
    local -a pre=()
    [ -n "$ns" ] && pre=(ip netns exec "$ns")
    "${pre[@]}" ss -Htln "sport = :$port" 2>/dev/null | grep -q .
}

# Wait for ADDR:PORT to accept connections; with PID, also for PID to be the
# one listening there (another program on the port must not pass for it).
# Returns 2 early when PID has exited.
ks__wait_port_pid() {
    local addr=$1 port=$2 ns=$3 secs=$4 pid=$5
    local -a pre=()
    [ -n "$ns" ] && pre=(ip netns exec "$ns")
    local deadline=$((SECONDS + secs))
    while :; do
        if { [ -z "$pid" ] || "${pre[@]}" ss -Htlnp "sport = :$port" 2>/dev/null | grep -q "pid=$pid,"; } &&
            "${pre[@]}" timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$addr" "$port" 2>/dev/null; then
            return 0
        fi
        if [ -n "$pid" ] && ! ks__alive "$pid"; then
            return 2
        fi
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

ks_wait_port() {
    local addr=${1:?ks_wait_port ADDR PORT [NETNS] [SECONDS]} port=${2:?ks_wait_port ADDR PORT [NETNS] [SECONDS]}
    local ns
    ns=$(ks__resolve_netns "${3:-}") || return 1
    local secs=${4:-10}
    ks__wait_port_pid "$addr" "$port" "$ns" "$secs" "" ||
        ks__err "nothing accepts TCP connections on $addr:$port${ns:+ in namespace '$ns'} after ${secs}s"
}

ks__valid_name() {
    [[ $1 =~ ^[A-Za-z0-9._-]+$ ]] ||
        ks__err "name '$1' must be letters, digits, '.', '_' or '-'"
}

ks_sshd_pid() {
    local name=${1:?ks_sshd_pid NAME}
    ks__need_workdir || return 1
    local f="$KS_WORKDIR/sshd/$name/harness.pid" pid st
    [ -f "$f" ] || ks__err "sshd '$name' was never started" || return 1
    read -r pid st <"$f"
    ks__same "$pid" "$st" || ks__err "sshd '$name' (pid $pid) is not running" || return 1
    printf '%s\n' "$pid"
}

ks_sshd_start() {
    local name=${1:?ks_sshd_start NAME ADDR PORT [NETNS]} addr=${2:?ks_sshd_start NAME ADDR PORT [NETNS]}
    local port=${3:?ks_sshd_start NAME ADDR PORT [NETNS]} ns
    ks__need_workdir || return 1
    ks__valid_name "$name" || return 1
    ns=$(ks__resolve_netns "${4:-}") || return 1
    [ -x "$KS_SSHD_BIN" ] || ks__err "'$KS_SSHD_BIN' not found: install openssh-server" || return 1
    local d="$KS_WORKDIR/sshd/$name"
    mkdir -p "$d" || return 1
    if [ -f "$d/harness.pid" ] && ks_sshd_pid "$name" >/dev/null 2>&1; then
        ks__err "sshd '$name' is already running (pid $(ks_sshd_pid "$name")): ks_sshd_stop it first"
        return 1
    fi
    # sshd's privilege separation needs this directory, owned by root and not
    # writable by others; Debian creates it only when the ssh service starts.
    mkdir -p /run/sshd && chmod 0755 /run/sshd || ks__err "cannot create /run/sshd" || return 1
    if [ ! -s "$KS_WORKDIR/authorized_keys" ]; then
        ks_keygen "$KS_WORKDIR/client" || return 1
    fi
    if [ ! -f "$d/ssh_host_ed25519_key" ]; then
        ssh-keygen -q -t ed25519 -N '' -C "kvmshift-test-host-$name" -f "$d/ssh_host_ed25519_key" </dev/null ||
            ks__err "ssh-keygen could not make the host key of '$name'" || return 1
    fi
    # sshd takes the first SetEnv line only: one line for all values
    local setenv="SetEnv SHLVL=1 ${KS_SSHD_SETENV:-}"
    [ "${KS_SSHD_SOURCE_BASHRC:-0}" = 1 ] && setenv="SetEnv ${KS_SSHD_SETENV:-# SHLVL=1 left out: KS_SSHD_SOURCE_BASHRC=1}"
    cat >"$d/sshd_config" <<EOF
# Generated by tests/integration/lib.sh for server '$name'.
ListenAddress $addr
Port $port
HostKey $d/ssh_host_ed25519_key
AuthorizedKeysFile $KS_WORKDIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $d/sshd.pid
MaxSessions 10
MaxStartups 200:30:400
LogLevel ERROR
$setenv
EOF
    if ks__port_listened "$port" "$ns"; then
        ks__err "cannot start sshd '$name': TCP port $port is already in use${ns:+ in namespace '$ns'} (see 'ss -tlnp'); choose another, e.g. with ks_free_ports"
        return 1
    fi
    local -a pre=()
    [ -n "$ns" ] && pre=(ip netns exec "$ns")
    printf '=== %s start %s:%s%s\n' "$(date '+%F %T')" "$addr" "$port" "${ns:+ netns $ns}" >>"$d/sshd.log"
    # `ip netns exec` execs its command, so $! is sshd's own pid either way.
    KS_HARNESS_RUN=$KS_RUN_ID "${pre[@]}" "$KS_SSHD_BIN" -D -e -f "$d/sshd_config" </dev/null >>"$d/sshd.log" 2>&1 &
    local pid=$!
    ks__track "$pid" "sshd:$name"
    printf '%s %s\n' "$pid" "$(ks__starttime "$pid" || echo 0)" >"$d/harness.pid"
    printf '%s %s %s\n' "$addr" "$port" "$ns" >"$d/listen"
    KS_LAST_PID=$pid
    local secs=${KS_SSHD_TIMEOUT:-10} r=0
    ks__wait_port_pid "$addr" "$port" "$ns" "$secs" "$pid" || r=$?
    if [ $r != 0 ]; then
        if [ $r = 2 ]; then
            ks__err "sshd '$name' on $addr:$port${ns:+ in namespace '$ns'} exited at start; its log ($d/sshd.log) ends with:"
        else
            ks__err "sshd '$name' (pid $pid) does not accept connections on $addr:$port${ns:+ in namespace '$ns'} after ${secs}s; its log ($d/sshd.log) ends with:"
        fi
        tail -n 5 "$d/sshd.log" | sed 's/^/    /' >&2
        ks__terminate 2 "$pid"
        return 1
    fi
}

ks_sshd_stop() {
    local name=${1:?ks_sshd_stop NAME [--keep-sessions]} keep=${2:-}
    ks__need_workdir || return 1
    local pid
    pid=$(ks_sshd_pid "$name") || return 1
    local -a pids=("$pid")
    if [ "$keep" != --keep-sessions ]; then
        mapfile -t pids < <(ks__with_descendants "$pid")
    fi
    ks__terminate 5 "${pids[@]}"
    ! ks__alive "$pid" || ks__err "sshd '$name' (pid $pid) did not stop"
}

ks_sshd_newkey() {
    local name=${1:?ks_sshd_newkey NAME}
    ks__need_workdir || return 1
    local d="$KS_WORKDIR/sshd/$name"
    mkdir -p "$d" || return 1
    rm -f "$d/ssh_host_ed25519_key" "$d/ssh_host_ed25519_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "kvmshift-test-host-$name" -f "$d/ssh_host_ed25519_key" </dev/null ||
        ks__err "ssh-keygen could not make a new host key for '$name'"
}

ks_sshd_fingerprint() {
    local name=${1:?ks_sshd_fingerprint NAME}
    ks__need_workdir || return 1
    local f="$KS_WORKDIR/sshd/$name/ssh_host_ed25519_key.pub"
    [ -f "$f" ] || ks__err "sshd '$name' has no host key yet" || return 1
    ssh-keygen -l -E sha256 -f "$f" | awk '{ print $2 }'
}

ks_ssh() {
    local addr=${1:?ks_ssh ADDR PORT CMD...} port=${2:?ks_ssh ADDR PORT CMD...}
    shift 2
    [ -n "$KS_CLIENT_KEY" ] || ks__err "ks_ssh: no client key: call ks_keygen first" || return 1
    ssh -i "$KS_CLIENT_KEY" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=5 \
        -o LogLevel=ERROR -p "$port" "root@$addr" "$@" </dev/null
}

ks_netns_host() {
    local name=${1:?ks_netns_host NAME INDEX} idx=${2:?ks_netns_host NAME INDEX}
    ks__need_workdir || return 1
    ks__valid_name "$name" || return 1
    [[ $idx =~ ^[0-9]+$ ]] && [ "$idx" -ge 1 ] && [ "$idx" -le 254 ] ||
        ks__err "namespace index '$idx' must be 1-254" || return 1
    idx=$((10#$idx))
    local ns="ks-$$-$idx" hl="ks$$h$idx" nl="ks$$n$idx"
    local net="10.250.$idx" n2 i2
    while read -r n2 _ _ i2; do
        [ "$n2" != "$name" ] || ks__err "ks_netns_host: name '$name' is already used in this run" || return 1
        [ "$i2" != "$idx" ] || ks__err "ks_netns_host: index $idx is already used in this run (by '$n2')" || return 1
    done <"$KS_WORKDIR/.ks/netns"

    # Check and claim the subnet under a lock: parallel test runs must not
    # put the same /30 on two links.
    local lockfd
    exec {lockfd}>>"$KS_HARNESS_LOCK" || ks__err "cannot open lock file '$KS_HARNESS_LOCK'" || return 1
    flock -w 30 "$lockfd" || { exec {lockfd}>&-; ks__err "lock '$KS_HARNESS_LOCK' busy for 30 s"; return 1; }
    local r=0
    ks__netns_make "$name" "$idx" "$ns" "$hl" "$nl" "$net" || r=1
    exec {lockfd}>&-
    [ $r = 0 ] || return 1
    printf '%s\n' "$net.2"
}

ks__netns_make() {
    local name=$1 idx=$2 ns=$3 hl=$4 nl=$5 net=$6
    if [ -e "/run/netns/$ns" ]; then
        ks__err "network namespace '$ns' already exists (left over by a run whose pid was $$?): check with 'ip netns pids $ns', then 'ip netns del $ns'"
        return 1
    fi
    if [ -n "$(ip -4 -o addr show to "$net.0/30")" ] || [ -n "$(ip -4 route show "$net.0/30")" ]; then
        ks__err "subnet $net.0/30 is already in use on this machine (another test run, or a real network): choose another index than $idx"
        return 1
    fi
    # Recorded first, so that cleanup removes a half-made namespace.
    printf '%s %s %s %s\n' "$name" "$ns" "$hl" "$idx" >>"$KS_WORKDIR/.ks/netns"
    ip netns add "$ns" || ks__err "ip netns add '$ns' failed" || return 1
    ip route add unreachable "$net.0/30" metric 4000 ||
        ks__err "cannot add the guard route 'unreachable $net.0/30 metric 4000'" || return 1
    ip link add "$hl" type veth peer name "$nl" netns "$ns" ||
        ks__err "cannot create veth pair '$hl'/'$nl'" || return 1
    ip addr add "$net.1/30" dev "$hl" &&
        ip link set "$hl" up &&
        ip -n "$ns" addr add "$net.2/30" dev "$nl" &&
        ip -n "$ns" link set "$nl" up &&
        ip -n "$ns" link set lo up ||
        ks__err "cannot configure the veth pair of namespace '$ns'" || return 1
    local route
    route=$(ip -4 route get "$net.2" 2>&1) || true
    [[ $route == *" dev $hl "* ]] ||
        ks__err "route to $net.2 does not go through '$hl' ($route): refusing to use it" || return 1
}

ks_inventory_line() {
    local name=${1:?ks_inventory_line NAME ADDR PORT KEY [ROLE]} addr=${2:?ks_inventory_line NAME ADDR PORT KEY [ROLE]}
    local port=${3:?ks_inventory_line NAME ADDR PORT KEY [ROLE]} key=${4-} role=${5:-}
    printf '%s,%s,ssh,%s,root,%s,%s,,\n' "$name" "$addr" "$port" "$key" "$role"
}

ks_run() {
    [ $# -gt 0 ] || ks__err "ks_run CMD..." || return 1
    ks__need_workdir || return 1
    local log
    log=$(mktemp "$KS_WORKDIR/logs/run-$(basename -- "$1").XXXXXX.log")
    KS_HARNESS_RUN=$KS_RUN_ID "$@" </dev/null >"$log" 2>&1 &
    local pid=$!
    ks__track "$pid" "run:$*"
    KS_LAST_PID=$pid
    # shellcheck disable=SC2034 # for callers
    KS_LAST_LOG=$log
}

ks_kill() {
    local -a pids=()
    local p pid stime label found
    ks__need_workdir || return 1
    for p in "$@"; do
        found=0
        while read -r pid stime label; do
            if [ "$pid" = "$p" ]; then
                found=1
                ks__same "$pid" "$stime" && mapfile -t -O ${#pids[@]} pids < <(ks__with_descendants "$pid")
            fi
        done <"$KS_WORKDIR/.ks/procs"
        [ $found = 1 ] || ks__err "ks_kill: pid $p was not started by the harness" || return 1
    done
    ks__terminate 5 "${pids[@]}"
}

ks_silent_listener() {
    local addr=${1:?ks_silent_listener ADDR PORT [NETNS]} port=${2:?ks_silent_listener ADDR PORT [NETNS]}
    local ns
    ns=$(ks__resolve_netns "${3:-}") || return 1
    ks__need_workdir || return 1
    command -v python3 >/dev/null 2>&1 || ks__err "ks_silent_listener needs python3" || return 1
    if ks__port_listened "$port" "$ns"; then
        ks__err "cannot start the silent listener: TCP port $port is already in use${ns:+ in namespace '$ns'}"
        return 1
    fi
    local -a pre=()
    [ -n "$ns" ] && pre=(ip netns exec "$ns")
    # Accepts and keeps every connection open; reads and discards what the
    # client sends; never writes.
    ks_run "${pre[@]}" python3 -c '
import selectors, socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(128)
sel = selectors.DefaultSelector()
sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is s:
            c, _ = s.accept()
            sel.register(c, selectors.EVENT_READ)
        else:
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
' "$addr" "$port" || return 1
    local pid=$KS_LAST_PID r=0
    ks__wait_port_pid "$addr" "$port" "$ns" 10 "$pid" || r=$?
    if [ $r != 0 ]; then
        ks__err "silent listener on $addr:$port${ns:+ in namespace '$ns'} did not start"
        ks__terminate 2 "$pid"
        return 1
    fi
    KS_LAST_PID=$pid
}

# ks_libvirtd_start: a libvirtd of this test's own, as root, that sees
# nothing of the machine's libvirt: it runs in a private mount namespace
# with empty /etc/libvirt, /run/libvirt, /var/cache/libvirt and its own
# /var/lib/libvirt (KS_WORKDIR/libvirt/lib), its socket in
# KS_WORKDIR/libvirt/sock, and loads only the drivers named in
# KS_LIBVIRT_DRIVERS (default "storage"; no network driver, so no NAT
# network can start). Sets KS_LIBVIRT_URI (storage:///system with the
# socket) and KS_LIBVIRT_PID; stopped by pid at exit. With KS_LIBVIRT_TCP=1
# it also listens on 127.0.0.1 (plain TCP, no authentication: loopback
# only) and sets KS_LIBVIRT_TCP_URI, a URI that names a host as a remote
# KVM host's would (storage+tcp://127.0.0.1:PORT/system). With "qemu" in
# KS_LIBVIRT_DRIVERS, its qemu.conf runs guests as root without a security
# driver, cgroups, namespaces or virtlogd (the test machine has none of
# them), and KS_LIBVIRT_URI is qemu:///system with the socket. With
# KS_LIBVIRT_NETNS=NS it runs in network namespace NS (its guests' bridges
# and taps are made there, out of the machine's sight). Skips (77) when
# libvirtd is not installed.
# Stop every running domain of the libvirtd at URI (cleanup).
ks__libvirt_destroy_all() {
    local dom
    for dom in $(virsh -q -c "$1" list --name 2>/dev/null); do
        virsh -q -c "$1" destroy "$dom" >/dev/null 2>&1 || true
    done
}

ks_libvirtd_start() {
    ks__need_workdir || return 1
    command -v libvirtd >/dev/null 2>&1 || ks_skip "libvirtd is not installed (package libvirt-daemon)"
    local d=$KS_WORKDIR/libvirt drv=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver x
    mkdir -p "$d/sock" "$d/lib" "$d/drivers" || return 1
    for x in ${KS_LIBVIRT_DRIVERS:-storage}; do
        [ -f "$drv/libvirt_driver_$x.so" ] || ks__err "libvirt has no '$x' driver ($drv)" || return 1
        ln -sf "$drv/libvirt_driver_$x.so" "$d/drivers/"
    done
    cat >"$d/libvirtd.conf" <<EOC
unix_sock_dir = "$d/sock"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$d/libvirtd.log"
EOC
    local listen= port=
    if [ "${KS_LIBVIRT_TCP:-0}" = 1 ]; then
        port=$(ks_free_ports 1 16509) || return 1
        cat >>"$d/libvirtd.conf" <<EOC
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "$port"
auth_tcp = "none"
EOC
        listen=--listen
    fi
    local qemu=0
    [[ " ${KS_LIBVIRT_DRIVERS:-storage} " == *" qemu "* ]] && qemu=1
    # Debian's qemu driver looks its built-in user up before it reads
    # qemu.conf: the account the libvirt-daemon-system package would make
    # (that package is not installed: it starts a NAT network)
    if [ $qemu = 1 ] && ! getent passwd libvirt-qemu >/dev/null; then
        echo "harness: adding the system account libvirt-qemu that libvirt's qemu driver expects" >&2
        getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu || return 1
        useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
            -g libvirt-qemu libvirt-qemu || return 1
    fi
    cat >"$d/qemu.conf" <<EOC
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOC
    # mount points of the namespace (empty directories, as the packages make)
    mkdir -p /run/libvirt /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt || return 1
    mkdir -p "$d/log"
    cat >"$d/start.sh" <<EOC
set -e
mount -t tmpfs tmpfs /run/libvirt
mount -t tmpfs tmpfs /etc/libvirt
mount --bind "$d/lib" /var/lib/libvirt
mount -t tmpfs tmpfs /var/cache/libvirt
mount --bind "$d/log" /var/log/libvirt
cp "$d/qemu.conf" /etc/libvirt/qemu.conf
LIBVIRT_DRIVER_DIR="$d/drivers" exec libvirtd $listen -f "$d/libvirtd.conf" -p "$d/libvirtd.pid"
EOC
    local -a pre=()
    [ -n "${KS_LIBVIRT_NETNS:-}" ] && pre=(ip netns exec "$KS_LIBVIRT_NETNS")
    # unshare and sh exec: \$! is libvirtd's pid
    KS_HARNESS_RUN=$KS_RUN_ID "${pre[@]}" unshare -m --propagation private sh "$d/start.sh" </dev/null >"$d/out.log" 2>&1 &
    local pid=$! i
    ks__track "$pid" "libvirtd"
    # its guests first (qemu is not libvirtd's child once started), then it
    [ $qemu = 1 ] && ks_defer ks__libvirt_destroy_all "qemu:///system?socket=$d/sock/libvirt-sock"
    ks_defer kill "$pid"
    for i in $(seq 1 100); do
        [ -S "$d/sock/libvirt-sock" ] && break
        ks__alive "$pid" || break
        sleep 0.2
    done
    if [ ! -S "$d/sock/libvirt-sock" ]; then
        ks__err "libvirtd did not start; its logs end with:"
        tail -n 5 "$d/out.log" "$d/libvirtd.log" 2>/dev/null | sed 's/^/    /' >&2
        return 1
    fi
    KS_LIBVIRT_PID=$pid
    KS_LIBVIRT_URI="storage:///system?socket=$d/sock/libvirt-sock"
    [ $qemu = 1 ] && KS_LIBVIRT_URI="qemu:///system?socket=$d/sock/libvirt-sock"
    KS_LIBVIRT_TCP_URI=
    if [ -n "$port" ]; then
        ks__wait_port_pid 127.0.0.1 "$port" "" 10 "$pid" ||
            ks__err "libvirtd does not listen on 127.0.0.1:$port" || return 1
        KS_LIBVIRT_TCP_URI="storage+tcp://127.0.0.1:$port/system"
    fi
}
