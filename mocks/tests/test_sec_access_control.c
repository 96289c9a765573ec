/* SecAccessControl: a CF object holding a protection class and flags;
 * CreateWithFlags validates its input (NULL + CFError(errSecParam)) and is a
 * journaled, fault-able call. */
#include "test_sec_helpers.h"

static void test_create_and_read_back(void **state) {
    fx *f = *state;
    CFErrorRef error = NULL;
    SecAccessControlRef ac = SecAccessControlCreateWithFlags(
        NULL, kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
        kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence, &error);
    assert_non_null(ac);
    assert_null(error);
    assert_int_equal(CFGetTypeID(ac), SecAccessControlGetTypeID());
    assert_int_equal(CFGetRetainCount(ac), 1);
    assert_ptr_equal(SecAccessControlGetProtection(ac),
                     kSecAttrAccessibleWhenUnlockedThisDeviceOnly);
    assert_int_equal(SecAccessControlGetFlags(ac),
                     kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence);
    assert_true(journal_has(f->w, "agent SecAccessControlCreateWithFlags "
                                  "class=WhenUnlockedThisDeviceOnly flags=0x40000001 -> 0"));
    /* Equal content, equal objects; a description without addresses. */
    SecAccessControlRef twin = SecAccessControlCreateWithFlags(
        NULL, kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
        kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence, NULL);
    assert_true(CFEqual(ac, twin));
    assert_int_equal(CFHash(ac), CFHash(twin));
    CFStringRef desc = CFCopyDescription(ac);
    assert_non_null(
        strstr(CFStringGetCStringPtr(desc, kCFStringEncodingUTF8), "WhenUnlockedThisDeviceOnly"));
    CFRelease(desc);
    CFRelease(twin);
    CFRelease(ac);
}

static void test_every_class_and_flag(void **state) {
    (void)state;
    CFStringRef classes[] = {
        kSecAttrAccessibleWhenUnlocked,
        kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
        kSecAttrAccessibleAfterFirstUnlock,
        kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly,
        kSecAttrAccessibleAlways,
        kSecAttrAccessibleAlwaysThisDeviceOnly,
    };
    SecAccessControlCreateFlags flags[] = {
        0,
        kSecAccessControlUserPresence,
        kSecAccessControlBiometryAny,
        kSecAccessControlDevicePasscode,
        kSecAccessControlPrivateKeyUsage,
        kSecAccessControlBiometryAny | kSecAccessControlDevicePasscode,
    };
    for (size_t c = 0; c < sizeof classes / sizeof *classes; c++) {
        for (size_t k = 0; k < sizeof flags / sizeof *flags; k++) {
            SecAccessControlRef ac =
                SecAccessControlCreateWithFlags(NULL, classes[c], flags[k], NULL);
            assert_non_null(ac);
            assert_ptr_equal(SecAccessControlGetProtection(ac), classes[c]);
            assert_int_equal(SecAccessControlGetFlags(ac), flags[k]);
            CFRelease(ac);
        }
    }
    /* A runtime-created protection string works too. */
    CFStringRef cku = CFStringCreateWithCString(NULL, "cku", kCFStringEncodingUTF8);
    SecAccessControlRef ac = SecAccessControlCreateWithFlags(NULL, cku, 0, NULL);
    assert_non_null(ac);
    assert_ptr_equal(SecAccessControlGetProtection(ac),
                     kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly);
    CFRelease(ac);
    CFRelease(cku);
}

static void assert_param_error(CFTypeRef protection, SecAccessControlCreateFlags flags) {
    CFErrorRef error = NULL;
    assert_null(SecAccessControlCreateWithFlags(NULL, protection, flags, &error));
    assert_non_null(error);
    assert_true(CFEqual(CFErrorGetDomain(error), kCFErrorDomainOSStatus));
    assert_int_equal(CFErrorGetCode(error), errSecParam);
    assert_int_equal(CFGetRetainCount(error), 1);
    CFRelease(error);
    /* A NULL error pointer is fine. */
    assert_null(SecAccessControlCreateWithFlags(NULL, protection, flags, NULL));
}

static void test_invalid_input(void **state) {
    fx *f = *state;
    assert_param_error(CFSTR("nonsense"), 0);
    assert_param_error(NULL, 0);
    assert_param_error(kCFBooleanTrue, 0);
    assert_param_error(kSecAttrAccessibleAlways, 1u << 7);
    assert_param_error(kSecAttrAccessibleAlways, 0x80000000u);
    assert_true(journal_has(f->w, "SecAccessControlCreateWithFlags class=Always flags=0x80 -> -50 "
                                  "errSecParam"));
    assert_true(journal_has(f->w, "SecAccessControlCreateWithFlags -> -50 errSecParam"));
    assert_int_equal(kc_cf_misuse_count(), 0);
}

static void test_getters_on_wrong_objects_report_misuse(void **state) {
    (void)state;
    kc_cf_set_misuse_handler(quiet_misuse, NULL);
    CFStringRef s = CFStringCreateWithCString(NULL, "x", kCFStringEncodingUTF8);
    assert_null(SecAccessControlGetProtection((SecAccessControlRef)s));
    assert_int_equal(SecAccessControlGetFlags((SecAccessControlRef)s), 0);
    assert_int_equal(kc_cf_misuse_count(), 2);
    kc_cf_reset_misuse();
    kc_cf_set_misuse_handler(NULL, NULL);
    CFRelease(s);
}

static void test_no_active_world(void **state) {
    fx *f = *state;
    world_activate(NULL);
    CFErrorRef error = NULL;
    assert_null(SecAccessControlCreateWithFlags(NULL, kSecAttrAccessibleAlways, 0, &error));
    assert_int_equal(CFErrorGetCode(error), errSecNotAvailable);
    CFRelease(error);
    world_activate(f->w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_create_and_read_back), FX_TEST(test_every_class_and_flag),
        FX_TEST(test_invalid_input),        FX_TEST(test_getters_on_wrong_objects_report_misuse),
        FX_TEST(test_no_active_world),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
