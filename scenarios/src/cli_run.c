/* `keyclass run [PATH...]`: run scenarios, one line each, then a summary. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcs/cli.h"
#include "kcs/report.h"
#include "kcs/suite.h"

typedef struct {
    const char **paths;
    size_t npaths;
    kcs_run_options run;
    const char *mutant_name;
    const char *json_path;
    const char *junit_path;
    bool quiet;
} run_args;

static int parse_args(int argc, char **argv, run_args *a) {
    a->run.seed = 1;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "--mutant") == 0 && has_value) {
            ref_mutant m;
            a->mutant_name = argv[++i];
            if (!ref_mutant_from_name(a->mutant_name, &m))
                return kcs_cli_usage_error("run: unknown mutant '%s' (see keyclass mutants --list)",
                                           a->mutant_name);
            a->run.mutants = REF_MUTANT_BIT(m);
        } else if (strcmp(arg, "--seed") == 0 && has_value) {
            if (!kcs_cli_parse_u64(argv[++i], &a->run.seed))
                return kcs_cli_usage_error("run: --seed takes a decimal number, not '%s'", argv[i]);
        } else if (strcmp(arg, "--json") == 0 && has_value) {
            a->json_path = argv[++i];
        } else if (strcmp(arg, "--junit") == 0 && has_value) {
            a->junit_path = argv[++i];
        } else if (strcmp(arg, "--trace") == 0) {
            a->run.trace = true;
        } else if (strcmp(arg, "--quiet") == 0) {
            a->quiet = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return kcs_cli_usage_error("run: unknown option or missing value: '%s'", arg);
        } else {
            a->paths[a->npaths++] = arg;
        }
    }
    return 0;
}

static int write_output(const char *path, const kcs_report_row *rows, size_t n,
                        const kcs_report_summary *summary, bool junit) {
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "keyclass: cannot write %s\n", path);
        return -1;
    }
    int rc =
        junit ? kcs_report_junit(out, rows, n, summary) : kcs_report_json(out, rows, n, summary);
    if (fclose(out) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "keyclass: error writing %s\n", path);
    return rc;
}

int kcs_cli_run(int argc, char **argv) {
    run_args a = {0};
    a.paths = calloc((size_t)argc + 1, sizeof *a.paths);
    if (a.paths == NULL)
        return 2;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        free(a.paths);
        return rc;
    }
    if (a.npaths == 0)
        a.paths[a.npaths++] = KCS_DEFAULT_LIBRARY;

    kcs_suite suite;
    if (kcs_cli_suite_load(&suite, a.paths, a.npaths) != 0) {
        free(a.paths);
        return 2;
    }
    free(a.paths);
    if (suite.nscenarios == 0 && suite.nparse_errors == 0) {
        printf("keyclass: no scenario files found; nothing to run\n");
        kcs_suite_free(&suite);
        return 0;
    }

    size_t nentries = 0;
    kcs_suite_entry *entries = kcs_suite_entries(&suite, &nentries);
    size_t nrows = nentries + suite.nparse_errors;
    kcs_report_row *rows = calloc(nrows ? nrows : 1, sizeof *rows);
    kcs_result *results = calloc(nentries ? nentries : 1, sizeof *results);
    if (entries == NULL || rows == NULL || results == NULL) {
        fprintf(stderr, "keyclass: out of memory\n");
        free(entries);
        free(rows);
        free(results);
        kcs_suite_free(&suite);
        return 2;
    }

    kcs_report_summary summary = {.seed = a.run.seed, .mutant = a.mutant_name};
    size_t row = 0;
    for (size_t f = 0; f < suite.nfiles; f++) {
        if (suite.files[f].parse_error == NULL)
            continue;
        fprintf(stdout, "ERROR %s\n", suite.files[f].parse_error);
        rows[row++] = (kcs_report_row){.name = suite.files[f].path,
                                       .file = suite.files[f].path,
                                       .parse_error = suite.files[f].parse_error};
        summary.errors++;
    }
    int width = snprintf(NULL, 0, "%zu", nentries);
    for (size_t i = 0; i < nentries; i++) {
        const kcs_suite_file *sf = &suite.files[entries[i].file];
        size_t idx = entries[i].index;
        kcs_result *res = &results[i];
        if (kcs_run_scenario(sf->file, idx, &a.run, res) != 0) {
            fprintf(stderr, "keyclass: out of memory running %s\n", sf->path);
            res->verdict = KCS_FAIL;
        }
        bool pass = res->verdict == KCS_PASS;
        summary.invariant_checks += res->invariant_checks;
        if (pass)
            summary.passed++;
        else
            summary.failed++;
        const char *name = kcs_scenario_name(sf->file, idx);
        /* [i/n] is the progress indicator of long runs. */
        if (!pass || !a.quiet) {
            /* Scenarios with parallel blocks or sweeps say how they were
             * explored (and whether every schedule was). */
            char how[400];
            kcs_result_exploration(res, how, sizeof how);
            printf("[%*zu/%zu] %s %s%s%s%s", width, i + 1, nentries, pass ? "PASS" : "FAIL", name,
                   how[0] ? " (" : "", how, how[0] ? ")" : "");
            if (!pass)
                printf("\n    %s", res->failure ? res->failure : "(no message)");
            if (!pass && res->schedule != NULL)
                printf("\n    schedule: %s\n    replay:   keyclass replay %s --scenario %s "
                       "--schedule %s",
                       res->schedule, sf->path, name, res->schedule);
            printf("\n");
        }
        if (!pass && res->journal && res->journal[0] && a.run.trace)
            printf("    journal:\n%s", res->journal);
        fflush(stdout);
        rows[row++] = (kcs_report_row){.name = name,
                                       .file = sf->path,
                                       .line = kcs_scenario_line(sf->file, idx),
                                       .result = res};
    }

    printf("keyclass: %zu scenarios, %" PRIu64 " invariant checks%s%s\n", nentries,
           summary.invariant_checks, a.mutant_name ? ", mutant " : "",
           a.mutant_name ? a.mutant_name : "");
    printf("%zu passed, %zu failed", summary.passed, summary.failed + summary.errors);
    if (summary.errors)
        printf(" (%zu files did not parse)", summary.errors);
    printf("\n");

    int out_rc = 0;
    if (a.json_path && write_output(a.json_path, rows, row, &summary, false) != 0)
        out_rc = 2;
    if (a.junit_path && write_output(a.junit_path, rows, row, &summary, true) != 0)
        out_rc = 2;

    for (size_t i = 0; i < nentries; i++)
        kcs_result_free(&results[i]);
    free(results);
    free(rows);
    free(entries);
    kcs_suite_free(&suite);
    if (out_rc != 0)
        return out_rc;
    return summary.failed == 0 && summary.errors == 0 ? 0 : 1;
}
