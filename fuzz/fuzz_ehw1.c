/* libFuzzer target: the EHW1 handle format (ref/include/ref/ehw1.h).
 *
 * The first input byte picks a mode:
 *   even: unwrap arbitrary bytes — key = the next 32 bytes (zero-padded),
 *         data = the rest. Never crashes; the status is the one the format
 *         implies (no magic: LEGACY and the bytes copied through; magic but
 *         shorter than the overhead: TRUNCATED; otherwise OK or AUTH); on a
 *         failure nothing is left in the out buffer.
 *   odd:  round trip — key (32), nonce (12), one tamper byte, then the
 *         plaintext. seal then open gives the plaintext back; flipping any one
 *         byte of the sealed blob (position and mask from the input), or one
 *         key bit, makes open fail; a short out buffer is BUFFER.
 * Every violated property aborts.
 */
#include "common.h"

#include "ref/ehw1.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLAIN 4096

static uint8_t out_buf[MAX_PLAIN + REF_EHW1_OVERHEAD + 64];
static uint8_t sealed_buf[MAX_PLAIN + REF_EHW1_OVERHEAD + 64];

static bool all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void unwrap_arbitrary(const uint8_t *data, size_t size) {
    uint8_t key[REF_EHW1_KEY_LEN];
    memset(key, 0, sizeof key);
    size_t kl = size < sizeof key ? size : sizeof key;
    if (kl > 0)
        memcpy(key, data, kl);
    data += kl;
    size -= kl;
    if (size > MAX_PLAIN + REF_EHW1_OVERHEAD)
        size = MAX_PLAIN + REF_EHW1_OVERHEAD;
    /* A private copy so that ASan sees any read past the end. */
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL)
        return;
    if (size > 0)
        memcpy(copy, data, size);
    memset(out_buf, 0xA5, sizeof out_buf);
    size_t out_len = (size_t)-1;
    ref_ehw1_status st = ref_ehw1_open(key, copy, size, out_buf, size, &out_len);
    bool wrapped = ref_ehw1_is_wrapped(copy, size);
    FUZZ_CHECK(wrapped == (size >= REF_EHW1_MAGIC_LEN && memcmp(copy, "EHW1", 4) == 0),
               "is_wrapped disagrees with the magic");
    if (!wrapped) {
        FUZZ_CHECK(st == REF_EHW1_LEGACY, "no magic but status %s", ref_ehw1_status_name(st));
        FUZZ_CHECK(out_len == size && (size == 0 || memcmp(out_buf, copy, size) == 0),
                   "a legacy handle was not passed through unchanged");
    } else if (size < REF_EHW1_OVERHEAD) {
        FUZZ_CHECK(st == REF_EHW1_TRUNCATED, "short wrapped blob (%zu bytes) gave %s", size,
                   ref_ehw1_status_name(st));
    } else {
        size_t ct = size - REF_EHW1_OVERHEAD;
        FUZZ_CHECK(st == REF_EHW1_OK || st == REF_EHW1_AUTH, "wrapped blob gave %s",
                   ref_ehw1_status_name(st));
        if (st == REF_EHW1_OK)
            FUZZ_CHECK(out_len == ct, "opened %zu bytes out of a %zu-byte ciphertext", out_len, ct);
        else
            FUZZ_CHECK(all_zero(out_buf, ct), "a failed open left bytes in the out buffer");
    }
    FUZZ_CHECK(ref_ehw1_status_name(st) != NULL, "status without a name");
    free(copy);
}

static void round_trip(const uint8_t *data, size_t size) {
    uint8_t key[REF_EHW1_KEY_LEN], nonce[REF_EHW1_NONCE_LEN];
    if (size < sizeof key + sizeof nonce + 2)
        return;
    memcpy(key, data, sizeof key);
    memcpy(nonce, data + sizeof key, sizeof nonce);
    uint8_t where = data[sizeof key + sizeof nonce];
    uint8_t mask = data[sizeof key + sizeof nonce + 1];
    const uint8_t *plain = data + sizeof key + sizeof nonce + 2;
    size_t plain_len = size - (sizeof key + sizeof nonce + 2);
    if (plain_len > MAX_PLAIN)
        plain_len = MAX_PLAIN;

    size_t need = ref_ehw1_sealed_len(plain_len);
    FUZZ_CHECK(need == plain_len + REF_EHW1_OVERHEAD, "sealed_len(%zu) = %zu", plain_len, need);
    size_t sealed_len = 0;
    /* Too small an out buffer is refused. */
    ref_ehw1_status st =
        ref_ehw1_seal(key, nonce, plain, plain_len, sealed_buf, need - 1, &sealed_len);
    FUZZ_CHECK(st == REF_EHW1_BUFFER, "seal into %zu bytes gave %s", need - 1,
               ref_ehw1_status_name(st));
    st = ref_ehw1_seal(key, nonce, plain, plain_len, sealed_buf, need, &sealed_len);
    FUZZ_CHECK(st == REF_EHW1_OK, "seal failed: %s", ref_ehw1_status_name(st));
    FUZZ_CHECK(sealed_len == need, "sealed %zu bytes, expected %zu", sealed_len, need);
    FUZZ_CHECK(ref_ehw1_is_wrapped(sealed_buf, sealed_len), "a sealed blob is not wrapped");
    FUZZ_CHECK(memcmp(sealed_buf + REF_EHW1_MAGIC_LEN, nonce, sizeof nonce) == 0,
               "the nonce is not stored after the magic");

    size_t out_len = 0;
    st = ref_ehw1_open(key, sealed_buf, sealed_len, out_buf, plain_len, &out_len);
    FUZZ_CHECK(st == REF_EHW1_OK, "open of a fresh seal gave %s", ref_ehw1_status_name(st));
    FUZZ_CHECK(out_len == plain_len && (plain_len == 0 || memcmp(out_buf, plain, plain_len) == 0),
               "the round trip changed the plaintext");

    if (plain_len > 0) {
        st = ref_ehw1_open(key, sealed_buf, sealed_len, out_buf, plain_len - 1, &out_len);
        FUZZ_CHECK(st == REF_EHW1_BUFFER, "open into a short buffer gave %s",
                   ref_ehw1_status_name(st));
    }

    /* Tamper one byte: open must not succeed. */
    size_t pos = (size_t)where * sealed_len / 256;
    uint8_t flip = mask != 0 ? mask : 0x01;
    sealed_buf[pos] ^= flip;
    memset(out_buf, 0xA5, plain_len);
    st = ref_ehw1_open(key, sealed_buf, sealed_len, out_buf, sealed_len, &out_len);
    if (pos < REF_EHW1_MAGIC_LEN) {
        /* The magic is gone: the bytes read as a legacy handle, never as the plaintext. */
        FUZZ_CHECK(st == REF_EHW1_LEGACY, "tampered magic gave %s", ref_ehw1_status_name(st));
    } else {
        FUZZ_CHECK(st == REF_EHW1_AUTH, "tampering byte %zu of %zu gave %s", pos, sealed_len,
                   ref_ehw1_status_name(st));
        FUZZ_CHECK(all_zero(out_buf, plain_len), "a failed open left bytes in the out buffer");
    }
    sealed_buf[pos] ^= flip;

    /* A different key: open must fail. */
    key[where % sizeof key] ^= flip;
    st = ref_ehw1_open(key, sealed_buf, sealed_len, out_buf, plain_len, &out_len);
    FUZZ_CHECK(st == REF_EHW1_AUTH, "open under a wrong key gave %s", ref_ehw1_status_name(st));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    if ((data[0] & 1) == 0)
        unwrap_arbitrary(data + 1, size - 1);
    else
        round_trip(data + 1, size - 1);
    return 0;
}
