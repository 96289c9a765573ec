/* Advisory file locks (keyclass/files.h kc_file_trylock / kc_file_unlock):
 * held by one process in one generation, refused to the others, released by
 * their holder or by its death (crash, restart, rebuild, reboot); journaled,
 * counted and fault-able like every hooked call; a store of their own for the
 * explorer's commutation rules (world_calls_commute). */
#include "test_sec_helpers.h"

#include "../src/world_internal.h"

#include <errno.h>
#include <keyclass/files.h>

#define L1 "~/.sshenc/keys/k1.lock"
#define L2 "~/.sshenc/keys/k2.lock"

typedef struct {
    world *w;
    world_pid a, b;
    kc_cf_snapshot_t snap;
} lfx;

static int setup(void **state) {
    static lfx f;
    memset(&f, 0, sizeof f);
    kc_cf_reset_misuse();
    kc_cf_snapshot(&f.snap);
    f.w = world_new(5);
    if (f.w == NULL)
        return -1;
    world_activate(f.w);
    world_device_boot(f.w);
    world_device_unlock(f.w);
    world_process_config ca = {.name = "a", .app = "sshenc", .is_signed = true, .gui = true};
    world_process_config cb = {.name = "b", .app = "sshenc", .is_signed = true, .gui = true};
    f.a = world_process_add(f.w, &ca);
    f.b = world_process_add(f.w, &cb);
    world_set_current(f.w, f.a);
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    lfx *f = *state;
    world_free(f->w);
    world_activate(NULL);
    return cf_clean_since(&f->snap);
}

static lfx *FX(void **state) { return *state; }

static void as(const lfx *f, world_pid p) { world_set_current(f->w, p); }

/* ---- Holding and releasing ------------------------------------------------------------ */

static void test_held_refused_released(void **state) {
    lfx *f = FX(state);
    assert_int_equal(world_file_lock_holder(f->w, L1), -1);
    assert_int_equal(kc_file_trylock(L1), 0);
    assert_int_equal(world_file_lock_holder(f->w, L1), f->a);
    /* The holder may take it again (not counted: one unlock releases it). */
    assert_int_equal(kc_file_trylock(L1), 0);
    assert_int_equal(world_file_lock_count(f->w), 1);
    /* Another process is refused, and cannot release it. */
    as(f, f->b);
    assert_int_equal(kc_file_trylock(L1), -EWOULDBLOCK);
    assert_int_equal(kc_file_unlock(L1), -ENOLCK);
    assert_int_equal(world_file_lock_holder(f->w, L1), f->a);
    /* Other paths are other locks. */
    assert_int_equal(kc_file_trylock(L2), 0);
    assert_int_equal(world_file_lock_holder(f->w, L2), f->b);
    assert_int_equal(world_file_lock_count(f->w), 2);
    /* The holder lets go; then it is free for anyone. */
    as(f, f->a);
    assert_int_equal(kc_file_unlock(L1), 0);
    assert_int_equal(world_file_lock_holder(f->w, L1), -1);
    assert_int_equal(kc_file_unlock(L1), -ENOLCK);
    as(f, f->b);
    assert_int_equal(kc_file_trylock(L1), 0);
    assert_int_equal(world_file_lock_holder(f->w, L1), f->b);
    assert_int_equal(kc_file_unlock(L1), 0);
    assert_int_equal(kc_file_unlock(L2), 0);
    assert_int_equal(world_file_lock_count(f->w), 0);
    assert_int_equal(world_file_lock_holder(f->w, NULL), -1);
}

/* A lock is not a file, and file calls on the same path do not touch it. */
static void test_lock_is_not_a_file(void **state) {
    lfx *f = FX(state);
    assert_int_equal(kc_file_trylock(L1), 0);
    assert_false(kc_file_exists(L1));
    assert_int_equal(world_file_count(f->w), 0);
    CFArrayRef list = NULL;
    assert_int_equal(kc_file_list("~/.sshenc/keys/", &list), 0);
    assert_int_equal(CFArrayGetCount(list), 0);
    CFRelease(list);
    assert_int_equal(kc_file_write_atomic(L1, "x", 1), 0);
    assert_int_equal(kc_file_unlink(L1), 0);
    assert_int_equal(world_file_lock_holder(f->w, L1), f->a);
    assert_int_equal(kc_file_unlock(L1), 0);
}

static void test_invalid_arguments(void **state) {
    lfx *f = FX(state);
    uint64_t total = world_calls_total(f->w);
    assert_int_equal(kc_file_trylock(NULL), -EINVAL);
    assert_int_equal(kc_file_trylock(""), -EINVAL);
    assert_int_equal(kc_file_unlock(NULL), -EINVAL);
    assert_int_equal(kc_file_unlock(""), -EINVAL);
    assert_int_equal(world_calls_total(f->w), total);
    world_activate(NULL);
    assert_int_equal(kc_file_trylock(L1), -EINVAL);
    assert_int_equal(kc_file_unlock(L1), -EINVAL);
    world_activate(f->w);
}

/* ---- Journal, counters, names ----------------------------------------------------------- */

static void test_journaled_and_counted(void **state) {
    lfx *f = FX(state);
    assert_int_equal(kc_file_trylock(L1), 0);
    as(f, f->b);
    assert_int_equal(kc_file_trylock(L1), -EWOULDBLOCK);
    assert_int_equal(kc_file_unlock(L1), -ENOLCK);
    as(f, f->a);
    assert_int_equal(kc_file_unlock(L1), 0);
    assert_int_equal(world_calls_made(f->w, WORLD_API_FILE_LOCK), 2);
    assert_int_equal(world_calls_made(f->w, WORLD_API_FILE_UNLOCK), 2);
    char line[200];
    assert_true(journal_has(f->w, "call a FileLock path=" L1 " -> 0 ok\n"));
    snprintf(line, sizeof line, "call b FileLock path=" L1 " -> %d EWOULDBLOCK\n", -EWOULDBLOCK);
    assert_true(journal_has(f->w, line));
    snprintf(line, sizeof line, "call b FileUnlock path=" L1 " -> %d ENOLCK\n", -ENOLCK);
    assert_true(journal_has(f->w, line));
    assert_true(journal_has(f->w, "call a FileUnlock path=" L1 " -> 0 ok\n"));
    assert_string_equal(world_api_name(WORLD_API_FILE_LOCK), "FileLock");
    assert_string_equal(world_api_name(WORLD_API_FILE_UNLOCK), "FileUnlock");
    assert_int_equal(world_api_from_name("FileLock"), WORLD_API_FILE_LOCK);
    assert_int_equal(world_api_from_name("FileUnlock"), WORLD_API_FILE_UNLOCK);
    assert_string_equal(world_status_name(WORLD_API_FILE_LOCK, 0), "ok");
    assert_string_equal(world_status_name(WORLD_API_FILE_UNLOCK, 0), "ok");
    assert_null(world_status_name(WORLD_API_FILE_LOCK, -EIO));
    assert_null(world_status_name(WORLD_API_FILE_WRITE, -EWOULDBLOCK)); /* lock calls only */
}

/* ---- Faults and crash points --------------------------------------------------------------- */

static void test_faults(void **state) {
    lfx *f = FX(state);
    world_fault io = {.api = WORLD_API_FILE_LOCK,
                      .status = -EIO,
                      .nth = 1,
                      .times = 1,
                      .proc = -1,
                      .match = "*k1.lock"};
    world_fault_add(f->w, &io);
    assert_int_equal(kc_file_trylock(L2), 0); /* does not match */
    assert_int_equal(kc_file_trylock(L1), -EIO);
    assert_int_equal(world_file_lock_holder(f->w, L1), -1);
    /* A fault answering 0 "succeeds" without taking the lock: a core that
     * believes it holds a lock it does not (the tests' way to take the locks
     * away without a mutant). */
    world_fault fake = {
        .api = WORLD_API_FILE_LOCK, .status = 0, .nth = 1, .times = 1, .proc = f->b};
    world_fault_add(f->w, &fake);
    as(f, f->b);
    assert_int_equal(kc_file_trylock(L1), 0);
    assert_int_equal(world_file_lock_holder(f->w, L1), -1);
    as(f, f->a);
    /* A failed unlock keeps the lock. */
    world_fault un = {
        .api = WORLD_API_FILE_UNLOCK, .status = -EIO, .nth = 1, .times = 1, .proc = -1};
    world_fault_add(f->w, &un);
    assert_int_equal(kc_file_unlock(L2), -EIO);
    assert_int_equal(world_file_lock_holder(f->w, L2), f->a);
    assert_true(journal_has(f->w, "FileUnlock path=" L2 " injected -> -5\n"));
    assert_int_equal(kc_file_unlock(L2), 0);
}

/* The process crashes right after the call that took the lock: the lock goes
 * with it at once (before any restart), and is journaled as released. */
static void test_crash_releases(void **state) {
    lfx *f = FX(state);
    world_fault_crash(f->w, f->a, WORLD_API_FILE_LOCK, 1);
    assert_int_equal(kc_file_trylock(L1), 0);
    assert_true(world_process_crashed(f->w, f->a));
    assert_int_equal(world_file_lock_holder(f->w, L1), -1);
    assert_true(journal_has(f->w, "crash a after FileLock\n"));
    assert_true(journal_has(f->w, "lock " L1 " released: a crashed\n"));
    /* A dead process's calls have no effect. */
    assert_int_equal(kc_file_trylock(L1), errSecNotAvailable);
    assert_int_equal(world_file_lock_count(f->w), 0);
    as(f, f->b);
    assert_int_equal(kc_file_trylock(L1), 0);
    assert_int_equal(kc_file_unlock(L1), 0);
    /* Crashing after any other call releases every lock the process holds,
     * and no other process's. */
    assert_int_equal(kc_file_trylock(L2), 0);
    world_process_restart(f->w, f->a);
    as(f, f->a);
    assert_int_equal(kc_file_trylock(L1), 0);
    assert_int_equal(kc_file_trylock("other.lock"), 0);
    world_fault_crash(f->w, f->a, WORLD_API_FILE_WRITE, 1);
    assert_int_equal(kc_file_write_atomic("f", "x", 1), 0);
    assert_true(world_process_crashed(f->w, f->a));
    assert_int_equal(world_file_lock_count(f->w), 1);
    assert_int_equal(world_file_lock_holder(f->w, L2), f->b);
}

/* A restart, a rebuild and a reboot are the old process's death too. */
static void test_restart_rebuild_reboot_release(void **state) {
    lfx *f = FX(state);
    assert_int_equal(kc_file_trylock(L1), 0);
    world_process_restart(f->w, f->a);
    assert_int_equal(world_file_lock_holder(f->w, L1), -1);
    assert_true(journal_has(f->w, "process a restart\n"));
    assert_true(journal_has(f->w, "lock " L1 " released: a restarted\n"));
    assert_true(strstr(world_journal(f->w), "process a restart\n") <
                strstr(world_journal(f->w), "lock " L1 " released"));

    assert_int_equal(kc_file_trylock(L1), 0);
    world_process_rebuild(f->w, f->a);
    assert_int_equal(world_file_lock_holder(f->w, L1), -1);

    assert_int_equal(kc_file_trylock(L1), 0);
    as(f, f->b);
    assert_int_equal(kc_file_trylock(L2), 0);
    assert_int_equal(world_file_lock_count(f->w), 2);
    assert_int_equal(world_device_reboot(f->w), 0);
    assert_int_equal(world_file_lock_count(f->w), 0);
    /* A restart of a process that holds nothing changes nothing else. */
    as(f, f->a);
    assert_int_equal(kc_file_trylock(L1), 0);
    world_process_restart(f->w, f->b);
    assert_int_equal(world_file_lock_holder(f->w, L1), f->a);
    /* Freed with the world while held (teardown: no leak). */
}

/* ---- Commutation (world_calls_commute) ------------------------------------------------------ */

typedef struct {
    world_call_info infos[8];
    size_t n;
} capture;

static bool capture_yield(void *ctx, const world_call_info *call) {
    capture *c = ctx;
    if (c->n < sizeof c->infos / sizeof c->infos[0])
        c->infos[c->n++] = *call;
    return true;
}

static world_call_info info_of(lfx *f, world_pid p, int (*fn)(const char *), const char *path) {
    capture c = {.n = 0};
    world_set_scheduler(f->w, capture_yield, NULL, &c);
    as(f, p);
    (void)fn(path);
    world_set_scheduler(f->w, NULL, NULL, NULL);
    as(f, f->a);
    assert_int_equal(c.n, 1);
    return c.infos[0];
}

static int write_x(const char *path) { return kc_file_write_atomic(path, "x", 1); }

static int list_prefix(const char *prefix) {
    CFArrayRef list = NULL;
    int rc = kc_file_list(prefix, &list);
    if (list != NULL)
        CFRelease(list);
    return rc;
}

static void test_commute_rules(void **state) {
    lfx *f = FX(state);
    world_call_info lock_a1 = info_of(f, f->a, kc_file_trylock, L1);
    world_call_info lock_b1 = info_of(f, f->b, kc_file_trylock, L1);
    world_call_info lock_b2 = info_of(f, f->b, kc_file_trylock, L2);
    world_call_info unlock_b1 = info_of(f, f->b, kc_file_unlock, L1);
    world_call_info write_b1 = info_of(f, f->b, write_x, L1);
    world_call_info list_b = info_of(f, f->b, list_prefix, "");
    assert_int_equal(lock_a1.api, WORLD_API_FILE_LOCK);
    assert_int_equal(unlock_b1.api, WORLD_API_FILE_UNLOCK);
    assert_string_equal(lock_a1.path, L1);
    assert_true(lock_a1.writes && unlock_b1.writes);
    assert_false(lock_a1.global || lock_b1.global);
    /* Lock calls on one path conflict, in either order. */
    assert_false(world_calls_commute(&lock_a1, &lock_b1, false));
    assert_false(world_calls_commute(&lock_b1, &lock_a1, false));
    assert_false(world_calls_commute(&lock_a1, &unlock_b1, false));
    /* On different paths they commute. */
    assert_true(world_calls_commute(&lock_a1, &lock_b2, false));
    /* Locks are not files: a write to the same path string, a listing. */
    assert_true(world_calls_commute(&lock_a1, &write_b1, false));
    assert_true(world_calls_commute(&write_b1, &lock_a1, false));
    assert_true(world_calls_commute(&lock_a1, &list_b, false));
    /* Nor items. */
    world_call_info add_b;
    memset(&add_b, 0, sizeof add_b);
    add_b.api = WORLD_API_SEC_ITEM_ADD;
    add_b.pid = f->b;
    add_b.writes = true;
    snprintf(add_b.service, sizeof add_b.service, "%s", SVC);
    snprintf(add_b.account, sizeof add_b.account, "k1");
    assert_true(world_calls_commute(&lock_a1, &add_b, false));
    /* One process's calls never commute. */
    world_call_info lock_a2 = info_of(f, f->a, kc_file_trylock, L2);
    assert_false(world_calls_commute(&lock_a1, &lock_a2, false));
}

/* A call right after which its process crashes while holding a lock also
 * releases the lock: it commutes with nothing (global). Without a lock held,
 * the crash changes only the process itself. */
static void test_crash_of_a_holder_is_global(void **state) {
    lfx *f = FX(state);
    world_call_info lock_b1 = info_of(f, f->b, kc_file_trylock, L1);
    as(f, f->b);
    assert_int_equal(kc_file_unlock(L1), 0);
    world_fault_crash(f->w, f->a, WORLD_API_FILE_WRITE, 2);
    world_call_info w1 = info_of(f, f->a, write_x, "f"); /* not the crash yet */
    assert_false(w1.global);
    world_call_info w2 = info_of(f, f->a, write_x, "f"); /* the crash, no lock held */
    assert_false(w2.global);
    assert_true(world_process_crashed(f->w, f->a));
    world_process_restart(f->w, f->a);

    as(f, f->a);
    assert_int_equal(kc_file_trylock(L1), 0);
    world_fault_crash_after_calls(f->w, f->a, 2);
    world_call_info w3 = info_of(f, f->a, write_x, "f");
    assert_false(w3.global);
    assert_true(world_calls_commute(&w3, &lock_b1, false));
    world_call_info w4 = info_of(f, f->a, write_x, "f"); /* crashes holding L1 */
    assert_true(w4.global);
    assert_false(world_calls_commute(&w4, &lock_b1, false));
    assert_int_equal(world_file_lock_holder(f->w, L1), -1);
    /* The dead process's calls have no effect: they commute with anything. */
    world_call_info dead = info_of(f, f->a, kc_file_trylock, L1);
    assert_true(dead.no_effect);
    assert_false(dead.global);
    assert_true(world_calls_commute(&dead, &lock_b1, false));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_held_refused_released, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_is_not_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journaled_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_rebuild_reboot_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commute_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_of_a_holder_is_global, setup, teardown),
    };
    return cmocka_run_group_tests_name("world_locks", tests, NULL, NULL);
}
