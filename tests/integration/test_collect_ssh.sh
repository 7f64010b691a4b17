#!/usr/bin/env bash
# A real sshd on 127.0.0.1: kvmshift collect --once and an interval run,
# values checked against /proc read by this script in the same seconds.
#
# Tolerances, and why:
# - mem_total: exact (MemTotal does not move).
# - mem_used: 5% of MemTotal (other processes allocate while we measure).
# - cpu_pct: 20 points. A burner keeps one core busy during the whole
#   window; this script's own reading spans the collector's window plus the
#   connection set-up, on a shared 2-core machine.
# - cpu_mhz: 1% of cpu_pct/100 x cores x MHz (the same numbers, rounded).
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need_root
ks_need sshd ssh-keygen rrdtool python3
ks_workdir
ks_keygen "$KS_WORKDIR/client"
port=$(ks_free_ports 1)
ks_sshd_start web01 127.0.0.1 "$port"

S=$KS_WORKDIR/study
ks_study "$S"
ks_inventory_line web01 127.0.0.1 "$port" "$KS_CLIENT_KEY" web >>"$S/inventory.csv"

cpu_ticks() { awk '/^cpu / { print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9, $9; exit }' /proc/stat; }

# one core kept busy for the whole measurement
ks_run sh -c 'while :; do :; done'
burner=$KS_LAST_PID
sleep 0.5
read -r b0 t0 s0 < <(cpu_ticks)
"$BIN" collect "$S" --once --window 3 --accept-new-hostkeys --format json >"$KS_WORKDIR/once.json"
rc=$?
read -r b1 t1 s1 < <(cpu_ticks)
ks_kill "$burner"
mem_total=$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
mem_used=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { printf "%.0f\n", (t - a) * 1024 }' /proc/meminfo)
cpu_ref=$(awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN { print 100 * b / t }')
steal_ref=$(awk -v s="$((s1 - s0))" -v t="$((t1 - t0))" 'BEGIN { print 100 * s / t }')

R=$S/rrd/web01.rrd
ks_check "collect --once exits 0" test "$rc" -eq 0
ks_check "RRD file created" test -f "$R"
ds=$(rrdtool lastupdate "$R" | head -1 | xargs)
ks_check "RRD has the documented data sources" test "$ds" = "cpu_pct cpu_mhz mem_used mem_total disk_rd_bps disk_wr_bps disk_rd_iops disk_wr_iops net_rx_bps net_tx_bps cpu_steal_pct"
ks_check "RRD data sources are GAUGEs" test "$(rrdtool info "$R" | grep -c 'type = "GAUGE"')" = 11
ks_check "RRD step is 60 s" test "$(rrdtool info "$R" | sed -n 's/^step = //p')" = 60
ks_check "RRD has 1-min/8-day MAX archive" sh -c "rrdtool info '$R' | grep -q 'rra\[3\].cf = \"MAX\"' && rrdtool info '$R' | grep -q 'rra\[3\].rows = 11520'"
ks_check "RRD has 1-hour/400-day AVERAGE archive" sh -c "rrdtool info '$R' | grep -q 'rra\[2\].rows = 9600' && rrdtool info '$R' | grep -q 'rra\[2\].pdp_per_row = 60'"

ks_check_near "mem_total equals MemTotal" "$(ks_rrd_last "$R" mem_total)" "$mem_total" 1
ks_check_near "mem_used near MemTotal-MemAvailable" "$(ks_rrd_last "$R" mem_used)" "$mem_used" "$((mem_total / 20))"
cpu=$(ks_rrd_last "$R" cpu_pct)
ks_check_near "cpu_pct near /proc/stat over the same seconds" "$cpu" "$cpu_ref" 20
ks_check_range "cpu_pct shows the busy core" "$cpu" 40 100
# steal: what this machine's hypervisor took, 0 on most runs; 10 points
ks_check_near "cpu_steal_pct near /proc/stat's steal over the same seconds" \
  "$(ks_rrd_last "$R" cpu_steal_pct)" "$steal_ref" 10

F=$S/facts/web01.json
ks_check "facts taken on first contact" test -f "$F"
fact() { python3 -c "import json,sys; d=json.load(open('$F')); print(eval(sys.argv[1]))" "$1"; }
ks_check "facts: threads = nproc" test "$(fact "d['cpu']['threads']")" = "$(nproc)"
ks_check "facts: memory = MemTotal" test "$(fact "d['memory']['total_bytes']")" = "$mem_total"
ks_check "facts: kernel = uname -r" test "$(fact "d['os']['kernel']")" = "$(uname -r)"
ks_check "facts: sshd seen listening on our port" test "$(fact "[l['process'] for l in d['listening'] if l['port'] == $port][0]")" = sshd
ks_check "facts: a file system on /" test "$(fact "[f['mountpoint'] for f in d['filesystems'] if f['mountpoint'] == '/'][0]")" = /
cap=$(fact "d['cpu']['cores'] * d['cpu']['mhz']")
ks_check_near "cpu_mhz = cpu_pct x cores x MHz" "$(ks_rrd_last "$R" cpu_mhz)" \
  "$(awk -v c="$cpu" -v m="$cap" 'BEGIN { print c / 100 * m }')" "$(awk -v m="$cap" 'BEGIN { print m / 100 }')"
for d in disk_rd_bps disk_wr_bps disk_rd_iops disk_wr_iops net_rx_bps net_tx_bps; do
  ks_check_range "$d is a rate" "$(ks_rrd_last "$R" "$d")" 0 1e12
done
ks_check "JSON summary says ok" python3 -c "
import json; r = json.load(open('$KS_WORKDIR/once.json'))
assert r[0]['name'] == 'web01' and r[0]['ok'] and r[0]['error'] is None
assert abs(r[0]['last']['cpu_pct'] - $cpu) < 0.01"

# An interval run long enough for the 1-minute archive to get a complete
# row that status counts: RRD stores a row as unknown when more than half of
# it is, so the run must cover a row from its 30th second on and go past
# its end: 30 + 60 + one interval, whatever second it starts at.
ks_run "$BIN" collect "$S" --interval 5 --duration 100 --format json
run=$KS_LAST_PID
log=$KS_LAST_LOG
sshd_pid=$(ks_sshd_pid web01)
sleep 10
kids1=$(pgrep -P "$sshd_pid" | sort | tr '\n' ' ')
sleep 20
kids2=$(pgrep -P "$sshd_pid" | sort | tr '\n' ' ')
ks_check "one SSH session kept open between samples ('$kids1' then '$kids2')" \
  test -n "$kids1" -a "$kids1" = "$kids2"
wait_s=0
while kill -0 "$run" 2>/dev/null && [ $wait_s -lt 200 ]; do sleep 1; wait_s=$((wait_s + 1)); done
ks_check "interval run finished" test "$wait_s" -lt 200
samples=$(python3 -c "
import json,re; t = open('$log').read(); s = t[t.index('\n[') + 1:t.rindex(']') + 1]
print(json.loads(s)[0]['samples'])")
# 100 s at 5 s: 20 readings, the first only ends the gap (its rates unknown)
ks_check_range "interval run stored its samples" "$samples" 16 20
"$BIN" status "$S" --format json >"$KS_WORKDIR/status.json"
ks_check "status counts 1-minute samples and facts" python3 -c "
import json; s = json.load(open('$KS_WORKDIR/status.json'))[0]
assert s['name'] == 'web01' and s['facts'] and s['samples'] >= 1 and s['last_error'] is None, s"
ks_check "status table names the server" sh -c "'$BIN' status '$S' | grep -q '^web01 '"
ks_check "status csv has a header" sh -c "'$BIN' status '$S' --format csv | head -1 | grep -q '^name,last_sample,samples,gaps'"
ks_check "state file records success" python3 -c "
import json; s = json.load(open('$S/state/web01.json')); assert s['last_success_time'] and s['last_error'] is None"
ks_done
