#!/usr/bin/env python3
"""Every host of every scenario of a plan, hour by hour, on the load its VMs
really measured: an independent check of `kvmshift analyze`, by its own
reading of the study (rrdtool fetch, study.ini, plan.json), with none of
kvmshift's code.

    host_hours.py STUDY [--variant PLAN.json STUDY.ini]... [--json FILE] [--raw]

Without --variant: STUDY/plan.json with STUDY/study.ini. Each --variant is
a plan made from this study's files under another study.ini (its RRD files
are read once for all).

A VM's demand in an hour is the highest 5-minute CPU average of its server
in that hour (cpu_mhz, or cpu_pct x the facts' cores x MHz where cpu_mhz is
unknown), in MHz of its host's model: x the source's [cpu-speed] factor /
the model's speed_factor x (1 + headroom), and at most what the VM can
draw there: its vCPUs x the model's MHz, or its CPU quota (plan.json
placements' cpu_quota_mhz) when it has one. A host's limit is cores x MHz
x cpu_max_percent - host_cpu_overhead_mhz. Only the hours a VM was measured
count (the analyzer fills the others with typical values). Exits 1 when a
host-hour is over its limit (by more than 0.01 %), printing each.

--raw sums the servers' measured demand as it was, without headroom and
without the vCPU bound: what the hosts would carry if every VM could draw
all its server did (figures for comparison, not what the plan promises).
"""
import configparser
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rrd_fetch import fetch  # noqa: E402


def read_ini(path):
    cp = configparser.ConfigParser(interpolation=None, strict=False,
                                   inline_comment_prefixes=("#", ";"))
    cp.read(path)
    return cp


def rows_of(study, name, start, end):
    """[(row start, source MHz or NaN)] of a server, and its facts' CPU."""
    rrd = None
    for p in (os.path.join(study, "physical", name + ".rrd"), os.path.join(study, "rrd", name + ".rrd")):
        if os.path.exists(p):
            rrd = p
            break
    facts = None
    for p in (os.path.join(study, "physical", name + ".facts.json"), os.path.join(study, "facts", name + ".json")):
        if os.path.exists(p):
            facts = json.load(open(p))
            break
    cpu = (facts or {}).get("cpu") or {}
    cap = (cpu.get("cores") or 0) * (cpu.get("mhz") or 0)
    out = []
    prev = None
    for t, v in (fetch(rrd, start, end) if rrd else []):
        rstep = t - prev if prev is not None else 300
        prev = t
        mhz = v.get("cpu_mhz", math.nan)
        if math.isnan(mhz) and cap and not math.isnan(v.get("cpu_pct", math.nan)):
            mhz = v["cpu_pct"] / 100 * cap
        if not math.isnan(mhz):
            out.append((t - rstep, mhz))
    return out, (cpu.get("model") or "").lower()


def main():
    study = sys.argv[1]
    out_json = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    raw = "--raw" in sys.argv
    variants = [(sys.argv[i + 1], sys.argv[i + 2]) for i, a in enumerate(sys.argv) if a == "--variant"]
    if not variants:
        variants = [(os.path.join(study, "plan.json"), os.path.join(study, "study.ini"))]
    cache = {}
    report = []
    bad = 0
    for plan_path, ini_path in variants:
        b, r = check(study, plan_path, ini_path, raw, cache)
        bad += b
        report += r
    if out_json:
        json.dump(report, open(out_json, "w"), indent=1)
    return 1 if bad else 0


def check(study, plan_path, ini_path, raw, cache):
    """Every host-hour of one plan: (host-hours over, per-scenario figures)."""
    plan = json.load(open(plan_path))
    ini = read_ini(ini_path)
    pol = plan["policy"]
    headroom = pol["headroom_percent"] / 100 if not raw else 0
    cpu_max = pol["cpu_max_percent"] / 100
    host_ovh = pol.get("host_cpu_overhead_mhz", 0) or 0
    models = {}
    for sec in ini.sections():
        if sec.startswith("host-model "):
            m = ini[sec]
            models[sec[len("host-model "):].strip()] = {
                "cores": float(m["cores"]), "mhz": float(m["mhz"]),
                "speed": float(m.get("speed_factor", "1")),
            }
    speed_rules = [(ini[s]["match"].lower(), float(ini[s]["factor"]))
                   for s in ini.sections() if s.startswith("cpu-speed ")]
    start = plan["slot_start"]
    step = plan["slot_seconds"]
    nslots = plan["slots"]
    print(f"{plan_path}: cpu_cap {pol.get('cpu_cap', 'vcpus')}, percentile {pol['percentile']}, "
          f"headroom {pol['headroom_percent']} %" + (" (--raw: no headroom, no bound)" if raw else ""))

    def hours_of(name):
        """{slot: source MHz} of the hours the server was measured, and its speed factor."""
        key = (name, start, nslots)
        if key not in cache:
            cache[key] = rows_of(study, name, start - 300, start + nslots * step)
        rows, model = cache[key]
        speed = next((f for m, f in speed_rules if m in model), 1.0) if model else 1.0
        slots = {}
        for t0, mhz in rows:
            if start <= t0 < start + nslots * step:
                k = (t0 - start) // step
                slots[k] = max(slots.get(k, 0.0), mhz)
        return slots, speed

    report = []
    bad = 0
    for sc in plan["scenarios"]:
        hosts = {h["name"]: h for h in sc["hosts"]}
        load = {h: {} for h in hosts}
        for pl in sc["placements"]:
            h = hosts[pl["host"]]
            m = models[h["model"]]
            slots, speed = hours_of(pl["server"])
            bound = pl["vcpus"] * m["mhz"] if not raw else math.inf
            quota = pl.get("cpu_quota_mhz")
            if quota is not None and not raw:
                bound = min(bound, quota)
            for k, mhz in slots.items():
                d = min(mhz * speed / m["speed"] * (1 + headroom), bound)
                load[pl["host"]][k] = load[pl["host"]].get(k, 0.0) + d
        worst = (0.0, None, None)
        over = []
        host_hours = 0
        for name, per in load.items():
            m = models[hosts[name]["model"]]
            limit = m["cores"] * m["mhz"] * cpu_max - host_ovh
            for k, v in per.items():
                host_hours += 1
                share = v / limit
                if share > worst[0]:
                    worst = (share, name, k)
                if share > 1.0001:
                    over.append((name, k, share))
        bad += len(over)
        worst_t = start + worst[2] * step if worst[1] else None
        print(f"scenario {sc['name']}: {len(hosts)} hosts, {host_hours} host-hours with a measured VM, "
              f"{len(over)} over the limit; busiest {worst[1]} at {100 * worst[0]:.1f} % of its limit"
              + (f" (slot {worst[2]}, t={worst_t})" if worst[1] else ""))
        for name, k, share in sorted(over, key=lambda x: -x[2])[:20]:
            print(f"  OVER: {name} slot {k} (t={start + k * step}): {100 * share:.1f} % of its limit")
        report.append({"plan": plan_path, "scenario": sc["name"], "hosts": len(hosts),
                       "host_hours": host_hours, "over": len(over), "busiest_host": worst[1],
                       "busiest_percent_of_limit": 100 * worst[0], "busiest_slot": worst[2]})
    return bad, report


if __name__ == "__main__":
    sys.exit(main())
