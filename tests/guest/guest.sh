# shellcheck shell=bash
# guest.sh: the test "physical server" (tests/guest/README.md) booted under
# qemu for P2V tests. Source it from a bash script (safe under
# `set -euo pipefail`), alone or after tests/integration/lib.sh:
#
#     #!/bin/bash
#     set -euo pipefail
#     . "$(dirname "$0")/lib.sh"                 # optional
#     . "$(dirname "$0")/../guest/guest.sh"
#     ks_need_root
#     ks_workdir                                  # with lib.sh
#     ks_guest_image                              # build once, then cached
#     ks_guest_boot src "$KS_WORKDIR"             # qemu in the background
#     ks_guest_ssh src 'lsblk; vgs'
#     ks_guest_stop src
#
# Functions (each returns 0, or prints "ERROR: ..." on stderr and returns 1;
# ks__ names are internal). Call ks_guest_image and ks_guest_boot directly,
# not in $(...): they set variables.
#
#   ks_guest_image           build the image if this recipe was never built
#                            (about 2 min, see build-image.sh), else return at
#                            once. Sets KS_GUEST_DIR (the image directory),
#                            KS_GUEST_KEY (client private key, authorized for
#                            root in the guest), KS_GUEST_HOSTKEY_PUB (the
#                            guest's ssh host public key line,
#                            "ssh-ed25519 AAAA... root@ks-physrv"), and the
#                            variables of $KS_GUEST_DIR/image.env
#                            (KS_GUEST_RECIPE, KS_GUEST_KERNEL, KS_GUEST_IFACE
#                            = ens3, KS_GUEST_ADDR = 10.0.2.15,
#                            KS_GUEST_BUILD_SECONDS, ...). Prints nothing on
#                            stdout (build progress goes to stderr).
#   ks_guest_boot NAME WORKDIR
#                            boot a guest NAME with its files in WORKDIR/NAME/:
#                            qcow2 overlays sda.qcow2 and sdb.qcow2 over the
#                            image's disks (the cache is never written; the
#                            overlays are kept, so booting NAME again in the
#                            same WORKDIR finds its disks as it left them:
#                            remove WORKDIR/NAME for a fresh one), qemu.pid,
#                            console.log (serial console, appended at each
#                            boot), qemu.log, qmp.sock (QMP), known_hosts,
#                            guest.env (PORT, KEY, PID, MAC as shell
#                            assignments). Starts qemu-system-x86_64 in the
#                            background (no daemon), waits until sshd answers
#                            (KS_GUEST_BOOT_TIMEOUT, default 300 s) and prints
#                            "guest NAME: up after N s (ACCEL), ssh
#                            root@127.0.0.1 -p PORT". Sets KS_GUEST_PORT,
#                            KS_GUEST_PID, KS_GUEST_MAC, KS_GUEST_ACCEL (kvm or
#                            tcg), KS_GUEST_BOOT_SECONDS, KS_GUEST_RUN
#                            (WORKDIR/NAME), and KS_GUEST_KEY and
#                            KS_GUEST_HOSTKEY_PUB as ks_guest_image (called
#                            first if needed). Several guests can run at once
#                            under different NAMEs.
#   ks_guest_boot_sane NAME WORKDIR
#                            ks_guest_boot a fresh NAME (WORKDIR/NAME removed
#                            first) until the kernel gave the AHCI disks the
#                            names the image's fstab uses: the kernel probes
#                            the two ports in parallel, and at some boots sda
#                            and sdb swap (/boot is then the data partition,
#                            or root is not found), as on a real server with
#                            such an fstab. Up to KS_GUEST_BOOT_TRIES (4)
#                            boots of KS_GUEST_BOOT_TIMEOUT (default 200 s
#                            here) each; a note on stdout for each retry.
#                            For tests that need the server as it was built.
#   ks_guest_ssh NAME CMD... run CMD as root in guest NAME over ssh (its
#                            arguments joined by spaces and run by the guest's
#                            shell, as ssh does; stdin is passed on, so
#                            `ks_guest_ssh src 'cat >/x' <file` copies a file).
#                            The guest's host key is checked against the
#                            image's. Returns CMD's exit status.
#   ks_guest_stop NAME [--now]
#                            power NAME off (`systemctl poweroff` over ssh;
#                            with --now, skipped), wait up to
#                            KS_GUEST_STOP_TIMEOUT (default 60 s) for qemu to
#                            exit, then SIGTERM and, 10 s later, SIGKILL by
#                            pid. Returns 1 only if qemu could not be ended.
#                            A guest that is not running is fine.
#   ks_guest_stop_all [--now]
#                            ks_guest_stop every guest booted in this shell.
#   ks_guest_running NAME    true while NAME's qemu runs
#   ks_guest_pause NAME / ks_guest_resume NAME
#                            stop and continue NAME's virtual CPUs and clock
#                            (QMP stop and cont; needs socat): an idle guest
#                            under TCG still takes most of a core, which a
#                            test can give to its conversions meanwhile
#
# Stopping qemu at exit, even when a test fails:
#   - with tests/integration/lib.sh (ks_workdir called before
#     ks_guest_boot): nothing to do. ks_guest_boot registers
#     "ks_guest_stop NAME --now" with ks_defer, and qemu carries the
#     harness's KS_HARNESS_RUN tag, so the harness's cleanup stops it at exit
#     either way.
#   - without it: trap 'ks_guest_stop_all --now' EXIT (INT/TERM: exit).
#
# The machine: -machine pc, -m 1024 (KS_GUEST_MEM), -smp 2 (KS_GUEST_SMP),
# SeaBIOS booting sda; sda on port 0 of an AHCI controller (PCI slot 4),
# the data disk sdb on an LSI 53C895A SCSI controller (PCI slot 9), whose
# driver (sym53c8xx) is not in the initramfs: the booted system's udev
# loads it after sda has its name, so the two never swap (with both on
# AHCI ports, probed in parallel, they swapped at random, at every boot of
# eight in one CI run, and fstab then mounted the wrong partitions);
# KS_GUEST_EXTRA_DISKS="a.qcow2 b.qcow2" adds more as virtio disks at PCI
# slots 5.., seen as vda, vdb... once the booted system loads virtio_blk;
# an e1000 NIC at PCI slot 3 (so the guest calls it ens3) with the fixed
# MAC 52:54:00:12:34:56; a serial console. No virtio device otherwise.
#
# Network rule: the only network is `-netdev user,restrict=on` with one
# forward, 127.0.0.1:PORT on this machine to the guest's port 22. restrict=on
# cuts the guest off from everything else: no packet from the guest leaves
# qemu, so it can reach nothing on this machine nor beyond it. The guest's
# address is 10.0.2.15/24 (static), with no gateway and no DNS.
#
# Accelerator: KVM only if a probe boot under KVM works on this machine,
# else TCG (a full boot takes 1-2 min there; every timeout allows for it).
# The probe boots the image's kernel without a disk under KVM and waits up
# to 20 s for its "VFS: Unable to mount root" panic on the serial console;
# its answer is kept for the machine's boot id in
# /run/kvmshift-tests/accel.BOOT_ID. KS_GUEST_ACCEL_FORCE=kvm|tcg skips it.

# Sourced twice: keep the state of the first time.
if [ -z "${KS__GUEST_LIB:-}" ]; then
    KS__GUEST_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    declare -gA KS__GUEST_RUNS=()
    KS_GUEST_DIR=
    KS_GUEST_KEY=
    KS_GUEST_HOSTKEY_PUB=
    KS_GUEST_PORT=
    KS_GUEST_PID=
    KS_GUEST_MAC=
    KS_GUEST_ACCEL=
    KS_GUEST_BOOT_SECONDS=
    KS_GUEST_RUN=
fi
KS__GUEST_MAC_DEFAULT=52:54:00:12:34:56

ks__guest_err() {
    printf 'ERROR: %s\n' "$*" >&2
    return 1
}

ks_guest_image() {
    local dir
    dir=$(bash "$KS__GUEST_LIB/build-image.sh") ||
        ks__guest_err "the test server image could not be built (tests/guest/build-image.sh, output above)" || return 1
    [ -f "$dir/image.env" ] && [ -f "$dir/sda.qcow2" ] && [ -f "$dir/sdb.qcow2" ] ||
        ks__guest_err "image directory '$dir' is incomplete: remove it and build again" || return 1
    # shellcheck disable=SC1091
    . "$dir/image.env"
    KS_GUEST_DIR=$dir
    KS_GUEST_KEY=$dir/id_ed25519
    KS_GUEST_HOSTKEY_PUB=$(cat "$dir/ssh_host_ed25519_key.pub")
}

# Alive and not a zombie.
ks__guest_alive() {
    local s
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }
    [ "${s:0:1}" != Z ] && [ "${s:0:1}" != X ]
}

ks__guest_starttime() {
    local s
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    printf '%s\n' "${20}"
}

# Is the qemu recorded in run directory D still running? Prints its pid.
ks__guest_pid() {
    local d=$1 pid st
    [ -f "$d/qemu.pid" ] && [ -f "$d/qemu.start" ] || return 1
    read -r pid <"$d/qemu.pid" && read -r st <"$d/qemu.start" || return 1
    ks__guest_alive "$pid" && [ "$(ks__guest_starttime "$pid")" = "$st" ] || return 1
    printf '%s\n' "$pid"
}

ks__guest_rundir() {
    local name=$1
    [ -n "${KS__GUEST_RUNS[$name]:-}" ] ||
        ks__guest_err "guest '$name' was not booted by ks_guest_boot in this shell" || return 1
    printf '%s\n' "${KS__GUEST_RUNS[$name]}"
}

ks_guest_running() {
    local d
    d=$(ks__guest_rundir "${1:?ks_guest_running NAME}" 2>/dev/null) || return 1
    ks__guest_pid "$d" >/dev/null
}

# The ssh command line for run directory D, in the array KS__GUEST_SSH.
ks__guest_ssh_argv() {
    local d=$1 port key
    read -r port <"$d/port" && read -r key <"$d/key" ||
        ks__guest_err "no port or key recorded in '$d'" || return 1
    KS__GUEST_SSH=(ssh -F none -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes
        -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$d/known_hosts"
        -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=kvmshift-guest
        -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=6
        -o LogLevel=ERROR -p "$port" root@127.0.0.1)
}

ks_guest_ssh() {
    local name=${1:?ks_guest_ssh NAME CMD...} d
    shift
    [ $# -gt 0 ] || ks__guest_err "ks_guest_ssh NAME CMD...: no command" || return 1
    d=$(ks__guest_rundir "$name") || return 1
    ks__guest_ssh_argv "$d" || return 1
    "${KS__GUEST_SSH[@]}" "$@"
}

# Decide between KVM and TCG (see the header), print "kvm" or "tcg".
ks__guest_accel() {
    if [ -n "${KS_GUEST_ACCEL_FORCE:-}" ]; then
        printf '%s\n' "$KS_GUEST_ACCEL_FORCE"
        return 0
    fi
    if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
        printf 'tcg\n'
        return 0
    fi
    local bootid f r
    bootid=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) || bootid=unknown
    f=/run/kvmshift-tests/accel.$bootid
    if [ -f "$f" ] && read -r r <"$f" && { [ "$r" = kvm ] || [ "$r" = tcg ]; }; then
        printf '%s\n' "$r"
        return 0
    fi
    mkdir -p /run/kvmshift-tests || return 1
    local log pid i
    log=$(mktemp /run/kvmshift-tests/probe.XXXXXX) || return 1
    r=tcg
    qemu-system-x86_64 -nodefaults -no-user-config -machine pc,accel=kvm -cpu host -m 256 \
        -display none -serial "file:$log" -kernel "$KS_GUEST_DIR/vmlinuz" \
        -append 'console=ttyS0 panic=-1' -no-reboot </dev/null >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < 200; i++)); do
        if grep -q 'Unable to mount root' "$log" 2>/dev/null; then
            r=kvm
            break
        fi
        ks__guest_alive "$pid" || break
        sleep 0.1
    done
    grep -q 'Unable to mount root' "$log" 2>/dev/null && r=kvm
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
    printf '%s\n' "$r" >"$f.tmp" && mv -f "$f.tmp" "$f"
    [ $r = kvm ] || printf 'guest: KVM does not boot a kernel within 20 s on this machine: using TCG (slower)\n' >&2
    printf '%s\n' "$r"
}

# A TCP port on 127.0.0.1 that nothing listens on now.
ks__guest_free_port() {
    local used p i
    used=" $(ss -Htln 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un | tr '\n' ' ') "
    for ((i = 0; i < 200; i++)); do
        p=$((24000 + (RANDOM % 8000)))
        [[ $used == *" $p "* ]] && continue
        timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$p" 2>/dev/null && continue
        printf '%s\n' "$p"
        return 0
    done
    ks__guest_err "no free TCP port found on 127.0.0.1 between 24000 and 32000"
}

# Overlay OUT over BASE, kept when it already has that backing file.
ks__guest_overlay() {
    local base=$1 out=$2
    if [ -f "$out" ] && qemu-img info -U "$out" 2>/dev/null | grep -qxF "backing file: $base"; then
        return 0
    fi
    rm -f "$out"
    qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$out" ||
        ks__guest_err "cannot create the overlay '$out' over '$base'"
}

ks_guest_boot() {
    local name=${1:?ks_guest_boot NAME WORKDIR} work=${2:?ks_guest_boot NAME WORKDIR}
    [[ $name =~ ^[A-Za-z0-9._-]+$ ]] ||
        ks__guest_err "guest name '$name' must be letters, digits, '.', '_' or '-'" || return 1
    command -v qemu-system-x86_64 >/dev/null 2>&1 ||
        ks__guest_err "qemu-system-x86_64 is not installed (package qemu-system-x86)" || return 1
    if [ -z "$KS_GUEST_DIR" ] || [ ! -f "$KS_GUEST_DIR/image.env" ]; then
        ks_guest_image || return 1
    fi
    local d
    d=$(mkdir -p "$work/$name" && cd "$work/$name" && pwd) ||
        ks__guest_err "cannot create '$work/$name'" || return 1
    if ks__guest_pid "$d" >/dev/null; then
        ks__guest_err "guest '$name' is already running (pid $(ks__guest_pid "$d")): ks_guest_stop it first"
        return 1
    fi
    ks__guest_overlay "$KS_GUEST_DIR/sda.qcow2" "$d/sda.qcow2" || return 1
    ks__guest_overlay "$KS_GUEST_DIR/sdb.qcow2" "$d/sdb.qcow2" || return 1
    local accel
    accel=$(ks__guest_accel) || return 1
    local mac=$KS__GUEST_MAC_DEFAULT
    printf 'kvmshift-guest %s\n' "$KS_GUEST_HOSTKEY_PUB" >"$d/known_hosts"
    printf '%s\n' "$KS_GUEST_KEY" >"$d/key"
    KS__GUEST_RUNS[$name]=$d

    local -a qmp=()
    # A unix socket path must fit in 108 bytes.
    [ ${#d} -lt 90 ] && qmp=(-qmp "unix:$d/qmp.sock,server=on,wait=off")
    local -a cpu=()
    [ "$accel" = kvm ] && cpu=(-cpu host)
    local -a tag=()
    [ -n "${KS_RUN_ID:-}" ] && tag=(env "KS_HARNESS_RUN=$KS_RUN_ID")

    local -a extra=()
    local x n=2
    for x in ${KS_GUEST_EXTRA_DISKS:-}; do
        [ -f "$x" ] || ks__guest_err "extra disk '$x' does not exist" || return 1
        [ $n -le 5 ] || ks__guest_err "at most 4 extra disks" || return 1
        extra+=(-drive "if=none,id=x$n,file=$x,format=qcow2,cache=unsafe"
            -device "virtio-blk-pci,drive=x$n,addr=0x$((n + 3)),serial=KSPHYS-X$n")
        n=$((n + 1))
    done
    local port pid try t0=$SECONDS secs=${KS_GUEST_BOOT_TIMEOUT:-300} up=0
    for ((try = 1; try <= 5; try++)); do
        port=$(ks__guest_free_port) || return 1
        printf '%s\n' "$port" >"$d/port"
        rm -f "$d/qmp.sock"
        printf '\n=== %s boot of %s (%s, ssh port %s)\n' "$(date '+%F %T')" "$name" "$accel" "$port" >>"$d/console.log"
        # `env` execs qemu: $! is qemu's own pid either way.
        "${tag[@]}" qemu-system-x86_64 -name "$name" -nodefaults -no-user-config \
            -machine pc,accel="$accel" "${cpu[@]}" -m "${KS_GUEST_MEM:-1024}" -smp "${KS_GUEST_SMP:-2}" \
            -rtc base=utc -display none -boot c \
            -drive if=none,id=sda,file="$d/sda.qcow2",format=qcow2,cache=unsafe \
            -drive if=none,id=sdb,file="$d/sdb.qcow2",format=qcow2,cache=unsafe \
            -device ahci,id=ahci,addr=0x4 \
            -device ide-hd,bus=ahci.0,drive=sda,serial=KSPHYS-SDA,bootindex=0 \
            -device lsi53c895a,id=scsi,addr=0x9 \
            -device scsi-hd,bus=scsi.0,scsi-id=0,drive=sdb,serial=KSPHYS-SDB "${extra[@]}" \
            -netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:"$port"-:22 \
            -device e1000,netdev=n0,mac="$mac",addr=0x3,romfile= \
            -chardev file,id=console,path="$d/console.log",append=on -serial chardev:console \
            "${qmp[@]}" </dev/null >"$d/qemu.log" 2>&1 &
        pid=$!
        printf '%s\n' "$pid" >"$d/qemu.pid"
        ks__guest_starttime "$pid" >"$d/qemu.start" 2>/dev/null || echo 0 >"$d/qemu.start"
        sleep 1
        if ! ks__guest_alive "$pid" && grep -q 'forwarding' "$d/qemu.log"; then
            wait "$pid" 2>/dev/null || true
            continue # the port was taken in between: another one
        fi
        break
    done
    KS_GUEST_PORT=$port
    KS_GUEST_PID=$pid
    KS_GUEST_MAC=$mac
    KS_GUEST_ACCEL=$accel
    KS_GUEST_RUN=$d
    cat >"$d/guest.env" <<EOF
PORT=$port
KEY=$KS_GUEST_KEY
PID=$pid
MAC=$mac
ACCEL=$accel
EOF
    if declare -F ks_defer >/dev/null && [ -n "${KS_WORKDIR:-}" ] && [ -d "$KS_WORKDIR/.ks" ]; then
        ks_defer ks_guest_stop "$name" --now
    fi

    ks__guest_ssh_argv "$d" || return 1
    while [ $((SECONDS - t0)) -lt "$secs" ]; do
        if ! ks__guest_alive "$pid"; then
            wait "$pid" 2>/dev/null || true
            break
        fi
        if timeout 30 "${KS__GUEST_SSH[@]}" true </dev/null >/dev/null 2>&1; then
            up=1
            break
        fi
        sleep 2
    done
    if [ $up != 1 ]; then
        if ks__guest_alive "$pid"; then
            ks__guest_err "guest '$name' (qemu pid $pid, $accel) has no sshd on 127.0.0.1:$port after ${secs}s; its console ($d/console.log) ends with:" || true
        else
            ks__guest_err "qemu of guest '$name' exited during boot; qemu.log and the console ($d/) end with:" || true
            tail -n 5 "$d/qemu.log" | sed 's/^/    /' >&2
        fi
        tail -n 20 "$d/console.log" | sed 's/^/    /' >&2
        ks_guest_stop "$name" --now >/dev/null 2>&1 || true
        return 1
    fi
    KS_GUEST_BOOT_SECONDS=$((SECONDS - t0))
    printf 'guest %s: up after %s s (%s), ssh root@127.0.0.1 -p %s\n' "$name" "$KS_GUEST_BOOT_SECONDS" "$accel" "$port"
}

# The test server as built: /boot holds the kernel and /data is the data
# disk (its README), i.e. sda and sdb kept their names at this boot. When
# not, says what the guest shows.
ks__guest_layout_ok() {
    local out
    out=$(ks_guest_ssh "$1" 'ls /boot/vmlinuz-* && test -f /data/README' 2>&1) && return 0
    printf 'note: guest %s: /boot or /data is not as built:\n' "$1"
    printf '%s\n' "$out" | tail -n 3 | sed 's/^/    /'
    ks_guest_ssh "$1" 'lsblk -o NAME,SERIAL,TRAN,MOUNTPOINT' 2>&1 | sed 's/^/    /' || true
    return 1
}

ks_guest_boot_sane() {
    local name=${1:?ks_guest_boot_sane NAME WORKDIR} work=${2:?ks_guest_boot_sane NAME WORKDIR}
    local try tries=${KS_GUEST_BOOT_TRIES:-4}
    for ((try = 1; try <= tries; try++)); do
        rm -rf "${work:?}/$name"
        if KS_GUEST_BOOT_TIMEOUT=${KS_GUEST_BOOT_TIMEOUT:-200} ks_guest_boot "$name" "$work"; then
            ks__guest_layout_ok "$name" && return 0
            echo "note: guest $name came up with its disks not as built (boot $try of $tries): booting it again"
            ks_guest_stop "$name" --now >/dev/null || return 1
        else
            echo "note: guest $name did not come up (boot $try of $tries): booting it again"
        fi
    done
    ks__guest_err "guest '$name' did not boot with its disks as built in $tries tries"
}

# Wait up to SECS for PID to end; true if it did.
ks__guest_wait_gone() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        ks__guest_alive "$pid" || return 0
        sleep 0.1
    done
    ! ks__guest_alive "$pid"
}

ks_guest_stop() {
    local name=${1:?ks_guest_stop NAME [--now]} now=${2:-} d pid
    d=$(ks__guest_rundir "$name") || return 1
    if pid=$(ks__guest_pid "$d"); then
        if [ "$now" != --now ] && ks__guest_ssh_argv "$d"; then
            timeout 20 "${KS__GUEST_SSH[@]}" systemctl poweroff </dev/null >/dev/null 2>&1 || true
            ks__guest_wait_gone "$pid" "${KS_GUEST_STOP_TIMEOUT:-60}" ||
                printf 'guest %s: still running %s s after poweroff: killing qemu (pid %s)\n' \
                    "$name" "${KS_GUEST_STOP_TIMEOUT:-60}" "$pid" >&2
        fi
        if ks__guest_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
            if ! ks__guest_wait_gone "$pid" 10; then
                kill -KILL "$pid" 2>/dev/null || true
                ks__guest_wait_gone "$pid" 5 || true
            fi
        fi
        # Reap it when it is our child (not so in a subshell: harmless).
        wait "$pid" 2>/dev/null || true
        ! ks__guest_alive "$pid" || ks__guest_err "qemu of guest '$name' (pid $pid) does not end" || return 1
    fi
    rm -f "$d/qmp.sock"
}

# Send one QMP command to NAME's qemu.
ks__guest_qmp() {
    local d
    d=$(ks__guest_rundir "$1") || return 1
    [ -S "$d/qmp.sock" ] || ks__guest_err "guest '$1' has no QMP socket ($d/qmp.sock)" || return 1
    local out
    # (the answer read whole: grep -q stopping early would make socat fail
    # on its pipe under pipefail)
    out=$(printf '{"execute":"qmp_capabilities"}\n{"execute":"%s"}\n' "$2" |
        socat -t 2 - "UNIX-CONNECT:$d/qmp.sock" 2>&1) || true
    [ "$(grep -c '"return": {}' <<<"$out")" = 2 ] ||
        ks__guest_err "guest '$1': QMP '$2' failed: $out"
}
ks_guest_pause() { ks__guest_qmp "${1:?ks_guest_pause NAME}" stop; }
ks_guest_resume() { ks__guest_qmp "${1:?ks_guest_resume NAME}" cont; }

ks_guest_stop_all() {
    local name r=0
    for name in "${!KS__GUEST_RUNS[@]}"; do
        ks_guest_stop "$name" "${1:-}" || r=1
    done
    return $r
}

# ks_guest_study KVMSHIFT STUDY: a new study with the guest booted last as
# server "src" (method ssh, root with KS_GUEST_KEY), its host key known in
# advance in STUDY/known_hosts (no --accept-new-hostkeys), and its facts
# taken. Returns 1 with a message when a step fails.
ks_guest_study() {
    local bin=${1:?ks_guest_study KVMSHIFT STUDY} study=${2:?ks_guest_study KVMSHIFT STUDY}
    "$bin" init "$study" >/dev/null || ks__guest_err "kvmshift init $study failed" || return 1
    # (the facts of a TCG guest take long: systemctl alone lists its unit
    # files in about 20 s here; 3 x 40 s for the whole script)
    sed -i 's/^#command_timeout = 20$/command_timeout = 40/' "$study/study.ini"
    printf 'name,address,method,port,user,key\nsrc,127.0.0.1,ssh,%s,root,%s\n' \
        "$KS_GUEST_PORT" "$KS_GUEST_KEY" >"$study/inventory.csv"
    printf '[127.0.0.1]:%s %s\n' "$KS_GUEST_PORT" "${KS_GUEST_HOSTKEY_PUB% *}" >"$study/known_hosts"
    "$bin" facts "$study" -q >/dev/null && [ -f "$study/facts/src.json" ] ||
        ks__guest_err "kvmshift facts $study took no facts of the guest" || return 1
}
