/* EHW1 (domain.md §1): round trip, empty plaintext, tampering of each part,
 * truncation, missing magic, legacy passthrough. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ref/ehw1.h"

static const uint8_t key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t nonce[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
static const uint8_t blob[] = "an SE data representation, opaque bytes";

static size_t seal(uint8_t *out, size_t cap, const uint8_t *plain, size_t len) {
    size_t n = 0;
    assert_int_equal(ref_ehw1_seal(key, nonce, plain, len, out, cap, &n), REF_EHW1_OK);
    assert_int_equal(n, ref_ehw1_sealed_len(len));
    return n;
}

static void round_trip(void **state) {
    (void)state;
    uint8_t sealed[128], plain[128];
    size_t n = seal(sealed, sizeof sealed, blob, sizeof blob);
    assert_int_equal(n, sizeof blob + 32);
    assert_memory_equal(sealed, "EHW1", 4);
    assert_memory_equal(sealed + 4, nonce, 12);
    assert_memory_not_equal(sealed + 16, blob, sizeof blob); /* encrypted */
    assert_true(ref_ehw1_is_wrapped(sealed, n));
    size_t m = 0;
    assert_int_equal(ref_ehw1_open(key, sealed, n, plain, sizeof plain, &m), REF_EHW1_OK);
    assert_int_equal(m, sizeof blob);
    assert_memory_equal(plain, blob, sizeof blob);
}

static void empty_plaintext(void **state) {
    (void)state;
    uint8_t sealed[64], plain[64];
    size_t n = seal(sealed, sizeof sealed, NULL, 0);
    assert_int_equal(n, REF_EHW1_OVERHEAD);
    size_t m = 99;
    assert_int_equal(ref_ehw1_open(key, sealed, n, plain, sizeof plain, &m), REF_EHW1_OK);
    assert_int_equal(m, 0);
}

static void tamper_at(size_t offset) {
    uint8_t sealed[128], plain[128];
    size_t n = seal(sealed, sizeof sealed, blob, sizeof blob);
    sealed[offset] ^= 0x01;
    memset(plain, 0xAA, sizeof plain);
    size_t m = 0;
    assert_int_equal(ref_ehw1_open(key, sealed, n, plain, sizeof plain, &m), REF_EHW1_AUTH);
    /* Nothing of the plaintext is left behind. */
    for (size_t i = 0; i + 8 <= sizeof blob; i++)
        assert_memory_not_equal(plain + i, blob + i, 8);
}

static void tampered_nonce(void **state) {
    (void)state;
    tamper_at(4);
    tamper_at(15);
}

static void tampered_ciphertext(void **state) {
    (void)state;
    tamper_at(16);
    tamper_at(16 + sizeof blob - 1);
}

static void tampered_tag(void **state) {
    (void)state;
    tamper_at(16 + sizeof blob);
    tamper_at(16 + sizeof blob + 15);
}

static void wrong_key(void **state) {
    (void)state;
    uint8_t sealed[128], plain[128], other[32];
    size_t n = seal(sealed, sizeof sealed, blob, sizeof blob);
    memcpy(other, key, 32);
    other[31] ^= 0x80;
    size_t m = 0;
    assert_int_equal(ref_ehw1_open(other, sealed, n, plain, sizeof plain, &m), REF_EHW1_AUTH);
    assert_int_equal(ref_ehw1_open(NULL, sealed, n, plain, sizeof plain, &m), REF_EHW1_AUTH);
}

static void truncation(void **state) {
    (void)state;
    uint8_t sealed[128], plain[128];
    size_t n = seal(sealed, sizeof sealed, blob, sizeof blob);
    size_t m = 0;
    /* Shorter than magic + nonce + tag: truncated; longer but cut: tag fails. */
    for (size_t len = 4; len < REF_EHW1_OVERHEAD; len++)
        assert_int_equal(ref_ehw1_open(key, sealed, len, plain, sizeof plain, &m),
                         REF_EHW1_TRUNCATED);
    for (size_t len = REF_EHW1_OVERHEAD; len < n; len++)
        assert_int_equal(ref_ehw1_open(key, sealed, len, plain, sizeof plain, &m), REF_EHW1_AUTH);
    /* An appended byte is tampering too. */
    sealed[n] = 0;
    assert_int_equal(ref_ehw1_open(key, sealed, n + 1, plain, sizeof plain, &m), REF_EHW1_AUTH);
}

static void missing_magic_is_legacy_passthrough(void **state) {
    (void)state;
    uint8_t plain[128];
    size_t m = 0;
    assert_false(ref_ehw1_is_wrapped(blob, sizeof blob));
    assert_int_equal(ref_ehw1_open(key, blob, sizeof blob, plain, sizeof plain, &m),
                     REF_EHW1_LEGACY);
    assert_int_equal(m, sizeof blob);
    assert_memory_equal(plain, blob, sizeof blob);
    /* A sealed handle with its magic damaged is not EHW1 any more. */
    uint8_t sealed[128];
    size_t n = seal(sealed, sizeof sealed, blob, sizeof blob);
    sealed[0] = 'e';
    assert_false(ref_ehw1_is_wrapped(sealed, n));
    assert_int_equal(ref_ehw1_open(key, sealed, n, plain, sizeof plain, &m), REF_EHW1_LEGACY);
    /* Short legacy blobs, the empty one included, pass through too. */
    assert_false(ref_ehw1_is_wrapped((const uint8_t *)"EHW", 3));
    assert_int_equal(ref_ehw1_open(NULL, (const uint8_t *)"EHW", 3, plain, sizeof plain, &m),
                     REF_EHW1_LEGACY);
    assert_int_equal(m, 3);
    assert_int_equal(ref_ehw1_open(NULL, (const uint8_t *)"", 0, plain, sizeof plain, &m),
                     REF_EHW1_LEGACY);
    assert_int_equal(m, 0);
}

static void buffers_are_checked(void **state) {
    (void)state;
    uint8_t sealed[128], plain[8];
    size_t n = 0;
    assert_int_equal(ref_ehw1_seal(key, nonce, blob, sizeof blob, sealed, sizeof blob, &n),
                     REF_EHW1_BUFFER);
    n = seal(sealed, sizeof sealed, blob, sizeof blob);
    size_t m = 0;
    assert_int_equal(ref_ehw1_open(key, sealed, n, plain, sizeof plain, &m), REF_EHW1_BUFFER);
}

static void nonce_matters(void **state) {
    (void)state;
    uint8_t a[128], b[128];
    size_t n = seal(a, sizeof a, blob, sizeof blob);
    uint8_t other[12];
    memcpy(other, nonce, 12);
    other[0] ^= 1;
    size_t m = 0;
    assert_int_equal(ref_ehw1_seal(key, other, blob, sizeof blob, b, sizeof b, &m), REF_EHW1_OK);
    assert_int_equal(m, n);
    assert_memory_not_equal(a + 16, b + 16, sizeof blob);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(empty_plaintext),
        cmocka_unit_test(tampered_nonce),
        cmocka_unit_test(tampered_ciphertext),
        cmocka_unit_test(tampered_tag),
        cmocka_unit_test(wrong_key),
        cmocka_unit_test(truncation),
        cmocka_unit_test(missing_magic_is_legacy_passthrough),
        cmocka_unit_test(buffers_are_checked),
        cmocka_unit_test(nonce_matters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
