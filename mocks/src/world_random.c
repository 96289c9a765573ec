/* The world's one seeded generator: an AES-256-CTR keystream from libcrypto,
 * keyed by SHA-256 of the seed. Same seed, same bytes, on every platform. */
#include "world_state.h"

#include <Security/Security.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* AES-256-CTR and SHA-256, fetched once (an implicit fetch per world cost
 * more than the keystream a short run draws). Process-wide but immutable once
 * fetched, like the SE shim's P-256 group. */
static const EVP_CIPHER *ctr_cipher(void) {
    static EVP_CIPHER *cipher;
    if (cipher == NULL)
        cipher = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
    return cipher;
}

const EVP_MD *world_sha256(void) {
    static EVP_MD *md;
    if (md == NULL)
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    return md;
}

int world_rng_init(world *w) {
    unsigned char material[8 + 24] = "keyclass world generator";
    unsigned char seed_le[8];
    for (int i = 0; i < 8; i++)
        seed_le[i] = (unsigned char)(w->seed >> (8 * i));
    unsigned char key[SHA256_DIGEST_LENGTH];
    unsigned char input[sizeof material + sizeof seed_le];
    memcpy(input, material, sizeof material);
    memcpy(input + sizeof material, seed_le, sizeof seed_le);
    const EVP_MD *md = world_sha256();
    if (md == NULL || EVP_Digest(input, sizeof input, key, NULL, md, NULL) != 1)
        return -1;

    static const unsigned char iv[16] = {0};
    w->rng = EVP_CIPHER_CTX_new();
    int ok = w->rng != NULL && EVP_EncryptInit_ex(w->rng, ctr_cipher(), NULL, key, iv) == 1;
    memset(key, 0, sizeof key);
    w->rng_avail = 0;
    return ok ? 0 : -1;
}

void world_rng_free(world *w) {
    EVP_CIPHER_CTX_free(w->rng);
    w->rng = NULL;
}

/* A keystream that cannot be produced means libcrypto itself is broken; no
 * caller could recover, and silently repeating bytes would be worse. */
static void abort_on_rng_failure(void) {
    fputs("keyclass: world generator: AES-256-CTR failed\n", stderr);
    abort();
}

static void refill(world *w) {
    unsigned char zeros[sizeof w->rng_buf] = {0};
    int outl = 0;
    if (EVP_EncryptUpdate(w->rng, w->rng_buf, &outl, zeros, (int)sizeof zeros) != 1 ||
        outl != (int)sizeof zeros)
        abort_on_rng_failure();
    w->rng_avail = sizeof w->rng_buf;
}

void world_random_bytes(world *w, void *out, size_t len) {
    unsigned char *dst = out;
    while (len > 0) {
        if (w->rng_avail == 0)
            refill(w);
        size_t take = len < w->rng_avail ? len : w->rng_avail;
        size_t start = sizeof w->rng_buf - w->rng_avail;
        memcpy(dst, w->rng_buf + start, take);
        memset(w->rng_buf + start, 0, take); /* never hand out a byte twice */
        w->rng_avail -= take;
        dst += take;
        len -= take;
    }
}

int SecRandomCopyBytes(SecRandomRef rnd, size_t count, void *bytes) {
    (void)rnd;
    world *w = world_active();
    if (w == NULL || (count > 0 && bytes == NULL))
        return errSecParam;
    world_random_bytes(w, bytes, count);
    return errSecSuccess;
}
