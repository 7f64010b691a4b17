#!/usr/bin/env bash
# The bundled sample studies (samples/) and kvmshift demo:
# (1) lab: the committed files are samples/tools/make_lab.py's output; its
#     files copied into a study, its gzip CSV imported (the
#     sample's facts kept), analyzed: every status and its reason, one day
#     missing for mon01, the DNS pair and the SSH gateways never on one
#     host, the dependency in the nights;
# (2) bitbrains: 250 servers imported and analyzed, the reference host
#     model's lower bound (15) and sum of peaks (21), the plans within one
#     host of their lower bounds;
# (3) kvmshift demo: --help, --list, a demo into a new directory, run again
#     (replaced), the default directory, an empty directory, refusals (a
#     directory or file it did not make, an unknown sample), a sample whose
#     data cannot be imported (nothing left behind), $KS_SAMPLES and
#     --samples-dir; the report when this binary has it.
set -euo pipefail
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
ks_need python3
ks_workdir
W=$KS_WORKDIR
SAMPLES=$REPO/samples
code() { set +e; "$@" >"$W/out" 2>"$W/err"; echo $?; set -e; }
# a sample's study files, without its data, into a new directory
study_from() { mkdir -p "$2" && cp -r "$SAMPLES/$1/study.ini" "$SAMPLES/$1/inventory.csv" "$SAMPLES/$1/facts" "$2/"; }
no_leftovers() { ! ls -a "$1" | grep -Eq '\.(new|old)-'; }

# ---- (1) the laboratory -------------------------------------------------------
# the committed files are what the generator writes (the data compared
# uncompressed: another zlib may compress the same text differently)
python3 "$SAMPLES/tools/make_lab.py" "$W/lab-generated"
ks_check "lab: the committed sample is make_lab.py's output" \
  diff -r -x study.ini -x data "$W/lab-generated" "$SAMPLES/lab"
ks_check "lab: the committed data is make_lab.py's output" \
  sh -c "gzip -dc '$SAMPLES/lab/data/lab.csv.gz' >'$W/lab.csv' && gzip -dc '$W/lab-generated/data/lab.csv.gz' | cmp -s - '$W/lab.csv'"
L=$W/lab
study_from lab "$L"
ks_check "lab: the data is gzip-compressed" sh -c "gzip -t '$SAMPLES/lab/data/lab.csv.gz'"
ks_check "lab: import: exit 0" \
  test "$(code "$BIN" import "$L" --format csv "$SAMPLES/lab/data/lab.csv.gz" --summary json -q)" -eq 0
ks_check "lab: 16 servers imported, every facts file kept, mon01 one day short" python3 - "$W/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = {x["name"]: x for x in d["servers"]}
assert len(s) == 16, sorted(s)
assert all(x["ok"] and x["facts_kept"] and x["step"] == 300 for x in s.values()), d["servers"]
rows = {n: x["rows"] for n, x in s.items()}
assert rows["mon01"] == 14 * 288 - 288 and all(r == 14 * 288 for n, r in rows.items() if n != "mon01"), rows
PY
ks_check "lab: the facts are still the sample's" diff -r "$SAMPLES/lab/facts" "$L/facts"
ks_check "lab: the inventory is unchanged" cmp -s "$SAMPLES/lab/inventory.csv" "$L/inventory.csv"
ks_check "lab: analyze: exit 0" test "$(code "$BIN" analyze "$L" -q)" -eq 0
ks_check "lab: the summary counts" grep -q '^16 servers: 7 eligible, 6 conditional, 3 not eligible' "$W/out"
ks_check "lab: statuses, reasons, placements, nights" python3 - "$L/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
st = {s["name"]: s for s in p["servers"]}
want = {
    "mail01": "eligible", "www01": "eligible", "webmail01": "eligible", "db01": "eligible",
    "mon01": "eligible", "gw01": "eligible", "gw02": "eligible",
    "dns01": "conditional", "dns02": "conditional", "ldap01": "conditional",
    "lic01": "conditional", "compute01": "conditional", "compute02": "conditional",
    "compute03": "not_eligible", "nfs01": "not_eligible", "backup01": "not_eligible",
}
got = {n: s["status"] for n, s in st.items()}
assert got == want, {n: (got.get(n), w) for n, w in want.items() if got.get(n) != w}
def reason(n, text):
    assert any(text in r for r in st[n]["reasons"]), (n, text, st[n]["reasons"])
reason("backup01", "its role is 'backup'")
reason("backup01", "Fibre Channel HBA")
reason("nfs01", "its role is 'infrastructure'")
reason("lic01", "USB licence dongle 0529:0001")
reason("compute03", "too busy for one host")
reason("compute01", "too busy for some host models")
reason("dns01", "serves DNS")
reason("ldap01", "serves LDAP")
# one day of 14 missing: the confidence says so, the others are complete
assert 0.92 < st["mon01"]["confidence"] < 0.93, st["mon01"]["confidence"]
assert all(s["confidence"] == 1 for n, s in st.items() if n != "mon01")
sc = {s["name"]: s for s in p["scenarios"]}
assert set(sc) == {"r2x16", "r2x8", "mixed"} and p["recommended"] == "r2x16", p["recommended"]
movable = {n for n, s in want.items() if s != "not_eligible"}
for name, s in sc.items():
    host = {x["server"]: x["host"] for x in s["placements"]}
    expect = movable - ({"compute01", "compute02"} if name == "r2x8" else set())
    assert set(host) == expect and not s["unplaced"], (name, sorted(set(host) ^ expect))
    assert host["dns01"] != host["dns02"], (name, "the DNS pair on one host")
    assert host["gw01"] != host["gw02"], (name, "the SSH gateways on one host")
    assert s["lower_bound"] <= len(s["hosts"]) <= s["lower_bound"] + 1, (name, s["lower_bound"], len(s["hosts"]))
night = {x["name"]: (n["night"], x["start"], x["end"]) for n in p["nights"] for x in n["servers"]}
assert set(night) == movable, sorted(set(night) ^ movable)
for web in ("www01", "webmail01"):
    for needed in ("db01", "ldap01"):
        assert night[needed][2] <= night[web][1], (web, "starts before", needed, "ends")
assert night["dns01"][0] != night["dns02"][0], "the DNS pair on one night"
assert p["migration"]["start_date"] == "2026-02-02" and p["nights"][0]["date"] >= "2026-02-02"
print("lab:", {n: (len(s["hosts"]), s["lower_bound"]) for n, s in sc.items()}, "recommended", p["recommended"])
PY
ks_check "lab: --explain of the dongle server" test "$(code "$BIN" analyze "$L" --explain lic01)" -eq 0
ks_check "lab: --explain says why" grep -q "USB licence dongle" "$W/out"

# ---- (2) the Bitbrains trace ---------------------------------------------------
B=$W/bitbrains
study_from bitbrains "$B"
ks_check "bitbrains: import: exit 0" \
  test "$(code "$BIN" import "$B" --format csv "$SAMPLES/bitbrains/data/bitbrains.csv.gz" --summary csv -q)" -eq 0
ks_check "bitbrains: 250 servers, hourly, facts kept" \
  test "$(grep -c '^bb-[0-9]*,bitbrains.csv.gz,ok,[0-9]*,[^,]*,[^,]*,3600,.*,yes$' "$W/out")" -eq 250
ks_check "bitbrains: analyze: exit 0" test "$(code "$BIN" analyze "$B" -q --format json)" -eq 0
read -r total ref_hosts ref_lb ref_peaks dense_hosts dense_lb < <(python3 -c "
import json; d = json.load(open('$W/out'))
s = {x['name']: x for x in d['scenarios']}
assert all(x['placed'] == 250 for x in s.values()), [(x['name'], x['placed']) for x in s.values()]
r, x = s['ref-2x16'], s['dense-2x32']
print(*(int(v) for v in (d['servers']['total'], r['hosts'], r['lower_bound'], r['sum_of_peaks_hosts'],
                         x['hosts'], x['lower_bound'])))")
echo "bitbrains: ref-2x16 $ref_hosts hosts (lower bound $ref_lb, sum of peaks $ref_peaks), dense-2x32 $dense_hosts (lower bound $dense_lb)"
ks_check "bitbrains: 250 servers" test "$total" -eq 250
# the reference of the traces: at least 15 hosts, 21 when adding the peaks;
# the hourly sample keeps the full trace's lower bound
ks_check_range "bitbrains: ref-2x16 lower bound is the reference 15" "$ref_lb" 15 15
ks_check_range "bitbrains: ref-2x16 sum of peaks is the reference 21" "$ref_peaks" 21 21
ks_check_range "bitbrains: ref-2x16 within one host of its lower bound" "$ref_hosts" "$ref_lb" $((ref_lb + 1))
ks_check_range "bitbrains: dense-2x32 within one host of its lower bound" "$dense_hosts" "$dense_lb" $((dense_lb + 1))
# every host of every scenario, hour by hour, summed from the RRD files by
# rrdtool fetch (host_hours.py: none of kvmshift's code)
ks_check "bitbrains: no host-hour over its limit on the measured load (rrdtool fetch)" \
  python3 "$HERE/host_hours.py" "$B"

# ---- (3) kvmshift demo ------------------------------------------------------------
ks_check "demo --help" sh -c "'$BIN' demo --help | grep -q '^usage: kvmshift demo'"
ks_check "help demo" sh -c "'$BIN' help demo | grep -q 'kvmshift demo --list'"
ks_check "kvmshift help lists demo" sh -c "'$BIN' help | grep -q '^  demo '"
ks_check "demo: an extra argument: exit 2" test "$(code "$BIN" demo extra)" -eq 2
ks_check "demo --list: exit 0" test "$(code "$BIN" demo --list --samples-dir "$SAMPLES")" -eq 0
ks_check "demo --list: both samples" sh -c "grep -q '^  lab ' '$W/out' && grep -q '^  bitbrains ' '$W/out'"

# the report is checked when this kvmshift has it (the report component)
check_report() {
  local dir=$1
  ks_check "demo: the report's path printed" grep -qx "report: $dir/report/index.html" "$W/out"
  ks_check "demo: the report written" test -s "$dir/report/index.html"
  ks_check "demo: the report's CSV files" test -s "$dir/report/servers.csv" -a -s "$dir/report/placements.csv" -a -s "$dir/report/nights.csv"
  ks_check "demo: the report names every server" python3 -c "
import csv; rows = list(csv.DictReader(open('$dir/report/servers.csv')))
assert len(rows) == 16, len(rows)"
}

D=$W/demos/one
ks_check "demo into a new directory: exit 0" \
  test "$(code "$BIN" demo --sample lab --out "$D" --samples-dir "$SAMPLES")" -eq 0
ks_check "demo: the study, the plan" sh -c "grep -qx 'study:  $D' '$W/out' && grep -qx 'plan:   $D/plan.json' '$W/out'"
ks_check "demo: prints the analysis" grep -q '^16 servers: 7 eligible, 6 conditional, 3 not eligible' "$W/out"
ks_check "demo: plan.json" python3 -c "
import json; p = json.load(open('$D/plan.json')); assert p['recommended'] == 'r2x16' and len(p['servers']) == 16"
ks_check "demo: 16 RRD files" test "$(ls "$D/rrd" | grep -c '\.rrd$')" -eq 16
ks_check "demo: the sample's facts" diff -r "$SAMPLES/lab/facts" "$D/facts"
ks_check "demo: marked as a demo" test -f "$D/.kvmshift-demo"
check_report "$D"
ks_check "demo: nothing left beside it" no_leftovers "$W/demos"

touch "$D/stale"
cp "$D/plan.json" "$W/plan.first"
ks_check "demo again, same directory: exit 0" test "$(code "$BIN" demo --out "$D" --samples-dir "$SAMPLES" -q)" -eq 0
ks_check "demo again: replaced (an extra file is gone)" test ! -e "$D/stale"
ks_check "demo again: -q prints the last lines only" test "$(grep -cv '^\(study\|plan\|report\): ' "$W/out")" -eq 0
ks_check "demo again: the same plan" cmp -s "$D/plan.json" "$W/plan.first"
ks_check "demo again: nothing left beside it" no_leftovers "$W/demos"

mkdir -p "$W/mine"
echo "my notes" >"$W/mine/notes.txt"
ks_check "demo into a directory it did not make: exit 2" \
  test "$(code "$BIN" demo --out "$W/mine" --samples-dir "$SAMPLES")" -eq 2
ks_check "refused: says why" grep -q "'$W/mine' exists and was not made by 'kvmshift demo'" "$W/err"
ks_check "refused: untouched" sh -c "[ \"\$(ls -A '$W/mine')\" = notes.txt ] && grep -qx 'my notes' '$W/mine/notes.txt'"
ks_check "refused: nothing left beside it" no_leftovers "$W"
echo x >"$W/afile"
ks_check "demo onto a file: exit 2" test "$(code "$BIN" demo --out "$W/afile" --samples-dir "$SAMPLES")" -eq 2
ks_check "demo onto a file: untouched" grep -qx x "$W/afile"
mkdir "$W/empty"
ks_check "demo into an empty directory: exit 0" test "$(code "$BIN" demo --out "$W/empty/" --samples-dir "$SAMPLES" -q)" -eq 0
ks_check "demo into an empty directory: the study" test -f "$W/empty/plan.json"
mkdir "$W/cwd"
ks_check "demo with the default directory: exit 0" \
  sh -c "cd '$W/cwd' && '$BIN' demo -q --samples-dir '$SAMPLES' >'$W/out' 2>'$W/err'"
ks_check "demo: default directory ./kvmshift-demo" test -f "$W/cwd/kvmshift-demo/plan.json"
ks_check "demo of an unknown sample: exit 2" \
  test "$(code "$BIN" demo --sample nosuch --out "$W/x" --samples-dir "$SAMPLES")" -eq 2
ks_check "unknown sample: named, and where it was looked for" grep -q "no sample 'nosuch' in $SAMPLES" "$W/err"
ks_check "unknown sample: nothing made" test ! -e "$W/x"

# a sample whose data cannot be imported: no study, nothing left behind
S=$W/samples
mkdir -p "$S/broken/data" "$S/broken/facts"
cp "$SAMPLES/lab/study.ini" "$S/broken/"
printf 'name,address,method\nweb01,,import\n' >"$S/broken/inventory.csv"
printf 'server,timestamp,mem_used[KB]\nweb01,1767571500,1\n' | gzip >"$S/broken/data/web.csv.gz"
ks_check "a broken sample: exit 1" test "$(code "$BIN" demo --sample broken --out "$W/b" --samples-dir "$S")" -eq 1
ks_check "a broken sample: the importer's message" grep -q "web.csv.gz:1: unknown unit 'KB'" "$W/err"
ks_check "a broken sample: no study" test ! -e "$W/b"
ks_check "a broken sample: nothing left behind" no_leftovers "$W"
ks_check "\$KS_SAMPLES: listed" sh -c "KS_SAMPLES='$S' '$BIN' demo --list | grep -q '^  broken'"
ks_check "--samples-dir before \$KS_SAMPLES" sh -c "KS_SAMPLES='$S' '$BIN' demo --list --samples-dir '$SAMPLES' | grep -q '^  lab '"
ks_check "\$KS_SAMPLES without the sample: exit 2" \
  sh -c "KS_SAMPLES='$S' '$BIN' demo --out '$W/y' >/dev/null 2>&1; [ \$? -eq 2 ]"
ks_done
