/* Internal contract between the engine's source files. Not installed.
 *
 *   kcs_parse.c      lexing, parsing, the AST accessors
 *   kcs_run.c        the interpreter: world statements, operations, plant, results
 *   kcs_expect.c     the expectations (world inspection only)
 *   kcs_inspect.c    inspection helpers shared by expectations and the checker:
 *                    where a process's item and files are, the handle's SE blob
 *   kcs_invariants.c the invariant checker (domain.md §7) and the event observer
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
} kcs_event;

/* The checker's shadow of one core's wrapping-key cache (C4): labels put and
 * not evicted or expired since, with their expiry. */
typedef struct {
    char *label;
    int64_t expires_ms;
} kcs_shadow_entry;

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
} kcs_proc;

typedef struct {
    world_keychain kc;
    char *service;
    char *account;
    char *group;
    uint64_t writes;
} kcs_item_snap;

typedef struct {
    unsigned char bytes[KCS_SECRET_MAX];
    size_t len;
    char tail_hex_lower[17]; /* hex of the last 8 bytes */
    char tail_hex_upper[17];
} kcs_secret;

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

    /* The world before the step (checker). */
    kcs_item_snap *before_items;
    size_t nbefore_items, before_items_cap;
    char **before_files;
    size_t nbefore_files, before_files_cap;
    size_t before_se_count;
    size_t before_journal_len;

    /* S1 */
    kcs_secret *secrets;
    size_t nsecrets, secrets_cap;
    size_t journal_checked; /* journal bytes already scanned for every known secret */
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

/* ---- kcs_invariants.c -------------------------------------------------------------- */

/* The ref_core observer (ctx: the kcs_proc). */
void kcs_observe(void *ctx, const ref_event *event);
/* Before a step: snapshot what the checker compares against. 0 or -1 (out of memory). */
int kcs_inv_step_begin(kcs_run *run);
/* After a step: evaluates every invariant. 0 when all hold, 1 on a violation
 * (recorded with kcs_fail_invariant), -1 when out of memory. */
int kcs_inv_step_end(kcs_run *run);
/* Forgets a core's shadow cache (its memory is gone). */
void kcs_inv_forget_core(kcs_proc *p);
void kcs_inv_free(kcs_run *run);

#endif
