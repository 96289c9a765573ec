/* DP items and the keybag (domain.md §3): reading, adding or updating an item
 * whose class key is unavailable returns -25308; passcode removal deletes
 * every WhenPasscodeSet item; a lost class key comes back at the next
 * unlock; a destroyed one never does and its items stay, unreadable. */
#include "test_sec_helpers.h"

#define AFU kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
#define WPS kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly

static void test_add_needs_class_key(void **state) {
    fx *f = *state;
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 20000);
    assert_int_equal(add_item(true, "wu", "x", kSecAttrAccessibleWhenUnlocked),
                     errSecInteractionNotAllowed);
    assert_int_equal(add_item(true, "default", "x", NULL), errSecInteractionNotAllowed);
    assert_int_equal(add_item(true, "afu", "x", AFU), errSecSuccess);
    assert_int_equal(add_item(true, "always", "x", kSecAttrAccessibleAlways), errSecSuccess);
    assert_int_equal(world_item_count(f->w), 2);
    /* The file-based keychain ignores the class. */
    assert_int_equal(add_item(false, "wu", "x", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    assert_true(journal_has(f->w, "SecItemAdd kc=dp svc=" SVC
                                  " acct=wu class=WhenUnlocked size=1 -> -25308"));
}

static void test_after_first_unlock_across_reboot(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "afu", "x", AFU), errSecSuccess);
    assert_int_equal(world_device_sleep(f->w), 0);
    world_advance(f->w, 3600000);
    assert_int_equal(world_device_wake(f->w), 0);
    assert_int_equal(read_data(true, "afu", "x"), errSecSuccess);
    assert_int_equal(world_device_reboot(f->w), 0);
    assert_int_equal(read_data(true, "afu", NULL), errSecInteractionNotAllowed);
    assert_int_equal(read_attrs(true, "afu"), errSecInteractionNotAllowed);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 3600000);
    assert_int_equal(read_data(true, "afu", "x"), errSecSuccess);
}

static void test_passcode_removal_deletes_when_passcode_set_items(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "wps", "x", WPS), errSecSuccess);
    assert_int_equal(add_item_ac(true, "wps-ac", "x", WPS, 0), errSecSuccess);
    assert_int_equal(add_item(true, "afu", "y", AFU), errSecSuccess);
    assert_int_equal(add_item(false, "file-wps", "z", WPS), errSecSuccess);
    assert_int_equal(read_data(true, "wps", "x"), errSecSuccess);
    uint64_t mutations = world_item_mutations(f->w);
    assert_int_equal(world_device_set_passcode(f->w, false), 0);
    assert_false(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "wps", GROUP, NULL));
    assert_false(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "wps-ac", GROUP, NULL));
    assert_int_equal(read_data(true, "wps", NULL), errSecItemNotFound);
    assert_int_equal(read_data(true, "afu", "y"), errSecSuccess);
    /* The file-based keychain's class has no effect: its item stays. */
    assert_int_equal(read_data(false, "file-wps", "z"), errSecSuccess);
    assert_int_equal(world_item_count(f->w), 2);
    assert_int_equal(world_item_mutations(f->w), mutations + 2);
    /* Without a passcode the class cannot be used. */
    assert_int_equal(add_item(true, "wps", "x", WPS), errSecInteractionNotAllowed);
}

static void test_lost_class_key_until_next_unlock(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "afu", "x", AFU), errSecSuccess);
    world_fault_lose_class_key(f->w, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    assert_int_equal(read_data(true, "afu", NULL), errSecInteractionNotAllowed);
    assert_int_equal(delete_item(true, "afu"), errSecInteractionNotAllowed);
    assert_int_equal(world_item_count(f->w), 1); /* a transient error deletes nothing */
    assert_int_equal(world_device_lock(f->w), 0);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(read_data(true, "afu", "x"), errSecSuccess);
}

static void test_destroyed_class_key_never_back(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "afu", "x", AFU), errSecSuccess);
    assert_int_equal(add_item(true, "other", "y", kSecAttrAccessibleAlways), errSecSuccess);
    world_fault_destroy_class_key(f->w, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(read_data(true, "afu", NULL), errSecInteractionNotAllowed);
        assert_int_equal(read_attrs(true, "afu"), errSecInteractionNotAllowed);
        assert_int_equal(delete_item(true, "afu"), errSecInteractionNotAllowed);
        CFMutableDictionaryRef q = gp(true, SVC, "afu");
        CFMutableDictionaryRef a = dict_new();
        set_data(a, kSecValueData, "new");
        assert_int_equal(SecItemUpdate(q, a), errSecInteractionNotAllowed);
        CFRelease(a);
        CFRelease(q);
        assert_int_equal(world_device_reboot(f->w), 0);
        assert_int_equal(world_device_unlock(f->w), 0);
    }
    /* The item stays in the store with its bytes. */
    world_item_view v;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, SVC, "afu", GROUP, &v));
    assert_int_equal(v.data_len, 1);
    assert_memory_equal(v.data, "x", 1);
    assert_int_equal(read_data(true, "other", "y"), errSecSuccess);
}

/* A query matching items of several classes fails as a whole when one of
 * them is unavailable, and deletes nothing. */
static void test_multi_item_access_is_atomic(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "a", "1", AFU), errSecSuccess);
    assert_int_equal(add_item(true, "b", "2", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 20000);
    CFMutableDictionaryRef q = gp(true, SVC, NULL);
    assert_int_equal(SecItemDelete(q), errSecInteractionNotAllowed);
    assert_int_equal(world_item_count(f->w), 2);
    CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitAll);
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    CFTypeRef out = NULL;
    assert_int_equal(SecItemCopyMatching(q, &out), errSecInteractionNotAllowed);
    assert_null(out);
    CFRelease(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_add_needs_class_key),
        FX_TEST(test_after_first_unlock_across_reboot),
        FX_TEST(test_passcode_removal_deletes_when_passcode_set_items),
        FX_TEST(test_lost_class_key_until_next_unlock),
        FX_TEST(test_destroyed_class_key_never_back),
        FX_TEST(test_multi_item_access_is_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
