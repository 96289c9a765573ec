/* `keyclass mutants`: the mutation matrix. Every mutant of regressions.md is
 * run against every scenario; a mutant is killed when at least one scenario
 * fails under it. The matrix fails when a mutant survives, when the clean core
 * fails a scenario, or when a scenario guards a mutant it does not kill. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcs/cli.h"
#include "kcs/report.h"
#include "kcs/suite.h"

static int list_mutants(void) {
    for (int m = 0; m < REF_MUT_COUNT; m++)
        printf("%-40s %s\n", ref_mutant_name((ref_mutant)m), ref_mutant_doc((ref_mutant)m));
    return 0;
}

static const char *entry_name(const kcs_suite *suite, kcs_suite_entry e) {
    return kcs_scenario_name(suite->files[e.file].file, e.index);
}

/* Runs one scenario and returns whether it passed; the failure line (owned by
 * the caller) when it did not. */
static bool run_one(const kcs_suite *suite, kcs_suite_entry e, uint64_t seed,
                    ref_mutant_set mutants, char **failure) {
    kcs_run_options opt = {.seed = seed, .mutants = mutants, .trace = false};
    kcs_result res;
    memset(&res, 0, sizeof res);
    bool pass = false;
    if (kcs_run_scenario(suite->files[e.file].file, e.index, &opt, &res) == 0)
        pass = res.verdict == KCS_PASS;
    if (failure)
        *failure = pass ? NULL : strdup(res.failure ? res.failure : "out of memory");
    kcs_result_free(&res);
    return pass;
}

int kcs_cli_mutants(int argc, char **argv) {
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t npaths = 0;
    uint64_t seed = 1;
    const char *json_path = NULL;
    if (paths == NULL)
        return 2;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0) {
            free(paths);
            return list_mutants();
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            if (!kcs_cli_parse_u64(argv[++i], &seed)) {
                free(paths);
                return kcs_cli_usage_error("mutants: --seed takes a decimal number, not '%s'",
                                           argv[i]);
            }
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json_path = argv[++i];
        } else if (argv[i][0] == '-') {
            free(paths);
            return kcs_cli_usage_error("mutants: unknown option or missing value: '%s'", argv[i]);
        } else {
            paths[npaths++] = argv[i];
        }
    }
    if (npaths == 0)
        paths[npaths++] = KCS_DEFAULT_LIBRARY;

    kcs_suite suite;
    char err[1024];
    if (kcs_suite_load(&suite, paths, npaths, err, sizeof err) != 0) {
        fprintf(stderr, "keyclass: %s\n", err);
        free(paths);
        return 2;
    }
    free(paths);
    int status = 0;
    for (size_t f = 0; f < suite.nfiles; f++) {
        if (suite.files[f].parse_error) {
            printf("ERROR %s\n", suite.files[f].parse_error);
            status = 1;
        }
    }
    size_t n = 0;
    kcs_suite_entry *entries = kcs_suite_entries(&suite, &n);
    /* killed[m * n + s]: scenario s fails under mutant m. */
    bool *killed = calloc((size_t)REF_MUT_COUNT * (n ? n : 1), sizeof *killed);
    if (entries == NULL || killed == NULL) {
        free(entries);
        free(killed);
        kcs_suite_free(&suite);
        fprintf(stderr, "keyclass: out of memory\n");
        return 2;
    }

    /* A scenario that fails on the clean core proves nothing about a mutant:
     * it is reported once and never counted as a kill. */
    bool *clean_pass = calloc(n ? n : 1, sizeof *clean_pass);
    if (clean_pass == NULL) {
        free(entries);
        free(killed);
        kcs_suite_free(&suite);
        fprintf(stderr, "keyclass: out of memory\n");
        return 2;
    }
    size_t clean_failed = 0;
    for (size_t s = 0; s < n; s++) {
        char *failure = NULL;
        clean_pass[s] = run_one(&suite, entries[s], seed, REF_MUTANTS_NONE, &failure);
        if (!clean_pass[s]) {
            printf("CLEAN FAIL %s\n    %s\n", entry_name(&suite, entries[s]), failure);
            clean_failed++;
        }
        free(failure);
    }

    size_t survivors = 0, guard_misses = 0;
    printf("%-40s %s\n", "mutant", "killed by");
    for (int m = 0; m < REF_MUT_COUNT; m++) {
        size_t kills = 0;
        for (size_t s = 0; s < n; s++) {
            killed[(size_t)m * n + s] =
                clean_pass[s] &&
                !run_one(&suite, entries[s], seed, REF_MUTANT_BIT((ref_mutant)m), NULL);
            kills += killed[(size_t)m * n + s];
        }
        printf("%-40s ", ref_mutant_name((ref_mutant)m));
        if (kills == 0) {
            printf("SURVIVED\n");
            survivors++;
            continue;
        }
        printf("%zu:", kills);
        for (size_t s = 0; s < n; s++)
            if (killed[(size_t)m * n + s])
                printf(" %s", entry_name(&suite, entries[s]));
        printf("\n");
    }
    for (size_t s = 0; s < n; s++) {
        ref_mutant_set guards =
            kcs_scenario_guards(suite.files[entries[s].file].file, entries[s].index);
        for (int m = 0; m < REF_MUT_COUNT; m++) {
            if (ref_mutant_in(guards, (ref_mutant)m) && !killed[(size_t)m * n + s]) {
                printf("GUARD MISS %s guards %s but passes under it\n",
                       entry_name(&suite, entries[s]), ref_mutant_name((ref_mutant)m));
                guard_misses++;
            }
        }
    }

    printf("keyclass: %d/%d mutants killed over %zu scenarios; clean core: %zu/%zu passed\n",
           REF_MUT_COUNT - (int)survivors, REF_MUT_COUNT, n, n - clean_failed, n);

    if (json_path) {
        FILE *out = fopen(json_path, "w");
        if (out == NULL) {
            fprintf(stderr, "keyclass: cannot write %s\n", json_path);
            status = 2;
        } else {
            fprintf(out, "{\n  \"scenarios\": %zu,\n  \"clean_failed\": %zu,\n  \"mutants\": [", n,
                    clean_failed);
            for (int m = 0; m < REF_MUT_COUNT; m++) {
                fputs(m ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
                kcs_json_string(out, ref_mutant_name((ref_mutant)m));
                fputs(", \"doc\": ", out);
                kcs_json_string(out, ref_mutant_doc((ref_mutant)m));
                fputs(", \"killed_by\": [", out);
                bool first = true;
                for (size_t s = 0; s < n; s++) {
                    if (!killed[(size_t)m * n + s])
                        continue;
                    fputs(first ? "" : ", ", out);
                    kcs_json_string(out, entry_name(&suite, entries[s]));
                    first = false;
                }
                fputs("]}", out);
            }
            fprintf(out, "\n  ],\n  \"survivors\": %zu,\n  \"guard_misses\": %zu\n}\n", survivors,
                    guard_misses);
            if (fclose(out) != 0)
                status = 2;
        }
    }

    free(clean_pass);
    free(killed);
    free(entries);
    kcs_suite_free(&suite);
    if (status == 2)
        return 2;
    return status == 0 && survivors == 0 && clean_failed == 0 && guard_misses == 0 ? 0 : 1;
}
