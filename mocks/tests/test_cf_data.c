/* CFData / CFMutableData: copies, content equality, growth, capacity,
 * ranges, aliasing, misuse. */
#include "cf_test_support.h"

static void assert_data(CFDataRef data, const void *bytes, CFIndex length) {
    assert_int_equal(CFDataGetLength(data), length);
    if (length > 0) {
        assert_memory_equal(CFDataGetBytePtr(data), bytes, (size_t)length);
    }
}

/* ---- Tests ---------------------------------------------------------------------- */

static void test_create_copies_the_bytes(void **state) {
    (void)state;
    UInt8 source[4] = {1, 2, 3, 4};
    CFDataRef data = CFDataCreate(NULL, source, 4);
    source[0] = 99; /* the data holds its own copy */
    const UInt8 expected[4] = {1, 2, 3, 4};
    assert_data(data, expected, 4);
    assert_int_equal(CFGetTypeID(data), CFDataGetTypeID());

    UInt8 out[2] = {0, 0};
    CFDataGetBytes(data, CFRangeMake(1, 2), out);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[1], 3);
    CFRelease(data);
}

static void test_empty_data_has_a_pointer(void **state) {
    (void)state;
    CFDataRef empty = CFDataCreate(NULL, NULL, 0);
    assert_int_equal(CFDataGetLength(empty), 0);
    assert_non_null(CFDataGetBytePtr(empty));
    CFMutableDataRef mutable_empty = CFDataCreateMutable(NULL, 0);
    assert_non_null(CFDataGetBytePtr(mutable_empty));
    assert_true(CFEqual(empty, mutable_empty)); /* mutability does not matter */
    CFRelease(empty);
    CFRelease(mutable_empty);
}

static void test_equality_and_hash_by_content(void **state) {
    (void)state;
    CFDataRef a = CFDataCreate(NULL, (const UInt8 *)"secret", 6);
    CFDataRef b = CFDataCreate(NULL, (const UInt8 *)"secret", 6);
    CFDataRef c = CFDataCreate(NULL, (const UInt8 *)"secreT", 6);
    CFDataRef d = CFDataCreate(NULL, (const UInt8 *)"secre", 5);
    assert_true(CFEqual(a, b));
    assert_int_equal(CFHash(a), CFHash(b));
    assert_false(CFEqual(a, c));
    assert_false(CFEqual(a, d));
    CFRelease(a);
    CFRelease(b);
    CFRelease(c);
    CFRelease(d);
}

static void test_create_copy_ownership(void **state) {
    (void)state;
    CFDataRef data = CFDataCreate(NULL, (const UInt8 *)"abc", 3);
    CFDataRef copy = CFDataCreateCopy(NULL, data);
    assert_ptr_equal(copy, data); /* immutable: same object, +1 */
    assert_int_equal(CFGetRetainCount(data), 2);
    CFRelease(copy);

    CFMutableDataRef mutable_data = CFDataCreateMutableCopy(NULL, 0, data);
    CFDataRef snapshot = CFDataCreateCopy(NULL, mutable_data);
    assert_ptr_not_equal(snapshot, mutable_data); /* a mutable source is copied */
    CFDataAppendBytes(mutable_data, (const UInt8 *)"d", 1);
    assert_data(snapshot, "abc", 3);
    assert_data(mutable_data, "abcd", 4);
    assert_data(data, "abc", 3);
    CFRelease(data);
    CFRelease(mutable_data);
    CFRelease(snapshot);
}

static void test_mutable_append_grows(void **state) {
    (void)state;
    CFMutableDataRef data = CFDataCreateMutable(NULL, 0);
    UInt8 expected[1000];
    for (int i = 0; i < 1000; i++) {
        UInt8 byte = (UInt8)(i * 7);
        expected[i] = byte;
        CFDataAppendBytes(data, &byte, 1);
    }
    assert_data(data, expected, 1000);
    CFDataAppendBytes(data, NULL, 0); /* appending nothing is fine */
    assert_int_equal(CFDataGetLength(data), 1000);
    CFRelease(data);
}

static void test_set_length_zero_fills_growth(void **state) {
    (void)state;
    CFMutableDataRef data = CFDataCreateMutable(NULL, 0);
    CFDataAppendBytes(data, (const UInt8 *)"abcdef", 6);
    CFDataSetLength(data, 2); /* shrink: "ab" */
    CFDataSetLength(data, 6); /* grow again: the old "cdef" must not reappear */
    assert_data(data, "ab\0\0\0\0", 6);
    CFDataIncreaseLength(data, 100);
    const UInt8 *bytes = CFDataGetBytePtr(data);
    for (int i = 2; i < 106; i++) {
        assert_int_equal(bytes[i], 0);
    }
    CFDataSetLength(data, -1);
    assert_one_misuse("invalid CFData length");
    assert_int_equal(CFDataGetLength(data), 106);
    CFRelease(data);
}

static void test_capacity_is_a_limit(void **state) {
    (void)state;
    CFMutableDataRef data = CFDataCreateMutable(NULL, 4);
    CFDataAppendBytes(data, (const UInt8 *)"abcd", 4);
    CFDataAppendBytes(data, (const UInt8 *)"e", 1);
    assert_one_misuse("exceeds the capacity 4");
    assert_data(data, "abcd", 4);
    CFDataSetLength(data, 5);
    assert_one_misuse("exceeds the capacity 4");
    CFRelease(data);

    CFDataRef source = CFDataCreate(NULL, (const UInt8 *)"abc", 3);
    assert_null(CFDataCreateMutableCopy(NULL, 2, source));
    assert_one_misuse("capacity below the data's length");
    CFRelease(source);
}

static void test_get_bytes_out_of_range_is_misuse(void **state) {
    (void)state;
    CFDataRef data = CFDataCreate(NULL, (const UInt8 *)"abc", 3);
    UInt8 out[4] = {7, 7, 7, 7};
    CFDataGetBytes(data, CFRangeMake(2, 2), out);
    assert_one_misuse("outside a CFData of length 3");
    assert_int_equal(out[0], 7); /* nothing copied */
    CFDataGetBytes(data, CFRangeMake(-1, 1), out);
    assert_one_misuse("outside a CFData");
    CFDataGetBytes(data, CFRangeMake(0, 3), out);
    assert_memory_equal(out, "abc", 3);
    CFRelease(data);
}

static void test_mutable_byte_ptr(void **state) {
    (void)state;
    CFMutableDataRef data = CFDataCreateMutable(NULL, 0);
    CFDataSetLength(data, 3);
    UInt8 *bytes = CFDataGetMutableBytePtr(data);
    memcpy(bytes, "xyz", 3);
    assert_data(data, "xyz", 3);

    CFDataRef immutable = CFDataCreate(NULL, (const UInt8 *)"k", 1);
    assert_null(CFDataGetMutableBytePtr((CFMutableDataRef)immutable));
    assert_one_misuse("immutable CFData");
    CFDataAppendBytes((CFMutableDataRef)immutable, (const UInt8 *)"!", 1);
    assert_one_misuse("CFDataAppendBytes called with an immutable CFData object");
    assert_data(immutable, "k", 1);
    CFRelease(data);
    CFRelease(immutable);
}

static void test_append_own_bytes(void **state) {
    (void)state;
    CFMutableDataRef data = CFDataCreateMutable(NULL, 0);
    CFDataAppendBytes(data, (const UInt8 *)"0123456789AB", 12);
    /* The source lies in the buffer that this append must grow (realloc). */
    CFDataAppendBytes(data, CFDataGetBytePtr(data), 12);
    assert_data(data, "0123456789AB0123456789AB", 24);
    CFDataReplaceBytes(data, CFRangeMake(0, 2), CFDataGetBytePtr(data) + 20, 4);
    assert_data(data, "89AB23456789AB0123456789AB", 26);
    CFRelease(data);
}

static void test_replace_and_delete(void **state) {
    (void)state;
    CFMutableDataRef data = CFDataCreateMutable(NULL, 0);
    CFDataAppendBytes(data, (const UInt8 *)"hello world", 11);
    CFDataReplaceBytes(data, CFRangeMake(6, 5), (const UInt8 *)"keyclass", 8);
    assert_data(data, "hello keyclass", 14);
    CFDataDeleteBytes(data, CFRangeMake(0, 6));
    assert_data(data, "keyclass", 8);
    CFDataReplaceBytes(data, CFRangeMake(3, 0), (const UInt8 *)"-", 1); /* insert */
    assert_data(data, "key-class", 9);
    CFDataDeleteBytes(data, CFRangeMake(5, 10));
    assert_one_misuse("outside a CFData of length 9");
    assert_data(data, "key-class", 9);
    CFRelease(data);
}

static void test_invalid_arguments(void **state) {
    (void)state;
    assert_null(CFDataCreate(NULL, NULL, 3));
    assert_one_misuse("CFDataCreate called with NULL bytes");
    assert_null(CFDataCreate(NULL, (const UInt8 *)"x", -1));
    assert_one_misuse("invalid length");
    assert_null(CFDataCreateMutable(NULL, -5));
    assert_one_misuse("invalid capacity");
    assert_null(CFDataGetBytePtr(NULL));
    assert_one_misuse("CFDataGetBytePtr called with NULL");
    CFDataAppendBytes(NULL, (const UInt8 *)"x", 1);
    assert_one_misuse("CFDataAppendBytes called with NULL");
}

static void test_description(void **state) {
    (void)state;
    CFDataRef data = CFDataCreate(NULL, (const UInt8 *)"\x01\xab", 2);
    CFStringRef description = CFCopyDescription(data);
    assert_string_equal(CFStringGetCStringPtr(description, kCFStringEncodingUTF8),
                        "<CFData length=2 bytes=0x01ab>");
    CFRelease(description);
    CFRelease(data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(name) CF_TEST(name)
        T(test_create_copies_the_bytes),
        T(test_empty_data_has_a_pointer),
        T(test_equality_and_hash_by_content),
        T(test_create_copy_ownership),
        T(test_mutable_append_grows),
        T(test_set_length_zero_fills_growth),
        T(test_capacity_is_a_limit),
        T(test_get_bytes_out_of_range_is_misuse),
        T(test_mutable_byte_ptr),
        T(test_append_own_bytes),
        T(test_replace_and_delete),
        T(test_invalid_arguments),
        T(test_description),
#undef T
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
