/* Internal contract between the engine's source files. Not installed.
 *
 *   kcs_parse.c      lexing, parsing, the AST accessors
 *   kcs_run.c        the interpreter: world statements, operations, plant, results
 *   kcs_expect.c     the expectations (world inspection only)
 *   kcs_inspect.c    inspection helpers shared by expectations and the checker:
 *                    where a process's item and files are, the handle's SE blob
 *   kcs_invariants.c the invariant checker (domain.md §7) and the event observer
 *   kcs_parallel.c   parallel blocks: one scheduled thread per process (kcs_sched.c)
 *   kcs_sweep.c      crash-point sweeps (`sweep crash <process>: <operation>`)
 *   kcs_drive.c      runs a scenario with blocks or sweeps through the explorer
 *                    (kcs_explore.c): every schedule, the sweep's variants
 */
#ifndef KCS_INTERNAL_H
#define KCS_INTERNAL_H

#include "kcs/ast.h"
#include "kcs/engine.h"

#include "keyclass/world.h"
#include "ref/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KCS_SERVICE_MAX 256
#define KCS_PATH_MAX 512
#define KCS_BLOB_MAX 1024  /* largest handle plaintext the engine inspects */
#define KCS_SECRET_MAX 128 /* longest secret kept for S1 */
#define KCS_FAILURE_MAX 2048

typedef struct kcs_run kcs_run;
struct kcs_sched;

/* Step results beyond 0 (held), 1 (failed) and -1 (out of memory): the run
 * stops here without a verdict of its own (an abandoned schedule, or a sweep
 * variant that is complete). */
#define KCS_STEP_STOP 2

/* A ref_event copied out of the observer callback (strings owned). */
typedef struct {
    ref_event_kind kind;
    int proc;
    char *label;
    char *detail;
    int32_t status;
    int code;
    ref_error error;
    bool gui;
    bool presence;
    int64_t ttl_ms;
    /* STORE only (C2): was the label still cached / a LAContext registered in
     * the storing core when the store completed? */
    bool cache_present;
    bool la_present;
    /* The operation statement the process was running (C4), or NULL. */
    const kcs_stmt *op;
} kcs_event;

/* A marker in the checker's event list (not a ref_event): the process's core
 * memory went away here (kcs_inv_forget_core). */
#define KCS_EV_FORGET ((ref_event_kind)1000)
/* A marker: inside a `parallel` block the process's call moved a keychain
 * item to the account `label` (a rename's in-place update). The item there
 * now is the moved one, whatever a store of that label wrote before (PC1). */
#define KCS_EV_MOVED_IN ((ref_event_kind)1001)

/* The checker's shadow of one core's wrapping-key cache (C4): labels put and
 * not evicted or expired since, with their expiry. */
typedef struct {
    char *label;
    int64_t expires_ms;
} kcs_shadow_entry;

/* What the running operation was, for L1, L2, D2. */
typedef struct {
    bool ran; /* an operation ran the core in this step */
    int proc;
    kcs_op_kind kind;
    const char *label;
    ref_error err;
    int code;            /* last bridge code of the op */
    bool crashed;        /* the process crashed in it */
    bool presence;       /* L2: the key needs presence (item or SE key or .meta), before the op */
    bool class_key_lost; /* a class key was lost or destroyed when it ran (D2) */
} kcs_op_ctx;

/* A process's operation inside a parallel block (kcs_parallel.c): its own
 * context (operations of several processes are under way at once), where its
 * events begin, and what its calls removed and created (D2 is attributed to
 * the process whose calls removed something). */
typedef struct {
    kcs_op_ctx op;
    size_t events_from;
    bool presence_at_start; /* L2: also decided when the block began */
    uint64_t sign_key;      /* the SE key of its last successful SESign, 0 */
    char **removed;         /* "item:kc|svc|acct" / "file:path", not restored */
    size_t nremoved, removed_cap;
    char **created; /* made by this operation */
    size_t ncreated, created_cap;
    char pending[1024]; /* its first outcome mismatch in the block */
    int pending_line;
} kcs_par_op;

typedef struct {
    kcs_run *run;
    int index;
    const kcs_process_decl *decl;
    bool declared; /* its `process` statement has run */
    world_pid pid;
    ref_core *core; /* NULL: crashed, memory gone until restart */
    uint64_t generation;
    ref_config cfg; /* strings point into decl */
    char service[KCS_SERVICE_MAX];
    int crash_line; /* line of the operation it crashed in, 0 if none */
    kcs_shadow_entry *shadow;
    size_t nshadow, shadow_cap;
    const kcs_stmt *cur_op; /* the operation it runs now (events are attributed to it) */
    kcs_par_op par;         /* inside a parallel block */
} kcs_proc;

typedef struct {
    world_keychain kc;
    char *service;
    char *account;
    char *group;
    uint64_t writes;
    bool debris; /* kcs_item_is_debris before the step: D2 does not count its removal */
} kcs_item_snap;

typedef struct {
    unsigned char bytes[KCS_SECRET_MAX];
    size_t len;
    char tail_hex_lower[17]; /* hex of the last 8 bytes */
    char tail_hex_upper[17];
    uint64_t byte_set[4]; /* which byte values occur in it (S1's quick exclusion) */
} kcs_secret;

struct kcs_run {
    world *w;
    world *previous; /* the world active before the run, restored after it */
    const kcs_file *file;
    const kcs_scenario *sc;
    const char *path;
    kcs_run_options opt;
    kcs_result *result;
    kcs_proc *procs; /* sc->nprocs, in declaration order */
    bool oom;

    /* The first failure: "file:line: message", and the invariant it names. */
    bool failed;
    char failure[KCS_FAILURE_MAX];
    const char *invariant;

    /* mark */
    bool marked;
    uint64_t mark_prompts;
    uint64_t mark_prompt_kinds[WORLD_PROMPT_KIND_COUNT];
    uint64_t mark_calls[WORLD_API_COUNT];

    /* class-key faults the scenario made (lost: until the next unlock) */
    bool class_lost[WORLD_CLASS_COUNT];
    bool class_destroyed[WORLD_CLASS_COUNT];

    /* The step being run. */
    const kcs_stmt *step;
    kcs_op_ctx op;
    kcs_event *events;
    size_t nevents, events_cap;
    size_t c4_processed; /* events C4 has seen (the shadow caches follow them) */

    /* The world before the step (checker). */
    kcs_item_snap *before_items;
    size_t nbefore_items, before_items_cap;
    char **before_files;
    bool *before_files_debris; /* kcs_file_is_debris before the step */
    size_t nbefore_files, before_files_cap;
    size_t before_se_count;
    size_t before_journal_len;
    /* The store the item and file snapshots (and S1's harvest) were taken
     * from: world_store_version and the declared processes. Unchanged, the
     * step begins where the last one was taken, so nothing is re-read. */
    bool before_valid, harvest_valid;
    uint64_t before_version, harvest_version;
    size_t before_declared, harvest_declared;

    /* S1 */
    kcs_secret *secrets;
    size_t nsecrets, secrets_cap;
    size_t journal_checked; /* journal bytes already scanned for every known secret */

    /* Parallel blocks: the scheduler (NULL: blocks run under the default
     * schedule), whether a block is running, the line of a pending failure
     * that belongs to an operation inside it (0: the step's line). */
    struct kcs_sched *sched;
    bool in_parallel;
    int pending_line;
    /* A crash-point sweep variant: the sweep statement to vary (NULL: every
     * sweep runs its operation once, without a crash), the crash point, and
     * whether the crash fired. */
    const kcs_stmt *sweep_stmt;
    unsigned crash_point;
    bool crash_fired;
    char crash_call[160]; /* the call the process crashed after */
};

/* ---- kcs_run.c ------------------------------------------------------------------ */

/* kcs_run_scenario in three parts, for callers that drive a run step by step
 * (the unit tests of the checker; the interleaving explorer later).
 * init: a fresh world (activated) for scenario `index`; 0, or -1 (out of
 * memory, bad index; nothing to finish). step: runs statement `index` and the
 * checker after it; 0 when it held, 1 when the scenario failed (recorded), -1
 * when out of memory. finish: fills the result from the run so far (rc: the
 * last step's return), frees the run and restores the previously active
 * world; 0, or -1 when out of memory (result freed). */
int kcs_run_init(kcs_run *run, const kcs_file *file, size_t index, const kcs_run_options *options,
                 kcs_result *result);
int kcs_run_step(kcs_run *run, size_t index);
int kcs_run_finish(kcs_run *run, int rc);
/* A statement that is not in the scenario (a sweep's recovery steps), run as
 * a step with the checker around it. Same returns as kcs_run_step. */
int kcs_run_extra_step(kcs_run *run, const kcs_stmt *st);
/* Runs one operation statement (also a sweep's operation): the journal notes,
 * the core call, signature and outcome checks (mismatches go to `pending`).
 * Inside a parallel block it uses the process's own context (p->par). */
int kcs_exec_op(kcs_run *run, const kcs_stmt *st, char *pending, size_t pending_cap);
/* The start of every run of scenario `index` of `file`: clears `result` and
 * returns the scenario; NULL when result is NULL or there is no such
 * scenario. */
const kcs_scenario *kcs_run_begin_result(const kcs_file *file, size_t index, kcs_result *result);
/* The single-run interpreter behind kcs_run_scenario (no exploration). */
int kcs_run_plain(const kcs_file *file, size_t index, const kcs_run_options *options,
                  kcs_result *result);

/* ---- kcs_parallel.c ------------------------------------------------------------------ */

/* Runs a `parallel` block under run->sched (or the default schedule). 0, 1
 * (failed: recorded; or an outcome mismatch in `pending`, its line in
 * run->pending_line), KCS_STEP_STOP (schedule abandoned), -1. */
int kcs_exec_parallel(kcs_run *run, const kcs_stmt *st, char *pending, size_t pending_cap);
void kcs_par_forget(kcs_proc *p);

/* ---- kcs_sweep.c --------------------------------------------------------------------- */

/* A `sweep` statement: its operation once without a crash, or (when it is
 * run->sweep_stmt) the crash variant run->crash_point and its checks, after
 * which the run stops (KCS_STEP_STOP). */
int kcs_exec_sweep(kcs_run *run, const kcs_stmt *st, char *pending, size_t pending_cap);

/* Sets the result's failure to "file:line: message" (first failure wins) and
 * returns 1. */
int kcs_fail(kcs_run *run, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The same for an invariant ("invariant XX violated: ..."). */
int kcs_fail_invariant(kcs_run *run, int line, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- kcs_expect.c ---------------------------------------------------------------- */

/* Runs one expectation (or mark). 0 when it holds, 1 on failure (recorded). */
int kcs_expect(kcs_run *run, const kcs_stmt *st);

/* ---- kcs_inspect.c --------------------------------------------------------------- */

/* The path of one of the process's key files. false if it does not fit. */
bool kcs_key_path(const kcs_proc *p, const char *label, const char *ext, char *buf, size_t cap);

/* Does a key file of `label` exist for the process: any of .handle, .pub and
 * .meta, or the .handle alone when handle_only? */
bool kcs_has_key_file(const kcs_run *run, const kcs_proc *p, const char *label, bool handle_only);

/* The bytes of one of the process's key files (*len: how many), or NULL when
 * it does not exist or its path does not fit. */
const unsigned char *kcs_key_file(const kcs_run *run, const kcs_proc *p, const char *label,
                                  const char *ext, size_t *len);

/* The key's .meta, parsed; false when it is missing or does not parse. */
bool kcs_key_meta(const kcs_run *run, const kcs_proc *p, const char *label, ref_meta *out);

/* The wrapping-key item of `label` as the process's core would find it: the
 * DP keychain with its access group first (when it has one), then the
 * file-based keychain (out->keychain says which). */
bool kcs_find_item(const kcs_run *run, const kcs_proc *p, const char *label, world_item_view *out);

/* The handle's plaintext (the SE blob): a legacy handle as is, a wrapped one
 * decrypted with the item's stored bytes (read directly, whatever the class
 * keys). 0 on success; otherwise -1 and *why says what was missing. The
 * caller cleanses blob. */
int kcs_handle_blob(const kcs_run *run, const kcs_proc *p, const char *label, unsigned char *blob,
                    size_t cap, size_t *len, const char **why);

/* The SE key the label's handle names (not deleted). 0, or -1 with *why. */
int kcs_se_key_of(const kcs_run *run, const kcs_proc *p, const char *label, world_se_key_view *out,
                  const char **why);

/* Does the key need user presence (L2): its item carries a user-auth flag, or
 * its SE key does, or its .meta records an auth policy or a presence-protected
 * item? Decided from the world as it is now. */
bool kcs_key_needs_presence(const kcs_run *run, const kcs_proc *p, const char *label);

/* Is this service one of the declared processes'? */
bool kcs_is_core_service(const kcs_run *run, const char *service);

/* Debris (ref/README.md "The handle file is the key"): what an interrupted
 * generate, rename or delete leaves and no handle needs. D2 does not count
 * its removal: the spec's upsert (domain.md §6 keychain_store) deletes an
 * item before adding, and a rename or generate replaces moved-ahead files
 * (fuzz findings, scenarios/found/d2-*debris*.kcs). Decided from the world as
 * it is now.
 *
 * An item `service`/`account` is debris when the service is a declared
 * process's and, in the key directory of every process using it, the label
 * has no handle and the item is no other handle's key: with its 32 bytes
 * (`data`) it opens no wrapped handle there; without them (NULL), no wrapped
 * handle there may lack its item. (A label with a tombstone has no key left
 * to lose: its delete committed.) */
bool kcs_item_is_debris(const kcs_run *run, const char *service, const char *account,
                        const unsigned char *data, size_t data_len);
/* A key file is debris when it is a `.pub` or `.meta` in a declared process's
 * key directory whose label has no handle there. */
bool kcs_file_is_debris(const kcs_run *run, const char *path);

/* ---- kcs_invariants.c -------------------------------------------------------------- */

/* The ref_core observer (ctx: the kcs_proc). */
void kcs_observe(void *ctx, const ref_event *event);
/* Before a step: snapshot what the checker compares against. 0 or -1 (out of memory). */
int kcs_inv_step_begin(kcs_run *run);
/* After a step: evaluates every invariant. 0 when all hold, 1 on a violation
 * (recorded with kcs_fail_invariant), -1 when out of memory. */
int kcs_inv_step_end(kcs_run *run);
/* After an operation of process p inside a parallel block: L1, L2 and D2 for
 * it (its events only, D2 from what its own calls removed). Same returns. */
int kcs_inv_par_op_end(kcs_run *run, kcs_proc *p, const kcs_stmt *st);
/* Forgets a core's shadow cache (its memory is gone). */
void kcs_inv_forget_core(kcs_proc *p);
/* Records KCS_EV_MOVED_IN for the process (kcs_parallel.c). */
void kcs_inv_item_moved(kcs_proc *p, const char *account);
void kcs_inv_free(kcs_run *run);

#endif
