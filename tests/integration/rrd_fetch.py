"""rrdtool fetch read by the integration tests, independently of kvmshift's
own RRD reader: rows of (end time, {data source: value}), NaN unknown."""
import math
import subprocess


def fetch(path, start, end="now", cf="AVERAGE", resolution=300):
    out = subprocess.run(["rrdtool", "fetch", path, cf, "-r", str(resolution), "-s", str(start), "-e", str(end)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    names = out[0].split()
    rows = []
    for line in out[1:]:
        if ":" not in line:
            continue
        t, vals = line.split(":", 1)
        v = [float(x) if x.strip().lower() not in ("nan", "-nan") else math.nan for x in vals.split()]
        rows.append((int(t), dict(zip(names, v))))
    return rows
