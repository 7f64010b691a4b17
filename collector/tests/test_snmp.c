/* test_snmp.c: the SNMP secrets file and the varbind -> col_raw / facts
 * mapping, from in-memory varbind lists. */
#include <math.h>
#include <string.h>

#include "col_facts.h"
#include "col_proc.h"
#include "col_snmp.h"
#include "ks_test.h"

#define U(oid, v) col_snmp_vars_add_s(vs, oid, COL_SNMP_UINT, 0, v, NULL)
#define I(oid, v) col_snmp_vars_add_s(vs, oid, COL_SNMP_INT, v, 0, NULL)
#define X(oid, v) col_snmp_vars_add_s(vs, oid, COL_SNMP_U64, 0, v, NULL)
#define S(oid, v) col_snmp_vars_add_s(vs, oid, COL_SNMP_STR, 0, 0, v)
#define O(oid, v) col_snmp_vars_add_s(vs, oid, COL_SNMP_OID, 0, 0, v)

/* One sample of a Linux net-snmp agent; t = ticks, k scales the counters. */
static void sample_vars(col_snmp_vars *vs, uint32_t ticks, uint64_t k, int64_t boots,
                        uint32_t eth_rx)
{
    U("1.3.6.1.2.1.1.3.0", ticks);
    U("1.3.6.1.2.1.25.1.1.0", ticks);
    I("1.3.6.1.6.3.10.2.1.2.0", boots);
    U("1.3.6.1.4.1.2021.11.50.0", 1000 * k); /* user */
    U("1.3.6.1.4.1.2021.11.51.0", 0);
    U("1.3.6.1.4.1.2021.11.52.0", 500 * k);  /* system */
    U("1.3.6.1.4.1.2021.11.53.0", 8000 * k); /* idle */
    U("1.3.6.1.4.1.2021.11.54.0", 100 * k);
    U("1.3.6.1.4.1.2021.11.56.0", 0);
    U("1.3.6.1.4.1.2021.11.61.0", 0);
    I("1.3.6.1.4.1.2021.4.5.0", 16000000);
    X("1.3.6.1.4.1.2021.4.20.0", 16000000);
    X("1.3.6.1.4.1.2021.4.21.0", 1000000);
    X("1.3.6.1.4.1.2021.4.27.0", 12000000);
    /* lo, eth0 (32-bit only), eth1 (64-bit) */
    I("1.3.6.1.2.1.2.2.1.3.1", 24);
    I("1.3.6.1.2.1.2.2.1.3.2", 6);
    I("1.3.6.1.2.1.2.2.1.3.3", 6);
    S("1.3.6.1.2.1.31.1.1.1.1.1", "lo");
    S("1.3.6.1.2.1.31.1.1.1.1.2", "eth0");
    S("1.3.6.1.2.1.2.2.1.2.3", "Intel Ethernet #3"); /* no ifName: the descr */
    U("1.3.6.1.2.1.2.2.1.10.1", 5);
    U("1.3.6.1.2.1.2.2.1.16.1", 5);
    U("1.3.6.1.2.1.2.2.1.10.2", eth_rx);
    U("1.3.6.1.2.1.2.2.1.16.2", 1000 * k);
    X("1.3.6.1.2.1.31.1.1.1.6.3", 5000000000ull * k);
    X("1.3.6.1.2.1.31.1.1.1.10.3", 7000 * k);
    /* sda, its partition sda1, loop0, nvme0n1 */
    const char *dev[] = {"sda", "sda1", "loop0", "nvme0n1"};
    for (int i = 0; i < 4; i++) {
        char o[64];
        snprintf(o, sizeof o, "1.3.6.1.4.1.2021.13.15.1.1.2.%d", i + 1);
        S(o, dev[i]);
        snprintf(o, sizeof o, "1.3.6.1.4.1.2021.13.15.1.1.12.%d", i + 1);
        X(o, 512 * 100 * k);
        snprintf(o, sizeof o, "1.3.6.1.4.1.2021.13.15.1.1.13.%d", i + 1);
        X(o, 512 * 300 * k);
        snprintf(o, sizeof o, "1.3.6.1.4.1.2021.13.15.1.1.5.%d", i + 1);
        U(o, 10 * k);
        snprintf(o, sizeof o, "1.3.6.1.4.1.2021.13.15.1.1.6.%d", i + 1);
        U(o, 20 * k);
    }
}

static const col_nic *nic(const col_raw *r, const char *name)
{
    for (size_t i = 0; i < r->nics.len; i++)
        if (strcmp(r->nics.ptr[i].name, name) == 0)
            return &r->nics.ptr[i];
    return NULL;
}

KS_TEST(sample_mapping)
{
    col_snmp_vars v = {0}, *vs = &v;
    sample_vars(vs, 123456, 1, 3, 1000);
    col_snmp_boot boot = {0};
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(col_snmp_sample_map(vs, 4, &boot, "web", &r, &err) == 0);
    KS_CHECK_NEAR(r.uptime, 1234.56, 1e-9);
    KS_CHECK(r.btime > 0 && r.ncpu == 4);
    KS_CHECK(r.has_cpu && r.cpu.user == 1000 && r.cpu.system == 500 && r.cpu.idle == 8000 &&
             r.cpu.iowait == 100 && r.cpu.steal == 0);
    /* memSysAvail (MemAvailable) wins over memAvailReal */
    KS_CHECK(r.has_mem && r.mem_total == 16000000ull * 1024 &&
             r.mem_available == 12000000ull * 1024);
    KS_CHECK(r.has_net && r.nics.len == 2);
    KS_CHECK(nic(&r, "lo") == NULL);
    KS_CHECK(nic(&r, "eth0") && nic(&r, "eth0")->rx_bytes == 1000);
    KS_CHECK(nic(&r, "Intel_Ethernet_#3") &&
             nic(&r, "Intel_Ethernet_#3")->rx_bytes == 5000000000ull);
    /* whole disks only, bytes -> 512-byte sectors */
    KS_CHECK(r.has_disk && r.disks.len == 2);
    KS_CHECK_STR(r.disks.ptr[0].name, "sda");
    KS_CHECK_STR(r.disks.ptr[1].name, "nvme0n1");
    KS_CHECK(r.disks.ptr[0].rd_sectors == 100 && r.disks.ptr[0].wr_sectors == 300 &&
             r.disks.ptr[0].rd_ios == 10 && r.disks.ptr[0].wr_ios == 20);
    col_raw_clear(&r);
    col_snmp_vars_free(vs);
}

KS_TEST(memory_without_memsysavail)
{
    col_snmp_vars v = {0}, *vs = &v;
    U("1.3.6.1.2.1.1.3.0", 100);
    U("1.3.6.1.4.1.2021.11.50.0", 1);
    U("1.3.6.1.4.1.2021.11.52.0", 1);
    U("1.3.6.1.4.1.2021.11.53.0", 1);
    I("1.3.6.1.4.1.2021.4.5.0", 1000);
    I("1.3.6.1.4.1.2021.4.6.0", 100);  /* MemFree */
    I("1.3.6.1.4.1.2021.4.14.0", 50);  /* Buffers */
    I("1.3.6.1.4.1.2021.4.15.0", 200); /* Cached */
    col_snmp_boot boot = {0};
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(col_snmp_sample_map(vs, 1, &boot, "x", &r, &err) == 0);
    KS_CHECK(r.has_mem && r.mem_total == 1000 * 1024 && r.mem_available == 350 * 1024);
    KS_CHECK(!r.has_net && !r.has_disk); /* no IF-MIB, no UCD-DISKIO in the view */
    col_raw_clear(&r);
    col_snmp_vars_free(vs);
}

KS_TEST(missing_cpu_counters_is_an_error)
{
    col_snmp_vars v = {0}, *vs = &v;
    U("1.3.6.1.2.1.1.3.0", 100);
    col_snmp_boot boot = {0};
    col_raw r;
    col_raw_init(&r);
    ks_error err;
    KS_CHECK(col_snmp_sample_map(vs, 1, &boot, "win7", &r, &err) == -1);
    KS_CHECK(err.code == KS_E_REMOTE && strstr(err.message, "'win7'") &&
             strstr(err.message, "1.3.6.1.4.1.2021"));
    col_snmp_vars_free(vs);
    vs = &v;
    col_snmp_boot b2 = {0};
    KS_CHECK(col_snmp_sample_map(vs, 1, &b2, "win7", &r, &err) == -1);
    KS_CHECK(strstr(err.message, "sysUpTime") != NULL);
    col_raw_clear(&r);
}

/* Two readings 10 s apart, mapped and turned into rates. */
static void two_samples(uint32_t t0, int64_t boots0, uint32_t t1, int64_t boots1, uint32_t rx0,
                        uint32_t rx1, col_rates *out, col_snmp_boot *boot)
{
    col_snmp_vars a = {0}, b = {0};
    sample_vars(&a, t0, 1, boots0, rx0);
    sample_vars(&b, t1, 2, boots1, rx1);
    col_raw ra, rb;
    col_raw_init(&ra);
    col_raw_init(&rb);
    ks_error err;
    KS_CHECK(col_snmp_sample_map(&a, 2, boot, "s", &ra, &err) == 0);
    KS_CHECK(col_snmp_sample_map(&b, 2, boot, "s", &rb, &err) == 0);
    const char *nics[] = {"eth0"};
    col_rates_compute(&ra, &rb, 0, nics, 1, out);
    col_raw_clear(&ra);
    col_raw_clear(&rb);
    col_snmp_vars_free(&a);
    col_snmp_vars_free(&b);
}

KS_TEST(rates_and_reboots)
{
    col_rates o;
    col_snmp_boot boot = {0};
    two_samples(100000, 3, 101000, 3, 1000, 11000, &o, &boot);
    /* busy 1500 of 9600 ticks */
    KS_CHECK_NEAR(o.cpu_pct, 100.0 * 1500 / 9600, 1e-9);
    KS_CHECK_NEAR(o.net_rx_bps, 1000.0, 1e-9);
    KS_CHECK_NEAR(o.disk_rd_bps, 2 * 100 * 512 / 10.0, 1e-9);
    KS_CHECK(boot.generation == 1);

    /* uptime went backwards: a reboot, every counter rate unknown */
    col_snmp_boot b2 = {0};
    two_samples(100000, 3, 5000, 3, 1000, 11000, &o, &b2);
    KS_CHECK(b2.generation == 2);
    KS_CHECK(isnan(o.cpu_pct) && isnan(o.net_rx_bps) && isnan(o.disk_rd_bps));
    KS_CHECK(!isnan(o.mem_used));

    /* snmpEngineBoots changed (an agent restart, or a reboot the uptime
     * does not show): unknown too */
    col_snmp_boot b3 = {0};
    two_samples(100000, 3, 101000, 4, 1000, 11000, &o, &b3);
    KS_CHECK(b3.generation == 2);
    KS_CHECK(isnan(o.cpu_pct));

    /* hrSystemUptime wrapped after 497 days: not a reboot */
    col_snmp_boot b4 = {0};
    two_samples(0xffffff00u, 3, 0x100u, 3, 1000, 11000, &o, &b4);
    KS_CHECK(b4.generation == 1 && b4.wraps == 1);
    KS_CHECK_NEAR(o.net_rx_bps, 10000.0 / 5.12, 1e-3);
}

KS_TEST(counter32_wrap_gives_unknown)
{
    col_rates o;
    col_snmp_boot boot = {0};
    two_samples(100000, 3, 101000, 3, 0xfffff000u, 0x1000u, &o, &boot);
    KS_CHECK(isnan(o.net_rx_bps));
    KS_CHECK(!isnan(o.cpu_pct) && !isnan(o.net_tx_bps));
}

KS_TEST(ncpu_from_hr_device)
{
    col_snmp_vars v = {0}, *vs = &v;
    O("1.3.6.1.2.1.25.3.2.1.2.196608", "1.3.6.1.2.1.25.3.1.3");
    O("1.3.6.1.2.1.25.3.2.1.2.196609", "1.3.6.1.2.1.25.3.1.3");
    O("1.3.6.1.2.1.25.3.2.1.2.262145", "1.3.6.1.2.1.25.3.1.4");
    KS_CHECK(col_snmp_ncpu(vs) == 2);
    col_snmp_vars_free(vs);
    O("1.3.6.1.2.1.25.3.3.1.1.1", "0.0");
    O("1.3.6.1.2.1.25.3.3.1.1.2", "0.0");
    O("1.3.6.1.2.1.25.3.3.1.1.3", "0.0");
    KS_CHECK(col_snmp_ncpu(vs) == 3);
    col_snmp_vars_free(vs);
}

KS_TEST(facts_mapping)
{
    col_snmp_vars v = {0}, *vs = &v;
    S("1.3.6.1.2.1.1.1.0",
      "Linux db01 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64");
    S("1.3.6.1.2.1.1.5.0", "db01");
    I("1.3.6.1.4.1.2021.4.5.0", 16318412);
    for (int i = 0; i < 4; i++) {
        char o[64];
        snprintf(o, sizeof o, "1.3.6.1.2.1.25.3.2.1.2.%d", 196608 + i);
        O(o, "1.3.6.1.2.1.25.3.1.3");
        snprintf(o, sizeof o, "1.3.6.1.2.1.25.3.2.1.3.%d", 196608 + i);
        S(o, "GenuineIntel: Intel(R) Xeon(R) Gold 6132 CPU @ 2.60GHz");
    }
    O("1.3.6.1.2.1.25.3.2.1.2.393232", "1.3.6.1.2.1.25.3.1.6");
    S("1.3.6.1.2.1.25.3.2.1.3.393232", "SCSI disk (/dev/sda)");
    I("1.3.6.1.2.1.25.3.6.1.4.393232", 488386584);
    O("1.3.6.1.2.1.25.2.3.1.2.31", "1.3.6.1.2.1.25.2.1.4");
    S("1.3.6.1.2.1.25.2.3.1.3.31", "/");
    I("1.3.6.1.2.1.25.2.3.1.4.31", 4096);
    I("1.3.6.1.2.1.25.2.3.1.5.31", 1000);
    I("1.3.6.1.2.1.25.2.3.1.6.31", 250);
    O("1.3.6.1.2.1.25.2.3.1.2.1", "1.3.6.1.2.1.25.2.1.2"); /* RAM: not a file system */
    I("1.3.6.1.2.1.2.2.1.3.1", 24);
    I("1.3.6.1.2.1.2.2.1.3.2", 6);
    S("1.3.6.1.2.1.31.1.1.1.1.1", "lo");
    S("1.3.6.1.2.1.31.1.1.1.1.2", "eno1");
    col_snmp_vars_add_s(vs, "1.3.6.1.2.1.2.2.1.6.2", COL_SNMP_STR, 0, 0, NULL);
    vs->v.ptr[vs->v.len - 1].str_len = 6;
    free(vs->v.ptr[vs->v.len - 1].str);
    vs->v.ptr[vs->v.len - 1].str = (unsigned char *)strdup("\x0c\x42\xa1\x3b\x7e\x10");
    I("1.3.6.1.2.1.2.2.1.8.2", 1);
    U("1.3.6.1.2.1.31.1.1.1.15.2", 10000);
    /* 10.1.2.3/24 and fe80::1 on eno1, 127.0.0.1 on lo */
    I("1.3.6.1.2.1.4.34.1.3.1.4.10.1.2.3", 2);
    O("1.3.6.1.2.1.4.34.1.5.1.4.10.1.2.3", "1.3.6.1.2.1.4.32.1.5.2.1.4.10.1.2.0.24");
    I("1.3.6.1.2.1.4.34.1.3.2.16.254.128.0.0.0.0.0.0.0.0.0.0.0.0.0.1", 2);
    I("1.3.6.1.2.1.4.34.1.3.1.4.127.0.0.1", 1);
    /* listening: 0.0.0.0:22 and [::]:5432 */
    I("1.3.6.1.2.1.6.20.1.4.1.4.0.0.0.0.22", 0);
    I("1.3.6.1.2.1.6.20.1.4.2.16.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5432", 0);

    json_t *f = col_snmp_facts_map(vs, "db01", "2024-05-01T12:00:00Z");
    char *text = json_dumps(f, JSON_SORT_KEYS);
    json_error_t je;
    json_t *want = json_loads(
        "{\"name\": \"db01\", \"hostname\": \"db01\", \"collected_at\": \"2024-05-01T12:00:00Z\","
        " \"source\": \"snmp\","
        " \"os\": {\"id\": null, \"version_id\": null, \"pretty_name\": null,"
        "          \"kernel\": \"6.1.0-18-amd64\", \"arch\": \"x86_64\"},"
        " \"cpu\": {\"model\": \"Intel(R) Xeon(R) Gold 6132 CPU @ 2.60GHz\", \"vendor\": "
        "\"Intel\", \"sockets\": null, \"cores\": 4, \"threads\": 4, \"mhz\": 2600.0},"
        " \"memory\": {\"total_bytes\": 16710053888},"
        " \"disks\": [{\"name\": \"sda\", \"size_bytes\": 500107862016, \"model\": null,"
        "   \"rotational\": null, \"transport\": null, \"partitions\": []}],"
        " \"lvm\": [],"
        " \"filesystems\": [{\"device\": null, \"type\": null, \"mountpoint\": \"/\","
        "   \"size_bytes\": 4096000, \"used_bytes\": 1024000}],"
        " \"nfs_mounts\": [],"
        " \"nics\": [{\"name\": \"eno1\", \"mac\": \"0c:42:a1:3b:7e:10\", \"speed_mbps\": 10000,"
        "   \"state\": \"up\", \"physical\": true, \"addresses\": [\"10.1.2.3/24\"]}],"
        " \"boot_mode\": null, \"virtualization\": null,"
        " \"listening\": [{\"proto\": \"tcp\", \"address\": \"0.0.0.0\", \"port\": 22,"
        "   \"process\": null, \"pid\": null}, {\"proto\": \"tcp\", \"address\": \"::\","
        "   \"port\": 5432, \"process\": null, \"pid\": null}],"
        " \"services\": [], \"hardware\": {\"usb\": [], \"fc_hbas\": [], \"gpus\": []},"
        " \"virtualization_blockers\": []}",
        0, &je);
    KS_CHECK(want != NULL);
    if (!json_equal(f, want)) {
        char *w = json_dumps(want, JSON_SORT_KEYS);
        fprintf(stderr, "got:  %s\nwant: %s\n", text, w);
        free(w);
        KS_CHECK(!"facts differ");
    }
    /* every key of the SSH facts schema is there */
    size_t len;
    char *ssh_text = ks_test_read("facts/this-machine.json", &len);
    json_t *ssh = json_loads(ssh_text, 0, &je);
    const char *key;
    json_t *val;
    json_object_foreach(ssh, key, val) KS_CHECK(json_object_get(f, key) != NULL);
    KS_CHECK_NEAR(col_facts_cpu_capacity_mhz(f), 4 * 2600.0, 1e-9);
    const char **names;
    KS_CHECK(col_facts_physical_nics(f, &names) == 1);
    free(names);
    free(ssh_text);
    json_decref(ssh);
    free(text);
    json_decref(want);
    json_decref(f);
    col_snmp_vars_free(vs);
}

KS_TEST(facts_windows_without_mhz)
{
    col_snmp_vars v = {0}, *vs = &v;
    S("1.3.6.1.2.1.1.1.0", "Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE - "
                           "Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)");
    O("1.3.6.1.2.1.25.3.2.1.2.1", "1.3.6.1.2.1.25.3.1.3");
    S("1.3.6.1.2.1.25.3.2.1.3.1", "Intel64 Family 6 Model 85 Stepping 7");
    json_t *f = col_snmp_facts_map(vs, "win", NULL);
    json_t *os = json_object_get(f, "os");
    KS_CHECK_STR(json_string_value(json_object_get(os, "id")), "windows");
    KS_CHECK_STR(json_string_value(json_object_get(os, "version_id")), "6.3");
    KS_CHECK_STR(json_string_value(json_object_get(os, "arch")), "x86_64");
    KS_CHECK(json_is_null(json_object_get(json_object_get(f, "cpu"), "mhz")));
    KS_CHECK(col_facts_cpu_capacity_mhz(f) == 0); /* cpu_mhz unknown, cpu_pct known */
    json_decref(f);
    col_snmp_vars_free(vs);
}

static int parse(const char *text, col_snmp_secrets *s, ks_error *err)
{
    memset(err, 0, sizeof *err);
    return col_snmp_secrets_parse(text, strlen(text), "snmp/web.secrets", s, err);
}

KS_TEST(secrets_parsing)
{
    col_snmp_secrets s;
    ks_error err;
    KS_CHECK(parse("# v2c\nversion = 2c\ncommunity = s3cret\n", &s, &err) == 0);
    KS_CHECK(s.version == COL_SNMP_V2C);
    KS_CHECK_STR(s.community, "s3cret");
    KS_CHECK(parse("version = 3\nuser = kv\nauth_protocol = SHA-256\nauth_password = "
                   "authpass1\npriv_protocol = AES\npriv_password = privpass1\n",
                   &s, &err) == 0);
    KS_CHECK(s.version == COL_SNMP_V3 && s.auth == COL_SNMP_AUTH_SHA256 &&
             s.priv == COL_SNMP_PRIV_AES);
    KS_CHECK_STR(s.user, "kv");
    KS_CHECK_STR(s.priv_password, "privpass1");
    KS_CHECK(parse("version = 3\nuser = kv\nauth_protocol = SHA-512\nauth_password = "
                   "authpass1\n",
                   &s, &err) == 0);
    KS_CHECK(s.priv == COL_SNMP_PRIV_NONE && s.auth == COL_SNMP_AUTH_SHA512);
    col_snmp_secrets_wipe(&s);
    KS_CHECK(s.auth_password[0] == '\0');

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"community = x\n", "snmp/web.secrets has no 'version' line"},
        {"version = 1\ncommunity = x\n", "snmp/web.secrets:1: version '1' is not supported"},
        {"version = 2c\n", "version 2c needs a non-empty 'community"},
        {"version = 2c\ncommunity = a\ncommunity = b\n",
         "snmp/web.secrets:3: 'community' is already set on line 2"},
        {"version = 2c\ncomunity = a\n", "snmp/web.secrets:2: unknown key 'comunity'"},
        {"version = 2c\njunk\n", "snmp/web.secrets:2: not a 'key = value' line"},
        {"version = 2c\ncommunity = a\nuser = u\n", "snmp/web.secrets:3: 'user' is for version 3"},
        {"version = 3\nuser = u\nauth_protocol = MD5\nauth_password = 12345678\n",
         "snmp/web.secrets:3: auth_protocol 'MD5' is not supported"},
        {"version = 3\nuser = u\nauth_protocol = SHA\nauth_password = short\n",
         "snmp/web.secrets:4: auth_password is shorter than 8 characters"},
        {"version = 3\nuser = u\nauth_protocol = SHA\n",
         "version 3 needs a non-empty 'auth_password'"},
        {"version = 3\nuser = u\nauth_protocol = SHA\nauth_password = 12345678\npriv_protocol = "
         "AES\n",
         "priv_protocol AES needs a non-empty 'priv_password'"},
        {"version = 3\nuser = u\nauth_protocol = SHA\nauth_password = 12345678\npriv_protocol = "
         "DES\npriv_password = 12345678\n",
         "snmp/web.secrets:5: priv_protocol 'DES' is not supported"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        KS_CHECK(parse(bad[i].text, &s, &err) == -1);
        KS_CHECK(err.code == KS_E_CONFIG);
        if (!strstr(err.message, bad[i].msg)) {
            fprintf(stderr, "  case %zu: '%s' lacks '%s'\n", i, err.message, bad[i].msg);
            KS_CHECK(!"message");
        }
    }
    /* a secret never appears in a message */
    KS_CHECK(parse("version = 3\nuser = u\nauth_protocol = SHA\nauth_password = hunter2\n", &s,
                   &err) == -1);
    KS_CHECK(strstr(err.message, "hunter2") == NULL);
}

KS_TEST(disk_name_rule)
{
    const char *names[] = {"loop0", "md0", "nvme0n1", "nvme0n1p1", "nvme0n10", "sda", "sda1"};
    KS_CHECK(col_disk_name_counts("sda", names, 7));
    KS_CHECK(!col_disk_name_counts("sda1", names, 7));
    KS_CHECK(!col_disk_name_counts("nvme0n1p1", names, 7));
    KS_CHECK(col_disk_name_counts("nvme0n10", names, 7));
    KS_CHECK(!col_disk_name_counts("loop0", names, 7));
    KS_CHECK(!col_disk_name_counts("md0", names, 7));
    KS_CHECK(!col_disk_name_counts("dm-3", names, 7));
    KS_CHECK(col_disk_name_counts("sdb1", names, 7)); /* its parent is not listed */
}

int main(void)
{
    KS_RUN(sample_mapping);
    KS_RUN(memory_without_memsysavail);
    KS_RUN(missing_cpu_counters_is_an_error);
    KS_RUN(rates_and_reboots);
    KS_RUN(counter32_wrap_gives_unknown);
    KS_RUN(ncpu_from_hr_device);
    KS_RUN(facts_mapping);
    KS_RUN(facts_windows_without_mhz);
    KS_RUN(secrets_parsing);
    KS_RUN(disk_name_rule);
    return ks_test_summary();
}
