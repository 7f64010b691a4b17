#!/usr/bin/env bash
# Host keys: unknown refused without --accept-new-hostkeys, recorded with it,
# accepted afterwards; a changed key always refused, known_hosts untouched.
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need_root
ks_need sshd ssh-keygen rrdtool python3
ks_workdir
ks_keygen "$KS_WORKDIR/client"
port=$(ks_free_ports 1)
ks_sshd_start db01 127.0.0.1 "$port"
S=$KS_WORKDIR/study
ks_study "$S"
ks_inventory_line db01 127.0.0.1 "$port" "$KS_CLIENT_KEY" db >>"$S/inventory.csv"
fp=$(ks_sshd_fingerprint db01)

set +e
"$BIN" collect "$S" --once --quiet --format json >"$KS_WORKDIR/r1.json" 2>"$KS_WORKDIR/e1"
rc=$?
set -e
ks_check "unknown key: exit 3" test "$rc" -eq 3
ks_check "unknown key: error code hostkey, fingerprint and the flag named" python3 -c "
import json; r = json.load(open('$KS_WORKDIR/r1.json'))[0]
assert not r['ok'] and r['error_code'] == 'hostkey', r
assert '$fp' in r['error'] and '--accept-new-hostkeys' in r['error'] and 'not known' in r['error'], r['error']"
ks_check "unknown key: nothing recorded" sh -c "! grep -q '$port' '$S/known_hosts' 2>/dev/null"
ks_check "unknown key: no sample stored" sh -c "[ -z \"\$(rrdtool lastupdate '$S/rrd/db01.rrd' | awk 'NR > 1 && NF > 1 && \$2 != \"U\"')\" ]"

ks_check "first contact with --accept-new-hostkeys: exit 0" \
  "$BIN" collect "$S" --once --quiet --accept-new-hostkeys
ks_check "key recorded as [127.0.0.1]:PORT" grep -q "^\[127.0.0.1\]:$port ssh-ed25519 " "$S/known_hosts"
ks_check "known key accepted without the flag" "$BIN" collect "$S" --once --quiet
cp "$S/known_hosts" "$KS_WORKDIR/known_hosts.before"

ks_sshd_stop db01
ks_sshd_newkey db01
ks_sshd_start db01 127.0.0.1 "$port"
newfp=$(ks_sshd_fingerprint db01)
ks_check "the server now has another key" test "$fp" != "$newfp"
for flag in "" --accept-new-hostkeys; do
  set +e
  # shellcheck disable=SC2086
  "$BIN" collect "$S" --once --quiet --format json $flag >"$KS_WORKDIR/r2.json" 2>/dev/null
  rc=$?
  set -e
  ks_check "changed key${flag:+ with $flag}: exit 3" test "$rc" -eq 3
  ks_check "changed key${flag:+ with $flag}: refused with a clear message" python3 -c "
import json; r = json.load(open('$KS_WORKDIR/r2.json'))[0]
assert r['error_code'] == 'hostkey' and 'changed' in r['error'] and '$newfp' in r['error'], r
assert 'known_hosts' in r['error'] and '[127.0.0.1]:$port' in r['error'], r['error']"
  ks_check "changed key${flag:+ with $flag}: known_hosts untouched" cmp -s "$S/known_hosts" "$KS_WORKDIR/known_hosts.before"
done
set +e
"$BIN" facts "$S" --quiet >/dev/null 2>&1
rc=$?
set -e
ks_check "facts refuses the changed key too" test "$rc" -eq 3
ks_check "state file keeps the host key error for status" sh -c "'$BIN' status '$S' | grep -q 'changed'"
ks_done
