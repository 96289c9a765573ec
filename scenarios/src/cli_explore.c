/* `keyclass explore FILE` and `keyclass replay FILE --schedule S`.
 *
 * explore runs each scenario of FILE (or the one named by --scenario) under
 * every schedule of its parallel blocks (up to the bound, then a seeded
 * random sample, and says which) and every crash point of its sweeps; it
 * stops at the first failure and prints the shortest failing schedule found
 * and the replay command. Exit 0 when everything held, 1 on a failure, 2 on
 * a usage or input error.
 *
 * replay reruns one scenario under exactly one schedule (process names at
 * each decision; after the last one the default policy decides) and prints
 * the whole journal of that run, then its verdict.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcs/cli.h"
#include "kcs/engine.h"

typedef struct {
    const char *file;
    const char *scenario;
    const char *schedule;
    const char *mutant_name;
    kcs_run_options run;
    kcs_explore_options x;
} explore_args;

static int parse(const char *cmd, int argc, char **argv, explore_args *a) {
    memset(a, 0, sizeof *a);
    a->run.seed = 1;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        uint64_t v = 0;
        if (strcmp(arg, "--scenario") == 0 && has_value) {
            a->scenario = argv[++i];
        } else if (strcmp(arg, "--schedule") == 0 && has_value) {
            a->schedule = argv[++i];
        } else if (strcmp(arg, "--mutant") == 0 && has_value) {
            ref_mutant m;
            a->mutant_name = argv[++i];
            if (!ref_mutant_from_name(a->mutant_name, &m))
                return kcs_cli_usage_error("%s: unknown mutant '%s' (see keyclass mutants --list)",
                                           cmd, a->mutant_name);
            a->run.mutants = REF_MUTANT_BIT(m);
        } else if ((strcmp(arg, "--bound") == 0 || strcmp(arg, "--random") == 0 ||
                    strcmp(arg, "--seed") == 0 || strcmp(arg, "--world-seed") == 0) &&
                   has_value) {
            if (!kcs_cli_parse_u64(argv[++i], &v) ||
                (v == 0 && strcmp(arg, "--seed") != 0 && strcmp(arg, "--world-seed") != 0))
                return kcs_cli_usage_error("%s: %s takes a positive decimal number, not '%s'", cmd,
                                           arg, argv[i]);
            if (strcmp(arg, "--bound") == 0)
                a->x.bound = v;
            else if (strcmp(arg, "--random") == 0)
                a->x.random = v;
            else if (strcmp(arg, "--seed") == 0)
                a->x.random_seed = v ? v : 1;
            else
                a->run.seed = v;
        } else if (strcmp(arg, "--no-reduction") == 0) {
            a->x.no_reduction = true;
        } else if (strcmp(arg, "--keep-going") == 0) {
            a->x.keep_going = true;
        } else if (strcmp(arg, "--trace") == 0) {
            a->run.trace = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return kcs_cli_usage_error("%s: unknown option or missing value: '%s'", cmd, arg);
        } else if (a->file == NULL) {
            a->file = arg;
        } else {
            return kcs_cli_usage_error("%s: one scenario file only ('%s' is a second)", cmd, arg);
        }
    }
    if (a->file == NULL)
        return kcs_cli_usage_error("%s: which scenario file?", cmd);
    return 0;
}

static kcs_file *load(const char *path) {
    kcs_file *f = NULL;
    char err[1024];
    if (kcs_parse_file(path, &f, err, sizeof err) != 0) {
        fprintf(stderr, "keyclass: %s\n", err);
        return NULL;
    }
    return f;
}

static int find_scenario(const kcs_file *f, const char *name) {
    for (size_t i = 0; i < kcs_file_scenario_count(f); i++)
        if (strcmp(kcs_scenario_name(f, i), name) == 0)
            return (int)i;
    return -1;
}

static void print_failure(const char *path, const kcs_file *f, size_t idx, const kcs_result *r,
                          bool trace) {
    printf("    %s\n", r->failure ? r->failure : "(no message)");
    if (r->schedule != NULL) {
        printf("    schedule: %s\n", r->schedule[0] ? r->schedule : "(default)");
        printf("    replay:   keyclass replay %s%s%s --schedule %s\n", path,
               kcs_file_scenario_count(f) > 1 ? " --scenario " : "",
               kcs_file_scenario_count(f) > 1 ? kcs_scenario_name(f, idx) : "",
               r->schedule[0] ? r->schedule : "''");
    }
    if (trace && r->journal != NULL && r->journal[0] != '\0')
        printf("    journal:\n%s", r->journal);
}

int kcs_cli_explore(int argc, char **argv) {
    explore_args a;
    int rc = parse("explore", argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.schedule != NULL)
        return kcs_cli_usage_error("explore: --schedule belongs to `keyclass replay`");
    kcs_file *f = load(a.file);
    if (f == NULL)
        return 2;
    int only = -1;
    if (a.scenario != NULL && (only = find_scenario(f, a.scenario)) < 0) {
        fprintf(stderr, "keyclass: explore: %s has no scenario '%s'\n", a.file, a.scenario);
        kcs_file_free(f);
        return 2;
    }
    int status = 0;
    for (size_t i = 0; i < kcs_file_scenario_count(f) && status != 2; i++) {
        if (only >= 0 && (size_t)only != i)
            continue;
        kcs_result r;
        if (kcs_explore_scenario(f, i, &a.run, &a.x, &r) != 0) {
            fprintf(stderr, "keyclass: out of memory exploring %s\n", kcs_scenario_name(f, i));
            status = 2;
            break;
        }
        char how[400];
        kcs_result_exploration(&r, how, sizeof how);
        bool pass = r.verdict == KCS_PASS;
        printf("%s %s%s%s%s\n", pass ? "PASS" : "FAIL", kcs_scenario_name(f, i), how[0] ? " (" : "",
               how, how[0] ? ")" : "");
        if (!pass) {
            print_failure(a.file, f, i, &r, a.run.trace);
            status = 1;
        }
        kcs_result_free(&r);
        if (status == 1 && !a.x.keep_going)
            break;
    }
    kcs_file_free(f);
    return status;
}

int kcs_cli_replay(int argc, char **argv) {
    explore_args a;
    int rc = parse("replay", argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.schedule == NULL)
        return kcs_cli_usage_error("replay: --schedule S is required (as `keyclass explore` "
                                   "prints it)");
    kcs_file *f = load(a.file);
    if (f == NULL)
        return 2;
    int idx = -1;
    if (a.scenario != NULL) {
        idx = find_scenario(f, a.scenario);
        if (idx < 0) {
            fprintf(stderr, "keyclass: replay: %s has no scenario '%s'\n", a.file, a.scenario);
            kcs_file_free(f);
            return 2;
        }
    } else {
        /* The file's only scenario, or its only one with a parallel block. */
        size_t n = kcs_file_scenario_count(f), with = 0;
        for (size_t i = 0; i < n; i++)
            if (kcs_scenario_has_parallel(f, i)) {
                with++;
                idx = (int)i;
            }
        if (n == 1)
            idx = 0;
        else if (with != 1) {
            fprintf(stderr, "keyclass: replay: %s holds %zu scenarios; name one with --scenario\n",
                    a.file, n);
            kcs_file_free(f);
            return 2;
        }
    }
    a.run.trace = true;
    a.x.schedule = a.schedule;
    kcs_result r;
    if (kcs_explore_scenario(f, (size_t)idx, &a.run, &a.x, &r) != 0) {
        fprintf(stderr, "keyclass: out of memory\n");
        kcs_file_free(f);
        return 2;
    }
    printf("replay %s --schedule %s%s%s\n", kcs_scenario_name(f, (size_t)idx), a.schedule,
           a.mutant_name ? " --mutant " : "", a.mutant_name ? a.mutant_name : "");
    printf("journal:\n%s", r.journal != NULL ? r.journal : "");
    bool pass = r.verdict == KCS_PASS;
    printf("%s %s\n", pass ? "PASS" : "FAIL", kcs_scenario_name(f, (size_t)idx));
    if (!pass)
        printf("    %s\n", r.failure ? r.failure : "(no message)");
    kcs_result_free(&r);
    kcs_file_free(f);
    return pass ? 0 : 1;
}
