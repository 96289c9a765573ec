/* The CoreFoundation subset at its edges (issue 8, coverage): every public
 * function handed an object of the wrong type reports a misuse naming itself
 * and returns its documented failure value; argument checks; number types
 * and conversions not used elsewhere; NaN ordering and hashing; UTF-8, ASCII
 * and Latin-1 decoding; the CFSTR intern table growing; descriptions of
 * values whose callbacks describe nothing; extension classes; leak reports
 * in small buffers; the default misuse handler.
 *
 * Each test runs between a snapshot and a leak check; misuses are captured
 * and must be exactly the ones a test provokes. */
#include "cf_test_support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- Fixture: every misuse is captured ------------------------------------------------ */

static CFIndex misuses_seen;

static void capture_misuse(const char *message, void *context) {
    (void)message;
    (void)context;
    misuses_seen++;
}

static int group_setup(void **state) {
    (void)state;
    kc_cf_set_misuse_handler(capture_misuse, NULL);
    return 0;
}

/* The shared per-test fixture, with the capture counter reset too. */
static int test_setup(void **state) {
    misuses_seen = 0;
    return cf_test_setup(state);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup, cf_test_teardown)

/* Exactly one misuse since the last check, whose message contains `part`. */
static void expect_misuse(const char *part, const char *file, int line) {
    if (kc_cf_misuse_count() != 1)
        fail_msg("%s:%d: %ld misuses (last: \"%s\"), expected one containing \"%s\"", file, line,
                 (long)kc_cf_misuse_count(), kc_cf_last_misuse(), part);
    if (strstr(kc_cf_last_misuse(), part) == NULL)
        fail_msg("%s:%d: misuse \"%s\" does not contain \"%s\"", file, line, kc_cf_last_misuse(),
                 part);
    kc_cf_reset_misuse();
}
#define MISUSE(part) expect_misuse((part), __FILE__, __LINE__)

static CFStringRef str(const char *s) {
    return CFStringCreateWithCString(NULL, s, kCFStringEncodingUTF8);
}

/* A string describing itself as the copy a test asks for. */
static bool string_is(CFStringRef s, const char *text) {
    char buf[512];
    return s != NULL && CFStringGetCString(s, buf, sizeof buf, kCFStringEncodingUTF8) &&
           strcmp(buf, text) == 0;
}

static bool description_contains(CFTypeRef obj, const char *part) {
    CFStringRef d = CFCopyDescription(obj);
    char buf[512];
    bool ok = d != NULL && CFStringGetCString(d, buf, sizeof buf, kCFStringEncodingUTF8) &&
              strstr(buf, part) != NULL;
    if (d != NULL)
        CFRelease(d);
    return ok;
}

/* ---- CFArray ------------------------------------------------------------------------------ */

static void array_functions_refuse_other_types(void **state) {
    (void)state;
    CFStringRef s = str("not an array");
    CFMutableArrayRef not_array = (CFMutableArrayRef)(uintptr_t)s;
    CFRange r = CFRangeMake(0, 0);
    assert_null(CFArrayCreateCopy(NULL, (CFArrayRef)not_array));
    MISUSE("CFArrayCreateCopy called with a CFString object");
    assert_null(CFArrayCreateMutableCopy(NULL, 0, (CFArrayRef)not_array));
    MISUSE("CFArrayCreateMutableCopy");
    assert_null(CFArrayGetValueAtIndex((CFArrayRef)not_array, 0));
    MISUSE("CFArrayGetValueAtIndex");
    assert_int_equal(CFArrayGetFirstIndexOfValue((CFArrayRef)not_array, r, s), kCFNotFound);
    MISUSE("CFArrayGetFirstIndexOfValue");
    assert_false(CFArrayContainsValue((CFArrayRef)not_array, r, s));
    MISUSE("CFArrayContainsValue");
    CFArrayApplyFunction((CFArrayRef)not_array, r, NULL, NULL);
    MISUSE("CFArrayApplyFunction");
    CFArrayAppendValue(not_array, s);
    MISUSE("CFArrayAppendValue called with a CFString");
    CFArrayInsertValueAtIndex(not_array, 0, s);
    MISUSE("CFArrayInsertValueAtIndex");
    CFArraySetValueAtIndex(not_array, 0, s);
    MISUSE("CFArraySetValueAtIndex");
    CFArrayRemoveValueAtIndex(not_array, 0);
    MISUSE("CFArrayRemoveValueAtIndex");
    CFArrayRemoveAllValues(not_array);
    MISUSE("CFArrayRemoveAllValues");
    CFMutableArrayRef a = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    CFArrayAppendArray(a, (CFArrayRef)not_array, r);
    MISUSE("CFArrayAppendArray");
    assert_int_equal(CFArrayGetCount(a), 0);
    /* The string is untouched by all of it. */
    assert_true(string_is(s, "not an array"));
    CFRelease(a);
    CFRelease(s);
}

static void array_argument_checks(void **state) {
    (void)state;
    CFStringRef x = str("x");
    const void *vals[1] = {x};
    assert_null(CFArrayCreate(NULL, NULL, 2, &kCFTypeArrayCallBacks));
    MISUSE("NULL values");
    assert_null(CFArrayCreate(NULL, vals, -1, &kCFTypeArrayCallBacks));
    MISUSE("negative count");
    assert_null(CFArrayCreateMutable(NULL, -1, &kCFTypeArrayCallBacks));
    MISUSE("CFArrayCreateMutable called with a negative capacity");
    CFArrayRef one = CFArrayCreate(NULL, vals, 1, &kCFTypeArrayCallBacks);
    assert_null(CFArrayCreateMutableCopy(NULL, -1, one));
    MISUSE("CFArrayCreateMutableCopy called with a negative capacity");

    CFMutableArrayRef m = CFArrayCreateMutableCopy(NULL, 0, one);
    CFArrayInsertValueAtIndex(m, -1, x);
    MISUSE("index -1 outside a CFArray of count 1");
    CFArraySetValueAtIndex(m, 2, x);
    MISUSE("CFArraySetValueAtIndex: index 2 outside");
    CFArraySetValueAtIndex(m, -1, x);
    MISUSE("CFArraySetValueAtIndex: index -1 outside");
    CFArrayRemoveValueAtIndex(m, -1);
    MISUSE("CFArrayRemoveValueAtIndex: index -1");
    CFArrayInsertValueAtIndex(m, 0, NULL);
    MISUSE("NULL value for a CFArray that retains its values");
    CFArraySetValueAtIndex(m, 0, NULL);
    MISUSE("CFArraySetValueAtIndex: NULL value");
    CFArrayApplyFunction(m, CFRangeMake(0, 1), NULL, NULL);
    MISUSE("CFArrayApplyFunction called with a NULL applier");
    CFArrayGetValues(m, CFRangeMake(0, 1), NULL);
    MISUSE("CFArrayGetValues called with a NULL buffer");
    /* An empty range needs no buffer. */
    CFArrayGetValues(m, CFRangeMake(1, 0), NULL);
    assert_int_equal(kc_cf_misuse_count(), 0);
    assert_int_equal(CFArrayGetCount(m), 1);
    assert_ptr_equal(CFArrayGetValueAtIndex(m, 0), x);

    /* A non-retaining array holds NULL; appending it to a retaining one is
     * refused as a whole, before anything is appended. */
    CFMutableArrayRef raw = CFArrayCreateMutable(NULL, 0, NULL);
    CFArrayAppendValue(raw, x);
    CFArrayAppendValue(raw, NULL);
    assert_int_equal(kc_cf_misuse_count(), 0);
    assert_int_equal(CFArrayGetCount(raw), 2);
    assert_null(CFArrayGetValueAtIndex(raw, 1));
    CFArrayAppendArray(m, raw, CFRangeMake(0, 2));
    MISUSE("CFArrayAppendArray: NULL value");
    assert_int_equal(CFArrayGetCount(m), 1);
    /* Without callbacks, equality is identity: an equal string elsewhere is
     * not found. */
    CFStringRef x2 = str("x");
    assert_int_equal(CFArrayGetFirstIndexOfValue(raw, CFRangeMake(0, 2), x2), kCFNotFound);
    assert_int_equal(CFArrayGetFirstIndexOfValue(m, CFRangeMake(0, 1), x2), 0);
    assert_int_equal(CFArrayGetFirstIndexOfValue(raw, CFRangeMake(0, 2), NULL), 1);
    CFRelease(x2);
    /* Immutable created without callbacks: no retain. */
    CFArrayRef plain = CFArrayCreate(NULL, vals, 1, NULL);
    assert_ptr_equal(CFArrayGetValueAtIndex(plain, 0), x);
    CFRelease(plain);
    CFRelease(raw);
    CFRelease(m);
    CFRelease(one);
    CFRelease(x);
}

/* A capacity is a hint, never a limit, however large. */
static void array_large_capacity_hint(void **state) {
    (void)state;
    CFMutableArrayRef a = CFArrayCreateMutable(NULL, 5000, &kCFTypeArrayCallBacks);
    CFNumberRef n[3000];
    for (int i = 0; i < 3000; i++) {
        n[i] = CFNumberCreate(NULL, kCFNumberIntType, &i);
        CFArrayAppendValue(a, n[i]);
        CFRelease(n[i]);
    }
    assert_int_equal(CFArrayGetCount(a), 3000);
    int v = 0;
    assert_true(CFNumberGetValue(CFArrayGetValueAtIndex(a, 2999), kCFNumberIntType, &v));
    assert_int_equal(v, 2999);
    CFRelease(a);
}

/* ---- CFData ---------------------------------------------------------------------------------- */

static void data_argument_checks(void **state) {
    (void)state;
    assert_null(CFDataCreate(NULL, NULL, 4));
    MISUSE("CFDataCreate called with NULL bytes");
    assert_null(CFDataCreate(NULL, (const UInt8 *)"ab", -1));
    MISUSE("CFDataCreate called with an invalid length");
    assert_null(CFDataCreateMutable(NULL, -1));
    MISUSE("CFDataCreateMutable called with an invalid capacity");
    CFDataRef d = CFDataCreate(NULL, (const UInt8 *)"abcdef", 6);
    assert_null(CFDataCreateMutableCopy(NULL, 3, d));
    MISUSE("capacity below the data's length");
    assert_null(CFDataCreateMutableCopy(NULL, -2, d));
    MISUSE("CFDataCreateMutableCopy");
    CFStringRef s = str("s");
    assert_null(CFDataCreateMutableCopy(NULL, 0, (CFDataRef)s));
    MISUSE("CFDataCreateMutableCopy called with a CFString object");
    CFDataGetBytes((CFDataRef)s, CFRangeMake(0, 0), NULL);
    MISUSE("CFDataGetBytes called with a CFString");
    CFMutableDataRef not_data = (CFMutableDataRef)(uintptr_t)s;
    CFDataIncreaseLength(not_data, 1);
    MISUSE("CFDataIncreaseLength");
    CFDataAppendBytes(not_data, (const UInt8 *)"x", 1);
    MISUSE("CFDataAppendBytes");

    CFDataGetBytes(d, CFRangeMake(0, 2), NULL);
    MISUSE("CFDataGetBytes called with a NULL buffer");
    CFMutableDataRef m = CFDataCreateMutableCopy(NULL, 8, d);
    CFDataIncreaseLength(m, -1);
    MISUSE("CFDataIncreaseLength called with an invalid length -1");
    CFDataReplaceBytes(m, CFRangeMake(0, 1), NULL, 2);
    MISUSE("CFDataReplaceBytes called with NULL bytes");
    CFDataReplaceBytes(m, CFRangeMake(0, 1), (const UInt8 *)"x", -1);
    MISUSE("CFDataReplaceBytes called with a negative length");
    CFDataReplaceBytes(m, CFRangeMake(0, 1), (const UInt8 *)"x", (CFIndex)1 << 40);
    MISUSE("CFDataReplaceBytes: invalid CFData length");
    /* Capacity 8: growing past it is refused, the bytes stay. */
    CFDataAppendBytes(m, (const UInt8 *)"123", 3);
    MISUSE("exceeds the capacity 8");
    assert_int_equal(CFDataGetLength(m), 6);
    assert_memory_equal(CFDataGetBytePtr(m), "abcdef", 6);
    /* A mutable copy of empty data is empty and growable. */
    CFDataRef empty = CFDataCreate(NULL, NULL, 0);
    CFMutableDataRef e = CFDataCreateMutableCopy(NULL, 0, empty);
    assert_int_equal(CFDataGetLength(e), 0);
    CFDataAppendBytes(e, (const UInt8 *)"zz", 2);
    assert_int_equal(CFDataGetLength(e), 2);
    /* Long data is described by its first 32 bytes and "...". */
    UInt8 big[40];
    memset(big, 0xAB, sizeof big);
    CFDataRef long_data = CFDataCreate(NULL, big, sizeof big);
    assert_true(description_contains(long_data, "length=40 bytes=0xabab"));
    assert_true(description_contains(long_data, "...>"));
    assert_true(description_contains(d, "length=6 bytes=0x616263646566>"));
    CFRelease(long_data);
    CFRelease(e);
    CFRelease(empty);
    CFRelease(m);
    CFRelease(s);
    CFRelease(d);
}

/* ---- CFDictionary ---------------------------------------------------------------------------- */

static void dictionary_functions_refuse_other_types(void **state) {
    (void)state;
    CFStringRef s = str("not a dictionary");
    CFDictionaryRef nd = (CFDictionaryRef)s;
    assert_false(CFDictionaryContainsValue(nd, s));
    MISUSE("CFDictionaryContainsValue called with a CFString");
    CFDictionaryGetKeysAndValues(nd, NULL, NULL);
    MISUSE("CFDictionaryGetKeysAndValues");
    CFDictionaryApplyFunction(nd, NULL, NULL);
    MISUSE("CFDictionaryApplyFunction");
    CFDictionaryRemoveAllValues((CFMutableDictionaryRef)(uintptr_t)s);
    MISUSE("CFDictionaryRemoveAllValues");
    assert_null(CFDictionaryCreateCopy(NULL, nd));
    MISUSE("CFDictionaryCreateCopy");
    assert_null(CFDictionaryCreateMutableCopy(NULL, 0, nd));
    MISUSE("CFDictionaryCreateMutableCopy");
    CFRelease(s);
}

static void dictionary_argument_checks(void **state) {
    (void)state;
    CFStringRef k = str("k"), v = str("v");
    const void *keys[1] = {k}, *vals[1] = {v};
    assert_null(CFDictionaryCreate(NULL, keys, vals, -1, &kCFTypeDictionaryKeyCallBacks,
                                   &kCFTypeDictionaryValueCallBacks));
    MISUSE("CFDictionaryCreate called with a negative count");
    assert_null(CFDictionaryCreate(NULL, NULL, vals, 1, &kCFTypeDictionaryKeyCallBacks,
                                   &kCFTypeDictionaryValueCallBacks));
    MISUSE("NULL keys or values");
    const void *null_val[1] = {NULL};
    assert_null(CFDictionaryCreate(NULL, keys, null_val, 1, &kCFTypeDictionaryKeyCallBacks,
                                   &kCFTypeDictionaryValueCallBacks));
    MISUSE("NULL value for a CFDictionary that retains its values");
    assert_null(CFDictionaryCreateMutable(NULL, -1, &kCFTypeDictionaryKeyCallBacks,
                                          &kCFTypeDictionaryValueCallBacks));
    MISUSE("CFDictionaryCreateMutable called with a negative capacity");
    CFDictionaryRef d = CFDictionaryCreate(NULL, keys, vals, 1, &kCFTypeDictionaryKeyCallBacks,
                                           &kCFTypeDictionaryValueCallBacks);
    assert_null(CFDictionaryCreateMutableCopy(NULL, -1, d));
    MISUSE("CFDictionaryCreateMutableCopy called with a negative capacity");
    CFMutableDictionaryRef m = CFDictionaryCreateMutableCopy(NULL, 0, d);
    CFDictionaryApplyFunction(m, NULL, NULL);
    MISUSE("CFDictionaryApplyFunction called with a NULL applier");
    CFDictionaryRemoveValue(m, NULL);
    MISUSE("CFDictionaryRemoveValue: NULL key");
    assert_int_equal(CFDictionaryGetCount(m), 1);

    /* ContainsValue compares with the value callbacks' equal. */
    CFStringRef v2 = str("v");
    CFStringRef other = str("w");
    assert_true(CFDictionaryContainsValue(d, v2));
    assert_false(CFDictionaryContainsValue(d, other));
    /* Keys only, values only. */
    const void *k_out[1] = {NULL}, *v_out[1] = {NULL};
    CFDictionaryGetKeysAndValues(d, k_out, NULL);
    CFDictionaryGetKeysAndValues(d, NULL, v_out);
    assert_ptr_equal(k_out[0], k);
    assert_ptr_equal(v_out[0], v);
    /* Replacing a value with itself keeps it alive (retain before release). */
    CFDictionarySetValue(m, k, CFDictionaryGetValue(m, k));
    assert_true(string_is(CFDictionaryGetValue(m, k), "v"));
    CFRelease(other);
    CFRelease(v2);
    CFRelease(m);
    CFRelease(d);
    CFRelease(k);
    CFRelease(v);
}

/* Raw pointers as keys and values: identity equality, no retain; NULL values
 * are allowed; contains-value compares pointers only. */
static void dictionary_without_callbacks(void **state) {
    (void)state;
    static int a, b;
    CFMutableDictionaryRef m = CFDictionaryCreateMutable(NULL, 0, NULL, NULL);
    CFDictionarySetValue(m, &a, NULL);
    CFDictionarySetValue(m, &b, &a);
    assert_int_equal(kc_cf_misuse_count(), 0);
    assert_int_equal(CFDictionaryGetCount(m), 2);
    assert_true(CFDictionaryContainsValue(m, NULL));
    assert_true(CFDictionaryContainsValue(m, &a));
    assert_false(CFDictionaryContainsValue(m, &b));
    assert_true(CFDictionaryContainsKey(m, &a));
    /* A description of values nothing can describe. */
    assert_true(description_contains(m, "<value> = <value>"));
    /* Equality of two such dictionaries is by identity of the values. */
    CFMutableDictionaryRef n = CFDictionaryCreateMutable(NULL, 0, NULL, NULL);
    CFDictionarySetValue(n, &a, NULL);
    CFDictionarySetValue(n, &b, &b);
    assert_false(CFEqual(m, n));
    CFDictionarySetValue(n, &b, &a);
    assert_true(CFEqual(m, n));
    CFRelease(n);
    CFRelease(m);
}

static CFStringRef describe_as_null(const void *value) {
    (void)value;
    return NULL;
}

static CFStringRef describe_as_number(const void *value) {
    (void)value;
    int seven = 7;
    return (CFStringRef)CFNumberCreate(NULL, kCFNumberIntType, &seven);
}

/* Description callbacks that return nothing, or no string, are shown as
 * such (and whatever they returned is released). */
static void descriptions_of_odd_callbacks(void **state) {
    (void)state;
    CFDictionaryKeyCallBacks kcb = kCFTypeDictionaryKeyCallBacks;
    CFDictionaryValueCallBacks vcb = kCFTypeDictionaryValueCallBacks;
    kcb.copyDescription = describe_as_null;
    vcb.copyDescription = describe_as_number;
    CFMutableDictionaryRef m = CFDictionaryCreateMutable(NULL, 0, &kcb, &vcb);
    CFStringRef k = str("key");
    CFDictionarySetValue(m, k, k);
    assert_true(description_contains(m, "{<null> = <invalid>}"));
    CFArrayCallBacks acb = kCFTypeArrayCallBacks;
    acb.copyDescription = NULL;
    const void *vals[1] = {k};
    CFArrayRef a = CFArrayCreate(NULL, vals, 1, &acb);
    assert_true(description_contains(a, "<value>"));
    CFRelease(a);
    CFRelease(k);
    CFRelease(m);
}

/* ---- CFNumber / CFBoolean -------------------------------------------------------------------- */

static void number_narrow_types_round_trip(void **state) {
    (void)state;
    int8_t i8 = -100;
    int16_t i16 = -30000;
    long long ll = -(1LL << 50);
    CFNumberRef a = CFNumberCreate(NULL, kCFNumberSInt8Type, &i8);
    CFNumberRef b = CFNumberCreate(NULL, kCFNumberSInt16Type, &i16);
    CFNumberRef c = CFNumberCreate(NULL, kCFNumberLongLongType, &ll);
    assert_int_equal(CFNumberGetType(a), kCFNumberSInt8Type);
    assert_int_equal(CFNumberGetType(b), kCFNumberSInt16Type);
    assert_int_equal(CFNumberGetType(c), kCFNumberSInt64Type);
    assert_int_equal(CFNumberGetByteSize(a), 1);
    assert_int_equal(CFNumberGetByteSize(b), 2);
    assert_int_equal(CFNumberGetByteSize(c), 8);
    long long out = 0;
    assert_true(CFNumberGetValue(a, kCFNumberLongLongType, &out));
    assert_int_equal(out, -100);
    assert_true(CFNumberGetValue(b, kCFNumberLongLongType, &out));
    assert_int_equal(out, -30000);
    assert_true(CFNumberGetValue(c, kCFNumberLongLongType, &out));
    assert_true(out == ll);
    /* Narrowing wraps and says it was not exact. */
    int8_t small = 0;
    assert_false(CFNumberGetValue(b, kCFNumberSInt8Type, &small));
    assert_int_equal(small, (int8_t)(uint8_t)((uint16_t)i16 & 0xFF));
    CFRelease(a);
    CFRelease(b);
    CFRelease(c);
    CFStringRef s = str("n");
    assert_int_equal(CFNumberGetByteSize((CFNumberRef)s), 0);
    MISUSE("CFNumberGetByteSize called with a CFString");
    assert_int_equal(CFNumberGetType((CFNumberRef)s), 0);
    MISUSE("CFNumberGetType");
    assert_false(CFNumberIsFloatType((CFNumberRef)s));
    MISUSE("CFNumberIsFloatType");
    int one = 1;
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberIntType, &one);
    assert_int_equal(CFNumberCompare(n, (CFNumberRef)s, NULL), kCFCompareEqualTo);
    MISUSE("CFNumberCompare");
    assert_false(CFNumberGetValue(n, kCFNumberIntType, NULL));
    MISUSE("CFNumberGetValue called with NULL");
    CFRelease(n);
    CFRelease(s);
}

static CFNumberRef dbl(double d) { return CFNumberCreate(NULL, kCFNumberDoubleType, &d); }

/* Conversions out of range clamp (integers) or go to infinity (float), and
 * say they were not exact; NaN converts to 0 / NaN. */
static void number_conversions_at_the_limits(void **state) {
    (void)state;
    CFNumberRef below = dbl(-1e300), nan_n = dbl(NAN), huge = dbl(1e300), inf = dbl(INFINITY);
    int32_t i32 = 0;
    assert_false(CFNumberGetValue(below, kCFNumberSInt32Type, &i32));
    assert_int_equal(i32, INT32_MIN);
    assert_false(CFNumberGetValue(nan_n, kCFNumberSInt32Type, &i32));
    assert_int_equal(i32, 0);
    float f = 0;
    assert_false(CFNumberGetValue(huge, kCFNumberFloatType, &f));
    assert_true(isinf(f) && f > 0);
    assert_false(CFNumberGetValue(below, kCFNumberFloatType, &f));
    assert_true(isinf(f) && f < 0);
    assert_true(CFNumberGetValue(inf, kCFNumberFloatType, &f)); /* infinity is exact */
    assert_true(isinf(f));
    assert_false(CFNumberGetValue(nan_n, kCFNumberFloatType, &f) && !isnan(f));
    assert_true(isnan(f));
    /* An integer beyond 2^53 is not exact as a double. */
    int64_t big = (INT64_C(1) << 62) + 1;
    CFNumberRef b = CFNumberCreate(NULL, kCFNumberSInt64Type, &big);
    double d = 0;
    assert_false(CFNumberGetValue(b, kCFNumberDoubleType, &d));
    /* ... and compares exactly against doubles beyond int64. */
    assert_int_equal(CFNumberCompare(b, huge, NULL), kCFCompareLessThan);
    assert_int_equal(CFNumberCompare(b, below, NULL), kCFCompareGreaterThan);
    assert_int_equal(CFNumberCompare(huge, b, NULL), kCFCompareGreaterThan);
    CFRelease(b);
    CFRelease(below);
    CFRelease(nan_n);
    CFRelease(huge);
    CFRelease(inf);
}

/* NaN sorts before everything, equals only NaN, and hashes consistently;
 * a fractional double hashes by its bits, an integral one like the integer. */
static void number_nan_order_and_hash(void **state) {
    (void)state;
    CFNumberRef n1 = dbl(NAN), n2 = dbl(-NAN), one = dbl(1.0), half = dbl(0.5), two = dbl(2.0);
    int i_one = 1;
    CFNumberRef int_one = CFNumberCreate(NULL, kCFNumberIntType, &i_one);
    assert_int_equal(CFNumberCompare(n1, n2, NULL), kCFCompareEqualTo);
    assert_int_equal(CFNumberCompare(n1, one, NULL), kCFCompareLessThan);
    assert_int_equal(CFNumberCompare(one, n1, NULL), kCFCompareGreaterThan);
    assert_int_equal(CFNumberCompare(half, one, NULL), kCFCompareLessThan);
    assert_int_equal(CFNumberCompare(two, one, NULL), kCFCompareGreaterThan);
    assert_int_equal(CFNumberCompare(one, one, NULL), kCFCompareEqualTo);
    assert_true(CFEqual(n1, n2));
    assert_false(CFEqual(n1, one));
    assert_int_equal(CFHash(n1), CFHash(n2));
    assert_int_equal(CFHash(one), CFHash(int_one));
    CFNumberRef half2 = dbl(0.5);
    assert_int_equal(CFHash(half), CFHash(half2));
    assert_int_not_equal(CFHash(half), CFHash(one));
    CFRelease(half2);
    CFRelease(int_one);
    CFRelease(n1);
    CFRelease(n2);
    CFRelease(one);
    CFRelease(half);
    CFRelease(two);
}

static void boolean_hash_description_and_misuse(void **state) {
    (void)state;
    assert_int_not_equal(CFHash(kCFBooleanTrue), CFHash(kCFBooleanFalse));
    assert_int_equal(CFHash(kCFBooleanTrue), CFHash(kCFBooleanTrue));
    assert_true(description_contains(kCFBooleanTrue, "true"));
    assert_true(description_contains(kCFBooleanFalse, "false"));
    /* As dictionary keys, booleans are found by hash and identity. */
    CFMutableDictionaryRef m = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    CFDictionarySetValue(m, kCFBooleanTrue, kCFBooleanFalse);
    assert_ptr_equal(CFDictionaryGetValue(m, kCFBooleanTrue), kCFBooleanFalse);
    assert_null(CFDictionaryGetValue(m, kCFBooleanFalse));
    CFRelease(m);
    CFStringRef s = str("true");
    assert_false(CFBooleanGetValue((CFBooleanRef)s));
    MISUSE("CFBooleanGetValue called with a CFString");
    CFRelease(s);
}

/* ---- CFString -------------------------------------------------------------------------------- */

static void string_decoding_by_encoding(void **state) {
    (void)state;
    /* Four-byte sequences F1..F3 are valid UTF-8 and count two UTF-16 units. */
    const UInt8 plane4[] = {'a', 0xF1, 0x80, 0x80, 0x80};
    CFStringRef s =
        CFStringCreateWithBytes(NULL, plane4, sizeof plane4, kCFStringEncodingUTF8, false);
    assert_non_null(s);
    assert_int_equal(CFStringGetLength(s), 3);
    CFRelease(s);
    /* A bad continuation byte in the third position is refused. */
    const UInt8 bad[] = {0xF1, 0x80, 0x41, 0x80};
    assert_null(CFStringCreateWithBytes(NULL, bad, sizeof bad, kCFStringEncodingUTF8, false));
    /* ASCII: only bytes below 0x80. */
    CFStringRef ascii =
        CFStringCreateWithBytes(NULL, (const UInt8 *)"plain", 5, kCFStringEncodingASCII, false);
    assert_true(string_is(ascii, "plain"));
    const UInt8 high[] = {'a', 0xE9};
    assert_null(CFStringCreateWithBytes(NULL, high, 2, kCFStringEncodingASCII, false));
    /* Latin-1: 0xE9 is U+00E9. */
    CFStringRef latin = CFStringCreateWithBytes(NULL, high, 2, kCFStringEncodingISOLatin1, false);
    assert_true(string_is(latin, "a\xC3\xA9"));
    assert_int_equal(CFStringGetLength(latin), 2);
    /* Empty with NULL bytes is the empty string. */
    CFStringRef empty = CFStringCreateWithBytes(NULL, NULL, 0, kCFStringEncodingUTF8, false);
    assert_true(string_is(empty, ""));
    assert_null(CFStringCreateWithBytes(NULL, NULL, 3, kCFStringEncodingUTF8, false));
    MISUSE("CFStringCreateWithBytes called with NULL bytes");
    assert_null(CFStringCreateWithBytes(NULL, high, -1, kCFStringEncodingUTF8, false));
    MISUSE("CFStringCreateWithBytes called with a negative length");
    /* Case-insensitive compare folds ASCII only. */
    CFStringRef upper = str("ABC"), lower = str("abd");
    assert_int_equal(CFStringCompare(upper, lower, kCFCompareCaseInsensitive), kCFCompareLessThan);
    assert_int_equal(CFStringCompare(upper, lower, 0), kCFCompareLessThan);
    assert_int_equal(CFStringCompare(lower, upper, kCFCompareCaseInsensitive),
                     kCFCompareGreaterThan);
    assert_int_equal(CFStringCompare(upper, (CFStringRef)ascii, 0), kCFCompareLessThan);
    CFRelease(upper);
    CFRelease(lower);
    CFRelease(empty);
    CFRelease(latin);
    CFRelease(ascii);
}

static void string_encoding_checks(void **state) {
    (void)state;
    const CFStringEncoding utf16 = 0x0100;
    assert_int_equal(CFStringGetMaximumSizeForEncoding(4, utf16), kCFNotFound);
    MISUSE("CFStringGetMaximumSizeForEncoding: unsupported string encoding 0x100");
    assert_int_equal(CFStringGetMaximumSizeForEncoding(-1, kCFStringEncodingUTF8), kCFNotFound);
    assert_int_equal(CFStringGetMaximumSizeForEncoding(4, kCFStringEncodingUTF8), 12);
    assert_int_equal(CFStringGetMaximumSizeForEncoding(4, kCFStringEncodingASCII), 4);
    CFStringRef s = str("caf\xC3\xA9");
    assert_null(CFStringCreateExternalRepresentation(NULL, s, utf16, 0));
    MISUSE("CFStringCreateExternalRepresentation: unsupported string encoding");
    assert_false(CFStringGetCString(s, NULL, 10, kCFStringEncodingUTF8));
    MISUSE("CFStringGetCString called with a NULL buffer");
    char buf[8] = "zzz";
    assert_false(CFStringGetCString(s, buf, 0, kCFStringEncodingUTF8));
    assert_string_equal(buf, "zzz"); /* size 0: not touched */
    /* Latin-1 fits exactly; one byte less does not, and leaves "". */
    char latin[5];
    assert_true(CFStringGetCString(s, latin, 5, kCFStringEncodingISOLatin1));
    assert_memory_equal(latin, "caf\xE9", 5);
    assert_false(CFStringGetCString(s, latin, 4, kCFStringEncodingISOLatin1));
    assert_string_equal(latin, "");
    /* The C-string pointer exists for ASCII text in any single-byte encoding,
     * not for non-ASCII text there. */
    CFStringRef ascii = str("abc");
    assert_non_null(CFStringGetCStringPtr(ascii, kCFStringEncodingISOLatin1));
    assert_null(CFStringGetCStringPtr(s, kCFStringEncodingISOLatin1));
    assert_null(CFStringGetCStringPtr(s, utf16));
    CFStringRef d = (CFStringRef)CFDataCreate(NULL, (const UInt8 *)"x", 1);
    assert_false(CFStringHasPrefix(ascii, d));
    MISUSE("CFStringHasPrefix called with a CFData");
    assert_false(CFStringHasSuffix(d, ascii));
    MISUSE("CFStringHasSuffix called with a CFData");
    assert_null(
        CFStringCreateFromExternalRepresentation(NULL, (CFDataRef)ascii, kCFStringEncodingUTF8));
    MISUSE("CFStringCreateFromExternalRepresentation called with a CFString");
    assert_null(CFStringCreateCopy(NULL, d));
    MISUSE("CFStringCreateCopy called with a CFData");
    assert_int_equal(CFStringCompare(ascii, d, 0), kCFCompareEqualTo);
    MISUSE("CFStringCompare called with a CFData");
    /* A UTF-8 external representation with a byte order mark loses it. */
    const UInt8 bom[] = {0xEF, 0xBB, 0xBF, 'h', 'i'};
    CFDataRef ext = CFDataCreate(NULL, bom, sizeof bom);
    CFStringRef hi = CFStringCreateFromExternalRepresentation(NULL, ext, kCFStringEncodingUTF8);
    assert_true(string_is(hi, "hi"));
    CFRelease(hi);
    CFRelease(ext);
    CFRelease(d);
    CFRelease(ascii);
    CFRelease(s);
}

/* The CFSTR table grows (several times) and every interned string stays
 * findable: the same text gives the same object before and after. */
static void cfstr_intern_table_grows(void **state) {
    (void)state;
    enum { N = 600 };
    static CFStringRef first[N];
    char text[48];
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "coverage-intern-%d", i);
        first[i] = __CFStringMakeConstantString(text);
        assert_non_null(first[i]);
    }
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "coverage-intern-%d", i);
        assert_ptr_equal(__CFStringMakeConstantString(text), first[i]);
        assert_true(string_is(first[i], text));
    }
    assert_null(__CFStringMakeConstantString("\xFF"));
    MISUSE("CFSTR called with invalid UTF-8");
    assert_null(__CFStringMakeConstantString(NULL));
    MISUSE("CFSTR called with NULL");
}

/* ---- CFError --------------------------------------------------------------------------------- */

static void error_edges(void **state) {
    (void)state;
    CFStringRef dom = str("Dom");
    assert_null(CFErrorCreateWithUserInfoKeysAndValues(NULL, dom, 1, NULL, NULL, -1));
    MISUSE("negative count");
    assert_null(CFErrorCreateWithUserInfoKeysAndValues(NULL, dom, 1, NULL, NULL, 2));
    MISUSE("NULL keys or values");
    CFErrorRef plain = CFErrorCreate(NULL, dom, 5, NULL);
    assert_null(CFErrorCopyFailureReason(plain));
    assert_null(CFErrorCopyRecoverySuggestion(plain));
    CFStringRef d = CFErrorCopyDescription(plain);
    assert_non_null(strstr(CFStringGetCStringPtr(d, kCFStringEncodingUTF8), "(Dom error 5.)"));
    CFRelease(d);
    /* A failure reason replaces the domain/code text; a non-string one is
     * ignored. */
    CFStringRef reason = str("the disk is on fire");
    const void *keys[2] = {kCFErrorLocalizedFailureReasonKey,
                           kCFErrorLocalizedRecoverySuggestionKey};
    const void *vals[2] = {reason, reason};
    CFErrorRef with = CFErrorCreateWithUserInfoKeysAndValues(NULL, dom, 5, keys, vals, 2);
    d = CFErrorCopyDescription(with);
    assert_non_null(strstr(CFStringGetCStringPtr(d, kCFStringEncodingUTF8), "on fire"));
    CFRelease(d);
    CFStringRef sug = CFErrorCopyRecoverySuggestion(with);
    assert_ptr_equal(sug, reason);
    CFRelease(sug);
    int n = 3;
    CFNumberRef num = CFNumberCreate(NULL, kCFNumberIntType, &n);
    const void *odd[1] = {num};
    CFErrorRef numeric = CFErrorCreateWithUserInfoKeysAndValues(NULL, dom, 5, keys, odd, 1);
    assert_null(CFErrorCopyFailureReason(numeric));
    /* Equality: none == empty user info; different user info differs. */
    CFErrorRef empty_info = CFErrorCreateWithUserInfoKeysAndValues(NULL, dom, 5, NULL, NULL, 0);
    assert_true(CFEqual(plain, empty_info));
    assert_true(CFEqual(empty_info, plain));
    assert_false(CFEqual(plain, with));
    assert_false(CFEqual(with, numeric));
    CFErrorRef with2 = CFErrorCreateWithUserInfoKeysAndValues(NULL, dom, 5, keys, vals, 2);
    assert_true(CFEqual(with, with2));
    assert_true(description_contains(with, "Error Domain=Dom Code=5"));
    CFRelease(with2);
    CFRelease(empty_info);
    CFRelease(numeric);
    CFRelease(num);
    CFRelease(with);
    CFRelease(reason);
    /* Wrong types. */
    assert_null(CFErrorCreate(NULL, dom, 1, (CFDictionaryRef)dom));
    MISUSE("CFErrorCreate called with a CFString");
    assert_null(CFErrorCopyUserInfo((CFErrorRef)dom));
    MISUSE("CFErrorCopyUserInfo");
    assert_null(CFErrorGetDomain((CFErrorRef)dom));
    MISUSE("CFErrorGetDomain");
    assert_null(CFErrorCopyFailureReason((CFErrorRef)dom));
    MISUSE("CFErrorCopyFailureReason");
    assert_null(CFErrorCopyRecoverySuggestion((CFErrorRef)dom));
    MISUSE("CFErrorCopyRecoverySuggestion");
    CFRelease(plain);
    CFRelease(dom);
}

/* ---- Runtime: extension classes, accounting, misuse handler ---------------------------------- */

typedef struct {
    int payload;
} ext_body;

static const kc_cf_class ext_class = {.type_id = 40, .name = "CovExt"};
static const kc_cf_class ext_class_twin = {.type_id = 40, .name = "CovExt"};
static const kc_cf_class ext_class_clash = {.type_id = 40, .name = "CovOther"};
static const kc_cf_class ext_low = {.type_id = 3, .name = "CovLow"};
static const kc_cf_class ext_high = {.type_id = KC_CF_TYPE_ID_LIMIT, .name = "CovHigh"};
static const kc_cf_class ext_unnamed = {.type_id = 41, .name = NULL};

static void extension_classes(void **state) {
    (void)state;
    assert_null(kc_cf_object_create(NULL, 8));
    MISUSE("kc_cf_object_create called with an invalid class");
    assert_null(kc_cf_object_create(&ext_unnamed, 8));
    MISUSE("invalid class");
    assert_null(kc_cf_object_create(&ext_low, 8));
    MISUSE("type ID 3 of CovLow is outside the extension range");
    assert_null(kc_cf_object_create(&ext_high, 8));
    MISUSE("outside the extension range");
    ext_body *a = kc_cf_object_create(&ext_class, sizeof *a);
    assert_non_null(a);
    /* A second class object with the same ID and name is the same type. */
    ext_body *b = kc_cf_object_create(&ext_class_twin, sizeof *b);
    assert_non_null(b);
    assert_null(kc_cf_object_create(&ext_class_clash, 8));
    MISUSE("type ID 40 of CovOther is already used by CovExt");
    assert_string_equal(kc_cf_type_name(40), "CovExt");
    assert_int_equal(kc_cf_live_count(40), 2);
    /* Without a hash callback: per object, stable; without equal: identity;
     * without a description: "<Name>". */
    assert_int_equal(CFHash(a), CFHash(a));
    assert_int_not_equal(CFHash(a), CFHash(b));
    assert_false(CFEqual(a, b));
    assert_true(description_contains(a, "<CovExt>"));
    CFStringRef tname = CFCopyTypeIDDescription(40);
    assert_true(string_is(tname, "CovExt"));
    CFRelease(tname);
    assert_null(CFCopyTypeIDDescription(0));
    assert_null(CFCopyTypeIDDescription(KC_CF_TYPE_ID_LIMIT));
    assert_null(CFCopyTypeIDDescription(50)); /* no class registered */
    assert_string_equal(kc_cf_type_name(0), "unknown type");
    assert_int_equal(kc_cf_live_count(KC_CF_TYPE_ID_LIMIT + 5), 0);
    assert_ptr_equal(kc_cf_object_cast(a, 40, "covtest"), a);
    assert_null(kc_cf_object_cast(a, CFStringGetTypeID(), "covtest"));
    MISUSE("covtest called with a CovExt object");
    CFRelease(b);
    CFRelease(a);
    assert_int_equal(kc_cf_live_count(40), 0);
}

static void leak_reports_fit_their_buffer(void **state) {
    (void)state;
    kc_cf_snapshot_t snap;
    kc_cf_snapshot(&snap);
    kc_cf_snapshot(NULL); /* allowed, does nothing */
    CFDataRef d1 = CFDataCreate(NULL, (const UInt8 *)"a", 1);
    char report[128];
    assert_int_equal(kc_cf_leaks_since(&snap, report, sizeof report), 1);
    assert_string_equal(report, "1 CF object leaked: 1 CFData");
    CFStringRef s1 = str("leak");
    assert_int_equal(kc_cf_leaks_since(&snap, report, sizeof report), 2);
    assert_string_equal(report, "2 CF objects leaked: 1 CFString, 1 CFData");
    /* Truncated to the buffer, always terminated. */
    char small[12];
    assert_int_equal(kc_cf_leaks_since(&snap, small, sizeof small), 2);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, "2 CF object", 11);
    /* No buffer, or size 0: only the count. */
    assert_int_equal(kc_cf_leaks_since(&snap, NULL, 64), 2);
    small[0] = 'q';
    assert_int_equal(kc_cf_leaks_since(&snap, small, 0), 2);
    assert_int_equal(small[0], 'q');
    /* No snapshot: every live object counts. */
    assert_true(kc_cf_leaks_since(NULL, NULL, 0) >= 2);
    CFRelease(s1);
    CFRelease(d1);
    assert_int_equal(kc_cf_leaks_since(&snap, report, sizeof report), 0);
    assert_string_equal(report, "no CF objects leaked");
}

/* With no handler installed, a misuse is still counted and kept, and printed
 * on stderr as one line. */
static void default_misuse_handler_prints_one_line(void **state) {
    (void)state;
    char path[] = "/tmp/keyclass-cov-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    kc_cf_set_misuse_handler(NULL, (void *)&misuses_seen);
    CFRelease(NULL);
    kc_cf_set_misuse_handler(capture_misuse, NULL);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    char text[256] = {0};
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    assert_string_equal(text, "CF misuse: CFRelease called with NULL\n");
    assert_int_equal(misuses_seen, 0); /* the capturing handler was not called */
    MISUSE("CFRelease called with NULL");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(array_functions_refuse_other_types),
        T(array_argument_checks),
        T(array_large_capacity_hint),
        T(data_argument_checks),
        T(dictionary_functions_refuse_other_types),
        T(dictionary_argument_checks),
        T(dictionary_without_callbacks),
        T(descriptions_of_odd_callbacks),
        T(number_narrow_types_round_trip),
        T(number_conversions_at_the_limits),
        T(number_nan_order_and_hash),
        T(boolean_hash_description_and_misuse),
        T(string_decoding_by_encoding),
        T(string_encoding_checks),
        T(cfstr_intern_table_grows),
        T(error_edges),
        T(extension_classes),
        T(leak_reports_fit_their_buffer),
        T(default_misuse_handler_prints_one_line),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
