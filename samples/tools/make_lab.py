#!/usr/bin/env python3
"""make_lab.py: write the laboratory sample study (samples/lab).

A research laboratory of 16 physical servers: mail, web, webmail, a
database, monitoring, two SSH gateways, two DNS servers, LDAP, an NFS
server, a backup server with a tape library on Fibre Channel, three compute
nodes (one busy around the clock) and a licence server with a USB dongle.

Writes, from the table below and nothing else (no network, no randomness
that is not seeded: two runs give the same bytes):
  samples/lab/inventory.csv     the servers, method import, roles and groups
  samples/lab/facts/NAME.json   facts as 'kvmshift facts' writes them
  samples/lab/data/lab.csv.gz   14 days at a 5-minute step, in the generic
                                CSV format of 'kvmshift import --format csv'
study.ini is written by hand, not by this script.

The loads are synthetic: office hours (08:00-18:00 in the laboratory's time
zone, UTC+1) for people-facing services, quiet weekends, nightly backups
and database dumps, batch jobs on the compute nodes, and one day without
data (mon01: its disk was replaced). Run it from anywhere:
  python3 samples/tools/make_lab.py [OUTDIR]
"""
import gzip
import io
import json
import math
import os
import random
import sys

GIB = 1 << 30
MIB = 1 << 20
KIB = 1024
GB = 1000**3
TB = 1000**4

START = 1767571200  # 2026-01-05T00:00:00Z, a Monday
DAYS = 14
STEP = 300
TZ = 3600  # the laboratory's local time: UTC+1 (CET)
GAP = ("mon01", START + 8 * 86400, START + 9 * 86400)  # 2026-01-13, a Tuesday
FACTS_TIME = "2026-01-19T09:14:07Z"


# ---- load shapes ------------------------------------------------------------

def local(t):
    """(hour as a float, weekday 0=Monday) in the laboratory's time zone."""
    lt = t + TZ
    return (lt % 86400) / 3600.0, (lt // 86400 + 3) % 7  # 1970-01-01 was a Thursday


def ramp(x, a, b):
    """0 before a, 1 after b, linear in between."""
    return 0.0 if x <= a else 1.0 if x >= b else (x - a) / (b - a)


def office(t):
    """People at work: 1 in office hours, a lunch dip, evenings, quiet weekends."""
    h, wd = local(t)
    day = ramp(h, 7.0, 9.0) * (1 - ramp(h, 17.0, 20.0))
    day *= 1 - 0.25 * math.exp(-((h - 12.5) ** 2) / 0.3)  # lunch
    evening = 0.15 * ramp(h, 17.0, 18.0) * (1 - ramp(h, 21.0, 23.5))
    v = day + evening
    return v * (0.12 if wd >= 5 else 1.0)


def window(t, start_h, hours, days=range(7)):
    """1 inside a daily window starting at start_h (local) for hours, on days."""
    h, wd = local(t)
    since = (h - start_h) % 24
    started_on = wd if h >= start_h else (wd - 1) % 7
    return 1.0 if since < hours and started_on in days else 0.0


class Noise:
    """A slowly wandering multiplicative noise (AR(1)): samples close in
    time look alike, as real ones do."""

    def __init__(self, rng, sigma, keep=0.85):
        self.rng, self.sigma, self.keep, self.e = rng, sigma, keep, 0.0

    def __call__(self):
        self.e = self.keep * self.e + self.rng.gauss(0, self.sigma)
        return max(0.05, 1.0 + self.e)


class Jobs:
    """Batch jobs on a compute node: each starts with probability per step
    when the node is idle, runs a few hours at a level of load."""

    def __init__(self, rng, start_p, hours, level, busy=False):
        self.rng, self.start_p, self.hours, self.level = rng, start_p, hours, level
        self.busy = busy
        self.left, self.load = 0, 0.0

    def __call__(self, t):
        if self.left <= 0:
            # jobs are submitted more often in working hours
            p = self.start_p * (1.0 + 2.0 * office(t))
            if self.busy or self.rng.random() < p:
                self.left = int(self.rng.uniform(*self.hours) * 3600 / STEP)
                self.load = self.rng.uniform(*self.level)
            else:
                self.load = 0.0
        self.left -= 1
        return self.load


# ---- the servers ------------------------------------------------------------

CPUS = {
    "e5-2620v4": ("Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz", 8, 2100.0),
    "e5-2630v3": ("Intel(R) Xeon(R) CPU E5-2630 v3 @ 2.40GHz", 8, 2400.0),
    "e5-2640v4": ("Intel(R) Xeon(R) CPU E5-2640 v4 @ 2.40GHz", 10, 2400.0),
    "e3-1230v5": ("Intel(R) Xeon(R) CPU E3-1230 v5 @ 3.40GHz", 4, 3400.0),
    "e3-1220v6": ("Intel(R) Xeon(R) CPU E3-1220 v6 @ 3.00GHz", 4, 3000.0),
    "silver4110": ("Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz", 8, 2100.0),
    "silver4208": ("Intel(R) Xeon(R) Silver 4208 CPU @ 2.10GHz", 8, 2100.0),
    "gold6130": ("Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", 16, 2100.0),
    "e3-1230v3": ("Intel(R) Xeon(R) CPU E3-1230 v3 @ 3.30GHz", 4, 3300.0),
}

OSES = {
    "debian12": ("debian", "12", "Debian GNU/Linux 12 (bookworm)", "6.1.0-17-amd64"),
    "debian11": ("debian", "11", "Debian GNU/Linux 11 (bullseye)", "5.10.0-27-amd64"),
    "ubuntu2204": ("ubuntu", "22.04", "Ubuntu 22.04.3 LTS", "5.15.0-91-generic"),
    "ubuntu2004": ("ubuntu", "20.04", "Ubuntu 20.04.6 LTS", "5.4.0-169-generic"),
    "rocky8": ("rocky", "8.9", "Rocky Linux 8.9 (Green Obsidian)", "4.18.0-513.9.1.el8_9.x86_64"),
}

# name: role, group, tags, address, cpu, sockets, memory GiB, os,
#       disks [(device, size bytes, model, rotational, transport)],
#       filesystems [(device, type, mountpoint, size bytes, used bytes)],
#       listening [(proto, port, process)], services, extra
SERVERS = [
    dict(name="mail01", role="mail", group="mail", tags="prod", addr="10.10.1.25",
         cpu="e5-2620v4", sockets=1, mem=64, os="debian11",
         disks=[("sda", 960 * GB, "SAMSUNG MZ7KM960HAHP", False, "sata"),
                ("sdb", 960 * GB, "SAMSUNG MZ7KM960HAHP", False, "sata")],
         fs=[("/dev/md0", "ext4", "/", 60 * GB, 14 * GB),
             ("/dev/md1", "ext4", "/var/mail", 880 * GB, 412 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 25, "master"), ("tcp", 465, "master"),
                    ("tcp", 587, "master"), ("tcp", 143, "dovecot"), ("tcp", 993, "dovecot"),
                    ("tcp", 4190, "dovecot"), ("tcp", 783, "spamd")],
         services=["postfix.service", "dovecot.service", "spamassassin.service",
                   "opendkim.service", "clamav-daemon.service"]),
    dict(name="www01", role="web", group="website", tags="prod;dmz", addr="10.10.2.80",
         cpu="e5-2630v3", sockets=1, mem=32, os="debian12",
         disks=[("sda", 480 * GB, "INTEL SSDSC2KB480G8", False, "sata")],
         fs=[("/dev/sda2", "ext4", "/", 470 * GB, 58 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 80, "nginx"), ("tcp", 443, "nginx"),
                    ("tcp", 9000, "php-fpm8.2")],
         services=["nginx.service", "php8.2-fpm.service", "certbot.timer"]),
    dict(name="webmail01", role="web", group="mail", tags="prod;dmz", addr="10.10.2.81",
         cpu="e3-1230v5", sockets=1, mem=16, os="ubuntu2204",
         disks=[("sda", 240 * GB, "INTEL SSDSC2KB240G8", False, "sata")],
         fs=[("/dev/sda2", "ext4", "/", 235 * GB, 21 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 80, "apache2"), ("tcp", 443, "apache2")],
         services=["apache2.service", "php8.1-fpm.service", "memcached.service"]),
    dict(name="db01", role="database", group="website", tags="prod", addr="10.10.1.60",
         cpu="e5-2640v4", sockets=2, mem=128, os="debian11",
         disks=[("sda", 240 * GB, "INTEL SSDSC2KB240G8", False, "sata"),
                ("nvme0n1", 1600 * GB, "INTEL SSDPE2KE016T8", False, "nvme")],
         fs=[("/dev/sda2", "ext4", "/", 235 * GB, 18 * GB),
             ("/dev/nvme0n1p1", "xfs", "/var/lib/postgresql", 1600 * GB, 486 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 5432, "postgres"), ("tcp", 9187, "postgres_exporter")],
         services=["postgresql@15-main.service", "pgbackrest.timer"]),
    dict(name="mon01", role="monitoring", group="ops", tags="prod", addr="10.10.1.90",
         cpu="silver4110", sockets=1, mem=32, os="debian12",
         disks=[("sda", 960 * GB, "MICRON_5300_MTFDDAK960TDS", False, "sata")],
         fs=[("/dev/sda2", "ext4", "/", 940 * GB, 171 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 9090, "prometheus"), ("tcp", 3000, "grafana"),
                    ("tcp", 9093, "alertmanager"), ("tcp", 10051, "zabbix_server"),
                    ("tcp", 80, "nginx")],
         services=["prometheus.service", "grafana-server.service", "alertmanager.service",
                   "zabbix-server.service", "nginx.service"]),
    dict(name="gw01", role="ssh-gateway", group="access", tags="prod;dmz", addr="10.10.2.22",
         cpu="e3-1220v6", sockets=1, mem=8, os="debian12",
         disks=[("sda", 240 * GB, "INTEL SSDSC2KB240G8", False, "sata")],
         fs=[("/dev/sda2", "ext4", "/", 235 * GB, 9 * GB)],
         listening=[("tcp", 22, "sshd")],
         services=["ssh.service", "fail2ban.service"]),
    dict(name="gw02", role="ssh-gateway", group="access", tags="prod;dmz", addr="10.10.2.23",
         cpu="e3-1220v6", sockets=1, mem=8, os="debian12",
         disks=[("sda", 240 * GB, "INTEL SSDSC2KB240G8", False, "sata")],
         fs=[("/dev/sda2", "ext4", "/", 235 * GB, 8 * GB)],
         listening=[("tcp", 22, "sshd")],
         services=["ssh.service", "fail2ban.service"]),
    dict(name="dns01", role="dns", group="dns", tags="prod", addr="10.10.1.53",
         cpu="e3-1220v6", sockets=1, mem=8, os="debian12",
         disks=[("sda", 240 * GB, "INTEL SSDSC2KB240G8", False, "sata")],
         fs=[("/dev/sda2", "ext4", "/", 235 * GB, 7 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 53, "named"), ("udp", 53, "named"),
                    ("tcp", 953, "named"), ("udp", 123, "chronyd"), ("udp", 67, "dhcpd")],
         services=["named.service", "chrony.service", "isc-dhcp-server.service"]),
    dict(name="dns02", role="dns", group="dns", tags="prod", addr="10.10.1.55",
         cpu="e3-1220v6", sockets=1, mem=8, os="debian12",
         disks=[("sda", 240 * GB, "INTEL SSDSC2KB240G8", False, "sata")],
         fs=[("/dev/sda2", "ext4", "/", 235 * GB, 7 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 53, "named"), ("udp", 53, "named"),
                    ("tcp", 953, "named"), ("udp", 123, "chronyd")],
         services=["named.service", "chrony.service"]),
    dict(name="ldap01", role="directory", group="identity", tags="prod", addr="10.10.1.38",
         cpu="e3-1230v5", sockets=1, mem=16, os="debian11",
         disks=[("sda", 240 * GB, "INTEL SSDSC2KB240G8", False, "sata")],
         fs=[("/dev/sda2", "ext4", "/", 235 * GB, 11 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 389, "slapd"), ("tcp", 636, "slapd"),
                    ("tcp", 88, "krb5kdc"), ("udp", 88, "krb5kdc")],
         services=["slapd.service", "krb5-kdc.service", "krb5-admin-server.service"]),
    dict(name="nfs01", role="infrastructure", group="storage", tags="prod", addr="10.10.1.20",
         cpu="e5-2620v4", sockets=2, mem=128, os="debian11",
         disks=[("sda", 240 * GB, "INTEL SSDSC2KB240G8", False, "sata")]
         + [("sd" + chr(ord("b") + i), 8 * TB, "ST8000NM0055-1RM112", True, "sas")
            for i in range(12)],
         fs=[("/dev/sda2", "ext4", "/", 235 * GB, 12 * GB),
             ("/dev/md0", "xfs", "/export/home", 40 * TB, 23 * TB),
             ("/dev/md1", "xfs", "/export/data", 39 * TB, 31 * TB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 2049, "nfsd"), ("tcp", 111, "rpcbind"),
                    ("udp", 111, "rpcbind"), ("tcp", 20048, "rpc.mountd")],
         services=["nfs-server.service", "rpcbind.service", "mdmonitor.service",
                   "smartmontools.service"]),
    dict(name="backup01", role="backup", group="storage", tags="prod", addr="10.10.1.21",
         cpu="silver4208", sockets=1, mem=64, os="debian12",
         disks=[("sda", 480 * GB, "INTEL SSDSC2KB480G8", False, "sata")]
         + [("sd" + chr(ord("b") + i), 12 * TB, "ST12000NM001G-2MV103", True, "sas")
            for i in range(8)],
         fs=[("/dev/sda2", "ext4", "/", 470 * GB, 36 * GB),
             ("/dev/md0", "xfs", "/srv/bacula", 72 * TB, 51 * TB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 9101, "bacula-dir"), ("tcp", 9102, "bacula-fd"),
                    ("tcp", 9103, "bacula-sd"), ("tcp", 5432, "postgres")],
         services=["bacula-director.service", "bacula-sd.service", "bacula-fd.service",
                   "postgresql@15-main.service", "mtx-changer.service"],
         fc=[("host7", "0x21000024ff4b81c2")]),
    dict(name="compute01", role="compute", group="hpc", tags="research", addr="10.10.3.11",
         cpu="gold6130", sockets=1, mem=192, os="rocky8",
         disks=[("nvme0n1", 1920 * GB, "SAMSUNG MZQLB1T9HAJR-00007", False, "nvme")],
         fs=[("/dev/nvme0n1p2", "xfs", "/", 100 * GB, 22 * GB),
             ("/dev/nvme0n1p3", "xfs", "/scratch", 1800 * GB, 310 * GB)],
         nfs=[("nfs01:/export/home", "nfs4", "/home"), ("nfs01:/export/data", "nfs4", "/data")],
         listening=[("tcp", 22, "sshd"), ("tcp", 6818, "slurmd")],
         services=["slurmd.service", "munge.service", "sssd.service"]),
    dict(name="compute02", role="compute", group="hpc", tags="research", addr="10.10.3.12",
         cpu="gold6130", sockets=1, mem=192, os="rocky8",
         disks=[("nvme0n1", 1920 * GB, "SAMSUNG MZQLB1T9HAJR-00007", False, "nvme")],
         fs=[("/dev/nvme0n1p2", "xfs", "/", 100 * GB, 21 * GB),
             ("/dev/nvme0n1p3", "xfs", "/scratch", 1800 * GB, 540 * GB)],
         nfs=[("nfs01:/export/home", "nfs4", "/home"), ("nfs01:/export/data", "nfs4", "/data")],
         listening=[("tcp", 22, "sshd"), ("tcp", 6818, "slurmd")],
         services=["slurmd.service", "munge.service", "sssd.service"]),
    dict(name="compute03", role="compute", group="hpc", tags="research", addr="10.10.3.13",
         cpu="gold6130", sockets=2, mem=384, os="rocky8",
         disks=[("nvme0n1", 3840 * GB, "SAMSUNG MZQLB3T8HALS-00007", False, "nvme")],
         fs=[("/dev/nvme0n1p2", "xfs", "/", 100 * GB, 24 * GB),
             ("/dev/nvme0n1p3", "xfs", "/scratch", 3700 * GB, 2210 * GB)],
         nfs=[("nfs01:/export/home", "nfs4", "/home"), ("nfs01:/export/data", "nfs4", "/data")],
         listening=[("tcp", 22, "sshd"), ("tcp", 6818, "slurmd")],
         services=["slurmd.service", "munge.service", "sssd.service"]),
    dict(name="lic01", role="licence", group="cad", tags="prod", addr="10.10.1.70",
         cpu="e3-1230v3", sockets=1, mem=8, os="ubuntu2004",
         disks=[("sda", 500 * GB, "WDC WD5003ABYZ-011FA0", True, "sata")],
         fs=[("/dev/sda1", "ext4", "/", 490 * GB, 17 * GB)],
         listening=[("tcp", 22, "sshd"), ("tcp", 27000, "lmgrd"), ("tcp", 27001, "MLM"),
                    ("tcp", 1947, "hasplmd")],
         services=["lmgrd.service", "aksusbd.service", "ssh.service"],
         usb=[("0529", "0001", "SafeNet Inc.", "Sentinel HL", True)]),
]


# ---- what each server does, 5 minutes at a time ------------------------------

def profile(name, rng):
    """A function t -> (cpu_pct, mem_used_bytes, disk_rd_Bps, disk_wr_Bps,
    disk_rd_iops, disk_wr_iops, net_rx_Bps, net_tx_Bps) for one server."""
    n = Noise(rng, 0.06)
    nd = Noise(rng, 0.15, 0.6)

    def io(rd, wr, rx, tx, rd_io=64 * KIB, wr_io=32 * KIB):
        k = nd()
        rd, wr, rx, tx = rd * k, wr * k, rx * nd(), tx * nd()
        return rd, wr, rd / rd_io, wr / wr_io, rx, tx

    if name == "mail01":
        def f(t):
            o = office(t)
            cpu = (3 + 14 * o + 6 * window(t, 3, 0.5)) * n()
            if rng.random() < 0.02:  # a mailing list, a spam wave
                cpu += rng.uniform(10, 25)
            mem = (9.5 + 3 * o) * GIB * n()
            return (cpu, mem) + io(2e6 * o + 3e5 + 40e6 * window(t, 1, 1), 1.5e6 * o + 2e5,
                                   1.2e6 * o + 1e5, 8e5 * o + 6e4)
    elif name == "www01":
        def f(t):
            o = office(t)
            h, wd = local(t)
            visitors = 0.3 + 0.7 * ramp(h, 7, 10) * (1 - ramp(h, 20, 24)) * (0.6 if wd >= 5 else 1)
            cpu = (2 + 9 * visitors + 8 * o) * n()
            mem = (4.5 + 1.5 * visitors) * GIB * n()
            return (cpu, mem) + io(4e5 * visitors, 3e5 + 2e5 * o, 6e5 * visitors, 4.5e6 * visitors)
    elif name == "webmail01":
        def f(t):
            o = office(t)
            cpu = (1.5 + 22 * o) * n()
            mem = (2.8 + 2.5 * o) * GIB * n()
            return (cpu, mem) + io(1e5 + 3e5 * o, 1e5 + 2e5 * o, 2.5e6 * o + 5e4, 1.5e6 * o + 3e4)
    elif name == "db01":
        def f(t):
            o = office(t)
            dump = window(t, 2, 0.75)
            vacuum = window(t, 4, 0.5, days=[6])
            cpu = (3 + 18 * o + 22 * dump + 30 * vacuum) * n()
            mem = (38 + 8 * o + 4 * dump) * GIB * (1 + 0.01 * (n() - 1))
            return (cpu, mem) + io(6e6 * o + 1e6 + 140e6 * dump + 90e6 * vacuum,
                                   3e6 * o + 8e5 + 40e6 * vacuum, 3e6 * o + 2e5,
                                   5e6 * o + 3e5 + 80e6 * dump, 16 * KIB, 8 * KIB)
    elif name == "mon01":
        def f(t):
            days = (t - START) / 86400
            cpu = (11 + 3 * office(t)) * n()
            mem = (12 + 0.15 * days) * GIB * (1 + 0.01 * (n() - 1))
            return (cpu, mem) + io(3e5, 2.4e6, 1.8e6, 3e5, 64 * KIB, 16 * KIB)
    elif name in ("gw01", "gw02"):
        share = 0.65 if name == "gw01" else 0.35
        def f(t):
            o = office(t) * share
            burst = rng.random() < 0.01 * (1 + 4 * o)
            cpu = (0.8 + 6 * o) * n() + (rng.uniform(5, 20) if burst else 0)
            mem = (0.9 + 1.2 * o) * GIB * n()
            xfer = rng.uniform(10e6, 60e6) if burst else 0
            return (cpu, mem) + io(5e4, 5e4, 3e5 * o + xfer, 3e5 * o + xfer)
    elif name in ("dns01", "dns02"):
        share = 0.6 if name == "dns01" else 0.4
        def f(t):
            o = office(t)
            cpu = (1.2 + 3 * o * share) * n()
            mem = (0.9 + 0.2 * o) * GIB * n()
            return (cpu, mem) + io(2e4, 6e4, (1e5 + 4e5 * o) * share, (1.2e5 + 5e5 * o) * share)
    elif name == "ldap01":
        def f(t):
            o = office(t)
            h, wd = local(t)
            logins = math.exp(-((h - 8.5) ** 2) / 0.4) * (wd < 5)
            cpu = (1.5 + 4 * o + 9 * logins) * n()
            mem = (2.2 + 0.3 * o) * GIB * n()
            return (cpu, mem) + io(4e4, 1e5, 2e5 + 6e5 * o, 3e5 + 9e5 * o)
    elif name == "nfs01":
        def f(t):
            o = office(t)
            nightly = window(t, 23, 4)
            cpu = (4 + 14 * o + 10 * nightly) * n()
            mem = (20 + 6 * o) * GIB * n()
            return (cpu, mem) + io(45e6 * o + 4e6 + 110e6 * nightly, 30e6 * o + 3e6,
                                   30e6 * o + 2e6, 50e6 * o + 4e6 + 110e6 * nightly,
                                   256 * KIB, 128 * KIB)
    elif name == "backup01":
        def f(t):
            nightly = window(t, 22, 6, days=range(5))
            full = window(t, 20, 14, days=[5])
            job = max(nightly, full)
            cpu = (2 + 38 * job) * n()
            mem = (6 + 18 * job) * GIB * n()
            return (cpu, mem) + io(3e5 + 60e6 * full, 5e5 + 180e6 * job, 2e5 + 160e6 * job,
                                   1e5 + 2e6 * job, 512 * KIB, 512 * KIB)
    elif name in ("compute01", "compute02"):
        jobs = Jobs(rng, 0.004 if name == "compute01" else 0.003, (1.5, 14), (35, 92))
        def f(t):
            j = jobs(t)
            cpu = (0.8 + j) * n()
            mem = (4 + 0.75 * j) * GIB * n()
            return (cpu, mem) + io(8e6 * j / 50 + 1e5, 5e6 * j / 50 + 1e5, 20e6 * j / 50 + 1e5,
                                   6e6 * j / 50 + 1e5, 256 * KIB, 128 * KIB)
    elif name == "compute03":
        jobs = Jobs(rng, 1.0, (6, 30), (86, 97), busy=True)
        def f(t):
            j = jobs(t)
            cpu = min(100, j * n())
            mem = (210 + 1.2 * j) * GIB * (1 + 0.02 * (n() - 1))
            return (cpu, mem) + io(30e6, 15e6, 45e6, 12e6, 256 * KIB, 128 * KIB)
    elif name == "lic01":
        def f(t):
            o = office(t)
            cpu = (0.6 + 1.2 * o) * n()
            mem = (0.8 + 0.2 * o) * GIB * n()
            return (cpu, mem) + io(1e4, 3e4, 2e4 + 5e4 * o, 2e4 + 4e4 * o)
    else:
        raise KeyError(name)
    return f


# ---- facts ------------------------------------------------------------------

def mac(rng):
    return "3c:ec:ef:" + ":".join("%02x" % rng.randrange(256) for _ in range(3))


def facts(s, rng):
    model, cores_per_socket, mhz = CPUS[s["cpu"]]
    cores = cores_per_socket * s["sockets"]
    osid, ver, pretty, kernel = OSES[s["os"]]
    uefi = s["cpu"] != "e3-1230v3"  # the licence server is an old BIOS machine
    fs = list(s["fs"])
    root = fs[0][0]
    if uefi and root.endswith("2"):
        # the EFI system partition in front of the root file system
        fs.insert(1, (root[:-1] + "1", "vfat", "/boot/efi", 535 * MIB, 6 * MIB))
    has_md = any(d.startswith("/dev/md") for d, *_ in fs)
    disks = []
    for dev, size, dmodel, rot, transport in s["disks"]:
        parts = []
        for fdev, ftype, mnt, fsize, _ in fs:
            if fdev.startswith("/dev/" + dev) and fdev != "/dev/" + dev:
                parts.append({"name": fdev[5:], "size_bytes": fsize + 1 * MIB,
                              "fstype": ftype, "mountpoint": mnt})
        if not parts and has_md:
            parts = [{"name": dev + "1", "size_bytes": size - 2 * MIB,
                      "fstype": "linux_raid_member", "mountpoint": None}]
        parts.sort(key=lambda x: x["name"])
        disks.append({"name": dev, "size_bytes": size, "model": dmodel, "rotational": rot,
                      "transport": transport, "partitions": parts})
    filesystems = [{"device": d, "type": ty, "mountpoint": m, "size_bytes": sz,
                    "used_bytes": u} for d, ty, m, sz, u in fs]
    fast = s["role"] in ("infrastructure", "backup", "compute", "database")
    nics = [
        {"name": "eno1", "mac": mac(rng), "speed_mbps": 10000 if fast else 1000, "state": "up",
         "physical": True, "addresses": [s["addr"] + "/24"]},
        {"name": "eno2", "mac": mac(rng), "speed_mbps": None, "state": "down",
         "physical": True, "addresses": []},
    ]
    listening, pids = [], {}
    for proto, port, proc in s["listening"]:
        pid = pids.setdefault(proc, rng.randrange(600, 4000))
        for addr in ("0.0.0.0", "::") if proto == "tcp" else ("0.0.0.0",):
            listening.append({"proto": proto, "address": addr, "port": port,
                              "process": proc, "pid": pid})
    usb = [{"vendor_id": v, "product_id": p, "manufacturer": m, "product": pr, "dongle": d}
           for v, p, m, pr, d in s.get("usb", [])]
    fc = [{"name": n, "port_name": p} for n, p in s.get("fc", [])]
    blockers = []
    for u in usb:
        if u["dongle"]:
            blockers.append("USB licence dongle %s:%s (SafeNet HASP): needs USB passthrough or "
                            "a network dongle server" % (u["vendor_id"], u["product_id"]))
    for h in fc:
        blockers.append("Fibre Channel HBA %s (port %s): SAN storage must be re-presented to "
                        "the hypervisor" % (h["name"], h["port_name"]))
    base_services = ["cron.service", "rsyslog.service", "ssh.service" if osid != "rocky"
                     else "sshd.service", "chrony.service" if osid != "rocky" else "chronyd.service",
                     "prometheus-node-exporter.service"]
    services = sorted(set(base_services + s["services"]))
    return {
        "name": s["name"],
        "hostname": s["name"] + ".lab.example.org",
        "collected_at": FACTS_TIME,
        "os": {"id": osid, "version_id": ver, "pretty_name": pretty, "kernel": kernel,
               "arch": "x86_64"},
        "cpu": {"model": model, "vendor": "Intel", "sockets": s["sockets"], "cores": cores,
                "threads": cores * 2, "mhz": mhz},
        "memory": {"total_bytes": s["mem"] * GIB - 412 * MIB},
        "disks": disks,
        "lvm": [],
        "filesystems": filesystems,
        "nfs_mounts": [{"source": a, "type": b, "mountpoint": c} for a, b, c in s.get("nfs", [])],
        "nics": nics,
        "boot_mode": "uefi" if uefi else "bios",
        "virtualization": "none",
        "listening": listening,
        "services": services,
        "hardware": {"usb": usb, "fc_hbas": fc, "gpus": []},
        "virtualization_blockers": blockers,
    }


# ---- writing ------------------------------------------------------------------

COLUMNS = ("server,timestamp,cpu_pct,cpu_mhz,mem_used[MiB],mem_total[MiB],"
           "disk_rd_bps[KiB/s],disk_wr_bps[KiB/s],disk_rd_iops,disk_wr_iops,"
           "net_rx_bps[KiB/s],net_tx_bps[KiB/s]")


def data_rows(s, rng):
    model, cores_per_socket, mhz = CPUS[s["cpu"]]
    capacity = cores_per_socket * s["sockets"] * mhz
    total_mib = (s["mem"] * GIB - 412 * MIB) // MIB
    f = profile(s["name"], rng)
    for k in range(1, DAYS * 86400 // STEP + 1):
        t = START + k * STEP  # a row covers the 5 minutes before it
        cpu, mem, rd, wr, rdi, wri, rx, tx = f(t)
        if GAP[0] == s["name"] and GAP[1] < t <= GAP[2]:
            continue
        cpu = min(100.0, max(0.0, cpu))
        mem_mib = min(total_mib - 256, mem / MIB)
        yield "%s,%d,%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%d" % (
            s["name"], t, cpu, round(cpu / 100 * capacity), round(mem_mib), total_mib,
            round(rd / KIB), round(wr / KIB), round(rdi), round(wri), round(rx / KIB),
            round(tx / KIB))


def write(out):
    os.makedirs(os.path.join(out, "facts"), exist_ok=True)
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    inv = ["# The laboratory sample: 16 physical servers of a research laboratory.",
           "# Method import: their data comes from data/lab.csv.gz (kvmshift import),",
           "# their facts from facts/NAME.json. Written by samples/tools/make_lab.py.",
           "name,address,method,port,user,key,role,group,tags"]
    text = io.StringIO()
    text.write(COLUMNS + "\n")
    for i, s in enumerate(SERVERS):
        rng = random.Random("kvmshift-lab-" + s["name"])
        inv.append("%s,%s,import,,,,%s,%s,%s" % (s["name"], s["addr"], s["role"], s["group"],
                                               s["tags"]))
        with open(os.path.join(out, "facts", s["name"] + ".json"), "w") as fh:
            json.dump(facts(s, rng), fh, indent=2)
            fh.write("\n")
        for row in data_rows(s, rng):
            text.write(row + "\n")
    with open(os.path.join(out, "inventory.csv"), "w") as fh:
        fh.write("\n".join(inv) + "\n")
    # mtime 0 and no file name in the header: the same bytes on every run
    with open(os.path.join(out, "data", "lab.csv.gz"), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as gz:
            gz.write(text.getvalue().encode())


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "lab"))
