/* The device, its keybag and the login keychain (domain.md §2, §3).
 *
 * Each test names the rule it guards; removing that rule from
 * mocks/src/world_device.c makes the test fail. */
#include "test_sec_helpers.h"

#include "../src/world_internal.h"

/* ---- Fixture: a fresh world per test, and no CF leak at the end ------------- */

static int setup(void **state) { return world_fx_setup(state, 42); }

static world *W(void **state) { return ((world_fx *)*state)->w; }

/* ---- Class masks ------------------------------------------------------------ */

#define BIT(c) (1u << (c))
#define ALWAYS_ALL (BIT(WORLD_CLASS_ALWAYS) | BIT(WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY))
#define AFU_ALL                                                                                    \
    (BIT(WORLD_CLASS_AFTER_FIRST_UNLOCK) | BIT(WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY))
#define WU_ALL                                                                                     \
    (BIT(WORLD_CLASS_WHEN_UNLOCKED) | BIT(WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY) |            \
     BIT(WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY))
#define ALL_CLASSES (ALWAYS_ALL | AFU_ALL | WU_ALL)

/* Asserts exactly the classes in `mask` have their class key available. */
static void expect_classes(const world *w, unsigned mask, int line) {
    for (int c = 0; c < WORLD_CLASS_COUNT; c++) {
        bool want = (mask & BIT(c)) != 0;
        bool got = world_class_key_available(w, (world_class)c);
        if (want != got)
            fail_msg("line %d: class %s: expected %s, got %s", line,
                     world_class_name((world_class)c), want ? "available" : "unavailable",
                     got ? "available" : "unavailable");
    }
}
#define EXPECT_CLASSES(w, mask) expect_classes((w), (mask), __LINE__)

/* ---- Defaults (domain.md §2) ---------------------------------------------------- */

static void test_defaults(void **state) {
    world *w = W(state);
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_OFF);
    assert_false(world_device_asleep(w));
    assert_true(world_device_passcode(w));
    assert_true(world_device_biometry(w));
    assert_true(world_login_keychain_locked(w));
    assert_int_equal(world_now_ms(w), 0);
    assert_int_equal(world_process_count(w), 0);
    assert_int_equal(world_current(w), -1);
    assert_int_equal(world_prompts_total(w), 0);
    assert_int_equal(world_calls_total(w), 0);
    /* The user's default answer is approve. */
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "t"), WORLD_ANSWER_APPROVE);
    assert_string_equal(world_device_state_name(WORLD_DEVICE_OFF), "off");
    assert_string_equal(world_device_state_name(WORLD_DEVICE_BEFORE_FIRST_UNLOCK),
                        "before-first-unlock");
    assert_string_equal(world_device_state_name(WORLD_DEVICE_UNLOCKED), "unlocked");
    assert_string_equal(world_device_state_name(WORLD_DEVICE_LOCKED), "locked");
}

/* Lock-on-sleep is off by default: sleeping leaves the login keychain open;
 * turned on, sleep locks it. */
static void test_lock_on_sleep_default_off(void **state) {
    world *w = W(state);
    assert_int_equal(world_device_boot(w), 0);
    assert_int_equal(world_device_unlock(w), 0);
    assert_false(world_login_keychain_locked(w));
    assert_int_equal(world_device_sleep(w), 0);
    assert_false(world_login_keychain_locked(w));
    assert_int_equal(world_device_wake(w), 0);
    assert_false(world_login_keychain_locked(w));

    world_login_keychain_set_lock_on_sleep(w, true);
    assert_int_equal(world_device_unlock(w), 0);
    assert_int_equal(world_device_sleep(w), 0);
    assert_true(world_login_keychain_locked(w));
    assert_int_equal(world_device_wake(w), 0);
    assert_true(world_login_keychain_locked(w));
    /* Not the first unlock since boot: the login keychain stays locked. */
    assert_int_equal(world_device_unlock(w), 0);
    assert_true(world_login_keychain_locked(w));
}

/* The login keychain is locked until the first device unlock after boot,
 * which unlocks it; later unlocks do not undo an explicit lock; a reboot
 * locks it again until the next first unlock. */
static void test_login_keychain_first_unlock(void **state) {
    world *w = W(state);
    assert_true(world_login_keychain_locked(w));
    assert_int_equal(world_device_boot(w), 0);
    assert_true(world_login_keychain_locked(w));
    assert_int_equal(world_device_unlock(w), 0);
    assert_false(world_login_keychain_locked(w));

    assert_int_equal(world_login_keychain_lock(w), 0);
    assert_true(world_login_keychain_locked(w));
    assert_int_equal(world_device_lock(w), 0);
    assert_int_equal(world_device_unlock(w), 0);
    assert_true(world_login_keychain_locked(w));
    assert_int_equal(world_login_keychain_unlock(w), 0);
    assert_false(world_login_keychain_locked(w));

    assert_int_equal(world_device_reboot(w), 0);
    assert_true(world_login_keychain_locked(w));
    assert_int_equal(world_device_unlock(w), 0);
    assert_false(world_login_keychain_locked(w));
    assert_non_null(strstr(world_journal(w), "device unlock (first since boot)"));
}

static void test_login_keychain_unlock_needs_device_on(void **state) {
    world *w = W(state);
    size_t before = world_journal_length(w);
    assert_int_equal(world_login_keychain_unlock(w), -1);
    assert_true(world_login_keychain_locked(w));
    assert_non_null(strstr(world_last_error(w), "off"));
    assert_int_equal(world_journal_length(w), before);
}

/* ---- Keybag (domain.md §3) ------------------------------------------------------ */

static void test_keybag_boot_unlock_lock_sleep_wake_reboot(void **state) {
    world *w = W(state);
    /* Off: no class key at all. */
    EXPECT_CLASSES(w, 0);
    /* Booted, before first unlock: only Always*. */
    assert_int_equal(world_device_boot(w), 0);
    EXPECT_CLASSES(w, ALWAYS_ALL);
    world_advance(w, 3600 * 1000);
    EXPECT_CLASSES(w, ALWAYS_ALL);
    /* Unlocked: everything. */
    assert_int_equal(world_device_unlock(w), 0);
    EXPECT_CLASSES(w, ALL_CLASSES);
    /* Locked: WhenUnlocked* and WhenPasscodeSet stay for the grace period. */
    assert_int_equal(world_device_lock(w), 0);
    EXPECT_CLASSES(w, ALL_CLASSES);
    world_advance(w, 9999);
    EXPECT_CLASSES(w, ALL_CLASSES);
    world_advance(w, 1);
    EXPECT_CLASSES(w, ALWAYS_ALL | AFU_ALL);
    /* AfterFirstUnlock* survive sleep (2 h) and wake. */
    assert_int_equal(world_device_sleep(w), 0);
    world_advance(w, 2 * 3600 * 1000);
    EXPECT_CLASSES(w, ALWAYS_ALL | AFU_ALL);
    assert_int_equal(world_device_wake(w), 0);
    EXPECT_CLASSES(w, ALWAYS_ALL | AFU_ALL);
    assert_int_equal(world_device_unlock(w), 0);
    EXPECT_CLASSES(w, ALL_CLASSES);
    /* Reboot: back to only Always*. */
    assert_int_equal(world_device_reboot(w), 0);
    EXPECT_CLASSES(w, ALWAYS_ALL);
    assert_int_equal(world_device_unlock(w), 0);
    EXPECT_CLASSES(w, ALL_CLASSES);
}

/* Sleeping an unlocked device locks it: the grace period runs from the sleep. */
static void test_keybag_sleep_starts_grace(void **state) {
    world *w = W(state);
    world_device_boot(w);
    world_device_unlock(w);
    world_advance(w, 5000);
    assert_int_equal(world_device_sleep(w), 0);
    EXPECT_CLASSES(w, ALL_CLASSES);
    world_advance(w, 9999);
    EXPECT_CLASSES(w, ALL_CLASSES);
    world_advance(w, 1);
    EXPECT_CLASSES(w, ALWAYS_ALL | AFU_ALL);
}

/* The knob lock_grace sets the window. */
static void test_keybag_lock_grace_knob(void **state) {
    world *w = W(state);
    assert_int_equal(world_knob_value(w, WORLD_KNOB_LOCK_GRACE_MS), 10000);
    world_set_knob(w, WORLD_KNOB_LOCK_GRACE_MS, 60000);
    world_device_boot(w);
    world_device_unlock(w);
    world_device_lock(w);
    world_advance(w, 59999);
    EXPECT_CLASSES(w, ALL_CLASSES);
    world_advance(w, 1);
    EXPECT_CLASSES(w, ALWAYS_ALL | AFU_ALL);

    /* A zero grace discards the class keys at the lock itself. */
    world_set_knob(w, WORLD_KNOB_LOCK_GRACE_MS, 0);
    world_device_unlock(w);
    EXPECT_CLASSES(w, ALL_CLASSES);
    world_device_lock(w);
    EXPECT_CLASSES(w, ALWAYS_ALL | AFU_ALL);
}

/* Removing the passcode: WhenPasscodeSet becomes unavailable (its key is
 * destroyed); the other classes are untouched. */
static void test_keybag_passcode_removal(void **state) {
    world *w = W(state);
    world_device_boot(w);
    world_device_unlock(w);
    EXPECT_CLASSES(w, ALL_CLASSES);
    /* Items: two DP items of the class, one DP item of another class, and a
     * file-based item that merely records the class (no effect there). */
    static const unsigned char secret[4] = {1, 2, 3, 4};
    world_item_view v = {.keychain = WORLD_KEYCHAIN_DP,
                         .service = "svc",
                         .account = "a1",
                         .access_group = "TEAMID.g",
                         .accessible = WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY,
                         .data = secret,
                         .data_len = sizeof secret};
    assert_int_equal(world_item_plant(w, &v), 0);
    v.account = "a2";
    assert_int_equal(world_item_plant(w, &v), 0);
    v.account = "a3";
    v.accessible = WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY;
    assert_int_equal(world_item_plant(w, &v), 0);
    v.keychain = WORLD_KEYCHAIN_FILE;
    v.access_group = NULL;
    v.account = "a4";
    v.accessible = WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY;
    assert_int_equal(world_item_plant(w, &v), 0);
    assert_int_equal(world_item_count(w), 4);

    assert_int_equal(world_device_set_passcode(w, false), 0);
    /* ... and deletes every DP item of that class. */
    assert_int_equal(world_item_count(w), 2);
    assert_false(world_item_find(w, WORLD_KEYCHAIN_DP, "svc", "a1", "TEAMID.g", NULL));
    assert_false(world_item_find(w, WORLD_KEYCHAIN_DP, "svc", "a2", "TEAMID.g", NULL));
    assert_true(world_item_find(w, WORLD_KEYCHAIN_DP, "svc", "a3", "TEAMID.g", NULL));
    assert_true(world_item_find(w, WORLD_KEYCHAIN_FILE, "svc", "a4", NULL, NULL));
    assert_false(world_device_passcode(w));
    EXPECT_CLASSES(w, ALL_CLASSES & ~BIT(WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY));
    assert_non_null(strstr(world_journal(w), "device passcode off"));
    /* Removing it again changes nothing (no second event). */
    size_t journal = world_journal_length(w);
    assert_int_equal(world_device_set_passcode(w, false), 0);
    assert_int_equal(world_journal_length(w), journal);
    /* A new passcode makes a new WhenPasscodeSet class key. */
    assert_int_equal(world_device_set_passcode(w, true), 0);
    EXPECT_CLASSES(w, ALL_CLASSES);
}

static void test_biometry_toggle(void **state) {
    world *w = W(state);
    assert_int_equal(world_device_set_biometry(w, false), 0);
    assert_false(world_device_biometry(w));
    assert_non_null(strstr(world_journal(w), "device biometry off"));
    assert_int_equal(world_device_set_biometry(w, true), 0);
    assert_true(world_device_biometry(w));
}

/* lose-class-key: unavailable until the next unlock, then back. */
static void test_keybag_lose_class_key(void **state) {
    world *w = W(state);
    const world_class c = WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY;
    world_device_boot(w);
    world_device_unlock(w);
    world_fault_lose_class_key(w, c);
    EXPECT_CLASSES(w, ALL_CLASSES & ~BIT(c));
    assert_non_null(
        strstr(world_journal(w), "fault lose-class-key AfterFirstUnlockThisDeviceOnly"));
    world_device_lock(w);
    world_advance(w, 20000);
    EXPECT_CLASSES(w, ALWAYS_ALL | BIT(WORLD_CLASS_AFTER_FIRST_UNLOCK));
    world_device_sleep(w);
    world_device_wake(w);
    EXPECT_CLASSES(w, ALWAYS_ALL | BIT(WORLD_CLASS_AFTER_FIRST_UNLOCK));
    assert_int_equal(world_device_unlock(w), 0);
    EXPECT_CLASSES(w, ALL_CLASSES);

    /* Also across a reboot: lost until the next unlock. */
    world_fault_lose_class_key(w, WORLD_CLASS_ALWAYS);
    world_device_reboot(w);
    EXPECT_CLASSES(w, BIT(WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY));
    world_device_unlock(w);
    EXPECT_CLASSES(w, ALL_CLASSES);
}

/* destroy-class-key: never back, not after unlock, not after reboot. */
static void test_keybag_destroy_class_key(void **state) {
    world *w = W(state);
    const world_class c = WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY;
    world_device_boot(w);
    world_device_unlock(w);
    world_fault_destroy_class_key(w, c);
    EXPECT_CLASSES(w, ALL_CLASSES & ~BIT(c));
    world_device_lock(w);
    world_device_unlock(w);
    EXPECT_CLASSES(w, ALL_CLASSES & ~BIT(c));
    world_device_reboot(w);
    world_device_unlock(w);
    EXPECT_CLASSES(w, ALL_CLASSES & ~BIT(c));
    assert_non_null(strstr(world_journal(w), "fault destroy-class-key WhenUnlockedThisDeviceOnly"));
}

static void test_class_names(void **state) {
    (void)state;
    static const char *const names[WORLD_CLASS_COUNT] = {
        "WhenUnlocked",
        "WhenUnlockedThisDeviceOnly",
        "AfterFirstUnlock",
        "AfterFirstUnlockThisDeviceOnly",
        "WhenPasscodeSetThisDeviceOnly",
        "Always",
        "AlwaysThisDeviceOnly",
    };
    for (int c = 0; c < WORLD_CLASS_COUNT; c++) {
        assert_string_equal(world_class_name((world_class)c), names[c]);
        assert_int_equal(world_class_from_name(names[c]), c);
    }
    assert_int_equal(world_class_from_name("kSecAttrAccessibleWhenUnlocked"), -1);
    assert_int_equal(world_class_from_name("whenunlocked"), -1);
    assert_int_equal(world_class_from_name(""), -1);
    assert_int_equal(world_class_from_name(NULL), -1);
    assert_null(world_class_name(WORLD_CLASS_COUNT));
}

/* ---- Device events: validity ------------------------------------------------------ */

/* A refused event returns -1, leaves the world unchanged (state, journal) and
 * says why in world_last_error. */
static void expect_refused(world *w, int (*event)(world *), const char *name, int line) {
    world_device_state s = world_device_state_now(w);
    bool asleep = world_device_asleep(w);
    bool login = world_login_keychain_locked(w);
    size_t journal = world_journal_length(w);
    if (event(w) != -1)
        fail_msg("line %d: device %s accepted in state %s%s", line, name,
                 world_device_state_name(s), asleep ? " (asleep)" : "");
    if (world_device_state_now(w) != s || world_device_asleep(w) != asleep ||
        world_login_keychain_locked(w) != login || world_journal_length(w) != journal)
        fail_msg("line %d: refused device %s changed the world", line, name);
    if (strstr(world_last_error(w), name) == NULL)
        fail_msg("line %d: last error \"%s\" does not name the event %s", line, world_last_error(w),
                 name);
}
#define EXPECT_REFUSED(w, fn, name) expect_refused((w), (fn), (name), __LINE__)

static void test_device_events_while_off(void **state) {
    world *w = W(state);
    EXPECT_REFUSED(w, world_device_unlock, "unlock");
    assert_non_null(strstr(world_last_error(w), "off"));
    EXPECT_REFUSED(w, world_device_lock, "lock");
    EXPECT_REFUSED(w, world_device_sleep, "sleep");
    EXPECT_REFUSED(w, world_device_wake, "wake");
    EXPECT_REFUSED(w, world_device_reboot, "reboot");
    assert_int_equal(world_device_boot(w), 0);
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_BEFORE_FIRST_UNLOCK);
    EXPECT_REFUSED(w, world_device_boot, "boot");
}

static void test_device_events_sleep_wake(void **state) {
    world *w = W(state);
    world_device_boot(w);
    /* Lock needs an unlocked device; before first unlock it already is locked. */
    EXPECT_REFUSED(w, world_device_lock, "lock");
    EXPECT_REFUSED(w, world_device_wake, "wake");
    assert_int_equal(world_device_unlock(w), 0);
    EXPECT_REFUSED(w, world_device_unlock, "unlock");

    /* Sleep locks. */
    assert_int_equal(world_device_sleep(w), 0);
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_LOCKED);
    assert_true(world_device_asleep(w));
    EXPECT_REFUSED(w, world_device_sleep, "sleep");
    EXPECT_REFUSED(w, world_device_unlock, "unlock");
    assert_non_null(strstr(world_last_error(w), "asleep"));
    EXPECT_REFUSED(w, world_device_lock, "lock");

    /* Wake leaves it locked. */
    assert_int_equal(world_device_wake(w), 0);
    assert_false(world_device_asleep(w));
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_LOCKED);
    EXPECT_REFUSED(w, world_device_wake, "wake");
    EXPECT_REFUSED(w, world_device_lock, "lock");
    assert_int_equal(world_device_unlock(w), 0);
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_UNLOCKED);

    /* Sleeping before the first unlock keeps that state. */
    assert_int_equal(world_device_reboot(w), 0);
    assert_int_equal(world_device_sleep(w), 0);
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_BEFORE_FIRST_UNLOCK);
    assert_int_equal(world_device_wake(w), 0);
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_BEFORE_FIRST_UNLOCK);
}

/* A reboot returns to before-first-unlock (awake) and restarts every process:
 * its generation increments and a crash is cleared. */
static void test_device_reboot_restarts_processes(void **state) {
    world *w = W(state);
    world_process_config a = {.name = "agent", .is_signed = true, .gui = true};
    world_process_config b = {.name = "cli", .is_signed = false, .gui = false};
    world_pid pa = world_process_add(w, &a);
    world_pid pb = world_process_add(w, &b);
    assert_true(pa >= 0 && pb >= 0);
    uint64_t ga = world_process_generation(w, pa);
    uint64_t gb = world_process_generation(w, pb);
    const char *ida = world_process_identity(w, pa);
    char idb[160];
    strncpy(idb, world_process_identity(w, pb), sizeof idb - 1);
    idb[sizeof idb - 1] = '\0';
    assert_non_null(ida);

    /* Crash pb after its first file write. */
    world_fault_crash(w, pb, WORLD_API_FILE_WRITE, 1);
    world_set_current(w, pb);
    world_call call;
    int32_t st;
    world_call_begin(w, &call, WORLD_API_FILE_WRITE);
    assert_false(world_call_faulted(w, &call, &st));
    world_call_end(w, &call, 0);
    assert_true(world_process_crashed(w, pb));

    world_device_boot(w);
    world_device_unlock(w);
    world_device_sleep(w);
    assert_int_equal(world_device_reboot(w), 0);
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_BEFORE_FIRST_UNLOCK);
    assert_false(world_device_asleep(w));
    assert_int_equal(world_process_generation(w, pa), ga + 1);
    assert_int_equal(world_process_generation(w, pb), gb + 1);
    assert_false(world_process_crashed(w, pb));
    /* Same declared configuration and identity. */
    assert_string_equal(world_process_identity(w, pb), idb);
    assert_false(world_process_config_of(w, pb)->gui);
    assert_true(world_process_config_of(w, pa)->is_signed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_lock_on_sleep_default_off, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_login_keychain_first_unlock, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_login_keychain_unlock_needs_device_on, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_keybag_boot_unlock_lock_sleep_wake_reboot, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_keybag_sleep_starts_grace, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_keybag_lock_grace_knob, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_keybag_passcode_removal, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_biometry_toggle, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_keybag_lose_class_key, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_keybag_destroy_class_key, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_class_names, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_device_events_while_off, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_device_events_sleep_wake, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_device_reboot_restarts_processes, setup,
                                        world_fx_teardown),
    };
    return cmocka_run_group_tests_name("world_device", tests, NULL, NULL);
}
