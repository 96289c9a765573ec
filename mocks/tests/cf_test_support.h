/* Shared fixture and helpers of the CoreFoundation subset's CMocka tests
 * (mocks/tests/test_cf_*.c, test_cov_cf.c). Header-only: every test file is
 * its own binary, so each one gets its own copy of `before_test`.
 *
 * The fixture: misuse is captured silently (tests assert on
 * kc_cf_misuse_count()); every test runs between a snapshot and a leak check
 * and must cause no unexpected misuse; the binary ends by asserting that no
 * object at all is live.
 *
 * The ref/ and scenarios/ tests include it too, for the same per-test check
 * in the form they use: cf_test_setup as setup, cf_assert_no_leaks... in
 * their own teardown (after freeing their world), failing the test there.
 */
#ifndef KEYCLASS_CF_TEST_SUPPORT_H
#define KEYCLASS_CF_TEST_SUPPORT_H

/* CMocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <CoreFoundation/CoreFoundation.h>
#include <keyclass/cf_accounting.h>

#include <string.h>

/* What was live when the current test started. */
static kc_cf_snapshot_t before_test;

/* Misuse is captured silently; tests assert on kc_cf_misuse_count(). */
static inline void cf_quiet_misuse(const char *message, void *context) {
    (void)message;
    (void)context;
}

static inline int cf_group_setup(void **state) {
    (void)state;
    kc_cf_set_misuse_handler(cf_quiet_misuse, NULL);
    return 0;
}

/* The binary ends by asserting that no object at all is live. */
static inline int cf_group_teardown(void **state) {
    (void)state;
    char report[256];
    if (!kc_cf_check_no_leaks(report, sizeof report)) {
        print_error("%s\n", report);
        return -1;
    }
    return 0;
}

static inline int cf_test_setup(void **state) {
    (void)state;
    kc_cf_reset_misuse();
    kc_cf_snapshot(&before_test);
    return 0;
}

/* Every test must leave nothing behind and cause no unexpected misuse. */
static inline int cf_test_teardown(void **state) {
    (void)state;
    char report[256];
    int result = 0;
    if (kc_cf_leaks_since(&before_test, report, sizeof report) != 0) {
        print_error("%s\n", report);
        result = -1;
    }
    if (kc_cf_misuse_count() != 0) {
        print_error("unexpected misuse: %s\n", kc_cf_last_misuse());
        result = -1;
    }
    kc_cf_reset_misuse();
    return result;
}

/* Fails the current test if a CF object created since cf_test_setup is still
 * live: whatever the test made it must also have released. */
static inline void cf_assert_no_leaks(void) {
    char report[256];
    if (kc_cf_leaks_since(&before_test, report, sizeof report) != 0)
        fail_msg("%s", report);
}

/* The same, and fails it on any CF misuse (over-release, wrong type, ...)
 * since cf_test_setup: misuse that Apple's CF would crash on. */
static inline void cf_assert_no_leaks_or_misuse(void) {
    cf_assert_no_leaks();
    if (kc_cf_misuse_count() != 0)
        fail_msg("CF misuse: %s", kc_cf_last_misuse());
}

#define CF_TEST(fn) cmocka_unit_test_setup_teardown(fn, cf_test_setup, cf_test_teardown)

/* Asserts exactly one misuse happened and its message contains `fragment`. */
static inline void assert_one_misuse(const char *fragment) {
    if (kc_cf_misuse_count() != 1 || strstr(kc_cf_last_misuse(), fragment) == NULL) {
        fail_msg("expected one misuse containing \"%s\", got %ld, last: \"%s\"", fragment,
                 kc_cf_misuse_count(), kc_cf_last_misuse());
    }
    kc_cf_reset_misuse();
}

static inline CFStringRef make_string(const char *text) {
    CFStringRef s = CFStringCreateWithCString(NULL, text, kCFStringEncodingUTF8);
    assert_non_null(s);
    return s;
}

/* `s` is a CFString whose UTF-8 text is `expected`. */
static inline void assert_cfstring(const void *s, const char *expected) {
    assert_non_null(s);
    const char *text = CFStringGetCStringPtr(s, kCFStringEncodingUTF8);
    assert_non_null(text);
    assert_string_equal(text, expected);
}

#endif
