/* bench_pack.c: ana_pack on generated fleets of 1,000 and 10,000 servers x
 * 720 hourly slots, against plain peak-sum first-fit decreasing (every
 * server sized at its own peak, the way consultants' spreadsheets do it).
 *
 *   bench_pack [--noise F] [--spikes F] [N ...]     default: 1000 10000
 *
 * Prints, per fleet: hosts used by ana_pack (without and with N+1), its lower
 * bound, hosts used by peak-sum FFD, the ratio, the time of each ana_pack
 * run, and the process's peak RSS so far (getrusage). Never run by ctest.
 * --noise F scales each server's hour-to-hour noise, --spikes F the excess
 * of its rare spikes (default 1; the same draws whatever they are, so both
 * 0 is the same fleet with smooth curves).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ana_pack.h"
#include "ks_mem.h"

#define T 720

static uint64_t rng_state = 42;
static double rng_unit(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}
static double rng_normal(void)
{
    double u = rng_unit() + 1e-12, v = rng_unit();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* --noise and --spikes (see the header) */
static double noise_scale = 1, spike_scale = 1;

/* One server: a daily cycle (business hours or night batch, per-server
 * phase and amplitude), quieter weekends, noise, occasional spikes; 2% are
 * always busy. MHz, already in the target host's terms. */
static void gen_item(double *cpu, double *mem, unsigned *vcpus)
{
    bool busy = rng_unit() < 0.02;
    bool batch = rng_unit() < 0.15;
    double base = 150 + 1500 * rng_unit() * rng_unit();
    double amp = base * (0.5 + 3 * rng_unit());
    double phase = batch ? 1 + 3 * rng_unit() : 9 + 6 * rng_unit();
    double width = 2 + 4 * rng_unit();
    double weekend = batch ? 1.0 : 0.3 + 0.5 * rng_unit();
    double noise = 0.05 + 0.15 * rng_unit();
    double level = busy ? 8000 + 10000 * rng_unit() : 0;
    for (size_t t = 0; t < T; t++) {
        double hour = (double)(t % 24), day = (double)((t / 24) % 7);
        double d = fabs(hour - phase);
        d = d > 12 ? 24 - d : d;
        double v = busy ? level : base + amp * exp(-d * d / (2 * width * width));
        if (day >= 5 && !busy)
            v = base + (v - base) * weekend;
        v *= 1 + noise_scale * noise * rng_normal();
        if (rng_unit() < 0.002) {
            double spike = rng_unit();
            v *= spike_scale == 1 ? 2 + 2 * spike : 1 + spike_scale * (1 + 2 * spike);
        }
        cpu[t] = v > 0 ? v : 0;
    }
    *mem = 1024 * exp(log(2) + (log(64) - log(2)) * rng_unit());
    *vcpus = 2u << (unsigned)(rng_unit() * 3);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static const ana_host_model model = {
    .cpu_mhz = 2 * 16 * 2600.0,
    .cores = 32,
    .mem_mib = 384 * 1024.0,
    .cpu_limit = 0.8,
    .mem_limit = 0.9,
    .host_cpu_mhz = 1000,
    .host_mem_mib = 4096,
    .vm_cpu_mhz = 20,
    .vm_mem_mib = 200,
};

static const double *ffd_peak;
static const ana_item *ffd_items;
static int cmp_peak(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (ffd_peak[x] != ffd_peak[y])
        return ffd_peak[x] > ffd_peak[y] ? -1 : 1;
    return strcmp(ffd_items[x].name, ffd_items[y].name);
}

/* Peak-sum first-fit decreasing: one number per server (its peak). */
static size_t peak_ffd(const ana_item *items, size_t n)
{
    double cap = model.cpu_limit * model.cpu_mhz - model.host_cpu_mhz;
    double mcap = model.mem_limit * model.mem_mib - model.host_mem_mib;
    double *peak = ks_calloc(n, sizeof(double));
    size_t *order = ks_calloc(n, sizeof(size_t));
    double *hc = ks_calloc(n, sizeof(double)), *hm = ks_calloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        for (size_t t = 0; t < T; t++)
            peak[i] = fmax(peak[i], items[i].cpu[t]);
        peak[i] += model.vm_cpu_mhz;
        order[i] = i;
    }
    ffd_peak = peak;
    ffd_items = items;
    qsort(order, n, sizeof *order, cmp_peak);
    size_t nh = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k], h;
        double m = items[i].mem_mib + model.vm_mem_mib;
        if (peak[i] > cap || m > mcap)
            continue;
        for (h = 0; h < nh; h++)
            if (hc[h] + peak[i] <= cap && hm[h] + m <= mcap)
                break;
        if (h == nh)
            nh++;
        hc[h] += peak[i];
        hm[h] += m;
    }
    free(peak);
    free(order);
    free(hc);
    free(hm);
    return nh;
}

static int bench(size_t n)
{
    double *cpu = ks_calloc(n * T, sizeof(double));
    ana_item *items = ks_calloc(n, sizeof(ana_item));
    char(*names)[16] = ks_calloc(n, 16);
    rng_state = 42 + n;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], 24, "srv%05zu", i);
        items[i] = (ana_item){.name = names[i],
                              .cpu = cpu + i * T,
                              .anti_group = -1,
                              .affinity_group = -1,
                              .pinned_host = -1};
        gen_item(cpu + i * T, &items[i].mem_mib, &items[i].vcpus);
    }
    size_t ffd = peak_ffd(items, n);
    printf("%zu servers x %d hourly slots, host 2x16 cores x 2600 MHz, 384 GiB, 80%% CPU, "
           "90%% memory, noise x%g, spikes x%g\n",
           n, T, noise_scale, spike_scale);
    printf("  peak-sum FFD:        %5zu hosts\n", ffd);
    int rc = 0;
    for (int n1 = 0; n1 <= 1; n1++) {
        ana_problem p = {.nslots = T, .nitems = n, .items = items, .model = model, .n_plus_1 = n1};
        ana_solution sol;
        ks_error err = {0};
        double t0 = now();
        if (ana_pack(&p, &sol, &err) != 0) {
            fprintf(stderr, "ana_pack: %s\n", err.message);
            rc = 1;
            break;
        }
        double dt = now() - t0;
        size_t unplaced = 0;
        for (size_t i = 0; i < n; i++)
            unplaced += sol.host_of[i] < 0;
        printf("  ana_pack%s: %5zu hosts, lower bound %.0f, peak-sum FFD / ana_pack = %.2f, "
               "%.2f s, %zu unplaced, peak RSS %.0f MiB\n    (%s)\n",
               n1 ? " (N+1)" : "      ", sol.nhosts, sol.lower_bound,
               (double)ffd / (double)sol.nhosts, dt, unplaced, peak_rss_kib() / 1024.0,
               sol.algorithm);
        ana_solution_free(&sol);
    }
    free(cpu);
    free(items);
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0, first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if ((strcmp(a, "--noise") == 0 || strcmp(a, "--spikes") == 0) && first + 1 < argc) {
            char *end;
            const char *v = argv[++first];
            double f = strtod(v, &end);
            if (end == v || *end || !(f >= 0 && f <= 10)) {
                fprintf(stderr, "bench_pack: %s wants a number from 0 to 10\n", a);
                return 2;
            }
            *(a[2] == 'n' ? &noise_scale : &spike_scale) = f;
        } else {
            fprintf(stderr, "usage: bench_pack [--noise F] [--spikes F] [N ...]\n");
            return 2;
        }
    }
    if (first == argc) {
        rc |= bench(1000);
        rc |= bench(10000);
    }
    for (int i = first; i < argc; i++)
        rc |= bench((size_t)strtoul(argv[i], NULL, 10));
    return rc;
}
