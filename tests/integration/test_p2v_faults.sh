#!/usr/bin/env bash
# P2V part 1, faults, against the test "physical server" (tests/guest),
# reached through the inventory's imaging columns (method import, ssh_*):
#   1. a full target file system (a small tmpfs) stops the first copy with
#      a clear error; a chunk damaged on the way (the KS_P2V_TEST_CORRUPT
#      hook) was asked again, not kept;
#   2. with space freed, the copy resumes; kvmshift SIGKILLed in the middle;
#   3. it resumes again; the SSH connection is cut in the middle (its
#      sshd processes killed on the source);
#   4. it resumes to the end, without copying again what was there; the
#      data disk's image is bit for bit the source's;
#   5. a changed host key is refused before anything runs on the source.
# After every fault: a clear message, the journal readable, and nothing of
# ours left on the source (no LVM snapshot, no helper directory).
# Usage: test_p2v_faults.sh KVMSHIFT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../guest/guest.sh"
KVMSHIFT=${1:?usage: test_p2v_faults.sh KVMSHIFT}

ks_need_root
ks_need qemu-system-x86_64 qemu-img qemu-nbd debootstrap python3
ks_workdir

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }

ks_guest_image
ks_guest_boot_sane src "$KS_WORKDIR" || fail "the test server"
g() { ks_guest_ssh src "$@"; }
# the data disk (sdb: a boot where the names swapped was booted again)
D=$(g 'lsblk -no PKNAME "$(findmnt -no SOURCE /data)"' | tr -d ' ')
[ "$D" = sdb ] || fail "no data disk found ('$D')"

study=$KS_WORKDIR/study
ks_guest_study "$KVMSHIFT" "$study" || fail "the study of the guest"
# from now on the server is one whose data was imported: p2v finds it
# through the imaging columns only
printf 'name,address,method,ssh_address,ssh_port,ssh_user,ssh_key\nsrc,,import,127.0.0.1,%s,root,%s\n' \
    "$KS_GUEST_PORT" "$KS_GUEST_KEY" >"$study/inventory.csv"
journal=$study/p2v/src/journal.json

# Nothing of ours on the source; the guardian may need a few seconds to
# notice that its connection is gone (lvremove is slow under TCG).
source_clean() {
    local what i
    for i in $(seq 1 60); do
        what=$(g 'lvs --noheadings -o lv_name 2>/dev/null | grep ksp2v; ls -d /dev/shm/ksp2v-helper.* /run/ksp2v-helper.* /tmp/ksp2v-helper.* /var/tmp/ksp2v-helper.* 2>/dev/null; pgrep -f ksp2v-helper' || true)
        [ -z "$what" ] && return 0
        sleep 1
    done
    fail "left on the source after $1: $what"
}
# chunks on the target according to the journal
chunks_done() {
    python3 -c '
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(0); sys.exit()
print(sum(d["chunks_on_target"] for d in j["disks"]))' "$journal"
}
# start a copy in the background, wait until N more chunks are on the
# target, then run CMD
copy_until() {
    local more=$1 cmd=$2 base pid i
    base=$(chunks_done)
    "$KVMSHIFT" p2v copy "$study" src --to "$imgs" -q >"$KS_WORKDIR/out.txt" 2>"$KS_WORKDIR/err.txt" &
    pid=$!
    for i in $(seq 1 600); do
        [ "$(chunks_done)" -ge $((base + more)) ] && break
        kill -0 $pid 2>/dev/null || fail "the copy ended before the fault: $(cat "$KS_WORKDIR/err.txt")"
        sleep 0.5
    done
    eval "$cmd"
    set +e
    wait $pid
    rc=$?
    set -e
}

# ---- 1. a full target, and a chunk damaged on the way -----------------------
imgs=$KS_WORKDIR/images
mkdir -p "$imgs"
mount -t tmpfs -o size=160M tmpfs "$imgs"
ks_defer umount -l "$imgs"
set +e
KS_P2V_TEST_CORRUPT=$D:0 "$KVMSHIFT" p2v copy "$study" src --to "$imgs" -q --output json \
    >"$KS_WORKDIR/full.json" 2>"$KS_WORKDIR/full.err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "a copy into a full file system succeeded"
grep -qi 'space' "$KS_WORKDIR/full.err" || fail "no word about space: $(cat "$KS_WORKDIR/full.err")"
echo "full target: $(cat "$KS_WORKDIR/full.err")"
python3 - "$journal" "$D" <<'EOF' || fail "journal after the full target"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["state"] == "failed", j["state"]
assert "space" in j["error"].lower(), j["error"]
data = [d for d in j["runs"][-1]["disks"] if d["disk"] == sys.argv[2]][0]
assert data["resent"] >= 1, data
EOF
source_clean "a full target"
ok "a full target stops the copy with a clear error; the damaged chunk was asked again"

# ---- 2. space freed; kvmshift SIGKILLed in the middle --------------------------
mount -o remount,size=3G "$imgs"
before=$(chunks_done)
copy_until 40 'kill -9 $pid'
[ $rc -eq 137 ] || fail "kvmshift was not killed (exit $rc)"
after=$(chunks_done)
[ "$after" -gt "$before" ] || fail "no progress kept in the journal ($before -> $after)"
source_clean "SIGKILL"
ok "SIGKILL in the middle: $after chunks in the journal (were $before), nothing left on the source"

# ---- 3. the SSH connection cut in the middle -----------------------------------
# every sshd session process but the one running this command
cut='me=$PPID; up=$(ps -o ppid= -p $me | tr -d " "); for p in $(pgrep -f "^sshd: root"); do [ "$p" = "$me" ] || [ "$p" = "$up" ] || kill -9 "$p"; done'
copy_until 20 'g "$cut"'
[ $rc -ne 0 ] || fail "a cut connection went unnoticed"
grep -Eqi "connection to 'src' (was lost|closed).*run the same command again" "$KS_WORKDIR/err.txt" || fail "unclear message: $(cat "$KS_WORKDIR/err.txt")"
echo "cut: $(cat "$KS_WORKDIR/err.txt")"
source_clean "a cut connection"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$journal" || fail "journal unreadable"
ok "a cut connection: a clear error, nothing left on the source"

# ---- 4. resume to the end ----------------------------------------------------
have=$(chunks_done)
"$KVMSHIFT" p2v copy "$study" src --to "$imgs" -q --output json >"$KS_WORKDIR/last.json" ||
    fail "the last resume: $(cat "$KS_WORKDIR/last.json")"
python3 - "$KS_WORKDIR/last.json" "$have" <<'EOF' || fail "the resume copied again what was there"
import json, sys
s = json.load(open(sys.argv[1])); have = int(sys.argv[2])
assert s["complete"], s
skipped = sum(d["already_copied"] for d in s["disks"])
assert skipped == have, (skipped, have)
for d in s["disks"]:
    assert d["examined"] + d["already_copied"] == d["chunks"], d
print("resumed: %d chunks kept, %d examined" % (skipped, sum(d["examined"] for d in s["disks"])))
EOF
qemu-img convert -O raw "$imgs/src-$D.qcow2" "$KS_WORKDIR/data.raw"
[ "$(g "dd if=/dev/$D bs=4M status=none | md5sum" | cut -d' ' -f1)" = "$(md5sum <"$KS_WORKDIR/data.raw" | cut -d' ' -f1)" ] ||
    fail "$D's image differs from the source after the faults"
rm -f "$KS_WORKDIR/data.raw"
"$KVMSHIFT" p2v status "$study" src | grep -q 'synced at' || fail "p2v status"
source_clean "the last copy"
ok "resumed to the end without copying again; $D's image is bit for bit the source's"

# ---- 5. a changed host key -------------------------------------------------------
cp "$study/known_hosts" "$KS_WORKDIR/known_hosts.good"
ssh-keygen -q -t ed25519 -N '' -f "$KS_WORKDIR/other" >/dev/null
printf '[127.0.0.1]:%s %s\n' "$KS_GUEST_PORT" "$(cut -d' ' -f1,2 "$KS_WORKDIR/other.pub")" >"$study/known_hosts"
set +e
"$KVMSHIFT" p2v copy "$study" src --to "$imgs" --sync -q >/dev/null 2>"$KS_WORKDIR/key.err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "a changed host key was accepted"
grep -qi 'changed\|does not match' "$KS_WORKDIR/key.err" || fail "unclear message: $(cat "$KS_WORKDIR/key.err")"
echo "host key: $(cat "$KS_WORKDIR/key.err")"
cmp -s "$study/known_hosts" <(printf '[127.0.0.1]:%s %s\n' "$KS_GUEST_PORT" "$(cut -d' ' -f1,2 "$KS_WORKDIR/other.pub")") ||
    fail "known_hosts was rewritten"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["state"] == "synced"' "$journal" ||
    fail "a refused key changed the journal's state"
source_clean "a changed host key"
ok "a changed host key is refused, the journal untouched"

ks_guest_stop src
