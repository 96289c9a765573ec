/* SecItemUpdate (domain.md §4): changes attributes and data in place, in one
 * step; kSecAttrAccessControl cannot be changed (errSecParam); changing
 * kSecAttrAccessible on the DP keychain needs the old and the new class key;
 * nothing matched: errSecItemNotFound; a new primary key that exists:
 * errSecDuplicateItem. */
#include "test_sec_helpers.h"

#define AFU kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly

static OSStatus update(bool dp, const char *account, CFDictionaryRef attrs) {
    CFMutableDictionaryRef q = gp(dp, SVC, account);
    OSStatus st = SecItemUpdate(q, attrs);
    CFRelease(q);
    return st;
}

static void test_update_data_in_place(void **state) {
    fx *f = *state;
    for (int dp = 0; dp <= 1; dp++) {
        assert_int_equal(add_item(dp, "k1", "old", NULL), errSecSuccess);
        uint64_t mutations = world_item_mutations(f->w);
        size_t count = world_item_count(f->w);
        CFMutableDictionaryRef a = dict_new();
        set_data(a, kSecValueData, "new-value");
        assert_int_equal(update(dp, "k1", a), errSecSuccess);
        CFRelease(a);
        assert_int_equal(read_data(dp, "k1", "new-value"), errSecSuccess);
        /* One write, no delete + add: the item never left the store. */
        assert_int_equal(world_item_mutations(f->w), mutations + 1);
        assert_int_equal(world_item_count(f->w), count);
        world_item_view v;
        assert_true(world_item_find(f->w, dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE, SVC, "k1",
                                    dp ? GROUP : NULL, &v));
        assert_int_equal(v.writes, 2);
    }
    assert_true(journal_has(f->w, "SecItemUpdate kc=dp svc=" SVC " acct=k1 size=9 -> 0"));
}

static void test_update_access_control_is_param(void **state) {
    fx *f = *state;
    assert_int_equal(add_item_ac(true, "k1", "x", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    SecAccessControlRef ac = SecAccessControlCreateWithFlags(NULL, AFU, 0, NULL);
    CFMutableDictionaryRef a = dict_new();
    CFDictionarySetValue(a, kSecAttrAccessControl, ac);
    assert_int_equal(update(true, "k1", a), errSecParam);
    CFRelease(a);
    CFRelease(ac);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, &v));
    assert_int_equal(v.ac_flags, WORLD_AC_USER_PRESENCE);
    assert_int_equal(v.writes, 1);
    /* Changing the class of an item that has an access control: also -50. */
    a = dict_new();
    CFDictionarySetValue(a, kSecAttrAccessible, kSecAttrAccessibleAlways);
    assert_int_equal(update(true, "k1", a), errSecParam);
    CFRelease(a);
}

static void test_update_accessible_on_dp(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "x", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    CFMutableDictionaryRef a = dict_new();
    CFDictionarySetValue(a, kSecAttrAccessible, AFU);
    assert_int_equal(update(true, "k1", a), errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, &v));
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    /* The new class is in force: readable after lock + grace. */
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 60000);
    assert_int_equal(read_data(true, "k1", "x"), errSecSuccess);
    /* Back to WhenUnlocked needs the WhenUnlocked key: not while locked. */
    CFDictionarySetValue(a, kSecAttrAccessible, kSecAttrAccessibleWhenUnlocked);
    assert_int_equal(update(true, "k1", a), errSecInteractionNotAllowed);
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, &v));
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    CFRelease(a);
}

static void test_update_needs_old_class_key(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "x", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 60000);
    CFMutableDictionaryRef a = dict_new();
    CFDictionarySetValue(a, kSecAttrAccessible, AFU);
    assert_int_equal(update(true, "k1", a), errSecInteractionNotAllowed);
    CFRelease(a);
    a = dict_new();
    set_data(a, kSecValueData, "y");
    assert_int_equal(update(true, "k1", a), errSecInteractionNotAllowed);
    CFRelease(a);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "k1", GROUP, &v));
    assert_int_equal(v.accessible, WORLD_CLASS_WHEN_UNLOCKED);
    assert_int_equal(v.writes, 1);
}

static void test_update_accessible_on_file_is_stored(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(false, "k1", "x", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    CFMutableDictionaryRef a = dict_new();
    CFDictionarySetValue(a, kSecAttrAccessible, AFU);
    assert_int_equal(update(false, "k1", a), errSecSuccess);
    CFRelease(a);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_FILE, SVC, "k1", NULL, &v));
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
}

static void test_update_rekey(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "old", "x", NULL), errSecSuccess);
    assert_int_equal(add_item(true, "other", "y", NULL), errSecSuccess);
    CFMutableDictionaryRef a = dict_new();
    set_str(a, kSecAttrAccount, "new");
    assert_int_equal(update(true, "old", a), errSecSuccess);
    assert_int_equal(read_data(true, "old", NULL), errSecItemNotFound);
    assert_int_equal(read_data(true, "new", "x"), errSecSuccess);
    /* Renaming onto an existing primary key: duplicate, nothing changes. */
    set_str(a, kSecAttrAccount, "other");
    assert_int_equal(update(true, "new", a), errSecDuplicateItem);
    assert_int_equal(read_data(true, "new", "x"), errSecSuccess);
    assert_int_equal(read_data(true, "other", "y"), errSecSuccess);
    CFRelease(a);
    /* Insertion order is kept across a rename. */
    world_item_view v;
    assert_true(world_item_at(f->w, 0, &v));
    assert_string_equal(v.account, "new");
}

static void test_update_not_found(void **state) {
    (void)state;
    CFMutableDictionaryRef a = dict_new();
    set_data(a, kSecValueData, "y");
    assert_int_equal(update(true, "none", a), errSecItemNotFound);
    assert_int_equal(update(false, "none", a), errSecItemNotFound);
    CFRelease(a);
}

static void test_update_invalid_attributes(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess);
    CFMutableDictionaryRef a = dict_new();
    assert_int_equal(update(true, "k1", a), errSecParam); /* nothing to update */
    CFDictionarySetValue(a, kSecClass, kSecClassGenericPassword);
    assert_int_equal(update(true, "k1", a), errSecParam);
    CFRelease(a);
    a = dict_new();
    CFDictionarySetValue(a, kSecAttrSynchronizable, kCFBooleanTrue);
    assert_int_equal(update(true, "k1", a), errSecParam);
    CFRelease(a);
    a = dict_new();
    CFDictionarySetValue(a, kSecUseDataProtectionKeychain, kCFBooleanTrue);
    assert_int_equal(update(true, "k1", a), errSecParam);
    CFRelease(a);
    a = dict_new();
    set_str(a, CFSTR("bogus"), "x");
    assert_int_equal(update(true, "k1", a), errSecParam);
    CFRelease(a);
    a = dict_new();
    set_str(a, kSecValueData, "a string, not data");
    assert_int_equal(update(true, "k1", a), errSecParam);
    CFRelease(a);
    assert_int_equal(update(true, "k1", NULL), errSecParam);
    assert_int_equal(read_data(true, "k1", "x"), errSecSuccess);
    assert_int_equal(world_item_mutations(f->w), 1);
}

/* Several matches are updated together, or none is. */
static void test_update_all_or_nothing(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "a", "1", AFU), errSecSuccess);
    assert_int_equal(add_item(true, "b", "2", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 60000);
    CFMutableDictionaryRef q = gp(true, SVC, NULL);
    CFMutableDictionaryRef a = dict_new();
    set_str(a, kSecAttrLabel, "L");
    assert_int_equal(SecItemUpdate(q, a), errSecInteractionNotAllowed);
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "a", GROUP, &v));
    assert_int_equal(v.writes, 1);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(SecItemUpdate(q, a), errSecSuccess);
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "a", GROUP, &v));
    assert_int_equal(v.writes, 2);
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "b", GROUP, &v));
    assert_int_equal(v.writes, 2);
    CFRelease(a);
    CFRelease(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_update_data_in_place),
        FX_TEST(test_update_access_control_is_param),
        FX_TEST(test_update_accessible_on_dp),
        FX_TEST(test_update_needs_old_class_key),
        FX_TEST(test_update_accessible_on_file_is_stored),
        FX_TEST(test_update_rekey),
        FX_TEST(test_update_not_found),
        FX_TEST(test_update_invalid_attributes),
        FX_TEST(test_update_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
