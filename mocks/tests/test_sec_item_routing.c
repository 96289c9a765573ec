/* SecItem routing (domain.md §4): the file-based keychain unless
 * kSecUseDataProtectionKeychain or kSecAttrSynchronizable is true;
 * kSecAttrAccessible honoured only on the DP keychain; access groups and the
 * keychain-access-groups entitlement on the DP keychain. */
#include "test_sec_helpers.h"

static void test_default_is_file_keychain(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "secret-1", NULL), errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, &v));
    assert_null(v.access_group);
    assert_false(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, NULL));
    assert_true(journal_has(f->w, "SecItemAdd kc=file svc=" SVC " acct=k1"));
    /* A DP query does not see the file-based item. */
    assert_int_equal(read_data(true, "k1", NULL), errSecItemNotFound);
    assert_int_equal(read_data(false, "k1", "secret-1"), errSecSuccess);
}

static void test_dp_flag_routes_to_dp(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "secret-1", NULL), errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, &v));
    assert_false(v.synchronizable);
    assert_false(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, NULL));
    assert_true(journal_has(f->w, "SecItemAdd kc=dp svc=" SVC " acct=k1"));
    assert_int_equal(read_data(false, "k1", NULL), errSecItemNotFound);
    assert_int_equal(read_data(true, "k1", "secret-1"), errSecSuccess);
}

static void test_dp_flag_false_is_file(void **state) {
    fx *f = *state;
    CFMutableDictionaryRef d = gp(false, SVC, "k1");
    CFDictionarySetValue(d, kSecUseDataProtectionKeychain, kCFBooleanFalse);
    set_data(d, kSecValueData, "x");
    assert_int_equal(SecItemAdd(d, NULL), errSecSuccess);
    CFRelease(d);
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, NULL));
}

static void test_synchronizable_routes_to_dp(void **state) {
    fx *f = *state;
    CFMutableDictionaryRef d = gp(false, SVC, "k1");
    CFDictionarySetValue(d, kSecAttrSynchronizable, kCFBooleanTrue);
    set_data(d, kSecValueData, "synced");
    assert_int_equal(SecItemAdd(d, NULL), errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, &v));
    assert_true(v.synchronizable);
    assert_false(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, NULL));
    /* A query without the sync key sees only non-synchronizable items. */
    assert_int_equal(read_data(true, "k1", NULL), errSecItemNotFound);
    CFDictionarySetValue(d, kSecReturnData, kCFBooleanTrue);
    CFDictionaryRemoveValue(d, kSecValueData);
    CFTypeRef out = NULL;
    assert_int_equal(SecItemCopyMatching(d, &out), errSecSuccess);
    assert_int_equal(CFDataGetLength(out), 6);
    CFRelease(out);
    CFRelease(d);
}

static void test_same_key_in_both_keychains_are_distinct(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "file-secret", NULL), errSecSuccess);
    assert_int_equal(add_item(true, "k1", "dp-secret", NULL), errSecSuccess);
    assert_int_equal(world_item_count(f->w), 2);
    assert_int_equal(read_data(false, "k1", "file-secret"), errSecSuccess);
    assert_int_equal(read_data(true, "k1", "dp-secret"), errSecSuccess);
    assert_int_equal(delete_item(true, "k1"), errSecSuccess);
    assert_int_equal(read_data(false, "k1", "file-secret"), errSecSuccess);
}

/* The class WhenUnlocked is honoured on the DP keychain (unreadable once the
 * grace period after a lock is over) and has no effect on the file-based
 * keychain. */
static void test_accessible_honoured_only_on_dp(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "dp", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    assert_int_equal(add_item(false, "k1", "file", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 5000); /* inside the grace period */
    assert_int_equal(read_data(true, "k1", "dp"), errSecSuccess);
    world_advance(f->w, 6000); /* past it */
    assert_int_equal(read_data(true, "k1", NULL), errSecInteractionNotAllowed);
    assert_int_equal(read_data(false, "k1", "file"), errSecSuccess);
    /* Unlocking brings the class key back. */
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(read_data(true, "k1", "dp"), errSecSuccess);
}

static void test_dp_default_class_is_when_unlocked(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "wu", "a", NULL), errSecSuccess);
    assert_int_equal(add_item(true, "afu", "b", kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly),
                     errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "wu", GROUP, &v));
    assert_int_equal(v.accessible, WORLD_CLASS_WHEN_UNLOCKED);
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 60000);
    assert_int_equal(read_data(true, "wu", NULL), errSecInteractionNotAllowed);
    assert_int_equal(read_data(true, "afu", "b"), errSecSuccess);
}

static void test_file_accessible_stored_and_returned(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "x", kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly),
                     errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, &v));
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    CFMutableDictionaryRef d = gp(false, SVC, "k1");
    CFDictionarySetValue(d, kSecReturnAttributes, kCFBooleanTrue);
    CFTypeRef out = NULL;
    assert_int_equal(SecItemCopyMatching(d, &out), errSecSuccess);
    assert_true(CFEqual(CFDictionaryGetValue(out, kSecAttrAccessible),
                        kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly));
    CFRelease(out);
    CFRelease(d);
}

static void test_dp_add_gets_default_group(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, &v));
    assert_string_equal(v.access_group, GROUP);
    /* Naming the group explicitly finds it too. */
    CFMutableDictionaryRef d = gp(true, SVC, "k1");
    set_str(d, kSecAttrAccessGroup, GROUP);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecSuccess);
    CFRelease(d);
}

/* A query without a group sees only the groups the process is entitled to. */
static void test_dp_query_sees_only_entitled_groups(void **state) {
    fx *f = *state;
    world_item_view plant = {.keychain = WORLD_KEYCHAIN_DP,
                             .service = SVC,
                             .account = "k1",
                             .access_group = "OTHER.group",
                             .accessible = WORLD_CLASS_AFTER_FIRST_UNLOCK,
                             .data = (const unsigned char *)"theirs",
                             .data_len = 6};
    assert_int_equal(world_item_plant(f->w, &plant), 0);
    assert_int_equal(read_data(true, "k1", NULL), errSecItemNotFound);
    assert_int_equal(delete_item(true, "k1"), errSecItemNotFound);
    /* Our own item with the same service/account lives in our group. */
    assert_int_equal(add_item(true, "k1", "ours", NULL), errSecSuccess);
    assert_int_equal(read_data(true, "k1", "ours"), errSecSuccess);
    assert_int_equal(world_item_count(f->w), 2);
}

static void test_dp_missing_entitlement(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess);
    /* An unsigned build carries no entitlement at all. */
    world_pid tool = add_proc(f->w, "tool", "sshenc", false, GROUP, true, false);
    world_set_current(f->w, tool);
    assert_int_equal(add_item(true, "k2", "x", NULL), errSecMissingEntitlement);
    assert_int_equal(read_data(true, "k1", NULL), errSecMissingEntitlement);
    assert_int_equal(read_attrs(true, "k1"), errSecMissingEntitlement);
    assert_int_equal(delete_item(true, "k1"), errSecMissingEntitlement);
    CFMutableDictionaryRef q = gp(true, SVC, "k1");
    CFMutableDictionaryRef a = dict_new();
    set_data(a, kSecValueData, "y");
    assert_int_equal(SecItemUpdate(q, a), errSecMissingEntitlement);
    CFRelease(a);
    CFRelease(q);
    assert_int_equal(world_item_count(f->w), 1);
    assert_true(journal_has(f->w, "tool SecItemAdd kc=dp svc=" SVC " acct=k2"));
    assert_true(journal_has(f->w, "-> -34018 errSecMissingEntitlement"));
    /* The file-based keychain needs no entitlement. */
    assert_int_equal(add_item(false, "k2", "x", NULL), errSecSuccess);
}

static void test_dp_group_not_entitled(void **state) {
    fx *f = *state;
    CFMutableDictionaryRef d = gp(true, SVC, "k1");
    set_str(d, kSecAttrAccessGroup, "OTHER.group");
    set_data(d, kSecValueData, "x");
    assert_int_equal(SecItemAdd(d, NULL), errSecMissingEntitlement);
    CFDictionaryRemoveValue(d, kSecValueData);
    assert_int_equal(SecItemCopyMatching(d, NULL), errSecMissingEntitlement);
    CFRelease(d);
    assert_int_equal(world_item_count(f->w), 0);
}

/* On the file-based keychain the access group is ignored. */
static void test_file_ignores_access_group(void **state) {
    fx *f = *state;
    CFMutableDictionaryRef d = gp(false, SVC, "k1");
    set_str(d, kSecAttrAccessGroup, "ANY.group");
    set_data(d, kSecValueData, "x");
    assert_int_equal(SecItemAdd(d, NULL), errSecSuccess);
    CFRelease(d);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, &v));
    assert_null(v.access_group);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_default_is_file_keychain),
        FX_TEST(test_dp_flag_routes_to_dp),
        FX_TEST(test_dp_flag_false_is_file),
        FX_TEST(test_synchronizable_routes_to_dp),
        FX_TEST(test_same_key_in_both_keychains_are_distinct),
        FX_TEST(test_accessible_honoured_only_on_dp),
        FX_TEST(test_dp_default_class_is_when_unlocked),
        FX_TEST(test_file_accessible_stored_and_returned),
        FX_TEST(test_dp_add_gets_default_group),
        FX_TEST(test_dp_query_sees_only_entitled_groups),
        FX_TEST(test_dp_missing_entitlement),
        FX_TEST(test_dp_group_not_entitled),
        FX_TEST(test_file_ignores_access_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
