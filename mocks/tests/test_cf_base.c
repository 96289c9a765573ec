/* CF runtime: retain/release, type IDs, immortal objects, live-object
 * accounting, over-release and misuse detection, extension types. */
#include "cf_test_support.h"

#include <limits.h>
#include <stdio.h>

/* ---- Retain / release ------------------------------------------------------- */

static void test_retain_release_counts_and_frees(void **state) {
    (void)state;
    const UInt8 bytes[] = {1, 2, 3};
    CFDataRef data = CFDataCreate(NULL, bytes, 3);
    assert_int_equal(CFGetRetainCount(data), 1);
    assert_int_equal(kc_cf_live_count(CFDataGetTypeID()), before_test.live[CFDataGetTypeID()] + 1);

    assert_ptr_equal(CFRetain(data), data); /* CFRetain returns its argument */
    assert_int_equal(CFGetRetainCount(data), 2);
    CFRelease(data);
    assert_int_equal(CFGetRetainCount(data), 1);
    assert_true(kc_cf_is_live(data));

    CFRelease(data);
    assert_false(kc_cf_is_live(data));
    assert_int_equal(kc_cf_live_count(CFDataGetTypeID()), before_test.live[CFDataGetTypeID()]);
}

static void test_type_ids_are_distinct_and_named(void **state) {
    (void)state;
    const CFTypeID ids[] = {CFStringGetTypeID(),  CFDataGetTypeID(),  CFNumberGetTypeID(),
                            CFBooleanGetTypeID(), CFArrayGetTypeID(), CFDictionaryGetTypeID(),
                            CFErrorGetTypeID()};
    const char *names[] = {"CFString", "CFData",       "CFNumber", "CFBoolean",
                           "CFArray",  "CFDictionary", "CFError"};
    for (size_t i = 0; i < 7; i++) {
        assert_true(ids[i] != 0);
        assert_string_equal(kc_cf_type_name(ids[i]), names[i]);
        for (size_t j = 0; j < i; j++) {
            assert_true(ids[i] != ids[j]);
        }
    }
    assert_string_equal(kc_cf_type_name(0), "unknown type");
    assert_string_equal(kc_cf_type_name(9999), "unknown type");

    CFStringRef name = CFCopyTypeIDDescription(CFDataGetTypeID());
    assert_cfstring(name, "CFData");
    CFRelease(name);

    CFStringRef s = make_string("x");
    int one = 1;
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &one);
    assert_int_equal(CFGetTypeID(s), CFStringGetTypeID());
    assert_int_equal(CFGetTypeID(n), CFNumberGetTypeID());
    assert_int_equal(CFGetTypeID(kCFBooleanTrue), CFBooleanGetTypeID());
    CFRelease(s);
    CFRelease(n);
}

/* ---- Immortal objects -------------------------------------------------------- */

static CFStringRef cfstr_from_other_site(void) { return CFSTR("keyclass-constant"); }

static void test_cfstr_is_interned_and_immortal(void **state) {
    (void)state;
    CFStringRef a = CFSTR("keyclass-constant");
    assert_ptr_equal(a, cfstr_from_other_site()); /* same text, same pointer */
    assert_ptr_not_equal(a, CFSTR("keyclass-constanT"));
    assert_cfstring(a, "keyclass-constant");

    CFIndex live = kc_cf_live_total();
    for (int i = 0; i < 5; i++) {
        CFRelease(a); /* would free a counted object */
    }
    CFRetain(a);
    assert_true(kc_cf_is_live(a));
    assert_int_equal(CFGetRetainCount(a), LONG_MAX);
    assert_int_equal(kc_cf_live_total(), live); /* never counted as live */
    assert_cfstring(a, "keyclass-constant");

    /* Equal to, but distinct from, a runtime string of the same text. */
    CFStringRef runtime = make_string("keyclass-constant");
    assert_ptr_not_equal(runtime, a);
    assert_true(CFEqual(runtime, a));
    assert_int_equal(CFHash(runtime), CFHash(a));
    CFRelease(runtime);

    /* The CF constants are the interned strings of their text. */
    assert_ptr_equal(CFSTR("NSOSStatusErrorDomain"), kCFErrorDomainOSStatus);
}

static void test_booleans_are_immortal(void **state) {
    (void)state;
    CFIndex live = kc_cf_live_total();
    CFRelease(kCFBooleanTrue);
    CFRelease(kCFBooleanTrue);
    assert_true(kc_cf_is_live(kCFBooleanTrue));
    assert_true(CFBooleanGetValue(kCFBooleanTrue));
    assert_false(CFBooleanGetValue(kCFBooleanFalse));
    assert_int_equal(kc_cf_live_total(), live);
    assert_int_equal(kc_cf_live_count(CFBooleanGetTypeID()), 0);
}

/* ---- Leak accounting ---------------------------------------------------------- */

static void test_leak_report_names_types_and_counts(void **state) {
    (void)state;
    kc_cf_snapshot_t snapshot;
    kc_cf_snapshot(&snapshot);
    char report[256];
    assert_int_equal(kc_cf_leaks_since(&snapshot, report, sizeof report), 0);
    assert_string_equal(report, "no CF objects leaked");

    CFDataRef d1 = CFDataCreate(NULL, NULL, 0);
    CFDataRef d2 = CFDataCreate(NULL, NULL, 0);
    CFStringRef s = make_string("leak");
    assert_int_equal(kc_cf_leaks_since(&snapshot, report, sizeof report), 3);
    assert_string_equal(report, "3 CF objects leaked: 1 CFString, 2 CFData");
    assert_false(kc_cf_check_no_leaks(report, sizeof report));
    assert_non_null(strstr(report, "2 CFData"));

    /* A truncated report is still NUL-terminated. */
    char tiny[8];
    assert_int_equal(kc_cf_leaks_since(&snapshot, tiny, sizeof tiny), 3);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);

    CFRelease(d1);
    assert_int_equal(kc_cf_leaks_since(&snapshot, report, sizeof report), 2);
    assert_string_equal(report, "2 CF objects leaked: 1 CFString, 1 CFData");
    CFRelease(d2);
    CFRelease(s);
    assert_int_equal(kc_cf_leaks_since(&snapshot, NULL, 0), 0);
    assert_true(kc_cf_check_no_leaks(report, sizeof report));
    assert_string_equal(report, "no CF objects leaked");
}

static void test_container_leak_counts_contents(void **state) {
    (void)state;
    kc_cf_snapshot_t snapshot;
    kc_cf_snapshot(&snapshot);
    CFMutableArrayRef array = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    CFStringRef s = make_string("inside");
    CFArrayAppendValue(array, s);
    CFRelease(s);
    char report[256];
    assert_int_equal(kc_cf_leaks_since(&snapshot, report, sizeof report), 2);
    assert_string_equal(report, "2 CF objects leaked: 1 CFString, 1 CFArray");
    CFRelease(array); /* releases the string too */
    assert_int_equal(kc_cf_leaks_since(&snapshot, report, sizeof report), 0);
}

/* ---- Over-release and misuse --------------------------------------------------- */

static void test_over_release_is_reported_with_type_name(void **state) {
    (void)state;
    const UInt8 bytes[] = {9};
    CFDataRef data = CFDataCreate(NULL, bytes, 1);
    CFRelease(data);
    CFIndex live = kc_cf_live_count(CFDataGetTypeID());

    CFRelease(data); /* over-release: the pointer is dangling */
    assert_one_misuse("over-release of a CFData object");
    assert_int_equal(kc_cf_live_count(CFDataGetTypeID()), live); /* not driven negative */

    CFMutableDictionaryRef dict = CFDictionaryCreateMutable(NULL, 0, NULL, NULL);
    CFRetain(dict);
    CFRelease(dict);
    CFRelease(dict);
    CFRelease(dict);
    assert_one_misuse("over-release of a CFDictionary object");
}

/* Draining hands every quarantined object back to malloc exactly once (a
 * wrong slot would double-free or leak: ASan/LSan in the sanitizer pass),
 * also when the ring has wrapped; objects destroyed after it are quarantined
 * and recognised again. */
static void test_quarantine_drain(void **state) {
    (void)state;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < KC_CF_QUARANTINE_CAPACITY + 7; i++) {
            CFDataRef d = CFDataCreate(NULL, (const UInt8 *)"q", 1);
            CFRelease(d);
        }
        kc_cf_quarantine_drain();
        kc_cf_quarantine_drain(); /* idempotent */
    }
    CFDataRef data = CFDataCreate(NULL, (const UInt8 *)"late", 4);
    CFRelease(data);
    CFRelease(data);
    assert_one_misuse("over-release of a CFData object");
    kc_cf_quarantine_drain();
    assert_int_equal(kc_cf_misuse_count(), 0);
}

static void test_use_after_free_is_reported(void **state) {
    (void)state;
    CFDataRef data = CFDataCreate(NULL, (const UInt8 *)"abc", 3);
    CFRelease(data);

    assert_int_equal(CFDataGetLength(data), 0);
    assert_one_misuse("CFDataGetLength called with an already destroyed CFData object");
    assert_ptr_equal(CFRetain(data), data);
    assert_one_misuse("CFRetain of an already destroyed CFData object");
    assert_int_equal(CFGetTypeID(data), 0);
    assert_one_misuse("CFGetTypeID called with an already destroyed CFData object");
    assert_false(CFEqual(data, kCFBooleanTrue));
    assert_one_misuse("CFEqual called with an already destroyed CFData object");
    assert_false(CFEqual(data, data)); /* each bad argument is reported */
    assert_int_equal(kc_cf_misuse_count(), 2);
    kc_cf_reset_misuse();
}

static void test_null_arguments_do_not_crash(void **state) {
    (void)state;
    CFRelease(NULL);
    assert_one_misuse("CFRelease called with NULL");
    assert_null(CFRetain(NULL));
    assert_one_misuse("CFRetain called with NULL");
    assert_int_equal(CFGetTypeID(NULL), 0);
    assert_one_misuse("CFGetTypeID called with NULL");
    assert_int_equal(CFHash(NULL), 0);
    assert_one_misuse("CFHash called with NULL");
    assert_int_equal(CFGetRetainCount(NULL), 0);
    assert_one_misuse("CFGetRetainCount called with NULL");
    assert_null(CFCopyDescription(NULL));
    assert_one_misuse("CFCopyDescription called with NULL");

    CFStringRef s = make_string("s");
    assert_false(CFEqual(s, NULL));
    assert_one_misuse("CFEqual called with NULL");
    CFRelease(s);

    assert_int_equal(CFDataGetLength(NULL), 0);
    assert_one_misuse("CFDataGetLength called with NULL");
    assert_false(kc_cf_is_live(NULL));
    assert_int_equal(kc_cf_misuse_count(), 0); /* kc_cf_is_live never reports */
}

static void test_unknown_pointer_is_reported_without_touching_it(void **state) {
    (void)state;
    long not_an_object[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CFRelease(&not_an_object[4]);
    assert_one_misuse("CFRelease called with an unknown pointer");
    CFRetain(&not_an_object[4]);
    assert_one_misuse("CFRetain called with an unknown pointer");
    for (int i = 0; i < 8; i++) {
        assert_int_equal(not_an_object[i], i + 1);
    }
}

static void test_wrong_type_is_reported(void **state) {
    (void)state;
    CFStringRef s = make_string("text");
    assert_int_equal(CFDataGetLength((CFDataRef)s), 0);
    assert_one_misuse("CFDataGetLength called with a CFString object (expected CFData)");
    assert_int_equal(CFArrayGetCount((CFArrayRef)kCFBooleanTrue), 0);
    assert_one_misuse("CFArrayGetCount called with a CFBoolean object (expected CFArray)");
    CFRelease(s);
}

typedef struct {
    int calls;
    char last[KC_CF_MISUSE_MESSAGE_MAX];
} misuse_log;

static void record_misuse(const char *message, void *context) {
    misuse_log *log = context;
    log->calls++;
    snprintf(log->last, sizeof log->last, "%s", message);
}

static void test_misuse_handler_and_reset(void **state) {
    (void)state;
    misuse_log log = {0, ""};
    kc_cf_set_misuse_handler(record_misuse, &log);
    CFRelease(NULL);
    CFRelease(NULL);
    kc_cf_set_misuse_handler(cf_quiet_misuse, NULL);

    assert_int_equal(log.calls, 2);
    assert_string_equal(log.last, "CF misuse: CFRelease called with NULL");
    assert_int_equal(kc_cf_misuse_count(), 2);
    assert_string_equal(kc_cf_last_misuse(), "CF misuse: CFRelease called with NULL");

    kc_cf_reset_misuse();
    assert_int_equal(kc_cf_misuse_count(), 0);
    assert_string_equal(kc_cf_last_misuse(), "");

    kc_cf_report_misuse("custom %s %d", "message", 7);
    assert_one_misuse("CF misuse: custom message 7");
}

/* ---- Equality, hashing, description ------------------------------------------ */

static void test_equal_objects_hash_equal(void **state) {
    (void)state;
    CFStringRef s1 = make_string("same");
    CFStringRef s2 = make_string("same");
    assert_ptr_not_equal(s1, s2);
    assert_true(CFEqual(s1, s2));
    assert_int_equal(CFHash(s1), CFHash(s2));

    int five = 5;
    double five_real = 5.0;
    CFNumberRef n1 = CFNumberCreate(NULL, kCFNumberIntType, &five);
    CFNumberRef n2 = CFNumberCreate(NULL, kCFNumberDoubleType, &five_real);
    assert_true(CFEqual(n1, n2));
    assert_int_equal(CFHash(n1), CFHash(n2));

    CFStringRef text_five = make_string("5");
    assert_false(CFEqual(text_five, n1)); /* different types are never equal */

    CFRelease(s1);
    CFRelease(s2);
    CFRelease(n1);
    CFRelease(n2);
    CFRelease(text_five);
}

static void test_description_is_deterministic(void **state) {
    (void)state;
    int one = 1;
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &one);
    const void *keys[] = {CFSTR("a"), CFSTR("b"), CFSTR("c")};
    const void *values[] = {n, kCFBooleanTrue, CFSTR("text")};
    CFDictionaryRef dict = CFDictionaryCreate(NULL, keys, values, 3, &kCFTypeDictionaryKeyCallBacks,
                                              &kCFTypeDictionaryValueCallBacks);
    CFStringRef description = CFCopyDescription(dict);
    assert_cfstring(description, "{a = 1; b = true; c = text}");
    CFRelease(description);
    CFRelease(dict);
    CFRelease(n);
}

/* ---- Extension types ------------------------------------------------------------- */

typedef struct {
    CFStringRef label; /* retained */
    int value;
} widget;

static int widget_finalized;

static void widget_finalize(CFTypeRef obj) {
    const widget *w = obj;
    widget_finalized++;
    CFRelease(w->label);
}

static Boolean widget_equal(CFTypeRef a, CFTypeRef b) {
    return ((const widget *)a)->value == ((const widget *)b)->value;
}

static const kc_cf_class widget_class = {
    .type_id = KC_CF_FIRST_EXTENSION_TYPE_ID,
    .name = "TestWidget",
    .finalize = widget_finalize,
    .equal = widget_equal,
};

static widget *widget_create(int value) {
    widget *w = kc_cf_object_create(&widget_class, sizeof *w);
    assert_non_null(w);
    w->label = make_string("label");
    w->value = value;
    return w;
}

static void test_extension_type_is_counted_and_finalized(void **state) {
    (void)state;
    widget_finalized = 0;
    widget *w = widget_create(42);
    widget *other = widget_create(42);
    assert_int_equal(CFGetTypeID(w), KC_CF_FIRST_EXTENSION_TYPE_ID);
    assert_string_equal(kc_cf_type_name(KC_CF_FIRST_EXTENSION_TYPE_ID), "TestWidget");
    assert_int_equal(kc_cf_live_count(KC_CF_FIRST_EXTENSION_TYPE_ID), 2);
    assert_true(CFEqual(w, other));

    char report[256];
    assert_int_equal(kc_cf_leaks_since(&before_test, report, sizeof report), 4);
    assert_non_null(strstr(report, "2 TestWidget"));

    assert_ptr_equal(kc_cf_object_cast(w, KC_CF_FIRST_EXTENSION_TYPE_ID, "WidgetGet"), w);
    assert_null(kc_cf_object_cast(w, CFStringGetTypeID(), "CFStringGetLength"));
    assert_one_misuse("CFStringGetLength called with a TestWidget object (expected CFString)");

    CFStringRef description = CFCopyDescription(w);
    assert_cfstring(description, "<TestWidget>");
    CFRelease(description);

    CFRelease(w);
    CFRelease(other);
    assert_int_equal(widget_finalized, 2);
    assert_int_equal(kc_cf_live_count(KC_CF_FIRST_EXTENSION_TYPE_ID), 0);
    CFRelease(w);
    assert_one_misuse("over-release of a TestWidget object");
}

static void test_extension_class_validation(void **state) {
    (void)state;
    static const kc_cf_class reserved = {.type_id = 3, .name = "Intruder"};
    assert_null(kc_cf_object_create(&reserved, 8));
    assert_one_misuse("outside the extension range");
    assert_int_equal(CFNumberGetTypeID(), 3); /* the built-in keeps its name */
    assert_string_equal(kc_cf_type_name(3), "CFNumber");

    widget *w = widget_create(1); /* claims the ID for TestWidget, if not yet */
    static const kc_cf_class clash = {.type_id = KC_CF_FIRST_EXTENSION_TYPE_ID,
                                      .name = "OtherType"};
    assert_null(kc_cf_object_create(&clash, 8));
    assert_one_misuse("already used by TestWidget");
    CFRelease(w);

    assert_null(kc_cf_object_create(NULL, 8));
    assert_one_misuse("invalid class");
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(name) CF_TEST(name)
        T(test_retain_release_counts_and_frees),
        T(test_type_ids_are_distinct_and_named),
        T(test_cfstr_is_interned_and_immortal),
        T(test_booleans_are_immortal),
        T(test_leak_report_names_types_and_counts),
        T(test_container_leak_counts_contents),
        T(test_over_release_is_reported_with_type_name),
        T(test_quarantine_drain),
        T(test_use_after_free_is_reported),
        T(test_null_arguments_do_not_crash),
        T(test_unknown_pointer_is_reported_without_touching_it),
        T(test_wrong_type_is_reported),
        T(test_misuse_handler_and_reset),
        T(test_equal_objects_hash_equal),
        T(test_description_is_deterministic),
        T(test_extension_type_is_counted_and_finalized),
        T(test_extension_class_validation),
#undef T
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
