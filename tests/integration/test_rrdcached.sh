#!/usr/bin/env bash
# Writing through rrdcached (study.ini [collector] rrdcached): the daemon is
# started by this test on a unix socket; after the run the values are in
# the files (the collector flushes what it wrote).
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need_root
ks_need sshd ssh-keygen rrdtool rrdcached python3
ks_workdir
ks_keygen "$KS_WORKDIR/client"
port=$(ks_free_ports 1)
ks_sshd_start app01 127.0.0.1 "$port"
S=$KS_WORKDIR/study
ks_study "$S"
sock=$KS_WORKDIR/rrdcached.sock
mkdir -p "$KS_WORKDIR/journal"
ks_run rrdcached -g -l "unix:$sock" -j "$KS_WORKDIR/journal" -p "$KS_WORKDIR/rrdcached.pid" -w 3600 -z 1
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
ks_check "rrdcached is listening" test -S "$sock"
ks_ini_set "$S/study.ini" collector rrdcached "unix:$sock"
ks_inventory_line app01 127.0.0.1 "$port" "$KS_CLIENT_KEY" app >>"$S/inventory.csv"

ks_check "collect --once through rrdcached: exit 0" \
  "$BIN" collect "$S" --once --accept-new-hostkeys --quiet
ks_check "the daemon created the file" test -f "$S/rrd/app01.rrd"
mem_total=$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
ks_check_near "values reached the file (mem_total)" "$(ks_rrd_last "$S/rrd/app01.rrd" mem_total)" "$mem_total" 1
ks_check_range "values reached the file (cpu_pct)" "$(ks_rrd_last "$S/rrd/app01.rrd" cpu_pct)" 0 100

# a daemon that is not there: a clear error, nothing collected
sed -i "s|^rrdcached = .*|rrdcached = unix:$KS_WORKDIR/nothing.sock|" "$S/study.ini"
set +e
"$BIN" collect "$S" --once --quiet >/dev/null 2>"$KS_WORKDIR/err"
rc=$?
set -e
ks_check "missing rrdcached: exit 1" test "$rc" -eq 1
ks_check "missing rrdcached: the message names the setting" grep -q "rrdcached" "$KS_WORKDIR/err"
ks_done
