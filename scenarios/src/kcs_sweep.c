/* Crash-point sweeps: `sweep crash <process>: <operation> [-> <outcome>]`.
 *
 * The explorer (kcs_drive.c) runs the scenario once per crash point N = 1,
 * 2, ...: from a fresh world up to the sweep, then the process is crashed
 * right after its Nth hooked call (any Apple API or kc_file_* call) of the
 * operation, and the variant checks, then stops:
 *
 *  1. the operation, outcome `any` (it ends `crashed`); when the process made
 *     fewer than N calls the crash never fires: the sweep is complete;
 *  2. `<process>: restart`;
 *  3. D1: every key that was usable before the operation (any declared
 *     process's) is still usable, except the operation's own key — for
 *     generate: usable or cleanly absent (no handle file: the handle is the
 *     key); for rename: usable under the old or the new label; for delete
 *     (a deliberate deletion): anything. "Usable" is decided on the stored
 *     bytes (the handle decrypts with the label's wrapping-key item and
 *     names a live SE key); when a handle is there but that fails, the
 *     process loads the key once (its recovery may roll an interrupted
 *     operation forward) and the bytes are inspected again;
 *  4. for the operation's label (rename: both labels) in turn: if the key
 *     survived (a handle file is left), `<process>: delete <label>` must
 *     succeed; then `<process>: generate <label>` (the operation's auth and
 *     presence for a generate) must succeed — also over a wrapping-key item
 *     a crashed generate left without its handle — and the new key be
 *     usable.
 *  Every step runs with the invariant checker around it (D2 on each
 *  operation, PC1, ...). A failure names the crash point and the call the
 *  process crashed after.
 * In the scenario's main run the sweep is its operation, run once without a
 * crash (with its outcome), and the scenario goes on.
 */
#include "kcs_grow.h"
#include "kcs_internal.h"

#include "ref/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    world_pid pid;
    unsigned point;
    unsigned seen;
    char *out;
    size_t out_cap;
} crash_watch;

static void watch_done(void *ctx, const world_call_info *c) {
    crash_watch *cw = ctx;
    if (c->pid != cw->pid || c->no_effect)
        return;
    if (++cw->seen != cw->point)
        return;
    const char *name = world_api_name(c->api);
    if (c->path[0] != '\0')
        snprintf(cw->out, cw->out_cap, "call %u, %s %s", cw->point, name, c->path);
    else if (c->service[0] != '\0' || c->account[0] != '\0')
        snprintf(cw->out, cw->out_cap, "call %u, %s %s %s/%s", cw->point, name, c->keychain,
                 c->service, c->account);
    else
        snprintf(cw->out, cw->out_cap, "call %u, %s", cw->point, name);
}

/* ---- Keys -------------------------------------------------------------------------------------
 */

typedef struct {
    int proc;
    char *label;
} key_ref;

typedef struct {
    key_ref *keys;
    size_t n, cap;
} key_list;

static void keys_free(key_list *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->keys[i].label);
    free(l->keys);
    memset(l, 0, sizeof *l);
}

static bool usable(kcs_run *run, const kcs_proc *p, const char *label, const char **why) {
    world_se_key_view k;
    const char *w = "";
    bool ok = kcs_se_key_of(run, p, label, &k, &w) == 0;
    if (why != NULL)
        *why = w;
    return ok;
}

/* Every key (a handle file in a declared process's key directory) that is
 * usable now. */
static int collect_usable(kcs_run *run, key_list *out) {
    size_t nf = world_file_count(run->w);
    for (size_t pi = 0; pi < run->sc->nprocs; pi++) {
        const kcs_proc *p = &run->procs[pi];
        if (!p->declared)
            continue;
        char dir[KCS_PATH_MAX];
        size_t dl = ref_config_key_dir(&p->cfg, dir, sizeof dir);
        if (dl == 0 || dl >= sizeof dir)
            continue;
        for (size_t i = 0; i < nf; i++) {
            const char *path = world_file_path_at(run->w, i);
            size_t pl = path != NULL ? strlen(path) : 0;
            if (pl <= dl + 7 || strncmp(path, dir, dl) != 0 ||
                strcmp(path + pl - 7, ".handle") != 0 || memchr(path + dl, '/', pl - dl) != NULL)
                continue;
            size_t ll = pl - dl - 7;
            char *label = malloc(ll + 1);
            if (label == NULL)
                return -1;
            memcpy(label, path + dl, ll);
            label[ll] = '\0';
            if (!usable(run, p, label, NULL)) {
                free(label);
                continue;
            }
            key_ref *g = kcs_grow(out->keys, out->n, &out->cap, sizeof *g, 8);
            if (g == NULL) {
                free(label);
                return -1;
            }
            out->keys = g;
            out->keys[out->n++] = (key_ref){(int)pi, label};
        }
    }
    return 0;
}

static bool has_item(kcs_run *run, const kcs_proc *p, const char *label) {
    world_item_view v;
    return kcs_find_item(run, p, label, &v);
}

/* What is left of a key that is not usable, for a message. */
static void describe(kcs_run *run, const kcs_proc *p, const char *label, char *buf, size_t cap) {
    static const char *const exts[] = {".handle", ".pub", ".meta"};
    char path[KCS_PATH_MAX];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 3; i++)
        if (kcs_key_path(p, label, exts[i], path, sizeof path) && world_file_exists(run->w, path)) {
            int w = snprintf(buf + o, cap - o, "%s%s%s", o ? ", " : "", label, exts[i]);
            if (w > 0 && (size_t)w < cap - o)
                o += (size_t)w;
        }
    snprintf(buf + o, cap - o, "%s%s", o ? ", " : "",
             has_item(run, p, label) ? "a wrapping-key item" : "no wrapping-key item");
}

/* ---- The variant --------------------------------------------------------------------------------
 */

static kcs_stmt synthetic(const kcs_stmt *sweep, kcs_op_kind kind, char *label, char *text) {
    kcs_stmt st;
    memset(&st, 0, sizeof st);
    st.kind = KCS_ST_OP;
    st.line = sweep->line;
    st.text = text;
    st.u.op.kind = kind;
    st.u.op.proc = sweep->u.op.proc;
    st.u.op.label = label;
    st.u.op.auth = REF_AUTH_NONE;
    st.u.op.presence = REF_PRESENCE_NONE;
    st.u.op.ttl_ms = REF_TTL_DEFAULT;
    st.u.op.accessible = WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY;
    st.u.op.outcome = KCS_OUT_SUCCESS;
    return st;
}

static int d1(kcs_run *run, const kcs_stmt *sweep, const char *fmt, const char *a, const char *b,
              const char *c) {
    char msg[700];
    snprintf(msg, sizeof msg, fmt, a, b, c);
    return kcs_fail_invariant(run, sweep->line, "D1", "crash point %u (after %s): %s",
                              run->crash_point, run->crash_call, msg);
}

/* Usable: by inspection (the handle decrypts with the label's stored
 * wrapping key and names a live SE key); or, when a handle is there but the
 * inspection fails, after one `load` by the process, whose recovery may roll
 * an interrupted operation forward. */
static int usable_now(kcs_run *run, const kcs_stmt *sweep, int proc, const char *label, bool *ok,
                      const char **why) {
    const kcs_proc *q = &run->procs[proc];
    *ok = usable(run, q, label, why);
    if (*ok || !kcs_has_key_file(run, q, label, true) || q->core == NULL)
        return 0;
    char text[300];
    snprintf(text, sizeof text, "%s: load %s (crash point %u: is it usable?)", q->decl->name, label,
             run->crash_point);
    kcs_stmt ld = synthetic(sweep, KCS_OP_LOAD, (char *)label, text);
    ld.u.op.proc = proc;
    ld.u.op.outcome = KCS_OUT_ANY;
    int rc = kcs_run_extra_step(run, &ld);
    if (rc != 0)
        return rc;
    *ok = usable(run, q, label, why);
    return 0;
}

/* Step 3: D1 after the restart. */
static int check_d1(kcs_run *run, const kcs_stmt *sweep, const key_list *before) {
    const kcs_op *op = &sweep->u.op;
    const kcs_proc *p = &run->procs[op->proc];
    const char *why = "";
    char state[300];
    bool ok = false;
    int rc;
    for (size_t i = 0; i < before->n; i++) {
        const kcs_proc *q = &run->procs[before->keys[i].proc];
        const char *label = before->keys[i].label;
        bool own = strcmp(q->service, p->service) == 0;
        if (own && (strcmp(label, op->label) == 0 ||
                    (op->label2 != NULL && strcmp(label, op->label2) == 0)))
            continue; /* the operation's own key: below */
        if ((rc = usable_now(run, sweep, before->keys[i].proc, label, &ok, &why)) != 0)
            return rc;
        if (!ok)
            return d1(run, sweep, "key '%s' of process '%s' was usable and is not any more: %s",
                      label, q->decl->name, why);
    }
    switch (op->kind) {
    case KCS_OP_GENERATE:
        if ((rc = usable_now(run, sweep, op->proc, op->label, &ok, &why)) != 0)
            return rc;
        /* Without a handle the key does not exist: cleanly absent (a
         * wrapping-key item left without its handle must not block a new
         * generate: step 4 checks that). */
        if (ok || !kcs_has_key_file(run, p, op->label, true))
            return 0;
        describe(run, p, op->label, state, sizeof state);
        return d1(run, sweep, "the new key '%s' is neither usable nor cleanly absent (%s)%s",
                  op->label, state, "");
    case KCS_OP_RENAME: {
        bool was = false;
        for (size_t i = 0; i < before->n; i++)
            if (before->keys[i].proc == op->proc && strcmp(before->keys[i].label, op->label) == 0)
                was = true;
        if (!was)
            return 0;
        bool ok2 = false;
        if ((rc = usable_now(run, sweep, op->proc, op->label, &ok, &why)) != 0)
            return rc;
        if (!ok && (rc = usable_now(run, sweep, op->proc, op->label2, &ok2, &why)) != 0)
            return rc;
        if (ok || ok2)
            return 0;
        char s2[300];
        describe(run, p, op->label, state, sizeof state);
        describe(run, p, op->label2, s2, sizeof s2);
        char msg[700];
        snprintf(msg, sizeof msg, "the key is usable under neither '%s' (%s) nor '%s' (%s)",
                 op->label, state, op->label2, s2);
        return kcs_fail_invariant(run, sweep->line, "D1", "crash point %u (after %s): %s",
                                  run->crash_point, run->crash_call, msg);
    }
    case KCS_OP_DELETE:
        return 0; /* deliberately deleted */
    default:
        for (size_t i = 0; i < before->n; i++) {
            if (before->keys[i].proc != op->proc || strcmp(before->keys[i].label, op->label) != 0)
                continue;
            if ((rc = usable_now(run, sweep, op->proc, op->label, &ok, &why)) != 0)
                return rc;
            if (!ok)
                return d1(run, sweep, "key '%s' was usable and is not any more: %s%s", op->label,
                          why, "");
        }
        return 0;
    }
}

/* Step 4 for one label: clean delete if anything is left, then a new key. */
static int regenerate(kcs_run *run, const kcs_stmt *sweep, char *label) {
    const kcs_op *op = &sweep->u.op;
    const kcs_proc *p = &run->procs[op->proc];
    char text[300];
    int rc;
    if (kcs_has_key_file(run, p, label, true)) {
        snprintf(text, sizeof text, "%s: delete %s (crash point %u: clean up)", p->decl->name,
                 label, run->crash_point);
        kcs_stmt del = synthetic(sweep, KCS_OP_DELETE, label, text);
        if ((rc = kcs_run_extra_step(run, &del)) != 0)
            return rc;
    }
    snprintf(text, sizeof text, "%s: generate %s (crash point %u: a new key)", p->decl->name, label,
             run->crash_point);
    kcs_stmt gen = synthetic(sweep, KCS_OP_GENERATE, label, text);
    if (op->kind == KCS_OP_GENERATE) {
        gen.u.op.auth = op->auth;
        gen.u.op.presence = op->presence;
    }
    if ((rc = kcs_run_extra_step(run, &gen)) != 0)
        return rc;
    const char *why = "";
    if (!usable(run, p, label, &why))
        return d1(run, sweep, "the key '%s' generated after the crash is not usable: %s%s", label,
                  why, "");
    return 0;
}

static int variant(kcs_run *run, const kcs_stmt *sweep) {
    const kcs_op *op = &sweep->u.op;
    kcs_proc *p = &run->procs[op->proc];
    run->crash_fired = false;
    run->crash_call[0] = '\0';
    if (!p->declared || p->core == NULL)
        return KCS_STEP_STOP; /* a dead process makes no call: no crash point */
    key_list before = {0};
    if (collect_usable(run, &before) != 0) {
        keys_free(&before);
        run->oom = true;
        return -1;
    }

    /* 1. The operation, crashed after its Nth call. */
    crash_watch cw = {p->pid, run->crash_point, 0, run->crash_call, sizeof run->crash_call};
    world_set_scheduler(run->w, NULL, watch_done, &cw);
    world_fault_crash_after_calls(run->w, p->pid, run->crash_point);
    char text[300];
    snprintf(text, sizeof text, "%s (crash point %u)", sweep->text, run->crash_point);
    kcs_stmt opst = *sweep;
    opst.kind = KCS_ST_OP;
    opst.text = text;
    opst.u.op.outcome = KCS_OUT_ANY;
    int rc = kcs_run_extra_step(run, &opst);
    world_set_scheduler(run->w, NULL, NULL, NULL);
    run->crash_fired = world_process_crashed(run->w, p->pid);
    if (rc != 0 || !run->crash_fired) {
        keys_free(&before);
        return rc != 0 ? rc : KCS_STEP_STOP;
    }

    /* 2. Restart. */
    snprintf(text, sizeof text, "%s: restart (crash point %u)", p->decl->name, run->crash_point);
    kcs_stmt restart = synthetic(sweep, KCS_OP_RESTART, NULL, text);
    rc = kcs_run_extra_step(run, &restart);

    /* 3. D1. */
    if (rc == 0) {
        run->result->invariant_checks++;
        rc = check_d1(run, sweep, &before);
    }
    keys_free(&before);

    /* 4. A new key under the label(s). */
    if (rc == 0)
        rc = regenerate(run, sweep, op->label);
    if (rc == 0 && op->kind == KCS_OP_RENAME)
        rc = regenerate(run, sweep, op->label2);
    return rc != 0 ? rc : KCS_STEP_STOP;
}

int kcs_exec_sweep(kcs_run *run, const kcs_stmt *st, char *pending, size_t pending_cap) {
    if (run->sweep_stmt != st)
        return kcs_exec_op(run, st, pending, pending_cap);
    return variant(run, st);
}
