/* `keyclass mutants`: the mutation matrix. Every mutant of regressions.md is
 * run against every scenario; a mutant is killed when at least one scenario
 * fails under it. The matrix fails when a mutant survives, when the clean core
 * fails a scenario, or when a scenario guards a mutant it does not kill. The
 * matrix itself is kcs/matrix.h (shared with `keyclass report`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcs/cli.h"
#include "kcs/matrix.h"
#include "kcs/suite.h"

static int list_mutants(void) {
    for (int m = 0; m < REF_MUT_COUNT; m++)
        printf("%-40s %s\n", ref_mutant_name((ref_mutant)m), ref_mutant_doc((ref_mutant)m));
    return 0;
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
    kcs_matrix mx;
    if (kcs_matrix_init(&mx, &suite, seed) != 0) {
        kcs_suite_free(&suite);
        fprintf(stderr, "keyclass: out of memory\n");
        return 2;
    }
    size_t n = mx.n;

    /* A scenario that fails on the clean core proves nothing about a mutant:
     * it is reported once and never counted as a kill. */
    for (size_t s = 0; s < n; s++)
        if (!kcs_matrix_run_clean(&mx, s))
            printf("CLEAN FAIL %s\n    %s\n", kcs_matrix_name(&mx, s),
                   mx.clean_failure[s] ? mx.clean_failure[s] : "out of memory");

    printf("%-40s %s\n", "mutant", "killed by");
    for (int m = 0; m < REF_MUT_COUNT; m++) {
        size_t kills = kcs_matrix_run_mutant(&mx, (ref_mutant)m);
        printf("%-40s ", ref_mutant_name((ref_mutant)m));
        if (kills == 0) {
            printf("SURVIVED\n");
            continue;
        }
        printf("%zu:", kills);
        for (size_t s = 0; s < n; s++)
            if (kcs_matrix_killed(&mx, (ref_mutant)m, s))
                printf(" %s", kcs_matrix_name(&mx, s));
        printf("\n");
    }
    for (size_t s = 0; s < n; s++)
        for (int m = 0; m < REF_MUT_COUNT; m++)
            if (kcs_matrix_guard_miss(&mx, s, (ref_mutant)m))
                printf("GUARD MISS %s guards %s but passes under it\n", kcs_matrix_name(&mx, s),
                       ref_mutant_name((ref_mutant)m));

    size_t survivors = kcs_matrix_survivors(&mx);
    size_t guard_misses = kcs_matrix_guard_misses(&mx);
    printf("keyclass: %d/%d mutants killed over %zu scenarios; clean core: %zu/%zu passed\n",
           REF_MUT_COUNT - (int)survivors, REF_MUT_COUNT, n, n - mx.clean_failed, n);

    if (json_path) {
        FILE *out = fopen(json_path, "w");
        if (out == NULL) {
            fprintf(stderr, "keyclass: cannot write %s\n", json_path);
            status = 2;
        } else {
            int wrc = kcs_matrix_json(out, &mx);
            if (fclose(out) != 0 || wrc != 0)
                status = 2;
        }
    }

    size_t clean_failed = mx.clean_failed;
    kcs_matrix_free(&mx);
    kcs_suite_free(&suite);
    if (status == 2)
        return 2;
    return status == 0 && survivors == 0 && clean_failed == 0 && guard_misses == 0 ? 0 : 1;
}
