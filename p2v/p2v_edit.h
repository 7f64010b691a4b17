/* p2v_edit.h: the text edits of a conversion (p2v_edit.c), as pure
 * functions of the file's text, so that each is unit-tested apart from
 * libguestfs: device names in fstab, crypttab and kernel command lines,
 * the serial console, the initramfs module list, LVM and mdadm device
 * filters, the udev rule that names a NIC.
 *
 * Each edit returns the new text (the caller frees it), or NULL when the
 * text needs no change; it appends one line per change, and per name it
 * could not map, to notes. Lines are kept byte for byte except the field
 * changed; a file without a final newline keeps none.
 */
#ifndef P2V_EDIT_H
#define P2V_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "ks_buf.h"

/* What names the source's device `dev` ("/dev/sda1") on KVM, as fstab
 * and root= accept it ("UUID=..."), newly allocated; NULL when it is not
 * known (the name is then left and a note says so). */
typedef char *(*p2v_devname_fn)(const char *dev, void *arg);

/* Does a device name depend on the controller, the bus or the disk's
 * model, so that it changes on KVM's virtio disks? /dev/sdX, /dev/hdX,
 * /dev/xvdX, /dev/cciss/..., /dev/nvme..., /dev/disk/by-id/...,
 * /dev/disk/by-path/... (UUID=, LABEL=, /dev/mapper/..., /dev/VG/LV and
 * /dev/md* do not). */
bool p2v_devname_unstable(const char *dev);

/* A table of one entry per line, comments with '#' (fstab: field 0,
 * crypttab: field 1): unstable device names in that field replaced. */
char *p2v_edit_table(const char *text, int field, p2v_devname_fn fn, void *arg, ks_buf *notes);

/* Kernel command lines in a boot loader's generated configuration
 * (grub.cfg's "linux" lines, grub legacy's "kernel" lines): root= and
 * resume= with unstable names replaced; with console, a serial console
 * (console=tty0 console=ttyS0,115200n8) added where no ttyS console is. */
char *p2v_edit_boot_config(const char *text, p2v_devname_fn fn, void *arg, bool console,
                           ks_buf *notes);

/* /etc/default/grub: root= and resume= in GRUB_CMDLINE_LINUX and
 * GRUB_CMDLINE_LINUX_DEFAULT replaced as above, the serial console added
 * to GRUB_CMDLINE_LINUX, GRUB_TERMINAL="console serial" and a
 * GRUB_SERIAL_COMMAND set when none is. */
char *p2v_edit_grub_default(const char *text, p2v_devname_fn fn, void *arg, ks_buf *notes);

/* A module list, one name per line (/etc/initramfs-tools/modules,
 * /etc/modules): the modules of mods (NULL-terminated) that are not
 * listed yet appended. text may be NULL (no file yet). */
char *p2v_edit_modules_list(const char *text, const char *const *mods, ks_buf *notes);

/* lvm.conf: an active filter or global_filter that names /dev/sd or
 * /dev/hd devices gets "a|^/dev/vd|" first, so that the PVs are still
 * seen on virtio disks. */
char *p2v_edit_lvm_conf(const char *text, ks_buf *notes);

/* mdadm.conf: a DEVICE line that lists /dev/sd* or /dev/hd* patterns gets
 * /dev/vd* too ("DEVICE partitions" needs nothing). */
char *p2v_edit_mdadm_conf(const char *text, ks_buf *notes);

/* Does a udev rules file (70-persistent-net.rules) already name the NIC
 * with MAC mac (lower case, "52:54:00:12:34:56") `name` whatever its
 * driver (no DRIVERS== other than "?*")? */
bool p2v_net_rule_names(const char *rules, const char *mac, const char *name);

#endif
