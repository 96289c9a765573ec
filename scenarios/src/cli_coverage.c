/* `keyclass coverage [PATH...] [--seed N] [--json FILE]`: runs the scenarios
 * on the clean core, recording state-machine coverage (kcs/statecov.h), and
 * prints the matrix: per dimension, the cells reached, the reachable cells no
 * scenario reaches, the exact statuses seen and the rules.
 *
 * Exit status: 0; 1 when a scenario failed or a file did not parse (the
 * coverage of a failing library is printed but suspect), or when a reached
 * cell lies outside the model (a rule or the core is wrong); 2 for a usage
 * error, an unreadable path or a write error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcs/cli.h"
#include "kcs/statecov.h"
#include "kcs/suite.h"

int kcs_cli_coverage(int argc, char **argv) {
    kcs_cli_suite_args args;
    kcs_suite suite;
    int status = kcs_cli_open_suite("coverage", argc, argv, false, &args, &suite);
    if (status == 2)
        return 2;
    size_t n = 0;
    kcs_suite_entry *entries = kcs_suite_entries(&suite, &n);
    kcs_statecov *cov = kcs_statecov_new();
    if (entries == NULL || cov == NULL) {
        free(entries);
        kcs_statecov_free(cov);
        kcs_suite_free(&suite);
        fprintf(stderr, "keyclass: out of memory\n");
        return 2;
    }
    kcs_run_options opt = {.seed = args.seed, .mutants = REF_MUTANTS_NONE, .statecov = cov};
    size_t failed = 0;
    for (size_t s = 0; s < n; s++) {
        const kcs_file *file = suite.files[entries[s].file].file;
        const char *name = kcs_scenario_name(file, entries[s].index);
        kcs_result res;
        memset(&res, 0, sizeof res);
        if (kcs_statecov_begin_run(cov, name) != 0 ||
            kcs_run_scenario(file, entries[s].index, &opt, &res) != 0) {
            fprintf(stderr, "keyclass: out of memory running %s\n", name);
            res.verdict = KCS_FAIL;
        }
        if (res.verdict != KCS_PASS) {
            printf("FAIL %s\n    %s\n", name, res.failure ? res.failure : "(no message)");
            failed++;
        }
        kcs_result_free(&res);
    }
    if (failed > 0) {
        printf("keyclass: %zu of %zu scenarios failed; their cells up to the failure are "
               "counted\n\n",
               failed, n);
        status = 1;
    }
    kcs_statecov_print(stdout, cov);
    kcs_statecov_summary sum;
    kcs_statecov_summarize(cov, &sum);
    if (sum.outside > 0)
        status = 1;

    if (args.json_path != NULL) {
        FILE *out = fopen(args.json_path, "w");
        if (out == NULL) {
            fprintf(stderr, "keyclass: cannot write %s\n", args.json_path);
            status = 2;
        } else {
            int wrc = kcs_statecov_json(out, cov);
            fputc('\n', out);
            if (fclose(out) != 0 || wrc != 0) {
                fprintf(stderr, "keyclass: error writing %s\n", args.json_path);
                status = 2;
            }
        }
    }
    kcs_statecov_free(cov);
    free(entries);
    kcs_suite_free(&suite);
    return status;
}
