#!/usr/bin/env bash
# kvmshift import: (1) the bundled small files (always): exit codes, the
# inventory, facts, refusals, replacement, summaries; (2) when the Bitbrains
# tarball is in ../../shared/traces relative to the repository: five real
# machines imported, read back with rrdtool fetch and compared with the CSV
# values, and the skipped-row counts checked against counts made here.
set -euo pipefail
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
ks_need rrdtool python3 awk tar
ks_workdir
W=$KS_WORKDIR
DATA=$REPO/collector/tests/data/import
code() { set +e; "$@" >"$W/out" 2>"$W/err"; echo $?; set -e; }
no_temp() { ! ls "$1/rrd" | grep -q '\.tmp'; }

# ---- (1) bundled files ----------------------------------------------------
S=$W/study
ks_study "$S"
ks_check "import --help" sh -c "'$BIN' import --help | grep -q '^usage: kvmshift import'"
ks_check "no input format: exit 2" test "$(code "$BIN" import "$S" "$DATA/bitbrains")" -eq 2
ks_check "unknown format: exit 2" test "$(code "$BIN" import "$S" --format xls "$DATA/bitbrains")" -eq 2
ks_check "missing directory: exit 1" test "$(code "$BIN" import "$S" --format bitbrains "$W/none")" -eq 1
ks_check "missing directory: named" grep -q "'$W/none'" "$W/err"

ks_check "bitbrains import: exit 0" test "$(code "$BIN" import "$S" --format bitbrains "$DATA/bitbrains" -q)" -eq 0
ks_check "two servers in the inventory, method import" \
  test "$(grep -c '^bb-[12],,import,' "$S/inventory.csv")" -eq 2
ks_check "the example comment lines are kept" grep -q '^#' "$S/inventory.csv"
ks_check "RRD files made" test -f "$S/rrd/bb-1.rrd" -a -f "$S/rrd/bb-2.rrd"
ks_check "facts made with their source" grep -q '"source": "import:bitbrains"' "$S/facts/bb-2.json"
ks_check "summary counts per reason" grep -q '^skipped 6 rows: 2 repeated timestamps (first: 2.csv:4' "$W/out"
ks_check "summary quotes the bad number" grep -q "1 unreadable numbers (first: 2.csv:5: 'x1,2')" "$W/out"
ks_check "no temporary file left" no_temp "$S"
ks_check_near "cpu_mhz of bb-2's last row" "$(ks_rrd_last "$S/rrd/bb-2.rrd" cpu_mhz)" 600 1e-6
ks_check "status lists the imported servers" sh -c "'$BIN' status '$S' | grep -q '^bb-2 '"

cp "$S/inventory.csv" "$W/inv.before"
ks_check "again: exit 0" test "$(code "$BIN" import "$S" --format bitbrains "$DATA/bitbrains" --summary json -q)" -eq 0
ks_check "again: replaced, JSON summary" python3 -c "
import json; d = json.load(open('$W/out'))
assert [s['replaced'] for s in d['servers']] == [True, True]
assert d['skipped']['repeated_timestamp']['count'] == 2, d['skipped']"
ks_check "again: inventory unchanged" cmp -s "$S/inventory.csv" "$W/inv.before"

ks_check "csv import: exit 0" test "$(code "$BIN" import "$S" --format csv "$DATA/csv/semicolon.csv" --summary csv -q)" -eq 0
ks_check "csv summary as CSV" grep -q '^app01,semicolon.csv,ok,4,' "$W/out"
ks_check "csv facts" grep -q '"source": "import:csv"' "$S/facts/app01.json"
# facts that no import made (written by hand here) are kept on a new import
echo '{"name": "app01", "cpu": {"model": "Xeon E5-2630 v4", "cores": 10}, "listening": []}' >"$S/facts/app01.json"
cp "$S/facts/app01.json" "$W/app01.facts"
ks_check "csv import again: exit 0" test "$(code "$BIN" import "$S" --format csv "$DATA/csv/semicolon.csv")" -eq 0
ks_check "hand-made facts kept" cmp -s "$S/facts/app01.json" "$W/app01.facts"
ks_check "the summary says the facts were kept" grep -q '^kept the facts of 1 server: no import made them' "$W/out"
ks_check "csv import, gzip-compressed: exit 0" sh -c "gzip -c '$DATA/csv/semicolon.csv' >'$W/semicolon.csv.gz' && '$BIN' import '$S' --format csv '$W/semicolon.csv.gz' --summary csv -q >'$W/out'"
ks_check "gzip: the summary names the file, facts kept" grep -q '^app01,semicolon.csv.gz,replaced,4,.*,yes$' "$W/out"
ks_check "csv bad header: exit 1" test "$(code "$BIN" import "$S" --format csv "$DATA/csv/bad_unit.csv")" -eq 1
ks_check "csv bad header: file:line and the units" grep -q "bad_unit.csv:1: unknown unit 'KB' for column 'mem_used'.*KiB" "$W/err"

# a server collected over ssh is never replaced; the others are imported
echo "bb-2,192.0.2.1,ssh,22,root,,,," >>"$S/inventory.csv"
sed -i '/^bb-2,,import/d' "$S/inventory.csv"
rm -f "$S/rrd/bb-2.rrd" "$S/facts/bb-2.json"
ks_check "refused server: exit 3" test "$(code "$BIN" import "$S" --format bitbrains "$DATA/bitbrains")" -eq 3
ks_check "refused server: the table says why" grep -q "^bb-2 .*REFUSED.*already in inventory.csv (line [0-9]*) with method 'ssh'" "$W/out"
ks_check "refused server: the other one imported" grep -q "^bb-1 .*replaced" "$W/out"
ks_check "refused server: no RRD made" test ! -e "$S/rrd/bb-2.rrd"
ks_check "a bad file among good ones: exit 3" test "$(code "$BIN" import "$S" --format bitbrains "$DATA/bitbrains-bad")" -eq 3
ks_check "a bad file: file:line in the table" grep -q "^bb-7 .*FAILED.*7.csv:1: not a Bitbrains" "$W/out"
ks_check "a bad file: the good one imported" test -f "$S/rrd/bb-8.rrd"
ks_check "inventory still valid" sh -c "'$BIN' status '$S' >/dev/null"
ks_check "no temporary file left" no_temp "$S"

# ---- (1b) one writer per study ---------------------------------------------
# two imports at once (the laboratory's 16 servers under two prefixes):
# each waits for the other (the study's lock), so every server is in the
# inventory with its files; before the lock, one import's lines were lost
C=$W/concurrent
ks_study "$C"
LAB=$REPO/samples/lab/data/lab.csv.gz
for t in 1 2 3; do
  "$BIN" import "$C" --format csv "$LAB" --prefix "A$t-" -q >"$W/a.out" 2>"$W/a.err" & a=$!
  "$BIN" import "$C" --format csv "$LAB" --prefix "B$t-" -q >"$W/b.out" 2>"$W/b.err" & b=$!
  ra=0; rb=0; wait "$a" || ra=$?; wait "$b" || rb=$?
  ks_check "concurrent imports $t: both exit 0 ($ra, $rb)" test "$ra" = 0 -a "$rb" = 0
done
ks_check "concurrent imports: all 96 servers in the inventory, each with its series and facts" python3 - "$C" <<'EOF'
import csv, os, sys
d = sys.argv[1]
names = [r[0] for r in csv.reader(open(d + "/inventory.csv")) if r and not r[0].startswith("#") and r[0] != "name"]
want = {"%s%d-" % (p, t) for p in "AB" for t in (1, 2, 3)}
assert len(names) == 96 and len(set(names)) == 96, len(names)
assert {n[:3] for n in names} == want, sorted({n[:3] for n in names})
rrd = set(os.listdir(d + "/rrd"))
assert rrd == {n + ".rrd" for n in names}, sorted(rrd ^ {n + ".rrd" for n in names})
EOF
# a writer that holds the lock (here flock(1) on the lock file with the
# line a kvmshift writes): an import waits for it, naming it, then runs
printf 'pid 4242, kvmshift analyze\n' >"$C/.lock"
flock "$C/.lock" sleep 3 & holder=$!
sleep 0.5
ks_check "an import waits for the holder: exit 0" test "$(code "$BIN" import "$C" --format csv "$DATA/csv/semicolon.csv" -q)" -eq 0
wait "$holder" 2>/dev/null || true
ks_check "the wait named the holder" grep -q "the study '$C' is being changed by another kvmshift (pid 4242, kvmshift analyze): waiting" "$W/err"
# temporaries of runs killed with -9 (their pid gone), removed under the
# lock by the next writer, which says so; a live process's temporary and a
# server whose name looks like one are kept
sleep 0 & dead=$!; wait "$dead"
touch "$C/inventory.csv.tmp.$dead" "$C/rrd/x.rrd.tmp.$dead" "$C/facts/y.json.tmp.$dead.$dead.3" \
  "$C/facts/z.json.tmp.$$.$$.1" "$C/rrd/w.tmp.$dead.rrd"
mkdir -p "$C/report.tmp.Ab12Cd/charts"
ks_check "stale temporaries: the next analyze runs" sh -c "'$BIN' analyze '$C' -q >'$W/out' 2>'$W/err'; test \$? -le 3"
ks_check "stale temporaries removed" test ! -e "$C/inventory.csv.tmp.$dead" -a ! -e "$C/rrd/x.rrd.tmp.$dead" \
  -a ! -e "$C/facts/y.json.tmp.$dead.$dead.3" -a ! -e "$C/report.tmp.Ab12Cd"
ks_check "stale temporaries: each named" sh -c "grep -c \"removed '.*', left by a run that ended\" '$W/err' | grep -qx 4"
ks_check "a live process's temporary and w.tmp.N.rrd kept" test -e "$C/facts/z.json.tmp.$$.$$.1" -a -e "$C/rrd/w.tmp.$dead.rrd"
rm -f "$C/facts/z.json.tmp.$$.$$.1" "$C/rrd/w.tmp.$dead.rrd"

# ---- (2) real Bitbrains machines -----------------------------------------
TARBALL=$REPO/../../shared/traces/bitbrains-rnd-2013-07-vm1-250.tar.xz
[ -f "$TARBALL" ] || TARBALL=$(cd "$REPO/.." && pwd)/shared/traces/bitbrains-rnd-2013-07-vm1-250.tar.xz
if [ ! -f "$TARBALL" ]; then
  echo "note: no Bitbrains tarball next to the repository (shared/traces/): the comparison with real traces is not run"
  ks_done
  exit $?
fi
# 20 and 122 have repeated timestamps (122 also a stretch of rows at 0)
MACHINES="1 5 20 122 200"
members=""
for m in $MACHINES; do members="$members rnd-2013-07/$m.csv"; done
# shellcheck disable=SC2086
tar -xJf "$TARBALL" -C "$W" $members
R=$W/real
ks_study "$R"
ks_check "real traces: exit 0" test "$(code "$BIN" import "$R" --format bitbrains "$W/rnd-2013-07" --summary json -q)" -eq 0
cp "$W/out" "$W/real.json"

for m in $MACHINES; do
  f=$W/rnd-2013-07/$m.csv
  # counted here independently: repeated timestamps, rows that are not 11
  # numeric fields, negative values
  read -r dups bad neg < <(awk -F';\t' 'FNR == 1 { next }
    { if ($1 in seen) d++; seen[$1] = 1
      if (NF != 11) { b++; next }
      for (i = 1; i <= 11; i++) { if ($i !~ /^-?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/) { b++; next } }
      for (i = 1; i <= 11; i++) if ($i + 0 < 0) { n++; next } }
    END { print d + 0, b + 0, n + 0 }' "$f")
  got=$(python3 -c "
import json; d = json.load(open('$W/real.json'))
s = [x for x in d['servers'] if x['name'] == 'bb-$m'][0]
k = s['skipped']
print(k['repeated_timestamp'], k['bad_number'] + k['bad_timestamp'] + k['missing_fields'], k['negative_value'], s['rows'], s['step'])")
  read -r g_dups g_bad g_neg g_rows g_step <<<"$got"
  ks_check "bb-$m: repeated timestamps as counted by awk ($dups)" test "$g_dups" -eq "$dups"
  ks_check "bb-$m: unreadable rows as counted by awk ($bad)" test "$g_bad" -eq "$bad"
  ks_check "bb-$m: negative values as counted by awk ($neg)" test "$g_neg" -eq "$neg"
  total=$(($(wc -l <"$f") - 1))
  ks_check "bb-$m: rows stored + skipped = rows in the file ($total)" test $((g_rows + g_dups + g_bad + g_neg)) -eq "$total"
  ks_check "bb-$m: step 300" test "$g_step" -eq 300

  # Read back the 5-minute AVERAGE rows. Bitbrains timestamps are not on
  # 300-s boundaries (1.csv starts at 1372629804 = 204 s past one), and RRD
  # rows are: a stored sample at t holds its value over (previous sample, t]
  # (GAUGE), the 1-minute rows are time-weighted averages of that, and a
  # 5-minute row is the mean of its five 1-minute rows. So a 300-s row ending
  # at T is the time-weighted mean of the samples that overlap (T-300, T];
  # the expected value is computed that way here, only for rows fully covered
  # by intervals no longer than the heartbeat (600 s: 2 x step). First sample:
  # its interval starts one step before it (the file starts at first - step).
  # rrdtool fetch prints each row's end time. Tolerance: relative 1e-6
  # (fetch prints 10 significant digits; librrd computes in doubles).
  first=$(awk -F';\t' 'FNR == 2 { print $1; exit }' "$f")
  last=$(awk -F';\t' 'FNR > 1 { t = $1 } END { print t }' "$f")
  rrdtool fetch "$R/rrd/bb-$m.rrd" AVERAGE -r 300 -s $((first - 600)) -e $((last + 300)) >"$W/fetch-$m"
  awk -F';\t' -v step=300 'FNR == 1 { next }
    ($1 in seen) { next }
    { seen[$1] = 1; t = $1 + 0; a = (n++ ? prev : t - step); prev = t
      if (t - a > 600) next
      mhz = $4 + 0; mem = $7 * 1024
      for (s = a - a % 300; s < t; s += 300) {
        lo = (a > s ? a : s); hi = (t < s + 300 ? t : s + 300)
        if (hi <= lo) continue
        cov[s + 300] += hi - lo; m1[s + 300] += (hi - lo) * mhz; m2[s + 300] += (hi - lo) * mem
      } }
    END { for (T in cov) if (cov[T] == 300) printf "%d %.10g %.10g\n", T, m1[T] / 300, m2[T] / 300 }' \
    "$f" | sort -n >"$W/expected-$m"
  read -r compared bad_rows < <(awk '
    NR == FNR { e1[$1] = $2; e2[$1] = $3; next }
    /^ *[0-9]+:/ { T = $1 + 0; sub(":", "", T)
      if (!(T in e1) || $3 == "-nan" || $3 == "nan") next
      c++
      if (!near($3, e1[T]) || !near($4, e2[T])) { b++; if (b <= 3) print "mismatch at " T ": " $3 " " $4 " vs " e1[T] " " e2[T] > "/dev/stderr" } }
    function near(x, y,   d) { d = x - y; if (d < 0) d = -d; return d <= 1e-6 * (y < 0 ? -y : y) + 1e-6 }
    END { print c + 0, b + 0 }' "$W/expected-$m" "$W/fetch-$m")
  expected_rows=$(wc -l <"$W/expected-$m")
  ks_check "bb-$m: every fully covered 300-s row compared ($compared of $expected_rows)" test "$compared" -eq "$expected_rows" -a "$compared" -gt 7000
  ks_check "bb-$m: cpu_mhz and mem_used match the CSV within 1e-6 relative ($bad_rows mismatches)" test "$bad_rows" -eq 0
done
ks_check "real traces: facts of bb-1 say 2 cores" python3 -c "
import json; f = json.load(open('$R/facts/bb-1.json'))
assert f['cpu']['cores'] == 2 and f['cpu']['mhz'] > 2000 and f['memory']['total_bytes'] > 0, f['cpu']"
ks_done
