#!/usr/bin/env bash
# Failures: a refused port, a server that never speaks, a refused key, and
# a server that goes away and comes back. The good server is sampled all the
# same, and a bad inventory stops everything before any connection.
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need_root
ks_need sshd ssh-keygen rrdtool python3
ks_workdir
ks_keygen "$KS_WORKDIR/client"
ssh-keygen -q -t ed25519 -N '' -f "$KS_WORKDIR/stranger"   # not authorized anywhere
base=$(ks_free_ports 4)
good=$base refused=$((base + 1)) silent=$((base + 2))
ks_sshd_start good 127.0.0.1 "$good"
ks_silent_listener 127.0.0.1 "$silent"

S=$KS_WORKDIR/study
ks_study "$S"
ks_ini_set "$S/study.ini" collector connect_timeout 10
ks_ini_set "$S/study.ini" collector command_timeout 5
{
  ks_inventory_line good 127.0.0.1 "$good" "$KS_CLIENT_KEY" web
  ks_inventory_line refused 127.0.0.1 "$refused" "$KS_CLIENT_KEY" web
  ks_inventory_line silent 127.0.0.1 "$silent" "$KS_CLIENT_KEY" web
  ks_inventory_line badkey 127.0.0.1 "$good" "$KS_WORKDIR/stranger" web
} >>"$S/inventory.csv"

set +e
"$BIN" collect "$S" --once --accept-new-hostkeys --quiet --format json >"$KS_WORKDIR/r.json" 2>"$KS_WORKDIR/err"
rc=$?
set -e
ks_check "some servers failed: exit 3" test "$rc" -eq 3
ks_check "each failure has its own error code" python3 -c "
import json; r = {x['name']: x for x in json.load(open('$KS_WORKDIR/r.json'))}
assert r['good']['ok'] and r['good']['error'] is None, r['good']
assert r['refused']['error_code'] == 'network' and 'refused' in r['refused']['error'].lower(), r['refused']
assert r['silent']['error_code'] == 'timeout' and 'connect_timeout' in r['silent']['error'], r['silent']
assert r['badkey']['error_code'] == 'auth' and 'authorized_keys' in r['badkey']['error'], r['badkey']"
ks_check_range "the good server's sample is stored" "$(ks_rrd_last "$S/rrd/good.rrd" cpu_pct)" 0 100
# the good server does not wait for the silent one: its sample is stored
# before the silent one's connect_timeout ends (ordering, not a duration;
# 10 s: with 4 the good sample, two readings 2 s apart, once ended in the
# same second as the timeout on a busy machine)
ks_check "the good server finished before the silent one timed out" python3 -c "
import json
g = json.load(open('$S/state/good.json'))['last_success_time']
s = json.load(open('$S/state/silent.json'))['last_error_time']
assert g < s, (g, s)"
ks_check "warnings name each failing server" sh -c "grep -q \"'refused'\" '$KS_WORKDIR/err' && grep -q \"'silent'\" '$KS_WORKDIR/err'"

# The server goes away during an interval run and comes back: reconnected,
# sampling goes on, no spike from the reconnection.
S2=$KS_WORKDIR/study2
ks_study "$S2"
ks_inventory_line good 127.0.0.1 "$good" "$KS_CLIENT_KEY" web >>"$S2/inventory.csv"
ks_run "$BIN" collect "$S2" --interval 2 --duration 30 --accept-new-hostkeys --format json
run=$KS_LAST_PID log=$KS_LAST_LOG
sleep 8
ks_sshd_stop good
sleep 6
ks_sshd_start good 127.0.0.1 "$good"
waited=0
while kill -0 "$run" 2>/dev/null && [ $waited -lt 120 ]; do sleep 1; waited=$((waited + 1)); done
ks_check "the run ended" test "$waited" -lt 120
ks_check "the loss was noticed and the server reconnected" sh -c "grep -q \"'good' answers again\" '$log'"
ks_check "sampling went on after the reconnection" python3 -c "
import json; t = open('$log').read(); r = json.loads(t[t.index('\n[') + 1:t.rindex(']') + 1])[0]
assert r['ok'] and r['failures'] >= 1 and r['samples'] >= 8, r"
maxcpu=$(rrdtool fetch "$S2/rrd/good.rrd" MAX -r 60 -s -5min | awk -F': ' 'NF == 2 { split($2, v, " "); if (v[1] != "-nan" && v[1] + 0 > m) m = v[1] + 0 } END { print m + 0 }')
ks_check_range "no CPU spike above 100% from the reconnection" "$maxcpu" 0 100

# Facts that do not come (a probe hangs on the server): the server is
# sampled all the same, without them, and the facts are tried on a later run.
# That sshd runs in a mount namespace of its own where /usr/local/bin (first
# in the facts script's PATH) holds a systemctl that hangs; nothing changes
# for the rest of the machine.
mkdir -p "$KS_WORKDIR/slowbin"
printf '#!/bin/sh\nsleep 30\n' >"$KS_WORKDIR/slowbin/systemctl"
chmod +x "$KS_WORKDIR/slowbin/systemctl"
cat >"$KS_WORKDIR/sshd-slow" <<EOF
#!/bin/sh
exec unshare --mount --propagation private sh -c 'mount --bind "\$0" /usr/local/bin && exec /usr/sbin/sshd "\$@"' "$KS_WORKDIR/slowbin" "\$@"
EOF
chmod +x "$KS_WORKDIR/sshd-slow"
slowport=$((base + 3))
KS_SSHD_BIN=$KS_WORKDIR/sshd-slow ks_sshd_start slow 127.0.0.1 "$slowport"
S4=$KS_WORKDIR/study4
ks_study "$S4"
ks_ini_set "$S4/study.ini" collector command_timeout 2
ks_inventory_line slow 127.0.0.1 "$slowport" "$KS_CLIENT_KEY" web >>"$S4/inventory.csv"
set +e
"$BIN" collect "$S4" --once --accept-new-hostkeys --quiet --format json >"$KS_WORKDIR/r4.json" 2>"$KS_WORKDIR/err4"
rc=$?
set -e
ks_check "hanging facts: the server is still sampled (exit 0)" test "$rc" -eq 0
ks_check "hanging facts: the timeout is reported, the sample stored" python3 -c "
import json; r = json.load(open('$KS_WORKDIR/r4.json'))[0]
assert r['ok'] and r['samples'] == 1 and r['error_code'] == 'timeout' and 'facts' in r['error'], r
assert r['last']['cpu_pct'] is not None and r['last']['cpu_mhz'] is None, r"
ks_check "hanging facts: no facts file written" test ! -e "$S4/facts/slow.json"
ks_check "hanging facts: the warning says it samples without facts" grep -q "sampling 'slow' without its facts" "$KS_WORKDIR/err4"

# A bad inventory: every bad line listed, nothing collected.
S3=$KS_WORKDIR/study3
ks_study "$S3"
{
  ks_inventory_line ok1 127.0.0.1 "$good" "$KS_CLIENT_KEY"
  echo "bad name!,127.0.0.1,ssh,22,root,,,,"
  echo "x2,127.0.0.1,ssh,99999,root,,,,"
  echo "x3,127.0.0.1,telnet,22,root,,,,"
} >>"$S3/inventory.csv"
set +e
"$BIN" collect "$S3" --once --accept-new-hostkeys >/dev/null 2>"$KS_WORKDIR/err3"
rc=$?
set -e
ks_check "bad inventory: exit 1" test "$rc" -eq 1
n=$(grep -c 'inventory.csv:[0-9]*:' "$KS_WORKDIR/err3" || true)
ks_check "bad inventory: all three bad lines reported with file:line" test "$n" -eq 3
ks_check "bad inventory: nothing collected" test -z "$(ls -A "$S3/rrd")"
ks_done
