/* SecKeychain: the login keychain as a CF object; CopyDefault (none reachable
 * with an overridden HOME), Open by path, Unlock with a password or through
 * the file-keychain unlock prompt. Every call is journaled. */
#include "test_sec_helpers.h"

static void test_copy_default(void **state) {
    fx *f = *state;
    SecKeychainRef kc = NULL;
    assert_int_equal(SecKeychainCopyDefault(&kc), errSecSuccess);
    assert_non_null(kc);
    assert_int_equal(CFGetTypeID(kc), SecKeychainGetTypeID());
    assert_int_equal(CFGetRetainCount(kc), 1);
    CFRelease(kc);
    assert_true(journal_has(f->w, "agent SecKeychain kc=file CopyDefault -> 0"));
    assert_int_equal(SecKeychainCopyDefault(NULL), errSecParam);
}

static void test_copy_default_without_home(void **state) {
    fx *f = *state;
    world_set_current(f->w, add_proc(f->w, "homeless", "sshenc", true, GROUP, true, true));
    SecKeychainRef kc = (SecKeychainRef)(uintptr_t)1;
    assert_int_equal(SecKeychainCopyDefault(&kc), errSecNoDefaultKeychain);
    assert_null(kc);
    /* The login keychain by explicit path still opens. */
    assert_int_equal(SecKeychainOpen(SEC_LOGIN_KEYCHAIN_PATH, &kc), errSecSuccess);
    CFRelease(kc);
    assert_int_equal(SecKeychainOpen("/Users/someone/Library/Keychains/login.keychain-db", &kc),
                     errSecSuccess);
    CFRelease(kc);
}

static void test_open_other_paths(void **state) {
    fx *f = *state;
    SecKeychainRef kc = (SecKeychainRef)(uintptr_t)1;
    assert_int_equal(SecKeychainOpen("/tmp/other.keychain", &kc), errSecParam);
    assert_null(kc);
    assert_int_equal(SecKeychainOpen("login.keychain-db", &kc), errSecParam);
    assert_int_equal(SecKeychainOpen(NULL, &kc), errSecParam);
    assert_int_equal(SecKeychainOpen(SEC_LOGIN_KEYCHAIN_PATH, NULL), errSecParam);
    assert_true(journal_has(f->w, "SecKeychain kc=file path=/tmp/other.keychain Open -> -50"));
}

static void test_unlock_with_password(void **state) {
    fx *f = *state;
    assert_int_equal(world_login_keychain_lock(f->w), 0);
    SecKeychainRef kc = NULL;
    assert_int_equal(SecKeychainCopyDefault(&kc), errSecSuccess);
    assert_int_equal(SecKeychainUnlock(kc, 4, "pass", true), errSecSuccess);
    assert_false(world_login_keychain_locked(f->w));
    assert_int_equal(world_prompts_total(f->w), 0);
    assert_int_equal(SecKeychainUnlock(kc, 4, NULL, true), errSecParam);
    CFRelease(kc);
}

static void test_unlock_with_prompt(void **state) {
    fx *f = *state;
    assert_int_equal(world_login_keychain_lock(f->w), 0);
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    world_user_queue(f->w, WORLD_ANSWER_ABSENT, 1);
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecUserCanceled);
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecAuthFailed);
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecUserCanceled);
    assert_true(world_login_keychain_locked(f->w));
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecSuccess);
    assert_false(world_login_keychain_locked(f->w));
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_UNLOCK), 4);
    /* Already unlocked: no prompt. */
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_UNLOCK), 4);
}

static void test_unlock_without_gui_or_home(void **state) {
    fx *f = *state;
    assert_int_equal(world_login_keychain_lock(f->w), 0);
    world_set_current(f->w, add_proc(f->w, "daemon", "sshenc", true, GROUP, false, false));
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecInteractionNotAllowed);
    world_set_current(f->w, add_proc(f->w, "homeless", "sshenc", true, GROUP, true, true));
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecNoDefaultKeychain);
    CFStringRef s = CFStringCreateWithCString(NULL, "x", kCFStringEncodingUTF8);
    assert_int_equal(SecKeychainUnlock((SecKeychainRef)(uintptr_t)s, 0, NULL, false), errSecParam);
    CFRelease(s);
    assert_int_equal(world_prompts_total(f->w), 0);
    assert_true(world_login_keychain_locked(f->w));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_copy_default),       FX_TEST(test_copy_default_without_home),
        FX_TEST(test_open_other_paths),   FX_TEST(test_unlock_with_password),
        FX_TEST(test_unlock_with_prompt), FX_TEST(test_unlock_without_gui_or_home),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
