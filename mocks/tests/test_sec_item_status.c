/* Every OSStatus case of domain.md §4 that SecItem returns by itself:
 * -34018, both -50 cases, -50 for unknown keys and wrong value types,
 * -25299, -25300, the locked file-based keychain (-25308 without a GUI
 * session, the unlock prompt with one), -25307 and its explicit-login-keychain
 * escape, and errSecUnimplemented for classes the shim does not model. */
#include "test_sec_helpers.h"

#include <keyclass/cf_accounting.h>

/* ---- errSecParam ----------------------------------------------------------------- */

static void test_presence_access_control_on_file_keychain(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(false, "k1", "x", kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                                 kSecAccessControlUserPresence),
                     errSecParam);
    assert_int_equal(add_item_ac(false, "k2", "x", kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                                 kSecAccessControlBiometryAny),
                     errSecParam);
    assert_int_equal(add_item_ac(false, "k3", "x", kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                                 kSecAccessControlDevicePasscode),
                     errSecParam);
    assert_int_equal(world_item_count(f->w), 0);
    /* The same access control on the DP keychain is fine. */
    assert_int_equal(add_item_ac(true, "k1", "x", kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                                 kSecAccessControlUserPresence),
                     errSecSuccess);
    /* An access control without a presence flag is stored on the file keychain. */
    assert_int_equal(
        add_item_ac(false, "k4", "x", kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, 0),
        errSecSuccess);
}

static void test_accessible_and_access_control_together(void **state) {
    fx *f = *state;
    SecAccessControlRef ac = SecAccessControlCreateWithFlags(
        NULL, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, 0, NULL);
    assert_non_null(ac);
    for (int dp = 0; dp <= 1; dp++) {
        CFMutableDictionaryRef d = gp(dp, SVC, "k1");
        set_data(d, kSecValueData, "x");
        CFDictionarySetValue(d, kSecAttrAccessControl, ac);
        CFDictionarySetValue(d, kSecAttrAccessible,
                             kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly);
        assert_int_equal(SecItemAdd(d, NULL), errSecParam);
        CFRelease(d);
    }
    CFRelease(ac);
    assert_int_equal(world_item_count(f->w), 0);
}

static void test_unknown_key(void **state) {
    fx *f = *state;
    CFMutableDictionaryRef d = gp(true, SVC, "k1");
    set_data(d, kSecValueData, "x");
    set_str(d, CFSTR("bogus"), "y");
    assert_int_equal(SecItemAdd(d, NULL), errSecParam);
    CFDictionaryRemoveValue(d, kSecValueData);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecParam);
    assert_int_equal(SecItemDelete(d), errSecParam);
    CFRelease(d);
    /* A key that is not even a string. */
    d = gp(false, SVC, "k1");
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &(int){7});
    CFDictionarySetValue(d, n, n);
    CFRelease(n);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecParam);
    CFRelease(d);
    assert_int_equal(world_item_count(f->w), 0);
}

/* A raw-pointer dictionary with non-CF keys and values: errSecParam, no
 * crash, no CF misuse. */
static void test_non_cf_keys_and_values(void **state) {
    (void)state;
    static const char raw_key[] = "svce", raw_value[] = "x";
    const void *keys[] = {kSecClass, raw_key};
    const void *values[] = {kSecClassGenericPassword, raw_value};
    CFDictionaryRef d = CFDictionaryCreate(NULL, keys, values, 2, NULL, NULL);
    assert_non_null(d);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecParam);
    CFRelease(d);
    const void *keys2[] = {kSecClass, kSecAttrService};
    const void *values2[] = {kSecClassGenericPassword, raw_value};
    d = CFDictionaryCreate(NULL, keys2, values2, 2, NULL, NULL);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecParam);
    CFRelease(d);
    assert_int_equal(kc_cf_misuse_count(), 0);
}

static void test_wrong_value_types(void **state) {
    fx *f = *state;
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &(int){1});
    CFStringRef s = CFStringCreateWithCString(NULL, "text", kCFStringEncodingUTF8);
    CFDataRef data = CFDataCreate(NULL, (const UInt8 *)"d", 1);
    struct {
        CFStringRef key;
        CFTypeRef value;
    } cases[] = {
        {kSecAttrService, n},
        {kSecAttrAccount, data},
        {kSecAttrAccessGroup, kCFBooleanTrue},
        {kSecAttrLabel, n},
        {kSecValueData, s},
        {kSecAttrAccessible, s}, /* a string, but not a class */
        {kSecAttrAccessControl, s},
        {kSecAttrSynchronizable, s},
        {kSecUseDataProtectionKeychain, n},
        {kSecUseKeychain, s},
        {kSecUseAuthenticationContext, s},
        {kSecClass, n},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CFMutableDictionaryRef d = gp(false, SVC, "k1");
        set_data(d, kSecValueData, "x");
        CFDictionarySetValue(d, cases[i].key, cases[i].value);
        assert_int_equal(SecItemAdd(d, NULL), errSecParam);
        CFRelease(d);
    }
    struct {
        CFStringRef key;
        CFTypeRef value;
    } query_cases[] = {
        {kSecReturnData, s},    {kSecReturnAttributes, n}, {kSecMatchLimit, s},
        {kSecMatchLimit, data}, {kSecMatchSearchList, s},
    };
    for (size_t i = 0; i < sizeof query_cases / sizeof *query_cases; i++) {
        CFMutableDictionaryRef d = gp(false, SVC, "k1");
        CFDictionarySetValue(d, query_cases[i].key, query_cases[i].value);
        CFTypeRef out = NULL;
        assert_int_equal(SecItemCopyMatching(d, &out), errSecParam);
        assert_null(out);
        CFRelease(d);
    }
    /* A search list of something other than keychains. */
    const void *bad[] = {s};
    CFArrayRef list = CFArrayCreate(NULL, bad, 1, &kCFTypeArrayCallBacks);
    CFMutableDictionaryRef d = gp(false, SVC, "k1");
    CFDictionarySetValue(d, kSecMatchSearchList, list);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecParam);
    CFRelease(d);
    CFRelease(list);
    /* Strings with an embedded NUL. */
    CFStringRef nul =
        CFStringCreateWithBytes(NULL, (const UInt8 *)"a\0b", 3, kCFStringEncodingUTF8, false);
    d = gp(false, NULL, "k1");
    CFDictionarySetValue(d, kSecAttrService, nul);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecParam);
    CFRelease(d);
    CFRelease(nul);
    CFRelease(n);
    CFRelease(s);
    CFRelease(data);
    assert_int_equal(world_item_count(f->w), 0);
}

static void test_null_and_non_dictionary_queries(void **state) {
    (void)state;
    assert_int_equal(SecItemAdd(NULL, NULL), errSecParam);
    assert_int_equal(SecItemCopyMatching(NULL, NULL), errSecParam);
    assert_int_equal(SecItemDelete(NULL), errSecParam);
    assert_int_equal(SecItemUpdate(NULL, NULL), errSecParam);
    CFStringRef s = CFStringCreateWithCString(NULL, "not a dict", kCFStringEncodingUTF8);
    assert_int_equal(SecItemCopyMatching((CFDictionaryRef)s, NULL), errSecParam);
    CFRelease(s);
    assert_int_equal(kc_cf_misuse_count(), 0);
}

static void test_class_missing_or_other(void **state) {
    fx *f = *state;
    CFMutableDictionaryRef d = dict_new();
    set_str(d, kSecAttrService, SVC);
    set_data(d, kSecValueData, "x");
    assert_int_equal(SecItemAdd(d, NULL), errSecParam); /* no class */
    CFDictionarySetValue(d, kSecClass, CFSTR("inet"));
    assert_int_equal(SecItemAdd(d, NULL), errSecUnimplemented);
    CFDictionarySetValue(d, kSecClass, CFSTR("keys"));
    assert_int_equal(SecItemAdd(d, NULL), errSecUnimplemented);
    CFDictionarySetValue(d, kSecClass, CFSTR("nonsense"));
    assert_int_equal(SecItemAdd(d, NULL), errSecParam);
    /* A runtime-created "genp" is the generic-password class too. */
    set_str(d, kSecClass, "genp");
    assert_int_equal(SecItemAdd(d, NULL), errSecSuccess);
    CFRelease(d);
    assert_int_equal(world_item_count(f->w), 1);
}

/* Keys that do not belong to an operation. */
static void test_keys_per_operation(void **state) {
    (void)state;
    CFMutableDictionaryRef d = gp(false, SVC, "k1");
    set_data(d, kSecValueData, "x");
    CFDictionarySetValue(d, kSecMatchLimit, kSecMatchLimitOne);
    assert_int_equal(SecItemAdd(d, NULL), errSecParam);
    CFDictionaryRemoveValue(d, kSecMatchLimit);
    CFDictionarySetValue(d, kSecReturnData, kCFBooleanTrue);
    CFTypeRef out = (CFTypeRef)(uintptr_t)1;
    assert_int_equal(SecItemAdd(d, &out), errSecUnimplemented);
    assert_null(out);
    CFDictionaryRemoveValue(d, kSecReturnData);
    assert_int_equal(SecItemAdd(d, &out), errSecSuccess);
    assert_null(out);
    /* Data in a search query. */
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecParam);
    assert_int_equal(SecItemDelete(d), errSecParam);
    CFDictionaryRemoveValue(d, kSecValueData);
    /* Return keys in a delete. */
    CFDictionarySetValue(d, kSecReturnData, kCFBooleanTrue);
    assert_int_equal(SecItemDelete(d), errSecParam);
    CFRelease(d);
}

/* ---- Duplicate and not found ------------------------------------------------------------ */

static void test_duplicate_item(void **state) {
    fx *f = *state;
    for (int dp = 0; dp <= 1; dp++) {
        assert_int_equal(add_item(dp, "k1", "first", NULL), errSecSuccess);
        assert_int_equal(add_item(dp, "k1", "second", NULL), errSecDuplicateItem);
        assert_int_equal(read_data(dp, "k1", "first"), errSecSuccess);
    }
    assert_int_equal(world_item_count(f->w), 2);
    assert_true(journal_has(f->w, "-> -25299 errSecDuplicateItem"));
    /* A different account, or a different class, is a different item /
     * the same item: the class is not part of the primary key. */
    assert_int_equal(add_item(true, "k2", "x", NULL), errSecSuccess);
    assert_int_equal(add_item(true, "k2", "x", kSecAttrAccessibleAlways), errSecDuplicateItem);
}

static void test_item_not_found(void **state) {
    fx *f = *state;
    for (int dp = 0; dp <= 1; dp++) {
        assert_int_equal(read_data(dp, "none", NULL), errSecItemNotFound);
        assert_int_equal(read_attrs(dp, "none"), errSecItemNotFound);
        assert_int_equal(delete_item(dp, "none"), errSecItemNotFound);
        CFMutableDictionaryRef q = gp(dp, SVC, "none");
        CFMutableDictionaryRef a = dict_new();
        set_data(a, kSecValueData, "y");
        assert_int_equal(SecItemUpdate(q, a), errSecItemNotFound);
        CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitAll);
        CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
        CFTypeRef out = NULL;
        assert_int_equal(SecItemCopyMatching(q, &out), errSecItemNotFound);
        assert_null(out);
        CFRelease(a);
        CFRelease(q);
    }
    assert_int_equal(world_item_mutations(f->w), 0);
    assert_true(journal_has(f->w, "-> -25300 errSecItemNotFound"));
}

/* ---- Locked file-based keychain ---------------------------------------------------------- */

static void test_locked_file_keychain_without_gui(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecSuccess);
    world_pid daemon = add_proc(f->w, "daemon", "sshenc", true, GROUP, false, false);
    world_set_current(f->w, daemon);
    assert_int_equal(world_login_keychain_lock(f->w), 0);
    assert_int_equal(read_data(false, "k1", NULL), errSecInteractionNotAllowed);
    assert_int_equal(add_item(false, "k2", "x", NULL), errSecInteractionNotAllowed);
    assert_int_equal(delete_item(false, "k1"), errSecInteractionNotAllowed);
    assert_int_equal(world_prompts_total(f->w), 0);
    assert_true(world_login_keychain_locked(f->w));
    assert_int_equal(world_item_count(f->w), 1);
    /* Attributes stay readable; the DP keychain does not care. */
    assert_int_equal(read_attrs(false, "k1"), errSecSuccess);
    assert_int_equal(add_item(true, "k1", "y", NULL), errSecSuccess);
    assert_int_equal(read_data(true, "k1", "y"), errSecSuccess);
}

static void test_locked_file_keychain_prompts_with_gui(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecSuccess);
    assert_int_equal(world_login_keychain_lock(f->w), 0);

    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    assert_int_equal(read_data(false, "k1", NULL), errSecUserCanceled);
    world_user_queue(f->w, WORLD_ANSWER_ABSENT, 1);
    assert_int_equal(read_data(false, "k1", NULL), errSecUserCanceled);
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    assert_int_equal(read_data(false, "k1", NULL), errSecAuthFailed);
    assert_true(world_login_keychain_locked(f->w));
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_UNLOCK), 3);

    world_user_queue(f->w, WORLD_ANSWER_APPROVE, 1);
    assert_int_equal(read_data(false, "k1", "x"), errSecSuccess);
    assert_false(world_login_keychain_locked(f->w));
    assert_int_equal(read_data(false, "k1", "x"), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_UNLOCK), 4);
    assert_true(journal_has(f->w, "prompt file-unlock proc=agent"));
}

static void test_locked_file_keychain_attribute_read_never_prompts(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecSuccess);
    assert_int_equal(world_login_keychain_lock(f->w), 0);
    assert_int_equal(read_attrs(false, "k1"), errSecSuccess);
    assert_int_equal(read_attrs(false, "nothing"), errSecItemNotFound);
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecDuplicateItem);
    assert_int_equal(world_prompts_total(f->w), 0);
    assert_true(world_login_keychain_locked(f->w));
}

static void test_locked_file_keychain_add_prompts(void **state) {
    fx *f = *state;
    assert_int_equal(world_login_keychain_lock(f->w), 0);
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecUserCanceled);
    assert_int_equal(world_item_count(f->w), 0);
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecSuccess); /* default: approve */
    assert_int_equal(world_item_count(f->w), 1);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_FILE_UNLOCK), 2);
}

/* ---- No default keychain ------------------------------------------------------------------ */

static CFArrayRef login_search_list(void) {
    SecKeychainRef kc = NULL;
    assert_int_equal(SecKeychainOpen(SEC_LOGIN_KEYCHAIN_PATH, &kc), errSecSuccess);
    const void *values[] = {kc};
    CFArrayRef list = CFArrayCreate(NULL, values, 1, &kCFTypeArrayCallBacks);
    CFRelease(kc);
    return list;
}

static void test_no_default_keychain(void **state) {
    fx *f = *state;
    world_pid homeless = add_proc(f->w, "homeless", "sshenc", true, GROUP, true, true);
    world_set_current(f->w, homeless);
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecNoDefaultKeychain);
    assert_int_equal(read_data(false, "k1", NULL), errSecNoDefaultKeychain);
    assert_int_equal(delete_item(false, "k1"), errSecNoDefaultKeychain);
    assert_int_equal(world_item_count(f->w), 0);
    assert_true(journal_has(f->w, "-> -25307 errSecNoDefaultKeychain"));
    /* The DP keychain is not affected. */
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess);
}

static void test_no_default_keychain_explicit_login_keychain(void **state) {
    fx *f = *state;
    world_pid homeless = add_proc(f->w, "homeless", "sshenc", true, GROUP, true, true);
    world_set_current(f->w, homeless);
    SecKeychainRef kc = NULL;
    assert_int_equal(SecKeychainOpen(SEC_LOGIN_KEYCHAIN_PATH, &kc), errSecSuccess);

    /* Add: kSecUseKeychain names it. */
    CFMutableDictionaryRef d = gp(false, SVC, "k1");
    set_data(d, kSecValueData, "secret");
    CFDictionarySetValue(d, kSecUseKeychain, kc);
    assert_int_equal(SecItemAdd(d, NULL), errSecSuccess);
    CFRelease(d);
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, NULL));

    /* kSecUseKeychain does not name a keychain for a search (Apple documents
     * it for SecItemAdd only). */
    d = gp(false, SVC, "k1");
    CFDictionarySetValue(d, kSecUseKeychain, kc);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecNoDefaultKeychain);
    CFRelease(d);

    /* Copy / update / delete: kSecMatchSearchList names it. */
    CFArrayRef list = login_search_list();
    d = gp(false, SVC, "k1");
    CFDictionarySetValue(d, kSecMatchSearchList, list);
    CFDictionarySetValue(d, kSecReturnData, kCFBooleanTrue);
    CFTypeRef out = NULL;
    assert_int_equal(SecItemCopyMatching(d, &out), errSecSuccess);
    assert_int_equal(CFDataGetLength(out), 6);
    CFRelease(out);
    CFDictionaryRemoveValue(d, kSecReturnData);
    CFMutableDictionaryRef a = dict_new();
    set_data(a, kSecValueData, "other");
    assert_int_equal(SecItemUpdate(d, a), errSecSuccess);
    CFRelease(a);
    assert_int_equal(SecItemDelete(d), errSecSuccess);
    CFRelease(d);
    CFRelease(list);
    CFRelease(kc);
    assert_int_equal(world_item_count(f->w), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_presence_access_control_on_file_keychain),
        FX_TEST(test_accessible_and_access_control_together),
        FX_TEST(test_unknown_key),
        FX_TEST(test_non_cf_keys_and_values),
        FX_TEST(test_wrong_value_types),
        FX_TEST(test_null_and_non_dictionary_queries),
        FX_TEST(test_class_missing_or_other),
        FX_TEST(test_keys_per_operation),
        FX_TEST(test_duplicate_item),
        FX_TEST(test_item_not_found),
        FX_TEST(test_locked_file_keychain_without_gui),
        FX_TEST(test_locked_file_keychain_prompts_with_gui),
        FX_TEST(test_locked_file_keychain_attribute_read_never_prompts),
        FX_TEST(test_locked_file_keychain_add_prompts),
        FX_TEST(test_no_default_keychain),
        FX_TEST(test_no_default_keychain_explicit_login_keychain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
