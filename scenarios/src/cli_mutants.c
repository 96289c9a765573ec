/* `keyclass mutants`: the mutation matrix. Every mutant of regressions.md is
 * run against every scenario; a mutant is killed when at least one scenario
 * fails under it. The matrix fails when a mutant survives, when the clean core
 * fails a scenario, or when a scenario guards a mutant it does not kill. The
 * matrix itself is kcs/matrix.h (shared with `keyclass report`). */
#include <stdio.h>
#include <stdlib.h>

#include "kcs/cli.h"
#include "kcs/matrix.h"
#include "kcs/suite.h"

static int list_mutants(void) {
    for (int m = 0; m < REF_MUT_COUNT; m++)
        printf("%-40s %s\n", ref_mutant_name((ref_mutant)m), ref_mutant_doc((ref_mutant)m));
    return 0;
}

int kcs_cli_mutants(int argc, char **argv) {
    kcs_cli_suite_args args;
    kcs_suite suite;
    int status = kcs_cli_open_suite("mutants", argc, argv, true, &args, &suite);
    if (status == 2)
        return 2;
    if (args.list)
        return list_mutants();
    kcs_matrix mx;
    if (kcs_matrix_init(&mx, &suite, args.seed) != 0) {
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

    if (args.json_path) {
        FILE *out = fopen(args.json_path, "w");
        if (out == NULL) {
            fprintf(stderr, "keyclass: cannot write %s\n", args.json_path);
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
