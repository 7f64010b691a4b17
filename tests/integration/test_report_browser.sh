#!/usr/bin/env bash
# kvmshift report in headless Chromium: the page's own #selftest (every
# chart has drawn paths, sorting a numeric column orders it both ways, the
# text and status filters show the right rows, no console error) read back
# with --dump-dom, for the fixed study and for a study with pages per
# server and per host; a screenshot for a person to look at; --pdf.
#
#   test_report_browser.sh KVMSHIFT [SCREENSHOT.png]
set -euo pipefail
BIN=$(realpath "$1")
SHOT=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/report_fixture.sh"
ks_need python3 gnuplot chromium timeout
ks_workdir
W=$KS_WORKDIR
code() { set +e; "$@" >"$W/out" 2>"$W/err"; echo $?; set -e; }

# Chromium is slow to start on a small shared machine: generous limits;
# timeout(1) runs it in a process group of its own and stops the whole
# group (the browser's helpers too) when the time is up.
CHROMIUM_S=180
chromium_run() {
  timeout -k 10 "$CHROMIUM_S" chromium --headless --no-sandbox --disable-gpu \
    --disable-background-networking --no-first-run --no-default-browser-check \
    --user-data-dir="$W/profile" "$@"
}

# selftest FILE LABEL: load FILE#selftest, check the page's verdict
selftest() {
  local file=$1 label=$2 rc=0
  chromium_run --dump-dom "file://$file#selftest" >"$W/dom.html" 2>"$W/chromium.log" || rc=$?
  ks_check "$label: Chromium loaded the page (exit $rc)" test "$rc" -eq 0
  python3 - "$W/dom.html" >"$W/selftest" <<'PY' || true
import html, re, sys
m = re.search(r'<pre id="selftest">(.*?)</pre>', open(sys.argv[1]).read(), re.S)
print(html.unescape(m.group(1)) if m else "no selftest result in the page")
PY
  cat "$W/selftest"
  ks_check "$label: selftest passes" grep -q '^SELFTEST PASS' "$W/selftest"
}

S=$W/study
ks_check "fixture: the study imports" ks_report_study "$S"
ks_check "report: exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
ks_check "report: every chart drawn" grep -q "20 charts drawn, 0 not drawn" "$W/out"
selftest "$S/report/index.html" "small study"
ks_check "small study: all 20 charts drawn in the browser" grep -q ' charts=20 drawn=20 notes=0 ' "$W/selftest"
ks_check "small study: 9 rows sorted, one row for a name, 3 not eligible" \
  grep -q 'sorted=9 filter_text=1 filter_status=3' "$W/selftest"

# charts replaced by notes: the page still works
ks_check "report without gnuplot: exit 0" test "$(KS_GNUPLOT=/nonexistent code "$BIN" report "$S" -q)" -eq 0
selftest "$S/report/index.html" "without gnuplot"
ks_check "without gnuplot: 20 notes, no chart" grep -q ' charts=20 drawn=0 notes=20 ' "$W/selftest"

ks_check "report again: exit 0" test "$(code "$BIN" report "$S" -q)" -eq 0
if [ -n "$SHOT" ]; then
  rm -f "$SHOT"
  rc=0
  chromium_run --screenshot="$SHOT" --window-size=1400,3000 --hide-scrollbars \
    "file://$S/report/index.html" >/dev/null 2>>"$W/chromium.log" || rc=$?
  ks_check "screenshot: Chromium exit 0 ($rc)" test "$rc" -eq 0
  ks_check "screenshot: a PNG at $SHOT" sh -c "head -c 8 '$SHOT' | od -An -c | grep -q 'P   N   G'"
fi

ks_check "--pdf: exit 0" test "$(code "$BIN" report "$S" -q --pdf)" -eq 0
ks_check "--pdf: says where" grep -q "^PDF: $S/report/report.pdf" "$W/out"
ks_check "--pdf: a PDF" sh -c "head -c 5 '$S/report/report.pdf' | grep -q '%PDF-'"
ks_check "--pdf: no browser profile left" sh -c "! ls -A '$S/report' | grep -q '^\\.'"

L=$W/large
ks_check "large study: made" ks_report_study_large "$L" 70
ks_check "large study: report exit 0" test "$(code "$BIN" report "$L" -q)" -eq 0
selftest "$L/report/index.html" "large study"
ks_check "large study: 70 rows sorted" grep -q 'sorted=70 ' "$W/selftest"
selftest "$L/report/servers/srv007.html" "large study, a server page"
ks_check "a server page: its chart drawn" grep -q ' charts=1 drawn=1 notes=0' "$W/selftest"
selftest "$L/report/hosts/tiny-01.html" "large study, a host page"
ks_check "a host page: its chart drawn" grep -q ' charts=1 drawn=1 notes=0' "$W/selftest"
ks_done
