#!/bin/bash
# build-image.sh: build, or find already built, the test "physical server":
# a small Debian 12 (bookworm) system on two disks, as P2V tests expect a
# real server to look (BIOS boot from an MBR disk, / on LVM, a data disk,
# /dev/sdX names, no virtio driver in the initramfs). See README.md here.
#
#     tests/guest/build-image.sh        # prints the image directory
#
# Run as root. Prints only the image directory on stdout (progress and
# errors on stderr). The image is kept in
#     ${KS_GUEST_CACHE:-/var/cache/kvmshift-tests}/debian12-FLAVOUR-HASH/
# where HASH is the first 16 hex digits of the sha256 of this file and the
# flavour: they are the whole recipe, so any change to it builds a new image and
# never reuses an old one. A second call finds the directory and returns at
# once. The image is put together in a temporary directory next to it and
# renamed into place when complete (a half-built image is never used); a
# lock (flock on $KS_GUEST_CACHE/.lock) serialises builds. Downloaded .debs
# are kept in $KS_GUEST_CACHE/debs for the next recipe.
#
# Environment:
#   KS_GUEST_FLAVOUR lvm (default): / and swap on LVM (vg0) on sda2, /boot on
#                    sda1, the NIC ens3 (predictable name), and
#                    scsi_mod.scan=sync (the disks keep their names: a boot
#                    with sda and sdb swapped had to be done again, minutes
#                    under TCG);
#                    plain: / on sda2 itself (root=/dev/sda2 on the kernel's
#                    command line, no LVM, no swap), /boot on sda1, the NIC
#                    eth0 the old way (net.ifnames=0 and a line of
#                    70-persistent-net.rules for its MAC), and
#                    scsi_mod.scan=sync so that its AHCI disks keep their
#                    names from boot to boot (root=/dev/sda2 needs it)
#   KS_GUEST_CACHE   cache root (default /var/cache/kvmshift-tests)
#   KS_GUEST_MIRROR  Debian mirror URL; default: the bookworm mirror that
#                    this machine's apt sources name
#   KS_KEEP=1        keep the temporary build directory of a failed build
#
# What is in the image directory:
#   sda.qcow2 sdb.qcow2       the two disks (qcow2, read-only files: boot
#                             with overlays, see guest.sh)
#   SHA256SUMS                sha256 of both disks, as built
#   vmlinuz initrd.img        copies of the guest's kernel and initramfs
#   id_ed25519{,.pub}         client key authorized for root in the guest
#   ssh_host_ed25519_key.pub  the guest's (only) ssh host key
#   data.sha256               sha256sum list of the files on /data
#   image.env                 facts about the image, as shell assignments
#   packages.txt build.log    installed packages, the build's full output
#
# Host requirements: no device-mapper is needed (the build machines'
# kernels have none): the LVM metadata is written with
# `lvm --driverloaded n`, and each logical volume is reached through a loop
# device at its offset in the disk file.
set -euo pipefail
umask 022
export LC_ALL=C
export LVM_SUPPRESS_FD_WARNINGS=1

# --- the recipe ------------------------------------------------------------
SUITE=bookworm
PACKAGES=linux-image-amd64,grub-pc,lvm2,openssh-server,ifupdown,zstd,gzip,coreutils,e2fsprogs,procps,iproute2,initramfs-tools,kmod,systemd-sysv,udev
MiB=$((1024 * 1024))
SDA_MIB=2048 # disk A: sda1 /boot, sda2 LVM PV of vg0
BOOT_START_MIB=1
BOOT_END_MIB=201
SDB_MIB=256  # disk B: sdb1 /data
EXTENT_MIB=4
ROOT_EXTENTS=325 # 1300 MiB
SWAP_EXTENTS=16  # 64 MiB
MIN_FREE_MIB=400 # vg0 must keep this free for P2V's snapshots
# Fixed UUIDs: every build of one recipe gives the same names.
UUID_BOOT=5e2c3b1a-0b00-4a5d-9c1e-000000000001
UUID_ROOT=5e2c3b1a-0b00-4a5d-9c1e-000000000002
UUID_SWAP=5e2c3b1a-0b00-4a5d-9c1e-000000000003
UUID_DATA=5e2c3b1a-0b00-4a5d-9c1e-000000000004
MACHINE_ID=5e2c3b1a0b004a5d9c1e0000000000aa
GUEST_HOSTNAME=ks-physrv
IFACE=ens3 # the e1000 NIC at PCI slot 3 (guest.sh pins addr=0x3)
ADDR=10.0.2.15/24
INITRAMFS_MODULES="ahci libahci sd_mod ata_piix ata_generic libata scsi_mod e1000 ext4 crc32c_generic dm_mod"
GUEST_MAC=52:54:00:12:34:56 # the NIC's MAC (guest.sh's default)
FLAVOUR=${KS_GUEST_FLAVOUR:-lvm}
case $FLAVOUR in
lvm) ROOT_CMDLINE="root=/dev/mapper/vg0-root scsi_mod.scan=sync" ;;
plain)
    IFACE=eth0
    ROOT_CMDLINE="root=/dev/sda2 net.ifnames=0 scsi_mod.scan=sync"
    ;;
*)
    echo "build-image: KS_GUEST_FLAVOUR must be lvm or plain, not '$FLAVOUR'" >&2
    exit 2
    ;;
esac
# ---------------------------------------------------------------------------

SELF=$(readlink -f "${BASH_SOURCE[0]}")
T0=$SECONDS

say() { printf 'build-image: [%4ds] %s\n' $((SECONDS - T0)) "$*" >&2; }
die() {
    printf 'build-image: ERROR: %s\n' "$*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (loop devices, mounts, chroot)"
for c in debootstrap parted losetup lvm mkfs.ext4 mkswap e2fsck fstrim qemu-img ssh-keygen flock chroot findmnt sha256sum wget; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed (packages: debootstrap parted lvm2 e2fsprogs qemu-utils openssh-client util-linux mount wget)"
done
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || die "'$KEYRING' is missing: install debian-archive-keyring"

# the recipe is this file's content and the flavour (not where the checkout
# is: a clone in another directory, as CI's, finds the same image)
HASH=$({ sha256sum <"$SELF" && echo "$FLAVOUR"; } | sha256sum | cut -c1-16)
CACHE=${KS_GUEST_CACHE:-/var/cache/kvmshift-tests}
FINAL=$CACHE/debian12-$FLAVOUR-$HASH

# The bookworm mirror from the apt sources (one-line and deb822 formats).
ks_mirror() {
    if [ -n "${KS_GUEST_MIRROR:-}" ]; then
        printf '%s\n' "$KS_GUEST_MIRROR"
        return 0
    fi
    local f
    local -a files=()
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] && files+=("$f")
    done
    if [ ${#files[@]} -gt 0 ]; then
        awk -v suite="$SUITE" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) { print $i; exit }
            }' "${files[@]}"
    fi
    files=()
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] && files+=("$f")
    done
    if [ ${#files[@]} -gt 0 ]; then
        awk -v suite="$SUITE" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && enabled != "no" && uris != "") {
                    split(uris, u, " "); print u[1]; found = 1; exit
                }
                types = suites = uris = ""; enabled = "yes"
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                key = tolower($1); sub(/:$/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                if (key == "types") types = val
                else if (key == "suites") suites = val
                else if (key == "uris") uris = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { if (!found) flush() }' "${files[@]}"
    fi
}

mkdir -p "$CACHE"
exec {LOCKFD}>>"$CACHE/.lock"
if ! flock -n "$LOCKFD"; then
    say "another build holds $CACHE/.lock: waiting (up to 30 min)"
    flock -w 1800 "$LOCKFD" || die "lock $CACHE/.lock still held after 30 min"
fi
if [ -f "$FINAL/image.env" ]; then
    printf '%s\n' "$FINAL"
    exit 0
fi

# Leftovers of builds that were killed (we hold the lock: none is running).
# Mounts are undone and loop devices detached first; rm never crosses a
# mount point.
ks_undo_dir() {
    local dir=$1 m l
    findmnt -rn -o TARGET | awk -v p="$dir/" 'index($0, p) == 1' | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    losetup -n -O NAME,BACK-FILE 2>/dev/null | awk -v p="$dir/" 'index($2, p) == 1 { print $1 }' | while read -r l; do
        losetup -d "$l" 2>/dev/null || true
    done
    if findmnt -rn -o TARGET | awk -v p="$dir/" 'index($0, p) == 1 { f = 1 } END { exit !f }'; then
        printf 'build-image: WARNING: %s still has mounts: left in place\n' "$dir" >&2
        return 1
    fi
    rm -rf --one-file-system "$dir"
}
for old in "$CACHE"/.build-*; do
    [ -d "$old" ] || continue
    say "removing the leftover build directory $old"
    ks_undo_dir "$old" || true
done

MIRROR=$(ks_mirror | head -n 1)
[ -n "$MIRROR" ] || die "no Debian $SUITE mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/: set KS_GUEST_MIRROR=URL"
say "building $FINAL from $MIRROR (recipe $HASH)"

TMP=$(mktemp -d "$CACHE/.build-debian12-$HASH.XXXXXX")
OUT=$TMP/image
R=$TMP/root
LOG=$TMP/build.log
mkdir -p "$OUT" "$R" "$CACHE/debs"
: >"$LOG"
MOUNTS=()
LOOPS=()
OK=0

cleanup() {
    local rc=$? i
    set +e
    trap - EXIT INT TERM HUP
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null
    done
    for ((i = ${#LOOPS[@]} - 1; i >= 0; i--)); do
        losetup -d "${LOOPS[i]}" 2>/dev/null
    done
    if [ $OK != 1 ]; then
        printf 'build-image: FAILED (exit %s); the end of %s:\n' "$rc" "$LOG" >&2
        tail -n 25 "$LOG" | sed 's/^/    /' >&2
        if [ "${KS_KEEP:-0}" = 1 ]; then
            printf 'build-image: KS_KEEP=1: build directory kept: %s\n' "$TMP" >&2
        else
            ks_undo_dir "$TMP"
        fi
        [ "$rc" != 0 ] || rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Run a command with its output in the log.
run() {
    printf '+ %s\n' "$*" >>"$LOG"
    "$@" >>"$LOG" 2>&1
}
mnt() {
    run mount "$@"
    MOUNTS+=("${!#}")
}
# loop VAR LOSETUP-ARGS...: attach a loop device, its name in VAR.
loop() {
    local -n var=$1
    shift
    var=$(losetup -f --show "$@") || die "losetup $* failed"
    LOOPS+=("$var")
}
in_root() {
    printf '+ chroot: %s\n' "$*" >>"$LOG"
    in_root_out "$@" >>"$LOG" 2>&1
}
# The same, output on stdout.
in_root_out() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive \
        chroot "$R" "$@"
}
lvmc() {
    local dev=$1
    shift
    run lvm "$@" --driverloaded n --config "
        devices { filter = [ \"a|^$dev\$|\", \"r|.*|\" ] obtain_device_list_from_udev = 0 use_devicesfile = 0 }
        activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
        backup { backup = 0 archive = 0 }"
}
lvmq() {
    local dev=$1
    shift
    lvm "$@" --driverloaded n --config "
        devices { filter = [ \"a|^$dev\$|\", \"r|.*|\" ] obtain_device_list_from_udev = 0 use_devicesfile = 0 }
        backup { backup = 0 archive = 0 }" 2>>"$LOG"
}
# The partition node of a loop device. devtmpfs makes it after losetup -P
# when the kernel reads MBR tables itself; kernels built without
# CONFIG_MSDOS_PARTITION (the build machines') need partx to add them.
part() {
    local dev=$1 n=$2 i
    for ((i = 0; i < 60; i++)); do
        [ -b "${dev}p$n" ] && { printf '%s\n' "${dev}p$n"; return 0; }
        [ $i = 5 ] && run partx -a "$dev"
        sleep 0.1
    done
    die "partition node ${dev}p$n did not appear (losetup -P, then partx -a $dev)"
}

# --- disks -----------------------------------------------------------------
say "disks ($FLAVOUR): sda ${SDA_MIB} MiB (sda1 /boot, sda2 $([ "$FLAVOUR" = lvm ] && echo "LVM vg0" || echo /)), sdb ${SDB_MIB} MiB (sdb1 /data)"
truncate -s "${SDA_MIB}M" "$TMP/sda.raw"
truncate -s "${SDB_MIB}M" "$TMP/sdb.raw"
run parted -s "$TMP/sda.raw" mklabel msdos \
    mkpart primary ext4 "${BOOT_START_MIB}MiB" "${BOOT_END_MIB}MiB" \
    mkpart primary "${BOOT_END_MIB}MiB" 100%
[ "$FLAVOUR" = lvm ] && run parted -s "$TMP/sda.raw" set 2 lvm on
run parted -s "$TMP/sdb.raw" mklabel msdos mkpart primary ext4 1MiB 100%
loop LA -P "$TMP/sda.raw"
loop LB -P "$TMP/sdb.raw"
SDA1=$(part "$LA" 1)
SDA2=$(part "$LA" 2)
SDB1=$(part "$LB" 1)

if [ "$FLAVOUR" = lvm ]; then
    lvmc "$SDA2" pvcreate -y "$SDA2"
    lvmc "$SDA2" vgcreate -y -s "${EXTENT_MIB}m" vg0 "$SDA2"
    lvmc "$SDA2" lvcreate -y -an -Zn -Wn -l "$ROOT_EXTENTS" -n root vg0
    lvmc "$SDA2" lvcreate -y -an -Zn -Wn -l "$SWAP_EXTENTS" -n swap vg0
    FREE_MIB=$(lvmq "$SDA2" vgs --noheadings --nosuffix --units m -o vg_free vg0 | tr -d ' ')
    FREE_MIB=${FREE_MIB%%.*}
    [ "$FREE_MIB" -ge "$MIN_FREE_MIB" ] || die "vg0 has only $FREE_MIB MiB free (want $MIN_FREE_MIB)"
    PE_START=$(lvmq "$SDA2" pvs --noheadings --nosuffix --units b -o pe_start "$SDA2" | tr -d ' ')
    P2_START=$(($(cat "/sys/block/${LA#/dev/}/${SDA2#/dev/}/start") * 512))
    # Byte offset in sda.raw of a linear, single-segment LV.
    lv_offset() {
        local r first
        r=$(lvmq "$SDA2" lvs --noheadings -o seg_pe_ranges "vg0/$1" | tr -d ' ')
        [[ $r =~ ^[^:]+:([0-9]+)-([0-9]+)$ ]] || die "unexpected layout of vg0/$1: '$r'"
        first=${BASH_REMATCH[1]}
        printf '%s\n' $((P2_START + PE_START + first * EXTENT_MIB * MiB))
    }
    ROOT_OFF=$(lv_offset root)
    SWAP_OFF=$(lv_offset swap)
    loop ROOT_DEV -o "$ROOT_OFF" --sizelimit $((ROOT_EXTENTS * EXTENT_MIB * MiB)) "$TMP/sda.raw"
    loop SWAP_DEV -o "$SWAP_OFF" --sizelimit $((SWAP_EXTENTS * EXTENT_MIB * MiB)) "$TMP/sda.raw"
else
    FREE_MIB=0
    ROOT_DEV=$SDA2
    SWAP_DEV=
fi

MKFS=(mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0)
run "${MKFS[@]}" -L boot -U "$UUID_BOOT" "$SDA1"
run "${MKFS[@]}" -L root -U "$UUID_ROOT" "$ROOT_DEV"
run "${MKFS[@]}" -L data -U "$UUID_DATA" "$SDB1"
[ -z "$SWAP_DEV" ] || run mkswap -L swap -U "$UUID_SWAP" "$SWAP_DEV"
mnt "$ROOT_DEV" "$R"
mkdir -p "$R/boot" "$R/data"
mnt "$SDA1" "$R/boot"
mnt "$SDB1" "$R/data"

# --- debootstrap -------------------------------------------------------------
say "debootstrap $SUITE, first stage (downloads into $CACHE/debs)"
run debootstrap --foreign --variant=minbase --include="$PACKAGES" \
    --keyring="$KEYRING" --cache-dir="$CACHE/debs" "$SUITE" "$R" "$MIRROR" ||
    die "debootstrap (first stage) failed: see the log below"

# Set before the packages are configured, so that the kernel's postinst
# makes the one initramfs we want: a fixed list of drivers for the emulated
# hardware of a "physical" server (AHCI disks, e1000 NIC), no virtio. Files
# no package owns (conf.d, /usr/share/initramfs-tools/modules.d).
mkdir -p "$R/etc/initramfs-tools/conf.d" "$R/usr/share/initramfs-tools/modules.d"
cat >"$R/etc/initramfs-tools/conf.d/kvmshift.conf" <<'EOF'
# kvmshift test server: only the drivers listed in
# /usr/share/initramfs-tools/modules.d/kvmshift (no virtio), no resume device.
MODULES=list
RESUME=none
COMPRESS=zstd
EOF
printf '%s\n' "# kvmshift test server: the drivers of its (emulated) hardware" $INITRAMFS_MODULES \
    >"$R/usr/share/initramfs-tools/modules.d/kvmshift"
# No service starts in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"

mnt --bind /dev "$R/dev"
say "debootstrap $SUITE, second stage (installs and configures the packages)"
in_root /debootstrap/debootstrap --second-stage ||
    die "debootstrap (second stage) failed: see the log below"
mnt -t proc proc "$R/proc"
mnt -t sysfs sysfs "$R/sys"

# --- configuration -----------------------------------------------------------
say "configuring"
if [ "$FLAVOUR" = lvm ]; then
    cat >"$R/etc/fstab" <<'EOF'
# kvmshift test server: /dev/sdX names, as on an old physical server
/dev/mapper/vg0-root  /      ext4  errors=remount-ro  0 1
/dev/sda1             /boot  ext4  defaults           0 2
/dev/sdb1             /data  ext4  defaults           0 2
/dev/mapper/vg0-swap  none   swap  sw                 0 0
EOF
else
    cat >"$R/etc/fstab" <<'EOF'
# kvmshift test server (plain): /dev/sdX names, as on an old physical server
/dev/sda2             /      ext4  errors=remount-ro  0 1
/dev/sda1             /boot  ext4  defaults           0 2
/dev/sdb1             /data  ext4  defaults           0 2
EOF
    # the old way of keeping a NIC's name: udev's persistent-net rule
    mkdir -p "$R/etc/udev/rules.d"
    cat >"$R/etc/udev/rules.d/70-persistent-net.rules" <<EOF
# This file was automatically generated by the /lib/udev/write_net_rules
# program, run by the persistent-net-generator.rules rules file.
# PCI device 0x8086:0x100e (e1000)
SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="$GUEST_MAC", ATTR{dev_id}=="0x0", ATTR{type}=="1", KERNEL=="eth*", NAME="$IFACE"
EOF
fi
printf '%s\n' "$GUEST_HOSTNAME" >"$R/etc/hostname"
cat >"$R/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$GUEST_HOSTNAME
::1		localhost ip6-localhost ip6-loopback
EOF
printf '%s\n' "$MACHINE_ID" >"$R/etc/machine-id"
# No resolver: nothing in the guest looks a name up outside.
: >"$R/etc/resolv.conf"
mkdir -p "$R/etc/network"
cat >"$R/etc/network/interfaces" <<EOF
# kvmshift test server: static address, no gateway, no DHCP.
# $IFACE is the e1000 NIC at PCI slot 3 (qemu -device e1000,addr=0x3).
auto lo
iface lo inet loopback

auto $IFACE
iface $IFACE inet static
    address $ADDR
EOF
# Nothing reaches the network, nothing wakes up on a timer.
for u in apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
    systemd-timesyncd.service e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
    ln -sf /dev/null "$R/etc/systemd/system/$u"
done
mkdir -p "$R/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$R/etc/systemd/journald.conf.d/kvmshift.conf"

# ssh: one stable host key (its public half goes to the image directory),
# root by key only, the client key of the image directory authorized.
rm -f "$R"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C "root@$GUEST_HOSTNAME" -f "$R/etc/ssh/ssh_host_ed25519_key" </dev/null
ssh-keygen -q -t ed25519 -N '' -C "kvmshift-test-client" -f "$OUT/id_ed25519" </dev/null
cp "$R/etc/ssh/ssh_host_ed25519_key.pub" "$OUT/ssh_host_ed25519_key.pub"
mkdir -p "$R/etc/ssh/sshd_config.d"
cat >"$R/etc/ssh/sshd_config.d/kvmshift.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF
install -d -m 0700 "$R/root/.ssh"
install -m 0600 "$OUT/id_ed25519.pub" "$R/root/.ssh/authorized_keys"
in_root passwd -l root
# The VG's metadata backup, as the guest's own lvm would keep it.
if [ "$FLAVOUR" = lvm ]; then
    mkdir -p "$R/etc/lvm/backup"
    lvmc "$SDA2" vgcfgbackup -f "$R/etc/lvm/backup/vg0" vg0
fi

KVER=$(basename "$(ls -1 "$R"/boot/vmlinuz-* | tail -n 1)")
KVER=${KVER#vmlinuz-}
[ -f "$R/boot/initrd.img-$KVER" ] || in_root update-initramfs -c -k "$KVER"
lsinitramfs "$R/boot/initrd.img-$KVER" >"$TMP/initramfs.txt" || die "lsinitramfs failed on initrd.img-$KVER"
if grep -i virtio "$TMP/initramfs.txt" >>"$LOG"; then
    die "the initramfs holds virtio modules (listed in the log)"
fi
for m in ahci sd_mod ata_piix e1000 ext4 dm-mod; do
    grep -q "/$m\.ko" "$TMP/initramfs.txt" || die "the initramfs lacks the module $m"
done
for p in isc-dhcp-client dhcpcd-base systemd-timesyncd ntp chrony; do
    ! in_root_out dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok' ||
        die "package $p is installed: it would reach the network"
done

# --- boot loader ---------------------------------------------------------------
say "grub-pc on sda (kernel $KVER)"
in_root grub-install --target=i386-pc --no-floppy --modules="part_msdos ext2" "$LA" ||
    die "grub-install on $LA failed"
cat >"$R/boot/grub/grub.cfg" <<EOF
# kvmshift test server (written by tests/guest/build-image.sh)
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set default=0
set timeout=0
insmod part_msdos
insmod ext2
set root=(hd0,msdos1)
menuentry 'Debian GNU/Linux 12, kernel $KVER' {
    linux /vmlinuz-$KVER $ROOT_CMDLINE ro console=tty0 console=ttyS0,115200n8
    initrd /initrd.img-$KVER
}
EOF

# --- /data -----------------------------------------------------------------------
say "files on /data"
mkdir -p "$R/data/docs" "$R/data/db"
cp -a "$R/usr/share/common-licenses/." "$R/data/docs/"
head -c $((4 * MiB)) /dev/urandom >"$R/data/db/random.bin"
head -c $((1 * MiB)) /dev/zero >"$R/data/db/zeros.bin"
tar -C "$R/etc" -cf "$R/data/etc.tar" . 2>>"$LOG"
printf 'kvmshift test server %s, recipe %s\n' "$GUEST_HOSTNAME" "$HASH" >"$R/data/README"
(cd "$R/data" && find . -type f ! -name SHA256SUMS ! -path './lost+found/*' -print0 | sort -z |
    xargs -0 sha256sum) >"$R/data/SHA256SUMS"
cp "$R/data/SHA256SUMS" "$OUT/data.sha256"

# --- finish ----------------------------------------------------------------------
in_root_out dpkg-query -W -f='${Package} ${Version}\n' >"$OUT/packages.txt"
rm -f "$R/usr/sbin/policy-rc.d"
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin "$R"/var/lib/apt/lists/* "$R/debootstrap"
cp "$R/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
cp "$R/boot/initrd.img-$KVER" "$OUT/initrd.img"
# Hand back the blocks of deleted files (holes in the disk files again).
run fstrim "$R/data" || true
run fstrim "$R/boot" || true
run fstrim "$R" || true
for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    run umount "${MOUNTS[i]}" || die "cannot unmount ${MOUNTS[i]}"
done
MOUNTS=()
for d in "$SDA1" "$ROOT_DEV" "$SDB1"; do
    run e2fsck -fn "$d" || die "e2fsck finds errors on $d"
done
for ((i = ${#LOOPS[@]} - 1; i >= 0; i--)); do
    run losetup -d "${LOOPS[i]}" || die "cannot detach ${LOOPS[i]}"
done
LOOPS=()

say "qcow2 base images"
for d in sda sdb; do
    run qemu-img convert -f raw -O qcow2 "$TMP/$d.raw" "$OUT/$d.qcow2"
    rm -f "$TMP/$d.raw"
    chmod 0444 "$OUT/$d.qcow2"
done
(cd "$OUT" && sha256sum sda.qcow2 sdb.qcow2) >"$OUT/SHA256SUMS"
cat >"$OUT/image.env" <<EOF
# kvmshift test server image, written by tests/guest/build-image.sh
KS_GUEST_RECIPE=$HASH
KS_GUEST_FLAVOUR=$FLAVOUR
KS_GUEST_SUITE=$SUITE
KS_GUEST_KERNEL=$KVER
KS_GUEST_FORMAT=qcow2
KS_GUEST_HOSTNAME=$GUEST_HOSTNAME
KS_GUEST_IFACE=$IFACE
KS_GUEST_ADDR=${ADDR%/*}
KS_GUEST_VG_FREE_MIB=$FREE_MIB
KS_GUEST_BUILD_SECONDS=$((SECONDS - T0))
KS_GUEST_BUILT='$(date -u '+%F %T UTC')'
KS_GUEST_MIRROR_USED='$MIRROR'
EOF
cp "$LOG" "$OUT/build.log"
mv -T "$OUT" "$FINAL" || die "cannot rename $OUT to $FINAL"
OK=1
rm -rf --one-file-system "$TMP"
say "done: $FINAL ($(du -sh "$FINAL" | cut -f1) on disk)"
printf '%s\n' "$FINAL"
