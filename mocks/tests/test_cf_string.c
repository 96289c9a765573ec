/* CFString: creation and validation, UTF-16 length, C-string access,
 * comparison, encodings, ownership of copies. */
#include "cf_test_support.h"

/* ---- Tests ------------------------------------------------------------------- */

static void test_create_and_get_cstring_round_trip(void **state) {
    (void)state;
    CFStringRef s = make_string("service.example");
    assert_int_equal(CFGetTypeID(s), CFStringGetTypeID());
    assert_int_equal(CFGetRetainCount(s), 1);
    char buffer[64];
    assert_true(CFStringGetCString(s, buffer, sizeof buffer, kCFStringEncodingUTF8));
    assert_string_equal(buffer, "service.example");
    CFRelease(s);
    assert_false(kc_cf_is_live(s));
}

static void test_length_counts_utf16_code_units(void **state) {
    (void)state;
    CFStringRef ascii = make_string("abc");
    CFStringRef accent = make_string("\xC3\xA9");        /* é: 2 bytes, 1 unit */
    CFStringRef emoji = make_string("\xF0\x9F\x98\x80"); /* U+1F600: 4 bytes, 2 units */
    CFStringRef mixed = make_string("a\xC3\xA9\xF0\x9F\x98\x80\xE2\x82\xAC"); /* a é 😀 € */
    CFStringRef empty = make_string("");
    assert_int_equal(CFStringGetLength(ascii), 3);
    assert_int_equal(CFStringGetLength(accent), 1);
    assert_int_equal(CFStringGetLength(emoji), 2);
    assert_int_equal(CFStringGetLength(mixed), 5);
    assert_int_equal(CFStringGetLength(empty), 0);
    CFRelease(ascii);
    CFRelease(accent);
    CFRelease(emoji);
    CFRelease(mixed);
    CFRelease(empty);
}

static void test_invalid_utf8_gives_null(void **state) {
    (void)state;
    const char *invalid[] = {
        "\xC3\x28",         /* bad continuation */
        "\xC0\xAF",         /* overlong '/' */
        "\xE0\x80\xAF",     /* overlong */
        "\xED\xA0\x80",     /* UTF-16 surrogate */
        "\xF4\x90\x80\x80", /* above U+10FFFF */
        "\xFF",             /* never valid */
        "abc\xE2\x82",      /* truncated sequence */
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        assert_null(CFStringCreateWithCString(NULL, invalid[i], kCFStringEncodingUTF8));
        assert_null(CFStringCreateWithBytes(NULL, (const UInt8 *)invalid[i],
                                            (CFIndex)strlen(invalid[i]), kCFStringEncodingUTF8,
                                            false));
    }
    assert_int_equal(kc_cf_misuse_count(), 0); /* invalid input is not misuse (Apple: NULL) */
    assert_int_equal(kc_cf_live_count(CFStringGetTypeID()), before_test.live[CFStringGetTypeID()]);
}

static void test_get_cstring_fails_on_short_buffer(void **state) {
    (void)state;
    CFStringRef s = make_string("hello");
    char buffer[8] = "xxxxxxx";
    assert_false(CFStringGetCString(s, buffer, 5, kCFStringEncodingUTF8)); /* no room for NUL */
    assert_string_equal(buffer, "");
    assert_true(CFStringGetCString(s, buffer, 6, kCFStringEncodingUTF8));
    assert_string_equal(buffer, "hello");
    assert_false(CFStringGetCString(s, buffer, 0, kCFStringEncodingUTF8));

    /* The buffer is measured in bytes, not characters. */
    CFStringRef accent = make_string("\xC3\xA9");
    assert_false(CFStringGetCString(accent, buffer, 2, kCFStringEncodingUTF8));
    assert_true(CFStringGetCString(accent, buffer, 3, kCFStringEncodingUTF8));
    assert_string_equal(buffer, "\xC3\xA9");
    CFRelease(s);
    CFRelease(accent);
}

static void test_single_byte_encodings(void **state) {
    (void)state;
    CFStringRef from_latin1 =
        CFStringCreateWithCString(NULL, "caf\xE9", kCFStringEncodingISOLatin1);
    CFStringRef from_utf8 = make_string("caf\xC3\xA9");
    assert_true(CFEqual(from_latin1, from_utf8));
    assert_int_equal(CFStringGetLength(from_latin1), 4);

    char buffer[16];
    assert_true(CFStringGetCString(from_utf8, buffer, sizeof buffer, kCFStringEncodingISOLatin1));
    assert_string_equal(buffer, "caf\xE9");
    assert_false(CFStringGetCString(from_utf8, buffer, sizeof buffer, kCFStringEncodingASCII));
    assert_string_equal(buffer, "");
    assert_null(CFStringCreateWithCString(NULL, "caf\xE9", kCFStringEncodingASCII));

    CFStringRef euro = make_string("\xE2\x82\xAC");
    assert_false(CFStringGetCString(euro, buffer, sizeof buffer, kCFStringEncodingISOLatin1));
    CFRelease(from_latin1);
    CFRelease(from_utf8);
    CFRelease(euro);
}

static void test_unsupported_encoding_is_misuse(void **state) {
    (void)state;
    assert_null(CFStringCreateWithCString(NULL, "abc", kCFStringEncodingUTF16));
    assert_one_misuse("unsupported string encoding");
    CFStringRef s = make_string("abc");
    char buffer[8];
    assert_false(CFStringGetCString(s, buffer, sizeof buffer, kCFStringEncodingMacRoman));
    assert_one_misuse("unsupported string encoding");
    assert_null(CFStringGetCStringPtr(s, kCFStringEncodingUTF16)); /* NULL is always allowed */
    assert_int_equal(kc_cf_misuse_count(), 0);
    CFRelease(s);
}

static void test_cstring_ptr(void **state) {
    (void)state;
    CFStringRef s = make_string("caf\xC3\xA9");
    const char *p = CFStringGetCStringPtr(s, kCFStringEncodingUTF8);
    assert_non_null(p);
    assert_string_equal(p, "caf\xC3\xA9");
    assert_ptr_equal(p, CFStringGetCStringPtr(s, kCFStringEncodingUTF8)); /* internal, stable */
    assert_null(CFStringGetCStringPtr(s, kCFStringEncodingASCII));        /* not ASCII */
    CFStringRef ascii = make_string("plain");
    assert_string_equal(CFStringGetCStringPtr(ascii, kCFStringEncodingASCII), "plain");
    CFRelease(s);
    CFRelease(ascii);
}

static void test_create_with_bytes(void **state) {
    (void)state;
    CFStringRef with_nul =
        CFStringCreateWithBytes(NULL, (const UInt8 *)"a\0b", 3, kCFStringEncodingUTF8, false);
    assert_non_null(with_nul);
    assert_int_equal(CFStringGetLength(with_nul), 3);
    char buffer[8];
    assert_false(CFStringGetCString(with_nul, buffer, sizeof buffer, kCFStringEncodingUTF8));
    assert_null(CFStringGetCStringPtr(with_nul, kCFStringEncodingUTF8));

    const UInt8 bom_x[] = {0xEF, 0xBB, 0xBF, 'x'};
    CFStringRef external = CFStringCreateWithBytes(NULL, bom_x, 4, kCFStringEncodingUTF8, true);
    CFStringRef internal = CFStringCreateWithBytes(NULL, bom_x, 4, kCFStringEncodingUTF8, false);
    assert_int_equal(CFStringGetLength(external), 1); /* BOM skipped */
    assert_int_equal(CFStringGetLength(internal), 2); /* BOM kept as U+FEFF */

    CFStringRef prefix =
        CFStringCreateWithBytes(NULL, (const UInt8 *)"keychain", 3, kCFStringEncodingUTF8, false);
    assert_string_equal(CFStringGetCStringPtr(prefix, kCFStringEncodingUTF8), "key");

    assert_null(CFStringCreateWithBytes(NULL, NULL, 2, kCFStringEncodingUTF8, false));
    assert_one_misuse("NULL bytes");
    CFStringRef empty = CFStringCreateWithBytes(NULL, NULL, 0, kCFStringEncodingUTF8, false);
    assert_int_equal(CFStringGetLength(empty), 0);

    CFRelease(with_nul);
    CFRelease(external);
    CFRelease(internal);
    CFRelease(prefix);
    CFRelease(empty);
}

static void test_create_copy_returns_plus_one(void **state) {
    (void)state;
    CFStringRef s = make_string("copy me");
    CFStringRef copy = CFStringCreateCopy(NULL, s);
    assert_true(CFEqual(copy, s));
    assert_int_equal(CFGetRetainCount(s), 2); /* immutable: same object, +1 */
    CFRelease(s);
    assert_true(kc_cf_is_live(copy));
    assert_string_equal(CFStringGetCStringPtr(copy, kCFStringEncodingUTF8), "copy me");
    CFRelease(copy);
    assert_false(kc_cf_is_live(copy));
}

static void test_compare(void **state) {
    (void)state;
    CFStringRef a = make_string("a"), b = make_string("b"), ab = make_string("ab");
    CFStringRef upper = make_string("ABC"), lower = make_string("abc");
    CFStringRef z = make_string("z"), accent = make_string("\xC3\xA9");
    assert_int_equal(CFStringCompare(a, b, 0), kCFCompareLessThan);
    assert_int_equal(CFStringCompare(b, a, 0), kCFCompareGreaterThan);
    assert_int_equal(CFStringCompare(ab, a, 0), kCFCompareGreaterThan); /* longer after prefix */
    assert_int_equal(CFStringCompare(a, CFSTR("a"), 0), kCFCompareEqualTo);
    assert_int_equal(CFStringCompare(upper, lower, 0), kCFCompareLessThan);
    assert_int_equal(CFStringCompare(upper, lower, kCFCompareCaseInsensitive), kCFCompareEqualTo);
    assert_int_equal(CFStringCompare(upper, ab, kCFCompareCaseInsensitive), kCFCompareGreaterThan);
    assert_int_equal(CFStringCompare(accent, z, 0), kCFCompareGreaterThan); /* code points */
    assert_int_equal(CFStringCompare(a, b, kCFCompareNumerically), kCFCompareLessThan);
    assert_one_misuse("unsupported options");
    CFRelease(a);
    CFRelease(b);
    CFRelease(ab);
    CFRelease(upper);
    CFRelease(lower);
    CFRelease(z);
    CFRelease(accent);
}

static void test_prefix_and_suffix(void **state) {
    (void)state;
    CFStringRef s = make_string("com.example.agent");
    assert_true(CFStringHasPrefix(s, CFSTR("com.")));
    assert_false(CFStringHasPrefix(s, CFSTR("org.")));
    assert_true(CFStringHasSuffix(s, CFSTR(".agent")));
    assert_false(CFStringHasSuffix(s, CFSTR("agen")));
    assert_true(CFStringHasPrefix(s, CFSTR("")));
    assert_false(CFStringHasPrefix(CFSTR("ab"), s)); /* longer than the string */
    CFRelease(s);
}

static void test_equality_and_hash_by_content(void **state) {
    (void)state;
    CFStringRef s1 = make_string("acct");
    CFStringRef s2 =
        CFStringCreateWithBytes(NULL, (const UInt8 *)"acct!", 4, kCFStringEncodingUTF8, false);
    CFStringRef other = make_string("acct2");
    assert_true(CFEqual(s1, s2));
    assert_true(CFEqual(s1, CFSTR("acct")));
    assert_int_equal(CFHash(s1), CFHash(CFSTR("acct")));
    assert_false(CFEqual(s1, other));
    CFRelease(s1);
    CFRelease(s2);
    CFRelease(other);
}

static void test_external_representation(void **state) {
    (void)state;
    CFStringRef s = make_string("pw-\xC3\xA9");
    CFDataRef utf8 = CFStringCreateExternalRepresentation(NULL, s, kCFStringEncodingUTF8, 0);
    assert_int_equal(CFDataGetLength(utf8), 5);
    assert_memory_equal(CFDataGetBytePtr(utf8), "pw-\xC3\xA9", 5);
    CFStringRef back = CFStringCreateFromExternalRepresentation(NULL, utf8, kCFStringEncodingUTF8);
    assert_true(CFEqual(back, s));

    assert_null(CFStringCreateExternalRepresentation(NULL, s, kCFStringEncodingASCII, 0));
    CFDataRef lossy = CFStringCreateExternalRepresentation(NULL, s, kCFStringEncodingASCII, '?');
    assert_int_equal(CFDataGetLength(lossy), 4);
    assert_memory_equal(CFDataGetBytePtr(lossy), "pw-?", 4);
    CFRelease(s);
    CFRelease(utf8);
    CFRelease(back);
    CFRelease(lossy);
}

static void test_maximum_size_for_encoding(void **state) {
    (void)state;
    assert_int_equal(CFStringGetMaximumSizeForEncoding(4, kCFStringEncodingUTF8), 12);
    assert_int_equal(CFStringGetMaximumSizeForEncoding(4, kCFStringEncodingASCII), 4);
    /* A buffer of that size (+1) always suffices. */
    CFStringRef s = make_string("\xE2\x82\xAC\xE2\x82\xAC");
    char buffer[7];
    CFIndex needed = CFStringGetMaximumSizeForEncoding(CFStringGetLength(s), kCFStringEncodingUTF8);
    assert_true(needed + 1 <= (CFIndex)sizeof buffer);
    assert_true(CFStringGetCString(s, buffer, needed + 1, kCFStringEncodingUTF8));
    CFRelease(s);
}

static void test_cfstr_invalid_and_null(void **state) {
    (void)state;
    assert_null(CFSTR("bad\xFF"));
    assert_one_misuse("invalid UTF-8");
    assert_null(__CFStringMakeConstantString(NULL));
    assert_one_misuse("CFSTR called with NULL");
    assert_null(CFStringCreateWithCString(NULL, NULL, kCFStringEncodingUTF8));
    assert_one_misuse("CFStringCreateWithCString called with NULL");
    assert_int_equal(CFStringGetLength(NULL), 0);
    assert_one_misuse("CFStringGetLength called with NULL");
    assert_int_equal(CFStringCompare(NULL, CFSTR("a"), 0), kCFCompareEqualTo);
    assert_one_misuse("CFStringCompare called with NULL");
}

static void test_cfstr_unicode_constant(void **state) {
    (void)state;
    CFStringRef a = CFSTR("\xC3\xA9t\xC3\xA9");
    assert_ptr_equal(a, CFSTR("\xC3\xA9t\xC3\xA9"));
    assert_int_equal(CFStringGetLength(a), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(name) CF_TEST(name)
        T(test_create_and_get_cstring_round_trip),
        T(test_length_counts_utf16_code_units),
        T(test_invalid_utf8_gives_null),
        T(test_get_cstring_fails_on_short_buffer),
        T(test_single_byte_encodings),
        T(test_unsupported_encoding_is_misuse),
        T(test_cstring_ptr),
        T(test_create_with_bytes),
        T(test_create_copy_returns_plus_one),
        T(test_compare),
        T(test_prefix_and_suffix),
        T(test_equality_and_hash_by_content),
        T(test_external_representation),
        T(test_maximum_size_for_encoding),
        T(test_cfstr_invalid_and_null),
        T(test_cfstr_unicode_constant),
#undef T
    };
    return cmocka_run_group_tests(tests, cf_group_setup, cf_group_teardown);
}
