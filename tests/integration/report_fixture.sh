# shellcheck shell=bash
# report_fixture.sh: the fixed study of the report tests (sourced after
# checks.sh; BIN must be set).
#
#   ks_report_study DIR   make DIR from tests/data/report-study: its
#                         study.ini and inventory.csv, load.csv imported,
#                         and facts the importer cannot know (a DNS server's
#                         port 53, disks used for the migration estimates)

KS_REPORT_DATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/../data/report-study" && pwd)

ks_report_study() {
  local s=$1
  "$BIN" init "$s" >/dev/null || return 1
  cp "$KS_REPORT_DATA/study.ini" "$KS_REPORT_DATA/inventory.csv" "$s/" || return 1
  "$BIN" import "$s" --format csv "$KS_REPORT_DATA/load.csv" -q >/dev/null || return 1
  python3 - "$s" <<'PY'
import json, sys
s = sys.argv[1]
def patch(name, **kv):
    p = f"{s}/facts/{name}.json"
    f = json.load(open(p))
    f.update(kv)
    json.dump(f, open(p, "w"), indent=1)
fs = lambda gib: [{"device": "/dev/sda1", "type": "ext4", "mountpoint": "/",
                   "size_bytes": 2 * gib * 2**30, "used_bytes": gib * 2**30}]
patch("dns01", listening=[{"proto": "udp", "address": "0.0.0.0", "port": 53,
                           "process": "named", "pid": 1}])
patch("db01", filesystems=fs(300))
patch("web01", filesystems=fs(40))
patch("batch01", filesystems=fs(120))
PY
}

#   ks_report_study_large DIR N
#                         a study of N generated servers (3 days hourly,
#                         day and night loads) and a host model that holds
#                         only a few VMs each: above the report's thresholds
#                         for per-server pages (60 servers) and per-host
#                         pages (24 hosts) when N is 70 or more
ks_report_study_large() {
  local s=$1 n=$2
  "$BIN" init "$s" >/dev/null || return 1
  python3 - "$s/load.csv" "$n" <<'PY' || return 1
import sys
path, n = sys.argv[1], int(sys.argv[2])
t0 = 1772409600  # 2026-03-02T00:00:00Z
rows = ["server,timestamp,cpu_mhz,mem_used[GiB],mem_total[GiB],cores,mhz"]
for i in range(n):
    for h in range(72):
        busy = (8 <= h % 24 < 18) == (i % 2 == 0)
        cpu = (3000 if busy else 400) + 37 * (i % 11)
        rows.append(f"srv{i:03d},{t0 + h * 3600},{cpu},{2 + i % 5},16,4,2500")
open(path, "w").write("\n".join(rows) + "\n")
PY
  "$BIN" import "$s" --format csv "$s/load.csv" -q >/dev/null || return 1
  rm -f "$s/load.csv"
  cat >>"$s/study.ini" <<'INI'

[policy]
n_plus_1 = no

[host-model tiny]
cores = 4
mhz = 2500
memory_gib = 24
INI
}
