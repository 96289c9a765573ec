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
    /* State-machine coverage (kcs/statecov.h): when set, the cell of every
     * operation is recorded into it. NULL: nothing recorded. */
    struct kcs_statecov *statecov;
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
    /* Scenarios with `parallel` blocks or `sweep` statements run once per
     * schedule and crash point (kcs_explore_scenario); the other fields then
     * describe the run that failed, or the last one. */
    bool explored;         /* the scenario has parallel blocks */
    bool exhaustive;       /* every schedule was covered (up to reordering independent calls) */
    uint64_t schedules;    /* executions of the scenario for its blocks (1 without blocks) */
    uint64_t systematic;   /* of those, by the systematic search (pruned ones included) */
    uint64_t pruned;       /* of those, abandoned early as redundant */
    uint64_t sampled;      /* of those, the random sample (above the bound) */
    uint64_t bound;        /* the bound that applied */
    uint64_t sample_seed;  /* the sample's seed */
    uint64_t crash_points; /* sweep variants run */
    /* The failing schedule ("a,a,b": which process ran at each decision; see
     * `keyclass replay`), NULL when the failure is not in a block. Owned. */
    char *schedule;
} kcs_result;

/* Runs scenario `index` of `file` in a fresh world. Returns 0 with *result
 * filled (free with kcs_result_free) — a failing scenario is still a 0
 * return; -1 only if memory ran out. */
int kcs_run_scenario(const kcs_file *file, size_t index, const kcs_run_options *options,
                     kcs_result *result);
void kcs_result_free(kcs_result *result);

/* ---- Parallel blocks and crash-point sweeps --------------------------------------- */

/* The threads that run the processes of parallel blocks (one per process of
 * the widest block), kept from block to block and from run to run: starting
 * threads costs more than most blocks, above all under a sanitizer. A caller
 * that explores many runs (the ops fuzz target) keeps one and passes it in
 * kcs_explore_options; otherwise each exploration makes its own. One run at
 * a time may use a set. */
typedef struct kcs_workers kcs_workers;
kcs_workers *kcs_workers_new(void);
void kcs_workers_free(kcs_workers *workers);

typedef struct {
    /* Systematic executions before the search gives way to a random sample
     * of as many (0: the scenario's `knob explore_bound=N`, else 2000). */
    uint64_t bound;
    uint64_t random;      /* > 0: only a random sample of this many schedules */
    uint64_t random_seed; /* the sample's seed (0: 1) */
    bool no_reduction;    /* every interleaving (no sleep sets, no DPOR) */
    bool keep_going;      /* do not stop at the first failing schedule */
    /* Replay exactly this schedule (process names at each decision, "a,b,b";
     * `name*N` repeats); NULL: explore. */
    const char *schedule;
    kcs_workers *workers; /* NULL: made for the call */
} kcs_explore_options;

/* Runs a scenario under every schedule of its parallel blocks (up to the
 * bound, then a seeded random sample) and every crash point of its sweeps;
 * stops at the first failure and keeps the shortest failing schedule found.
 * kcs_run_scenario does this (with default options) for every scenario that
 * has blocks or sweeps. Same returns as kcs_run_scenario; a schedule that
 * names a process that cannot run at that point is a failure of the run
 * saying so. */
int kcs_explore_scenario(const kcs_file *file, size_t index, const kcs_run_options *options,
                         const kcs_explore_options *explore, kcs_result *result);
/* A line saying how a scenario was explored ("57 schedules, all of them up
 * to reordering independent calls", "... then a random sample of 2000 (seed
 * 1)", ", 9 crash points"); "" for a scenario without blocks or sweeps. */
void kcs_result_exploration(const kcs_result *result, char *buf, size_t cap);
/* Does the scenario hold a `sweep` statement? */
bool kcs_scenario_has_sweep(const kcs_file *file, size_t index);

#endif
