#!/usr/bin/env bash
# bench_p2v.sh: copying one disk of a running server over SSH, kvmshift
# against its peers, in one run, on the test "physical server"
# (tests/guest) with two more disks (virtio: vda, vdb):
#   vda  an 8 GiB disk with an ext4 file system holding ~1.5 GiB (half
#        random data, half copies of this machine's /usr: programs and
#        text), the rest never written (sparse);
#   vdb  a disk filled with random data (--random-gib, default 2).
# Copiers, each from the source's disk into a local file:
#   kvmshift   kvmshift p2v copy STUDY src --disk sdX (qcow2)
#   ssh-dd     ssh root@src dd if=/dev/sdX bs=4M | dd of=FILE bs=4M
#   qemu-img   qemu-img convert -O qcow2 from qemu's ssh block driver (package qemu-block-extra)
#              (libssh, key in an ssh-agent started for the run)
# then, on vda, 1% of the disk's bytes rewritten in 1 MiB runs at random
# places and `kvmshift p2v copy --sync` timed against its full copy.
# virt-v2v has no live-copy input over SSH (-i disk reads a local image;
# -i vmx/-i libvirt need a hypervisor): it does not apply here.
#
# For each: wall time, bytes on the wire (loopback bytes sent during the
# run: both directions of the SSH stream), CPU seconds here (the copier
# and its children) and in the guest (/proc/stat), and the ratios to
# kvmshift. Needs root. Prints a table, and JSON with --json FILE.
#
#     sudo tests/bench/bench_p2v.sh [--bin build/cli/kvmshift] [--random-gib N]
#                                   [--only kvmshift,ssh-dd,qemu-img] [--json FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/../guest/guest.sh"

BIN=build/cli/kvmshift
RANDOM_GIB=2
ONLY=kvmshift,ssh-dd,qemu-img
JSON=
while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=$2; shift 2 ;;
    --random-gib) RANDOM_GIB=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
BIN=$(readlink -f "$BIN")
ks_need_root
ks_need qemu-system-x86_64 qemu-img mkfs.ext4 ssh-agent ssh-add python3
ks_workdir

# ---- the bench disks, cached by recipe ---------------------------------------
recipe=$(printf 'sparse 8G ext4 768M random 768M usr; random %sG v1' "$RANDOM_GIB" | sha256sum | cut -c1-12)
cache=${KS_GUEST_CACHE:-/var/cache/kvmshift-tests}/bench-$recipe
if [ ! -f "$cache/done" ]; then
    echo "bench: building the bench disks in $cache (once)" >&2
    rm -rf "$cache" && mkdir -p "$cache"
    tree=$KS_WORKDIR/tree
    mkdir -p "$tree/random" "$tree/usr"
    for i in $(seq 1 12); do head -c 64M /dev/urandom >"$tree/random/r$i"; done
    # programs and text: copies of /usr/lib and /usr/share until 768 MiB
    n=0
    while [ "$(du -sm "$tree/usr" | cut -f1)" -lt 768 ]; do
        n=$((n + 1))
        mkdir -p "$tree/usr/$n"
        cp -a /usr/lib/x86_64-linux-gnu "$tree/usr/$n/" 2>/dev/null || true
        cp -a /usr/share/doc "$tree/usr/$n/" 2>/dev/null || true
        [ $n -lt 20 ] || break
    done
    truncate -s 8G "$KS_WORKDIR/sparse.raw"
    mkfs.ext4 -q -F -d "$tree" "$KS_WORKDIR/sparse.raw"
    rm -rf "$tree"
    qemu-img convert -O qcow2 "$KS_WORKDIR/sparse.raw" "$cache/sparse.qcow2"
    rm -f "$KS_WORKDIR/sparse.raw"
    head -c "${RANDOM_GIB}G" /dev/urandom >"$KS_WORKDIR/random.raw"
    qemu-img convert -O qcow2 "$KS_WORKDIR/random.raw" "$cache/random.qcow2"
    rm -f "$KS_WORKDIR/random.raw"
    touch "$cache/done"
fi
# the guest writes to overlays, never to the cached disks
qemu-img create -q -f qcow2 -F qcow2 -b "$cache/sparse.qcow2" "$KS_WORKDIR/vda.qcow2"
qemu-img create -q -f qcow2 -F qcow2 -b "$cache/random.qcow2" "$KS_WORKDIR/vdb.qcow2"

ks_guest_image
KS_GUEST_EXTRA_DISKS="$KS_WORKDIR/vda.qcow2 $KS_WORKDIR/vdb.qcow2" ks_guest_boot_sane src "$KS_WORKDIR"
g() { ks_guest_ssh src "$@"; }
used=$(g 'mkdir -p /mnt/b && mount -o ro /dev/vda /mnt/b && df -B1 --output=used /mnt/b | tail -1; umount /mnt/b')
echo "bench: vda $(g 'blockdev --getsize64 /dev/vda') bytes, $((used >> 20)) MiB used; vdb $(g 'blockdev --getsize64 /dev/vdb') bytes random" >&2

study=$KS_WORKDIR/study
ks_guest_study "$BIN" "$study"
ssh_opts=(-o BatchMode=yes -o UserKnownHostsFile="$study/known_hosts" -o StrictHostKeyChecking=yes
    -o LogLevel=ERROR -i "$KS_GUEST_KEY" -p "$KS_GUEST_PORT")
eval "$(ssh-agent -s)" >/dev/null
ks_defer kill "$SSH_AGENT_PID"
ssh-add -q "$KS_GUEST_KEY"

guest_cpu() { g "awk '/^cpu /{print \$2+\$3+\$4+\$7+\$8}' /proc/stat"; }
lo_bytes() { cat /sys/class/net/lo/statistics/tx_bytes; }
results=$KS_WORKDIR/results.txt
: >"$results"
# measure NAME DISK CMD...: wall, wire, CPU here and in the guest
measure() {
    local name=$1 disk=$2
    shift 2
    local c0 b0 t0 t1 b1 c1
    sync
    echo 3 >/proc/sys/vm/drop_caches
    g 'sync; echo 3 >/proc/sys/vm/drop_caches'
    c0=$(guest_cpu)
    b0=$(lo_bytes)
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$KS_WORKDIR/time.txt" "$@" >"$KS_WORKDIR/out.txt" 2>"$KS_WORKDIR/err.txt" ||
        { echo "bench: $name on $disk failed (left out): $(tail -3 "$KS_WORKDIR/err.txt")" >&2; return 0; }
    t1=$(date +%s.%N)
    b1=$(lo_bytes)
    c1=$(guest_cpu)
    read -r u s <"$KS_WORKDIR/time.txt"
    echo "$name $disk $t0 $t1 $((b1 - b0)) $u $s $c0 $c1" >>"$results"
    echo "bench: $name $disk: $(python3 -c "print(round($t1-$t0,1))") s" >&2
}
want() { [[ ",$ONLY," == *",$1,"* ]]; }
clk=$(getconf CLK_TCK)

for disk in vda vdb; do
    if want kvmshift; then
        measure kvmshift "$disk" "$BIN" p2v copy "$study" src --disk "$disk" --to "$KS_WORKDIR/k-$disk" -q --force
    fi
    if want ssh-dd; then
        measure ssh-dd "$disk" sh -c "ssh ${ssh_opts[*]} root@127.0.0.1 dd if=/dev/$disk bs=4M status=none | dd of=$KS_WORKDIR/dd-$disk.raw bs=4M status=none"
        rm -f "$KS_WORKDIR/dd-$disk.raw"
    fi
    if want qemu-img; then
        spec=$(printf 'json:{"driver":"raw","file":{"driver":"ssh","server":{"host":"127.0.0.1","port":"%s"},"path":"/dev/%s","user":"root","host-key-check":{"mode":"none"}}}' "$KS_GUEST_PORT" "$disk")
        measure qemu-img "$disk" qemu-img convert -O qcow2 "$spec" "$KS_WORKDIR/q-$disk.qcow2"
        # qemu's ssh driver takes the size from SFTP's stat, which is 0 for
        # a block device: a copy of another size is not a copy of the disk
        got=$(qemu-img info --output=json "$KS_WORKDIR/q-$disk.qcow2" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])' || echo none)
        if [ "$got" != "$(g "blockdev --getsize64 /dev/$disk")" ]; then
            echo "bench: qemu-img on $disk left out: its image is $got bytes, not the disk's (its ssh driver sizes a block device as 0)" >&2
            sed -i "/^qemu-img $disk /d" "$results"
        fi
        rm -f "$KS_WORKDIR/q-$disk.qcow2"
    fi
done

# ---- the 1% delta on vda ------------------------------------------------------
if want kvmshift; then
    size=$(g 'blockdev --getsize64 /dev/vda')
    runs=$((size / 100 >> 20))
    g "for i in \$(seq 1 $runs); do dd if=/dev/urandom of=/dev/vda bs=1M count=1 seek=\$(( \$(od -An -N4 -tu4 /dev/urandom) % $((size >> 20)) )) conv=notrunc status=none; done; sync"
    measure kvmshift-sync vda "$BIN" p2v copy "$study" src --disk vda --to "$KS_WORKDIR/k-vda" --sync -q --output json
    changed=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(sum(d["changed"] for d in s["disks"]))' "$KS_WORKDIR/out.txt")
    echo "bench: delta: $runs runs of 1 MiB written, $changed chunks changed" >&2
fi
ks_guest_stop src

python3 - "$results" "$clk" "$used" "$JSON" <<'EOF'
import json, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
clk = int(sys.argv[2]); used = int(sys.argv[3]); out = sys.argv[4]
res = []
for name, disk, t0, t1, wire, u, s, c0, c1 in rows:
    res.append(dict(copier=name, disk=disk, seconds=float(t1) - float(t0), wire_bytes=int(wire),
                    cpu_here=float(u) + float(s), cpu_guest=(int(c1) - int(c0)) / clk))
by = {(r["copier"], r["disk"]): r for r in res}
print("%-14s %-4s %9s %11s %9s %10s %8s" % ("COPIER", "DISK", "WALL s", "WIRE MiB", "CPU here", "CPU guest", "x time"))
for r in res:
    k = by.get(("kvmshift", r["disk"]))
    ratio = "%.2f" % (r["seconds"] / k["seconds"]) if k and r["copier"] != "kvmshift-sync" else "-"
    print("%-14s %-4s %9.1f %11.1f %9.1f %10.1f %8s" % (r["copier"], r["disk"], r["seconds"],
          r["wire_bytes"] / 2**20, r["cpu_here"], r["cpu_guest"], ratio))
    r["time_vs_kvmshift"] = None if ratio == "-" else float(ratio)
if ("kvmshift-sync", "vda") in by and ("kvmshift", "vda") in by:
    f = by[("kvmshift-sync", "vda")]["seconds"] / by[("kvmshift", "vda")]["seconds"]
    print("delta sync of 1%% of vda: %.1f%% of its full copy's time" % (100 * f))
print("(x time: the copier's wall time over kvmshift's on the same disk; vda has %d MiB used)" % (used >> 20))
if out:
    json.dump(res, open(out, "w"), indent=2)
EOF
