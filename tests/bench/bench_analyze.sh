#!/bin/bash
# shellcheck disable=SC2015
# (SC2015: "A && B || die" is meant.)
# bench_analyze.sh: the whole 'kvmshift analyze' command (reading every RRD
# and facts file, the rules, sizing, packing every host model, the nights,
# writing plan.json) on a generated fleet imported into a fresh study, with
# its wall time, CPU time and peak memory; and the hosts it plans against
# its own lower bound and against plain peak-sum first-fit decreasing, the
# peer, computed from the same plan.json. Builds nothing (bench_analyze_gen
# is built with the project); run on demand, not a ctest test, and nothing
# here asserts a time. See README.md in this directory.
#
#   tests/bench/bench_analyze.sh [--bin PATH] [--gen PATH] [--servers N]
#                                [--days D] [--step S] [--chunk C]
#                                [--noise F] [--spikes F]
#                                [--models 1|2] [--n-plus-1] [--dir DIR]
#                                [--perf] [--keep-study] [--json FILE]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

BIN=$ROOT/build/cli/kvmshift
GEN=$ROOT/build/tests/bench_analyze_gen
SERVERS=10000
DAYS=30
STEP=3600
NOISE=1
SPIKES=1
CHUNK=1000
MODELS=2
NPLUS1=no
DIR=""
PERF=0
KEEP_STUDY=0
JSON=""

usage() {
    sed -n '4,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

die() {
    printf 'bench_analyze: %s\n' "$*" >&2
    exit 1
}

posint() {
    [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 wants a positive whole number, not '$2'"
}

abspath() {
    case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac
}

while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=${2:?--bin PATH}; shift 2 ;;
    --gen) GEN=${2:?--gen PATH}; shift 2 ;;
    --servers) SERVERS=${2:?--servers N}; shift 2 ;;
    --days) DAYS=${2:?--days D}; shift 2 ;;
    --step) STEP=${2:?--step S}; shift 2 ;;
    --chunk) CHUNK=${2:?--chunk C}; shift 2 ;;
    --noise) NOISE=${2:?--noise F}; shift 2 ;;
    --spikes) SPIKES=${2:?--spikes F}; shift 2 ;;
    --models) MODELS=${2:?--models 1|2}; shift 2 ;;
    --n-plus-1) NPLUS1=yes; shift ;;
    --dir) DIR=${2:?--dir DIR}; shift 2 ;;
    --perf) PERF=1; shift ;;
    --keep-study) KEEP_STUDY=1; shift ;;
    --json) JSON=${2:?--json FILE}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) printf 'bench_analyze: unknown argument %s\n' "$1" >&2; usage 2 ;;
    esac
done
posint --servers "$SERVERS"
posint --days "$DAYS"
posint --step "$STEP"
for f in "--noise $NOISE" "--spikes $SPIKES"; do
    [[ ${f#* } =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v x="${f#* }" 'BEGIN { exit !(x <= 10) }' ||
        die "${f% *} wants a number from 0 to 10, not '${f#* }'"
done
posint --chunk "$CHUNK"
[ "$STEP" -ge 60 ] && [ "$STEP" -le 86400 ] || die "--step wants 60 to 86400 seconds, not '$STEP'"
case $MODELS in 1 | 2) ;; *) die "--models wants 1 or 2, not '$MODELS'" ;; esac
BIN=$(abspath "$BIN")
GEN=$(abspath "$GEN")
[ -x "$BIN" ] || die "'$BIN' is missing: build the project, or pass --bin PATH"
[ -x "$GEN" ] || die "'$GEN' is missing: build the project (it builds tests/bench_analyze_gen), or pass --gen PATH"
if [ -n "$JSON" ]; then
    JSON=$(abspath "$JSON")
    : >"$JSON" || die "cannot write '$JSON'"
fi
if [ -n "$DIR" ]; then
    [ -d "$DIR" ] || die "--dir '$DIR' is not a directory"
    TMPDIR=$(cd "$DIR" && pwd)
    export TMPDIR
fi

ks_need jq awk df du
[ -x /usr/bin/time ] || die "GNU time is missing: apt-get install time"
[ $PERF = 0 ] || ks_need perf

# --keep-study keeps the whole work directory; KS_KEEP=1 alone keeps it
# without the study, which is large
[ $KEEP_STUDY = 0 ] || export KS_KEEP=1
ks_workdir
W=$KS_WORKDIR
S=$W/study
[ $KEEP_STUDY = 1 ] || ks_defer rm -rf "$S"

# ---- disk: the study must fit, with room to spare ---------------------------
# One RRD file: col_rrd_create_import's layout (one AVERAGE and one MAX row of
# 10 doubles per step, as long as the data, plus hourly rows beyond 95 days),
# or the collector's 7.8 MB below 300 s. Facts ~4 kB, plan.json ~1.6 kB, one
# CSV chunk ~70 bytes a row.
rows=$((DAYS * 86400 / STEP + 3))
if [ "$STEP" -lt 300 ]; then
    rrd_kb=7600
else
    hourly=0
    if [ "$STEP" -lt 3600 ] && [ $((3600 % STEP)) = 0 ] && [ "$DAYS" -gt 95 ]; then
        hourly=$((DAYS * 24 + 3))
        rows=$((95 * 86400 / STEP + 1))
    fi
    rrd_kb=$(((rows + hourly) * 160 / 1024 + 4))
fi
server_kb=$((rrd_kb + 4 + 2))
csv_kb=$((CHUNK * DAYS * 86400 * 70 / STEP / 1024))
need_kb=$(((SERVERS * server_kb + csv_kb) * 12 / 10))
have_kb=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
[ "$have_kb" -ge $((need_kb + 5 * 1024 * 1024)) ] ||
    die "$SERVERS servers need about $((need_kb / 1024)) MB in '$W' (and 5 GB left over), but only $((have_kb / 1024)) MB are free: pass --dir on a file system with room"
printf 'bench_analyze: work directory %s (%d MB free, about %d MB needed: %d kB per server)\n' \
    "$W" $((have_kb / 1024)) $((need_kb / 1024)) "$server_kb"

# ---- the study --------------------------------------------------------------
"$BIN" init "$S" >"$W/init.out" || die "kvmshift init failed (see $W/init.out)"
# The host of bench_pack, and a bigger one. Overheads as bench_pack's; no
# vCPU limit, so that peak-sum FFD (which knows no vCPUs) is a fair peer.
cat >>"$S/study.ini" <<INI

[policy]
n_plus_1 = $NPLUS1
vcpu_ratio = 0
host_cpu_overhead_mhz = 1000
host_memory_overhead_gib = 4
vm_memory_overhead_mib = 200

[host-model std]
cores = 32
mhz = 2600
memory_gib = 384
power_idle_w = 180
power_max_w = 450
cost = 12000
rack_units = 1
INI
if [ "$MODELS" = 2 ]; then
    cat >>"$S/study.ini" <<INI

[host-model big]
cores = 64
mhz = 2400
memory_gib = 1024
power_idle_w = 250
power_max_w = 750
cost = 26000
rack_units = 2
INI
fi

# ---- generate and import, chunk by chunk -----------------------------------
# Only one chunk's CSV exists at a time. Generating is timed apart: it is
# not kvmshift.
gen_s=0 imp_wall=0 imp_user=0 imp_sys=0 imp_rss=0 done_n=0 rows_total=0
t_format='%e %U %S %M'
while [ $done_n -lt "$SERVERS" ]; do
    n=$CHUNK
    [ $((done_n + n)) -le "$SERVERS" ] || n=$((SERVERS - done_n))
    csv=$W/chunk.csv
    /usr/bin/time -f "$t_format" -o "$W/time.gen" \
        "$GEN" --first $done_n --count "$n" --days "$DAYS" --step "$STEP" --noise "$NOISE" --spikes "$SPIKES" >"$csv" ||
        die "bench_analyze_gen failed"
    read -r w _ _ _ <"$W/time.gen"
    gen_s=$(awk -v a="$gen_s" -v b="$w" 'BEGIN { print a + b }')
    rows_total=$((rows_total + $(wc -l <"$csv") - 1))
    rc=0
    /usr/bin/time -f "$t_format" -o "$W/time.import" \
        "$BIN" import "$S" --format csv "$csv" -q --summary csv >"$W/import.csv" 2>"$W/import.err" || rc=$?
    [ $rc = 0 ] || die "kvmshift import exited $rc on servers $done_n.. (see $W/import.err)"
    read -r w u s m <"$W/time.import"
    imp_wall=$(awk -v a="$imp_wall" -v b="$w" 'BEGIN { print a + b }')
    imp_user=$(awk -v a="$imp_user" -v b="$u" 'BEGIN { print a + b }')
    imp_sys=$(awk -v a="$imp_sys" -v b="$s" 'BEGIN { print a + b }')
    [ "$m" -le "$imp_rss" ] || imp_rss=$m
    rm -f "$csv"
    done_n=$((done_n + n))
    if [ $done_n = "$n" ]; then
        # the first chunk: the real size per server, against what is left
        got_kb=$(du -sk "$S" | awk '{ print $1 }')
        per_kb=$((got_kb / n + 1))
        left_kb=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
        want_kb=$(((SERVERS - n) * per_kb * 12 / 10))
        [ "$left_kb" -ge $((want_kb + 5 * 1024 * 1024)) ] ||
            die "the first $n servers take $per_kb kB each: the other $((SERVERS - n)) would need $((want_kb / 1024)) MB and 5 GB left over, $((left_kb / 1024)) MB are free"
    fi
    printf '\rbench_analyze: imported %d of %d servers' $done_n "$SERVERS" >&2
done
printf '\n' >&2
study_kb=$(du -sk "$S" | awk '{ print $1 }')
rrd_kb_each=$(du -sk "$S/rrd" | awk -v n="$SERVERS" '{ printf "%.0f", $1 / n }')

# ---- analyze ----------------------------------------------------------------
rc=0
/usr/bin/time -v -o "$W/time.analyze" \
    "$BIN" analyze "$S" --format json -q >"$W/summary.json" 2>"$W/analyze.err" || rc=$?
[ $rc = 0 ] || die "kvmshift analyze exited $rc (see $W/analyze.err)"
tv() { sed -n "s/^[[:space:]]*$1: //p" "$W/time.analyze"; }
an_wall=$(tv 'Elapsed (wall clock) time (h:mm:ss or m:ss)' |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
an_user=$(tv 'User time (seconds)')
an_sys=$(tv 'System time (seconds)')
an_rss=$(tv 'Maximum resident set size (kbytes)')
plan_kb=$(du -k "$S/plan.json" | awk '{ print $1 }')

if [ $PERF = 1 ]; then
    # a second run, not timed: where the time goes
    perf record -g -o "$W/perf.data" -- "$BIN" analyze "$S" --format json -q \
        >/dev/null 2>"$W/perf.err" || die "perf record failed (see $W/perf.err)"
    perf report -i "$W/perf.data" --no-children --percent-limit 1 --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' >"$W/perf.top" || true
fi

# ---- the peer: peak-sum first-fit decreasing, from plan.json ----------------
# Every VM of a scenario (placed or not) at the peak of the series ana_pack
# packs: its highest hour x (1 + headroom), at most its vCPUs x the model's
# MHz (with cpu_cap = percentile: its CPU percentile x (1 + headroom), where
# the series is capped; no [cpu-speed] here, and the model's speed_factor),
# plus its memory and
# the per-VM overhead; hosts of the same limits and overheads; decreasing
# CPU peak, ties by name, each VM on the first host with room for both. A
# VM that fits no empty host is left out. N+1 is not modelled.
jq -r '
    . as $p
    | ($p.policy.percentile) as $pc
    | (($p.policy.cpu_cap // "percentile") == "percentile") as $capped
    | (if $capped | not then "max" elif $pc == 50 then "p50" elif $pc == 95 then "p95"
       elif $pc == 99 then "p99" elif $pc == 100 then "max"
       else error("percentile \($pc) is not in plan.json") end) as $q
    | (reduce $p.servers[] as $s ({}; .[$s.name] = $s)) as $by
    | $p.scenarios[]
    | .name as $sc | .host_model as $m
    | (reduce .placements[] as $x ({}; .[$x.server] = $x.vcpus)) as $vc
    | ([.placements[].server] + [.unplaced[].server])[]
    | $by[.] as $s
    | (($s.cpu_mhz[$q] // 0) / $m.speed_factor * (1 + $p.policy.headroom_percent / 100)) as $d
    | (($vc[.] // $s.vcpus // 0) * $m.mhz) as $bound
    | [$sc, .,
       (if $capped or $d < $bound then $d else $bound end),
       $s.memory_mib + $p.policy.vm_memory_overhead_mib,
       $m.cores * $m.mhz * $p.policy.cpu_max_percent / 100 - $p.policy.host_cpu_overhead_mhz,
       $m.memory_mib * $p.policy.memory_max_percent / 100 - $p.policy.host_memory_overhead_gib * 1024]
    | @tsv' "$S/plan.json" | sort -t$'\t' -k1,1 -k3,3gr -k2,2 |
    awk -F'\t' '
    function flush() {
        if (sc != "")
            printf "%s\t%d\t%d\t%d\t%d\n", sc, nh, skipped, int(mem / mcap + 0.999999999),
                int(cpus / cap + 0.999999999)
    }
    $1 != sc { flush(); sc = $1; nh = 0; skipped = 0; mem = 0; cpus = 0; delete hc; delete hm }
    {
        cpu = $3; m = $4; cap = $5; mcap = $6; mem += m; cpus += cpu
        if (cpu > cap || m > mcap) { skipped++; next }
        for (h = 0; h < nh; h++)
            if (hc[h] + cpu <= cap && hm[h] + m <= mcap)
                break
        if (h == nh) { nh++; hc[h] = 0; hm[h] = 0 }
        hc[h] += cpu; hm[h] += m
    }
    END { flush() }' >"$W/ffd.tsv"

# ---- report -----------------------------------------------------------------
cpus=$(nproc)
load=$(cut -d' ' -f1-3 /proc/loadavg)
printf '\nbench_analyze: %s servers x %s days of %s s rows (%s rows), %s host model(s), N+1 %s, noise x%s, spikes x%s\n' \
    "$SERVERS" "$DAYS" "$STEP" "$rows_total" "$MODELS" "$NPLUS1" "$NOISE" "$SPIKES"
printf 'machine: %s CPUs, load average %s at the end; kvmshift %s\n' "$cpus" "$load" "$BIN"
printf '\ngenerating the CSV (not kvmshift): %.1f s\n' "$gen_s"
printf 'import (%d run(s) of up to %d servers): wall %.1f s, CPU %.1f s (user %.1f + sys %.1f), peak RSS %.0f MiB\n' \
    $(((SERVERS + CHUNK - 1) / CHUNK)) "$CHUNK" "$imp_wall" "$(awk -v a="$imp_user" -v b="$imp_sys" 'BEGIN { print a + b }')" \
    "$imp_user" "$imp_sys" "$(awk -v k="$imp_rss" 'BEGIN { print k / 1024 }')"
printf 'study: %.1f MB (RRD files %s kB each)\n' "$(awk -v k="$study_kb" 'BEGIN { print k / 1024 }')" "$rrd_kb_each"
printf '\nANALYZE: wall %.1f s, CPU %.1f s (user %.1f + sys %.1f), peak RSS %.0f MiB; plan.json %.1f MB\n' \
    "$an_wall" "$(awk -v a="$an_user" -v b="$an_sys" 'BEGIN { print a + b }')" "$an_user" "$an_sys" \
    "$(awk -v k="$an_rss" 'BEGIN { print k / 1024 }')" "$(awk -v k="$plan_kb" 'BEGIN { print k / 1024 }')"
jq -r '"servers: \(.servers.total) (eligible \(.servers.eligible), conditional \(.servers.conditional), not eligible \(.servers.not_eligible)), \(.slots) slots of \(.slot_seconds) s; recommended: \(.recommended)"' \
    "$W/summary.json"
printf '\n%-8s %6s %6s %12s %4s %13s %11s %13s %14s\n' scenario VMs hosts "lower bound" gap "peak-sum FFD" "FFD/hosts" "memory bound" "sum of peaks"
jq -r '.scenarios[] | [.name, .placed + .unplaced, .placed, .hosts, .lower_bound, .sum_of_peaks_hosts] | @tsv' \
    "$W/summary.json" >"$W/scen.tsv"
mismatch=""
while IFS=$'\t' read -r name vms _ hosts lb peaks; do
    IFS=$'\t' read -r _ ffd _ membound ffdpeaks < <(awk -F'\t' -v n="$name" '$1 == n' "$W/ffd.tsv")
    # the peer's CPU sizes, added up, must give plan.json's own sum of peaks
    [ "${ffdpeaks:-x}" = "$(awk -v p="$peaks" 'BEGIN { printf "%d", p }')" ] ||
        mismatch="$mismatch $name (peer $ffdpeaks, plan.json $peaks)"
    printf '%-8s %6s %6s %12s %4s %13s %11s %13s %14s\n' "$name" "$vms" "$hosts" "$lb" \
        "$(awk -v h="$hosts" -v l="$lb" 'BEGIN { print h - l }')" "${ffd:-?}" \
        "$(awk -v f="${ffd:-0}" -v h="$hosts" 'BEGIN { printf "%.2f", h ? f / h : 0 }')" "${membound:-?}" "$peaks"
done <"$W/scen.tsv"
printf '(lower bound: ana_pack'"'"'s; memory bound: the sum of VM memory / usable memory per host;\n sum of peaks: plan.json'"'"'s sum_of_peaks_hosts, CPU peaks only; peak-sum FFD: see the script)\n'
[ -z "$mismatch" ] ||
    printf 'WARNING: the peer'"'"'s CPU peaks do not add up to plan.json'"'"'s sum of peaks:%s; its FFD figure is not comparable\n' "$mismatch"
if [ $PERF = 1 ]; then
    printf '\nperf (a second, untimed run), self time above 1 %%:\n'
    head -25 "$W/perf.top"
fi

[ $KEEP_STUDY = 0 ] || printf '\nthe study is kept: %s (%.0f MB; remove it when done)\n' "$S" \
    "$(awk -v k="$study_kb" 'BEGIN { print k / 1024 }')"

if [ -n "$JSON" ]; then
    jq -n --slurpfile sum "$W/summary.json" \
        --rawfile ffd "$W/ffd.tsv" \
        --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg bin "$BIN" --arg load "$load" \
        --argjson cpus "$cpus" --argjson servers "$SERVERS" --argjson days "$DAYS" \
        --argjson step "$STEP" --argjson chunk "$CHUNK" --argjson models "$MODELS" --argjson noise "$NOISE" --argjson spikes "$SPIKES" \
        --argjson nplus1 "$([ $NPLUS1 = yes ] && echo true || echo false)" \
        --argjson rows "$rows_total" --argjson gen "$gen_s" \
        --argjson iw "$imp_wall" --argjson iu "$imp_user" --argjson is "$imp_sys" --argjson ir "$imp_rss" \
        --argjson study_kb "$study_kb" --argjson rrd_kb "$rrd_kb_each" \
        --argjson aw "$an_wall" --argjson au "$an_user" --argjson asys "$an_sys" --argjson ar "$an_rss" '
        ($ffd | split("\n") | map(select(length > 0) | split("\t")
            | {key: .[0], value: {ffd: (.[1] | tonumber), ffd_left_out: (.[2] | tonumber),
                                  memory_bound: (.[3] | tonumber),
                                  sum_of_peaks: (.[4] | tonumber)}}) | from_entries) as $f
        | {benchmark: "analyze", date: $date, cpus: $cpus, load_average: $load, bin: $bin,
           servers: $servers, days: $days, step_s: $step, rows: $rows, chunk: $chunk,
           host_models: $models, n_plus_1: $nplus1, noise: $noise, spikes: $spikes, generate_s: $gen,
           import: {wall_s: $iw, user_s: $iu, sys_s: $is, cpu_s: ($iu + $is), peak_rss_kib: $ir,
                    study_kib: $study_kb, rrd_kib_each: $rrd_kb},
           analyze: {wall_s: $aw, user_s: $au, sys_s: $asys, cpu_s: ($au + $asys), peak_rss_kib: $ar},
           summary_servers: $sum[0].servers, slots: $sum[0].slots,
           scenarios: [$sum[0].scenarios[] | {name, vms: (.placed + .unplaced), placed, hosts,
                        lower_bound, sum_of_peaks_hosts,
                        peak_sum_ffd_hosts: $f[.name].ffd, memory_bound: $f[.name].memory_bound,
                        ratio_ffd_over_hosts: (if .hosts > 0 then $f[.name].ffd / .hosts else null end)}]}' \
        >"$JSON" || die "cannot write '$JSON'"
    printf '\nJSON: %s\n' "$JSON"
fi
