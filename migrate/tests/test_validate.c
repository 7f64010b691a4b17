/* Unit tests of the validator's comparison (mig_compare_facts): a VM that
 * is its physical server passes; each difference that matters is found,
 * with the status it deserves, and what is expected to differ is not. */
#include <string.h>

#include <jansson.h>

#include "check_find.h"
#include "ks_test.h"
#include "migrate.h"

/* The physical server, in the facts schema. */
static const char base_text[] =
    "{\"name\": \"web\", \"hostname\": \"web01\", \"virtualization\": \"none\","
    " \"filesystems\": ["
    "  {\"device\": \"/dev/mapper/vg0-root\", \"type\": \"ext4\", \"mountpoint\": \"/\","
    "   \"size_bytes\": 21474836480, \"used_bytes\": 5000000000},"
    "  {\"device\": \"/dev/sda1\", \"type\": \"ext4\", \"mountpoint\": \"/boot\","
    "   \"size_bytes\": 511705088, \"used_bytes\": 90000000},"
    "  {\"device\": \"tmpfs\", \"type\": \"tmpfs\", \"mountpoint\": \"/run\","
    "   \"size_bytes\": 3355443200, \"used_bytes\": 1000000}],"
    " \"nfs_mounts\": [{\"source\": \"nas:/home\", \"type\": \"nfs4\", \"mountpoint\": \"/home\"}],"
    " \"nics\": ["
    "  {\"name\": \"eno1\", \"mac\": \"3c:ec:ef:01:02:03\", \"physical\": true,"
    "   \"addresses\": [\"192.168.10.5/24\", \"fe80::3eec:efff:fe01:203/64\","
    "    \"2001:db8::3eec:efff:fe01:203/64\"],"
    "   \"addresses_dynamic\": [\"2001:db8::3eec:efff:fe01:203/64\"]},"
    "  {\"name\": \"lo\", \"mac\": \"00:00:00:00:00:00\", \"physical\": false,"
    "   \"addresses\": [\"127.0.0.1/8\"]}],"
    " \"listening\": ["
    "  {\"proto\": \"tcp\", \"address\": \"0.0.0.0\", \"port\": 22, \"process\": \"sshd\"},"
    "  {\"proto\": \"tcp\", \"address\": \"0.0.0.0\", \"port\": 443, \"process\": \"nginx\"},"
    "  {\"proto\": \"tcp\", \"address\": \"0.0.0.0\", \"port\": 40123, \"process\": "
    "\"rpc.statd\"}],"
    " \"services\": [\"ssh.service\", \"nginx.service\", \"hp-health.service\", \"cron.service\","
    "  \"getty@.service\"],"
    " \"services_running\": [\"ssh.service\", \"nginx.service\", \"hp-health.service\","
    "  \"cron.service\", \"getty@tty1.service\", \"systemd-fsckd.service\"],"
    " \"services_failed\": [\"smartd.service\"]}";

static json_t *base(void)
{
    json_error_t e;
    json_t *j = json_loads(base_text, 0, &e);
    KS_CHECK(j != NULL);
    return j;
}

/* The VM as a good conversion leaves it: virtio disk names, a renamed NIC
 * with the kept MAC, tmpfs smaller (less memory), the agent disabled,
 * rpc.statd on another port, smartd failing as before. */
static json_t *good_vm(void)
{
    json_t *v = base();
    json_object_set_new(v, "virtualization", json_string("kvm"));
    json_t *fs = json_object_get(v, "filesystems");
    json_object_set_new(json_array_get(fs, 1), "device", json_string("/dev/vda1"));
    json_object_set_new(json_array_get(fs, 2), "size_bytes", json_integer(400000000));
    json_object_set_new(json_array_get(json_object_get(v, "nics"), 0), "name", json_string("ens3"));
    json_t *l = json_object_get(v, "listening");
    json_object_set_new(json_array_get(l, 2), "port", json_integer(51000));
    json_t *s = json_object_get(v, "services");
    json_array_remove(s, 2);
    json_array_remove(json_object_get(v, "services_running"), 2);
    return v;
}

static json_t *disabled_agents(void)
{
    return json_pack("[s]", "hp-health.service");
}

KS_TEST(same_server_passes)
{
    json_t *b = base(), *v = good_vm(), *d = disabled_agents();
    json_t *c = mig_compare_facts(b, v, d);
    KS_CHECK_STR(status(c, "virtualization"), "pass");
    KS_CHECK_STR(status(c, "hostname"), "pass");
    KS_CHECK_STR(status(c, "filesystems"), "pass");
    KS_CHECK_STR(status(c, "nfs_mounts"), "pass");
    /* rpc.statd on another port: a warning, nothing lost */
    KS_CHECK_STR(status(c, "listening"), "warn");
    KS_CHECK(said(c, "listening", "rpc.statd"));
    KS_CHECK_STR(status(c, "services_enabled"), "pass");
    KS_CHECK(said(c, "services_enabled", "hp-health.service disabled by the conversion"));
    /* smartd failed on the source too: a warning */
    KS_CHECK_STR(status(c, "services_running"), "warn");
    KS_CHECK_STR(status(c, "network"), "pass");
    KS_CHECK(said(c, "network", "eno1 on the source is ens3 on the VM"));
    json_decref(c);
    json_decref(b);
    json_decref(v);
    json_decref(d);
}

KS_TEST(breakages_fail)
{
    json_t *b = base(), *v = good_vm(), *d = disabled_agents();
    /* cron disabled and stopped, nginx gone from 443, /boot not mounted,
     * the NIC with another MAC, nfs missing, a new failure */
    json_array_remove(json_object_get(v, "services"), 2);
    json_array_remove(json_object_get(v, "services_running"), 2);
    json_array_remove(json_object_get(v, "listening"), 1);
    json_array_remove(json_object_get(v, "filesystems"), 1);
    json_object_set_new(json_array_get(json_object_get(v, "nics"), 0), "mac",
                        json_string("52:54:00:aa:bb:cc"));
    json_array_clear(json_object_get(v, "nfs_mounts"));
    json_array_remove(json_object_get(v, "services_running"), 1);
    /* [ssh, getty@tty1, systemd-fsckd] left: fsckd ended after boot */
    json_array_remove(json_object_get(v, "services_running"), 2);
    json_array_append_new(json_object_get(v, "services_failed"), json_string("nginx.service"));
    json_t *c = mig_compare_facts(b, v, d);
    KS_CHECK_STR(status(c, "services_enabled"), "fail");
    KS_CHECK(said(c, "services_enabled", "cron.service is enabled on the source, not on the VM"));
    KS_CHECK_STR(status(c, "services_running"), "fail");
    KS_CHECK(said(c, "services_running", "cron.service ran on the source and does not run"));
    KS_CHECK(said(c, "services_running", "nginx.service ran on the source and failed on the VM"));
    /* fsckd only runs at boot: its absence is a warning */
    KS_CHECK(said(c, "services_running",
                  "systemd-fsckd.service ran on the source and does not "
                  "run on the VM (not enabled"));
    KS_CHECK_STR(status(c, "listening"), "fail");
    KS_CHECK(said(c, "listening", "tcp 0.0.0.0:443 (nginx) no longer listens"));
    KS_CHECK_STR(status(c, "filesystems"), "fail");
    KS_CHECK(said(c, "filesystems", "/boot (ext4"));
    KS_CHECK_STR(status(c, "network"), "fail");
    KS_CHECK(said(c, "network", "no NIC with MAC 3c:ec:ef:01:02:03"));
    KS_CHECK_STR(status(c, "nfs_mounts"), "fail");
    json_decref(c);
    json_decref(b);
    json_decref(v);
    json_decref(d);
}

KS_TEST(sizes_addresses_and_the_source_itself)
{
    json_t *b = base(), *v = good_vm();
    /* the root 2 GiB smaller, one address gone, a physical machine answering */
    json_object_set_new(json_array_get(json_object_get(v, "filesystems"), 0), "size_bytes",
                        json_integer(19327352832LL));
    json_array_remove(json_object_get(json_array_get(json_object_get(v, "nics"), 0), "addresses"),
                      0);
    json_object_set_new(v, "virtualization", json_string("none"));
    json_object_set_new(v, "hostname", json_string("other"));
    json_t *c = mig_compare_facts(b, v, NULL);
    KS_CHECK_STR(status(c, "filesystems"), "warn");
    KS_CHECK(said(c, "filesystems", "/ is 18.0 GiB on the VM, 20.0 GiB on the source"));
    KS_CHECK_STR(status(c, "network"), "fail");
    KS_CHECK(said(c, "network", "lacks the address 192.168.10.5/24"));
    KS_CHECK_STR(status(c, "virtualization"), "fail");
    KS_CHECK_STR(status(c, "hostname"), "warn");
    /* without the conversion's list, the agent's absence is a failure */
    KS_CHECK_STR(status(c, "services_enabled"), "fail");
    json_decref(c);
    json_decref(b);
    json_decref(v);
}

KS_TEST(addresses_the_network_gave)
{
    json_t *b = base(), *v = good_vm();
    /* the VM's network sends no router advertisements: no SLAAC address */
    json_t *vn = json_array_get(json_object_get(v, "nics"), 0);
    json_array_remove(json_object_get(vn, "addresses"), 2);
    json_t *c = mig_compare_facts(b, v, NULL);
    KS_CHECK_STR(status(c, "network"), "warn");
    KS_CHECK(said(c, "network",
                  "lacks 2001:db8::3eec:efff:fe01:203/64 on the VM: an address the "
                  "network gave"));
    json_decref(c);
    /* facts taken before "addresses_dynamic": the MAC's EUI-64 says SLAAC */
    json_object_del(json_array_get(json_object_get(b, "nics"), 0), "addresses_dynamic");
    c = mig_compare_facts(b, v, NULL);
    KS_CHECK_STR(status(c, "network"), "warn");
    json_decref(c);
    /* a static IPv4 address missing stays a failure */
    json_array_remove(json_object_get(vn, "addresses"), 0);
    c = mig_compare_facts(b, v, NULL);
    KS_CHECK_STR(status(c, "network"), "fail");
    json_decref(c);
    json_decref(b);
    json_decref(v);
}

KS_TEST(old_baseline_without_running_list)
{
    json_t *b = base(), *v = good_vm();
    json_object_del(b, "services_running");
    json_object_del(b, "services_failed");
    json_t *c = mig_compare_facts(b, v, NULL);
    /* smartd failed on the VM and nothing says it did on the source */
    KS_CHECK_STR(status(c, "services_running"), "fail");
    KS_CHECK(said(c, "services_running", "older kvmshift"));
    json_decref(c);
    json_decref(b);
    json_decref(v);
}

/* The source's systemctl did not answer when its facts were taken (a
 * loaded server): its few SysV links are not read as its enabled
 * services, and the check warns instead of passing on an empty list. */
KS_TEST(baseline_services_unknown)
{
    json_t *b = base(), *v = good_vm();
    json_object_set_new(b, "services", json_pack("[s]", "ssh.service"));
    json_object_set_new(b, "services_unknown",
                        json_string("systemctl list-unit-files gave nothing within 15 s"));
    json_t *c = mig_compare_facts(b, v, NULL);
    KS_CHECK_STR(status(c, "services_enabled"), "warn");
    KS_CHECK(said(c, "services_enabled", "enabled services are not known (systemctl"));
    json_decref(c);
    /* the same on the VM's side: no service reported missing */
    json_decref(b);
    b = base();
    json_object_set_new(v, "services", json_array());
    json_object_set_new(v, "services_unknown", json_string("systemctl gave nothing"));
    c = mig_compare_facts(b, v, NULL);
    KS_CHECK_STR(status(c, "services_enabled"), "warn");
    KS_CHECK(said(c, "services_enabled", "the VM's enabled services are not known"));
    KS_CHECK(!said(c, "services_enabled", "not on the VM"));
    json_decref(c);
    json_decref(b);
    json_decref(v);
}

int main(void)
{
    KS_RUN(same_server_passes);
    KS_RUN(breakages_fail);
    KS_RUN(sizes_addresses_and_the_source_itself);
    KS_RUN(addresses_the_network_gave);
    KS_RUN(old_baseline_without_running_list);
    KS_RUN(baseline_services_unknown);
    return ks_test_summary();
}
