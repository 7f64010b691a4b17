#!/usr/bin/env python3
"""Writes load.csv, the report fixture's load: 9 servers, 14 days hourly
from Monday 2026-03-02 00:00 UTC. Run once; load.csv is checked in (the
golden files depend on it, not on this script's random numbers)."""
import random

T0 = 1772409600  # 2026-03-02T00:00:00Z, a Monday
DAYS = 14
rnd = random.Random(20260302)
rows = ["server,timestamp,cpu_mhz,mem_used[GiB],mem_total[GiB],disk_rd_bps[MB/s],"
        "disk_wr_bps[MB/s],net_rx_bps[MB/s],net_tx_bps[MB/s],cores,mhz"]


def add(name, cpu, mem, total, cores, mhz, disk=1.0, net=None, skip=lambda h: False):
    for h in range(DAYS * 24):
        if skip(h):
            continue
        hour, wday = h % 24, (h // 24) % 7  # wday 0 = Monday
        c = max(50.0, cpu(hour, wday) * (1 + rnd.uniform(-0.08, 0.08)))
        m = mem * (1 + rnd.uniform(-0.03, 0.03))
        d = disk * (1 + rnd.uniform(-0.2, 0.2))
        n = "" if net is None else "%.2f" % (net(hour, wday) * (1 + rnd.uniform(-0.1, 0.1)))
        rows.append("%s,%d,%.0f,%.2f,%d,%.2f,%.2f,%s,%s,%d,%d"
                    % (name, T0 + h * 3600, c, m, total, d * 0.6, d * 0.4, n, n, cores, mhz))


office = lambda hi, lo: (lambda h, d: hi if 8 <= h < 18 and d < 5 else lo)
night = lambda hi, lo: (lambda h, d: hi if h >= 22 or h < 5 else lo)
add("web01", office(5200, 700), 6, 16, 4, 2500, net=office(12, 1))
add("web02", office(4600, 600), 6, 16, 4, 2500, net=office(10, 1))
add("db01", lambda h, d: 3000 + (2500 if 8 <= h < 18 and d < 5 else 0), 24, 64, 8, 2600,
    disk=25.0)
add("batch01", night(7000, 500), 10, 32, 8, 2400, disk=8.0)
# app01: no data for three days (a gap the data-quality section shows)
add("app01", office(2500, 400), 4, 8, 2, 2500, skip=lambda h: 5 * 24 <= h < 8 * 24)
add("dns01", lambda h, d: 300, 1, 4, 2, 2000, net=lambda h, d: 0.5)
add("backup01", night(3000, 200), 8, 32, 4, 2400, disk=60.0)
add("infra01", lambda h, d: 800, 3, 8, 2, 2400)
# new01: only the last three days (too little data)
add("new01", office(1500, 300), 2, 8, 2, 2500, skip=lambda h: h < 11 * 24)
open("load.csv", "w").write("\n".join(rows) + "\n")
