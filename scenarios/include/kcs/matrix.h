/* The mutation matrix (`keyclass mutants`, `keyclass report`): every mutant of
 * regressions.md against every scenario of a suite. A mutant is killed by a
 * scenario that passes on the clean core and fails under the mutant; a
 * scenario that fails on the clean core proves nothing and never kills. A
 * guard miss is a scenario that `guards` a mutant it does not kill.
 *
 * Built step by step so that a caller can print as it goes: init, the clean
 * verdict of every scenario (run here, or recorded from the caller's own
 * clean run), then each mutant. */
#ifndef KCS_MATRIX_H
#define KCS_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kcs/suite.h"
#include "ref/mutants.h"

typedef struct {
    const kcs_suite *suite;
    uint64_t seed;
    kcs_suite_entry *entries; /* the scenarios, in suite order (owned) */
    size_t n;
    bool *clean_pass;     /* [s] */
    char **clean_failure; /* [s]: the clean failure line, NULL when it passed */
    bool *killed;         /* [m * n + s] */
    size_t kills[REF_MUT_COUNT];
    bool ran[REF_MUT_COUNT];
    size_t clean_failed;
} kcs_matrix;

/* 0, or -1 when out of memory (nothing to free). */
int kcs_matrix_init(kcs_matrix *mx, const kcs_suite *suite, uint64_t seed);
void kcs_matrix_free(kcs_matrix *mx);

/* Runs scenario s on the clean core and records its verdict; returns whether
 * it passed. */
bool kcs_matrix_run_clean(kcs_matrix *mx, size_t s);
/* Records a clean verdict the caller obtained (same seed, no mutant), once
 * per scenario. failure may be NULL. 0, or -1 when out of memory. */
int kcs_matrix_set_clean(kcs_matrix *mx, size_t s, bool pass, const char *failure);
/* Runs every clean-passing scenario under mutant m; returns its kills. */
size_t kcs_matrix_run_mutant(kcs_matrix *mx, ref_mutant m);

const char *kcs_matrix_name(const kcs_matrix *mx, size_t s);
bool kcs_matrix_killed(const kcs_matrix *mx, ref_mutant m, size_t s);
/* Does scenario s guard mutant m without killing it? */
bool kcs_matrix_guard_miss(const kcs_matrix *mx, size_t s, ref_mutant m);
size_t kcs_matrix_survivors(const kcs_matrix *mx);
size_t kcs_matrix_guard_misses(const kcs_matrix *mx);

/* The `keyclass mutants --json` document (ends with a newline). 0, or -1 on a
 * write error. */
int kcs_matrix_json(FILE *out, const kcs_matrix *mx);

#endif
