/* CGSessionCopyCurrentDictionary (domain.md §5): NULL for a process without
 * a window-server session, a +1 dictionary otherwise. Every test ends by
 * asserting that it leaked no CF object and misused none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <CoreFoundation/CoreFoundation.h>
#include <CoreGraphics/CoreGraphics.h>
#include <keyclass/cf_accounting.h>
#include <keyclass/world.h>

typedef struct {
    world *w;
    world_pid agent;  /* GUI session */
    world_pid daemon; /* launchd agent outside the GUI session */
    kc_cf_snapshot_t cf;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->w = world_new(1);
    assert_non_null(f->w);
    world_activate(f->w);
    assert_int_equal(world_device_boot(f->w), 0);
    assert_int_equal(world_device_unlock(f->w), 0);
    f->agent = world_process_add(
        f->w,
        &(world_process_config){.name = "agent", .app = "sshenc", .is_signed = true, .gui = true});
    f->daemon = world_process_add(
        f->w, &(world_process_config){
                  .name = "daemon", .app = "sshenc", .is_signed = true, .gui = false});
    world_set_current(f->w, f->agent);
    kc_cf_reset_misuse();
    kc_cf_snapshot(&f->cf);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    world_free(f->w);
    free(f);
    return 0;
}

static void assert_no_cf_leak(fixture *f) {
    char report[256];
    CFIndex leaked = kc_cf_leaks_since(&f->cf, report, sizeof report);
    if (leaked != 0)
        fail_msg("%s", report);
    assert_int_equal(kc_cf_misuse_count(), 0);
}

static void no_session_without_a_gui(void **state) {
    fixture *f = *state;
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
    fixture *f = *state;
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
    fixture *f = *state;
    assert_int_equal(world_device_sleep(f->w), 0);
    CFDictionaryRef session = CGSessionCopyCurrentDictionary();
    assert_non_null(session);
    assert_true(CFDictionaryGetValue(session, kCGSessionOnConsoleKey) == kCFBooleanTrue);
    assert_true(CFDictionaryGetValue(session, CFSTR("CGSSessionScreenIsLocked")) == kCFBooleanTrue);
    CFRelease(session);
    assert_no_cf_leak(f);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(no_session_without_a_gui),
        T(a_gui_process_is_on_the_console),
        T(the_session_survives_a_lock_and_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
