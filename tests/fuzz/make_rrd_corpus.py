#!/usr/bin/env python3
"""make_rrd_corpus.py: the kept corpus of fuzz_rrdfile.c (tests/fuzz/corpus/rrdfile).

Small RRD files made by rrdtool (Debian's rrdtool package), valid and then
damaged the ways a study's files get damaged (see fuzz_rrdfile.c). Run it
again to remake the corpus (the files are committed; the test does not need
rrdtool):

    python3 tests/fuzz/make_rrd_corpus.py [DIR]
"""
import os
import struct
import subprocess
import sys
import tempfile

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "rrdfile")
os.makedirs(out, exist_ok=True)
tmp = tempfile.mkdtemp()
T0 = 1767571200  # 2026-01-05 00:00 UTC


def rrd(name, args, updates=()):
    p = os.path.join(tmp, name)
    subprocess.run(["rrdtool", "create", p, "--start", str(T0 - 300)] + args, check=True)
    for u in updates:
        subprocess.run(["rrdtool", "update", p, u], check=True)
    return open(p, "rb").read()


kv = ["DS:%s:GAUGE:600:U:U" % d for d in ("cpu_pct", "cpu_mhz", "mem_used", "disk_rd_bps", "disk_wr_bps",
                                         "disk_rd_iops", "disk_wr_iops", "net_rx_bps", "net_tx_bps",
                                         "mem_total", "cpu_steal_pct")]
ups = ["%d:%s" % (T0 + 300 * i, ":".join(str(10 + i + k) for k in range(11))) for i in range(1, 30)]
good = rrd("kv.rrd", ["--step", "300"] + kv + ["RRA:AVERAGE:0.5:1:48", "RRA:MAX:0.5:12:24"], ups)
foreign = rrd("foreign.rrd", ["--step", "60", "DS:temp:GAUGE:120:U:U", "DS:fan:COUNTER:120:0:U",
                              "RRA:AVERAGE:0.5:1:20", "RRA:LAST:0.5:5:10"],
              ["%d:%d:%d" % (T0 + 60 * i, 40 + i, 1000 * i) for i in range(1, 12)])
hw = rrd("hw.rrd", ["--step", "300", "DS:cpu_pct:GAUGE:600:U:U", "DS:x:DCOUNTER:600:U:U",
                    "RRA:AVERAGE:0.5:1:30", "RRA:HWPREDICT:40:0.1:0.0035:12"],
         ["%d:%d:%d" % (T0 + 300 * i, i, 100 * i) for i in range(1, 8)])

HEAD = 128  # stat_head_t on x86_64


def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def patch(b, off, fmt, *v):
    b = bytearray(b)
    struct.pack_into(fmt, b, off, *v)
    return bytes(b)


put("valid-kvmshift.rrd", good)
put("valid-foreign.rrd", foreign)
put("valid-hw-0005.rrd", hw)
# the probe's damage: bytes 40-600 overwritten
put("damaged-40-600-ff.rrd", good[:40] + b"\xff" * 561 + good[601:])
put("damaged-40-600-random.rrd", good[:40] + bytes((i * 197 + 13) & 255 for i in range(561)) + good[601:])
put("cut-short.rrd", good[: len(good) - 100])
put("cut-in-header.rrd", good[:700])
put("bytes-after-end.rrd", good + b"\0" * 64)
put("empty.rrd", b"")
put("not-rrd.rrd", b"GIF89a" + good[6:])
put("ds-count-huge.rrd", patch(good, 24, "<Q", 1 << 40))
put("ds-count-zero.rrd", patch(good, 24, "<Q", 0))
put("rra-count-huge.rrd", patch(good, 32, "<Q", 1 << 33))
put("step-zero.rrd", patch(good, 40, "<Q", 0))
nds = 11
off_rra = HEAD + nds * 120
put("rows-huge.rrd", patch(good, off_rra + 24, "<Q", (1 << 62) + 1))
put("rows-zero.rrd", patch(good, off_rra + 24, "<Q", 0))
put("cf-unknown.rrd", good[:off_rra] + b"BOGUS\0".ljust(20, b"\0") + good[off_rra + 20:])
put("ds-type-unknown.rrd", good[:HEAD + 20] + b"GAUGEX\0".ljust(20, b"\0") + good[HEAD + 40:])
put("ds-name-unterminated.rrd", good[:HEAD] + b"A" * 20 + good[HEAD + 20:])
off_live = off_rra + 2 * 120
off_pdp = off_live + 16
put("last-ds-unterminated.rrd", good[:off_pdp] + b"9" * 30 + good[off_pdp + 30:])
off_ptr = off_pdp + nds * 112 + 2 * nds * 80
put("cur-row-past-end.rrd", patch(good, off_ptr, "<Q", 48))
put("float-cookie-swapped.rrd", patch(good, 16, ">d", 8.642135e130))
put("version-9999.rrd", good[:4] + b"9999\0" + good[9:])
print("%d files in %s" % (len(os.listdir(out)), out))
