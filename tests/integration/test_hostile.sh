#!/usr/bin/env bash
# A study with hostile or damaged files in it (issue: study integrity):
# the laboratory sample imported, then
#   - one server's RRD file with its header overwritten (bytes 40-600: the
#     damage that crashed librrd, and so analyze, report and status), and
#     another's replaced by a FIFO (which hung them): analyze plans the
#     others and says, for those two only, what is wrong and what to do;
#     report and status run; nothing waits on the FIFO;
#   - plan.json replaced by a FIFO: the night runner refuses it at once,
#     naming it;
#   - an RRD file of someone else's data sources: said to be foreign, with
#     what it has;
#   - study.ini as people get it wrong: a key or section with a typo (refused
#     with the nearest name, instead of silently a default), a NUL inside a
#     value, a hexadecimal number, an end in the year 5138 (bounded by the
#     data), an end before the start or a period after the data, a
#     server's power of 1e308 W, [pin] and [server-power] naming no server,
#     an escape sequence in a value: each refused with file:line;
#   - an import with a name equal to another but for case, a memory of
#     1e308 bytes and a year 9999: refused or skipped, saying why;
#   - a server's facts with ESC, BEL and CR in a string: shown escaped in
#     every human output, kept in JSON;
#   - an import onto a full disk: says so (it said "unknown librrd error");
#   - what UBSan stopped on: an import of a server without a usable row,
#     the Bitbrains sample with 40 small existing hosts.
# scripts/test runs it under ASan + UBSan as well (label asan).
set -euo pipefail
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
ks_need python3 rrdtool timeout
ks_workdir
W=$KS_WORKDIR
SAMPLES=$REPO/samples
code() { set +e; timeout 120 "$@" >"$W/out" 2>"$W/err"; echo $?; set -e; }
S=$W/lab
mkdir -p "$S"
cp -r "$SAMPLES/lab/study.ini" "$SAMPLES/lab/inventory.csv" "$SAMPLES/lab/facts" "$S/"
"$BIN" import "$S" --format csv "$SAMPLES/lab/data/lab.csv.gz" -q >/dev/null
ks_check "the laboratory analyzed as it is: exit 0" test "$(code "$BIN" analyze "$S" -q)" -eq 0
before=$(python3 -c "import json, sys; p = json.load(open(sys.argv[1])); print(sum(1 for s in p['servers'] if s['status'] != 'not_eligible'))" "$S/plan.json")

# ---- a damaged header and a FIFO ----------------------------------------------
python3 - "$S/rrd/mail01.rrd" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
# (a pseudo-random fill: with it the old analyze and status aborted inside
# librrd; filled with 0xff, the old analyze read the server as "no data")
b[40:601] = bytes((i * 197 + 13) & 255 for i in range(561))
open(sys.argv[1], "wb").write(b)
PY
ks_check "rrdtool itself crashes on the damaged file (the damage is real)" \
  sh -c "! timeout 20 rrdtool fetch '$S/rrd/mail01.rrd' AVERAGE >/dev/null 2>&1"
second=$(awk -F, '!/^#/ && $1 != "name" && $1 != "mail01" { print $1; exit }' "$S/inventory.csv")
third=$(awk -F, '!/^#/ && $1 != "name" && $1 != "mail01" && $1 != "'"$second"'" { print $1; exit }' "$S/inventory.csv")
rm "$S/rrd/$second.rrd"
mkfifo "$S/rrd/$second.rrd"
ks_check "analyze with a damaged file and a FIFO: exit 0, not stopped" test "$(code "$BIN" analyze "$S" -q)" -eq 0
ks_check "analyze: the damaged file named, with what to do" \
  grep -q "'mail01': damaged RRD file '$S/rrd/mail01.rrd': .*re-import or re-collect the server" "$W/err"
ks_check "analyze: the FIFO named" grep -q "'$second': '$S/rrd/$second.rrd' is a FIFO, not an RRD file" "$W/err"
ks_check "the plan: those two not eligible with the reason, the others planned as before" python3 - "$S/plan.json" "$second" "$before" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); second = sys.argv[2]; before = int(sys.argv[3])
by = {s["name"]: s for s in p["servers"]}
for n, why in (("mail01", "damaged RRD file"), (second, "is a FIFO")):
    s = by[n]
    assert s["status"] == "not_eligible", s
    assert any("no data: its series cannot be read" in r and why in r for r in s["reasons"]), s["reasons"]
others = sum(1 for s in p["servers"] if s["status"] != "not_eligible")
# (two fewer at most: those two may have been eligible)
assert others >= before - 2 and others > 0, (others, before)
assert p["scenarios"] and all(sc["hosts"] for sc in p["scenarios"]), "no hosts planned"
PY
ks_check "report with them: exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
ks_check "report: the reason is in the page" grep -q "damaged RRD file" "$S/report/index.html"
# (their charts: a note that nothing was measured, not gnuplot's error on an
# empty plot with advice to install gnuplot)
ks_check "report: no chart for them, saying there is no data" grep -q "No chart: nothing of this server was measured in the study period" "$S/report/index.html"
ks_check "report: no chart 'not drawn'" sh -c "! grep -q 'not drawn' '$S/report/index.html'"
ks_check "status with them: exit 0" test "$(code "$BIN" status "$S")" -eq 0
ks_check "status: the damaged file is mail01's error" grep -q "^mail01 .*damaged RRD file" "$W/out"
ks_check "status: the FIFO is $second's error" grep -q "^$second .*is a FIFO" "$W/out"
# (imported data ends weeks ago: counted at its own step up to its end)
ks_check "status: an imported server's samples counted (not 0 / never)" \
  python3 -c "import sys; f = [l.split() for l in open(sys.argv[1]) if l.startswith(sys.argv[2] + ' ')][0]; assert f[1] != 'never' and int(f[2]) > 2000, f" "$W/out" "$third"

# ---- plan.json a FIFO ----------------------------------------------------------
mv "$S/plan.json" "$W/plan.json"
mkfifo "$S/plan.json"
ks_check "a night with plan.json a FIFO: exit 1 at once" test "$(code "$BIN" night "$S" 1 --dry-run)" -eq 1
ks_check "night: plan.json named as not a regular file" grep -q "'$S/plan.json' is a FIFO, not a regular file" "$W/err"
rm "$S/plan.json"
mv "$W/plan.json" "$S/plan.json"

# ---- someone else's RRD file ---------------------------------------------------
rm "$S/rrd/mail01.rrd"
rrdtool create "$S/rrd/mail01.rrd" --step 60 DS:temp:GAUGE:120:U:U DS:fan:GAUGE:120:U:U RRA:AVERAGE:0.5:1:60
ks_check "analyze with a foreign file: exit 0" test "$(code "$BIN" analyze "$S" -q)" -eq 0
ks_check "analyze: what the foreign file has and what is expected" \
  grep -q "'mail01': '$S/rrd/mail01.rrd' has none of kvmshift's data sources: it has 2 (temp, fan), kvmshift's are cpu_pct" "$W/err"
# ---- study.ini as people get it wrong -------------------------------------------
cp "$S/study.ini" "$W/study.ini.good"
ini_case() { # NAME: exit 1 and the message (grep pattern) in $2; the text to add on stdin
  cp "$W/study.ini.good" "$S/study.ini"
  cat >>"$S/study.ini"
  ks_check "$1: exit 1" test "$(code "$BIN" analyze "$S" -q)" -eq 1
  ks_check "$1: says so" grep -q "$2" "$W/err"
}
sed -i '/^\[policy\]/a headrom_percent = 0' "$W/study.ini.good" && cp "$W/study.ini.good" "$S/study.ini"
ks_check "a key with a typo: exit 1" test "$(code "$BIN" analyze "$S" -q)" -eq 1
ks_check "a key with a typo: file:line and the nearest name" \
  grep -q "study.ini:[0-9]*: unknown key 'headrom_percent' in \[policy\]: did you mean 'headroom_percent'?" "$W/err"
sed -i '/^headrom_percent = 0$/d' "$W/study.ini.good"
printf '\n[polcy]\npercentile = 90\n' | ini_case "a section with a typo" "unknown section \[polcy\]: did you mean \[policy\]?"
sed '/^\[server-power\]/a mial01 = 250' "$W/study.ini.good" >"$S/study.ini"
ks_check "[server-power] naming no server: exit 1" test "$(code "$BIN" analyze "$S" -q)" -eq 1
ks_check "[server-power] naming no server: the nearest name" grep -q "\[server-power\] names 'mial01', which is not in the inventory: did you mean 'mail01'?" "$W/err"
sed -e '/^mail01 *=/d' -e '/^\[server-power\]/a mail01 = 1e308' "$W/study.ini.good" >"$S/study.ini"
ks_check "a power of 1e308 W: exit 1" test "$(code "$BIN" analyze "$S" -q)" -eq 1
ks_check "a power of 1e308 W: says so" grep -q "'mail01' in \[server-power\] must be a number from 0 to 100000" "$W/err"
printf '\n[pin]\nmial01 = 1\n' | ini_case "[pin] naming no server" "\[pin\] names 'mial01', which is not in the inventory: did you mean 'mail01'?"
printf '\n[host-model hex]\ncores = 8\nmhz = 0xA28\nmemory_gib = 64\n' | ini_case "a hexadecimal number" "'mhz' in \[host-model hex\] must be a number .* not '0xA28'"
sed 's/^\(name = .*\)$/\1\x1b[2J/' "$W/study.ini.good" >"$S/study.ini"
ks_check "an escape sequence in a value: exit 1" test "$(code "$BIN" analyze "$S" -q)" -eq 1
ks_check "an escape sequence in a value: says so" grep -q "study.ini:[0-9]*: control character 0x1b" "$W/err"
python3 - "$W/study.ini.good" "$S/study.ini" <<'PY'
import sys
t = open(sys.argv[1]).read().replace("[policy]", "[policy]\npercentile = 9\0" + "5", 1)
open(sys.argv[2], "w").write(t)
PY
ks_check "a NUL in a value: exit 1" test "$(code "$BIN" analyze "$S" -q)" -eq 1
ks_check "a NUL in a value: says so" grep -q "study.ini:[0-9]*: control character 0x00" "$W/err"
sed '/^\[policy\]/a end = 99999999999' "$W/study.ini.good" >"$S/study.ini"
ks_check "an end in the year 5138: exit 0, bounded by the data" test "$(code "$BIN" analyze "$S" -q --format json)" -eq 0
ks_check "an end in the year 5138: the period of the data" python3 -c "
import json, sys; p = json.load(open(sys.argv[1])); assert 24 * 7 <= p['slots'] <= 24 * 40, p['slots']" "$W/out"
sed '/^\[policy\]/a start = 2026-01-10\nend = 2026-01-08' "$W/study.ini.good" >"$S/study.ini"
ks_check "an end before the start: exit 1" test "$(code "$BIN" analyze "$S" -q)" -eq 1
ks_check "an end before the start: says so" grep -q "'end' in \[policy\] must come after 'start'" "$W/err"
sed '/^\[policy\]/a start = 2030-01-01' "$W/study.ini.good" >"$S/study.ini"
ks_check "a period after the data: exit 1" test "$(code "$BIN" analyze "$S" -q)" -eq 1
ks_check "a period after the data: says where the data is" grep -q "holds none of the data, which spans 2026-01-0" "$W/err"
cp "$W/study.ini.good" "$S/study.ini"

# ---- an import as people get it wrong ------------------------------------------
printf 'server,timestamp,cpu_pct,mem_total[MiB]\nMAIL01,1767571500,3,1000\nMAIL01,1767571800,3,1000\nbig,1767571500,3,1e308\nbig,1767571800,3,1000\nold,9999-01-01T00:00:00Z,3,1000\nold,1767571800,3,1000\n' >"$W/x.csv"
ks_check "import of hostile rows: exit 3 (some imported)" test "$(code "$BIN" import "$S" --format csv "$W/x.csv")" -eq 3
ks_check "a name equal to another but for case: refused, nothing written" sh -c \
  "grep -q \"^MAIL01 .*REFUSED.*differs only in case from 'mail01'\" '$W/out' && test ! -e '$S/rrd/MAIL01.rrd' && ! grep -q '^MAIL01,' '$S/inventory.csv'"
ks_check "1e308 bytes and the year 9999: skipped as out of range, quoted" \
  grep -q "skipped 2 rows: 2 values out of range (first: x.csv:4: 'mem_total .* (at most 1e+18)', x.csv:6: 'time '9999-01-01T00:00:00Z' out of range" "$W/out"
ks_check "the facts of 'big' hold no overflowed number" python3 -c "
import json, sys; f = json.load(open(sys.argv[1])); assert f['memory']['total_bytes'] == 1000 << 20, f['memory']" "$S/facts/big.json"
# ---- control characters from a remote machine ---------------------------------
# a facts file (as a server's own answers make it) whose blocker and OS name
# carry ESC, BEL and CR: every human output shows them escaped
python3 - "$S/facts/$third.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
f.setdefault("virtualization_blockers", []).append("dongle \x1b[2J\x07cleared\rrewritten")
json.dump(f, open(sys.argv[1], "w"))
PY
ks_check "analyze with control characters in facts: exit 0" test "$(code "$BIN" analyze "$S" --explain "$third")" -eq 0
ks_check "analyze: no raw ESC, BEL or CR in its output" python3 -c "
import sys; b = open(sys.argv[1], 'rb').read() + open(sys.argv[2], 'rb').read()
assert not any(c in b for c in (b'\x1b', b'\x07', b'\r')), b[:200]" "$W/out" "$W/err"
ks_check "analyze: the blocker shown escaped" grep -qF 'dongle \x1b[2J\x07cleared\rrewritten' "$W/out"
ks_check "plan.json keeps it as it was (JSON-escaped)" grep -qiF 'dongle \u001b[2J\u0007cleared\rrewritten' "$S/plan.json"

# ---- a full disk ----------------------------------------------------------------
# (a 300 KiB tmpfs in a mount namespace of its own: needs root)
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
  mkdir -p "$W/full"
  set +e
  unshare -m sh -c 'mount -t tmpfs -o size=300k tmpfs "$1" && mkdir "$1/s" &&
    cp "$2/lab/study.ini" "$2/lab/inventory.csv" "$1/s/" && exec "$3" import "$1/s" --format csv "$2/lab/data/lab.csv.gz" -q' \
    sh "$W/full" "$SAMPLES" "$BIN" >"$W/out" 2>"$W/err"
  rc=$?
  set -e
  ks_check "a full disk: import exits 1" test "$rc" -eq 1
  ks_check "a full disk: says so, with the free space and the file's size (not 'unknown librrd error')" \
    grep -q "no space left on its file system ([0-9]* KiB free, the file needs [0-9]* KiB)" "$W/out"
fi

# ---- what UBSan once stopped on (this test runs under ASan + UBSan too) -------
printf 'server,timestamp,cpu_pct\nnorows,soon,3\n' >"$W/norows.csv"
ks_check "a server with no usable row: exit 1, no crash" test "$(code "$BIN" import "$S" --format csv "$W/norows.csv")" -eq 1
ks_check "a server with no usable row: says so" grep -q "no usable row for server 'norows'" "$W/out"
B=$W/bitbrains
mkdir -p "$B"
cp -r "$SAMPLES/bitbrains/study.ini" "$SAMPLES/bitbrains/inventory.csv" "$SAMPLES/bitbrains/facts" "$B/"
"$BIN" import "$B" --format csv "$SAMPLES/bitbrains/data/bitbrains.csv.gz" -q >/dev/null
# 40 existing hosts of 4 cores and 64 GiB: most stay empty (memcpy from an
# empty host's NULL list in the packer)
python3 - "$B/study.ini" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"\[host-model [^\]]+\]\n", s)
body_end = s.find("\n[", m.end())
body = s[m.end():body_end]
body = re.sub(r"(?m)^cores = .*$", "cores = 4", body)
body = re.sub(r"(?m)^memory_gib = .*$", "memory_gib = 64", body)
open(sys.argv[1], "w").write(s[:m.end()] + "existing = 40\n" + body + s[body_end:])
PY
ks_check "bitbrains with 40 small existing hosts: exit 0" test "$(code "$BIN" analyze "$B" -q)" -eq 0
ks_done
