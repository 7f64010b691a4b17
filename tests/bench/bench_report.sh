#!/bin/bash
# bench_report.sh: time and size of `kvmshift report` for a small study
# (the first 15 Bitbrains machines) and a large one (the 250 machines
# imported COPIES times under different prefixes: 2,000 servers by
# default), each against `kvmshift analyze` of the same study in the same
# run (the report builds the same plan, then draws and writes) and against
# the report without gnuplot (KS_GNUPLOT=/nonexistent: the cost of the
# charts). Run on demand, not a ctest test; nothing here asserts a time.
# See README.md in this directory.
#
#   tests/bench/bench_report.sh [--bin PATH] [--traces TARBALL] [--copies N]
#                               [--small N] [--keep]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

BIN=$ROOT/build/cli/kvmshift
TRACES=$(cd "$ROOT/.." && pwd)/shared/traces/bitbrains-rnd-2013-07-vm1-250.tar.xz
COPIES=8
SMALL=15
KEEP=0

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

die() {
    printf 'bench_report: %s\n' "$*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=${2:?--bin PATH}; shift 2 ;;
    --traces) TRACES=${2:?--traces TARBALL}; shift 2 ;;
    --copies) COPIES=${2:?--copies N}; shift 2 ;;
    --small) SMALL=${2:?--small N}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage 0 ;;
    *) printf 'bench_report: unknown argument %s\n' "$1" >&2; usage 2 ;;
    esac
done
[[ $COPIES =~ ^[0-9]+$ ]] && [ "$COPIES" -gt 0 ] || die "--copies wants a positive whole number"
[[ $SMALL =~ ^[0-9]+$ ]] && [ "$SMALL" -gt 0 ] && [ "$SMALL" -le 250 ] || die "--small wants 1 to 250"
[ -x "$BIN" ] || die "no kvmshift at '$BIN': build it, or give --bin"
[ -f "$TRACES" ] || die "no Bitbrains tarball at '$TRACES': give --traces"
command -v gnuplot >/dev/null || die "gnuplot is not installed (apt-get install gnuplot-nox)"

W=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX")
if [ "$KEEP" = 1 ]; then
    trap 'echo "kept $W"' EXIT
else
    trap 'rm -rf "$W"' EXIT
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

study() {
    local s=$1
    "$BIN" init "$s" >/dev/null
    # two host models (two scenarios, as a real study compares), the
    # default policy otherwise
    cat >>"$s/study.ini" <<'INI'

[host-model r650]
cores = 32
mhz = 2600
memory_gib = 384
power_idle_w = 180
power_max_w = 650
cost = 14000
rack_units = 1

[host-model r450]
cores = 16
mhz = 2400
memory_gib = 192
power_idle_w = 120
power_max_w = 400
cost = 8000
rack_units = 1
INI
}

# measure LABEL STUDY: analyze, report, report without gnuplot
measure() {
    local label=$1 s=$2 t ta tr tn n charts split
    t=$(now)
    "$BIN" analyze "$s" -q >/dev/null
    ta=$(since "$t")
    t=$(now)
    "$BIN" report "$s" -q >"$W/out" 2>"$W/err" || die "report of $label failed: $(cat "$W/err")"
    tr=$(since "$t")
    charts=$(sed -n 's/.*: \([0-9]*\) charts drawn, \([0-9]*\) not drawn/\1 drawn, \2 not drawn/p' "$W/out")
    split=$(sed -n 's/.* in [0-9.]* s (\(plan [^)]*\)).*/\1/p' "$W/out")
    local idx files total
    idx=$(stat -c %s "$s/report/index.html")
    files=$(find "$s/report" -type f | wc -l)
    total=$(du -sb "$s/report" | cut -f1)
    t=$(now)
    KS_GNUPLOT=/nonexistent "$BIN" report "$s" -q >/dev/null 2>&1 || die "report of $label without gnuplot failed"
    tn=$(since "$t")
    n=$(grep -vc '^#\|^name,' "$s/inventory.csv" || true)
    printf '%s: %s servers, charts %s\n' "$label" "$n" "$charts"
    printf '  analyze %6s s   report %6s s (%.1fx analyze)   report without gnuplot %6s s\n' \
        "$ta" "$tr" "$(awk -v a="$ta" -v r="$tr" 'BEGIN { print (a > 0 ? r / a : 0) }')" "$tn"
    printf '  report: %s\n' "$split"
    printf '  index.html %s MB   report/ %s MB in %s files\n' "$(mb "$idx")" "$(mb "$total")" "$files"
}

echo "bench_report: unpacking the traces"
tar -xJf "$TRACES" -C "$W"
SRC=$W/rnd-2013-07
[ -d "$SRC" ] || die "the tarball has no rnd-2013-07 directory"

mkdir -p "$W/small-src"
for i in $(seq 1 "$SMALL"); do cp "$SRC/$i.csv" "$W/small-src/"; done
study "$W/small"
"$BIN" import "$W/small" --format bitbrains "$W/small-src" -q >/dev/null
measure "small" "$W/small"

study "$W/large"
t=$(now)
for c in $(seq 1 "$COPIES"); do
    "$BIN" import "$W/large" --format bitbrains "$SRC" --prefix "c$c-" -q >/dev/null
done
echo "(import of $COPIES x 250 machines: $(since "$t") s)"
measure "large" "$W/large"
printf 'machine: %s cores, %s\n' "$(nproc)" "$(gnuplot --version)"
