/* `parallel ... end`: the block's processes run on scheduled threads
 * (kcs_sched.c), each one its own operations in order; they interleave at
 * every hooked call (Apple API and kc_file_*), as the run's scheduler decides.
 *
 * Decisions (where scenario-language.md is silent):
 *  - The block's processes are ordered by their first operation in the block;
 *    the default schedule (no choice written) runs the first one until it
 *    has finished, then the next (the process that ran last keeps running
 *    while it has calls).
 *  - `plant`, `restart` and `rebuild` change the world without a hooked call:
 *    inside a block each is a scheduling point of its own that conflicts with
 *    every call. `evict` touches only its process's memory.
 *  - Each operation is checked when it ends, on its own thread: its outcome
 *    (`-> <outcome>`), its signature, and L1, L2 and D2 for it alone — its
 *    own events, and for D2 what its own calls removed (another process may
 *    legitimately delete meanwhile). L2 lets an operation evaluate a
 *    LAContext when the key needed presence when the block began, when the
 *    operation began or when it ended. A signature is verified against the
 *    Secure Enclave key that the process's SESign used (the label may name
 *    another key by then); a public key must be one of the Secure Enclave's.
 *  - The other invariants are checked after `end` over the whole block, like
 *    any step; then the first outcome mismatch (in the block's order) is
 *    reported at its operation's line.
 */
#include "kcs_grow.h"
#include "kcs_internal.h"
#include "kcs_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    kcs_run *run;
    const kcs_stmt *st;
    kcs_sched *sched;
    size_t nprocs;
    int proc_of[KCS_SCHED_MAX_PROCS]; /* block-local -> scenario process */
    bool *presence;                   /* per body operation, when the block began */
} block_ctx;

/* ---- What a process's operation removed and created (D2) ------------------------------------ */

static void list_free(char **list, size_t *n) {
    for (size_t i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

void kcs_par_forget(kcs_proc *p) {
    list_free(p->par.removed, &p->par.nremoved);
    list_free(p->par.created, &p->par.ncreated);
    free(p->par.removed);
    free(p->par.created);
    p->par.removed = p->par.created = NULL;
    p->par.removed_cap = p->par.created_cap = 0;
}

static bool list_take(char **list, size_t *n, const char *key) {
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(list[i], key) == 0) {
            free(list[i]);
            list[i] = list[--*n];
            return true;
        }
    }
    return false;
}

static bool list_has(char *const *list, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

static void list_add(kcs_run *run, char ***list, size_t *n, size_t *cap, const char *key) {
    if (list_has(*list, *n, key))
        return;
    char **g = kcs_grow(*list, *n, cap, sizeof *g, 8);
    if (g == NULL) {
        run->oom = true;
        return;
    }
    *list = g;
    char *k = strdup(key);
    if (k == NULL) {
        run->oom = true;
        return;
    }
    (*list)[(*n)++] = k;
}

static void removed(kcs_run *run, kcs_proc *p, const char *key) {
    if (!list_take(p->par.created, &p->par.ncreated, key))
        list_add(run, &p->par.removed, &p->par.nremoved, &p->par.removed_cap, key);
}

static void created(kcs_run *run, kcs_proc *p, const char *key) {
    if (!list_take(p->par.removed, &p->par.nremoved, key))
        list_add(run, &p->par.created, &p->par.ncreated, &p->par.created_cap, key);
}

static void item_key(char *buf, size_t cap, const world_call_info *c, bool after) {
    const char *svc = after && c->service2[0] ? c->service2 : c->service;
    const char *acct = after && c->account2[0] ? c->account2 : c->account;
    snprintf(buf, cap, "item %s keychain %s/%s", c->keychain, svc, acct);
}

static void block_done(void *ctx, size_t local, const world_call_info *c) {
    block_ctx *b = ctx;
    kcs_run *run = b->run;
    kcs_proc *p = &run->procs[b->proc_of[local]];
    /* (A fault that injected "success" did nothing: not a removal, not a
     * creation — fuzz finding, scenarios/found/d2-injected-success-in-block.kcs.) */
    if (p->cur_op == NULL || c->status != 0 || c->injected_no_effect)
        return;
    char k1[400], k2[400];
    switch (c->api) {
    case WORLD_API_SE_SIGN:
        p->par.sign_key = c->se_key;
        break;
    case WORLD_API_SEC_ITEM_DELETE:
        /* (Debris is not counted: kcs_item_is_debris, judged without its bytes.) */
        if (kcs_item_is_debris(run, c->service, c->account, NULL, 0))
            break;
        item_key(k1, sizeof k1, c, false);
        removed(run, p, k1);
        break;
    case WORLD_API_SEC_ITEM_ADD:
        item_key(k1, sizeof k1, c, false);
        created(run, p, k1);
        break;
    case WORLD_API_SEC_ITEM_UPDATE:
        if (c->service2[0] != '\0' || c->account2[0] != '\0') {
            item_key(k1, sizeof k1, c, false);
            item_key(k2, sizeof k2, c, true);
            if (strcmp(k1, k2) != 0) {
                removed(run, p, k1);
                created(run, p, k2);
                if (c->account2[0] != '\0')
                    kcs_inv_item_moved(p, c->account2);
            }
        }
        break;
    case WORLD_API_FILE_UNLINK:
        if (kcs_file_is_debris(run, c->path))
            break; /* (debris: not counted) */
        snprintf(k1, sizeof k1, "file %s", c->path);
        removed(run, p, k1);
        break;
    case WORLD_API_FILE_WRITE:
        snprintf(k1, sizeof k1, "file %s", c->path);
        created(run, p, k1);
        break;
    case WORLD_API_FILE_RENAME:
        if (strcmp(c->path, c->path2) != 0) {
            snprintf(k1, sizeof k1, "file %s", c->path);
            snprintf(k2, sizeof k2, "file %s", c->path2);
            if (!kcs_file_is_debris(run, c->path))
                removed(run, p, k1);
            created(run, p, k2);
        }
        break;
    default:
        break;
    }
}

/* ---- The processes' threads ----------------------------------------------------------------- */

static void op_reset(kcs_run *run, kcs_proc *p) {
    list_free(p->par.removed, &p->par.nremoved);
    list_free(p->par.created, &p->par.ncreated);
    memset(&p->par.op, 0, sizeof p->par.op);
    p->par.events_from = run->nevents;
    p->par.sign_key = 0;
}

static bool world_changing(kcs_op_kind k) {
    return k == KCS_OP_PLANT || k == KCS_OP_RESTART || k == KCS_OP_REBUILD;
}

static void block_body(void *ctx, size_t local) {
    block_ctx *b = ctx;
    kcs_run *run = b->run;
    int pi = b->proc_of[local];
    kcs_proc *p = &run->procs[pi];
    for (size_t i = 0; i < b->st->u.parallel.count; i++) {
        const kcs_stmt *os = &b->st->u.parallel.body[i];
        if (os->u.op.proc != pi)
            continue;
        if (world_changing(os->u.op.kind) && !kcs_sched_yield_global(b->sched, local))
            return;
        if (kcs_sched_abandoned(b->sched) || run->oom)
            return;
        op_reset(run, p);
        p->par.presence_at_start = b->presence[i];
        char pending[sizeof p->par.pending];
        pending[0] = '\0';
        int rc = kcs_exec_op(run, os, pending, sizeof pending);
        if (kcs_sched_abandoned(b->sched))
            return;
        if (rc != 0)
            return; /* recorded: the process stops here */
        if (pending[0] != '\0' && p->par.pending[0] == '\0') {
            snprintf(p->par.pending, sizeof p->par.pending, "%s", pending);
            p->par.pending_line = os->line;
        }
        /* L2: presence when the block began, the operation began (exec_op)
         * or ended. */
        if (p->par.op.ran && p->par.presence_at_start)
            p->par.op.presence = true;
        else if (p->par.op.ran && !p->par.op.presence && os->u.op.label != NULL)
            p->par.op.presence = kcs_key_needs_presence(run, p, os->u.op.label);
        if (p->par.op.ran && kcs_inv_par_op_end(run, p, os) < 0)
            return;
    }
}

int kcs_exec_parallel(kcs_run *run, const kcs_stmt *st, char *pending, size_t pending_cap) {
    block_ctx b;
    memset(&b, 0, sizeof b);
    b.run = run;
    b.st = st;
    world_pid pids[KCS_SCHED_MAX_PROCS];
    const char *names[KCS_SCHED_MAX_PROCS];
    size_t count = st->u.parallel.count;
    for (size_t i = 0; i < count; i++) {
        int pi = st->u.parallel.body[i].u.op.proc;
        size_t l = 0;
        while (l < b.nprocs && b.proc_of[l] != pi)
            l++;
        if (l < b.nprocs)
            continue;
        const kcs_proc *p = &run->procs[pi];
        if (!p->declared)
            return kcs_fail(run, st->u.parallel.body[i].line,
                            "process '%s' has not been declared yet", p->decl->name);
        if (b.nprocs == KCS_SCHED_MAX_PROCS)
            return kcs_fail(run, st->line, "a parallel block runs at most %d processes",
                            KCS_SCHED_MAX_PROCS);
        b.proc_of[b.nprocs] = pi;
        pids[b.nprocs] = p->pid;
        names[b.nprocs] = p->decl->name;
        b.nprocs++;
    }
    b.presence = calloc(count ? count : 1, sizeof *b.presence);
    if (b.presence == NULL) {
        run->oom = true;
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const kcs_op *op = &st->u.parallel.body[i].u.op;
        if (op->label != NULL)
            b.presence[i] = kcs_key_needs_presence(run, &run->procs[op->proc], op->label);
    }
    for (size_t l = 0; l < b.nprocs; l++) {
        kcs_proc *p = &run->procs[b.proc_of[l]];
        p->par.pending[0] = '\0';
        p->par.pending_line = 0;
    }

    bool own = run->sched == NULL;
    b.sched = own ? kcs_sched_new(NULL, NULL) : run->sched;
    if (b.sched == NULL) {
        free(b.presence);
        run->oom = true;
        return -1;
    }
    kcs_block_fns fns = {block_body, block_done, &b};
    run->in_parallel = true;
    int rc = kcs_sched_block(b.sched, run->w, b.nprocs, pids, names, &fns);
    run->in_parallel = false;
    if (own)
        kcs_sched_free(b.sched);
    free(b.presence);
    for (size_t l = 0; l < b.nprocs; l++)
        run->procs[b.proc_of[l]].cur_op = NULL;
    if (rc < 0 || run->oom) {
        run->oom = true;
        return -1;
    }
    if (rc == 1)
        return KCS_STEP_STOP;
    if (run->failed)
        return 1;
    for (size_t i = 0; i < count; i++) {
        const kcs_stmt *os = &st->u.parallel.body[i];
        const kcs_proc *p = &run->procs[os->u.op.proc];
        if (p->par.pending[0] != '\0' && p->par.pending_line == os->line) {
            snprintf(pending, pending_cap, "%s", p->par.pending);
            run->pending_line = os->line;
            break;
        }
    }
    return 0;
}
