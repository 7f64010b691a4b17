#!/usr/bin/env bash
# P2V part 1 against the test "physical server" (tests/guest): a Debian 12
# under qemu with root on LVM and a plain data disk (a boot where fstab
# mounted the wrong partitions is booted again; the test still finds the
# disks by what they hold: L and D).
#   1. a live copy into qcow2 while a writer changes files inside it; no
#      snapshot and no helper left on the source;
#   2. --sync after writing a known set of chunks (on an LV made for it)
#      sends exactly those chunks (without snapshots, whose LVM metadata
#      changes at each run; with them, the metadata chunk more);
#   3. the final sync with the writer stopped: every file of every file
#      system in the images (read through libguestfs) has the checksum it
#      has on the source; the images' allocated size stays near the data;
#   4. raw images into a libvirt storage pool, and p2v status;
#   5. into "another host's" pool (the same libvirtd reached over TCP on
#      127.0.0.1, a URI naming a host): staged, uploaded through libvirt;
#      a volume kvmshift did not write is left alone; a sync uploads the
#      changed chunks only.
# The copies use ksp2v-helper; the delta of step 2 is taken by the shell
# loop (--no-helper) on the journal the helper wrote: both compute b2sum.
# Usage: test_p2v.sh KVMSHIFT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../guest/guest.sh"
KVMSHIFT=${1:?usage: test_p2v.sh KVMSHIFT}

ks_need_root
ks_need qemu-system-x86_64 qemu-img qemu-nbd debootstrap guestfish virsh
ks_workdir
export LIBGUESTFS_BACKEND=direct
[ "${KS_GUEST_ACCEL_FORCE:-}" = kvm ] || export LIBGUESTFS_BACKEND_SETTINGS=force_tcg

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }

ks_guest_image
# a third disk (virtio, vda), random data to its last byte: its last chunk
# is data (a chunk whose data arrives after its header must be waited for)
head -c 12M /dev/urandom >"$KS_WORKDIR/tail.raw"
qemu-img convert -f raw -O qcow2 "$KS_WORKDIR/tail.raw" "$KS_WORKDIR/tail.qcow2"
KS_GUEST_EXTRA_DISKS=$KS_WORKDIR/tail.qcow2 ks_guest_boot_sane src "$KS_WORKDIR" || fail "the test server"
g() { ks_guest_ssh src "$@"; }
L=$(g 'pvs --noheadings -o pv_name' | tr -d ' ' | sed 's|^/dev/||; s|[0-9]*$||')
D=$(g 'findmnt -no SOURCE /data' | sed 's|^/dev/||; s|[0-9]*$||')
R=$(g 'lsblk -bdno NAME,SIZE' | awk '$2 == 12582912 {print $1}')
case "$L$D$R" in sdasdbvd?) ;; *) fail "disks not found: LVM '$L', data '$D', random '$R'" ;; esac
echo "LVM disk: $L, data disk: $D, random disk: $R"

study=$KS_WORKDIR/study
ks_guest_study "$KVMSHIFT" "$study" || fail "the study of the guest"

# An LV for the delta test (made before the first copy, so that the copy
# knows it) and the data the final comparison looks at.
g 'lvcreate -q -L 64M -n scratch vg0 >/dev/null && dd if=/dev/urandom of=/data/blob bs=1M count=24 status=none && sync'

# ---- 1. live copy while a writer runs ---------------------------------------
g 'nohup sh -c "while :; do dd if=/dev/urandom of=/data/churn bs=64k count=32 conv=notrunc status=none; dd if=/dev/urandom of=/root/churn bs=64k count=8 status=none; sync; sleep 0.3; done" >/dev/null 2>&1 & echo $! >/run/writer.pid'
imgs=$KS_WORKDIR/images
t0=$(date +%s.%N)
"$KVMSHIFT" p2v copy "$study" src --to "$imgs" -q --output json >"$KS_WORKDIR/copy1.json" ||
    fail "first copy: exit $? ($(cat "$KS_WORKDIR/copy1.json"))"
t1=$(date +%s.%N)
echo "first copy: $(python3 -c "print(round($t1-$t0,1))") s"
journal=$study/p2v/src/journal.json
python3 - "$journal" "$KS_WORKDIR/copy1.json" "$R" <<'EOF' || fail "journal/summary after the first copy"
import json, sys
j = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2])); R = sys.argv[3]
assert j["state"] == "synced", j["state"]
names = sorted(d["name"] for d in j["disks"])
assert names == ["sda", "sdb", "vda"], names
for d in j["disks"]:
    assert "." not in d["chunks"], "a chunk not on the target"
    assert d["chunks_on_target"] == d["chunk_count"]
for d in s["disks"]:
    assert d["examined"] == d["chunks"], d
    if d["disk"] == R:
        assert d["sent"] == d["chunks"] == 3 and d["zero"] == 0, d
        continue
    assert d["zero"] > 0 and d["sent"] > 0, d
    # zero chunks were not sent: what came over the wire is about the data
    assert d["bytes_wire"] < d["size"] / 2, d
# every LV through its snapshot (a partial or missing one reads otherwise)
assert s["consistency"].startswith("LVM volumes read through snapshots ("), s["consistency"]
print("copy1:", [(d["disk"], d["sent"], d["zero"], d["compression"]) for d in s["disks"]])
EOF
ok "first copy complete (journal: every chunk on the target)"
for d in sda sdb vda; do
    qemu-img info --output=json "$imgs/src-$d.qcow2" | grep -q '"format": "qcow2"' || fail "$d not qcow2"
done
# nothing left on the source: no snapshot, no file of ours
[ -z "$(g "lvs --noheadings -o lv_name vg0 | grep ksp2v || true")" ] || fail "snapshot left on the source"
ok "no LVM snapshot left on the source"

# ---- 2. delta: a known set of chunks -----------------------------------------
python3 - "$KS_WORKDIR/copy1.json" <<'EOF' || fail "the first copy did not use the helper"
import json, sys
s = json.load(open(sys.argv[1]))
assert all(d["reader"] == "ksp2v-helper" for d in s["disks"]), s["disks"]
EOF
[ -z "$(g 'ls -d /dev/shm/ksp2v-helper.* /run/ksp2v-helper.* /tmp/ksp2v-helper.* /var/tmp/ksp2v-helper.* 2>/dev/null || true')" ] ||
    fail "the helper's directory was left on the source"
ok "the copy used ksp2v-helper, and its directory is gone from the source"
g 'kill $(cat /run/writer.pid); sleep 1; sync'
# two syncs without snapshots (so that the LVM metadata stays as it is):
# the first takes what changed since, the second our writes below
"$KVMSHIFT" p2v copy "$study" src --to "$imgs" --sync --no-snapshot -q >/dev/null || fail "sync 1"
# where scratch lies on the LVM disk, in bytes
read -r pstart pe_start ext seg <<<"$(g "echo \$(( \$(cat /sys/block/$L/${L}2/start) * 512 )) \$(pvs --noheadings --nosuffix --units b -o pe_start /dev/${L}2) \$(vgs --noheadings --nosuffix --units b -o vg_extent_size vg0) \$(lvs --noheadings --segments -o seg_pe_ranges vg0/scratch)" | tr -s ' ')"
pe0=${seg##*:}
pe0=${pe0%-*}
lvoff=$((pstart + pe_start + pe0 * ext))
chunk=$((4 << 20))
# three chunks of the LVM disk that lie wholly inside scratch
first=$(((lvoff + chunk - 1) / chunk))
want=()
for k in 0 3 7; do
    c=$((first + k))
    want+=("$c")
    g "dd if=/dev/urandom of=/dev/vg0/scratch bs=1M count=4 seek=$(((c * chunk - lvoff) >> 20)) conv=fsync status=none"
done
g sync
cp "$journal" "$KS_WORKDIR/journal.before"
"$KVMSHIFT" p2v copy "$study" src --to "$imgs" --sync --no-snapshot --no-helper -q --output json >"$KS_WORKDIR/sync2.json" || fail "sync 2"
# The idle system writes too (the journal, wtmp and lastlog at each SSH
# login): chunks of the root and swap LVs may change beside ours. Every
# other chunk must be left alone, and ours must all be sent.
busy=$(g 'for lv in root swap; do lvs --noheadings --segments -o seg_pe_ranges vg0/$lv; done' | tr -s ' \n' ' ')
python3 - "$KS_WORKDIR/sync2.json" "$KS_WORKDIR/journal.before" "$journal" "$pstart $pe_start $ext $chunk" "$busy" "$L $D" "${want[@]}" <<'EOF' || fail "the delta is not the chunks written"
import json, sys
s = json.load(open(sys.argv[1]))
before, after = (json.load(open(p)) for p in sys.argv[2:4])
pstart, pe_start, ext, chunk = map(int, sys.argv[4].split())
L, D = sys.argv[6].split()
want = set(map(int, sys.argv[7:]))
# chunks of the LVM disk that hold extents of the root and swap LVs
busy = set()
for r in sys.argv[5].split():
    a, b = map(int, r.split(":")[1].split("-"))
    lo = pstart + pe_start + a * ext
    hi = pstart + pe_start + (b + 1) * ext
    busy.update(range(lo // chunk, (hi - 1) // chunk + 1))
def chunks(j, disk):
    h = [d for d in j["disks"] if d["name"] == disk][0]["chunks"]
    return [h[i:i + 32] for i in range(0, len(h), 32)]
b, a = chunks(before, L), chunks(after, L)
changed = {i for i in range(len(a)) if a[i] != b[i]}
d = {x["disk"]: x for x in s["disks"]}
assert want <= changed, ("chunks written but not sent", sorted(want - changed))
other = changed - want - busy
assert not other, ("chunks sent that nobody wrote", sorted(other))
assert d[L]["changed"] == len(changed) and d[L]["sent"] == len(changed), d[L]
assert chunks(before, D) == chunks(after, D)
assert d[D]["changed"] == 0 and d[D]["sent"] == 0, d[D]
assert d[L]["examined"] == d[L]["chunks"]
assert d[L]["reader"].startswith("sh+dd+"), d[L]["reader"]
print("delta: %s %d chunks of %d: the 3 written + %d of the root/swap LVs; %s 0"
      % (L, len(changed), d[L]["chunks"], len(changed - want), D))
EOF
ok "the sync sent the 3 chunks written, and nothing outside the LVs the idle system writes"
"$KVMSHIFT" p2v status "$study" src | tee "$KS_WORKDIR/status.txt"
grep -q 'synced at' "$KS_WORKDIR/status.txt" || fail "p2v status does not say synced"

# ---- 3. final sync, writer stopped: the images are the source --------------
"$KVMSHIFT" p2v copy "$study" src --to "$imgs" --sync -q --output json >"$KS_WORKDIR/final.json" || fail "final sync"
python3 - "$KS_WORKDIR/final.json" "$L" "$D" <<'EOF' || fail "final sync summary"
import json, sys
s = json.load(open(sys.argv[1]))
d = {x["disk"]: x for x in s["disks"]}
# with snapshots, the LVM metadata chunk changes (its sequence number);
# the idle system's logs change a few more
L, D = sys.argv[2], sys.argv[3]
assert d[L]["changed"] <= d[L]["chunks"] // 20, d[L]
assert d[D]["changed"] == 0, d[D]
EOF
# (files under mount points, such as /run's under its tmpfs, are hidden
# on the running source: not listed on either side)
list='for m in / /boot /data; do find $m -xdev -type f ! -path "/var/log/journal/*" ! -path "/run/*" -print0; done | xargs -0 md5sum | LC_ALL=C sort -k2'
g "$list" | grep -v '^$' >"$KS_WORKDIR/source.md5"
# mounted by hand: the copy's LVM metadata lists kvmshift's snapshots too
# (removed by p2v convert), and inspection would see two systems
guestfish --ro -a "$imgs/src-$L.qcow2" -a "$imgs/src-$D.qcow2" -m /dev/vg0/root -m /dev/sda1:/boot -m /dev/sdb1:/data \
    sh "$list" >"$KS_WORKDIR/image.raw.md5" ||
    fail "libguestfs could not read the images"
grep -v '^$' "$KS_WORKDIR/image.raw.md5" >"$KS_WORKDIR/image.md5"
n=$(wc -l <"$KS_WORKDIR/source.md5")
[ "$n" -gt 1000 ] || fail "only $n files listed on the source"
diff "$KS_WORKDIR/source.md5" "$KS_WORKDIR/image.md5" >"$KS_WORKDIR/md5.diff" ||
    fail "files differ between source and image: $(head -5 "$KS_WORKDIR/md5.diff")"
ok "all $n files of /, /boot and /data have the same checksums in the images"
used=$(g "df -B1 --output=used / /boot /data | tail -n +2" | awk '{s+=$1} END {print s}')
alloc=$(($(du -B1 "$imgs/src-$L.qcow2" | cut -f1) + $(du -B1 "$imgs/src-$D.qcow2" | cut -f1)))
echo "used on the source: $((used >> 20)) MiB, images allocated: $((alloc >> 20)) MiB"
[ "$alloc" -lt $((used * 2 + (256 << 20))) ] || fail "the images are not sparse: $alloc bytes for $used used"
ok "images sparse: allocated $((alloc >> 20)) MiB for $((used >> 20)) MiB used"
qemu-img convert -f qcow2 -O raw "$imgs/src-$R.qcow2" "$KS_WORKDIR/tail.copy"
cmp -s "$KS_WORKDIR/tail.raw" "$KS_WORKDIR/tail.copy" || fail "the random disk's image is not the disk (its last chunk?)"
rm -f "$KS_WORKDIR/tail.copy"
ok "the random disk, data to its last chunk, copied bit for bit"

# ---- 4. raw images, and refusing to overwrite --------------------------------
if "$KVMSHIFT" p2v copy "$study" src --to "$imgs" --format raw -q 2>"$KS_WORKDIR/err.txt"; then
    fail "a raw copy over a qcow2 journal was accepted"
fi
grep -q 'force' "$KS_WORKDIR/err.txt" || fail "no hint at --force: $(cat "$KS_WORKDIR/err.txt")"
# into a libvirt storage pool (a libvirtd of this test's own)
KS_LIBVIRT_TCP=1 ks_libvirtd_start
pool=$KS_WORKDIR/pool
mkdir -p "$pool"
virsh -q -c "$KS_LIBVIRT_URI" pool-define-as kspool dir --target "$pool" >/dev/null
virsh -q -c "$KS_LIBVIRT_URI" pool-start kspool >/dev/null
# (the data disk only: the others' copies were checked above)
"$KVMSHIFT" p2v copy "$study" src --disk "$D" --to pool:kspool --target-uri "$KS_LIBVIRT_URI" --format raw --force -q --compress none >/dev/null || fail "raw copy into the pool"
virsh -q -c "$KS_LIBVIRT_URI" vol-list kspool >"$KS_WORKDIR/vols.txt"
grep -q "src-$D.raw" "$KS_WORKDIR/vols.txt" ||
    fail "libvirt does not list the images as volumes: $(cat "$KS_WORKDIR/vols.txt")"
[ "$(virsh -q -c "$KS_LIBVIRT_URI" vol-info --bytes src-$D.raw --pool kspool | awk '/Capacity/ {print $2}')" = "$(g "blockdev --getsize64 /dev/$D")" ] ||
    fail "the volume's capacity is not the disk's size"
g "dd if=/dev/$D bs=4M status=none | md5sum" >"$KS_WORKDIR/sdb.src"
md5sum <"$pool/src-$D.raw" >"$KS_WORKDIR/sdb.img"
diff <(cut -d' ' -f1 "$KS_WORKDIR/sdb.src") <(cut -d' ' -f1 "$KS_WORKDIR/sdb.img") || fail "raw $D differs from the source's"
ok "raw copy into a libvirt pool: listed as volumes, $D bit for bit the source's"

# ---- 5. another host's pool: staged here, uploaded through libvirt ----------
far=$KS_WORKDIR/far
mkdir -p "$far"
R=$KS_LIBVIRT_TCP_URI
virsh -q -c "$R" pool-define-as far dir --target "$far" >/dev/null
virsh -q -c "$R" pool-start far >/dev/null
virsh -q -c "$R" vol-create-as far "src-$D.raw" 1M >/dev/null
rm -rf "$study/p2v/src"
if "$KVMSHIFT" p2v copy "$study" src --disk "$D" --to pool:far --target-uri "$R" -q 2>"$KS_WORKDIR/err.txt"; then
    fail "a volume kvmshift did not write was replaced"
fi
grep -q 'did not write.*force' "$KS_WORKDIR/err.txt" || fail "no reason given: $(cat "$KS_WORKDIR/err.txt")"
[ "$(stat -c %s "$far/src-$D.raw")" = $((1 << 20)) ] || fail "the foreign volume was changed"
virsh -q -c "$R" vol-delete "src-$D.raw" --pool far >/dev/null
# the copy is complete: this run only uploads
"$KVMSHIFT" p2v copy "$study" src --disk "$D" --to pool:far --target-uri "$R" -q --output json >"$KS_WORKDIR/up1.json" ||
    fail "upload into the remote pool"
g "dd if=/dev/$D bs=4M status=none | md5sum" | cut -d' ' -f1 >"$KS_WORKDIR/far.src"
md5sum <"$far/src-$D.raw" | cut -d' ' -f1 >"$KS_WORKDIR/far.img"
diff "$KS_WORKDIR/far.src" "$KS_WORKDIR/far.img" >/dev/null || fail "the uploaded volume differs from the source's $D"
size=$(stat -c %s "$far/src-$D.raw")
alloc=$(du -B1 "$far/src-$D.raw" | cut -f1)
[ "$alloc" -lt $((size / 2)) ] || fail "the uploaded volume is not sparse: $alloc of $size bytes"
ok "uploaded through libvirt over TCP: $D bit for bit the source's, $((alloc >> 20)) of $((size >> 20)) MiB allocated"
# a sync after writing 5 MiB on the source: the changed chunks go up, no others
g "dd if=/dev/urandom of=/data/upload-delta bs=1M count=5 conv=fsync status=none && sync"
"$KVMSHIFT" p2v copy "$study" src --disk "$D" --to pool:far --target-uri "$R" --sync -q --output json >"$KS_WORKDIR/up2.json" ||
    fail "sync into the remote pool"
python3 - "$KS_WORKDIR/up2.json" "$D" <<'EOF' || fail "the upload after the sync was not the delta"
import json, sys
s = json.load(open(sys.argv[1]))
d = {x["disk"]: x for x in s["disks"]}[sys.argv[2]]
u = s["upload"]
assert 2 <= d["changed"] <= 16, d
assert u["chunks_sent"] == d["changed"], (u, d)
assert u["chunks_unchanged"] == d["chunks"] - d["changed"], (u, d)
print(f"sync: {d['changed']} chunks changed, {u['chunks_sent']} uploaded, {u['chunks_unchanged']} left as they were")
EOF
g "dd if=/dev/$D bs=4M status=none | md5sum" | cut -d' ' -f1 >"$KS_WORKDIR/far.src"
md5sum <"$far/src-$D.raw" | cut -d' ' -f1 >"$KS_WORKDIR/far.img"
diff "$KS_WORKDIR/far.src" "$KS_WORKDIR/far.img" >/dev/null || fail "after the sync the volume differs from the source's $D"
ok "sync into the remote pool: only the changed chunks uploaded, the volume the source's again"

ks_guest_stop src
