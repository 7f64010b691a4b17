#!/usr/bin/env bash
# The command line: help texts, usage errors and exit codes, init's refusal
# to overwrite, errors on a directory that is not a study.
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_workdir
W=$KS_WORKDIR
code() { set +e; "$@" >"$W/out" 2>"$W/err"; echo $?; set -e; }

ks_check "help lists the commands" sh -c "'$BIN' help | grep -q collect && '$BIN' help | grep -q status"
for c in init collect facts status; do
  ks_check "$c --help exits 0 with its usage" sh -c "'$BIN' $c --help | grep -q '^usage: kvmshift $c'"
  ks_check "help $c shows the same text" bash -c "'$BIN' help $c | cmp -s - <('$BIN' $c --help)"
done
ks_check "no command: exit 2" test "$(code "$BIN")" -eq 2
ks_check "unknown command: exit 2" test "$(code "$BIN" frobnicate)" -eq 2
ks_check "unknown option: exit 2" test "$(code "$BIN" collect "$W" --frob)" -eq 2
ks_check "bad interval: exit 2" test "$(code "$BIN" collect "$W" --interval 0)" -eq 2
ks_check "bad interval: message quotes it" grep -q "'0'" "$W/err"
ks_check "bad format: exit 2" test "$(code "$BIN" status "$W" --format xml)" -eq 2
ks_check "--window without --once: exit 2" test "$(code "$BIN" collect "$W" --window 3)" -eq 2
ks_check "--version" sh -c "'$BIN' --version | grep -q '^kvmshift [0-9]'"

ks_check "init creates a study" test "$(code "$BIN" init "$W/s")" -eq 0
for f in study.ini inventory.csv rrd facts state; do ks_check "init made $f" test -e "$W/s/$f"; done
echo "# mine" >>"$W/s/inventory.csv"
cp "$W/s/inventory.csv" "$W/inv.before"
ks_check "init on an existing study: exit 2" test "$(code "$BIN" init "$W/s")" -eq 2
ks_check "init on an existing study: nothing overwritten" cmp -s "$W/s/inventory.csv" "$W/inv.before"
ks_check "collect on a non-study: exit 1" test "$(code "$BIN" collect "$W/nothing" --once)" -eq 1
ks_check "collect on a non-study: says how to make one" grep -q "kvmshift init" "$W/err"
ks_check "collect with an empty inventory: exit 1" test "$(code "$BIN" collect "$W/s" --once)" -eq 1
ks_check "collect with an empty inventory: says so" grep -q "lists no servers" "$W/err"
ks_check "status on an empty inventory: exit 0" test "$(code "$BIN" status "$W/s" --format json)" -eq 0
ks_check "status json is an empty array" python3 -c "import json; assert json.load(open('$W/out')) == []"
echo "web01,127.0.0.1,ssh,22,root,,,," >>"$W/s/inventory.csv"
ks_check "--only with an unknown server: exit 2" test "$(code "$BIN" collect "$W/s" --once --only nosuch)" -eq 2
ks_check "--only: the message names it" grep -q "'nosuch'" "$W/err"
# --shard: two machines split one inventory, without overlap. The servers
# are on a port where nothing listens: each fails at once, which is all
# this needs (the result lists what a shard took).
S2=$W/shards
"$BIN" init "$S2" >/dev/null
for i in $(seq 1 12); do echo "srv$i,127.0.0.1,ssh,1,root,,,," >>"$S2/inventory.csv"; done
for k in 1 2; do code "$BIN" collect "$S2" --once --quiet --shard "$k/2" --format json >/dev/null; cp "$W/out" "$W/shard$k.json"; done
ks_check "--shard 1/2 and 2/2 split the servers without overlap" python3 -c "
import json
a = {r['name'] for r in json.load(open('$W/shard1.json'))}
b = {r['name'] for r in json.load(open('$W/shard2.json'))}
assert a and b and not (a & b) and a | b == {'srv%d' % i for i in range(1, 13)}, (a, b)"
ks_check "--shard 3/2: exit 2" test "$(code "$BIN" collect "$S2" --once --shard 3/2)" -eq 2
ks_check "--shard 0/2: exit 2" test "$(code "$BIN" collect "$S2" --once --shard 0/2)" -eq 2
ks_check "--shard x: says what it takes" sh -c "'$BIN' collect '$S2' --once --shard x 2>&1 | grep -q 'K/N'"

# Many servers under a low soft limit on open files: the collector raises
# it (up to the hard limit) instead of failing connections. The servers are
# a listener that accepts and never answers, so every connection stays open
# until connect_timeout: 150 sockets at once.
S3=$W/many
"$BIN" init "$S3" >/dev/null
ks_ini_set "$S3/study.ini" collector connect_timeout 3
silent=$(ks_free_ports 1 23000)
ks_silent_listener 127.0.0.1 "$silent"
for i in $(seq 1 150); do echo "m$i,127.0.0.1,ssh,$silent,root,,,," >>"$S3/inventory.csv"; done
(ulimit -Sn 64 && "$BIN" collect "$S3" --once --quiet --format json >"$W/many.json" 2>"$W/many.err") || true
ks_check "150 servers with a soft limit of 64 open files: each gets its own connection" python3 -c "
import json; r = json.load(open('$W/many.json'))
assert len(r) == 150, len(r)
bad = [x for x in r if x['error_code'] != 'timeout']
assert not bad, (len(bad), bad[:2])"
(ulimit -n 64 && "$BIN" collect "$S3" --once --quiet >/dev/null 2>"$W/many2.err") || true
ks_check "a hard limit too low for the inventory is reported" grep -q "raise it (ulimit -Hn" "$W/many2.err"

ks_ini_set "$W/s/study.ini" collector interval often
ks_check "bad study.ini value: exit 1" test "$(code "$BIN" collect "$W/s" --once)" -eq 1
ks_check "bad study.ini value: file:line and the value" grep -q "study.ini:[0-9]*: 'interval' in \[collector\] must be a whole number.*'often'" "$W/err"
ks_done
