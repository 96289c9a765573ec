/* The simulated world at its edges (issue 8, coverage): values outside each
 * enum, process ids that name no process, the clock's horizon, the fault
 * plan's argument checks and growth, the key-file interface's argument
 * checks and listing, and item seeding refusals. Each check states what the
 * world must leave unchanged.
 *
 * Fixture: test_sec_helpers.h (booted, unlocked world, signed GUI "agent"). */
#include "test_sec_helpers.h"

#include <errno.h>
#include <keyclass/files.h>

#define W(state) (((fx *)*(state))->w)

static void enums_outside_their_range(void **state) {
    world *w = W(state);
    world_knob bad = (world_knob)WORLD_KNOB_COUNT;
    assert_int_equal(world_knob_default(bad), 0);
    assert_int_equal(world_knob_value(w, bad), 0);
    assert_null(world_knob_name(bad));
    assert_null(world_knob_doc(bad));
    size_t journal = world_journal_length(w);
    world_set_knob(w, bad, 5);
    assert_int_equal(world_journal_length(w), journal);
    assert_string_equal(world_device_state_name((world_device_state)9), "?");
    assert_string_equal(world_prompt_kind_name((world_prompt_kind)99), "?");
    assert_int_equal(world_prompts_shown(w, (world_prompt_kind)99), 0);
    assert_int_equal(world_calls_made(w, (world_api)WORLD_API_COUNT), 0);
    assert_false(world_class_key_available(w, (world_class)WORLD_CLASS_COUNT));
    /* Losing or destroying a class that does not exist changes nothing. */
    world_fault_lose_class_key(w, (world_class)WORLD_CLASS_COUNT);
    world_fault_destroy_class_key(w, (world_class)-1);
    assert_int_equal(world_journal_length(w), journal);
    for (int c = 0; c < WORLD_CLASS_COUNT; c++)
        assert_true(world_class_key_available(w, (world_class)c));
    /* Unknown answers are ignored too. */
    world_user_queue(w, (world_answer)9, 3);
    world_user_set_default(w, (world_answer)9);
    assert_int_equal(world_journal_length(w), journal);
}

/* Without a passcode the AfterFirstUnlock classes are available from boot. */
static void after_first_unlock_without_a_passcode(void **state) {
    (void)state;
    world *w = world_new(3);
    assert_int_equal(world_device_set_passcode(w, false), 0);
    assert_int_equal(world_device_boot(w), 0);
    assert_int_equal(world_device_state_now(w), WORLD_DEVICE_BEFORE_FIRST_UNLOCK);
    assert_true(world_class_key_available(w, WORLD_CLASS_AFTER_FIRST_UNLOCK));
    assert_false(world_class_key_available(w, WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY));
    world_free(w);
    /* With one, not before the first unlock. */
    w = world_new(3);
    assert_int_equal(world_device_boot(w), 0);
    assert_false(world_class_key_available(w, WORLD_CLASS_AFTER_FIRST_UNLOCK));
    world_free(w);
}

static void process_ids_that_name_no_process(void **state) {
    world *w = W(state);
    world_pid agent = ((fx *)*state)->agent;
    uint64_t gen = world_process_generation(w, agent);
    size_t journal = world_journal_length(w);
    world_process_restart(w, 42);
    world_process_rebuild(w, -1);
    assert_int_equal(world_journal_length(w), journal);
    assert_int_equal(world_process_generation(w, 42), 0);
    assert_false(world_process_crashed(w, 42));
    assert_null(world_process_identity(w, 42));
    assert_null(world_process_config_of(w, -3));
    assert_int_equal(world_process_generation(w, agent), gen);
    world_set_current(w, 42);
    assert_int_equal(world_current(w), -1);
    /* No current process: no identity, no prompt, no default keychain. */
    assert_int_equal(read_data(false, "nothing", NULL), errSecNoDefaultKeychain);
    world_set_current(w, agent);
    assert_int_equal(world_current(w), agent);
    /* A process needs a name, and a unique one. */
    world_process_config nameless = {.name = NULL, .app = "x"};
    assert_int_equal(world_process_add(w, &nameless), -1);
    assert_int_equal(world_process_add(w, NULL), -1);
    world_process_config dup = {.name = "agent", .app = "x"};
    assert_int_equal(world_process_add(w, &dup), -1);
    /* No app: sshenc. */
    world_process_config plain = {.name = "plain", .is_signed = true};
    world_pid p = world_process_add(w, &plain);
    assert_true(p >= 0);
    assert_string_equal(world_process_config_of(w, p)->app, "sshenc");
}

/* A sleeping device shows no prompt, even to a GUI process. */
static void no_prompt_while_asleep(void **state) {
    world *w = W(state);
    LAContextRef ctx = LAContextCreate();
    assert_int_equal(world_device_sleep(w), 0);
    CFErrorRef err = NULL;
    assert_false(
        LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, CFSTR("r"), &err));
    assert_int_equal(CFErrorGetCode(err), LAErrorNotInteractive);
    assert_int_equal(world_prompts_total(w), 0);
    CFRelease(err);
    CFRelease(ctx);
}

static void clock_stops_at_its_horizon(void **state) {
    world *w = W(state);
    world_advance(w, 1000);
    world_advance(w, WORLD_CLOCK_HORIZON_MS);
    assert_int_equal(world_now_ms(w), 1000);
    assert_non_null(strstr(world_last_error(w), "cannot pass"));
    world_advance(w, WORLD_CLOCK_HORIZON_MS - 1000);
    assert_int_equal(world_now_ms(w), WORLD_CLOCK_HORIZON_MS);
    world_advance(w, 1);
    assert_int_equal(world_now_ms(w), WORLD_CLOCK_HORIZON_MS);
}

/* The fault plan grows past its first allocation, and crash faults for an
 * unknown API or process are refused. nth 0 means the first call. */
static void fault_plan_grows_and_checks_crash_faults(void **state) {
    world *w = W(state);
    world_pid agent = ((fx *)*state)->agent;
    for (unsigned i = 0; i < 12; i++) {
        world_fault f = {.api = WORLD_API_SEC_ITEM_DELETE,
                         .status = errSecInteractionNotAllowed,
                         .nth = 20 + i,
                         .times = 1,
                         .proc = -1,
                         .match = NULL};
        world_fault_add(w, &f);
    }
    world_fault last = {.api = WORLD_API_SEC_ITEM_ADD,
                        .status = errSecAuthFailed,
                        .nth = 2,
                        .times = 1,
                        .proc = -1,
                        .match = NULL};
    world_fault_add(w, &last);
    assert_int_equal(add_item(true, "f1", "s", NULL), errSecSuccess);
    assert_int_equal(add_item(true, "f2", "s", NULL), errSecAuthFailed); /* the 13th fault */
    size_t journal = world_journal_length(w);
    world_fault_crash(w, agent, (world_api)WORLD_API_COUNT, 1);
    world_fault_crash(w, 42, WORLD_API_SEC_ITEM_ADD, 1);
    world_fault_crash(w, -1, WORLD_API_SEC_ITEM_ADD, 1);
    assert_int_equal(world_journal_length(w), journal);
    for (int i = 0; i < 5; i++) /* past the first allocation of crash faults */
        world_fault_crash(w, agent, WORLD_API_SE_DELETE, 100 + (unsigned)i);
    world_fault_crash(w, agent, WORLD_API_SEC_ITEM_ADD, 0);
    assert_true(journal_has(w, "fault crash agent after SecItemAdd nth=1"));
    assert_int_equal(add_item(true, "f3", "s", NULL), errSecSuccess); /* runs, then crashes */
    assert_true(world_process_crashed(w, agent));
    assert_int_equal(add_item(true, "f4", "s", NULL), errSecNotAvailable);
    world_item_view v;
    assert_true(world_item_find(w, WORLD_KEYCHAIN_DP, SVC, "f3", GROUP, &v));
    assert_false(world_item_find(w, WORLD_KEYCHAIN_DP, SVC, "f4", GROUP, &v));
}

/* ---- Key files ---------------------------------------------------------------------------------
 */

static void key_file_argument_checks(void **state) {
    world *w = W(state);
    CFDataRef data = NULL;
    CFArrayRef list = (CFArrayRef)(uintptr_t)1;
    uint64_t calls = world_calls_total(w);
    assert_int_equal(kc_file_write_atomic(NULL, "x", 1), -EINVAL);
    assert_int_equal(kc_file_read(NULL, &data), -EINVAL);
    assert_int_equal(kc_file_read("/k", NULL), -EINVAL);
    assert_false(kc_file_exists(NULL));
    assert_int_equal(kc_file_rename(NULL, "/b"), -EINVAL);
    assert_int_equal(kc_file_rename("/a", NULL), -EINVAL);
    assert_int_equal(kc_file_unlink(NULL), -EINVAL);
    assert_int_equal(kc_file_list(NULL, &list), -EINVAL);
    assert_null(list);
    assert_int_equal(kc_file_list("/", NULL), -EINVAL);
    assert_int_equal(world_calls_total(w), calls);
    world_activate(NULL);
    assert_int_equal(kc_file_write_atomic("/k", "x", 1), -EINVAL);
    assert_int_equal(kc_file_read("/k", &data), -EINVAL);
    assert_false(kc_file_exists("/k"));
    assert_int_equal(kc_file_rename("/a", "/b"), -EINVAL);
    assert_int_equal(kc_file_unlink("/k"), -EINVAL);
    assert_int_equal(kc_file_list("/", &list), -EINVAL);
    world_activate(w);
    assert_int_equal(world_file_count(w), 0);
}

/* Listing: the paths under a prefix, sorted; a faulted listing returns the
 * fault and no array; renaming onto an existing path replaces it. */
static void key_file_listing_and_replacing_rename(void **state) {
    world *w = W(state);
    assert_int_equal(kc_file_write_atomic("/keys/b.pub", "b", 1), 0);
    assert_int_equal(kc_file_write_atomic("/keys/a.pub", "a", 1), 0);
    assert_int_equal(kc_file_write_atomic("/other/c", "c", 1), 0);
    CFArrayRef list = NULL;
    assert_int_equal(kc_file_list("/keys/", &list), 0);
    assert_int_equal(CFArrayGetCount(list), 2);
    char path[32];
    assert_true(CFStringGetCString(CFArrayGetValueAtIndex(list, 0), path, sizeof path,
                                   kCFStringEncodingUTF8));
    assert_string_equal(path, "/keys/a.pub");
    CFRelease(list);
    assert_int_equal(kc_file_list("/none/", &list), 0);
    assert_int_equal(CFArrayGetCount(list), 0);
    CFRelease(list);
    world_fault f = {.api = WORLD_API_FILE_READ,
                     .status = -EIO,
                     .nth = 1,
                     .times = 1,
                     .proc = -1,
                     .match = NULL};
    world_fault_add(w, &f);
    list = (CFArrayRef)(uintptr_t)1;
    assert_int_equal(kc_file_list("/keys/", &list), -EIO);
    assert_null(list);
    assert_int_equal(kc_file_rename("/keys/a.pub", "/keys/b.pub"), 0);
    size_t len = 0;
    const unsigned char *b = world_file_get(w, "/keys/b.pub", &len);
    assert_int_equal(len, 1);
    assert_int_equal(b[0], 'a');
    assert_false(world_file_exists(w, "/keys/a.pub"));
    assert_int_equal(kc_file_rename("/keys/a.pub", "/keys/c.pub"), -ENOENT);
    assert_int_equal(world_file_count(w), 2);
    /* Empty files exist and read as empty data. */
    assert_int_equal(kc_file_write_atomic("/keys/empty", NULL, 0), 0);
    CFDataRef data = NULL;
    assert_int_equal(kc_file_read("/keys/empty", &data), 0);
    assert_int_equal(CFDataGetLength(data), 0);
    CFRelease(data);
}

/* ---- Seeding items
 * ------------------------------------------------------------------------------------ */

static void item_seeding_refuses_invalid_views(void **state) {
    world *w = W(state);
    world_item_view v = plant_view(WORLD_KEYCHAIN_DP, "seed", "s");
    world_item_view bad = v;
    bad.accessible = (world_class)WORLD_CLASS_COUNT;
    assert_int_equal(world_item_plant(w, &bad), -1);
    bad = v;
    bad.data = NULL;
    assert_int_equal(world_item_plant(w, &bad), -1);
    bad = v;
    bad.keychain = (world_keychain)7;
    assert_int_equal(world_item_plant(w, &bad), -1);
    assert_int_equal(world_item_plant(w, NULL), -1);
    assert_int_equal(world_item_count(w), 0);
    assert_int_equal(world_item_mutations(w), 0);
    assert_int_equal(world_item_plant(w, &v), 0);
    assert_int_equal(world_item_plant(w, &v), -1); /* the primary key exists */
    assert_int_equal(world_item_count(w), 1);
    world_item_view out;
    assert_false(world_item_at(w, 1, &out));
    assert_false(world_item_at(w, 0, NULL));
    assert_true(world_item_at(w, 0, &out));
    assert_string_equal(out.account, "seed");
    /* A planted item without a creator trusts every application. */
    assert_int_equal(read_data(true, "seed", "s"), errSecSuccess);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(enums_outside_their_range),
        FX_TEST(after_first_unlock_without_a_passcode),
        FX_TEST(process_ids_that_name_no_process),
        FX_TEST(no_prompt_while_asleep),
        FX_TEST(clock_stops_at_its_horizon),
        FX_TEST(fault_plan_grows_and_checks_crash_faults),
        FX_TEST(key_file_argument_checks),
        FX_TEST(key_file_listing_and_replacing_rename),
        FX_TEST(item_seeding_refuses_invalid_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
