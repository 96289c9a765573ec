/* EHW1: the wrapped handle format (domain.md §1).
 *
 *   "EHW1" (4 bytes) | nonce (12) | ciphertext (= plaintext length) | GCM tag (16)
 *
 * AES-256-GCM with OpenSSL EVP; no associated data. A handle that does not
 * start with the magic is a legacy plaintext blob and is used as is. Pure
 * functions: the caller supplies key and nonce (the core draws both with
 * SecRandomCopyBytes), so they are testable without a world.
 */
#ifndef REF_EHW1_H
#define REF_EHW1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REF_EHW1_MAGIC "EHW1"
#define REF_EHW1_MAGIC_LEN 4
#define REF_EHW1_KEY_LEN 32
#define REF_EHW1_NONCE_LEN 12
#define REF_EHW1_TAG_LEN 16
#define REF_EHW1_OVERHEAD (REF_EHW1_MAGIC_LEN + REF_EHW1_NONCE_LEN + REF_EHW1_TAG_LEN)

typedef enum {
    REF_EHW1_OK = 0,
    REF_EHW1_LEGACY,    /* no magic: a plaintext handle (open passes it through) */
    REF_EHW1_TRUNCATED, /* magic present, shorter than magic + nonce + tag */
    REF_EHW1_AUTH,      /* the tag does not verify: wrong key or tampered bytes */
    REF_EHW1_BUFFER,    /* out buffer too small */
    REF_EHW1_CRYPTO,    /* OpenSSL failed */
} ref_ehw1_status;

const char *ref_ehw1_status_name(ref_ehw1_status st);

/* Does `data` start with the EHW1 magic? */
bool ref_ehw1_is_wrapped(const uint8_t *data, size_t len);

/* Size of the wrapped form of `plain_len` bytes. */
size_t ref_ehw1_sealed_len(size_t plain_len);

/* Seals `plain` into out (cap >= ref_ehw1_sealed_len(plain_len)); *out_len is
 * set on success. */
ref_ehw1_status ref_ehw1_seal(const uint8_t key[REF_EHW1_KEY_LEN],
                              const uint8_t nonce[REF_EHW1_NONCE_LEN], const uint8_t *plain,
                              size_t plain_len, uint8_t *out, size_t cap, size_t *out_len);

/* Opens a handle. A legacy handle (no magic) is copied through unchanged and
 * REF_EHW1_LEGACY returned (key unused, may be NULL). out needs `len` bytes at
 * most. On any failure nothing of the plaintext is left in out. */
ref_ehw1_status ref_ehw1_open(const uint8_t *key, const uint8_t *data, size_t len, uint8_t *out,
                              size_t cap, size_t *out_len);

#endif
