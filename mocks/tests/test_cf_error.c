/* CFError: getters and their ownership, user info copying, descriptions,
 * equality, the immortal domain and key constants, misuse. */
#include "cf_test_support.h"

#include <limits.h>

/* ---- Tests ---------------------------------------------------------------------- */

static void test_create_and_getters(void **state) {
    (void)state;
    CFErrorRef error = CFErrorCreate(NULL, kCFErrorDomainOSStatus, -25300, NULL);
    assert_non_null(error);
    assert_int_equal(CFGetTypeID(error), CFErrorGetTypeID());
    assert_int_equal(CFGetRetainCount(error), 1);
    assert_ptr_equal(CFErrorGetDomain(error), kCFErrorDomainOSStatus);
    assert_int_equal(CFErrorGetCode(error), -25300);
    assert_int_equal(CFGetRetainCount(error), 1);
    CFRelease(error);
    assert_false(kc_cf_is_live(error));
}

static void test_error_retains_its_domain(void **state) {
    (void)state;
    CFStringRef domain = make_string("com.apple.LocalAuthentication");
    CFErrorRef error = CFErrorCreate(NULL, domain, -2, NULL);
    assert_int_equal(CFGetRetainCount(domain), 2);
    CFRelease(domain);
    assert_cfstring(CFErrorGetDomain(error), "com.apple.LocalAuthentication"); /* still alive */
    assert_int_equal(CFGetRetainCount(domain), 1); /* Get does not retain */
    CFRelease(error);
    assert_false(kc_cf_is_live(domain));
}

static void test_user_info_is_copied_and_copy_is_plus_one(void **state) {
    (void)state;
    CFMutableDictionaryRef info = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                            &kCFTypeDictionaryValueCallBacks);
    CFDictionarySetValue(info, kCFErrorLocalizedDescriptionKey, CFSTR("Item not found"));
    CFErrorRef error = CFErrorCreate(NULL, kCFErrorDomainOSStatus, -25300, info);
    CFDictionarySetValue(info, CFSTR("later"), kCFBooleanTrue); /* after creation */
    CFRelease(info);

    CFDictionaryRef copy = CFErrorCopyUserInfo(error);
    assert_int_equal(CFDictionaryGetCount(copy), 1); /* the error kept a snapshot */
    assert_cfstring(CFDictionaryGetValue(copy, CFSTR("NSLocalizedDescription")), "Item not found");
    assert_int_equal(CFGetRetainCount(copy), 2); /* +1 for the caller */
    CFRelease(copy);

    CFErrorRef bare = CFErrorCreate(NULL, kCFErrorDomainPOSIX, 2, NULL);
    CFDictionaryRef empty = CFErrorCopyUserInfo(bare);
    assert_non_null(empty); /* empty, never NULL (as Apple) */
    assert_int_equal(CFDictionaryGetCount(empty), 0);
    CFRelease(empty);
    CFRelease(bare);
    CFRelease(error);
}

static void test_copy_description(void **state) {
    (void)state;
    CFErrorRef generic = CFErrorCreate(NULL, kCFErrorDomainOSStatus, -25300, NULL);
    CFStringRef text = CFErrorCopyDescription(generic);
    assert_cfstring(text,
                    "The operation couldn\xE2\x80\x99t be completed. (NSOSStatusErrorDomain error "
                    "-25300.)");
    CFRelease(text);

    const void *keys[] = {kCFErrorLocalizedDescriptionKey};
    CFStringRef message = make_string("User interaction is not allowed.");
    const void *values[] = {message};
    CFErrorRef localized = CFErrorCreateWithUserInfoKeysAndValues(NULL, kCFErrorDomainOSStatus,
                                                                  -25308, keys, values, 1);
    CFRelease(message); /* held by the error's user info */
    text = CFErrorCopyDescription(localized);
    assert_ptr_equal(text, message);
    assert_cfstring(text, "User interaction is not allowed.");
    assert_int_equal(CFGetRetainCount(text), 2); /* user info + the caller's +1 */
    CFRelease(text);

    const void *reason_keys[] = {kCFErrorLocalizedFailureReasonKey};
    const void *reason_values[] = {CFSTR("The keychain is locked.")};
    CFErrorRef with_reason = CFErrorCreateWithUserInfoKeysAndValues(
        NULL, kCFErrorDomainOSStatus, -25308, reason_keys, reason_values, 1);
    text = CFErrorCopyDescription(with_reason);
    assert_cfstring(text,
                    "The operation couldn\xE2\x80\x99t be completed. The keychain is locked.");
    CFRelease(text);
    CFStringRef reason = CFErrorCopyFailureReason(with_reason);
    assert_cfstring(reason, "The keychain is locked.");
    CFRelease(reason);
    assert_null(CFErrorCopyFailureReason(generic));
    assert_null(CFErrorCopyRecoverySuggestion(generic));

    CFStringRef description = CFCopyDescription(localized);
    assert_cfstring(description, "Error Domain=NSOSStatusErrorDomain Code=-25308 "
                                 "\"User interaction is not allowed.\"");
    CFRelease(description);

    CFRelease(generic);
    CFRelease(localized);
    CFRelease(with_reason);
}

static void test_constants_are_immortal_apple_strings(void **state) {
    (void)state;
    assert_cfstring(kCFErrorDomainOSStatus, "NSOSStatusErrorDomain");
    assert_cfstring(kCFErrorDomainPOSIX, "NSPOSIXErrorDomain");
    assert_cfstring(kCFErrorDomainMach, "NSMachErrorDomain");
    assert_cfstring(kCFErrorDomainCocoa, "NSCocoaErrorDomain");
    assert_cfstring(kCFErrorLocalizedDescriptionKey, "NSLocalizedDescription");
    assert_cfstring(kCFErrorLocalizedFailureReasonKey, "NSLocalizedFailureReason");
    assert_cfstring(kCFErrorUnderlyingErrorKey, "NSUnderlyingError");
    assert_ptr_equal(CFSTR("NSLocalizedDescription"), kCFErrorLocalizedDescriptionKey);
    assert_int_equal(CFGetRetainCount(kCFErrorDomainOSStatus), LONG_MAX);
    CFRelease(kCFErrorDomainOSStatus);
    assert_true(kc_cf_is_live(kCFErrorDomainOSStatus));
    assert_int_equal(CFStringGetLength(kCFErrorDomainOSStatus), 21);
}

static void test_equality(void **state) {
    (void)state;
    CFStringRef domain = make_string("NSOSStatusErrorDomain");
    CFErrorRef a = CFErrorCreate(NULL, kCFErrorDomainOSStatus, -25300, NULL);
    CFErrorRef b = CFErrorCreate(NULL, domain, -25300, NULL);
    CFErrorRef c = CFErrorCreate(NULL, kCFErrorDomainOSStatus, -25299, NULL);
    CFDictionaryRef empty = CFDictionaryCreate(NULL, NULL, NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                               &kCFTypeDictionaryValueCallBacks);
    CFErrorRef d = CFErrorCreate(NULL, kCFErrorDomainOSStatus, -25300, empty);
    assert_true(CFEqual(a, b));
    assert_int_equal(CFHash(a), CFHash(b));
    assert_false(CFEqual(a, c));
    assert_true(CFEqual(a, d)); /* no user info == empty user info */
    CFRelease(domain);
    CFRelease(empty);
    CFRelease(a);
    CFRelease(b);
    CFRelease(c);
    CFRelease(d);
}

static void test_misuse(void **state) {
    (void)state;
    assert_null(CFErrorCreate(NULL, NULL, 1, NULL));
    assert_one_misuse("CFErrorCreate called with NULL");
    int n = 0;
    CFNumberRef number = CFNumberCreate(NULL, kCFNumberIntType, &n);
    assert_null(CFErrorCreate(NULL, (CFStringRef)number, 1, NULL));
    assert_one_misuse("CFErrorCreate called with a CFNumber object (expected CFString)");
    assert_null(CFErrorCreate(NULL, kCFErrorDomainPOSIX, 1, (CFDictionaryRef)number));
    assert_one_misuse("expected CFDictionary");
    CFRelease(number);
    assert_int_equal(CFErrorGetCode(NULL), 0);
    assert_one_misuse("CFErrorGetCode called with NULL");
    assert_null(CFErrorCopyDescription(NULL));
    assert_one_misuse("CFErrorCopyDescription called with NULL");
    assert_null(
        CFErrorCreateWithUserInfoKeysAndValues(NULL, kCFErrorDomainPOSIX, 1, NULL, NULL, 1));
    assert_one_misuse("NULL keys or values");
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(name) CF_TEST(name)
        T(test_create_and_getters),
        T(test_error_retains_its_domain),
        T(test_user_info_is_copied_and_copy_is_plus_one),
        T(test_copy_description),
        T(test_constants_are_immortal_apple_strings),
        T(test_equality),
        T(test_misuse),
#undef T
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
