/* The fault plan and crash points, through the one central entry hook
 * (scenario-language.md "Faults", world_internal.h). */
#include "test_sec_helpers.h"

#include "../src/world_internal.h"
#include "keyclass/files.h"

#include <errno.h>

static int setup(void **state) {
    if (world_fx_setup(state, 1234) != 0)
        return -1;
    world_fx *fx = *state;
    world_process_config a = {.name = "agent", .is_signed = true, .gui = true};
    world_process_config b = {.name = "other", .is_signed = true, .gui = true};
    fx->p0 = world_process_add(fx->w, &a);
    fx->p1 = world_process_add(fx->w, &b);
    world_set_current(fx->w, fx->p0);
    return 0;
}

static world_fx *FX(void **state) { return *state; }

/* One simulated Apple call through the hook, the way every shim entry point
 * makes it: begin, fill in the key arguments, fault plan, the real work
 * (which here simply succeeds), journal. */
static int32_t sim_call(world *w, world_api api, const char *service, const char *account) {
    world_call call;
    world_call_begin(w, &call, api);
    if (service != NULL)
        snprintf(call.service, sizeof call.service, "%s", service);
    if (account != NULL)
        snprintf(call.account, sizeof call.account, "%s", account);
    call.keychain = "dp";
    int32_t st;
    if (!world_call_faulted(w, &call, &st))
        st = errSecSuccess;
    return world_call_end(w, &call, st);
}

static int32_t add(world *w) { return sim_call(w, WORLD_API_SEC_ITEM_ADD, "svc", "k1"); }

static world_fault fault(world_api api, int32_t status, unsigned nth, unsigned times) {
    world_fault f = {.api = api, .status = status, .nth = nth, .times = times, .proc = -1};
    return f;
}

/* Status of `n` consecutive calls, as a string of '.' (success) and 'X'. */
static void run_calls(world *w, int n, char *out) {
    for (int i = 0; i < n; i++)
        out[i] = add(w) == errSecSuccess ? '.' : 'X';
    out[n] = '\0';
}

/* ---- nth, times ------------------------------------------------------------------ */

/* nth counts matching calls from the fault's addition on, not from the start. */
static void test_nth_counts_from_addition(void **state) {
    world *w = FX(state)->w;
    assert_int_equal(add(w), 0);
    assert_int_equal(add(w), 0);
    assert_int_equal(add(w), 0);
    world_fault f = fault(WORLD_API_SEC_ITEM_ADD, errSecInteractionNotAllowed, 2, 1);
    world_fault_add(w, &f);
    assert_int_equal(add(w), 0);
    assert_int_equal(add(w), errSecInteractionNotAllowed);
    assert_int_equal(add(w), 0);
    assert_int_equal(add(w), 0);
}

/* nth 0 means the first matching call. */
static void test_nth_default_first(void **state) {
    world *w = FX(state)->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_ADD, errSecParam, 0, 1);
    world_fault_add(w, &f);
    char got[8];
    run_calls(w, 3, got);
    assert_string_equal(got, "X..");
    assert_non_null(strstr(world_journal(w), "fault SecItemAdd -50 nth=1 times=1 proc=* match=*"));
}

/* times is how many consecutive matching calls fail. */
static void test_times_consecutive(void **state) {
    world *w = FX(state)->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_ADD, errSecNotAvailable, 2, 3);
    world_fault_add(w, &f);
    char got[16];
    run_calls(w, 8, got);
    assert_string_equal(got, ".XXX....");
}

/* times 0: every matching call from the nth on, forever. */
static void test_times_zero_always(void **state) {
    world *w = FX(state)->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_ADD, errSecAuthFailed, 3, 0);
    world_fault_add(w, &f);
    char got[64];
    run_calls(w, 40, got);
    assert_string_equal(got, "..XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    assert_non_null(strstr(world_journal(w), "nth=3 times=always"));
}

/* The status injected is returned as given, any int32 included. */
static void test_any_status_injected(void **state) {
    world *w = FX(state)->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_COPY_MATCHING, INT32_MIN, 1, 1);
    world_fault_add(w, &f);
    f.status = 12345;
    f.nth = 2;
    world_fault_add(w, &f);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "s", "a"), INT32_MIN);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "s", "a"), 12345);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "s", "a"), 0);
}

/* ---- Filters --------------------------------------------------------------------- */

/* Only calls to the fault's api match (and count). */
static void test_api_filter(void **state) {
    world *w = FX(state)->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_COPY_MATCHING, errSecInteractionNotAllowed, 2, 1);
    world_fault_add(w, &f);
    assert_int_equal(add(w), 0);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_DELETE, "svc", "k1"), 0);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "svc", "k1"), 0);
    assert_int_equal(add(w), 0);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "svc", "k1"),
                     errSecInteractionNotAllowed);
}

/* proc= limits the fault to one process; other processes' calls neither fail
 * nor count. */
static void test_proc_filter(void **state) {
    world_fx *fx = FX(state);
    world *w = fx->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_ADD, errSecMissingEntitlement, 2, 1);
    f.proc = fx->p1;
    world_fault_add(w, &f);
    assert_non_null(strstr(world_journal(w), "proc=other"));
    world_set_current(w, fx->p0);
    char got[8];
    run_calls(w, 4, got);
    assert_string_equal(got, "....");
    world_set_current(w, fx->p1);
    assert_int_equal(add(w), 0);
    world_set_current(w, fx->p0);
    assert_int_equal(add(w), 0);
    world_set_current(w, fx->p1);
    assert_int_equal(add(w), errSecMissingEntitlement);
    assert_int_equal(add(w), 0);
}

/* match= is a glob on "service/account"; non-matching calls do not count. */
static void test_match_service_account(void **state) {
    world *w = FX(state)->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_COPY_MATCHING, errSecItemNotFound, 2, 1);
    f.match = "com.example.sshenc/k*";
    world_fault_add(w, &f);
    assert_non_null(strstr(world_journal(w), "match=com.example.sshenc/k*"));
    world_api cm = WORLD_API_SEC_ITEM_COPY_MATCHING;
    assert_int_equal(sim_call(w, cm, "com.example.sshenc", "k1"), 0); /* 1st match */
    assert_int_equal(sim_call(w, cm, "com.example.sshenc", "other"), 0);
    assert_int_equal(sim_call(w, cm, "com.example.sshenc-unsigned", "k1"), 0);
    assert_int_equal(sim_call(w, cm, "com.example.gitenc", "k2"), 0);
    assert_int_equal(sim_call(w, cm, "com.example.sshenc", "k2"), errSecItemNotFound);
    assert_int_equal(sim_call(w, cm, "com.example.sshenc", "k3"), 0);

    /* Globs may span the separator; an exact pattern names one item. */
    world_fault g = fault(cm, errSecDecode, 1, 0);
    g.match = "*-unsigned/k9";
    world_fault_add(w, &g);
    assert_int_equal(sim_call(w, cm, "com.example.sshenc", "k9"), 0);
    assert_int_equal(sim_call(w, cm, "com.example.sshenc-unsigned", "k9"), errSecDecode);
    assert_int_equal(sim_call(w, cm, "com.example.sshenc-unsigned", "k9"), errSecDecode);
    assert_int_equal(sim_call(w, cm, "com.example.sshenc-unsigned", "k1"), 0);
}

/* The fault's match string is copied. */
static void test_match_copied(void **state) {
    world *w = FX(state)->w;
    char pattern[] = "svc/k1";
    world_fault f = fault(WORLD_API_SEC_ITEM_ADD, errSecParam, 1, 1);
    f.match = pattern;
    world_fault_add(w, &f);
    pattern[0] = 'X';
    assert_int_equal(add(w), errSecParam);
}

/* File calls: match= is a glob on the path. */
static void test_match_path_for_file_calls(void **state) {
    world *w = FX(state)->w;
    world_fault f = fault(WORLD_API_FILE_WRITE, -EIO, 1, 1);
    f.match = "keys/*.handle";
    world_fault_add(w, &f);
    assert_int_equal(kc_file_write_atomic("keys/k1.pub", "p", 1), 0);
    assert_int_equal(kc_file_write_atomic("other/k1.handle", "h", 1), 0);
    assert_int_equal(kc_file_write_atomic("keys/k1.handle", "h", 1), -EIO);
    /* A faulted call has no effect. */
    assert_false(world_file_exists(w, "keys/k1.handle"));
    assert_int_equal(kc_file_write_atomic("keys/k1.handle", "h", 1), 0);
    assert_true(world_file_exists(w, "keys/k1.handle"));

    world_fault r = fault(WORLD_API_FILE_READ, -ENOENT, 1, 0);
    r.match = "keys/k1.*";
    world_fault_add(w, &r);
    CFDataRef data = NULL;
    assert_int_equal(kc_file_read("keys/k1.handle", &data), -ENOENT);
    assert_null(data);
    assert_false(kc_file_exists("keys/k1.pub"));
    assert_true(kc_file_exists("other/k1.handle"));
}

/* Several faults: each counts every matching call independently; when two
 * claim the same call, the one planned first decides its status, and
 * neither fault's window moves. */
static void test_several_faults(void **state) {
    world *w = FX(state)->w;
    world_fault a = fault(WORLD_API_SEC_ITEM_ADD, -1001, 2, 1);
    world_fault b = fault(WORLD_API_SEC_ITEM_ADD, -1002, 1, 3);
    world_fault c = fault(WORLD_API_SEC_ITEM_DELETE, -1003, 1, 1);
    world_fault_add(w, &a);
    world_fault_add(w, &b);
    world_fault_add(w, &c);
    assert_int_equal(add(w), -1002);
    assert_int_equal(add(w), -1001); /* both claim call 2; a was planned first */
    assert_int_equal(add(w), -1002); /* b's window: calls 1..3, consecutive */
    assert_int_equal(add(w), 0);
    assert_int_equal(add(w), 0);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_DELETE, "svc", "k1"), -1003);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_DELETE, "svc", "k1"), 0);

    /* Two faults on the same call, planned later: the earlier plan wins and
     * the later one's window passes with it. */
    world_fault d = fault(WORLD_API_SEC_ITEM_ADD, -2001, 1, 1);
    world_fault e = fault(WORLD_API_SEC_ITEM_ADD, -2002, 1, 1);
    world_fault_add(w, &d);
    world_fault_add(w, &e);
    assert_int_equal(add(w), -2001);
    assert_int_equal(add(w), 0);
}

/* Faulted calls count in world_calls_made and are journaled with "injected". */
static void test_faulted_calls_counted_and_journaled(void **state) {
    world *w = FX(state)->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_COPY_MATCHING, errSecInteractionNotAllowed, 1, 1);
    world_fault_add(w, &f);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "svc", "k1"),
                     errSecInteractionNotAllowed);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "svc", "k1"), 0);
    assert_int_equal(world_calls_made(w, WORLD_API_SEC_ITEM_COPY_MATCHING), 2);
    assert_int_equal(world_calls_total(w), 2);
    const char *j = world_journal(w);
    const char *line = strstr(j, "call agent SecItemCopyMatching kc=dp svc=svc acct=k1 injected "
                                 "-> -25308 errSecInteractionNotAllowed\n");
    assert_non_null(line);
    const char *clean =
        strstr(j, "call agent SecItemCopyMatching kc=dp svc=svc acct=k1 -> 0 errSecSuccess\n");
    assert_non_null(clean);
    assert_true(clean > line);
    /* Exactly one injected line. */
    assert_null(strstr(strchr(line, '\n'), "injected"));
}

/* ---- Crash points ----------------------------------------------------------------- */

/* Crash after the nth call: that call completes; the process is crashed from
 * then on; its later calls have no effect, count no call and return
 * errSecNotAvailable; restart clears it. */
static void test_crash_after_nth_call(void **state) {
    world_fx *fx = FX(state);
    world *w = fx->w;
    world_fault_crash(w, fx->p0, WORLD_API_FILE_WRITE, 2);
    assert_non_null(strstr(world_journal(w), "fault crash agent after FileWrite nth=2"));
    assert_int_equal(kc_file_write_atomic("k/a", "1", 1), 0);
    assert_false(world_process_crashed(w, fx->p0));
    /* Another process's calls and other apis do not count toward the crash. */
    world_set_current(w, fx->p1);
    assert_int_equal(kc_file_write_atomic("k/other", "o", 1), 0);
    world_set_current(w, fx->p0);
    assert_int_equal(kc_file_unlink("k/other"), 0);
    assert_false(world_process_crashed(w, fx->p0));

    assert_int_equal(kc_file_write_atomic("k/b", "2", 1), 0); /* the crash point */
    assert_true(world_process_crashed(w, fx->p0));
    assert_false(world_process_crashed(w, fx->p1));
    assert_true(world_file_exists(w, "k/b")); /* what it wrote stays */
    assert_non_null(strstr(world_journal(w), "event crash agent after FileWrite"));

    uint64_t writes = world_calls_made(w, WORLD_API_FILE_WRITE);
    uint64_t total = world_calls_total(w);
    assert_int_equal(kc_file_write_atomic("k/c", "3", 1), errSecNotAvailable);
    assert_false(world_file_exists(w, "k/c"));
    assert_int_equal(kc_file_unlink("k/a"), errSecNotAvailable);
    assert_true(world_file_exists(w, "k/a"));
    CFDataRef data = NULL;
    assert_int_equal(kc_file_read("k/a", &data), errSecNotAvailable);
    assert_null(data);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_ADD, "svc", "k1"), errSecNotAvailable);
    assert_int_equal(world_calls_made(w, WORLD_API_FILE_WRITE), writes);
    assert_int_equal(world_calls_total(w), total);
    assert_non_null(strstr(world_journal(w), "call agent FileWrite (crashed: no effect)"));

    /* The other process is unaffected. */
    world_set_current(w, fx->p1);
    assert_int_equal(kc_file_write_atomic("k/d", "4", 1), 0);

    /* Restart: memory gone, crash cleared; the crash point does not fire again. */
    uint64_t gen = world_process_generation(w, fx->p0);
    world_process_restart(w, fx->p0);
    assert_false(world_process_crashed(w, fx->p0));
    assert_int_equal(world_process_generation(w, fx->p0), gen + 1);
    world_set_current(w, fx->p0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(kc_file_write_atomic("k/c", "3", 1), 0);
    assert_false(world_process_crashed(w, fx->p0));
    assert_true(world_file_exists(w, "k/c"));
}

/* A crashed process's calls do not advance the fault plan: they never happened. */
static void test_crashed_calls_do_not_count_for_faults(void **state) {
    world_fx *fx = FX(state);
    world *w = fx->w;
    world_fault_crash(w, fx->p0, WORLD_API_SEC_ITEM_ADD, 1);
    assert_int_equal(add(w), 0);
    assert_true(world_process_crashed(w, fx->p0));
    world_fault f = fault(WORLD_API_SEC_ITEM_ADD, errSecDuplicateItem, 1, 1);
    world_fault_add(w, &f);
    assert_int_equal(add(w), errSecNotAvailable);
    assert_int_equal(add(w), errSecNotAvailable);
    world_process_restart(w, fx->p0);
    assert_int_equal(add(w), errSecDuplicateItem);
    assert_int_equal(add(w), 0);
}

/* A crash after a faulted call: the faulted call counts as the crash point. */
static void test_crash_after_faulted_call(void **state) {
    world_fx *fx = FX(state);
    world *w = fx->w;
    world_fault f = fault(WORLD_API_SEC_ITEM_DELETE, errSecItemNotFound, 1, 1);
    world_fault_add(w, &f);
    world_fault_crash(w, fx->p0, WORLD_API_SEC_ITEM_DELETE, 1);
    assert_int_equal(sim_call(w, WORLD_API_SEC_ITEM_DELETE, "svc", "k1"), errSecItemNotFound);
    assert_true(world_process_crashed(w, fx->p0));
}

/* A reboot clears a crash like a restart does. */
static void test_reboot_clears_crash(void **state) {
    world_fx *fx = FX(state);
    world *w = fx->w;
    world_device_boot(w);
    world_fault_crash(w, fx->p0, WORLD_API_SEC_ITEM_ADD, 1);
    assert_int_equal(add(w), 0);
    assert_true(world_process_crashed(w, fx->p0));
    assert_int_equal(world_device_reboot(w), 0);
    assert_false(world_process_crashed(w, fx->p0));
    assert_int_equal(add(w), 0);
}

/* Invalid plans are ignored. */
static void test_invalid_plans_ignored(void **state) {
    world_fx *fx = FX(state);
    world *w = fx->w;
    size_t journal = world_journal_length(w);
    world_fault f = fault(WORLD_API_COUNT, errSecParam, 1, 1);
    world_fault_add(w, &f);
    world_fault_add(w, NULL);
    /* A process filter naming no declared process would match nothing while
     * the journal showed "proc=*": refused. */
    world_fault bad_proc = fault(WORLD_API_SEC_ITEM_ADD, errSecParam, 1, 0);
    bad_proc.proc = 99;
    world_fault_add(w, &bad_proc);
    bad_proc.proc = -2;
    world_fault_add(w, &bad_proc);
    world_fault_crash(w, 99, WORLD_API_SEC_ITEM_ADD, 1);
    world_fault_crash(w, fx->p0, WORLD_API_COUNT, 1);
    assert_int_equal(world_journal_length(w), journal);
    assert_int_equal(add(w), 0);
    assert_false(world_process_crashed(w, fx->p0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nth_counts_from_addition, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_nth_default_first, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_times_consecutive, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_times_zero_always, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_any_status_injected, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_api_filter, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_proc_filter, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_match_service_account, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_match_copied, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_match_path_for_file_calls, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_several_faults, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_faulted_calls_counted_and_journaled, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_nth_call, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_crashed_calls_do_not_count_for_faults, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_faulted_call, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_reboot_clears_crash, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_plans_ignored, setup, world_fx_teardown),
    };
    return cmocka_run_group_tests_name("world_faults", tests, NULL, NULL);
}
