#!/usr/bin/env bash
# Several distinct servers: sshd in network namespaces this test creates
# (own addresses, own /proc/net/dev). A steady 1 MiB/s stream into the first
# one must show in its net_rx_bps, and not in the others'.
#
# Tolerance: net_rx_bps within 30% of 1 MiB/s (the sender paces itself in
# 64 KiB steps on a shared machine; SSH's own few KiB/s add to it).
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need_root
ks_need sshd ssh-keygen rrdtool python3 ip
ks_workdir
ks_keygen "$KS_WORKDIR/client"
S=$KS_WORKDIR/study
ks_study "$S"
declare -A addr
for i in 1 2 3; do
  addr[ns$i]=$(ks_netns_host "ns$i" "$i")
  ks_sshd_start "ns$i" "${addr[ns$i]}" 22 "ns$i"
  ks_inventory_line "ns$i" "${addr[ns$i]}" 22 "$KS_CLIENT_KEY" app >>"$S/inventory.csv"
done

# a sink in ns1 and a paced sender in the root namespace
cat >"$KS_WORKDIR/sink.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9000)); s.listen(4)
while True:  # the harness's port probe connects first
    c, _ = s.accept()
    while c.recv(1 << 16):
        pass
    c.close()
PY
cat >"$KS_WORKDIR/send.py" <<'PY'
import socket, sys, time
rate, secs = 1 << 20, float(sys.argv[2])
c = socket.create_connection((sys.argv[1], 9000))
chunk = b"x" * (1 << 16)
start = time.monotonic(); sent = 0
while time.monotonic() - start < secs:
    c.sendall(chunk); sent += len(chunk)
    ahead = sent / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
PY
ks_run ip netns exec "$(ks_netns_of ns1)" python3 "$KS_WORKDIR/sink.py" "${addr[ns1]}"
ks_wait_port "${addr[ns1]}" 9000 "$(ks_netns_of ns1)"
ks_run python3 "$KS_WORKDIR/send.py" "${addr[ns1]}" 40
sender=$KS_LAST_PID
sleep 2

ks_check "collect --once over three namespaces: exit 0" \
  "$BIN" collect "$S" --once --window 5 --accept-new-hostkeys --quiet
ks_check "the sender kept sending during the measurement" kill -0 "$sender"
rx1=$(ks_rrd_last "$S/rrd/ns1.rrd" net_rx_bps)
ks_check_near "ns1 receives 1 MiB/s" "$rx1" 1048576 314573
for i in 2 3; do
  ks_check_range "ns$i receives almost nothing" "$(ks_rrd_last "$S/rrd/ns$i.rrd" net_rx_bps)" 0 65536
  ks_check_range "ns$i sends almost nothing" "$(ks_rrd_last "$S/rrd/ns$i.rrd" net_tx_bps)" 0 65536
done
for i in 1 2 3; do
  ks_check "ns$i facts list its own veth and address" python3 -c "
import json; d = json.load(open('$S/facts/ns$i.json'))
n = [x for x in d['nics'] if x['name'] != 'lo']
assert len(n) == 1 and n[0]['name'].endswith('n$i') and '${addr[ns$i]}/30' in n[0]['addresses'], n"
done
ks_done
