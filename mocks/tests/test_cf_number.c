/* CFNumber and CFBoolean: round trips, canonical types, lossy conversions,
 * numeric equality across types, comparison, immortal booleans. */
#include "cf_test_support.h"

#include <math.h>

static CFNumberRef make_i64(int64_t value) {
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberSInt64Type, &value);
    assert_non_null(n);
    return n;
}

static CFNumberRef make_double(double value) {
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberDoubleType, &value);
    assert_non_null(n);
    return n;
}

/* ---- Tests ---------------------------------------------------------------------- */

static void test_round_trips(void **state) {
    (void)state;
    int32_t i32 = -123456, i32_out = 0;
    CFNumberRef n32 = CFNumberCreate(NULL, kCFNumberSInt32Type, &i32);
    assert_true(CFNumberGetValue(n32, kCFNumberSInt32Type, &i32_out));
    assert_int_equal(i32_out, -123456);

    int64_t i64 = INT64_MIN, i64_out = 0;
    CFNumberRef n64 = CFNumberCreate(NULL, kCFNumberSInt64Type, &i64);
    assert_true(CFNumberGetValue(n64, kCFNumberSInt64Type, &i64_out));
    assert_true(i64_out == INT64_MIN);

    double d = 0.1, d_out = 0;
    CFNumberRef nd = CFNumberCreate(NULL, kCFNumberDoubleType, &d);
    assert_true(CFNumberGetValue(nd, kCFNumberDoubleType, &d_out));
    assert_true(d_out == 0.1);

    float f = 1.5f, f_out = 0;
    CFNumberRef nf = CFNumberCreate(NULL, kCFNumberFloatType, &f);
    assert_true(CFNumberGetValue(nf, kCFNumberFloat32Type, &f_out));
    assert_true(f_out == 1.5f);

    CFIndex idx = 77, idx_out = 0;
    long l_out = 0;
    int i_out = 0;
    CFNumberRef ni = CFNumberCreate(NULL, kCFNumberCFIndexType, &idx);
    assert_true(CFNumberGetValue(ni, kCFNumberCFIndexType, &idx_out));
    assert_true(CFNumberGetValue(ni, kCFNumberLongType, &l_out));
    assert_true(CFNumberGetValue(ni, kCFNumberIntType, &i_out));
    assert_int_equal(idx_out, 77);
    assert_int_equal(l_out, 77);
    assert_int_equal(i_out, 77);

    signed char c = -5, c_out = 0;
    short s = 30000, s_out = 0;
    CFNumberRef nc = CFNumberCreate(NULL, kCFNumberCharType, &c);
    CFNumberRef ns = CFNumberCreate(NULL, kCFNumberShortType, &s);
    assert_true(CFNumberGetValue(nc, kCFNumberSInt8Type, &c_out));
    assert_true(CFNumberGetValue(ns, kCFNumberSInt16Type, &s_out));
    assert_int_equal(c_out, -5);
    assert_int_equal(s_out, 30000);

    CFRelease(n32);
    CFRelease(n64);
    CFRelease(nd);
    CFRelease(nf);
    CFRelease(ni);
    CFRelease(nc);
    CFRelease(ns);
}

static void test_canonical_types(void **state) {
    (void)state;
    int i = 1;
    long l = 1;
    double d = 1;
    float f = 1;
    CFNumberRef ni = CFNumberCreate(NULL, kCFNumberIntType, &i);
    CFNumberRef nl = CFNumberCreate(NULL, kCFNumberLongType, &l);
    CFNumberRef nd = CFNumberCreate(NULL, kCFNumberDoubleType, &d);
    CFNumberRef nf = CFNumberCreate(NULL, kCFNumberFloatType, &f);
    assert_int_equal(CFNumberGetType(ni), kCFNumberSInt32Type);
    assert_int_equal(CFNumberGetType(nl), kCFNumberSInt64Type);
    assert_int_equal(CFNumberGetType(nd), kCFNumberFloat64Type);
    assert_int_equal(CFNumberGetType(nf), kCFNumberFloat32Type);
    assert_int_equal(CFNumberGetByteSize(ni), 4);
    assert_int_equal(CFNumberGetByteSize(nl), 8);
    assert_false(CFNumberIsFloatType(ni));
    assert_true(CFNumberIsFloatType(nd));
    assert_int_equal(CFGetTypeID(ni), CFNumberGetTypeID());
    CFRelease(ni);
    CFRelease(nl);
    CFRelease(nd);
    CFRelease(nf);
}

static void test_equality_across_types(void **state) {
    (void)state;
    int32_t five32 = 5;
    CFNumberRef a = CFNumberCreate(NULL, kCFNumberSInt32Type, &five32);
    CFNumberRef b = make_i64(5);
    CFNumberRef c = make_double(5.0);
    CFNumberRef half = make_double(5.5);
    assert_true(CFEqual(a, b));
    assert_true(CFEqual(b, c));
    assert_true(CFEqual(c, a));
    assert_int_equal(CFHash(a), CFHash(b));
    assert_int_equal(CFHash(a), CFHash(c));
    assert_false(CFEqual(a, half));

    /* 2^53 + 1 is not a double: a rounding comparison would call them equal. */
    CFNumberRef big = make_i64((INT64_C(1) << 53) + 1);
    CFNumberRef big_real = make_double(9007199254740992.0); /* 2^53 */
    assert_false(CFEqual(big, big_real));
    assert_int_equal(CFNumberCompare(big, big_real, NULL), kCFCompareGreaterThan);

    CFNumberRef zero = make_i64(0);
    CFNumberRef negative_zero = make_double(-0.0);
    assert_true(CFEqual(zero, negative_zero));
    assert_int_equal(CFHash(zero), CFHash(negative_zero));

    CFRelease(a);
    CFRelease(b);
    CFRelease(c);
    CFRelease(half);
    CFRelease(big);
    CFRelease(big_real);
    CFRelease(zero);
    CFRelease(negative_zero);
}

static void test_lossy_conversions_return_false(void **state) {
    (void)state;
    CFNumberRef n300 = make_i64(300);
    int8_t i8 = 0;
    assert_false(CFNumberGetValue(n300, kCFNumberSInt8Type, &i8));
    int16_t i16 = 0;
    assert_true(CFNumberGetValue(n300, kCFNumberSInt16Type, &i16));
    assert_int_equal(i16, 300);

    CFNumberRef fraction = make_double(3.75);
    int32_t i32 = 0;
    assert_false(CFNumberGetValue(fraction, kCFNumberSInt32Type, &i32));
    assert_int_equal(i32, 3); /* truncated toward zero, still stored */

    CFNumberRef huge = make_double(1e20);
    int64_t i64 = 0;
    assert_false(CFNumberGetValue(huge, kCFNumberSInt64Type, &i64));
    assert_true(i64 == INT64_MAX); /* clamped, no undefined conversion */

    CFNumberRef not_a_number = make_double(NAN);
    assert_false(CFNumberGetValue(not_a_number, kCFNumberSInt32Type, &i32));

    CFNumberRef precise = make_i64((INT64_C(1) << 53) + 1);
    double d = 0;
    assert_false(CFNumberGetValue(precise, kCFNumberDoubleType, &d));
    CFNumberRef seven = make_i64(7);
    assert_true(CFNumberGetValue(seven, kCFNumberDoubleType, &d));
    assert_true(d == 7.0);

    float f = 0;
    CFNumberRef tenth = make_double(0.1);
    assert_false(CFNumberGetValue(tenth, kCFNumberFloatType, &f)); /* rounded */
    CFNumberRef beyond_float = make_double(1e300);
    assert_false(CFNumberGetValue(beyond_float, kCFNumberFloatType, &f));
    assert_true(f == INFINITY); /* clamped, no undefined conversion */
    CFNumberRef quarter = make_double(0.25);
    assert_true(CFNumberGetValue(quarter, kCFNumberFloatType, &f));

    CFNumberRef minus_one = make_i64(-1);
    assert_true(CFNumberGetValue(minus_one, kCFNumberSInt32Type, &i32));
    assert_int_equal(i32, -1);

    CFRelease(n300);
    CFRelease(fraction);
    CFRelease(huge);
    CFRelease(not_a_number);
    CFRelease(precise);
    CFRelease(seven);
    CFRelease(tenth);
    CFRelease(quarter);
    CFRelease(beyond_float);
    CFRelease(minus_one);
}

static void test_compare(void **state) {
    (void)state;
    CFNumberRef one = make_i64(1);
    CFNumberRef one_half = make_double(1.5);
    CFNumberRef three = make_i64(3);
    CFNumberRef three_real = make_double(3.0);
    CFNumberRef nan1 = make_double(NAN);
    CFNumberRef nan2 = make_double(NAN);
    assert_int_equal(CFNumberCompare(one, one_half, NULL), kCFCompareLessThan);
    assert_int_equal(CFNumberCompare(one_half, one, NULL), kCFCompareGreaterThan);
    assert_int_equal(CFNumberCompare(three, three_real, NULL), kCFCompareEqualTo);
    assert_int_equal(CFNumberCompare(nan1, one, NULL), kCFCompareLessThan);
    assert_int_equal(CFNumberCompare(nan1, nan2, NULL), kCFCompareEqualTo);
    assert_true(CFEqual(nan1, nan2));
    CFRelease(one);
    CFRelease(one_half);
    CFRelease(three);
    CFRelease(three_real);
    CFRelease(nan1);
    CFRelease(nan2);
}

static void test_invalid_arguments(void **state) {
    (void)state;
    assert_null(CFNumberCreate(NULL, kCFNumberSInt32Type, NULL));
    assert_one_misuse("CFNumberCreate called with NULL");
    int x = 1;
    assert_null(CFNumberCreate(NULL, 99, &x));
    assert_one_misuse("unknown number type");
    CFNumberRef n = make_i64(1);
    assert_false(CFNumberGetValue(n, kCFNumberSInt32Type, NULL));
    assert_one_misuse("CFNumberGetValue called with NULL");
    assert_false(CFNumberGetValue((CFNumberRef)kCFBooleanTrue, kCFNumberIntType, &x));
    assert_one_misuse("called with a CFBoolean object (expected CFNumber)");
    CFRelease(n);
}

static void test_description(void **state) {
    (void)state;
    CFNumberRef n = make_i64(-25300);
    CFNumberRef d = make_double(0.5);
    CFStringRef a = CFCopyDescription(n);
    CFStringRef b = CFCopyDescription(d);
    assert_string_equal(CFStringGetCStringPtr(a, kCFStringEncodingUTF8), "-25300");
    assert_string_equal(CFStringGetCStringPtr(b, kCFStringEncodingUTF8), "0.5");
    CFRelease(a);
    CFRelease(b);
    CFRelease(n);
    CFRelease(d);
}

static void test_booleans(void **state) {
    (void)state;
    assert_true(CFBooleanGetValue(kCFBooleanTrue));
    assert_false(CFBooleanGetValue(kCFBooleanFalse));
    assert_int_equal(CFGetTypeID(kCFBooleanTrue), CFBooleanGetTypeID());
    assert_true(CFBooleanGetTypeID() != CFNumberGetTypeID());
    assert_false(CFEqual(kCFBooleanTrue, kCFBooleanFalse));
    assert_true(CFEqual(kCFBooleanTrue, kCFBooleanTrue));

    CFIndex live = kc_cf_live_total();
    CFRelease(CFRetain(kCFBooleanFalse));
    CFRelease(kCFBooleanFalse); /* immortal: no effect */
    assert_true(kc_cf_is_live(kCFBooleanFalse));
    assert_int_equal(kc_cf_live_total(), live);

    int one = 1;
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &one);
    assert_false(CFEqual(n, kCFBooleanTrue)); /* CFBoolean is not a CFNumber */
    assert_false(CFBooleanGetValue((CFBooleanRef)n));
    assert_one_misuse("CFBooleanGetValue called with a CFNumber object");
    assert_false(CFBooleanGetValue(NULL));
    assert_one_misuse("CFBooleanGetValue called with NULL");
    CFRelease(n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(name) CF_TEST(name)
        T(test_round_trips),
        T(test_canonical_types),
        T(test_equality_across_types),
        T(test_lossy_conversions_return_false),
        T(test_compare),
        T(test_invalid_arguments),
        T(test_description),
        T(test_booleans),
#undef T
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
