/* The mutation matrix (see kcs/matrix.h). */
#include "kcs/matrix.h"

#include <stdlib.h>
#include <string.h>

#include "kcs/engine.h"
#include "kcs/report.h"

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c != NULL)
        memcpy(c, s, n);
    return c;
}

int kcs_matrix_init(kcs_matrix *mx, const kcs_suite *suite, uint64_t seed) {
    memset(mx, 0, sizeof *mx);
    mx->suite = suite;
    mx->seed = seed;
    mx->entries = kcs_suite_entries(suite, &mx->n);
    size_t n = mx->n ? mx->n : 1;
    mx->clean_pass = calloc(n, sizeof *mx->clean_pass);
    mx->clean_failure = calloc(n, sizeof *mx->clean_failure);
    mx->killed = calloc((size_t)REF_MUT_COUNT * n, sizeof *mx->killed);
    if (mx->entries == NULL || mx->clean_pass == NULL || mx->clean_failure == NULL ||
        mx->killed == NULL) {
        kcs_matrix_free(mx);
        return -1;
    }
    return 0;
}

void kcs_matrix_free(kcs_matrix *mx) {
    if (mx->clean_failure != NULL)
        for (size_t s = 0; s < mx->n; s++)
            free(mx->clean_failure[s]);
    free(mx->clean_failure);
    free(mx->clean_pass);
    free(mx->killed);
    free(mx->entries);
    memset(mx, 0, sizeof *mx);
}

const char *kcs_matrix_name(const kcs_matrix *mx, size_t s) {
    kcs_suite_entry e = mx->entries[s];
    return kcs_scenario_name(mx->suite->files[e.file].file, e.index);
}

/* Runs one scenario and returns whether it passed; the failure line (owned by
 * the caller) when it did not. */
static bool run_one(const kcs_matrix *mx, size_t s, ref_mutant_set mutants, char **failure) {
    kcs_suite_entry e = mx->entries[s];
    kcs_run_options opt = {.seed = mx->seed, .mutants = mutants, .trace = false};
    kcs_result res;
    memset(&res, 0, sizeof res);
    bool pass = false;
    if (kcs_run_scenario(mx->suite->files[e.file].file, e.index, &opt, &res) == 0)
        pass = res.verdict == KCS_PASS;
    if (failure)
        *failure = pass ? NULL : dup_string(res.failure ? res.failure : "out of memory");
    kcs_result_free(&res);
    return pass;
}

int kcs_matrix_set_clean(kcs_matrix *mx, size_t s, bool pass, const char *failure) {
    if (s >= mx->n)
        return -1;
    mx->clean_pass[s] = pass;
    if (pass)
        return 0;
    mx->clean_failed++;
    mx->clean_failure[s] = dup_string(failure != NULL ? failure : "(no message)");
    return mx->clean_failure[s] != NULL ? 0 : -1;
}

bool kcs_matrix_run_clean(kcs_matrix *mx, size_t s) {
    char *failure = NULL;
    bool pass = run_one(mx, s, REF_MUTANTS_NONE, &failure);
    kcs_matrix_set_clean(mx, s, pass, pass ? NULL : (failure ? failure : "out of memory"));
    free(failure);
    return pass;
}

size_t kcs_matrix_run_mutant(kcs_matrix *mx, ref_mutant m) {
    size_t kills = 0;
    for (size_t s = 0; s < mx->n; s++) {
        bool k = mx->clean_pass[s] && !run_one(mx, s, REF_MUTANT_BIT(m), NULL);
        mx->killed[(size_t)m * mx->n + s] = k;
        kills += k;
    }
    mx->kills[m] = kills;
    mx->ran[m] = true;
    return kills;
}

bool kcs_matrix_killed(const kcs_matrix *mx, ref_mutant m, size_t s) {
    return (int)m >= 0 && m < REF_MUT_COUNT && s < mx->n && mx->killed[(size_t)m * mx->n + s];
}

bool kcs_matrix_guard_miss(const kcs_matrix *mx, size_t s, ref_mutant m) {
    kcs_suite_entry e = mx->entries[s];
    ref_mutant_set guards = kcs_scenario_guards(mx->suite->files[e.file].file, e.index);
    return ref_mutant_in(guards, m) && !kcs_matrix_killed(mx, m, s);
}

size_t kcs_matrix_survivors(const kcs_matrix *mx) {
    size_t n = 0;
    for (int m = 0; m < REF_MUT_COUNT; m++)
        n += mx->ran[m] && mx->kills[m] == 0;
    return n;
}

size_t kcs_matrix_guard_misses(const kcs_matrix *mx) {
    size_t n = 0;
    for (size_t s = 0; s < mx->n; s++)
        for (int m = 0; m < REF_MUT_COUNT; m++)
            n += kcs_matrix_guard_miss(mx, s, (ref_mutant)m);
    return n;
}

int kcs_matrix_json(FILE *out, const kcs_matrix *mx) {
    size_t n = mx->n;
    fprintf(out, "{\n  \"scenarios\": %zu,\n  \"clean_failed\": %zu,\n  \"mutants\": [", n,
            mx->clean_failed);
    for (int m = 0; m < REF_MUT_COUNT; m++) {
        fputs(m ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
        kcs_json_string(out, ref_mutant_name((ref_mutant)m));
        fputs(", \"doc\": ", out);
        kcs_json_string(out, ref_mutant_doc((ref_mutant)m));
        fputs(", \"killed_by\": [", out);
        bool first = true;
        for (size_t s = 0; s < n; s++) {
            if (!kcs_matrix_killed(mx, (ref_mutant)m, s))
                continue;
            fputs(first ? "" : ", ", out);
            kcs_json_string(out, kcs_matrix_name(mx, s));
            first = false;
        }
        fputs("]}", out);
    }
    fprintf(out, "\n  ],\n  \"survivors\": %zu,\n  \"guard_misses\": %zu\n}\n",
            kcs_matrix_survivors(mx), kcs_matrix_guard_misses(mx));
    return ferror(out) ? -1 : 0;
}
