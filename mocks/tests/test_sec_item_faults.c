/* SecItem, SecAccessControl and SecKeychain calls pass through the world's one
 * entry hook: the fault plan (nth / times / process / service-account glob)
 * decides first, an injected status replaces the call (no effect, *result
 * NULL), and every call — faulted or not — is journaled with its key
 * arguments and never with secret bytes. Crashed processes' calls have no
 * effect. Same seed and calls: byte-identical journals. */
#include "test_sec_helpers.h"

static void fault(world *w, world_api api, int32_t status, unsigned nth, unsigned times,
                  world_pid proc, const char *match) {
    world_fault f = {
        .api = api, .status = status, .nth = nth, .times = times, .proc = proc, .match = match};
    world_fault_add(w, &f);
}

static void test_nth_and_times(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess);
    fault(f->w, WORLD_API_SEC_ITEM_COPY_MATCHING, errSecInteractionNotAllowed, 2, 2, -1, NULL);
    assert_int_equal(read_data(true, "k1", "x"), errSecSuccess);
    assert_int_equal(read_data(true, "k1", NULL), errSecInteractionNotAllowed);
    assert_int_equal(read_data(true, "k1", NULL), errSecInteractionNotAllowed);
    assert_int_equal(read_data(true, "k1", "x"), errSecSuccess);
    assert_int_equal(world_calls_made(f->w, WORLD_API_SEC_ITEM_COPY_MATCHING), 4);
    char line[600];
    assert_true(journal_last_line(f->w, "injected", line, sizeof line));
    assert_non_null(strstr(line, "agent SecItemCopyMatching kc=dp svc=" SVC " acct=k1"));
    assert_non_null(strstr(line, "-> -25308 errSecInteractionNotAllowed"));
}

static void test_always_and_arbitrary_status(void **state) {
    fx *f = *state;
    fault(f->w, WORLD_API_SEC_ITEM_ADD, 12345, 1, 0, -1, NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(add_item(true, "k1", "x", NULL), 12345);
    assert_int_equal(world_item_count(f->w), 0); /* no effect */
    assert_int_equal(world_item_mutations(f->w), 0);
    assert_true(journal_has(f->w, "SecItemAdd kc=dp svc=" SVC " acct=k1 class=WhenUnlocked size=1 "
                                  "injected -> 12345"));
}

static void test_match_glob(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecSuccess);
    assert_int_equal(add_item(false, "k2", "y", NULL), errSecSuccess);
    fault(f->w, WORLD_API_SEC_ITEM_COPY_MATCHING, errSecAuthFailed, 1, 0, -1, "*/k2");
    assert_int_equal(read_data(false, "k1", "x"), errSecSuccess);
    assert_int_equal(read_data(false, "k2", NULL), errSecAuthFailed);
    fault(f->w, WORLD_API_SEC_ITEM_DELETE, errSecInteractionRequired, 1, 1, -1, SVC "/k*");
    assert_int_equal(delete_item(false, "k1"), errSecInteractionRequired);
    assert_int_equal(delete_item(false, "k1"), errSecSuccess);
}

static void test_process_filter(void **state) {
    fx *f = *state;
    world_pid other = add_proc(f->w, "other", "sshenc", true, GROUP, true, false);
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess);
    fault(f->w, WORLD_API_SEC_ITEM_COPY_MATCHING, errSecMissingEntitlement, 1, 0, other, NULL);
    assert_int_equal(read_data(true, "k1", "x"), errSecSuccess);
    world_set_current(f->w, other);
    assert_int_equal(read_data(true, "k1", NULL), errSecMissingEntitlement);
}

static void test_faulted_copy_and_update_have_no_effect(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecSuccess);
    fault(f->w, WORLD_API_SEC_ITEM_COPY_MATCHING, errSecSuccess, 1, 1, -1, NULL);
    CFMutableDictionaryRef q = gp(false, SVC, "k1");
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    CFTypeRef out = (CFTypeRef)(uintptr_t)1;
    assert_int_equal(SecItemCopyMatching(q, &out), errSecSuccess); /* injected 0 */
    assert_null(out);
    CFRelease(q);
    fault(f->w, WORLD_API_SEC_ITEM_UPDATE, errSecDecode, 1, 1, -1, NULL);
    q = gp(false, SVC, "k1");
    CFMutableDictionaryRef a = dict_new();
    set_data(a, kSecValueData, "new");
    assert_int_equal(SecItemUpdate(q, a), errSecDecode);
    CFRelease(a);
    CFRelease(q);
    assert_int_equal(read_data(false, "k1", "x"), errSecSuccess);
    /* A faulted call shows no prompt. */
    world_set_current(f->w, add_proc(f->w, "tool", "sshenc", false, NULL, true, false));
    fault(f->w, WORLD_API_SEC_ITEM_COPY_MATCHING, errSecAuthFailed, 1, 1, -1, NULL);
    assert_int_equal(read_data(false, "k1", NULL), errSecAuthFailed);
    assert_int_equal(world_prompts_total(f->w), 0);
}

/* Rejected calls (bad parameters) are journaled and counted too. */
static void test_rejected_calls_are_journaled(void **state) {
    fx *f = *state;
    CFMutableDictionaryRef d = gp(true, SVC, "k1");
    set_str(d, CFSTR("bogus"), "x");
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecParam);
    CFRelease(d);
    assert_int_equal(world_calls_made(f->w, WORLD_API_SEC_ITEM_COPY_MATCHING), 1);
    assert_true(
        journal_has(f->w, "SecItemCopyMatching kc=dp svc=" SVC " acct=k1 -> -50 errSecParam"));
}

static void test_journal_never_holds_secrets(void **state) {
    fx *f = *state;
    static const char secret[] = "TOPSECRETWRAPPINGKEYBYTES0123456";
    assert_int_equal(add_item(true, "k1", secret, NULL), errSecSuccess);
    assert_int_equal(add_item(false, "k1", secret, NULL), errSecSuccess);
    assert_int_equal(add_item_ac(true, "k2", secret, kSecAttrAccessibleAfterFirstUnlock,
                                 kSecAccessControlUserPresence),
                     errSecSuccess);
    assert_int_equal(read_data(true, "k1", secret), errSecSuccess);
    assert_int_equal(read_data(true, "k2", secret), errSecSuccess);
    world_set_current(f->w, add_proc(f->w, "tool", "sshenc", false, NULL, true, false));
    assert_int_equal(read_data(false, "k1", secret), errSecSuccess);
    CFMutableDictionaryRef q = gp(false, SVC, "k1");
    CFMutableDictionaryRef a = dict_new();
    set_data(a, kSecValueData, secret);
    assert_int_equal(SecItemUpdate(q, a), errSecSuccess);
    CFRelease(a);
    CFRelease(q);
    assert_null(strstr(world_journal(f->w), "TOPSECRET"));
    assert_true(journal_has(f->w, "size=32"));
    assert_true(journal_has(f->w, "class=AfterFirstUnlock flags=0x1"));
}

static void test_crashed_process_calls_have_no_effect(void **state) {
    fx *f = *state;
    world_fault_crash(f->w, f->agent, WORLD_API_SEC_ITEM_ADD, 1);
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess); /* runs, then crash */
    assert_true(world_process_crashed(f->w, f->agent));
    assert_int_equal(add_item(true, "k2", "x", NULL), errSecNotAvailable);
    assert_int_equal(delete_item(true, "k1"), errSecNotAvailable);
    assert_int_equal(world_item_count(f->w), 1);
    world_process_restart(f->w, f->agent);
    assert_int_equal(read_data(true, "k1", "x"), errSecSuccess);
}

static void test_access_control_create_fault(void **state) {
    fx *f = *state;
    fault(f->w, WORLD_API_SEC_ACCESS_CONTROL_CREATE, errSecAllocate, 1, 1, -1, NULL);
    CFErrorRef error = NULL;
    SecAccessControlRef ac =
        SecAccessControlCreateWithFlags(NULL, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                                        kSecAccessControlUserPresence, &error);
    assert_null(ac);
    assert_non_null(error);
    assert_true(CFEqual(CFErrorGetDomain(error), kCFErrorDomainOSStatus));
    assert_int_equal(CFErrorGetCode(error), errSecAllocate);
    CFRelease(error);
    assert_true(journal_has(f->w, "SecAccessControlCreateWithFlags "
                                  "class=AfterFirstUnlockThisDeviceOnly flags=0x1 injected "
                                  "-> -108 errSecAllocate"));
    /* Next call is fine. */
    ac = SecAccessControlCreateWithFlags(NULL, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                                         kSecAccessControlUserPresence, &error);
    assert_non_null(ac);
    assert_null(error);
    CFRelease(ac);
    assert_int_equal(world_calls_made(f->w, WORLD_API_SEC_ACCESS_CONTROL_CREATE), 2);
}

static void test_keychain_call_fault(void **state) {
    fx *f = *state;
    fault(f->w, WORLD_API_SEC_KEYCHAIN, errSecNoDefaultKeychain, 1, 1, -1, NULL);
    SecKeychainRef kc = (SecKeychainRef)(uintptr_t)1;
    assert_int_equal(SecKeychainCopyDefault(&kc), errSecNoDefaultKeychain);
    assert_null(kc);
    assert_int_equal(SecKeychainCopyDefault(&kc), errSecSuccess);
    CFRelease(kc);
    assert_true(journal_has(f->w, "SecKeychain kc=file CopyDefault injected -> -25307"));
}

/* Two worlds, same seed, same calls: identical journals. */
static void run_script(world *w) {
    world_activate(w);
    assert_int_equal(world_device_boot(w), 0);
    assert_int_equal(world_device_unlock(w), 0);
    world_pid agent = add_proc(w, "agent", "sshenc", true, GROUP, true, false);
    world_pid tool = add_proc(w, "tool", "sshenc", false, NULL, true, false);
    world_set_current(w, agent);
    (void)add_item(true, "a", "1", kSecAttrAccessibleWhenUnlocked);
    (void)add_item(false, "b", "2", NULL);
    (void)add_item_ac(true, "c", "3", kSecAttrAccessibleAfterFirstUnlock,
                      kSecAccessControlUserPresence);
    (void)read_data(true, "c", NULL);
    world_set_current(w, tool);
    world_user_queue(w, WORLD_ANSWER_FAIL, 1);
    (void)read_data(false, "b", NULL);
    (void)read_data(false, "b", NULL);
    world_set_current(w, agent);
    (void)world_device_lock(w);
    world_advance(w, 15000);
    (void)read_data(true, "a", NULL);
    (void)delete_item(false, "b");
}

static void test_determinism(void **state) {
    fx *f = *state;
    world *w1 = world_new(42), *w2 = world_new(42);
    run_script(w1);
    run_script(w2);
    assert_int_equal(world_journal_length(w1), world_journal_length(w2));
    assert_string_equal(world_journal(w1), world_journal(w2));
    world_free(w1);
    world_free(w2);
    world_activate(f->w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_nth_and_times),
        FX_TEST(test_always_and_arbitrary_status),
        FX_TEST(test_match_glob),
        FX_TEST(test_process_filter),
        FX_TEST(test_faulted_copy_and_update_have_no_effect),
        FX_TEST(test_rejected_calls_are_journaled),
        FX_TEST(test_journal_never_holds_secrets),
        FX_TEST(test_crashed_process_calls_have_no_effect),
        FX_TEST(test_access_control_create_fault),
        FX_TEST(test_keychain_call_fault),
        FX_TEST(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
