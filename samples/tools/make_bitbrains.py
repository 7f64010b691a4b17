#!/usr/bin/env python3
"""make_bitbrains.py: write the Bitbrains sample study (samples/bitbrains)
from the public GWA-T-12 Bitbrains trace (Grid Workloads Archive, TU Delft;
S. Shen, V. van Beek, A. Iosup, "Statistical Characterization of
Business-Critical Workloads Hosted in Cloud Datacenters", CCGrid 2015).

    python3 samples/tools/make_bitbrains.py [TARBALL [OUTDIR]]

TARBALL is bitbrains-rnd-2013-07-vm1-250.tar.xz (machines 1 to 250 of the
"Rnd" subset, July 2013; default: the project's shared/traces copy). Writes
  OUTDIR/inventory.csv          bb-1 ... bb-250, method import
  OUTDIR/facts/bb-N.json        what the trace says of each machine: CPU
                                cores, MHz per core, memory provisioned
  OUTDIR/data/bitbrains.csv.gz  one row per machine and hour, in the generic
                                CSV format of 'kvmshift import --format csv'
study.ini and README.md are written by hand. Only the Python standard
library is needed; the demo never runs this script.

From 5 minutes to an hour, keeping what the analyzer sees. The trace has a
row every 5 minutes (8,600 per machine, 213 MB unpacked); the sample keeps
one row per hour (about 720 per machine, a few MB compressed). The analyzer
sizes on slots of an hour, each holding the highest 5-minute average of its
hour (README "Analyzing a study"). So each hourly row here holds, per
column, the highest 5-minute average of its hour, computed as the RRD file
of a 'kvmshift import --format bitbrains' would hold it: a sample at t
stands for the interval since the previous sample (GAUGE; unknown when that
interval is longer than the heartbeat, 600 s), 1-minute values are
time-weighted means (unknown when more than 30 s of the minute are), and a
5-minute row is the mean of its known 1-minute values (unknown when 3 or
more of the 5 are). An hourly row at T covers (T - 3600, T]: imported with
its step of 3600 s, every 5-minute row of that hour holds its value, and the
analyzer's slot gets the same demand as from the full trace. An hour
without any 5-minute value gets a row with empty cells (unknown), so that a
gap stays a gap. Rows the importer would skip (repeated timestamps: the
first kept; unreadable or negative numbers) are skipped here too.

Columns: cpu_mhz (MHz, 1 decimal), mem_used and mem_total (MiB), disk and
network throughput (KiB/s, 1 decimal). Each column's maximum is taken on its
own, except disk read and write: both come from the 5-minute row of the hour
with the highest read + write, the sum the analyzer sizes on. cpu_pct is
left out: the analyzer reads cpu_mhz.
"""
import gzip
import io
import json
import math
import os
import re
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TARBALL = os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "shared", "traces", "bitbrains-rnd-2013-07-vm1-250.tar.xz"))
NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
HOUR = 3600
MIB = 1 << 20

# Columns of a Bitbrains file and what becomes of them
(TS, CORES, CAP_MHZ, CPU_MHZ, CPU_PCT, MEM_CAP, MEM_USED, DISK_RD, DISK_WR, NET_RX,
 NET_TX) = range(11)
# the values averaged and maxed: cpu_mhz, mem_used, mem_total, disk rd/wr, net rx/tx
KEPT = (CPU_MHZ, MEM_USED, MEM_CAP, DISK_RD, DISK_WR, NET_RX, NET_TX)


def read_rows(text):
    """Usable rows (time, [11 floats]) sorted by time, the first of
    repeated timestamps kept: what the importer stores."""
    rows = []
    lines = text.splitlines()
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        f = [x.strip() for x in line.split(";")]
        if len(f) != 11 or not all(NUMBER.match(x) for x in f):
            continue
        v = [float(x) for x in f]
        if any(x < 0 or math.isinf(x) for x in v):
            continue
        rows.append((int(v[TS]), n, v))
    rows.sort(key=lambda r: (r[0], r[1]))
    out, last = [], None
    for t, _, v in rows:
        if t != last:
            out.append((t, v))
            last = t
    return out


def common_step(rows):
    d = {}
    for (a, _), (b, _) in zip(rows, rows[1:]):
        d[b - a] = d.get(b - a, 0) + 1
    if not d:
        return 300
    best = max(d.values())
    return min(k for k, c in d.items() if c == best)


def hourly(rows):
    """{hour start: [max of each KEPT column over its 5-minute rows]}, and
    the range of hours between the first and last known 5-minute row."""
    step = common_step(rows)
    heartbeat = max(120, 2 * step)
    nk = len(KEPT)
    # 1-minute PDPs: known seconds and weighted sums, per minute index
    known, sums = {}, {}
    prev = rows[0][0] - step
    for t, v in rows:
        a = prev
        prev = t
        if t - a > heartbeat:
            continue  # stored as unknown
        vals = [v[k] for k in KEPT]
        m = a // 60
        while m * 60 < t:
            lo, hi = max(a, m * 60), min(t, m * 60 + 60)
            if hi > lo:
                w = hi - lo
                known[m] = known.get(m, 0) + w
                s = sums.get(m)
                if s is None:
                    s = sums[m] = [0.0] * nk
                for i in range(nk):
                    s[i] += w * vals[i]
            m += 1
    last_minute = rows[-1][0] // 60  # minutes ending after the last sample are not written
    pdp = {}
    for m, secs in known.items():
        if m + 1 > last_minute or 60 - secs > 30:
            continue
        pdp[m] = [x / secs for x in sums[m]]
    # 5-minute rows, indexed by their end / 300
    rows5 = {}
    for m in pdp:
        rows5.setdefault(m // 5 + 1, None)
    hours = {}
    for r in sorted(rows5):
        vals = [pdp[m] for m in range((r - 1) * 5, r * 5) if m in pdp]
        if len(vals) < 3:
            continue
        avg = [sum(x[i] for x in vals) / len(vals) for i in range(nk)]
        end = r * 300
        h = (end - 300) // HOUR * HOUR  # the row covers (end - 300, end]
        cur = hours.get(h)
        if cur is None:
            hours[h] = avg
            continue
        new = [max(x, y) for x, y in zip(cur, avg)]
        # disk read and write from the same 5-minute row, the one with the
        # most of both: the analyzer sizes on their sum
        i, j = KEPT.index(DISK_RD), KEPT.index(DISK_WR)
        if avg[i] + avg[j] <= cur[i] + cur[j]:
            new[i], new[j] = cur[i], cur[j]
        else:
            new[i], new[j] = avg[i], avg[j]
        hours[h] = new
    return hours


def facts(name, rows):
    cores = max(v[CORES] for _, v in rows)
    per_core = max(v[CAP_MHZ] / v[CORES] for _, v in rows if v[CORES] > 0)
    mem = max(v[MEM_CAP] for _, v in rows) * 1024
    c = int(round(cores))
    return {
        "name": name, "hostname": None,
        # the time of the trace's last row of the machine
        "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(rows[-1][0])),
        "os": {"id": None, "version_id": None, "pretty_name": None, "kernel": None, "arch": None},
        "cpu": {"model": None, "vendor": None, "sockets": None, "cores": c, "threads": c,
                "mhz": round(per_core, 3)},
        "memory": {"total_bytes": int(round(mem))},
        "disks": [], "lvm": [], "filesystems": [], "nfs_mounts": [], "nics": [],
        "boot_mode": None, "virtualization": None, "listening": [], "services": [],
        "hardware": {"usb": [], "fc_hbas": [], "gpus": []},
        "virtualization_blockers": [],
        "source": "sample:bitbrains GWA-T-12 rnd-2013-07",
    }


def fmt(x, decimals):
    s = "%.*f" % (decimals, x)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def main():
    tarball = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TARBALL
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "bitbrains")
    os.makedirs(os.path.join(out, "facts"), exist_ok=True)
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    files = {}
    with tarfile.open(tarball, "r:xz") as tar:
        for member in tar:
            m = re.search(r"(?:^|/)(\d+)\.csv$", member.name)
            if m and member.isfile():
                files[int(m.group(1))] = tar.extractfile(member).read().decode()
    text = io.StringIO()
    text.write("server,timestamp,cpu_mhz,mem_used[MiB],mem_total[MiB],disk_rd_bps[KiB/s],"
               "disk_wr_bps[KiB/s],net_rx_bps[KiB/s],net_tx_bps[KiB/s]\n")
    inv = ["# The Bitbrains sample: machines 1 to 250 of the GWA-T-12 Bitbrains trace",
           "# (Rnd subset, July 2013), hourly; see README.md. Method import: the data",
           "# is data/bitbrains.csv.gz. Written by samples/tools/make_bitbrains.py.",
           "name,address,method,port,user,key,role,group,tags"]
    for n in sorted(files):
        name = "bb-%d" % n
        rows = read_rows(files[n])
        if not rows:
            print("%s: no usable row, left out" % name, file=sys.stderr)
            continue
        inv.append("%s,,import,,,,,," % name)
        with open(os.path.join(out, "facts", name + ".json"), "w") as fh:
            json.dump(facts(name, rows), fh, indent=1)
            fh.write("\n")
        hours = hourly(rows)
        first, last = min(hours), max(hours)
        for h in range(first, last + HOUR, HOUR):
            v = hours.get(h)
            if v is None:
                text.write("%s,%d,,,,,,,\n" % (name, h + HOUR))
                continue
            cpu, mem, cap, rd, wr, rx, tx = v
            text.write("%s,%d,%s,%d,%d,%s,%s,%s,%s\n" % (
                name, h + HOUR, fmt(cpu, 1), round(mem / 1024), round(cap / 1024),
                fmt(rd, 1), fmt(wr, 1), fmt(rx, 1), fmt(tx, 1)))
    with open(os.path.join(out, "inventory.csv"), "w") as fh:
        fh.write("\n".join(inv) + "\n")
    with open(os.path.join(out, "data", "bitbrains.csv.gz"), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as gz:
            gz.write(text.getvalue().encode())


if __name__ == "__main__":
    main()
