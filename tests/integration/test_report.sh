#!/usr/bin/env bash
# kvmshift report: (1) the fixed study of tests/data/report-study: the CSV
# files and the report's tables against golden files (REGENERATE=1 rewrites
# them; review the diff), the charts, no URL, escaping, plan.json older than
# the study; (2) gnuplot missing or failing: the report still comes out,
# with a note in place of each chart, exit 0 (3 with --strict); --pdf
# without Chromium; (3) the study directory: nothing but report/ added, a
# second run replaces the report, a failed run leaves the previous one; (4)
# a study above the thresholds: a page per server and per host; (5) usage.
set -euo pipefail
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
GOLDEN=$REPO/tests/data/report-golden
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/report_fixture.sh"
ks_need python3 gnuplot
ks_workdir
W=$KS_WORKDIR
code() { set +e; "$@" >"$W/out" 2>"$W/err"; echo $?; set -e; }
# the tables of index.html: everything between the marker comments
tables() { awk '/^<!-- table /{on=1} on{print} /^<!-- \/table -->/{on=0}' "$1"; }
# URLs in a file other than the SVG namespaces
urls() { grep -o 'https\?://[^"'\'' <>]*' "$1" | grep -v -e '^http://www.w3.org/2000/svg$' -e '^http://www.w3.org/1999/xlink$' || true; }

# ---- (1) the fixed study ------------------------------------------------------
S=$W/study
ks_check "fixture: the study imports" ks_report_study "$S"
ks_check "analyze: exit 0" test "$(code "$BIN" analyze "$S" -q)" -eq 0
ls -A "$S" | sort >"$W/before"
ks_check "report: exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
cat "$W/out"
R=$S/report
ks_check "report: says where index.html is" grep -q "written to $R/index.html" "$W/out"
ks_check "report: every chart drawn" grep -q "charts drawn, 0 not drawn" "$W/out"
ks_check "report: quiet means no progress" test ! -s "$W/err"
for f in index.html servers.csv placements.csv nights.csv; do
  ks_check "report: $f written" test -s "$R/$f"
done
tables "$R/index.html" >"$W/tables.html"
if [ "${REGENERATE:-0}" = 1 ]; then
  mkdir -p "$GOLDEN"
  cp "$R/servers.csv" "$R/placements.csv" "$R/nights.csv" "$W/tables.html" "$GOLDEN/"
  echo "REGENERATE=1: rewrote $GOLDEN; review the diff (git diff tests/data/report-golden)"
fi
for f in servers.csv placements.csv nights.csv; do
  ks_check "golden: $f" diff -u "$GOLDEN/$f" "$R/$f"
done
ks_check "golden: the tables of index.html" diff -u "$GOLDEN/tables.html" "$W/tables.html"
ks_check "tables: no generation time inside the markers" sh -c "! grep -q 'generated at' '$W/tables.html'"
n_fig=$(grep -c '<figure class="chart"' "$R/index.html")
n_svg=$(grep -o '<figure class="chart" id="[^"]*"><svg' "$R/index.html" | wc -l)
ks_check "charts: 20 figures (fleet, heat map, scenarios, 8 hosts of 3 scenarios, 9 servers)" test "$n_fig" -eq 20
ks_check "charts: each an inline SVG" test "$n_svg" -eq "$n_fig"
ks_check "charts: no XML prolog inside the page" sh -c "! grep -q '<?xml' '$R/index.html'"
ks_check "charts: no note in place of a chart" sh -c "! grep -q 'class=\"note\">Chart' '$R/index.html'"
urls "$R/index.html" >"$W/urls"
ks_check "no URL in index.html but the SVG namespaces" test ! -s "$W/urls"
ks_check "no external script or stylesheet" sh -c "! grep -Eq '<script[^>]+src=|<link[^>]+stylesheet' '$R/index.html'"
ks_check "a print stylesheet" grep -q '@media print' "$R/index.html"
ks_check "HTML escaped: the quotes of a reason" grep -q "its role is &#39;backup&#39;" "$R/index.html"
ks_check "plan.json matches: no stale note" sh -c "! grep -q 'plan.json is older' '$R/index.html'"
ks_check "CSV files parse, one row per server, RFC 4180 quoting" python3 - "$R" <<'PY'
import csv, sys
r = sys.argv[1]
rows = list(csv.DictReader(open(f"{r}/servers.csv", newline="")))
assert [x["name"] for x in rows] == ["web01", "web02", "db01", "batch01", "app01", "dns01",
                                     "backup01", "infra01", "new01"], [x["name"] for x in rows]
st = {x["name"]: x["status"] for x in rows}
assert st["dns01"] == "conditional" and st["backup01"] == "not_eligible", st
assert st["new01"] == "not_eligible" and st["web01"] == "eligible", st
# a reason with a comma is one field
assert "," in next(x for x in rows if x["name"] == "dns01")["reasons"]
app = next(x for x in rows if x["name"] == "app01")
assert int(app["measured_slots"]) < int(app["slots"]), app
web = next(x for x in rows if x["name"] == "web01")
assert float(web["network_p95_mbps"]) > 0 and web["cpu_capacity_mhz"] == "10000", web
assert next(x for x in rows if x["name"] == "db01")["network_p95_mbps"] == ""
pl = list(csv.DictReader(open(f"{r}/placements.csv", newline="")))
assert {x["scenario"] for x in pl} == {"small", "big", "mixed"}
for sc in ("small", "big", "mixed"):
    assert sorted(x["server"] for x in pl if x["scenario"] == sc) == sorted(
        n for n, s in st.items() if s != "not_eligible"), sc
assert all(x["host"].startswith(x["host_model"] + "-") for x in pl)
ni = list(csv.DictReader(open(f"{r}/nights.csv", newline="")))
assert sorted(x["server"] for x in ni) == sorted(
    x["server"] for x in pl if x["scenario"] == "small"), ni  # the recommended one
assert all(int(x["estimated_minutes"]) > 0 and x["start"] < x["end"] for x in ni)
print("csv ok:", len(rows), "servers,", len(pl), "placements,", len(ni), "conversions")
PY
ks_check "the report's sections" python3 - "$R/index.html" <<'PY'
import sys
s = open(sys.argv[1]).read()
for sec in ("summary", "method", "eligibility", "placements", "scenarios", "nights", "quality"):
    assert f'<section id="{sec}">' in s, sec
for text in ("Consolidation ratio", "Power before", "Power after", "Rack space after",
             "Cost of the hosts", "<!-- table calendar -->", "<!-- table quality -->",
             'id="tbl-servers"', 'data-status="conditional"', "too little data"):
    assert text in s, text
print("sections ok")
PY

# plan.json older than the study: a visible note, and the report still comes out
cp "$S/study.ini" "$W/study.ini.good"
sed -i 's/^headroom_percent = 20$/headroom_percent = 30/' "$S/study.ini"
ks_check "changed study: report exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
ks_check "changed study: the stale plan.json is said" grep -q 'plan.json is older than the study' "$R/index.html"
cp "$W/study.ini.good" "$S/study.ini"
rm "$S/plan.json"
ks_check "no plan.json: report exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
ks_check "no plan.json: said" grep -q 'there is no plan.json yet' "$R/index.html"
ks_check "analyze again" test "$(code "$BIN" analyze "$S" -q)" -eq 0

# ---- (2) gnuplot missing or failing, no Chromium ----------------------------------
for gp in /nonexistent/gnuplot /bin/false; do
  ks_check "gnuplot $gp: exit 0" test "$(KS_GNUPLOT=$gp code "$BIN" report "$S" -q)" -eq 0
  ks_check "gnuplot $gp: a warning on stderr" grep -q "20 of 20 charts could not be drawn" "$W/err"
  n_note=$(grep -c 'class="note">Chart ' "$R/index.html" || true)
  ks_check "gnuplot $gp: a note in place of each of the 20 charts ($n_note)" test "$n_note" -eq 20
  ks_check "gnuplot $gp: the note says what happened" grep -q "gnuplot (&#39;$gp&#39;) [a-z]" "$R/index.html"
  ks_check "gnuplot $gp: the note says how to fix it" grep -q 'apt-get install gnuplot-nox' "$R/index.html"
  ks_check "gnuplot $gp: no SVG" sh -c "! grep -q '<svg' '$R/index.html'"
  tables "$R/index.html" >"$W/tables-nochart.html"
  ks_check "gnuplot $gp: the same tables" diff -q "$GOLDEN/tables.html" "$W/tables-nochart.html"
  ks_check "gnuplot $gp --strict: exit 3" test "$(KS_GNUPLOT=$gp code "$BIN" report "$S" -q --strict)" -eq 3
  ks_check "gnuplot $gp --strict: the report is written all the same" test -s "$R/index.html"
done
# gnuplot's warnings ("Warning: empty y range") do not fail a chart
printf '#!/bin/sh\necho "Warning: empty y range [0:0], adjusting to [-1:1]" >&2\nexec gnuplot "$@"\n' >"$W/gp-warn"
chmod +x "$W/gp-warn"
ks_check "gnuplot that warns: exit 0" test "$(KS_GNUPLOT=$W/gp-warn code "$BIN" report "$S" -q --strict)" -eq 0
ks_check "gnuplot that warns: every chart drawn" grep -q "20 charts drawn, 0 not drawn" "$W/out"
ks_check "--pdf without Chromium: exit 0" test "$(KS_CHROMIUM=/nonexistent/chromium code "$BIN" report "$S" -q --pdf)" -eq 0
ks_check "--pdf without Chromium: a warning that says how to fix it" grep -q "no PDF: Chromium ('/nonexistent/chromium') is not installed: install it (apt-get install chromium)" "$W/err"
ks_check "--pdf without Chromium: no report.pdf" test ! -e "$R/report.pdf"
ks_check "--pdf --strict without Chromium: exit 3" test "$(KS_CHROMIUM=/nonexistent/chromium code "$BIN" report "$S" -q --pdf --strict)" -eq 3

# ---- (3) the study directory -------------------------------------------------
ks_check "report: exit 0 again" test "$(code "$BIN" report "$S" -q)" -eq 0
ls -A "$S" | sort >"$W/after"
ks_check "nothing left in the study but report/" diff <( (cat "$W/before"; echo report) | sort) "$W/after"
ks_check "no temporary directory left" sh -c "! ls -A '$S' | grep -q 'report\\.'"
ks_check "no scratch files inside the report" sh -c "! ls -A '$R' | grep -q '^\\.'"
touch "$R/left-by-hand"
ks_check "a second run: exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
ks_check "a second run replaces the report" test ! -e "$R/left-by-hand"
cp "$R/index.html" "$W/index.good"
printf '\n[host-model broken]\ncores = 8\n' >>"$S/study.ini"
ks_check "a bad study.ini: exit 1" test "$(code "$BIN" report "$S" -q)" -eq 1
ks_check "a bad study.ini: says file:line" grep -q "study.ini:[0-9]*:.*host-model broken" "$W/err"
ks_check "a bad study.ini: the previous report is left whole" cmp -s "$R/index.html" "$W/index.good"
ks_check "a bad study.ini: no temporary directory left" sh -c "! ls -A '$S' | grep -q 'report\\.'"
cp "$W/study.ini.good" "$S/study.ini"
# a study the report cannot write into: root writes through mode bits, so
# as root the study is bind-mounted read-only in a private mount namespace
ro_report() {
  if [ "$(id -u)" -eq 0 ]; then
    unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" report "$1" -q' \
      sh "$S" "$BIN" >"$W/out" 2>"$W/err"
  else
    chmod 0555 "$S"
    "$BIN" report "$S" -q >"$W/out" 2>"$W/err"
  fi
  echo $?
  chmod 0755 "$S"
}
ks_check "a read-only study: exit 1" test "$(ro_report)" -eq 1
ks_check "a read-only study: says why" grep -q "cannot create .*report.tmp" "$W/err"
ks_check "a read-only study: the previous report is left whole" cmp -s "$R/index.html" "$W/index.good"
# a file where the report directory goes is not replaced
mv "$R" "$W/report.keep"
echo "my notes" >"$R"
ks_check "report is a file: exit 1" test "$(code "$BIN" report "$S" -q)" -eq 1
ks_check "report is a file: says so" grep -q "exists and is not a report directory" "$W/err"
ks_check "report is a file: kept" grep -qx "my notes" "$R"
ks_check "report is a file: no temporary directory left" sh -c "! ls '$S' | grep -q report.tmp"
rm "$R"
mv "$W/report.keep" "$R"
# host model names become file names: refused when they could escape
cp "$S/study.ini" "$W/study.ini.good"
printf '\n[host-model ../../evil]\ncores = 8\nmhz = 2000\nmemory_gib = 64\n' >>"$S/study.ini"
ks_check "a host model named with a path: exit 1" test "$(code "$BIN" report "$S" -q)" -eq 1
ks_check "a host model named with a path: says why" grep -q "host model name '../../evil' is not allowed" "$W/err"
cp "$W/study.ini.good" "$S/study.ini"

# the results of `kvmshift validate`: a section only when there are some,
# the evidence escaped
ks_check "no validation: no section" sh -c "! grep -q 'id=\"validation\"' '$R/index.html'"
v=$(ls "$S/facts" | head -1)
v=${v%.json}
mkdir -p "$S/validation"
cat >"$S/validation/$v.json" <<EOF
{"server": "$v", "address": "10.0.0.1", "port": 22, "validated_at": "2026-12-03T18:00:00Z",
 "verdict": "fail", "counts": {"pass": 8, "warn": 1, "fail": 1},
 "checks": [{"check": "listening", "status": "fail", "summary": "1 of 2",
             "evidence": ["tcp 0.0.0.0:443 (<nginx>) no longer listens on the VM"]},
            {"check": "host_key", "status": "pass", "summary": "", "evidence": ["the key"]},
            {"check": "load_coverage", "status": "warn", "summary": "5 hours", "evidence": ["5 hours"],
             "data": {"cutover_at": "2026-12-03T17:00:00Z", "vm_hours": 5, "baseline_hours": 336}},
            {"check": "load_cpu", "status": "pass", "summary": "", "evidence": [], "data": {"ratio": 0.93}},
            {"check": "load_network", "status": "fail", "summary": "", "evidence": ["network dropped"],
             "data": {"ratio": 0.012}},
            {"check": "load_steal", "status": "pass", "summary": "", "evidence": [], "data": {"max_pct": 0.46}}]}
EOF
echo '{"not": "a result"}' >"$S/validation/zz-not-a-server.json"
ks_check "with a validation: exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
ks_check "with a validation: its section" grep -q '<section id="validation">' "$R/index.html"
ks_check "with a validation: in the menu" grep -q 'href="#validation"' "$R/index.html"
ks_check "with a validation: the failed check, escaped" grep -q "<td>$v</td><td>fail</td>.*fail listening: tcp 0.0.0.0:443 (&lt;nginx&gt;) no longer listens" "$R/index.html"
ks_check "with a validation: the load after the move, each check's figure and colour" grep -q "<td>$v</td><td>2026-12-03T17:00:00Z</td><td class=\"n\">5</td><td class=\"n\">336</td><td class=\"mig-ok\">pass 93%</td><td class=\"\">&ndash;</td><td class=\"\">&ndash;</td><td class=\"mig-bad\">fail 1%</td><td class=\"\">&ndash;</td><td class=\"mig-ok\">pass, at most 0.5%</td></tr>" "$R/index.html"
rm -r "$S/validation"

# the summaries of `kvmshift night`: a "Migration progress" section per
# night run, the notes escaped, an incomplete rollback said
ks_check "no night run: no section" sh -c "! grep -q 'id=\"progress\"' '$R/index.html'"
n1=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['nights'][0]['night'])" "$S/plan.json")
mkdir -p "$S/nights/$n1"
cat >"$S/nights/$n1/summary.json" <<EOF
{"night": $n1, "date": "2026-02-02", "ended_at": "2026-02-03T01:00:00Z",
 "counts": {"migrated": 1, "rolled_back": 1, "postponed": 0, "skipped": 0, "running": 0, "pending": 0},
 "servers": [{"server": "$v", "state": "migrated",
              "planned": {"start": "2026-02-02T20:00:00Z", "minutes": 50},
              "started_at": "2026-02-02T20:05:00Z", "minutes": 42.5, "downtime_s": 310, "full_copy_s": 1200, "offline_downtime_s": 1450,
              "validation": {"verdict": "warn", "not_passed": "network warn (<x>)"}},
             {"server": "other", "state": "rolled_back",
              "planned": {"start": "2026-02-02T21:00:00Z", "minutes": 60},
              "started_at": "2026-02-02T20:50:00Z", "minutes": 3.0, "reason": "final_delta failed: lost",
              "rollback": {"complete": false, "actions": [{"action": "start_services", "ok": false,
                                                            "detail": "could not start <x> again"}]}}]}
EOF
ks_check "with a night run: exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
ks_check "with a night run: its section" grep -q '<section id="progress">' "$R/index.html"
ks_check "with a night run: in the menu" grep -q 'href="#progress"' "$R/index.html"
ks_check "with a night run: planned and actual" grep -q "<td>$v</td><td class=\"mig-ok\">migrated</td><td>20:00</td><td class=\"n\">50</td><td>20:05</td><td class=\"n\">42.5</td><td class=\"n\">310</td><td class=\"n\">1450</td><td>validation warn: network warn (&lt;x&gt;)" "$R/index.html"
ks_check "with a night run: the failed rollback, escaped" grep -q "final_delta failed: lost<br>ROLLBACK FAILED: could not start &lt;x&gt; again" "$R/index.html"
rm -r "$S/nights"

# ---- (4) a large study: pages per server and per host ----------------------------
L=$W/large
ks_check "large study: made" ks_report_study_large "$L" 70
ks_check "large study: report exit 0" test "$(code "$BIN" report "$L" -q)" -eq 0
ks_check "large study: every chart drawn" grep -q "charts drawn, 0 not drawn" "$W/out"
ks_check "large study: a page per server" test "$(ls "$L/report/servers" | wc -l)" -eq 70
host_pages=("$L"/report/hosts/tiny-*.html)
ks_check "large study: a page per host (${#host_pages[@]})" test "${#host_pages[@]}" -gt 24
ks_check "large study: no server chart in index.html" sh -c "! grep -q 'id=\"fig-server-' '$L/report/index.html'"
ks_check "large study: the table links the pages" grep -q '<a href="servers/srv000.html">srv000</a>' "$L/report/index.html"
ks_check "large study: a server page holds its chart" grep -q '<figure class="chart" id="fig-server-0"><svg' "$L/report/servers/srv000.html"
ks_check "large study: a host page holds its chart" grep -q '<svg' "$L/report/hosts/tiny-01.html"
urls "$L/report/servers/srv000.html" >"$W/urls"
ks_check "large study: no URL in a server page" test ! -s "$W/urls"

# ---- (5) usage --------------------------------------------------------------
ks_check "no study: exit 2" test "$(code "$BIN" report)" -eq 2
ks_check "an unknown option: exit 2" test "$(code "$BIN" report "$S" --nosuch)" -eq 2
ks_check "--help: exit 0" test "$(code "$BIN" report --help)" -eq 0
ks_check "--help: the usage and the exit status" grep -q '^usage: kvmshift report DIR' "$W/out"
ks_check "help report" test "$(code "$BIN" help report)" -eq 0
ks_check "kvmshift help lists report" sh -c "'$BIN' help | grep -q '^  report '"
ks_check "not a study: exit 1" test "$(code "$BIN" report "$W/nosuch")" -eq 1
ks_done
