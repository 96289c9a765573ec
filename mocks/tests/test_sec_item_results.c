/* Result shapes and ownership of SecItemCopyMatching: kSecReturnData alone
 * gives a CFData, kSecReturnAttributes a CFDictionary (with v_Data when data
 * is returned too), kSecMatchLimitAll a CFArray in insertion order; every
 * result is a +1 reference; a failed call leaves *result NULL. */
#include "test_sec_helpers.h"

#define AFU kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly

static CFTypeRef copy(CFDictionaryRef q, OSStatus expect) {
    CFTypeRef out = (CFTypeRef)(uintptr_t)1;
    assert_int_equal(SecItemCopyMatching(q, &out), expect);
    return out;
}

static void assert_string_value(CFDictionaryRef d, CFStringRef key, const char *expect) {
    CFTypeRef v = CFDictionaryGetValue(d, key);
    assert_non_null(v);
    assert_int_equal(CFGetTypeID(v), CFStringGetTypeID());
    assert_string_equal(CFStringGetCStringPtr(v, kCFStringEncodingUTF8), expect);
}

static void test_return_data_alone(void **state) {
    (void)state;
    assert_int_equal(add_item(true, "k1", "secret", NULL), errSecSuccess);
    CFMutableDictionaryRef q = gp(true, SVC, "k1");
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    CFIndex live = kc_cf_live_count(CFDataGetTypeID());
    CFTypeRef out = copy(q, errSecSuccess);
    assert_int_equal(CFGetTypeID(out), CFDataGetTypeID());
    assert_int_equal(CFGetRetainCount(out), 1);
    assert_int_equal(kc_cf_live_count(CFDataGetTypeID()), live + 1);
    CFRelease(out);
    assert_int_equal(kc_cf_live_count(CFDataGetTypeID()), live);
    CFRelease(q);
}

static void test_return_attributes(void **state) {
    (void)state;
    assert_int_equal(add_item(true, "k1", "secret", AFU), errSecSuccess);
    CFMutableDictionaryRef q = gp(true, SVC, "k1");
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFDictionaryRef d = copy(q, errSecSuccess);
    assert_int_equal(CFGetTypeID(d), CFDictionaryGetTypeID());
    assert_int_equal(CFGetRetainCount(d), 1);
    assert_string_value(d, kSecAttrService, SVC);
    assert_string_value(d, kSecAttrAccount, "k1");
    assert_string_value(d, kSecAttrAccessGroup, GROUP);
    assert_true(CFEqual(CFDictionaryGetValue(d, kSecAttrAccessible), AFU));
    assert_ptr_equal(CFDictionaryGetValue(d, kSecAttrSynchronizable), kCFBooleanFalse);
    assert_true(CFEqual(CFDictionaryGetValue(d, kSecClass), kSecClassGenericPassword));
    assert_false(CFDictionaryContainsKey(d, kSecValueData));
    assert_false(CFDictionaryContainsKey(d, kSecAttrAccessControl));
    CFRelease(d);
    /* With data too. */
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    d = copy(q, errSecSuccess);
    CFDataRef data = CFDictionaryGetValue(d, kSecValueData);
    assert_non_null(data);
    assert_int_equal(CFDataGetLength(data), 6);
    assert_memory_equal(CFDataGetBytePtr(data), "secret", 6);
    CFRelease(d);
    CFRelease(q);
}

static void test_return_attributes_access_control_and_label(void **state) {
    (void)state;
    assert_int_equal(add_item_ac(true, "k1", "x", AFU, kSecAccessControlUserPresence),
                     errSecSuccess);
    CFMutableDictionaryRef a = dict_new();
    set_str(a, kSecAttrLabel, "my label");
    CFMutableDictionaryRef q = gp(true, SVC, "k1");
    assert_int_equal(SecItemUpdate(q, a), errSecSuccess);
    CFRelease(a);
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFDictionaryRef d = copy(q, errSecSuccess);
    SecAccessControlRef ac = CFDictionaryGetValue(d, kSecAttrAccessControl);
    assert_non_null(ac);
    assert_int_equal(CFGetTypeID(ac), SecAccessControlGetTypeID());
    assert_int_equal(SecAccessControlGetFlags(ac), kSecAccessControlUserPresence);
    assert_true(CFEqual(SecAccessControlGetProtection(ac), AFU));
    assert_true(CFEqual(CFDictionaryGetValue(d, kSecAttrAccessible), AFU));
    assert_string_value(d, kSecAttrLabel, "my label");
    CFRelease(d);
    CFRelease(q);
}

static void test_file_item_attributes(void **state) {
    (void)state;
    assert_int_equal(add_item(false, "k1", "x", NULL), errSecSuccess);
    CFMutableDictionaryRef q = gp(false, SVC, "k1");
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFDictionaryRef d = copy(q, errSecSuccess);
    assert_false(CFDictionaryContainsKey(d, kSecAttrAccessGroup));
    assert_true(
        CFEqual(CFDictionaryGetValue(d, kSecAttrAccessible), kSecAttrAccessibleWhenUnlocked));
    CFRelease(d);
    CFRelease(q);
}

static void test_match_all_in_insertion_order(void **state) {
    (void)state;
    const char *order[] = {"b", "a", "c"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(add_item(true, order[i], order[i], NULL), errSecSuccess);
    CFMutableDictionaryRef q = gp(true, SVC, NULL);
    CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitAll);
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFArrayRef arr = copy(q, errSecSuccess);
    assert_int_equal(CFGetTypeID(arr), CFArrayGetTypeID());
    assert_int_equal(CFGetRetainCount(arr), 1);
    assert_int_equal(CFArrayGetCount(arr), 3);
    for (int i = 0; i < 3; i++)
        assert_string_value(CFArrayGetValueAtIndex(arr, i), kSecAttrAccount, order[i]);
    CFRelease(arr);
    /* Data only: an array of CFData. */
    CFDictionaryRemoveValue(q, kSecReturnAttributes);
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    arr = copy(q, errSecSuccess);
    assert_int_equal(CFArrayGetCount(arr), 3);
    for (int i = 0; i < 3; i++) {
        CFDataRef data = CFArrayGetValueAtIndex(arr, i);
        assert_int_equal(CFGetTypeID(data), CFDataGetTypeID());
        assert_memory_equal(CFDataGetBytePtr(data), order[i], 1);
    }
    CFRelease(arr);
    /* A single match with kSecMatchLimitAll is still an array. */
    set_str(q, kSecAttrAccount, "c");
    arr = copy(q, errSecSuccess);
    assert_int_equal(CFGetTypeID(arr), CFArrayGetTypeID());
    assert_int_equal(CFArrayGetCount(arr), 1);
    CFRelease(arr);
    CFRelease(q);
}

static void test_match_limit_one_and_numeric(void **state) {
    (void)state;
    for (int i = 0; i < 3; i++) {
        char acct[8];
        snprintf(acct, sizeof acct, "k%d", i);
        assert_int_equal(add_item(false, acct, acct, NULL), errSecSuccess);
    }
    CFMutableDictionaryRef q = gp(false, SVC, NULL);
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    CFDataRef one = copy(q, errSecSuccess); /* default: kSecMatchLimitOne, first inserted */
    assert_int_equal(CFGetTypeID(one), CFDataGetTypeID());
    assert_memory_equal(CFDataGetBytePtr(one), "k0", 2);
    CFRelease(one);
    CFNumberRef two = CFNumberCreate(NULL, kCFNumberIntType, &(int){2});
    CFDictionarySetValue(q, kSecMatchLimit, two);
    CFRelease(two);
    CFArrayRef arr = copy(q, errSecSuccess);
    assert_int_equal(CFArrayGetCount(arr), 2);
    CFRelease(arr);
    CFNumberRef zero = CFNumberCreate(NULL, kCFNumberIntType, &(int){0});
    CFDictionarySetValue(q, kSecMatchLimit, zero);
    CFRelease(zero);
    assert_null(copy(q, errSecParam));
    CFRelease(q);
}

static void test_no_return_key_is_existence_check(void **state) {
    (void)state;
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess);
    CFMutableDictionaryRef q = gp(true, SVC, "k1");
    assert_null(copy(q, errSecSuccess));
    assert_int_equal(SecItemCopyMatching(q, NULL), errSecSuccess);
    /* Return keys set to false are no return keys. */
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanFalse);
    assert_null(copy(q, errSecSuccess));
    CFRelease(q);
}

static void test_result_null_on_failure(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "x", kSecAttrAccessibleWhenUnlocked), errSecSuccess);
    CFMutableDictionaryRef q = gp(true, SVC, "k1");
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 20000);
    assert_null(copy(q, errSecInteractionNotAllowed));
    CFRelease(q);
}

/* A long mixed run leaks nothing and keeps results independent of the store:
 * a returned CFData survives the deletion of its item. */
static void test_results_outlive_items(void **state) {
    (void)state;
    assert_int_equal(add_item(true, "k1", "secret", NULL), errSecSuccess);
    CFMutableDictionaryRef q = gp(true, SVC, "k1");
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    CFDataRef data = copy(q, errSecSuccess);
    assert_int_equal(delete_item(true, "k1"), errSecSuccess);
    assert_memory_equal(CFDataGetBytePtr(data), "secret", 6);
    CFRelease(data);
    for (int i = 0; i < 200; i++) {
        char acct[16];
        snprintf(acct, sizeof acct, "m%d", i % 7);
        (void)add_item(i % 2, acct, "v", NULL);
        (void)read_data(i % 2, acct, NULL);
        (void)read_attrs(i % 3 == 0, acct);
        if (i % 5 == 0)
            (void)delete_item(i % 2, acct);
    }
    CFRelease(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_return_data_alone),
        FX_TEST(test_return_attributes),
        FX_TEST(test_return_attributes_access_control_and_label),
        FX_TEST(test_file_item_attributes),
        FX_TEST(test_match_all_in_insertion_order),
        FX_TEST(test_match_limit_one_and_numeric),
        FX_TEST(test_no_return_key_is_existence_check),
        FX_TEST(test_result_null_on_failure),
        FX_TEST(test_results_outlive_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
