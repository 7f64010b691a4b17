#!/usr/bin/env bash
# kvmshift night on the bundled laboratory's plan, where no server can be
# moved (none is reachable, and the windows are too short for any): the
# decisions the runner takes before any cutover, and what it refuses.
#   - usage errors, a night the plan does not have, a window over, one not
#     open yet, a bad stop_services;
#   - --dry-run: estimates, the servers without stop_services skipped, the
#     runbooks written, nothing else;
#   - --presync of servers that cannot be reached (every server's SSH at a
#     closed port of this machine: nothing leaves loopback): each failure
#     said, exit 3;
#   - a run whose window is shorter than any estimate: those servers are
#     postponed with the estimate and the reason, the others skipped; the
#     summary, the records, exit 3; run again: refused without --resume;
#     resumed: nothing repeated; a second runner while the night's lock is
#     held: refused, naming the holder; --rollback of a server that never
#     started: refused;
#   - the next night takes the postponed servers first;
#   - the report's Migration progress section.
# The cutovers themselves (real guests, libvirtd, a runner killed and
# resumed, a rollback) are in test_p2v_convert.sh.
set -euo pipefail
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ks_need python3 flock
ks_workdir
W=$KS_WORKDIR
code() {
    set +e
    "$@" >"$W/out" 2>"$W/err"
    echo $?
    set -e
}
L=$W/lab
"$BIN" demo --sample lab --out "$L" -q >/dev/null
# every server at a closed port of this machine: whatever reaches for one
# (the presync below) stays on loopback and is refused at once
CLOSED=$(ks_free_ports 1 24000)
awk -F, -v OFS=, -v p="$CLOSED" '/^#/ || NF < 3 { print; next }
    $1 == "name" { print $0, "ssh_address", "ssh_port"; next }
    { print $0, "127.0.0.1", p }' "$L/inventory.csv" >"$W/inv" && mv "$W/inv" "$L/inventory.csv"
# the first two servers of night 1 get stop_services, the third (N3) not
read -r N1 N2 N3 < <(python3 -c "
import json, sys
p = json.load(open(sys.argv[1]))
print(' '.join(x['name'] for x in p['nights'][0]['servers'][:3]))" "$L/plan.json")
SOON=$(date -u -d '+20 minutes' +%FT%TZ)
LATER=$(date -u -d '+10 hours' +%FT%TZ)

# ---- usage and refusals ---------------------------------------------------------
ks_check "--help: exit 0 with the usage" sh -c "'$BIN' night --help | grep -q '^usage: kvmshift night DIR N'"
ks_check "help night lists it" sh -c "'$BIN' help | grep -q '^  night '"
ks_check "no night number: exit 2" test "$(code "$BIN" night "$L")" -eq 2
ks_check "a night number that is not one: exit 2" test "$(code "$BIN" night "$L" one)" -eq 2
ks_check "--until that is not a time: exit 2" test "$(code "$BIN" night "$L" 1 --until tomorrow)" -eq 2
ks_check "--until: the message quotes it" grep -q "'tomorrow'" "$W/err"
ks_check "two modes at once: exit 2" test "$(code "$BIN" night "$L" 1 --dry-run --resume)" -eq 2
ks_check "not a study: exit 1" test "$(code "$BIN" night "$W/nosuch" 1)" -eq 1
ks_check "a night the plan does not have: exit 1" test "$(code "$BIN" night "$L" 99)" -eq 1
ks_check "a night the plan does not have: says how many it has" grep -q "has no night 99 (it plans 2 nights" "$W/err"
ks_check "the plan's window is over: exit 1" test "$(code "$BIN" night "$L" 1)" -eq 1
ks_check "the plan's window is over: says so and how to go on" grep -q "window ended at 2026-02-03 06:00 UTC.*--until" "$W/err"
ks_check "nothing written by a refused run" test ! -e "$L/nights/1/summary.json"
cp "$L/study.ini" "$W/study.ini.good"
printf '\n[cutover %s]\nstop_services = apache2; rm -rf /\n' "$N1" >>"$L/study.ini"
ks_check "a stop_services that is no unit name: exit 1" test "$(code "$BIN" night "$L" 1 --until "$SOON")" -eq 1
ks_check "a stop_services that is no unit name: file:line and the word" grep -q "study.ini:[0-9]*: 'apache2;' in \[cutover $N1\] stop_services is not a systemd unit name" "$W/err"
cp "$W/study.ini.good" "$L/study.ini"
printf '\n[cutover %s]\nstop_services = apache2, mariadb\n\n[cutover %s]\nstop_services = none\n' "$N1" "$N2" >>"$L/study.ini"

# ---- the dry run --------------------------------------------------------------------
ks_check "dry run: exit 0" test "$(code "$BIN" night "$L" 1 --dry-run --until "$LATER" --output json)" -eq 0
ks_check "dry run: the decisions" python3 - "$W/out" "$N1" "$N2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); a, b = sys.argv[2], sys.argv[3]
d = {r["server"]: r["dry_run"] for r in s["servers"]}
assert s["dry_run"] is True and len(d) == 10, s
assert d[a]["decision"] == "cut over" and d[b]["decision"] == "cut over", (d[a], d[b])
# not copied: the disk at the plan's bandwidth, plus its conversion and validation minutes
assert "not copied yet (0 % done)" in d[a]["basis"] and d[a]["estimate_minutes"] > 50, d[a]
skipped = [n for n, x in d.items() if x["decision"] == "skip"]
assert len(skipped) == 8 and all("stop_services" in d[n]["reason"] for n in skipped), d
# one lane each (max_parallel 2), the second begins when the plan's first ends
assert {d[a]["lane"], d[b]["lane"]} == {1, 2}, (d[a], d[b])
assert all(r["state"] == "pending" for r in s["servers"])
EOF
ks_check "dry run: a runbook per server" test "$(ls "$L/nights/1/"*.md | wc -l)" -eq 10
ks_check "dry run: the runbook's steps and rollback" sh -c "grep -q 'systemctl stop apache2 mariadb' '$L/nights/1/$N1.md' && grep -q 'the copy itself.*kvmshift p2v copy $L $N1. ' '$L/nights/1/$N1.md' && grep -q 'systemctl start apache2 mariadb' '$L/nights/1/$N1.md'"
ks_check "dry run: the runbook of a skipped server says what is missing" grep -q 'name the services to stop' "$L/nights/1/$N3.md"
ks_check "dry run: no summary, no record" sh -c "test ! -e '$L/nights/1/summary.json' && test -z \"\$(ls '$L/nights/1/servers')\""
ks_check "dry run: the table" test "$(code "$BIN" night "$L" 1 --dry-run --until "$LATER")" -eq 0
ks_check "dry run: the table lists the decisions" sh -c "grep -q '^$N1 .*cut over' '$W/out' && grep -q 'dry run of night 1' '$W/out'"

# ---- presync: servers that cannot be reached ----------------------------------------
ks_check "presync of unreachable servers: exit 3" test "$(code "$BIN" night "$L" 1 --presync --parallel 4)" -eq 3
ks_check "presync: each failure said with its server and address" sh -c "grep -q '^$N1 *copy .*cannot connect to .$N1. at 127.0.0.1 port $CLOSED' '$W/out' && test \$(grep -c 'cannot connect' '$W/out') -eq 10"
ks_check "presync: the records say it, the servers still pending" python3 - "$L/nights/1/servers/$N1.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["state"] == "pending" and r["presync"]["complete"] is False and "cannot connect" in r["presync"]["error"], r
EOF

# ---- a window too short for anyone --------------------------------------------------
ks_check "a short window: exit 3" test "$(code "$BIN" night "$L" 1 --until "$SOON")" -eq 3
cp "$W/out" "$W/short.txt"
ks_check "a short window: postponed and skipped, nothing started" python3 - "$L/nights/1/summary.json" "$N1" "$N2" "$N3" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); a, b, c3 = sys.argv[2], sys.argv[3], sys.argv[4]
c = s["counts"]
assert (c["postponed"], c["skipped"], c["migrated"], c["running"], c["pending"]) == (2, 8, 0, 0, 0), c
assert s["ended_at"] and s["mode"] == "services", s
r = {x["server"]: x for x in s["servers"]}
for n in (a, b):
    assert r[n]["state"] == "postponed" and r[n]["postponed_to"] == 2, r[n]
    assert "after the window's end" in r[n]["reason"] and "moved to the next night" in r[n]["reason"], r[n]
    assert r[n]["estimate"]["minutes"] > 20 and r[n]["steps"] == {} and r[n]["attempts"] == 0, r[n]
assert r[c3]["state"] == "skipped" and "stop_services" in r[c3]["reason"], r[c3]
EOF
ks_check "a short window: the table says why" grep -q "^$N1 *postponed .*after the window's end" "$W/short.txt"
ks_check "a short window: the records" test -f "$L/nights/1/servers/$N1.json"
ks_check "run again: refused without --resume" test "$(code "$BIN" night "$L" 1 --until "$SOON")" -eq 1
ks_check "run again: says --resume" grep -q "night 1 was run already.*--resume" "$W/err"
cp "$L/nights/1/servers/$N1.json" "$W/rec.before"
ks_check "resumed: exit 3, nothing left to do" test "$(code "$BIN" night "$L" 1 --resume --until "$SOON")" -eq 3
ks_check "resumed: a postponed server is not tried again" cmp -s "$L/nights/1/servers/$N1.json" "$W/rec.before"
# a second runner while one holds the night (its lock names it)
printf 'pid 4242, night runner\n' >"$L/nights/1/lock"
flock "$L/nights/1/lock" sleep 30 &
holder=$!
ks__track "$holder" "flock holder"
sleep 0.5
ks_check "a second runner: exit 1" test "$(code "$BIN" night "$L" 1 --until "$SOON")" -eq 1
ks_check "a second runner: names the holder" grep -q "night 1 of .* is in use by another kvmshift (pid 4242, night runner;" "$W/err"
kill "$holder"
wait "$holder" 2>/dev/null || true
ks_check "--rollback of a server that never started: exit 1" test "$(code "$BIN" night "$L" 1 --rollback "$N1")" -eq 1
ks_check "--rollback of a server that never started: says so" grep -q "'$N1' is postponed in night 1: nothing to roll back" "$W/err"
ks_check "--rollback of an unknown server: exit 1" test "$(code "$BIN" night "$L" 1 --rollback nosuch)" -eq 1

# ---- the next night takes the postponed ones first -------------------------------
ks_check "night 2, dry run: exit 0" test "$(code "$BIN" night "$L" 2 --dry-run --until "$LATER" --output json)" -eq 0
ks_check "night 2 begins with night 1's postponed servers" python3 - "$W/out" "$N1" "$N2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
names = [r["server"] for r in s["servers"]]
assert names[:2] == [sys.argv[2], sys.argv[3]] and len(names) == 5, names
assert s["servers"][0]["planned_night"] == 1 and s["servers"][2]["planned_night"] == 2, s["servers"][0]
EOF

# ---- the report ---------------------------------------------------------------------
ks_check "report: exit 0" test "$(code "$BIN" report "$L" -q)" -eq 0
ks_check "report: Migration progress for night 1" sh -c "grep -q '<section id=\"progress\">' '$L/report/index.html' && grep -q '<td>$N1</td><td class=\"mig-bad\">postponed</td>' '$L/report/index.html'"

# ---- a server switched to its VM: the plan stays the physical servers' -----------
# (after a night, the collector samples a migrated server's VM into
# rrd/NAME.rrd and facts/NAME.json; analyze reads its history under physical/)
cp "$L/plan.json" "$W/plan.before"
ks_check "switch $N1 by hand: exit 0" test "$(code "$BIN" validate "$L" "$N1" --switch)" -eq 0
ks_check "its history and facts under physical/" sh -c "test -f '$L/physical/$N1.rrd' && test -f '$L/physical/$N1.facts.json' && test ! -e '$L/rrd/$N1.rrd'"
ks_check "analyze after the switch: exit 0" test "$(code "$BIN" analyze "$L" -q)" -eq 0
ks_check "analyze after the switch: $N1 planned as before, from its physical history" python3 - "$W/plan.before" "$L/plan.json" "$N1" <<'EOF'
import json, sys
def entry(path, name):
    p = json.load(open(path))
    return [s for s in p["servers"] if s["name"] == name][0]
a, b = entry(sys.argv[1], sys.argv[3]), entry(sys.argv[2], sys.argv[3])
assert a == b, (a, b)
EOF
ks_done
