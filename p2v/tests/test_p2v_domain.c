/* Golden tests of the domain XML (p2v_domain.c): each
 * p2v/tests/data/domain/NAME.json (a server's facts, its plan entry, its
 * copied disks, the study's network, the options) gives exactly
 * NAME.xml; and the CPU class of real model names.
 *
 *   REGENERATE=1 test_p2v_domain   rewrites the .xml files from the current
 *                                  code: review the diff before keeping it.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "ks_fs.h"
#include "ks_mem.h"
#include "ks_test.h"
#include "p2v_domain.h"

static bool regenerate(void)
{
    const char *r = getenv("REGENERATE");
    return r && *r && strcmp(r, "0") != 0;
}

static const char *str_or_null(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void golden(const char *base)
{
    KS_AUTOFREE char *in = ks_asprintf("domain/%s.json", base);
    KS_AUTOFREE char *want_rel = ks_asprintf("domain/%s.xml", base);
    size_t len;
    KS_AUTOFREE char *text = ks_test_read(in, &len);
    KS_CHECK(text != NULL);
    if (!text)
        return;
    json_error_t je;
    json_t *t = json_loads(text, 0, &je);
    KS_CHECK(t != NULL);
    if (!t)
        return;
    const json_t *plan = json_object_get(t, "plan");
    ks_error err;
    p2v_vm *vm = p2v_vm_build(
        str_or_null(t, "server"), json_object_get(t, "facts"),
        (unsigned)json_integer_value(json_object_get(plan, "vcpus")),
        (uint64_t)json_integer_value(json_object_get(plan, "memory_mib")),
        json_object_get(t, "disks"), str_or_null(t, "boot_disk"), str_or_null(t, "network"),
        str_or_null(t, "bridge"), str_or_null(t, "virt_type"),
        p2v_cpu_model_class(
            str_or_null(json_object_get(json_object_get(t, "facts"), "cpu"), "model"), NULL),
        &err);
    KS_CHECK(vm != NULL);
    if (!vm) {
        fprintf(stderr, "%s: %s\n", base, err.message);
        json_decref(t);
        return;
    }
    if (str_or_null(t, "console_log"))
        vm->console_log = ks_strdup(str_or_null(t, "console_log"));
    /* the plan's quota, as p2v define passes it */
    const json_t *quota = json_object_get(plan, "cpu_quota_cores");
    if (json_is_number(quota))
        vm->cpu_quota_cores = json_number_value(quota);
    KS_AUTOFREE char *xml = p2v_domain_xml(vm);
    /* well-formed, whatever the names held */
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
    KS_CHECK(doc != NULL);
    xmlFreeDoc(doc);
    KS_AUTOFREE char *path = ks_asprintf("%s/%s", KS_TEST_DATA, want_rel);
    if (regenerate()) {
        ks_error werr;
        KS_CHECK(ks_write_file_atomic(path, xml, strlen(xml), 0644, &werr) == 0);
        fprintf(stderr, "regenerated %s\n", path);
    } else {
        size_t wl;
        KS_AUTOFREE char *want = ks_test_read(want_rel, &wl);
        KS_CHECK(want != NULL);
        if (want && strcmp(want, xml) != 0) {
            fprintf(stderr, "%s differs from what the code writes now:\n%s\n", path, xml);
            KS_CHECK(!"domain XML matches its golden file");
        }
    }
    p2v_vm_free(vm);
    json_decref(t);
}

KS_TEST(golden_files)
{
    KS_AUTOFREE char *dir = ks_asprintf("%s/domain", KS_TEST_DATA);
    DIR *d = opendir(dir);
    KS_CHECK(d != NULL);
    if (!d)
        return;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
            KS_AUTOFREE char *base = ks_strndup(e->d_name, l - 5);
            golden(base);
            n++;
        }
    }
    closedir(d);
    KS_CHECK(n >= 3);
}

KS_TEST(refusals)
{
    ks_error err;
    json_t *facts = json_pack("{s:s}", "boot_mode", "bios");
    json_t *disks = json_pack("[{s:s,s:s}]", "name", "sda", "source", "/x.qcow2");
    json_t *none = json_array();
    KS_CHECK(!p2v_vm_build("a", facts, 0, 1024, disks, NULL, "lan", NULL, "kvm", NULL, &err));
    KS_CHECK(strstr(err.message, "--vcpus") != NULL);
    KS_CHECK(!p2v_vm_build("a", facts, 1, 1024, disks, NULL, NULL, NULL, "kvm", NULL, &err));
    KS_CHECK(strstr(err.message, "[p2v]") != NULL);
    KS_CHECK(!p2v_vm_build("a", facts, 1, 1024, none, NULL, "lan", NULL, "kvm", NULL, &err));
    json_decref(facts);
    json_decref(disks);
    json_decref(none);
}

KS_TEST(cpu_classes)
{
    static const char *const cases[][2] = {
        {"Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz", "IvyBridge"},
        {"Intel(R) Xeon(R) CPU E5-2620 0 @ 2.00GHz", "SandyBridge"},
        {"Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", "Broadwell"},
        {"Intel(R) Xeon(R) CPU E3-1230 v6 @ 3.50GHz", "Skylake-Client"},
        {"Intel(R) Xeon(R) CPU E7-4870 @ 2.40GHz", "Westmere"},
        {"Intel(R) Xeon(R) CPU           X5670  @ 2.93GHz", "Westmere"},
        {"Intel(R) Xeon(R) CPU           E5520  @ 2.27GHz", "Nehalem"},
        {"Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", "Skylake-Server"},
        {"Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz", "Cascadelake-Server"},
        {"Intel(R) Xeon(R) Platinum 8358 CPU @ 2.60GHz", "Icelake-Server"},
        {"AMD EPYC 7302 16-Core Processor", "EPYC-Rome"},
        {"AMD EPYC 7763 64-Core Processor", "EPYC-Milan"},
        {"AMD Opteron(tm) Processor 6276", "Opteron_G4"},
        {"QEMU Virtual CPU version 2.5+", NULL},
        {"Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = p2v_cpu_model_class(cases[i][0], NULL);
        bool ok = (!got && !cases[i][1]) || (got && cases[i][1] && strcmp(got, cases[i][1]) == 0);
        if (!ok)
            fprintf(stderr, "'%s': %s instead of %s\n", cases[i][0], got ? got : "NULL",
                    cases[i][1] ? cases[i][1] : "NULL");
        KS_CHECK(ok);
    }
}

int main(void)
{
    KS_RUN(golden_files);
    KS_RUN(refusals);
    KS_RUN(cpu_classes);
    return ks_test_summary();
}
