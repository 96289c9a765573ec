/* The per-label locks (ref/README.md "Concurrency (ours)"): generate, rename
 * and delete hold the advisory lock (kc_file_trylock) of every label they
 * change, from their first check to their last step.
 *
 * Interleavings are staged through the world's scheduler hook: process B's
 * whole operation runs right before process A's Nth hooked call, for every N
 * from 1 to one past A's last call (B then runs after A). For each pair of
 * operations on one label (generate vs generate, rename onto or away from a
 * label vs its generate, delete vs generate, generate vs delete, rename vs
 * rename onto one label) no key is lost: every key that existed is still
 * usable (under its old or its new label), at most one of two creators
 * wins, and an operation refused because the other held the lock touched
 * nothing. A crash of A at each of its calls releases its lock at once: B
 * generates without A being restarted. Then the edges: lock failures other
 * than "busy", a failed unlock, rename onto its own label, the journal.
 *
 * Each test builds its worlds itself; teardown fails on a leaked CF object or
 * a CF misuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <CoreFoundation/CoreFoundation.h>
#include <keyclass/cf_accounting.h>
#include <keyclass/files.h>
#include <keyclass/world.h>

#include "../../mocks/tests/cf_test_support.h"
#include "ref/core.h"
#include "ref/ehw1.h"

#define GROUP "TEAM.com.example.sshenc"
#define MSG "ssh-userauth challenge"
#define SEED 77

static int teardown(void **state) {
    (void)state;
    world_activate(NULL);
    cf_assert_no_leaks_or_misuse();
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, cf_test_setup, teardown)

/* Two processes of one app (same service, key directory and access group),
 * each with its own core. */
typedef struct {
    world *w;
    world_pid a, b;
    ref_core *ca, *cb;
} env;

static world_pid add_proc(world *w, const char *name) {
    world_process_config pc = {
        .name = name, .app = "sshenc", .is_signed = true, .access_group = GROUP, .gui = true};
    world_pid pid = world_process_add(w, &pc);
    assert_true(pid >= 0);
    return pid;
}

static ref_core *new_core(void) {
    ref_config c;
    ref_config_init(&c);
    c.access_group = GROUP;
    c.wrap_presence = false;
    ref_core *core = ref_core_new(&c);
    assert_non_null(core);
    return core;
}

static void env_new(env *e) {
    e->w = world_new(SEED);
    assert_non_null(e->w);
    world_activate(e->w);
    assert_int_equal(world_device_boot(e->w), 0);
    assert_int_equal(world_device_unlock(e->w), 0);
    e->a = add_proc(e->w, "a");
    e->b = add_proc(e->w, "b");
    e->ca = new_core();
    e->cb = new_core();
    world_set_current(e->w, e->a);
}

static void env_free(env *e) {
    ref_core_free(e->ca);
    ref_core_free(e->cb);
    world_free(e->w);
    world_activate(NULL);
}

static void as(const env *e, world_pid p) { world_set_current(e->w, p); }

static void path_of(const env *e, const char *label, const char *ext, char *buf, size_t cap) {
    assert_true(ref_config_key_path(ref_core_config(e->ca), label, ext, buf, cap) > 0);
}

static bool has_file(const env *e, const char *label, const char *ext) {
    char path[512];
    path_of(e, label, ext, path, sizeof path);
    return world_file_exists(e->w, path);
}

static bool has_item(const env *e, const char *label) {
    world_item_view v;
    return world_item_find(e->w, WORLD_KEYCHAIN_DP, ref_core_service(e->ca), label, GROUP, &v);
}

/* D1 on the stored bytes: the handle decrypts with the label's item. */
static bool usable(const env *e, const char *label) {
    char path[512];
    path_of(e, label, ".handle", path, sizeof path);
    size_t hl = 0;
    const unsigned char *h = world_file_get(e->w, path, &hl);
    world_item_view v;
    if (h == NULL ||
        !world_item_find(e->w, WORLD_KEYCHAIN_DP, ref_core_service(e->ca), label, GROUP, &v) ||
        v.data_len != 32)
        return false;
    uint8_t out[1024];
    size_t n = 0;
    return hl <= sizeof out && ref_ehw1_open(v.data, h, hl, out, sizeof out, &n) == REF_EHW1_OK;
}

/* The .pub of label (zeros when there is none). */
static void pub_of(const env *e, const char *label, uint8_t out[65]) {
    char path[512];
    path_of(e, label, ".pub", path, sizeof path);
    size_t n = 0;
    const unsigned char *p = world_file_get(e->w, path, &n);
    memset(out, 0, 65);
    if (p != NULL && n == 65)
        memcpy(out, p, 65);
}

static bool same_key(const env *e, const char *label, const uint8_t pub[65]) {
    uint8_t now[65];
    pub_of(e, label, now);
    return usable(e, label) && memcmp(now, pub, 65) == 0;
}

/* Signs with both processes' cores and verifies against the .pub. */
static void both_sign(const env *e, const char *label) {
    ref_core *cores[2] = {e->ca, e->cb};
    world_pid pids[2] = {e->a, e->b};
    uint8_t pub[65];
    pub_of(e, label, pub);
    for (int i = 0; i < 2; i++) {
        as(e, pids[i]);
        CFDataRef sig = NULL;
        assert_int_equal(
            ref_core_sign(cores[i], label, MSG, strlen(MSG), REF_PRESENCE_NONE, 0, &sig), REF_OK);
        assert_true(world_verify_signature(pub, (const unsigned char *)MSG, strlen(MSG),
                                           CFDataGetBytePtr(sig), (size_t)CFDataGetLength(sig)));
        CFRelease(sig);
    }
    as(e, e->a);
}

static void generate_as(const env *e, world_pid p, ref_core *core, const char *label) {
    as(e, p);
    assert_int_equal(ref_core_generate(core, label, REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    as(e, e->a);
}

/* ---- Staged interleavings ------------------------------------------------------------ */

typedef enum { OP_GENERATE, OP_RENAME, OP_DELETE } op_kind;

typedef struct {
    op_kind kind;
    const char *l1, *l2;
} op;

static ref_error run(ref_core *core, const op *o) {
    switch (o->kind) {
    case OP_GENERATE:
        return ref_core_generate(core, o->l1, REF_AUTH_NONE, REF_PRESENCE_NONE);
    case OP_RENAME:
        return ref_core_rename(core, o->l1, o->l2);
    case OP_DELETE:
        break;
    }
    return ref_core_delete(core, o->l1);
}

typedef struct {
    env *e;
    unsigned at, seen;
    bool inside, fired;
    op b_op;
    ref_error b_err;
    uint64_t b_mutations; /* items and files B's operation changed */
    char b_message[512];
} stage;

/* Items, files and SE keys changed so far. */
static uint64_t changes(const env *e) {
    return world_item_mutations(e->w) + world_calls_made(e->w, WORLD_API_FILE_WRITE) +
           world_calls_made(e->w, WORLD_API_FILE_RENAME) +
           world_calls_made(e->w, WORLD_API_FILE_UNLINK) +
           world_calls_made(e->w, WORLD_API_SE_GENERATE);
}

static void run_b(stage *s) {
    env *e = s->e;
    as(e, e->b);
    uint64_t before = changes(e);
    s->b_err = run(e->cb, &s->b_op);
    s->b_mutations = changes(e) - before;
    snprintf(s->b_message, sizeof s->b_message, "%s", ref_core_last_message(e->cb));
    as(e, e->a);
}

/* The scheduler hook: B's operation runs right before A's call number `at`. */
static bool stage_yield(void *ctx, const world_call_info *call) {
    stage *s = ctx;
    if (s->inside || call->pid != s->e->a || ++s->seen != s->at)
        return true;
    s->inside = true;
    run_b(s);
    s->inside = false;
    s->fired = true;
    return true;
}

typedef void (*prepare_fn)(env *e);
/* Checks the world after A's operation (err_a) and B's (s). */
typedef void (*check_fn)(env *e, ref_error err_a, const stage *s, const uint8_t pub_k1[65],
                         const uint8_t pub_k3[65]);

typedef struct {
    const char *name;
    prepare_fn prepare;
    op a_op, b_op;
    check_fn check;
} race_case;

/* Hooked calls of A's operation alone. */
static unsigned calls_of(const race_case *rc) {
    env e;
    env_new(&e);
    if (rc->prepare != NULL)
        rc->prepare(&e);
    uint64_t before = world_calls_total(e.w);
    (void)run(e.ca, &rc->a_op);
    unsigned n = (unsigned)(world_calls_total(e.w) - before);
    env_free(&e);
    return n;
}

static void explore(const race_case *rc) {
    unsigned n = calls_of(rc);
    assert_true(n > 2);
    for (unsigned at = 1; at <= n + 1; at++) {
        env e;
        env_new(&e);
        if (rc->prepare != NULL)
            rc->prepare(&e);
        uint8_t pub_k1[65], pub_k3[65];
        pub_of(&e, "k1", pub_k1);
        pub_of(&e, "k3", pub_k3);
        stage s = {.e = &e, .at = at, .b_op = rc->b_op};
        world_set_scheduler(e.w, stage_yield, NULL, &s);
        ref_error err_a = run(e.ca, &rc->a_op);
        world_set_scheduler(e.w, NULL, NULL, NULL);
        if (!s.fired) {
            assert_int_equal(at, n + 1);
            run_b(&s);
        }
        if (world_file_lock_count(e.w) != 0)
            fail_msg("%s, B before A's call %u: a lock is still held", rc->name, at);
        /* Refused while the other held the lock: nothing touched. */
        if (strstr(s.b_message, "holds the label's lock") != NULL && s.b_mutations != 0)
            fail_msg("%s, B before A's call %u: B was refused but changed %llu things", rc->name,
                     at, (unsigned long long)s.b_mutations);
        print_message("%-34s B before A's call %2u: A %-16s B %s\n", rc->name, at,
                      ref_error_name(err_a), ref_error_name(s.b_err));
        rc->check(&e, err_a, &s, pub_k1, pub_k3);
        env_free(&e);
    }
}

static void prepare_k1(env *e) { generate_as(e, e->a, e->ca, "k1"); }

static void prepare_k1_k3(env *e) {
    generate_as(e, e->a, e->ca, "k1");
    generate_as(e, e->b, e->cb, "k3");
}

/* Exactly one generate won; the label holds its key and both can sign. */
static void check_generate_vs_generate(env *e, ref_error err_a, const stage *s,
                                       const uint8_t pub_k1[65], const uint8_t pub_k3[65]) {
    (void)pub_k1;
    (void)pub_k3;
    assert_true((err_a == REF_OK) != (s->b_err == REF_OK));
    assert_int_equal(err_a == REF_OK ? s->b_err : err_a, REF_ERR_DUPLICATE_LABEL);
    assert_true(usable(e, "k1"));
    both_sign(e, "k1");
}

/* k2 holds A's renamed key (and B was refused) or B's new one (and A's key
 * is still under k1). */
static void check_rename_vs_generate_target(env *e, ref_error err_a, const stage *s,
                                            const uint8_t pub_k1[65], const uint8_t pub_k3[65]) {
    (void)pub_k3;
    assert_true(usable(e, "k2"));
    if (err_a == REF_OK) {
        assert_int_equal(s->b_err, REF_ERR_DUPLICATE_LABEL);
        assert_true(same_key(e, "k2", pub_k1));
        assert_false(has_file(e, "k1", ".handle") || has_item(e, "k1"));
    } else {
        assert_int_equal(err_a, REF_ERR_DUPLICATE_LABEL);
        assert_int_equal(s->b_err, REF_OK);
        assert_true(same_key(e, "k1", pub_k1));
    }
    both_sign(e, "k2");
}

/* A's key is under k2 (renamed) or still under k1 (A refused: busy); B made
 * a new k1 only where the label was free. */
static void check_rename_vs_generate_source(env *e, ref_error err_a, const stage *s,
                                            const uint8_t pub_k1[65], const uint8_t pub_k3[65]) {
    (void)pub_k3;
    if (err_a == REF_OK) {
        assert_true(same_key(e, "k2", pub_k1));
        if (s->b_err == REF_OK) {
            assert_true(usable(e, "k1"));
            both_sign(e, "k1");
        } else {
            assert_int_equal(s->b_err, REF_ERR_DUPLICATE_LABEL);
            assert_false(has_file(e, "k1", ".handle") || has_item(e, "k1"));
        }
        both_sign(e, "k2");
    } else {
        assert_int_equal(err_a, REF_ERR_KEY_OPERATION); /* k1 busy */
        assert_int_equal(s->b_err, REF_ERR_DUPLICATE_LABEL);
        assert_true(same_key(e, "k1", pub_k1));
        assert_false(has_file(e, "k2", ".handle") || has_item(e, "k2"));
        both_sign(e, "k1");
    }
}

/* A's delete always completes; B's generate either came after it (a usable
 * new key) or was refused (nothing left of the label). */
static void check_delete_vs_generate(env *e, ref_error err_a, const stage *s,
                                     const uint8_t pub_k1[65], const uint8_t pub_k3[65]) {
    (void)pub_k3;
    assert_int_equal(err_a, REF_OK);
    if (s->b_err == REF_OK) {
        assert_true(usable(e, "k1"));
        assert_false(same_key(e, "k1", pub_k1));
        both_sign(e, "k1");
    } else {
        assert_int_equal(s->b_err, REF_ERR_DUPLICATE_LABEL);
        assert_false(has_file(e, "k1", ".handle") || has_file(e, "k1", ".deleted") ||
                     has_item(e, "k1"));
    }
}

/* A's generate always completes; B's delete found nothing, was refused
 * (busy), or deleted A's finished key. */
static void check_generate_vs_delete(env *e, ref_error err_a, const stage *s,
                                     const uint8_t pub_k1[65], const uint8_t pub_k3[65]) {
    (void)pub_k1;
    (void)pub_k3;
    assert_int_equal(err_a, REF_OK);
    if (s->b_err == REF_OK) {
        assert_false(has_file(e, "k1", ".handle") || has_item(e, "k1"));
    } else {
        assert_true(s->b_err == REF_ERR_KEY_NOT_FOUND || s->b_err == REF_ERR_KEY_OPERATION);
        assert_true(usable(e, "k1"));
        both_sign(e, "k1");
    }
}

/* One key ends under k2; the other stays where it was. */
static void check_rename_vs_rename(env *e, ref_error err_a, const stage *s,
                                   const uint8_t pub_k1[65], const uint8_t pub_k3[65]) {
    assert_true((err_a == REF_OK) != (s->b_err == REF_OK));
    assert_int_equal(err_a == REF_OK ? s->b_err : err_a, REF_ERR_DUPLICATE_LABEL);
    if (err_a == REF_OK) {
        assert_true(same_key(e, "k2", pub_k1));
        assert_true(same_key(e, "k3", pub_k3));
    } else {
        assert_true(same_key(e, "k2", pub_k3));
        assert_true(same_key(e, "k1", pub_k1));
    }
    both_sign(e, "k2");
}

static const race_case races[] = {
    {"generate vs generate",
     NULL,
     {OP_GENERATE, "k1", NULL},
     {OP_GENERATE, "k1", NULL},
     check_generate_vs_generate},
    {"rename onto a label vs its generate",
     prepare_k1,
     {OP_RENAME, "k1", "k2"},
     {OP_GENERATE, "k2", NULL},
     check_rename_vs_generate_target},
    {"rename away vs generate of the old",
     prepare_k1,
     {OP_RENAME, "k1", "k2"},
     {OP_GENERATE, "k1", NULL},
     check_rename_vs_generate_source},
    {"delete vs generate",
     prepare_k1,
     {OP_DELETE, "k1", NULL},
     {OP_GENERATE, "k1", NULL},
     check_delete_vs_generate},
    {"generate vs delete",
     NULL,
     {OP_GENERATE, "k1", NULL},
     {OP_DELETE, "k1", NULL},
     check_generate_vs_delete},
    {"rename vs rename onto one label",
     prepare_k1_k3,
     {OP_RENAME, "k1", "k2"},
     {OP_RENAME, "k3", "k2"},
     check_rename_vs_rename},
};

static void generate_vs_generate(void **state) {
    (void)state;
    explore(&races[0]);
}

static void rename_vs_generate_target(void **state) {
    (void)state;
    explore(&races[1]);
}

static void rename_vs_generate_source(void **state) {
    (void)state;
    explore(&races[2]);
}

static void delete_vs_generate(void **state) {
    (void)state;
    explore(&races[3]);
}

static void generate_vs_delete(void **state) {
    (void)state;
    explore(&races[4]);
}

static void rename_vs_rename_same_target(void **state) {
    (void)state;
    explore(&races[5]);
}

/* While A is anywhere inside its generate (between its lock and its unlock),
 * B's generate is refused as a duplicate, names the lock, and touches
 * nothing; before A's first call and after its last one B decides on what is
 * there. */
static void a_generate_in_progress_is_a_duplicate(void **state) {
    (void)state;
    unsigned n = calls_of(&races[0]);
    for (unsigned at = 2; at <= n; at++) {
        env e;
        env_new(&e);
        stage s = {.e = &e, .at = at, .b_op = races[0].b_op};
        world_set_scheduler(e.w, stage_yield, NULL, &s);
        assert_int_equal(run(e.ca, &races[0].a_op), REF_OK);
        world_set_scheduler(e.w, NULL, NULL, NULL);
        assert_true(s.fired);
        assert_int_equal(s.b_err, REF_ERR_DUPLICATE_LABEL);
        assert_non_null(strstr(s.b_message, "another process is generating, renaming or deleting "
                                            "'k1' right now (it holds the label's lock)"));
        assert_int_equal(s.b_mutations, 0);
        env_free(&e);
    }
}

/* A crashes right after each of its generate's calls; B, with A still dead
 * (not restarted), generates the label at once: the crash released the lock.
 * B either makes the key (A died before its handle write: debris) or finds
 * A's complete key; either way the label ends usable, and the restarted A
 * can sign. */
static void a_crash_releases_the_lock(void **state) {
    (void)state;
    unsigned n = calls_of(&races[0]);
    for (unsigned at = 1; at <= n; at++) {
        env e;
        env_new(&e);
        world_fault_crash_after_calls(e.w, e.a, at);
        (void)run(e.ca, &races[0].a_op);
        assert_true(world_process_crashed(e.w, e.a));
        assert_int_equal(world_file_lock_count(e.w), 0);
        bool a_made_it = has_file(&e, "k1", ".handle");
        as(&e, e.b);
        ref_error err_b = ref_core_generate(e.cb, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
        assert_int_equal(err_b, a_made_it ? REF_ERR_DUPLICATE_LABEL : REF_OK);
        assert_true(usable(&e, "k1"));
        world_process_restart(e.w, e.a);
        ref_core_free(e.ca);
        e.ca = new_core();
        both_sign(&e, "k1");
        env_free(&e);
    }
}

/* ---- Edges ------------------------------------------------------------------------- */

/* Each operation takes its labels' locks first (after its arguments are
 * checked) and releases them last; the lock is not a file. */
static void operations_lock_first_and_unlock_last(void **state) {
    (void)state;
    env e;
    env_new(&e);
    char lock1[512], lock2[512];
    path_of(&e, "k1", ".lock", lock1, sizeof lock1);
    path_of(&e, "k2", ".lock", lock2, sizeof lock2);
    const op ops[] = {{OP_GENERATE, "k1", NULL},
                      {OP_RENAME, "k1", "k2"},
                      {OP_RENAME, "k2", "k1"},
                      {OP_DELETE, "k1", NULL}};
    const char *first[] = {lock1, lock1, lock1, lock1};
    const char *last[] = {lock1, lock1, lock1, lock1};
    const unsigned nlocks[] = {1, 2, 2, 1};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t from = world_journal_length(e.w);
        uint64_t locks = world_calls_made(e.w, WORLD_API_FILE_LOCK);
        uint64_t unlocks = world_calls_made(e.w, WORLD_API_FILE_UNLOCK);
        assert_int_equal(run(e.ca, &ops[i]), REF_OK);
        assert_int_equal(world_calls_made(e.w, WORLD_API_FILE_LOCK) - locks, nlocks[i]);
        assert_int_equal(world_calls_made(e.w, WORLD_API_FILE_UNLOCK) - unlocks, nlocks[i]);
        assert_int_equal(world_file_lock_count(e.w), 0);
        const char *j = world_journal(e.w) + from;
        const char *call1 = strstr(j, " call a ");
        assert_non_null(call1);
        char want[600];
        snprintf(want, sizeof want, " call a FileLock path=%s -> 0 ok\n", first[i]);
        assert_true(strncmp(call1, want, strlen(want)) == 0);
        /* The last call line: the unlock in the reverse order of the locks. */
        const char *lastcall = call1;
        for (const char *p = call1; (p = strstr(p + 1, " call a ")) != NULL;)
            lastcall = p;
        snprintf(want, sizeof want, " call a FileUnlock path=%s -> 0 ok\n", last[i]);
        assert_true(strncmp(lastcall, want, strlen(want)) == 0);
    }
    assert_false(world_file_exists(e.w, lock1) || world_file_exists(e.w, lock2));
    /* A failed operation releases its locks as well. */
    assert_int_equal(ref_core_rename(e.ca, "k1", "k2"), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(ref_core_delete(e.ca, "k1"), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(world_file_lock_count(e.w), 0);
    /* A rename onto its own label takes that one lock once. */
    assert_int_equal(ref_core_generate(e.ca, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint64_t locks = world_calls_made(e.w, WORLD_API_FILE_LOCK);
    assert_int_equal(ref_core_rename(e.ca, "k1", "k1"), REF_ERR_DUPLICATE_LABEL);
    assert_int_equal(world_calls_made(e.w, WORLD_API_FILE_LOCK) - locks, 1);
    assert_int_equal(world_file_lock_count(e.w), 0);
    env_free(&e);
}

/* B takes (or lets go of) a label's lock directly, as if it were in the
 * middle of an operation on it. */
static void hold(const env *e, const char *label, bool take) {
    char path[512];
    path_of(e, label, ".lock", path, sizeof path);
    as(e, e->b);
    assert_int_equal(take ? kc_file_trylock(path) : kc_file_unlock(path), 0);
    as(e, e->a);
}

typedef struct {
    op o;
    ref_error want;
} refusal;

static void expect_refusals(const env *e, const refusal *cases, size_t n, size_t held) {
    uint64_t before = changes(e);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(run(e->ca, &cases[i].o), cases[i].want);
        assert_non_null(strstr(ref_core_last_message(e->ca), "(it holds the label's lock)"));
        assert_int_equal(world_file_lock_count(e->w), held); /* B's only: A let go of its own */
    }
    assert_int_equal(changes(e), before);
}

/* Another process holds a lock: which operation says what, in both label
 * orders of a rename, and nothing is touched. */
static void held_locks_refuse_without_touching_anything(void **state) {
    (void)state;
    env e;
    env_new(&e);
    generate_as(&e, e.a, e.ca, "a1");
    generate_as(&e, e.a, e.ca, "z1");
    /* The label being made elsewhere: generate and rename onto it are
     * duplicates (its lock taken second for a1 -> m, first for z1 -> m). */
    hold(&e, "m", true);
    const refusal onto[] = {
        {{OP_GENERATE, "m", NULL}, REF_ERR_DUPLICATE_LABEL},
        {{OP_RENAME, "a1", "m"}, REF_ERR_DUPLICATE_LABEL},
        {{OP_RENAME, "z1", "m"}, REF_ERR_DUPLICATE_LABEL},
    };
    expect_refusals(&e, onto, sizeof onto / sizeof onto[0], 1);
    hold(&e, "m", false);
    /* A key being changed elsewhere: rename (its lock taken first for
     * a1 -> b1, second for z1 -> y1) and delete are busy. */
    hold(&e, "a1", true);
    hold(&e, "z1", true);
    const refusal busy[] = {
        {{OP_RENAME, "a1", "b1"}, REF_ERR_KEY_OPERATION},
        {{OP_RENAME, "z1", "y1"}, REF_ERR_KEY_OPERATION},
        {{OP_DELETE, "a1", NULL}, REF_ERR_KEY_OPERATION},
    };
    expect_refusals(&e, busy, sizeof busy / sizeof busy[0], 2);
    assert_true(usable(&e, "a1") && usable(&e, "z1"));
    /* B lets go: every one of them goes through. */
    hold(&e, "a1", false);
    hold(&e, "z1", false);
    assert_int_equal(ref_core_generate(e.ca, "m", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_rename(e.ca, "a1", "b1"), REF_OK);
    assert_int_equal(ref_core_rename(e.ca, "z1", "y1"), REF_OK);
    assert_int_equal(ref_core_delete(e.ca, "b1"), REF_OK);
    assert_true(usable(&e, "m") && usable(&e, "y1"));
    assert_int_equal(world_file_lock_count(e.w), 0);
    env_free(&e);
}

/* A lock that cannot be taken for another reason: key_operation, nothing
 * touched, and a rename whose second lock fails releases its first. */
static void lock_failures_are_key_operation(void **state) {
    (void)state;
    const struct {
        op o;
        unsigned nth;
    } cases[] = {
        {{OP_GENERATE, "k2", NULL}, 1}, {{OP_RENAME, "k1", "k2"}, 1}, {{OP_RENAME, "k1", "k2"}, 2},
        {{OP_RENAME, "k1", "k0"}, 2},   {{OP_DELETE, "k1", NULL}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env e;
        env_new(&e);
        generate_as(&e, e.a, e.ca, "k1");
        world_fault f = {.api = WORLD_API_FILE_LOCK,
                         .status = -EIO,
                         .nth = cases[i].nth,
                         .times = 1,
                         .proc = -1};
        world_fault_add(e.w, &f);
        uint64_t before = changes(&e);
        assert_int_equal(run(e.ca, &cases[i].o), REF_ERR_KEY_OPERATION);
        char want[64];
        snprintf(want, sizeof want, ".lock failed (%d)", -EIO);
        assert_non_null(strstr(ref_core_last_message(e.ca), want));
        assert_non_null(strstr(ref_core_last_message(e.ca), "locking "));
        assert_int_equal(world_file_lock_count(e.w), 0);
        assert_int_equal(changes(&e), before);
        assert_true(usable(&e, "k1"));
        env_free(&e);
    }
}

/* An unlock that fails leaves the lock with its live holder: its own later
 * operations go on (the holder may take it again), another process is
 * refused until the holder dies. */
static void a_failed_unlock_holds_until_the_process_dies(void **state) {
    (void)state;
    env e;
    env_new(&e);
    world_fault f = {
        .api = WORLD_API_FILE_UNLOCK, .status = -EIO, .nth = 1, .times = 1, .proc = -1};
    world_fault_add(e.w, &f);
    assert_int_equal(ref_core_generate(e.ca, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(world_file_lock_count(e.w), 1);
    assert_int_equal(ref_core_rename(e.ca, "k1", "k2"), REF_OK); /* takes k1's again */
    assert_int_equal(world_file_lock_count(e.w), 0);
    world_fault_add(e.w, &f); /* counts from now: the next unlock fails */
    assert_int_equal(ref_core_delete(e.ca, "k2"), REF_OK); /* and keeps k2's lock */
    assert_int_equal(world_file_lock_count(e.w), 1);
    as(&e, e.b);
    assert_int_equal(ref_core_generate(e.cb, "k2", REF_AUTH_NONE, REF_PRESENCE_NONE),
                     REF_ERR_DUPLICATE_LABEL);
    assert_non_null(strstr(ref_core_last_message(e.cb), "(it holds the label's lock)"));
    world_process_restart(e.w, e.a);
    assert_int_equal(world_file_lock_count(e.w), 0);
    assert_int_equal(ref_core_generate(e.cb, "k2", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_true(usable(&e, "k2"));
    env_free(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(generate_vs_generate),
        T(rename_vs_generate_target),
        T(rename_vs_generate_source),
        T(delete_vs_generate),
        T(generate_vs_delete),
        T(rename_vs_rename_same_target),
        T(a_generate_in_progress_is_a_duplicate),
        T(a_crash_releases_the_lock),
        T(operations_lock_first_and_unlock_last),
        T(held_locks_refuse_without_touching_anything),
        T(lock_failures_are_key_operation),
        T(a_failed_unlock_holds_until_the_process_dies),
    };
    return cmocka_run_group_tests_name("label_locks", tests, NULL, NULL);
}
