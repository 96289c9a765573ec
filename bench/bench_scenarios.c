/* Benchmark of the scenario engine (issue 8, "Benchmarks"): the whole scenario
 * library (scenarios/, run from the repository root), run in-process on the
 * clean core, as scenarios and statements per second; and the same with
 * state-machine coverage recorded (the cost of the engine's coverage hook).
 * Every scenario is a fresh seeded world, its statements, the invariant
 * checker after each.
 *
 *   scenarios.library          scenarios/s over the library
 *   scenarios.statements       statements/s over the library
 *   scenarios.with_coverage    scenarios/s with kcs_run_options.statecov set
 *
 * Best of ROUNDS rounds. Output: "name value unit" lines (bench/run.sh).
 * Benchmarks are the one place that reads real time (CLOCK_MONOTONIC).
 * Exit status 0; 2 when the library cannot be loaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcs/engine.h"
#include "kcs/statecov.h"
#include "kcs/suite.h"

#define LIBRARY "scenarios"
#define ROUNDS 5

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass over the library; returns the seconds, *steps the statements run. */
static double run_library(const kcs_suite *suite, const kcs_suite_entry *entries, size_t n,
                          kcs_statecov *cov, uint64_t *steps) {
    kcs_run_options opt = {.seed = 1, .mutants = REF_MUTANTS_NONE, .statecov = cov};
    *steps = 0;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        const kcs_file *f = suite->files[entries[i].file].file;
        kcs_result res;
        memset(&res, 0, sizeof res);
        if (cov != NULL)
            kcs_statecov_begin_run(cov, kcs_scenario_name(f, entries[i].index));
        if (kcs_run_scenario(f, entries[i].index, &opt, &res) == 0)
            *steps += res.steps;
        kcs_result_free(&res);
    }
    return now_s() - t0;
}

int main(void) {
    kcs_suite suite;
    char err[512];
    const char *paths[] = {LIBRARY};
    if (kcs_suite_load(&suite, paths, 1, err, sizeof err) != 0) {
        fprintf(stderr, "bench_scenarios: %s\n", err);
        return 2;
    }
    size_t n = 0;
    kcs_suite_entry *entries = kcs_suite_entries(&suite, &n);
    if (entries == NULL || n == 0) {
        fprintf(stderr, "bench_scenarios: no scenario in %s\n", LIBRARY);
        free(entries);
        kcs_suite_free(&suite);
        return 2;
    }
    double best = 1e18, best_cov = 1e18;
    uint64_t steps = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double s = run_library(&suite, entries, n, NULL, &steps);
        best = s < best ? s : best;
        kcs_statecov *cov = kcs_statecov_new();
        uint64_t steps_cov = 0;
        if (cov != NULL) {
            s = run_library(&suite, entries, n, cov, &steps_cov);
            best_cov = s < best_cov ? s : best_cov;
            kcs_statecov_free(cov);
        }
    }
    printf("scenarios.library %.0f scenarios/s\n", (double)n / best);
    printf("scenarios.statements %.0f statements/s\n", (double)steps / best);
    printf("scenarios.with_coverage %.0f scenarios/s\n", (double)n / best_cov);
    free(entries);
    kcs_suite_free(&suite);
    return 0;
}
