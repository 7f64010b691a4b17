#!/usr/bin/env bash
# Many SNMP agents in one run: 200 answering (one snmpd listening on 200
# loopback addresses, 127.0.2.1-200) and 20 that never answer (UDP sockets
# that read and drop, 127.0.3.1-20). One collect --once must sample every
# answering agent while the silent ones time out, each with its own error.
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need snmpd rrdtool python3 ss
ks_workdir
N=200
Q=20
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.2.1", 0)); print(s.getsockname()[1])')

A=$KS_WORKDIR/snmpd
mkdir -p "$A/persist"
echo "rocommunity kvmany 127.0.0.0/8" >"$A/snmpd.conf"
listen=$(for i in $(seq 1 $N); do printf 'udp:127.0.2.%d:%d,' "$i" "$port"; done)
SNMP_PERSISTENT_DIR=$A/persist ks_run snmpd -f -Lo -C -c "$A/snmpd.conf" -p "$A/snmpd.pid" \
  -M /dev/null -m "" "${listen%,}"
cat >"$KS_WORKDIR/drop.py" <<'PY'
import socket, sys, select
socks = []
for i in range(1, int(sys.argv[2]) + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.3.%d" % i, int(sys.argv[1])))
    socks.append(s)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        s.recv(65536)   # read and never answer
PY
ks_run python3 "$KS_WORKDIR/drop.py" "$port" "$Q"
drop_log=$KS_LAST_LOG
for _ in $(seq 100); do
  [ "$(ss -Hunl "sport = :$port" | wc -l)" -ge $((N + Q)) ] && grep -q ready "$drop_log" && break
  sleep 0.1
done
ks_check "$N agents and $Q silent sockets listen" test "$(ss -Hunl "sport = :$port" | wc -l)" -ge $((N + Q))
sleep 6 # net-snmp's first CPU reading

S=$KS_WORKDIR/study
ks_study "$S"
ks_ini_set "$S/study.ini" collector connect_timeout 5
printf 'version = 2c\ncommunity = kvmany\n' >"$S/v2.secrets"
chmod 600 "$S/v2.secrets"
{
  for i in $(seq 1 $N); do echo "a$i,127.0.2.$i,snmp,$port,,v2.secrets,app,,"; done
  for i in $(seq 1 $Q); do echo "q$i,127.0.3.$i,snmp,$port,,v2.secrets,app,,"; done
} >>"$S/inventory.csv"

set +e
"$BIN" collect "$S" --once --window 6 --quiet --format json >"$KS_WORKDIR/r.json" 2>"$KS_WORKDIR/err"
rc=$?
set -e
ks_check "some servers failed: exit 3" test "$rc" -eq 3
ks_check "every answering agent sampled, every silent one timed out" python3 -c "
import json; r = {x['name']: x for x in json.load(open('$KS_WORKDIR/r.json'))}
assert len(r) == $N + $Q, len(r)
bad = [n for n, x in r.items() if n.startswith('a') and not (x['ok'] and x['samples'] == 1 and x['last']['cpu_pct'] is not None)]
assert not bad, (len(bad), [r[n] for n in bad[:2]])
bad = [n for n, x in r.items() if n.startswith('q') and not (not x['ok'] and x['error_code'] == 'timeout')]
assert not bad, (len(bad), [r[n] for n in bad[:2]])"
ks_check "facts taken for every answering agent" test "$(ls "$S/facts" | wc -l)" -eq "$N"
ks_check "one RRD file per server, no temporary file left" \
  test "$(ls "$S/rrd" | grep -c '\.rrd$')" -eq $((N + Q)) -a "$(ls "$S/rrd" | grep -c tmp || true)" -eq 0
ks_check_near "mem_total of an agent equals MemTotal" "$(ks_rrd_last "$S/rrd/a137.rrd" mem_total)" \
  "$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)" 1
ks_done
