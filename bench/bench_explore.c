/* Benchmark of the interleaving explorer (issue 6): for every scenario with a
 * parallel block in scenarios/races/, the schedules explored without
 * reduction (every interleaving, up to a cap) and with it (source-DPOR with
 * sleep sets), and the schedules explored per second over the whole run
 * (each schedule is a complete re-execution of the scenario from a fresh
 * world: the prefix replayed, the block's threads started and joined, every
 * invariant checked).
 *
 * Benchmarks are the one place that reads real time (CLOCK_MONOTONIC).
 * Exit status 0 (2 when the library cannot be loaded).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcs/engine.h"
#include "kcs/suite.h"

#define RACES "scenarios/races"
#define CAP 3000

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
    kcs_suite suite;
    char err[512];
    const char *paths[] = {RACES};
    if (kcs_suite_load(&suite, paths, 1, err, sizeof err) != 0) {
        fprintf(stderr, "bench_explore: %s\n", err);
        return 2;
    }
    size_t n = 0;
    kcs_suite_entry *entries = kcs_suite_entries(&suite, &n);
    if (entries == NULL) {
        kcs_suite_free(&suite);
        return 2;
    }
    printf("bench_explore: schedules per race scenario, without and with reduction\n");
    printf("%-52s %10s %10s %8s\n", "scenario", "all", "reduced", "pruned");
    uint64_t total = 0;
    double seconds = 0;
    for (size_t i = 0; i < n; i++) {
        const kcs_file *f = suite.files[entries[i].file].file;
        size_t idx = entries[i].index;
        if (!kcs_scenario_has_parallel(f, idx))
            continue;
        kcs_run_options o = {.seed = 1, .mutants = REF_MUTANTS_NONE};
        kcs_explore_options all = {.no_reduction = true, .bound = CAP, .random = 0};
        kcs_explore_options red = {.bound = CAP};
        kcs_result ra, rr;
        double t0 = now_s();
        int a = kcs_explore_scenario(f, idx, &o, &all, &ra);
        double t1 = now_s();
        int b = kcs_explore_scenario(f, idx, &o, &red, &rr);
        double t2 = now_s();
        if (a != 0 || b != 0) {
            fprintf(stderr, "bench_explore: out of memory\n");
            break;
        }
        char full[32];
        if (ra.exhaustive)
            snprintf(full, sizeof full, "%llu", (unsigned long long)ra.systematic);
        else
            snprintf(full, sizeof full, ">%llu", (unsigned long long)ra.systematic);
        printf("%-52s %10s %10llu %8llu%s\n", kcs_scenario_name(f, idx), full,
               (unsigned long long)rr.systematic, (unsigned long long)rr.pruned,
               rr.verdict == KCS_PASS ? "" : "  (fails on the clean core)");
        total += ra.schedules + rr.schedules;
        seconds += (t1 - t0) + (t2 - t1);
        kcs_result_free(&ra);
        kcs_result_free(&rr);
    }
    if (seconds > 0)
        printf("bench_explore: %llu schedules in %.2f s: %.0f schedules/s\n",
               (unsigned long long)total, seconds, (double)total / seconds);
    free(entries);
    kcs_suite_free(&suite);
    return 0;
}
