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
#     what it has.
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
b[40:601] = b"\xff" * 561
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
ks_done
