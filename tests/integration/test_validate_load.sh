#!/usr/bin/env bash
# After the move: a server switched to its "VM", the VM sampled by the real
# collector, and its load compared with the physical server's history.
# The physical server is two weeks of imported load (a constant, busy
# network); the VM is this machine, behind a second sshd on loopback with
# the same host key (a VM has its server's keys), at another port than the
# server's.
#   - validate --load-only before the switch: refused, nothing written;
#   - validate --switch --address/--port --cutover: the RRD history and the
#     facts moved to physical/ (the RRD byte for byte), the inventory line
#     at the VM's port, the server's known host key copied there; a second
#     switch changes nothing;
#   - kvmshift collect (without --accept-new-hostkeys: the copied key must
#     be what lets it in) until the VM's new rrd/web.rrd has a 5-minute
#     row (at most 600 s), with steal;
#   - validate --load-only: the checks of the last validation kept, the load
#     checks added: the network far below the baseline fails (this machine
#     moves next to nothing on its NICs against 50 MB/s), the coverage warns
#     (under a day), exit 3; the VM's figures recomputed by this script
#     from `rrdtool fetch` (each hour's highest 5-minute average, their
#     mean), the baseline's from the imported numbers.
# How long to collect: RRD keeps a 5-minute row when at least half of its
# seconds are known, and writes it only once an update passes its end. A
# run starting 100 s before a row's end leaves that row unknown and needs
# more than 400 s to end the next: with a fixed 400 s (this test until
# 2026-12-05) a start 90 to 150 s before a row's end, about one in five,
# left no row at all.
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need_root
ks_need sshd ssh-keygen rrdtool python3 sha256sum
ks_workdir
W=$KS_WORKDIR
ks_keygen "$W/client"
P_SRC=$(ks_free_ports 2)
P_VM=$((P_SRC + 1))
ks_sshd_start web 127.0.0.1 "$P_SRC"
# the VM: the same host key, another sshd
ks_sshd_stop web
mkdir -p "$W/sshd/webvm"
cp "$W/sshd/web/ssh_host_ed25519_key" "$W/sshd/web/ssh_host_ed25519_key.pub" "$W/sshd/webvm/"

S=$W/study
ks_study "$S"
ks_inventory_line web 127.0.0.1 "$P_SRC" "$KS_CLIENT_KEY" web >>"$S/inventory.csv"
ks_inventory_line db 127.0.0.1 "$(ks_free_ports 1 24000)" "$KS_CLIENT_KEY" db >>"$S/inventory.csv"
# the physical server's facts and host key, as the collector takes them
ks_sshd_start web 127.0.0.1 "$P_SRC"
"$BIN" facts "$S" --only web --accept-new-hostkeys -q >/dev/null
ks_sshd_stop web
ks_check "facts of the physical server taken" test -f "$S/facts/web.json"

# a collector running when the server is switched stops sampling it (its
# history moved, its line may have: its samples would not be the server's)
S0=$W/running
ks_study "$S0"
ks_inventory_line web 127.0.0.1 "$P_SRC" "$KS_CLIENT_KEY" web >>"$S0/inventory.csv"
ks_sshd_start web 127.0.0.1 "$P_SRC"
ks_run "$BIN" collect "$S0" --interval 2 --duration 60 --accept-new-hostkeys
collector=$KS_LAST_PID collector_log=$KS_LAST_LOG
for _ in $(seq 1 60); do
    [ "$(rrdtool lastupdate "$S0/rrd/web.rrd" 2>/dev/null | tail -1 | awk '{ print $2 }')" != "" ] &&
        [ "$(rrdtool lastupdate "$S0/rrd/web.rrd" | tail -1 | awk '{ print $2 }')" != U ] && break
    sleep 0.5
done
"$BIN" validate "$S0" web --switch -q >/dev/null
for _ in $(seq 1 40); do kill -0 "$collector" 2>/dev/null || break; sleep 0.5; done
ks_check "a running collector: the switched server stopped" grep -q "'web' was switched to its VM after this collector started" "$collector_log"
ks_check "... and no file written for it again" test ! -e "$S0/rrd/web.rrd"
ks_check "... its state file says why" grep -q "switched to its VM" "$S0/state/web.json"
kill -0 "$collector" 2>/dev/null && ks_kill "$collector"
ks_sshd_stop web
ks_check "its host key recorded" grep -q "^\[127.0.0.1\]:$P_SRC " "$S/known_hosts"

# two weeks of the physical server up to the cutover, an hour ago: 50 MB/s
# of network, 4000 MHz of CPU, every 5 minutes
CUT=$(($(date +%s) / 300 * 300 - 3600))
python3 - "$W/load.csv" "$CUT" <<'EOF'
import sys
cut = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    f.write("server,timestamp,cpu_pct,cpu_mhz,mem_used[MiB],mem_total[MiB],disk_rd_bps,disk_wr_bps,net_rx_bps,net_tx_bps,cores,mhz\n")
    for t in range(cut - 14 * 86400, cut, 300):
        f.write(f"web,{t},50,4000,2048,8192,1000000,1000000,25000000,25000000,4,2000\n")
EOF
# (into a scratch study: an import never touches a collected server's files)
"$BIN" init "$W/imp" >/dev/null
"$BIN" import "$W/imp" --format csv "$W/load.csv" -q >/dev/null
cp "$W/imp/rrd/web.rrd" "$S/rrd/web.rrd"
ks_check "the physical history imported" test -f "$S/rrd/web.rrd"
phys_sum=$(sha256sum <"$S/rrd/web.rrd")

set +e
"$BIN" validate "$S" web --load-only >"$W/out" 2>"$W/err"
rc=$?
set -e
ks_check "--load-only before the switch: exit 1" test "$rc" -eq 1
ks_check "... saying the server is not switched" grep -q "has not been switched" "$W/err"
ks_check "... and writing nothing" test ! -e "$S/validation/web.json"
set +e
"$BIN" validate "$S" web --cutover 2026-01-01T00:00:00Z >/dev/null 2>"$W/err"
rc=$?
set -e
ks_check "--cutover without --switch: usage error" test "$rc" -eq 2

CUT_ISO=$(date -u -d "@$CUT" +%FT%TZ)
"$BIN" validate "$S" web --switch --address 127.0.0.1 --port "$P_VM" --cutover "$CUT_ISO" \
    --output json >"$W/switch.json"
ks_check "switch: the record" python3 - "$W/switch.json" "$CUT_ISO" "$P_VM" "$P_SRC" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["cutover_at"] == sys.argv[2], r
assert r["port"] == int(sys.argv[3]) and r["port_before"] == int(sys.argv[4]), r
assert r["physical_rrd"] == "physical/web.rrd" and r["physical_facts"] == "physical/web.facts.json", r
assert r["host_keys"] == 1 and "already" not in r, r
EOF
ks_check "switch: the history moved to physical/, byte for byte" \
    sh -c "test ! -e '$S/rrd/web.rrd' && test \"\$(sha256sum <'$S/physical/web.rrd')\" = '$phys_sum'"
ks_check "switch: the facts moved, the baseline kept" \
    sh -c "test ! -e '$S/facts/web.json' && test -f '$S/physical/web.facts.json' && test -f '$S/validation/web.baseline.json'"
ks_check "switch: web's inventory line at the VM's port" grep -q "^web,127.0.0.1,ssh,$P_VM," "$S/inventory.csv"
ks_check "switch: db's line unchanged" grep -q "^db,127.0.0.1,ssh,[0-9]*,root" "$S/inventory.csv"
ks_check "switch: the host key known at the VM's port too" \
    sh -c "test \"\$(grep '^\[127.0.0.1\]:$P_VM ' '$S/known_hosts' | cut -d' ' -f2-)\" = \"\$(grep '^\[127.0.0.1\]:$P_SRC ' '$S/known_hosts' | cut -d' ' -f2-)\""
cp "$S/inventory.csv" "$W/inv.after"
"$BIN" validate "$S" web --switch --port 1 >"$W/out"
ks_check "a second switch: switched already, nothing changed" \
    sh -c "grep -q 'switched already' '$W/out' && cmp -s '$S/inventory.csv' '$W/inv.after'"

# the checks of an earlier validation, which --load-only keeps
cat >"$S/validation/web.json" <<EOF
{"server": "web", "address": "127.0.0.1", "port": $P_VM, "verdict": "pass",
 "checks": [{"check": "hostname", "status": "pass", "summary": "web", "evidence": []}]}
EOF

# the VM: collected, without accepting new host keys, until its file holds
# a 5-minute row with the CPU known (at most 600 s: 450 s always make one)
ks_sshd_start webvm 127.0.0.1 "$P_VM"
ks_run "$BIN" collect "$S" --only web --interval 10 --duration 600
collector=$KS_LAST_PID collector_log=$KS_LAST_LOG
have_row() {
    env PYTHONPATH="$(dirname "$0")" python3 - "$S/rrd/web.rrd" "$CUT" <<'EOF' 2>/dev/null
import math, sys
from rrd_fetch import fetch
sys.exit(0 if any(not math.isnan(v["cpu_pct"]) for _, v in fetch(sys.argv[1], int(sys.argv[2]))) else 1)
EOF
}
for _ in $(seq 1 125); do
    kill -0 "$collector" 2>/dev/null || break
    [ -f "$S/rrd/web.rrd" ] && have_row && break
    sleep 5
done
if ! have_row; then
    tail -n 20 "$collector_log"
    cat "$S/state/web.json" 2>/dev/null || true
fi
ks_check "the VM sampled: a 5-minute row with its CPU known" have_row
kill -0 "$collector" 2>/dev/null && ks_kill "$collector"
ks_sshd_stop webvm
ks_check "the VM collected into a new rrd/web.rrd" test -f "$S/rrd/web.rrd"
# (the RRD file alone proves nothing: the store makes it before any login;
# the facts were moved aside by the switch, so new ones mean a login with
# the copied host key, no --accept-new-hostkeys given)
ks_check "... logged in with the copied host key: the VM's facts taken on first contact" test -f "$S/facts/web.json"

set +e
"$BIN" validate "$S" web --load-only --output json >"$W/load.json" 2>"$W/err"
rc=$?
set -e
cat "$W/err"
ks_check "--load-only: exit 3 (a check failed)" test "$rc" -eq 3
ks_check "--load-only: the earlier checks kept, the load checks added, the network's drop failed" \
    python3 - "$W/load.json" "$CUT" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
c = {x["check"]: x for x in r["checks"]}
print({k: (v["status"], v["summary"]) for k, v in c.items()})
assert c["hostname"]["status"] == "pass", c
want = ["load_coverage", "load_cpu", "load_memory", "load_disk", "load_network", "load_saturation", "load_steal"]
assert all(k in c for k in want), list(c)
assert c["load_coverage"]["status"] == "warn", c["load_coverage"]
assert c["load_network"]["status"] == "fail", c["load_network"]
assert r["verdict"] == "fail", r["verdict"]
assert c["load_coverage"]["data"]["vm_hours"] >= 1, c["load_coverage"]
# the hours of 14 days of rows wholly before the cutover: a row ending at t
# covers (t - 300, t]; 337 when the cutover is on the hour (the first row
# is in the hour before), else 336 (the cutover's own hour left out)
cut = int(sys.argv[2])
hours = len({h for h in ((t - 300) // 3600 for t in range(cut - 14 * 86400, cut, 300))
             if (h + 1) * 3600 <= cut})
assert c["load_coverage"]["data"]["baseline_hours"] == hours, (c["load_coverage"], hours)
EOF

# the same figures by a second method: rrdtool fetch of both files
ks_check "the VM's network and steal, and the baseline's network, as rrdtool gives them" \
    env PYTHONPATH="$(dirname "$0")" python3 - "$W/load.json" "$S" "$CUT" <<'EOF'
import json, math, sys
from rrd_fetch import fetch
r = json.load(open(sys.argv[1]))
study, cut = sys.argv[2], int(sys.argv[3])
c = {x["check"]: x for x in r["checks"]}
# a row ending at t covers (t - 300, t]: its hour is that of t - 300
hours = {}
for t, v in fetch(f"{study}/rrd/web.rrd", cut):
    if math.isnan(v["cpu_pct"]):
        continue
    h = (t - 300) // 3600
    net = sum(x for x in (v["net_rx_bps"], v["net_tx_bps"]) if not math.isnan(x))
    cur = hours.setdefault(h, [-1.0, -1.0])
    cur[0] = max(cur[0], net)
    cur[1] = max(cur[1], v["cpu_steal_pct"])
net = [x[0] for x in hours.values()]
vm_mean = sum(net) / len(net)
d = c["load_network"]["data"]
print("VM hours", len(hours), "net mean", vm_mean, "kvmshift", d["vm_mean"], "steal", c["load_steal"].get("data"))
assert d["hours"] == len(hours) == c["load_coverage"]["data"]["vm_hours"], (d, hours)
assert abs(d["vm_mean"] - vm_mean) <= 1e-6 * max(1.0, vm_mean), (d, vm_mean)
assert abs(d["baseline_mean"] - 50e6) < 1, d
steal = max(x[1] for x in hours.values())
assert abs(c["load_steal"]["data"]["max_pct"] - steal) < 1e-6, (c["load_steal"], steal)
EOF
ks_done
