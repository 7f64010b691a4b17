#!/bin/bash
# The source-side helper (p2v/helper/ksp2v_helper.c) against the tools it
# stands in for: its checksums are b2sum's, its gzip and zstd answers
# decompress (with gzip -d and zstd -d) to the chunk, pieces of zeros and
# several pieces per chunk are read as the shell loop reads them, answers
# come in the order of the requests, and a bad request stops it with a
# message and exit status 2.
# The shell loop it stands in for (p2v_stream_script, printed by
# PRINT_SCRIPT) answers the same requests with the same checksums and data.
# Usage: test_helper.sh HELPER PRINT_SCRIPT
set -euo pipefail
H=${1:?usage: test_helper.sh HELPER PRINT_SCRIPT}
P=${2:?usage: test_helper.sh HELPER PRINT_SCRIPT}
for t in b2sum gzip zstd python3; do
    command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$("$H" probe)" = "ksp2v-helper 1 b2sum" ] || fail "probe"
C=1048576
# a "disk": random, zeros, random, a short tail
head -c $((3 * C)) /dev/urandom >"$d/disk"
truncate -s $((6 * C)) "$d/disk"
head -c $((2 * C)) /dev/urandom >>"$d/disk"
head -c 1000 /dev/urandom >>"$d/disk"
b2() { b2sum | cut -d' ' -f1; }
zero=$(head -c $C /dev/zero | b2)
sum0=$(head -c $C "$d/disk" | b2)
# requests: raw, gzip, zstd data chunks; a zero chunk; an unchanged one;
# a chunk of two pieces and a zero piece; the short tail; many chunks
# to keep every worker busy
{
    echo "0 - ${zero:0:32} r $d/disk 0 $C"
    echo "1 - ${zero:0:32} g $d/disk $C $C"
    echo "2 - ${zero:0:32} z $d/disk $((2 * C)) $C"
    echo "3 - ${zero:0:32} z $d/disk $((4 * C)) $C"
    echo "4 ${sum0:0:32} ${zero:0:32} r $d/disk 0 $C"
    echo "5 - - r $d/disk 100 5000 - 0 7000 $d/disk $((6 * C)) 3"
    echo "6 - ${zero:0:32} z $d/disk $((8 * C)) 1000"
    for i in $(seq 7 60); do echo "$i - ${zero:0:32} z $d/disk $(((i % 8) * C)) $C"; done
} >"$d/req"
"$H" stream <"$d/req" >"$d/ans" || fail "stream exited $?"
LC_ALL=C H=b2sum /bin/sh -c "$("$P")" <"$d/req" >"$d/ans.sh" || fail "the shell loop exited $?"
for a in ans ans.sh; do
python3 - "$d" "$a" <<'PY' || fail "answers ($a)"
import hashlib, gzip, subprocess, sys
d = sys.argv[1]
disk = open(d + "/disk", "rb").read()
ans = open(d + "/" + sys.argv[2], "rb").read()
C = 1 << 20
def chunk(req):
    f = req.split()
    out = b""
    for k in range(4, len(f), 3):
        dev, off, ln = f[k], int(f[k + 1]), int(f[k + 2])
        out += bytes(ln) if dev == "-" else disk[off:off + ln].ljust(ln, b"\0")
    return out
reqs = open(d + "/req").read().splitlines()
pos = 0
for k, r in enumerate(reqs):
    f = r.split()
    data = chunk(r)
    want = hashlib.blake2b(data).hexdigest()
    nl = ans.index(b"\n", pos)
    head = ans[pos:nl].decode().split()
    pos = nl + 1
    assert head[1] == f[0], (head, f[0])          # in order
    assert head[2] == want, ("checksum", f[0])
    if f[1] != "-" and want.startswith(f[1]):
        assert head[0] == "=", head
        continue
    if f[2] != "-" and want.startswith(f[2]):
        assert head[0] == "Z", head
        continue
    assert head[0] == "D" and head[3] == f[3], head
    # the terminator that the next answer's header (or the end) follows:
    # the data, random, may hold the same bytes (1 MiB chunks: about one
    # run in 70 did)
    term = ("E %s\n" % f[0]).encode()
    nxt = tuple(("%s %s " % (c, reqs[k + 1].split()[0])).encode() for c in "=ZD") if k + 1 < len(reqs) else ()
    end = ans.index(term, pos)
    while not (end + len(term) == len(ans) or ans.startswith(nxt, end + len(term))):
        end = ans.index(term, end + 1)
    payload = ans[pos:end]
    pos = end + len("E %s\n" % f[0])
    if f[3] == "r":
        got = payload
    elif f[3] == "g":
        got = gzip.decompress(payload)
    else:
        got = subprocess.run(["zstd", "-d", "-c"], input=payload, capture_output=True, check=True).stdout
    assert got == data, ("data", f[0])
assert pos == len(ans), "trailing bytes"
print("ok:", len(reqs), "answers in", sys.argv[2])
PY
done
# bad requests: a message on stderr, exit 2, nothing half-answered
for bad in "x" "0 - - r $d/disk 0" "0 - - r $d/disk zz 5" "0 - - r /nonexistent 0 5"; do
    set +e
    echo "$bad" | "$H" stream >"$d/out" 2>"$d/err"
    rc=$?
    set -e
    [ $rc = 2 ] || fail "'$bad': exit $rc"
    grep -q '^ksp2v-helper: ' "$d/err" || fail "'$bad': no message"
    [ ! -s "$d/out" ] || fail "'$bad': output"
done
echo "ok: helper"
