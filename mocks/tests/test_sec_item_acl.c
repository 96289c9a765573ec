/* The file-based keychain's per-item ACL (domain.md §4, §5 "User answers"):
 * the creator is trusted, a stranger's data read shows the "Always Allow /
 * Deny" dialog, Always Allow and Deny are remembered per identity, attribute
 * reads never consult the ACL, a signed rebuild keeps its identity and an
 * unsigned rebuild is a stranger. */
#include "test_sec_helpers.h"

/* An unsigned build of the same app: identity = code hash. */
static world_pid add_tool(fx *f, bool gui) {
    return add_proc(f->w, gui ? "tool" : "tool-nogui", "sshenc", false, NULL, gui, false);
}

static void test_creator_reads_without_prompt(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, &v));
    assert_string_equal(v.creator, world_process_identity(f->w, f->agent));
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
}

static void test_always_allow_is_remembered(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    world_set_current(f->w, add_tool(f, true));
    world_user_queue(f->w, WORLD_ANSWER_APPROVE, 1);
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 1);
    /* Remembered: no second prompt. */
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 1);
    assert_true(
        journal_has(f->w, "prompt file-always-allow proc=tool about=" SVC "/k1 -> approve"));
}

static void test_deny_is_remembered_without_prompt(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    world_set_current(f->w, add_tool(f, true));
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    assert_int_equal(read_data(false, "k1", NULL), errSecAuthFailed);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 1);
    /* Every later data read: -25293 without a prompt, whatever the user would say. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(read_data(false, "k1", NULL), errSecAuthFailed);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 1);
    /* The creator is not affected. */
    world_set_current(f->w, f->agent);
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
}

static void test_cancel_and_absent_are_not_remembered(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    world_set_current(f->w, add_tool(f, true));
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    world_user_queue(f->w, WORLD_ANSWER_ABSENT, 1);
    assert_int_equal(read_data(false, "k1", NULL), errSecUserCanceled);
    assert_int_equal(read_data(false, "k1", NULL), errSecUserCanceled);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 2);
    /* Asked again next time. */
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 3);
}

static void test_stranger_without_gui(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    world_set_current(f->w, add_tool(f, false));
    assert_int_equal(read_data(false, "k1", NULL), errSecInteractionNotAllowed);
    assert_int_equal(world_prompts_total(f->w), 0);
}

static void test_attribute_read_never_prompts(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    world_set_current(f->w, add_tool(f, true));
    assert_int_equal(read_attrs(false, "k1"), errSecSuccess);
    /* Existence check (no return key) neither. */
    CFMutableDictionaryRef d = gp(false, SVC, "k1");
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecSuccess);
    CFRelease(d);
    assert_int_equal(world_prompts_total(f->w), 0);
    /* Not even once Deny is remembered. */
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    assert_int_equal(read_data(false, "k1", NULL), errSecAuthFailed);
    assert_int_equal(read_attrs(false, "k1"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 1);
}

static void test_signed_rebuild_keeps_access(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    const char *before = world_process_identity(f->w, f->agent);
    char saved[160];
    snprintf(saved, sizeof saved, "%s", before);
    world_process_rebuild(f->w, f->agent);
    assert_string_equal(world_process_identity(f->w, f->agent), saved);
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
}

static void test_unsigned_rebuild_is_a_stranger(void **state) {
    fx *f = *state;
    world_pid tool = add_tool(f, true);
    world_set_current(f->w, tool);
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
    /* A restart keeps the code hash. */
    world_process_restart(f->w, tool);
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
    /* A rebuild does not. */
    world_process_rebuild(f->w, tool);
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    assert_int_equal(read_data(false, "k1", NULL), errSecUserCanceled);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 1);
}

/* Remembered answers belong to one identity: another stranger is asked. */
static void test_answers_are_per_identity(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    world_pid t1 = add_proc(f->w, "t1", "sshenc", false, NULL, true, false);
    world_pid t2 = add_proc(f->w, "t2", "sshenc", false, NULL, true, false);
    world_set_current(f->w, t1);
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    assert_int_equal(read_data(false, "k1", NULL), errSecAuthFailed);
    world_set_current(f->w, t2);
    assert_int_equal(read_data(false, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 2);
    world_set_current(f->w, t1);
    assert_int_equal(read_data(false, "k1", NULL), errSecAuthFailed);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 2);
}

/* Update of the data by a stranger is gated like a data read; an
 * attribute-only update and a delete are not. */
static void test_stranger_update_and_delete(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret", NULL), errSecSuccess);
    world_set_current(f->w, add_tool(f, true));
    CFMutableDictionaryRef q = gp(false, SVC, "k1");
    CFMutableDictionaryRef a = dict_new();
    set_data(a, kSecValueData, "replaced");
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    assert_int_equal(SecItemUpdate(q, a), errSecAuthFailed);
    assert_int_equal(SecItemUpdate(q, a), errSecAuthFailed); /* Deny remembered */
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 1);
    CFRelease(a);
    a = dict_new();
    set_str(a, kSecAttrLabel, "renamed");
    assert_int_equal(SecItemUpdate(q, a), errSecSuccess);
    CFRelease(a);
    assert_int_equal(SecItemDelete(q), errSecSuccess);
    CFRelease(q);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 1);
    assert_int_equal(world_item_count(f->w), 0);
}

/* The DP keychain has no per-item ACL: another signed app of the same team
 * reads without a dialog. */
static void test_dp_has_no_item_acl(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "secret", NULL), errSecSuccess);
    world_set_current(f->w, add_proc(f->w, "other", "otherapp", true, GROUP, true, false));
    assert_int_equal(read_data(true, "k1", "secret"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
}

/* A planted item without a creator trusts every application. */
static void test_planted_without_creator(void **state) {
    fx *f = *state;
    world_item_view v = {.keychain = WORLD_KEYCHAIN_FILE,
                         .service = SVC,
                         .account = "k1",
                         .accessible = WORLD_CLASS_WHEN_UNLOCKED,
                         .data = (const unsigned char *)"abc",
                         .data_len = 3};
    assert_int_equal(world_item_plant(f->w, &v), 0);
    world_set_current(f->w, add_tool(f, true));
    assert_int_equal(read_data(false, "k1", "abc"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_creator_reads_without_prompt),
        FX_TEST(test_always_allow_is_remembered),
        FX_TEST(test_deny_is_remembered_without_prompt),
        FX_TEST(test_cancel_and_absent_are_not_remembered),
        FX_TEST(test_stranger_without_gui),
        FX_TEST(test_attribute_read_never_prompts),
        FX_TEST(test_signed_rebuild_keeps_access),
        FX_TEST(test_unsigned_rebuild_is_a_stranger),
        FX_TEST(test_answers_are_per_identity),
        FX_TEST(test_stranger_update_and_delete),
        FX_TEST(test_dp_has_no_item_acl),
        FX_TEST(test_planted_without_creator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
