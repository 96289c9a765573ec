/* CGSessionCopyCurrentDictionary (domain.md §5): NULL for a process without
 * a window-server session, a +1 dictionary otherwise. Every test ends by
 * asserting that it leaked no CF object and misused none. */
#include "test_sec_helpers.h"

#include <CoreGraphics/CoreGraphics.h>

static void no_session_without_a_gui(void **state) {
    session_fx *f = *state;
    world_set_current(f->w, f->daemon);
    assert_null(CGSessionCopyCurrentDictionary());
    world_set_current(f->w, -1); /* no process at all */
    assert_null(CGSessionCopyCurrentDictionary());
    world_activate(NULL); /* no world at all */
    assert_null(CGSessionCopyCurrentDictionary());
    world_activate(f->w);
    assert_no_cf_leak(f);
}

static void a_gui_process_is_on_the_console(void **state) {
    session_fx *f = *state;
    CFDictionaryRef session = CGSessionCopyCurrentDictionary();
    assert_non_null(session);
    assert_int_equal(CFGetTypeID(session), CFDictionaryGetTypeID());
    assert_int_equal(CFGetRetainCount(session), 1);
    assert_true(CFDictionaryGetValue(session, kCGSessionOnConsoleKey) == kCFBooleanTrue);
    CFTypeRef user = CFDictionaryGetValue(session, kCGSessionUserNameKey);
    assert_non_null(user);
    assert_int_equal(CFGetTypeID(user), CFStringGetTypeID());
    assert_true(CFStringGetLength(user) > 0);
    assert_false(CFDictionaryContainsKey(session, CFSTR("CGSSessionScreenIsLocked")));
    CFRelease(session);
    /* Asking changes nothing in the world. */
    assert_int_equal(world_calls_total(f->w), 0);
    assert_int_equal(world_prompts_total(f->w), 0);
    assert_no_cf_leak(f);
}

static void the_session_survives_a_lock_and_says_so(void **state) {
    session_fx *f = *state;
    assert_int_equal(world_device_sleep(f->w), 0);
    CFDictionaryRef session = CGSessionCopyCurrentDictionary();
    assert_non_null(session);
    assert_true(CFDictionaryGetValue(session, kCGSessionOnConsoleKey) == kCFBooleanTrue);
    assert_true(CFDictionaryGetValue(session, CFSTR("CGSSessionScreenIsLocked")) == kCFBooleanTrue);
    CFRelease(session);
    assert_no_cf_leak(f);
}

#define T(name) SESSION_TEST(name)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(no_session_without_a_gui),
        T(a_gui_process_is_on_the_console),
        T(the_session_survives_a_lock_and_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
