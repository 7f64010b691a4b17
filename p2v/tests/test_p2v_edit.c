/* Unit tests of the conversion's text edits (p2v_edit.c): each on the
 * kinds of files real servers have, what changes and what stays byte for
 * byte, names that cannot be mapped, and edits that are done already. */
#include <stdlib.h>
#include <string.h>

#include "ks_mem.h"
#include "ks_test.h"
#include "p2v_edit.h"

/* The copy holds sda1, sda3 and sdb1 (not sdc1). */
static char *lookup(const char *dev, void *arg)
{
    int *calls = arg;
    (*calls)++;
    if (strcmp(dev, "/dev/sda1") == 0)
        return ks_strdup("UUID=1111");
    if (strcmp(dev, "/dev/sda3") == 0)
        return ks_strdup("UUID=3333");
    if (strcmp(dev, "/dev/sdb1") == 0 || strcmp(dev, "/dev/disk/by-id/ata-X-part1") == 0)
        return ks_strdup("UUID=b111");
    return NULL;
}

KS_TEST(devname_unstable)
{
    KS_CHECK(p2v_devname_unstable("/dev/sda1"));
    KS_CHECK(p2v_devname_unstable("/dev/hdb"));
    KS_CHECK(p2v_devname_unstable("/dev/cciss/c0d0p1"));
    KS_CHECK(p2v_devname_unstable("/dev/nvme0n1p2"));
    KS_CHECK(p2v_devname_unstable("/dev/disk/by-path/pci-0000:00:1f.2-ata-1-part1"));
    KS_CHECK(!p2v_devname_unstable("UUID=1234"));
    KS_CHECK(!p2v_devname_unstable("/dev/mapper/vg0-root"));
    KS_CHECK(!p2v_devname_unstable("/dev/vg0/root"));
    KS_CHECK(!p2v_devname_unstable("/dev/md0"));
    KS_CHECK(!p2v_devname_unstable("/dev/sd"));
    KS_CHECK(!p2v_devname_unstable("/dev/disk/by-uuid/1234"));
}

KS_TEST(fstab)
{
    const char *in = "# /etc/fstab\n"
                     "/dev/mapper/vg0-root  /      ext4  errors=remount-ro  0 1\n"
                     "/dev/sda1             /boot  ext4  defaults           0 2\n"
                     "\t/dev/sdb1\t/data\text4\tdefaults\t0 2\n"
                     "/dev/sdc1 /backup ext4 noauto 0 0\n"
                     "UUID=abcd none swap sw 0 0\n"
                     "/dev/sda3 none swap sw 0 0";
    ks_buf notes;
    ks_buf_init(&notes, 1 << 20);
    int calls = 0;
    char *out = p2v_edit_table(in, 0, lookup, &calls, &notes);
    KS_CHECK(out != NULL);
    KS_CHECK_STR(out, "# /etc/fstab\n"
                      "/dev/mapper/vg0-root  /      ext4  errors=remount-ro  0 1\n"
                      "UUID=1111             /boot  ext4  defaults           0 2\n"
                      "\tUUID=b111\t/data\text4\tdefaults\t0 2\n"
                      "/dev/sdc1 /backup ext4 noauto 0 0\n"
                      "UUID=abcd none swap sw 0 0\n"
                      "UUID=3333 none swap sw 0 0");
    KS_CHECK(calls == 4);
    KS_CHECK(strstr(ks_buf_str(&notes), "fstab: /dev/sda1 -> UUID=1111\n") != NULL);
    KS_CHECK(strstr(ks_buf_str(&notes), "/dev/sdc1 left as it is") != NULL);
    /* done already: nothing to change */
    calls = 0;
    char *again = p2v_edit_table(out, 0, lookup, &calls, &notes);
    KS_CHECK(again == NULL || strcmp(again, out) == 0);
    free(again);
    free(out);
    /* crypttab: the device is the second field */
    char *ct = p2v_edit_table("cr_home /dev/sda3 none luks\n", 1, lookup, &calls, &notes);
    KS_CHECK_STR(ct, "cr_home UUID=3333 none luks\n");
    free(ct);
    ks_buf_free(&notes);
}

KS_TEST(boot_config)
{
    const char *in = "set root=(hd0,msdos1)\n"
                     "menuentry 'Debian' {\n"
                     "    linux /vmlinuz-6.1 root=/dev/sda3 ro quiet resume=/dev/sdb1\n"
                     "    initrd /initrd.img-6.1\n"
                     "}\n"
                     "title old\n"
                     "\tkernel /vmlinuz-2.6 root=/dev/mapper/vg0-root ro console=ttyS0,9600\n";
    ks_buf notes;
    ks_buf_init(&notes, 1 << 20);
    int calls = 0;
    char *out = p2v_edit_boot_config(in, lookup, &calls, true, &notes);
    KS_CHECK_STR(out, "set root=(hd0,msdos1)\n"
                      "menuentry 'Debian' {\n"
                      "    linux /vmlinuz-6.1 root=UUID=3333 ro quiet resume=UUID=b111 "
                      "console=tty0 console=ttyS0,115200n8\n"
                      "    initrd /initrd.img-6.1\n"
                      "}\n"
                      "title old\n"
                      "\tkernel /vmlinuz-2.6 root=/dev/mapper/vg0-root ro console=ttyS0,9600\n");
    char *again = p2v_edit_boot_config(out, lookup, &calls, true, &notes);
    KS_CHECK(again == NULL);
    free(out);
    ks_buf_free(&notes);
}

KS_TEST(grub_default)
{
    const char *in = "GRUB_DEFAULT=0\n"
                     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet resume=/dev/sda3\"\n"
                     "GRUB_CMDLINE_LINUX=\"\"\n"
                     "#GRUB_TERMINAL=console\n";
    ks_buf notes;
    ks_buf_init(&notes, 1 << 20);
    int calls = 0;
    char *out = p2v_edit_grub_default(in, lookup, &calls, &notes);
    KS_CHECK_STR(out, "GRUB_DEFAULT=0\n"
                      "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet resume=UUID=3333\"\n"
                      "GRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200n8\"\n"
                      "#GRUB_TERMINAL=console\n"
                      "GRUB_TERMINAL=\"console serial\"\n"
                      "GRUB_SERIAL_COMMAND=\"serial --unit=0 --speed=115200\"\n");
    char *again = p2v_edit_grub_default(out, lookup, &calls, &notes);
    KS_CHECK(again == NULL);
    free(out);
    /* a value with arguments, an old terminal setting */
    out = p2v_edit_grub_default("GRUB_CMDLINE_LINUX='root=/dev/sda1 noapic'\n"
                                "GRUB_TERMINAL=console\n"
                                "GRUB_SERIAL_COMMAND=\"serial --speed=9600\"",
                                lookup, &calls, &notes);
    KS_CHECK_STR(out, "GRUB_CMDLINE_LINUX='root=UUID=1111 noapic console=tty0 "
                      "console=ttyS0,115200n8'\n"
                      "GRUB_TERMINAL=\"console serial\"\n"
                      "GRUB_SERIAL_COMMAND=\"serial --speed=9600\"");
    free(out);
    ks_buf_free(&notes);
}

KS_TEST(modules_list)
{
    static const char *const mods[] = {"virtio_blk", "virtio_net", "virtio_pci", NULL};
    ks_buf notes;
    ks_buf_init(&notes, 1 << 20);
    char *out =
        p2v_edit_modules_list("# modules\nvirtio_net\n  virtio_pci  opt=1\nloop", mods, &notes);
    KS_CHECK_STR(out, "# modules\nvirtio_net\n  virtio_pci  opt=1\nloop\n"
                      "# added by kvmshift p2v convert: drivers of KVM's virtio devices\n"
                      "virtio_blk\n");
    KS_CHECK_STR(ks_buf_str(&notes), "module virtio_blk added\n");
    char *again = p2v_edit_modules_list(out, mods, &notes);
    KS_CHECK(again == NULL);
    free(out);
    out = p2v_edit_modules_list(NULL, mods, &notes);
    KS_CHECK(out && strstr(out, "\nvirtio_blk\nvirtio_net\nvirtio_pci\n"));
    free(out);
    /* a prefix of a listed name is not that name */
    out = p2v_edit_modules_list("virtio_blkx\n", mods, &notes);
    KS_CHECK(out && strstr(out, "\nvirtio_blk\n"));
    free(out);
    ks_buf_free(&notes);
}

KS_TEST(lvm_and_mdadm)
{
    ks_buf notes;
    ks_buf_init(&notes, 1 << 20);
    const char *lvm = "devices {\n"
                      "\t# filter = [ \"a|/dev/sda|\" ]\n"
                      "\tfilter = [ \"a|^/dev/sda[0-9]|\", \"r|.*|\" ]\n"
                      "\tglobal_filter = [ \"r|/dev/cdrom|\" ]\n"
                      "}\n";
    char *out = p2v_edit_lvm_conf(lvm, &notes);
    KS_CHECK_STR(out, "devices {\n"
                      "\t# filter = [ \"a|/dev/sda|\" ]\n"
                      "\tfilter = [ \"a|^/dev/vd|\", \"a|^/dev/sda[0-9]|\", \"r|.*|\" ]\n"
                      "\tglobal_filter = [ \"r|/dev/cdrom|\" ]\n"
                      "}\n");
    KS_CHECK(p2v_edit_lvm_conf(out, &notes) == NULL);
    free(out);
    out = p2v_edit_mdadm_conf("DEVICE /dev/sd[ab]1\nARRAY /dev/md0 UUID=x\n", &notes);
    KS_CHECK_STR(out, "DEVICE /dev/sd[ab]1 /dev/vd*\nARRAY /dev/md0 UUID=x\n");
    KS_CHECK(p2v_edit_mdadm_conf(out, &notes) == NULL);
    KS_CHECK(p2v_edit_mdadm_conf("DEVICE partitions\n", &notes) == NULL);
    free(out);
    ks_buf_free(&notes);
}

KS_TEST(net_rules)
{
    const char *rules =
        "# This file was automatically generated by the /lib/udev/write_net_rules\n"
        "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
        "ATTR{address}==\"52:54:00:AB:CD:EF\", ATTR{dev_id}==\"0x0\", ATTR{type}==\"1\", "
        "KERNEL==\"eth*\", NAME=\"eth0\"\n"
        "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"e1000\", "
        "ATTR{address}==\"52:54:00:00:00:02\", NAME=\"eth1\"\n";
    KS_CHECK(p2v_net_rule_names(rules, "52:54:00:ab:cd:ef", "eth0"));
    KS_CHECK(!p2v_net_rule_names(rules, "52:54:00:ab:cd:ef", "eth1"));
    /* bound to the e1000 driver: does not match the virtio NIC */
    KS_CHECK(!p2v_net_rule_names(rules, "52:54:00:00:00:02", "eth1"));
    KS_CHECK(!p2v_net_rule_names("# NAME=\"eth0\" ATTR{address}==\"52:54:00:ab:cd:ef\"\n",
                                 "52:54:00:ab:cd:ef", "eth0"));
}

int main(void)
{
    KS_RUN(devname_unstable);
    KS_RUN(fstab);
    KS_RUN(boot_config);
    KS_RUN(grub_default);
    KS_RUN(modules_list);
    KS_RUN(lvm_and_mdadm);
    KS_RUN(net_rules);
    return ks_test_summary();
}
