/* The scheduler of parallel blocks and the interleaving explorer (internal to
 * libkcscenarios; the CLI sees kcs/engine.h only).
 *
 * kcs_sched runs one parallel block at a time: one thread per simulated
 * process, passing a single baton (a mutex and a condition variable; exactly
 * one thread runs at any moment, never a real race). A process yields at
 * every hooked call (world_set_scheduler: once the call's key arguments are
 * known, before the call runs); at each yield point the scheduler records a
 * *node* (which processes have a pending call, and what those calls are) and
 * a chooser callback decides which process runs its pending call next. One
 * process's calls keep their order; code between two calls of a process runs
 * without interruption.
 *
 * kcs_explore drives many executions of one test (each from scratch, through
 * an exec callback) with choosers of its own: source-DPOR with sleep sets
 * over the pending-call descriptions (world_calls_commute), a seeded random
 * sample, or a fixed schedule (replay).
 *
 * A *schedule* is the list of choices at the nodes where two or more
 * processes could run (the decisions), written as process names separated by
 * commas ("a,a,b"). After the last choice written, the default policy
 * decides: the process that ran last runs on while it has calls; otherwise
 * the first one (in the order the block names them) that still has calls.
 */
#ifndef KCS_SCHED_H
#define KCS_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kcs/engine.h"
#include "keyclass/world.h"

#define KCS_SCHED_MAX_PROCS 16

typedef struct {
    uint16_t block;           /* which parallel block of the execution (0-based) */
    uint8_t nprocs;           /* processes of that block */
    uint8_t chosen;           /* block-local index of the process that ran */
    int8_t prev;              /* the process that ran the block's previous event, -1 */
    bool answers_queued;      /* user answers were queued when the block began */
    uint32_t enabled;         /* block-local processes with a pending call */
    world_call_info *pending; /* [nprocs]; meaningful where enabled */
} kcs_node;

/* The default policy at a node (see above). */
int kcs_node_default(const kcs_node *node);
/* Is this node a decision (two or more processes could run)? */
bool kcs_node_is_decision(const kcs_node *node);

typedef struct kcs_sched kcs_sched;

/* Returns the block-local index of an enabled process, or -1 to abandon the
 * execution (every later call fails without effect; the caller discards it). */
typedef int (*kcs_choose_fn)(void *ctx, const kcs_sched *s, size_t index, const kcs_node *node);

kcs_sched *kcs_sched_new(kcs_choose_fn choose, void *ctx);
void kcs_sched_free(kcs_sched *s);
/* Run the blocks on these threads (kcs/engine.h kcs_workers), which outlive
 * the scheduler. Without it, the scheduler makes its own at its first block
 * and ends them when it is freed. */
void kcs_sched_use_workers(kcs_sched *s, kcs_workers *workers);

typedef struct {
    /* Runs block-local process `proc`'s operations (on its own thread, with
     * the baton); Apple and kc_file_* calls inside yield. */
    void (*body)(void *ctx, size_t proc);
    /* Optional: after each call of a block process, with its status. */
    void (*done)(void *ctx, size_t proc, const world_call_info *call);
    void *ctx;
} kcs_block_fns;

/* Runs one parallel block to its end (every process has finished). Returns
 * 0; 1 when the execution was abandoned (a chooser returned -1, or a thread
 * could not be started); -1 when out of memory. `names` must stay valid while
 * the scheduler lives. */
int kcs_sched_block(kcs_sched *s, world *w, size_t nprocs, const world_pid *pids,
                    const char *const *names, const kcs_block_fns *fns);

/* Inside a body: a pseudo-event that conflicts with every call (an operation
 * that changes the world without a hooked call: plant, restart, rebuild).
 * False when the execution has been abandoned. */
bool kcs_sched_yield_global(kcs_sched *s, size_t proc);

bool kcs_sched_abandoned(const kcs_sched *s);
size_t kcs_sched_node_count(const kcs_sched *s);
const kcs_node *kcs_sched_node(const kcs_sched *s, size_t index);
/* The name of block-local process `proc` of block `block`. */
const char *kcs_sched_name(const kcs_sched *s, size_t block, size_t proc);
/* The schedule of the execution so far: the decisions, without the trailing
 * ones that the default policy would take anyway (at least one decision when
 * there was any). "" when there was no decision. Free with free(). */
char *kcs_sched_schedule(const kcs_sched *s);
/* Number of decisions whose choice differs from the default policy. */
size_t kcs_sched_deviations(const kcs_sched *s);

/* ---- Exploration ---------------------------------------------------------------- */

typedef enum {
    KCS_EXEC_PASS,
    KCS_EXEC_FAIL,
    KCS_EXEC_PRUNED, /* abandoned: redundant, no verdict */
    KCS_EXEC_ERROR,  /* out of memory, or a replay that does not fit the test */
} kcs_exec_verdict;

typedef struct {
    /* One execution from scratch, scheduling its parallel blocks with s. */
    kcs_exec_verdict (*exec)(void *ctx, kcs_sched *s);
    /* The last execution failed and is now the best failure found: keep its
     * result (the previous best one is dropped). */
    void (*keep)(void *ctx);
    void *ctx;
} kcs_exec_fns;

typedef enum {
    KCS_MODE_SYSTEMATIC, /* every schedule up to the bound (reduced), then a random sample */
    KCS_MODE_RANDOM,     /* a random sample only */
    KCS_MODE_REPLAY,     /* exactly one schedule */
} kcs_explore_mode;

typedef struct {
    kcs_explore_mode mode;
    uint64_t bound;       /* systematic executions before the sample (0: KCS_DEFAULT_BOUND) */
    uint64_t sample;      /* random executions (mode random; or after the bound: 0 = bound) */
    uint64_t seed;        /* the sample's generator */
    bool no_reduction;    /* every interleaving, no sleep sets, no DPOR */
    bool keep_going;      /* do not stop at the first failure */
    bool no_minimize;     /* print the first failing schedule as found */
    const char *schedule; /* replay: the schedule */
    kcs_workers *workers; /* every execution's blocks run on these (NULL: own per execution) */
} kcs_explore_config;

#define KCS_DEFAULT_BOUND 2000

typedef struct {
    uint64_t executions; /* every execution run (systematic + sample + minimisation) */
    uint64_t systematic; /* executions of the systematic search, pruned ones included */
    uint64_t complete;   /* of those, complete (not pruned) */
    uint64_t pruned;     /* sleep-set-blocked executions abandoned early */
    uint64_t sampled;    /* executions of the random sample */
    uint64_t minimise;   /* executions spent shortening the failing schedule */
    uint64_t decisions;  /* of the longest execution */
    bool exhaustive;     /* the systematic search covered every schedule */
    bool failed;
    char *schedule;  /* of the kept failure (owned), NULL if none */
    char error[256]; /* KCS_EXEC_ERROR: why */
} kcs_explore_stats;

/* Returns 0 (stats filled; stats->failed says whether a failure was kept),
 * or -1 on an error (stats->error). Free stats->schedule with free(). */
int kcs_explore(const kcs_explore_config *cfg, const kcs_exec_fns *fns, kcs_explore_stats *stats);

/* Parses a schedule into names (for checks before a replay). Returns the
 * number of choices, or -1 when malformed (err set). `name*N` repeats. */
int kcs_schedule_parse(const char *text, char ***names, char *err, size_t err_size);
void kcs_schedule_names_free(char **names, int n);

#endif
