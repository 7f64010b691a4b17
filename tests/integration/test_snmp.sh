#!/usr/bin/env bash
# A real snmpd on 127.0.0.1 (UDP): kvmshift collect --once over SNMP v2c and
# v3, a v3 user with a wrong password, a port where nothing answers; values
# checked against /proc read by this script in the same seconds.
#
# Tolerances, and why:
# - mem_total: exact (memTotalReal is MemTotal in kB, as /proc/meminfo).
# - mem_used: 5% of MemTotal (other processes allocate while we measure).
# - cpu_pct: 20 points, as test_collect_ssh.sh. net-snmp refreshes its CPU
#   counters every 5 s, so the window is 6 s and snmpd runs 6 s before.
# - facts memory: hrStorage/memTotalReal are whole kB, as MemTotal: exact.
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need snmpd rrdtool python3 ss
ks_workdir

# two free UDP ports: the agent's, and one where nothing answers
read -r port silent < <(python3 -c '
import socket
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

A=$KS_WORKDIR/snmpd
mkdir -p "$A/persist"
cat >"$A/snmpd.conf" <<EOF
rocommunity kvtest-community 127.0.0.1
createUser kvuser SHA-256 "kv-auth-pass-1" AES "kv-priv-pass-1"
createUser kvother SHA-256 "kv-auth-pass-2" AES "kv-priv-pass-2"
rouser kvuser priv
rouser kvother priv
EOF
SNMP_PERSISTENT_DIR=$A/persist ks_run snmpd -f -Lo -C -c "$A/snmpd.conf" -p "$A/snmpd.pid" \
  -M /dev/null -m "" "udp:127.0.0.1:$port"
snmpd_pid=$KS_LAST_PID
for _ in $(seq 50); do
  ss -Hunl "sport = :$port" | grep -q . && break
  sleep 0.1
done
ks_check "snmpd listens on UDP $port" sh -c "ss -Hunl 'sport = :$port' | grep -q ."
sleep 6 # net-snmp's first CPU reading

S=$KS_WORKDIR/study
ks_study "$S"
ks_ini_set "$S/study.ini" collector connect_timeout 3
mkdir -p "$S/snmp"
printf 'version = 2c\ncommunity = kvtest-community\n' >"$S/snmp/v2.secrets"
printf 'version = 3\nuser = kvuser\nauth_protocol = SHA-256\nauth_password = kv-auth-pass-1\npriv_protocol = AES\npriv_password = kv-priv-pass-1\n' >"$S/snmp/v3.secrets"
printf 'version = 3\nuser = kvother\nauth_protocol = SHA-256\nauth_password = not-the-password\npriv_protocol = AES\npriv_password = kv-priv-pass-2\n' >"$S/snmp/wrong.secrets"
chmod 600 "$S"/snmp/*.secrets
cp "$S/snmp/v2.secrets" "$S/snmp/open.secrets"
chmod 644 "$S/snmp/open.secrets"
{
  echo "snmp2c,127.0.0.1,snmp,$port,,snmp/v2.secrets,web,,"
  echo "snmp3,127.0.0.1,snmp,$port,,snmp/v3.secrets,web,,"
  echo "wrongpw,127.0.0.1,snmp,$port,,snmp/wrong.secrets,web,,"
  echo "silent,127.0.0.1,snmp,$silent,,snmp/open.secrets,web,,"
} >>"$S/inventory.csv"

cpu_ticks() { awk '/^cpu / { print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9; exit }' /proc/stat; }
ks_run sh -c 'while :; do :; done'
burner=$KS_LAST_PID
sleep 0.5
read -r b0 t0 < <(cpu_ticks)
mkdir -p "$KS_WORKDIR/home"
set +e
HOME=$KS_WORKDIR/home "$BIN" collect "$S" --once --window 6 --quiet --format json >"$KS_WORKDIR/r.json" 2>"$KS_WORKDIR/err"
rc=$?
set -e
read -r b1 t1 < <(cpu_ticks)
ks_kill "$burner"
mem_total=$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
mem_used=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { printf "%.0f\n", (t - a) * 1024 }' /proc/meminfo)
cpu_ref=$(awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN { print 100 * b / t }')

ks_check "some servers failed: exit 3" test "$rc" -eq 3
ks_check "each server has its outcome" python3 -c "
import json; r = {x['name']: x for x in json.load(open('$KS_WORKDIR/r.json'))}
assert r['snmp2c']['ok'] and r['snmp2c']['error'] is None, r['snmp2c']
assert r['snmp3']['ok'] and r['snmp3']['error'] is None, r['snmp3']
w = r['wrongpw']
assert w['error_code'] == 'auth' and \"'wrongpw'\" in w['error'] and 'wrong.secrets' in w['error'] and 'password' in w['error'], w
s = r['silent']
assert s['error_code'] == 'timeout' and 'connect_timeout' in s['error'], s"
ks_check "a group-readable secrets file is warned about" grep -q "open.secrets.*can be read by other users" "$KS_WORKDIR/err"

ssh_ds="cpu_pct cpu_mhz mem_used mem_total disk_rd_bps disk_wr_bps disk_rd_iops disk_wr_iops net_rx_bps net_tx_bps cpu_steal_pct"
for n in snmp2c snmp3; do
  R=$S/rrd/$n.rrd
  ks_check "$n: RRD has exactly the data sources of SSH servers" test "$(rrdtool lastupdate "$R" | head -1 | xargs)" = "$ssh_ds"
  ks_check "$n: RRD data sources are GAUGEs" test "$(rrdtool info "$R" | grep -c 'type = "GAUGE"')" = 11
  ks_check_near "$n: mem_total equals MemTotal" "$(ks_rrd_last "$R" mem_total)" "$mem_total" 1024
  ks_check_near "$n: mem_used near MemTotal-MemAvailable" "$(ks_rrd_last "$R" mem_used)" "$mem_used" "$((mem_total / 20))"
  cpu=$(ks_rrd_last "$R" cpu_pct)
  ks_check_near "$n: cpu_pct near /proc/stat over the same seconds" "$cpu" "$cpu_ref" 20
  for d in disk_rd_bps disk_wr_bps disk_rd_iops disk_wr_iops net_rx_bps net_tx_bps; do
    ks_check_range "$n: $d is a rate" "$(ks_rrd_last "$R" "$d")" 0 1e12
  done
done

F=$S/facts/snmp2c.json
ks_check "facts of the v2c server taken" test -f "$F"
fact() { python3 -c "import json,sys; d=json.load(open('$F')); print(eval(sys.argv[1]))" "$1"; }
ks_check "facts: threads = nproc" test "$(fact "d['cpu']['threads']")" = "$(nproc)"
ks_check_near "facts: memory = MemTotal" "$(fact "d['memory']['total_bytes']")" "$mem_total" 1024
ks_check "facts: source snmp" test "$(fact "d['source']")" = snmp
ks_check "facts: kernel from sysDescr = uname -r" test "$(fact "d['os']['kernel']")" = "$(uname -r)"
ks_check "facts: a file system on /" test "$(fact "[f['mountpoint'] for f in d['filesystems'] if f['mountpoint'] == '/'][0]")" = /
ks_check "facts: the same keys as the SSH schema" python3 -c "
import json
d = json.load(open('$F'))
ssh = json.load(open('$(dirname "$0")/../../collector/tests/data/facts/this-machine.json'))
missing = set(ssh) - set(d)
assert not missing, missing"
ks_check "net-snmp wrote nothing in HOME (~/.snmp)" test -z "$(ls -A "$KS_WORKDIR/home")"
ks_check "snmpd still runs" kill -0 "$snmpd_pid"
# --once without --window: the SNMP backend's own minimum window (net-snmp
# refreshes its CPU counters every 5 s) applies, so the CPU rate is known
set +e
"$BIN" collect "$S" --once --only snmp2c --quiet --format json >"$KS_WORKDIR/nowin.json" 2>/dev/null
rc=$?
set -e
ks_check "--once without --window: exit 0" test "$rc" -eq 0
ks_check "--once without --window: a CPU rate, no error" python3 -c "
import json; r = json.load(open('$KS_WORKDIR/nowin.json'))[0]
assert r['ok'] and r['error'] is None and r['last']['cpu_pct'] is not None, r"
ks_done
