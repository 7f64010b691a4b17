#!/usr/bin/env bash
# bench_convert.sh: converting the same copy of the test "physical server"
# by `kvmshift p2v convert` and by Debian's virt-v2v (-i libvirtxml -o
# local), in one run, and booting each result (TCG here) to its login
# prompt; whether the network came up with the server's static address.
# It runs tests/integration/test_p2v_convert.sh, which does exactly that
# (and checks kvmshift's result), and prints its figures as a table with
# the ratios to kvmshift. Needs root.
#
#     sudo tests/bench/bench_convert.sh [--bin build/cli/kvmshift] [--json FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=build/cli/kvmshift
JSON=
while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
figs=$(mktemp)
trap 'rm -f "$figs"' EXIT
KS_CONVERT_FIGURES=$figs bash "$here/../integration/test_p2v_convert.sh" "$(readlink -f "$BIN")" >&2
python3 - "$figs" "$JSON" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
k = r["kvmshift"]
print("%-10s %11s %10s %8s %9s" % ("CONVERTER", "CONVERT s", "LOGIN s", "NETWORK", "x time"))
for name in ("kvmshift", "virt-v2v"):
    x = r[name]
    ratio = "%.2f" % (x["convert_s"] / k["convert_s"]) if x["convert_s"] else "-"
    fmt = lambda v: "%.1f" % v if v is not None else "-"
    net = {True: "yes", False: "no", None: "-"}[x["network"]]
    print("%-10s %11s %10s %8s %9s" % (name, fmt(x["convert_s"]), fmt(x["login_s"]), net, ratio))
print("(x time: conversion time over kvmshift's; login: from start to the VM answering: kvmshift's SSH "
      "answering the night's validation, virt-v2v's login prompt on the serial console)")
if sys.argv[2]:
    json.dump(r, open(sys.argv[2], "w"), indent=2)
PY
