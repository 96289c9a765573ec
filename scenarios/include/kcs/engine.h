/* The scenario engine: parses `.kcs` files (scenario-language.md) and runs
 * each scenario in a fresh world against the reference core, checking the
 * invariants of domain.md §7 after every step.
 *
 * The CLI (keyclass_main.c) and the mutation matrix use only this header.
 */
#ifndef KCS_ENGINE_H
#define KCS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ref/mutants.h"

/* A parsed file: one or more scenarios (opaque; see kcs/ast.h for the
 * layout used inside the engine). */
typedef struct kcs_file kcs_file;

/* Parses a scenario file. On success returns 0 and *out (free with
 * kcs_file_free). On any malformed input returns -1, *out NULL, and writes
 * exactly one "file:line: message" (no trailing newline) into err. Never
 * crashes, never leaks, whatever the bytes. */
int kcs_parse_file(const char *path, kcs_file **out, char *err, size_t err_size);
/* The same for text in memory (`name` is used as the file name in messages). */
int kcs_parse_text(const char *name, const char *text, size_t len, kcs_file **out, char *err,
                   size_t err_size);
void kcs_file_free(kcs_file *file);

size_t kcs_file_scenario_count(const kcs_file *file);
const char *kcs_scenario_name(const kcs_file *file, size_t index);
/* Line of the `scenario` statement. */
int kcs_scenario_line(const kcs_file *file, size_t index);
/* Mutants named by `guards` lines. */
ref_mutant_set kcs_scenario_guards(const kcs_file *file, size_t index);
/* The `doc` lines joined with a blank ("" if none). */
const char *kcs_scenario_doc(const kcs_file *file, size_t index);
/* Does the scenario hold a `parallel` block? */
bool kcs_scenario_has_parallel(const kcs_file *file, size_t index);
/* The words of its `tags` lines, in order (added with the engine). */
size_t kcs_scenario_tag_count(const kcs_file *file, size_t index);
const char *kcs_scenario_tag(const kcs_file *file, size_t index, size_t tag);

typedef struct {
    uint64_t seed;          /* world seed (default 1) */
    ref_mutant_set mutants; /* REF_MUTANTS_NONE: the clean core */
    bool trace;             /* keep the whole journal in the result */
} kcs_run_options;

typedef enum {
    KCS_PASS,
    KCS_FAIL, /* an expectation, an outcome or an invariant did not hold */
} kcs_verdict;

typedef struct {
    kcs_verdict verdict;
    /* On failure: "file:line: message" of the step that failed; for an
     * invariant violation the message names the invariant ("invariant PC1
     * violated: ..."). "" on success. Owned by the result. */
    char *failure;
    /* Name of the violated invariant ("PC1", ...) or NULL when the failure
     * was an expectation/outcome. Static storage. */
    const char *invariant;
    /* The last lines of the world's journal at the failure ("" on success);
     * the whole journal when options.trace is set. Owned. */
    char *journal;
    uint64_t steps;            /* statements executed */
    uint64_t invariant_checks; /* individual invariant evaluations made */
    uint64_t prompts;          /* prompts shown in the whole run */
    uint64_t calls;            /* Apple API calls in the whole run */
} kcs_result;

/* Runs scenario `index` of `file` in a fresh world. Returns 0 with *result
 * filled (free with kcs_result_free) — a failing scenario is still a 0
 * return; -1 only if memory ran out. */
int kcs_run_scenario(const kcs_file *file, size_t index, const kcs_run_options *options,
                     kcs_result *result);
void kcs_result_free(kcs_result *result);

#endif
