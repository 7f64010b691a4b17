# shellcheck shell=bash
# checks.sh: assertions for the integration tests (sourced after lib.sh).
#
#   ks_check DESC CMD...         CMD must succeed
#   ks_check_not DESC CMD...     CMD must fail
#   ks_check_near DESC A B TOL   |A - B| <= TOL (numbers, awk arithmetic)
#   ks_check_range DESC X LO HI  LO <= X <= HI
#   ks_rrd_last FILE DS          print the last value stored for DS in FILE
#   ks_study DIR                 kvmshift init DIR (BIN must be set)
#   ks_done                      print "N passed, N failed"; exit 1 if any failed

KS_PASSED=0
KS_FAILED=0

ks__pass() { KS_PASSED=$((KS_PASSED + 1)); echo "ok: $1"; }
ks__fail() { KS_FAILED=$((KS_FAILED + 1)); echo "FAILED: $1" >&2; }

ks_check() {
  local desc=$1; shift
  if "$@"; then ks__pass "$desc"; else ks__fail "$desc (command: $*)"; fi
}

ks_check_not() {
  local desc=$1; shift
  if "$@"; then ks__fail "$desc (command succeeded: $*)"; else ks__pass "$desc"; fi
}

ks_check_near() {
  local desc=$1 a=$2 b=$3 tol=$4
  if awk -v a="$a" -v b="$b" -v t="$tol" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; then
    ks__pass "$desc ($a vs $b, tolerance $tol)"
  else
    ks__fail "$desc: $a vs $b, tolerance $tol"
  fi
}

ks_check_range() {
  local desc=$1 x=$2 lo=$3 hi=$4
  if awk -v x="$x" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(x != "" && x != "U" && x + 0 >= lo && x + 0 <= hi) }'; then
    ks__pass "$desc ($x in [$lo, $hi])"
  else
    ks__fail "$desc: '$x' not in [$lo, $hi]"
  fi
}

ks_rrd_last() {
  local file=$1 ds=$2
  rrdtool lastupdate "$file" | awk -v ds="$ds" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i; next }
    NF > 1 { v = $(col + 1) } END { if (!col) exit 1; print (v == "U" ? "" : v) }'
}

ks_study() {
  "$BIN" init "$1" >/dev/null
}

ks_done() {
  echo "$KS_PASSED passed, $KS_FAILED failed"
  [ "$KS_FAILED" -eq 0 ]
}

# ks_ini_set FILE SECTION KEY VALUE: set KEY in [SECTION] (added after the
# section header; the section must exist, as in a study.ini from init).
ks_ini_set() {
  local file=$1 section=$2 key=$3 value=$4
  grep -q "^\[$section\]" "$file" || { echo "ERROR: no [$section] in $file" >&2; return 1; }
  sed -i "/^\[$section\]/a $key = $value" "$file"
}
