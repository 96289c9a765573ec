/* CFDictionary / CFMutableDictionary: keys by content, retain semantics,
 * replace/add/remove ownership, deterministic order, copies, misuse. */
#include "cf_test_support.h"

#include <stdio.h>

static CFMutableDictionaryRef make_mutable(void) {
    CFMutableDictionaryRef d = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    assert_non_null(d);
    return d;
}

/* ---- Tests ---------------------------------------------------------------------- */

static void test_keys_match_by_content(void **state) {
    (void)state;
    CFMutableDictionaryRef query = make_mutable();
    CFDictionarySetValue(query, CFSTR("acct"), CFSTR("alice"));
    CFStringRef runtime_key = make_string("acct"); /* a different object, same text */
    assert_ptr_not_equal(runtime_key, CFSTR("acct"));
    assert_cfstring(CFDictionaryGetValue(query, runtime_key), "alice");
    assert_true(CFDictionaryContainsKey(query, runtime_key));
    assert_null(CFDictionaryGetValue(query, CFSTR("svce")));

    /* Setting through the runtime key replaces the same entry. */
    CFDictionarySetValue(query, runtime_key, CFSTR("bob"));
    assert_int_equal(CFDictionaryGetCount(query), 1);
    assert_cfstring(CFDictionaryGetValue(query, CFSTR("acct")), "bob");
    CFRelease(runtime_key);
    CFRelease(query);
}

static void test_cftype_callbacks_retain_keys_and_values(void **state) {
    (void)state;
    CFStringRef key = make_string("k");
    CFDataRef value = CFDataCreate(NULL, (const UInt8 *)"v", 1);
    const void *keys[] = {key};
    const void *values[] = {value};
    CFDictionaryRef dict = CFDictionaryCreate(NULL, keys, values, 1, &kCFTypeDictionaryKeyCallBacks,
                                              &kCFTypeDictionaryValueCallBacks);
    assert_int_equal(CFGetTypeID(dict), CFDictionaryGetTypeID());
    assert_int_equal(CFGetRetainCount(key), 2);
    assert_int_equal(CFGetRetainCount(value), 2);
    CFRelease(key);
    CFRelease(value);
    assert_true(kc_cf_is_live(value));
    assert_ptr_equal(CFDictionaryGetValue(dict, CFSTR("k")), value);
    assert_int_equal(CFGetRetainCount(value), 1); /* Get does not retain */

    CFRelease(dict);
    assert_false(kc_cf_is_live(key));
    assert_false(kc_cf_is_live(value));
}

static void test_null_callbacks_use_identity_without_retain(void **state) {
    (void)state;
    CFStringRef k1 = make_string("same");
    CFStringRef k2 = make_string("same");
    CFMutableDictionaryRef dict = CFDictionaryCreateMutable(NULL, 0, NULL, NULL);
    static int v1 = 1, v2 = 2;
    CFDictionarySetValue(dict, k1, &v1);
    CFDictionarySetValue(dict, k2, &v2);
    assert_int_equal(CFDictionaryGetCount(dict), 2); /* distinct pointers, distinct keys */
    assert_int_equal(CFGetRetainCount(k1), 1);
    assert_ptr_equal(CFDictionaryGetValue(dict, k2), &v2);
    CFStringRef k3 = make_string("same");
    assert_null(CFDictionaryGetValue(dict, k3)); /* content is not consulted */

    CFDictionarySetValue(dict, NULL, &v1); /* NULL keys are fine without callbacks */
    assert_ptr_equal(CFDictionaryGetValue(dict, NULL), &v1);
    CFRelease(dict);
    assert_true(kc_cf_is_live(k1));
    CFRelease(k1);
    CFRelease(k2);
    CFRelease(k3);
}

static void test_set_value_replaces_and_releases_old(void **state) {
    (void)state;
    CFMutableDictionaryRef dict = make_mutable();
    CFDataRef old_value = CFDataCreate(NULL, (const UInt8 *)"old", 3);
    CFDataRef new_value = CFDataCreate(NULL, (const UInt8 *)"new", 3);
    CFDictionarySetValue(dict, CFSTR("v_Data"), old_value);
    CFRelease(old_value); /* the dictionary holds the only reference */
    CFDictionarySetValue(dict, CFSTR("v_Data"), new_value);
    assert_false(kc_cf_is_live(old_value)); /* released by the replacement */
    assert_int_equal(CFGetRetainCount(new_value), 2);
    assert_int_equal(CFDictionaryGetCount(dict), 1);
    assert_ptr_equal(CFDictionaryGetValue(dict, CFSTR("v_Data")), new_value);

    /* Replacing a value by itself when the dictionary holds its only reference. */
    CFRelease(new_value);
    CFDictionarySetValue(dict, CFSTR("v_Data"), new_value);
    assert_true(kc_cf_is_live(new_value));
    assert_int_equal(CFGetRetainCount(new_value), 1);
    CFRelease(dict);
    assert_false(kc_cf_is_live(new_value));
}

static void test_add_value_keeps_existing(void **state) {
    (void)state;
    CFMutableDictionaryRef dict = make_mutable();
    CFDictionaryAddValue(dict, CFSTR("k"), CFSTR("first"));
    CFStringRef second = make_string("second");
    CFDictionaryAddValue(dict, CFSTR("k"), second);
    assert_cfstring(CFDictionaryGetValue(dict, CFSTR("k")), "first");
    assert_int_equal(CFGetRetainCount(second), 1); /* not retained */

    CFDictionaryReplaceValue(dict, CFSTR("absent"), second);
    assert_int_equal(CFDictionaryGetCount(dict), 1); /* Replace never adds */
    CFDictionaryReplaceValue(dict, CFSTR("k"), second);
    assert_cfstring(CFDictionaryGetValue(dict, CFSTR("k")), "second");
    CFRelease(second);
    CFRelease(dict);
}

static void test_remove_releases(void **state) {
    (void)state;
    CFMutableDictionaryRef dict = make_mutable();
    CFStringRef key = make_string("key");
    CFDataRef value = CFDataCreate(NULL, (const UInt8 *)"x", 1);
    CFDictionarySetValue(dict, key, value);
    CFDictionaryRemoveValue(dict, CFSTR("absent")); /* no effect */
    assert_int_equal(CFDictionaryGetCount(dict), 1);
    CFDictionaryRemoveValue(dict, CFSTR("key")); /* by content */
    assert_int_equal(CFDictionaryGetCount(dict), 0);
    assert_int_equal(CFGetRetainCount(key), 1);
    assert_int_equal(CFGetRetainCount(value), 1);

    CFDictionarySetValue(dict, key, value);
    CFDictionarySetValue(dict, CFSTR("other"), kCFBooleanTrue);
    CFRelease(key);
    CFRelease(value);
    CFDictionaryRemoveAllValues(dict);
    assert_false(kc_cf_is_live(key));
    assert_false(kc_cf_is_live(value));
    assert_int_equal(CFDictionaryGetCount(dict), 0);
    CFDictionarySetValue(dict, CFSTR("again"), kCFBooleanFalse);
    assert_int_equal(CFDictionaryGetCount(dict), 1);
    CFRelease(dict);
}

static void test_get_value_if_present_distinguishes_null(void **state) {
    (void)state;
    CFMutableDictionaryRef dict = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                            NULL); /* raw values: NULL allowed */
    CFDictionarySetValue(dict, CFSTR("null"), NULL);
    const void *value = &value;
    assert_true(CFDictionaryGetValueIfPresent(dict, CFSTR("null"), &value));
    assert_null(value);
    assert_false(CFDictionaryGetValueIfPresent(dict, CFSTR("missing"), &value));
    assert_true(CFDictionaryGetValueIfPresent(dict, CFSTR("null"), NULL));
    assert_int_equal(CFDictionaryGetCountOfKey(dict, CFSTR("null")), 1);
    assert_int_equal(CFDictionaryGetCountOfKey(dict, CFSTR("missing")), 0);
    CFRelease(dict);
}

typedef struct {
    int visited;
    char keys[64][8];
} visit_log;

static void record_key(const void *key, const void *value, void *context) {
    (void)value;
    visit_log *log = context;
    snprintf(log->keys[log->visited++], 8, "%s", CFStringGetCStringPtr(key, kCFStringEncodingUTF8));
}

static void test_iteration_follows_insertion_order(void **state) {
    (void)state;
    CFMutableDictionaryRef dict = make_mutable();
    enum { N = 40 }; /* past the size where an index is used */
    CFStringRef keys[N];
    for (int i = 0; i < N; i++) {
        char text[8];
        snprintf(text, sizeof text, "k%02d", (i * 17) % N); /* scrambled order */
        keys[i] = make_string(text);
        CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &i);
        CFDictionarySetValue(dict, keys[i], n);
        CFRelease(n);
    }
    const void *got_keys[N];
    const void *got_values[N];
    CFDictionaryGetKeysAndValues(dict, got_keys, got_values);
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(got_keys[i], keys[i]);
        int v = -1;
        assert_true(CFNumberGetValue(got_values[i], kCFNumberIntType, &v));
        assert_int_equal(v, i); /* keys[i] belongs to values[i] */
    }

    /* Removing keeps the order of the rest and every lookup still works. */
    CFDictionaryRemoveValue(dict, keys[5]);
    CFDictionaryRemoveValue(dict, keys[0]);
    visit_log log = {0, {{0}}};
    CFDictionaryApplyFunction(dict, record_key, &log);
    assert_int_equal(log.visited, N - 2);
    int j = 0;
    for (int i = 0; i < N; i++) {
        if (i == 0 || i == 5) {
            assert_false(CFDictionaryContainsKey(dict, keys[i]));
            continue;
        }
        assert_string_equal(log.keys[j++], CFStringGetCStringPtr(keys[i], kCFStringEncodingUTF8));
        CFStringRef probe = make_string(CFStringGetCStringPtr(keys[i], kCFStringEncodingUTF8));
        const void *value = CFDictionaryGetValue(dict, probe);
        int v = -1;
        assert_true(CFNumberGetValue(value, kCFNumberIntType, &v));
        assert_int_equal(v, i);
        CFRelease(probe);
    }

    /* A replaced value keeps its key's position. */
    CFDictionarySetValue(dict, keys[1], kCFBooleanTrue);
    CFDictionaryGetKeysAndValues(dict, got_keys, NULL);
    assert_ptr_equal(got_keys[0], keys[1]);
    for (int i = 0; i < N; i++) {
        CFRelease(keys[i]);
    }
    CFRelease(dict);
}

static void test_copies(void **state) {
    (void)state;
    CFMutableDictionaryRef source = make_mutable();
    CFStringRef value = make_string("value");
    CFDictionarySetValue(source, CFSTR("b"), value);
    CFDictionarySetValue(source, CFSTR("a"), kCFBooleanTrue);

    CFDictionaryRef frozen = CFDictionaryCreateCopy(NULL, source);
    assert_ptr_not_equal(frozen, source);
    assert_true(CFEqual(frozen, source));
    assert_int_equal(CFGetRetainCount(value), 3);
    const void *keys[2];
    CFDictionaryGetKeysAndValues(frozen, keys, NULL);
    assert_cfstring(keys[0], "b"); /* order preserved */
    CFDictionarySetValue((CFMutableDictionaryRef)frozen, CFSTR("c"), value);
    assert_one_misuse("CFDictionarySetValue called with an immutable CFDictionary object");

    CFDictionaryRef same = CFDictionaryCreateCopy(NULL, frozen);
    assert_ptr_equal(same, frozen); /* immutable: same object, +1 */
    CFRelease(same);

    CFMutableDictionaryRef editable = CFDictionaryCreateMutableCopy(NULL, 0, frozen);
    CFDictionaryRemoveValue(editable, CFSTR("b"));
    assert_int_equal(CFDictionaryGetCount(frozen), 2); /* independent */
    assert_false(CFEqual(editable, frozen));

    CFDictionarySetValue(source, CFSTR("b"), kCFBooleanFalse);
    assert_ptr_equal(CFDictionaryGetValue(frozen, CFSTR("b")), value); /* a snapshot */

    CFRelease(source);
    CFRelease(frozen);
    CFRelease(editable);
    assert_int_equal(CFGetRetainCount(value), 1);
    CFRelease(value);
}

static void test_equality_ignores_order(void **state) {
    (void)state;
    CFMutableDictionaryRef x = make_mutable();
    CFMutableDictionaryRef y = make_mutable();
    CFDictionarySetValue(x, CFSTR("svce"), CFSTR("s"));
    CFDictionarySetValue(x, CFSTR("acct"), CFSTR("a"));
    CFDictionarySetValue(y, CFSTR("acct"), CFSTR("a"));
    CFStringRef s = make_string("s");
    CFDictionarySetValue(y, CFSTR("svce"), s);
    assert_true(CFEqual(x, y));
    assert_int_equal(CFHash(x), CFHash(y));
    CFDictionarySetValue(y, CFSTR("svce"), CFSTR("other"));
    assert_false(CFEqual(x, y));
    CFRelease(s);
    CFRelease(x);
    CFRelease(y);
}

static void test_create_with_duplicate_keys_keeps_first(void **state) {
    (void)state;
    const void *keys[] = {CFSTR("k"), CFSTR("k")};
    const void *values[] = {CFSTR("first"), CFSTR("second")};
    CFDictionaryRef dict = CFDictionaryCreate(NULL, keys, values, 2, &kCFTypeDictionaryKeyCallBacks,
                                              &kCFTypeDictionaryValueCallBacks);
    assert_int_equal(CFDictionaryGetCount(dict), 1);
    assert_cfstring(CFDictionaryGetValue(dict, CFSTR("k")), "first");
    CFRelease(dict);
}

static void test_copy_string_key_callbacks(void **state) {
    (void)state;
    CFMutableDictionaryRef dict = CFDictionaryCreateMutable(
        NULL, 0, &kCFCopyStringDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
    CFStringRef key = make_string("copied");
    CFDictionarySetValue(dict, key, kCFBooleanTrue);
    assert_int_equal(CFGetRetainCount(key), 2); /* an immutable copy is the string, +1 */
    CFRelease(key);
    assert_true(CFDictionaryContainsKey(dict, CFSTR("copied")));
    CFRelease(dict);
    assert_false(kc_cf_is_live(key));
}

static void mutate_during_apply(const void *key, const void *value, void *context) {
    (void)value;
    CFDictionaryRemoveValue(context, key);
}

static void test_misuse_is_reported_and_refused(void **state) {
    (void)state;
    CFMutableDictionaryRef dict = make_mutable();
    CFDictionarySetValue(dict, NULL, CFSTR("v"));
    assert_one_misuse("NULL key for a CFDictionary whose key callbacks need objects");
    CFDictionarySetValue(dict, CFSTR("k"), NULL);
    assert_one_misuse("NULL value for a CFDictionary that retains its values");
    assert_int_equal(CFDictionaryGetCount(dict), 0);
    assert_null(CFDictionaryGetValue(dict, NULL));
    assert_one_misuse("CFDictionaryGetValue: NULL key");

    CFDictionarySetValue(dict, CFSTR("a"), CFSTR("1"));
    CFDictionarySetValue(dict, CFSTR("b"), CFSTR("2"));
    CFDictionaryApplyFunction(dict, mutate_during_apply, dict);
    assert_int_equal(kc_cf_misuse_count(), 2);
    assert_non_null(strstr(kc_cf_last_misuse(), "during CFDictionaryApplyFunction"));
    kc_cf_reset_misuse();
    assert_int_equal(CFDictionaryGetCount(dict), 2);

    assert_int_equal(CFDictionaryGetCount(NULL), 0);
    assert_one_misuse("CFDictionaryGetCount called with NULL");
    assert_null(CFDictionaryGetValue((CFDictionaryRef)CFSTR("x"), CFSTR("k")));
    assert_one_misuse("called with a CFString object (expected CFDictionary)");
    const void *keys[] = {CFSTR("k")};
    assert_null(CFDictionaryCreate(NULL, keys, NULL, 1, &kCFTypeDictionaryKeyCallBacks,
                                   &kCFTypeDictionaryValueCallBacks));
    assert_one_misuse("NULL keys or values");
    CFRelease(dict);
}

static void test_many_keys_lookup(void **state) {
    (void)state;
    CFMutableDictionaryRef dict = make_mutable();
    for (int i = 0; i < 500; i++) {
        char text[16];
        snprintf(text, sizeof text, "key-%d", i);
        CFStringRef key = make_string(text);
        CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &i);
        CFDictionarySetValue(dict, key, n);
        CFRelease(key);
        CFRelease(n);
    }
    assert_int_equal(CFDictionaryGetCount(dict), 500);
    for (int i = 499; i >= 0; i--) {
        char text[16];
        snprintf(text, sizeof text, "key-%d", i);
        CFStringRef probe = make_string(text);
        int v = -1;
        assert_true(CFNumberGetValue(CFDictionaryGetValue(dict, probe), kCFNumberIntType, &v));
        assert_int_equal(v, i);
        if (i % 2 == 0) {
            CFDictionaryRemoveValue(dict, probe);
        }
        CFRelease(probe);
    }
    assert_int_equal(CFDictionaryGetCount(dict), 250);
    assert_false(CFDictionaryContainsKey(dict, CFSTR("key-0")));
    assert_true(CFDictionaryContainsKey(dict, CFSTR("key-1")));
    CFRelease(dict);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(name) CF_TEST(name)
        T(test_keys_match_by_content),
        T(test_cftype_callbacks_retain_keys_and_values),
        T(test_null_callbacks_use_identity_without_retain),
        T(test_set_value_replaces_and_releases_old),
        T(test_add_value_keeps_existing),
        T(test_remove_releases),
        T(test_get_value_if_present_distinguishes_null),
        T(test_iteration_follows_insertion_order),
        T(test_copies),
        T(test_equality_ignores_order),
        T(test_create_with_duplicate_keys_keeps_first),
        T(test_copy_string_key_callbacks),
        T(test_misuse_is_reported_and_refused),
        T(test_many_keys_lookup),
#undef T
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
