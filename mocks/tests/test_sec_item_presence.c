/* User-presence gating of DP items (domain.md §4, §5): reading the data of an
 * item whose access control has .userPresence / .biometryAny /
 * .devicePasscode needs authentication; an authenticated LAContext inside its
 * reuse window reads silently, otherwise the read prompts (or fails with
 * -25308 when no prompt is possible). An item's class is its access
 * control's protection. */
#include "test_sec_helpers.h"

#define AFU kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly

static uint64_t presence_prompts(const fx *f) {
    return world_prompts_shown(f->w, WORLD_PROMPT_KEYCHAIN_PRESENCE);
}

/* An authenticated context (one LA prompt, approved) with a reuse window. */
static LAContextRef authenticated_context(double reuse_seconds) {
    LAContextRef ctx = LAContextCreate();
    assert_non_null(ctx);
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, reuse_seconds);
    CFErrorRef error = NULL;
    CFStringRef reason = CFSTR("sign");
    assert_true(LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, reason, &error));
    assert_null(error);
    return ctx;
}

static void test_read_prompts_and_answers(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "secret", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    assert_int_equal(read_data(true, "k1", "secret"), errSecSuccess); /* default: approve */
    assert_int_equal(presence_prompts(f), 1);
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    assert_int_equal(read_data(true, "k1", NULL), errSecUserCanceled);
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    assert_int_equal(read_data(true, "k1", NULL), errSecAuthFailed);
    world_user_queue(f->w, WORLD_ANSWER_ABSENT, 1);
    assert_int_equal(read_data(true, "k1", NULL), errSecUserCanceled);
    assert_int_equal(presence_prompts(f), 4);
    /* Nothing is remembered: every read without a context prompts. */
    assert_int_equal(read_data(true, "k1", "secret"), errSecSuccess);
    assert_int_equal(presence_prompts(f), 5);
    assert_true(journal_has(f->w, "prompt keychain-presence proc=agent about=" SVC "/k1"));
}

static void test_every_presence_flag_gates(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "bio", "a", AFU, kSecAccessControlBiometryAny),
                     errSecSuccess);
    assert_int_equal(add_item_ac(true, "pin", "b", AFU, kSecAccessControlDevicePasscode),
                     errSecSuccess);
    assert_int_equal(read_data(true, "bio", "a"), errSecSuccess);
    assert_int_equal(read_data(true, "pin", "b"), errSecSuccess);
    assert_int_equal(presence_prompts(f), 2);
}

static void test_no_presence_flag_no_prompt(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "a", AFU, 0), errSecSuccess);
    assert_int_equal(add_item_ac(true, "k2", "b", AFU, kSecAccessControlPrivateKeyUsage),
                     errSecSuccess);
    assert_int_equal(add_item(true, "k3", "c", AFU), errSecSuccess);
    assert_int_equal(read_data(true, "k1", "a"), errSecSuccess);
    assert_int_equal(read_data(true, "k2", "b"), errSecSuccess);
    assert_int_equal(read_data(true, "k3", "c"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
}

static void test_attribute_read_and_delete_not_gated(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "secret", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    assert_int_equal(read_attrs(true, "k1"), errSecSuccess);
    assert_int_equal(delete_item(true, "k1"), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
}

static void test_no_prompt_possible(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "secret", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    /* No GUI session. */
    world_set_current(f->w, add_proc(f->w, "daemon", "sshenc", true, GROUP, false, false));
    assert_int_equal(read_data(true, "k1", NULL), errSecInteractionNotAllowed);
    /* A GUI process while the device is locked (the AFU class key is there). */
    world_set_current(f->w, f->agent);
    assert_int_equal(world_device_lock(f->w), 0);
    assert_int_equal(read_data(true, "k1", NULL), errSecInteractionNotAllowed);
    assert_int_equal(world_prompts_total(f->w), 0);
}

static void test_reusable_context_reads_silently(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "secret", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    LAContextRef ctx = authenticated_context(60);
    uint64_t la_prompts = world_prompts_shown(f->w, WORLD_PROMPT_LA_EVALUATE);
    assert_int_equal(la_prompts, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(read_data_ctx(true, "k1", "secret", ctx), errSecSuccess);
        world_advance(f->w, 10000);
    }
    assert_int_equal(presence_prompts(f), 0);
    assert_int_equal(world_prompts_total(f->w), la_prompts);
    /* The window closes: the read prompts again. */
    world_advance(f->w, 60000);
    assert_int_equal(read_data_ctx(true, "k1", "secret", ctx), errSecSuccess);
    assert_int_equal(presence_prompts(f), 1);
    CFRelease(ctx);
}

static void test_unauthenticated_or_invalidated_context_prompts(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "secret", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    LAContextRef fresh = LAContextCreate();
    assert_int_equal(read_data_ctx(true, "k1", "secret", fresh), errSecSuccess);
    assert_int_equal(presence_prompts(f), 1);
    CFRelease(fresh);

    LAContextRef ctx = authenticated_context(60);
    LAContextInvalidate(ctx);
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    assert_int_equal(read_data_ctx(true, "k1", NULL, ctx), errSecUserCanceled);
    assert_int_equal(presence_prompts(f), 2);
    CFRelease(ctx);
}

static void test_context_does_not_survive_lock(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "secret", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    LAContextRef ctx = authenticated_context(300);
    assert_int_equal(world_device_lock(f->w), 0);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(read_data_ctx(true, "k1", "secret", ctx), errSecSuccess);
    assert_int_equal(presence_prompts(f), 1);
    CFRelease(ctx);
}

/* The class of an item with an access control is the access control's
 * protection: WhenUnlocked is unreadable after lock + grace, context or not. */
static void test_class_is_access_control_protection(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "secret", kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                                 kSecAccessControlUserPresence),
                     errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, &v));
    assert_true(v.has_access_control);
    assert_int_equal(v.accessible, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY);
    assert_int_equal(v.ac_flags, WORLD_AC_USER_PRESENCE);
    LAContextRef ctx = authenticated_context(300);
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 11000);
    assert_int_equal(read_data_ctx(true, "k1", NULL, ctx), errSecInteractionNotAllowed);
    assert_int_equal(read_attrs(true, "k1"), errSecInteractionNotAllowed);
    assert_int_equal(presence_prompts(f), 0);
    CFRelease(ctx);
}

/* Every matched item is gated: kSecMatchLimitAll over two presence items
 * prompts twice without a context. */
static void test_match_all_gates_each_item(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "a", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    assert_int_equal(add_item_ac(true, "k2", "b", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    CFMutableDictionaryRef d = gp(true, SVC, NULL);
    CFDictionarySetValue(d, kSecReturnData, kCFBooleanTrue);
    CFDictionarySetValue(d, kSecMatchLimit, kSecMatchLimitAll);
    CFTypeRef out = NULL;
    assert_int_equal(SecItemCopyMatching(d, &out), errSecSuccess);
    assert_int_equal(CFArrayGetCount(out), 2);
    CFRelease(out);
    assert_int_equal(presence_prompts(f), 2);
    world_user_queue(f->w, WORLD_ANSWER_APPROVE, 1);
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    out = NULL;
    assert_int_equal(SecItemCopyMatching(d, &out), errSecUserCanceled);
    assert_null(out);
    CFRelease(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_read_prompts_and_answers),
        FX_TEST(test_every_presence_flag_gates),
        FX_TEST(test_no_presence_flag_no_prompt),
        FX_TEST(test_attribute_read_and_delete_not_gated),
        FX_TEST(test_no_prompt_possible),
        FX_TEST(test_reusable_context_reads_silently),
        FX_TEST(test_unauthenticated_or_invalidated_context_prompts),
        FX_TEST(test_context_does_not_survive_lock),
        FX_TEST(test_class_is_access_control_protection),
        FX_TEST(test_match_all_gates_each_item),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
