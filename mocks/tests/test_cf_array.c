/* CFArray / CFMutableArray: retain semantics of the callbacks, ownership of
 * copies, element equality, mutation, iteration, misuse. */
#include "cf_test_support.h"

/* ---- Tests ---------------------------------------------------------------------- */

static void test_cftype_array_retains_and_releases(void **state) {
    (void)state;
    CFStringRef s = make_string("element");
    const void *values[] = {s};
    CFArrayRef array = CFArrayCreate(NULL, values, 1, &kCFTypeArrayCallBacks);
    assert_int_equal(CFGetTypeID(array), CFArrayGetTypeID());
    assert_int_equal(CFGetRetainCount(s), 2); /* the array holds one reference */

    CFRelease(s); /* the caller's reference */
    assert_true(kc_cf_is_live(s));
    assert_int_equal(CFArrayGetCount(array), 1);
    assert_cfstring(CFArrayGetValueAtIndex(array, 0), "element");
    assert_int_equal(CFGetRetainCount(s), 1); /* Get does not retain */

    CFRelease(array);
    assert_false(kc_cf_is_live(s)); /* released with the array */
}

static void test_null_callbacks_hold_raw_pointers(void **state) {
    (void)state;
    CFStringRef s = make_string("raw");
    static int plain_int = 5;
    const void *values[] = {s, &plain_int, NULL};
    CFArrayRef array = CFArrayCreate(NULL, values, 3, NULL);
    assert_int_equal(CFGetRetainCount(s), 1); /* not retained */
    assert_ptr_equal(CFArrayGetValueAtIndex(array, 1), &plain_int);
    assert_null(CFArrayGetValueAtIndex(array, 2));

    /* Identity equality: an equal-content string is not "contained". */
    CFStringRef twin = make_string("raw");
    assert_true(CFArrayContainsValue(array, CFRangeMake(0, 3), s));
    assert_false(CFArrayContainsValue(array, CFRangeMake(0, 3), twin));
    CFRelease(array);
    assert_true(kc_cf_is_live(s)); /* not released either */
    CFRelease(s);
    CFRelease(twin);
}

static void test_mutable_append_and_remove(void **state) {
    (void)state;
    CFMutableArrayRef array = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    CFStringRef s = make_string("x");
    CFArrayAppendValue(array, s);
    CFArrayAppendValue(array, s);
    assert_int_equal(CFGetRetainCount(s), 3);
    assert_int_equal(CFArrayGetCount(array), 2);

    CFArrayRemoveValueAtIndex(array, 0);
    assert_int_equal(CFGetRetainCount(s), 2);
    assert_int_equal(CFArrayGetCount(array), 1);

    CFArrayRemoveValueAtIndex(array, 1);
    assert_one_misuse("index 1 outside a CFArray of count 1");
    assert_int_equal(CFArrayGetCount(array), 1);

    CFRelease(s);
    CFArrayRemoveValueAtIndex(array, 0);
    assert_false(kc_cf_is_live(s)); /* the array held the last reference */
    CFRelease(array);
}

static void test_capacity_is_only_a_hint(void **state) {
    (void)state;
    CFMutableArrayRef array = CFArrayCreateMutable(NULL, 2, &kCFTypeArrayCallBacks);
    for (int i = 0; i < 100; i++) {
        CFArrayAppendValue(array, kCFBooleanTrue);
    }
    assert_int_equal(CFArrayGetCount(array), 100);
    CFRelease(array);
}

static void test_get_value_out_of_range(void **state) {
    (void)state;
    CFArrayRef empty = CFArrayCreate(NULL, NULL, 0, &kCFTypeArrayCallBacks);
    assert_int_equal(CFArrayGetCount(empty), 0);
    assert_null(CFArrayGetValueAtIndex(empty, 0));
    assert_one_misuse("CFArrayGetValueAtIndex: index 0 outside a CFArray of count 0");
    assert_null(CFArrayGetValueAtIndex(empty, -1));
    assert_one_misuse("index -1");
    CFRelease(empty);
}

static void test_equality_is_elementwise(void **state) {
    (void)state;
    CFStringRef a1 = make_string("a"), a2 = make_string("a"), b = make_string("b");
    const void *first[] = {a1, b};
    const void *second[] = {a2, b};
    const void *reversed[] = {b, a1};
    CFArrayRef x = CFArrayCreate(NULL, first, 2, &kCFTypeArrayCallBacks);
    CFArrayRef y = CFArrayCreate(NULL, second, 2, &kCFTypeArrayCallBacks);
    CFArrayRef z = CFArrayCreate(NULL, reversed, 2, &kCFTypeArrayCallBacks);
    CFArrayRef shorter = CFArrayCreate(NULL, first, 1, &kCFTypeArrayCallBacks);
    assert_true(CFEqual(x, y)); /* equal elements, distinct objects */
    assert_int_equal(CFHash(x), CFHash(y));
    assert_false(CFEqual(x, z)); /* order matters */
    assert_false(CFEqual(x, shorter));
    CFRelease(x);
    CFRelease(y);
    CFRelease(z);
    CFRelease(shorter);
    CFRelease(a1);
    CFRelease(a2);
    CFRelease(b);
}

static void test_copies(void **state) {
    (void)state;
    CFStringRef s = make_string("v");
    const void *values[] = {s};
    CFArrayRef immutable = CFArrayCreate(NULL, values, 1, &kCFTypeArrayCallBacks);
    CFArrayRef same = CFArrayCreateCopy(NULL, immutable);
    assert_ptr_equal(same, immutable); /* immutable: the same object, +1 */
    assert_int_equal(CFGetRetainCount(immutable), 2);
    CFRelease(same);

    CFMutableArrayRef mutable_copy = CFArrayCreateMutableCopy(NULL, 0, immutable);
    assert_ptr_not_equal(mutable_copy, immutable);
    assert_int_equal(CFGetRetainCount(s), 3); /* s held by both arrays + caller */
    CFArrayAppendValue(mutable_copy, kCFBooleanFalse);
    assert_int_equal(CFArrayGetCount(immutable), 1); /* independent */

    CFArrayRef frozen = CFArrayCreateCopy(NULL, mutable_copy);
    assert_ptr_not_equal(frozen, mutable_copy);
    assert_true(CFEqual(frozen, mutable_copy));
    CFArrayAppendValue((CFMutableArrayRef)frozen, s);
    assert_one_misuse("immutable CFArray");

    CFRelease(immutable);
    CFRelease(mutable_copy);
    CFRelease(frozen);
    assert_int_equal(CFGetRetainCount(s), 1);
    CFRelease(s);
}

static void test_set_value_retains_before_releasing(void **state) {
    (void)state;
    CFMutableArrayRef array = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    CFStringRef s = make_string("only-ref-in-array");
    CFArrayAppendValue(array, s);
    CFRelease(s);                        /* the array holds the only reference */
    CFArraySetValueAtIndex(array, 0, s); /* same object again */
    assert_true(kc_cf_is_live(s));
    assert_cfstring(CFArrayGetValueAtIndex(array, 0), "only-ref-in-array");

    CFStringRef t = make_string("replacement");
    CFArraySetValueAtIndex(array, 0, t);
    assert_false(kc_cf_is_live(s));      /* old value released */
    CFArraySetValueAtIndex(array, 1, t); /* idx == count appends */
    assert_int_equal(CFArrayGetCount(array), 2);
    assert_int_equal(CFGetRetainCount(t), 3);
    CFRelease(t);
    CFRelease(array);
}

static void test_search_insert_and_append_array(void **state) {
    (void)state;
    CFMutableArrayRef array = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    CFArrayAppendValue(array, CFSTR("b"));
    CFArrayInsertValueAtIndex(array, 0, CFSTR("a"));
    CFArrayInsertValueAtIndex(array, 2, CFSTR("c"));
    CFArrayInsertValueAtIndex(array, 4, CFSTR("x"));
    assert_one_misuse("index 4 outside");

    CFStringRef c = make_string("c"); /* found by content */
    assert_int_equal(CFArrayGetFirstIndexOfValue(array, CFRangeMake(0, 3), c), 2);
    assert_int_equal(CFArrayGetFirstIndexOfValue(array, CFRangeMake(0, 2), c), kCFNotFound);
    assert_true(CFArrayContainsValue(array, CFRangeMake(0, 3), c));
    CFRelease(c);

    CFArrayAppendArray(array, array, CFRangeMake(0, 3)); /* appending itself */
    assert_int_equal(CFArrayGetCount(array), 6);
    const void *values[6];
    CFArrayGetValues(array, CFRangeMake(0, 6), values);
    const char *expected[] = {"a", "b", "c", "a", "b", "c"};
    for (int i = 0; i < 6; i++) {
        assert_cfstring(values[i], expected[i]);
    }
    CFArrayGetValues(array, CFRangeMake(5, 2), values);
    assert_one_misuse("range {5, 2} outside");

    CFArrayRemoveAllValues(array);
    assert_int_equal(CFArrayGetCount(array), 0);
    CFArrayAppendValue(array, CFSTR("again")); /* usable after RemoveAll */
    assert_int_equal(CFArrayGetCount(array), 1);
    CFRelease(array);
}

typedef struct {
    CFMutableArrayRef array;
    int visited;
    char order[8];
} apply_context;

static void visit(const void *value, void *context) {
    apply_context *ctx = context;
    ctx->order[ctx->visited++] = CFStringGetCStringPtr(value, kCFStringEncodingUTF8)[0];
    CFArrayAppendValue(ctx->array, value); /* refused during iteration */
}

static void test_apply_function_in_order_and_refuses_mutation(void **state) {
    (void)state;
    CFMutableArrayRef array = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    CFArrayAppendValue(array, CFSTR("p"));
    CFArrayAppendValue(array, CFSTR("q"));
    CFArrayAppendValue(array, CFSTR("r"));
    apply_context ctx = {array, 0, {0}};
    CFArrayApplyFunction(array, CFRangeMake(0, 3), visit, &ctx);
    assert_int_equal(ctx.visited, 3);
    assert_memory_equal(ctx.order, "pqr", 3);
    assert_int_equal(kc_cf_misuse_count(), 3);
    assert_non_null(strstr(kc_cf_last_misuse(), "during CFArrayApplyFunction"));
    kc_cf_reset_misuse();
    assert_int_equal(CFArrayGetCount(array), 3);
    CFArrayAppendValue(array, CFSTR("s")); /* allowed again afterwards */
    assert_int_equal(CFArrayGetCount(array), 4);
    CFRelease(array);
}

static void test_null_values_and_arguments(void **state) {
    (void)state;
    CFMutableArrayRef array = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    CFArrayAppendValue(array, NULL);
    assert_one_misuse("NULL value for a CFArray that retains its values");
    assert_int_equal(CFArrayGetCount(array), 0);
    const void *values[] = {CFSTR("a"), NULL};
    assert_null(CFArrayCreate(NULL, values, 2, &kCFTypeArrayCallBacks));
    assert_one_misuse("NULL value");
    assert_null(CFArrayCreate(NULL, NULL, 1, &kCFTypeArrayCallBacks));
    assert_one_misuse("NULL values");
    assert_int_equal(CFArrayGetCount(NULL), 0);
    assert_one_misuse("CFArrayGetCount called with NULL");
    CFRelease(array);
}

static void test_description(void **state) {
    (void)state;
    int two = 2;
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &two);
    const void *values[] = {CFSTR("x"), n};
    CFArrayRef array = CFArrayCreate(NULL, values, 2, &kCFTypeArrayCallBacks);
    CFStringRef description = CFCopyDescription(array);
    assert_cfstring(description, "(x, 2)");
    CFRelease(description);
    CFRelease(array);
    CFRelease(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(name) CF_TEST(name)
        T(test_cftype_array_retains_and_releases),
        T(test_null_callbacks_hold_raw_pointers),
        T(test_mutable_append_and_remove),
        T(test_capacity_is_only_a_hint),
        T(test_get_value_out_of_range),
        T(test_equality_is_elementwise),
        T(test_copies),
        T(test_set_value_retains_before_releasing),
        T(test_search_insert_and_append_array),
        T(test_apply_function_in_order_and_refuses_mutation),
        T(test_null_values_and_arguments),
        T(test_description),
#undef T
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
