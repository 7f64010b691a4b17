#!/usr/bin/env bash
# validate's load comparison on real workloads: the Bitbrains trace
# (../shared/traces, next to the repository; without it the test skips),
# each machine's month cut at Monday 2013-07-22 00:00 UTC: the three weeks
# before are the physical server (imported, then switched), the week after
# is its "VM" (imported into the switched server's new rrd/NAME.rrd):
#   - as it was: the VM does what the server did, in its own next week;
#   - "stopped": the same week with CPU and network at 5%, as when the
#     service no longer works.
# This script recomputes every load check's figures and verdict on its
# own, from `rrdtool fetch` of the two files (each hour's highest 5-minute
# average; the median of the physical server's same hour of the same
# weekday, else of the same hour, else of all hours; the means; the
# thresholds of `kvmshift validate --help`), and compares them with what
# kvmshift wrote, for every machine and metric. It prints the verdicts'
# counts: the figures for the issue note.
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need python3 rrdtool tar xz
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TARBALL=$REPO/../shared/traces/bitbrains-rnd-2013-07-vm1-250.tar.xz
[ -f "$TARBALL" ] || TARBALL=$REPO/../../shared/traces/bitbrains-rnd-2013-07-vm1-250.tar.xz
[ -f "$TARBALL" ] || ks_skip "no Bitbrains tarball next to the repository (shared/traces/)"
ks_workdir
W=$KS_WORKDIR
# the hours of the week are local time: UTC here, for this script's own
export TZ=UTC
N=${KS_TRACE_MACHINES:-60}
CUT=1374451200 # Monday 2013-07-22 00:00:00 UTC
files=()
for i in $(seq 1 "$N"); do files+=("rnd-2013-07/$i.csv"); done
tar -xJf "$TARBALL" -C "$W" "${files[@]}"

# before, after, and after with CPU and network at 5%
python3 - "$W" "$N" "$CUT" <<'EOF'
import os, sys
w, n, cut = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in ("before", "after", "stopped"):
    os.makedirs(f"{w}/{d}", exist_ok=True)
for i in range(1, n + 1):
    lines = open(f"{w}/rnd-2013-07/{i}.csv").read().splitlines()
    out = {d: [lines[0]] for d in ("before", "after", "stopped")}
    for line in lines[1:]:
        f = line.split(";\t")
        try:
            t = int(f[0])
        except ValueError:
            continue
        if t < cut:
            out["before"].append(line)
            continue
        out["after"].append(line)
        for k in (3, 4, 9, 10):  # CPU MHz and %, network in and out
            f[k] = repr(float(f[k]) * 0.05)
        out["stopped"].append(";\t".join(f))
    for d, rows in out.items():
        open(f"{w}/{d}/{i}.csv", "w").write("\n".join(rows) + "\n")
EOF

CUT_ISO=$(date -u -d "@$CUT" +%FT%TZ)
for variant in after stopped; do
    S=$W/study-$variant
    "$BIN" init "$S" >/dev/null
    "$BIN" init "$W/vm-$variant" >/dev/null
    # (a machine that starts after the cut, or ends before it, is not
    # imported on that side: exit 3, and it is left out below)
    set +e
    "$BIN" import "$S" --format bitbrains "$W/before" -q >/dev/null 2>&1
    "$BIN" import "$W/vm-$variant" --format bitbrains "$W/$variant" -q >/dev/null 2>&1
    set -e
    : >"$W/machines-$variant"
    for i in $(seq 1 "$N"); do
        [ -f "$S/rrd/bb-$i.rrd" ] && [ -f "$W/vm-$variant/rrd/bb-$i.rrd" ] || continue
        echo "$i" >>"$W/machines-$variant"
        "$BIN" validate "$S" "bb-$i" --switch --cutover "$CUT_ISO" >/dev/null
        cp "$W/vm-$variant/rrd/bb-$i.rrd" "$S/rrd/"
        set +e
        "$BIN" validate "$S" "bb-$i" --load-only --output json >"$S/validation/bb-$i.out.json" 2>"$W/err"
        rc=$?
        set -e
        [ $rc = 0 ] || [ $rc = 3 ] || { cat "$W/err"; ks_check "validate --load-only bb-$i ($variant)" false; }
    done
done

ks_check "every load check's figures and verdict, recomputed from rrdtool fetch" \
    env PYTHONPATH="$(dirname "$0")" python3 - "$W" "$N" "$CUT" <<'EOF'
import math, statistics, sys, time
from rrd_fetch import fetch
w, n, cut = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
FLOOR = {"load_cpu": 100.0, "load_memory": 128 * 2**20, "load_disk": 256 * 1024.0, "load_network": 32 * 1024.0}
FAILS = {"load_cpu": True, "load_memory": False, "load_disk": False, "load_network": True}

def known(x):
    return not math.isnan(x)

def add(a, b):
    if not known(a):
        return b
    if not known(b):
        return a
    return a + b

def hourly(path):
    """hour start -> metric -> highest 5-minute value; only hours with a CPU value"""
    h = {}
    for t, v in fetch(path, cut - 30 * 86400, cut + 10 * 86400):
        vals = {"cpu": v["cpu_mhz"], "load_cpu": v["cpu_mhz"], "load_memory": v["mem_used"],
                "load_disk": add(v["disk_rd_bps"], v["disk_wr_bps"]),
                "load_network": add(v["net_rx_bps"], v["net_tx_bps"])}
        start = (t - 300) // 3600 * 3600
        cur = h.setdefault(start, {k: math.nan for k in vals})
        for k, x in vals.items():
            if known(x) and (not known(cur[k]) or x > cur[k]):
                cur[k] = x
    return {t: v for t, v in h.items() if known(v["cpu"])}

def key(t):
    tm = time.gmtime(t)
    return (tm.tm_wday + 1) % 7 * 24 + tm.tm_hour  # Sunday 0, as struct tm's

bad = []
counts = {}
for variant in ("after", "stopped"):
    s = f"{w}/study-{variant}"
    machines = [int(x) for x in open(f"{w}/machines-{variant}").read().split()]
    print(f"{variant}: {len(machines)} of {n} machines on both sides of the cut")
    assert len(machines) >= 0.9 * n, machines
    for i in machines:
        import json
        r = json.load(open(f"{s}/validation/bb-{i}.out.json"))
        c = {x["check"]: x for x in r["checks"]}
        base = {t: v for t, v in hourly(f"{s}/physical/bb-{i}.rrd").items() if t + 3600 <= cut}
        vm = {t: v for t, v in hourly(f"{s}/rrd/bb-{i}.rrd").items() if t + 3600 > cut}
        cov = c["load_coverage"]["data"]
        if (cov["vm_hours"], cov["baseline_hours"]) != (len(vm), len(base)):
            bad.append((variant, i, "hours", cov, len(vm), len(base)))
            continue
        by_week, by_hour = {}, {}
        for bt, b in base.items():
            by_week.setdefault(key(bt), []).append(b)
            by_hour.setdefault(key(bt) % 24, []).append(b)
        for m in FLOOR:
            vm_sum = base_sum = 0.0
            hours = 0
            for t, v in vm.items():
                k = key(t)
                group = by_week.get(k) or by_hour.get(k % 24) or list(base.values())
                same = [b[m] for b in group]
                same = [x for x in same if known(x)]
                if not known(v[m]) or not same:
                    continue
                vm_sum += v[m]
                base_sum += statistics.median(same)
                hours += 1
            d = c[m]["data"]
            if hours != d["hours"]:
                bad.append((variant, i, m, "hours", hours, d))
                continue
            if not hours:
                continue
            vm_mean, base_mean = vm_sum / hours, base_sum / hours
            f = FLOOR[m]
            ratio = (vm_mean + f) / (base_mean + f)
            if abs(ratio - d["ratio"]) > 0.0006 or abs(vm_mean - d["vm_mean"]) > 1e-6 * max(1, vm_mean) \
                    or abs(base_mean - d["baseline_mean"]) > 1e-6 * max(1, base_mean):
                bad.append((variant, i, m, "figures", ratio, vm_mean, base_mean, d))
                continue
            if vm_mean < f and base_mean < f:
                want = "pass"
            elif ratio < 0.5:
                want = "fail" if FAILS[m] and ratio < 0.2 and base_mean >= 4 * f else "warn"
            elif ratio > 2 and vm_mean - base_mean > f:
                want = "warn"
            else:
                want = "pass"
            if c[m]["status"] != want:
                bad.append((variant, i, m, "status", want, c[m]["status"], ratio))
            counts.setdefault((variant, m), {}).setdefault(want, 0)
            counts[(variant, m)][want] += 1
for (variant, m), v in sorted(counts.items()):
    print(f"{variant:8s} {m:13s} " + ", ".join(f"{k} {v[k]}" for k in ("pass", "warn", "fail") if k in v))
for b in bad[:20]:
    print("MISMATCH", b)
sys.exit(1 if bad else 0)
EOF
# the service stopped: every machine whose VM did what the server did (its
# network passed as it was) and had a real network load to lose fails its
# stopped copy; the others are counted (a machine whose next week was much
# busier than its three before can still look normal at 5%)
ks_check "stopped: every machine that passed as it was, with a real network load, fails" \
    python3 - "$W" <<'EOF'
import json, sys
w = sys.argv[1]
def net(variant, i):
    c = {x["check"]: x for x in json.load(open(f"{w}/study-{variant}/validation/bb-{i}.out.json"))["checks"]}
    return c["load_network"]
real = caught = 0
seen = {"pass": 0, "warn": 0, "fail": 0}
for i in (int(x) for x in open(f"{w}/machines-stopped").read().split()):
    s, a = net("stopped", i), net("after", i)
    if not s["data"].get("hours") or s["data"]["baseline_mean"] < 4 * 32 * 1024:
        continue
    seen[s["status"]] += 1
    if a["status"] == "pass":
        real += 1
        caught += s["status"] == "fail"
print(f"machines with 128 kB/s of network or more, stopped: {seen}; of those that passed as they "
      f"were, {caught} of {real} fail stopped")
assert real > 0 and caught == real
EOF
ks_done
