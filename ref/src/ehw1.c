/* EHW1 seal/open with OpenSSL EVP AES-256-GCM. */
#include "ref/ehw1.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

const char *ref_ehw1_status_name(ref_ehw1_status st) {
    switch (st) {
    case REF_EHW1_OK:
        return "ok";
    case REF_EHW1_LEGACY:
        return "legacy plaintext handle";
    case REF_EHW1_TRUNCATED:
        return "truncated EHW1 handle";
    case REF_EHW1_AUTH:
        return "EHW1 tag does not verify (wrong key or tampered handle)";
    case REF_EHW1_BUFFER:
        return "buffer too small";
    case REF_EHW1_CRYPTO:
        return "AES-GCM failure";
    }
    return "unknown";
}

bool ref_ehw1_is_wrapped(const uint8_t *data, size_t len) {
    return data != NULL && len >= REF_EHW1_MAGIC_LEN &&
           memcmp(data, REF_EHW1_MAGIC, REF_EHW1_MAGIC_LEN) == 0;
}

size_t ref_ehw1_sealed_len(size_t plain_len) { return plain_len + REF_EHW1_OVERHEAD; }

/* AES-256-GCM, fetched once: the implicit fetch of EVP_aes_256_gcm() on
 * every init cost more than the cipher itself on these short handles. The
 * one piece of process-wide state here: immutable once fetched (like the SE
 * shim's P-256 group; not thread-safe, and the engine never runs two
 * processes at once). */
static const EVP_CIPHER *gcm_cipher(void) {
    static EVP_CIPHER *cipher;
    if (cipher == NULL)
        cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    return cipher;
}

ref_ehw1_status ref_ehw1_seal(const uint8_t key[REF_EHW1_KEY_LEN],
                              const uint8_t nonce[REF_EHW1_NONCE_LEN], const uint8_t *plain,
                              size_t plain_len, uint8_t *out, size_t cap, size_t *out_len) {
    if (plain_len > (size_t)INT_MAX - REF_EHW1_OVERHEAD)
        return REF_EHW1_BUFFER;
    size_t need = ref_ehw1_sealed_len(plain_len);
    if (out == NULL || cap < need)
        return REF_EHW1_BUFFER;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return REF_EHW1_CRYPTO;
    ref_ehw1_status result = REF_EHW1_CRYPTO;
    uint8_t *ct = out + REF_EHW1_MAGIC_LEN + REF_EHW1_NONCE_LEN;
    int n = 0, fin = 0;
    if (EVP_EncryptInit_ex(ctx, gcm_cipher(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, REF_EHW1_NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
        goto done;
    if (plain_len > 0 && EVP_EncryptUpdate(ctx, ct, &n, plain, (int)plain_len) != 1)
        goto done;
    if (EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 || (size_t)(n + fin) != plain_len)
        goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, REF_EHW1_TAG_LEN, ct + plain_len) != 1)
        goto done;
    memcpy(out, REF_EHW1_MAGIC, REF_EHW1_MAGIC_LEN);
    memcpy(out + REF_EHW1_MAGIC_LEN, nonce, REF_EHW1_NONCE_LEN);
    *out_len = need;
    result = REF_EHW1_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    if (result != REF_EHW1_OK)
        OPENSSL_cleanse(out, need);
    return result;
}

ref_ehw1_status ref_ehw1_open(const uint8_t *key, const uint8_t *data, size_t len, uint8_t *out,
                              size_t cap, size_t *out_len) {
    if (!ref_ehw1_is_wrapped(data, len)) {
        if (out == NULL || cap < len)
            return REF_EHW1_BUFFER;
        if (len > 0)
            memcpy(out, data, len);
        *out_len = len;
        return REF_EHW1_LEGACY;
    }
    if (len < REF_EHW1_OVERHEAD)
        return REF_EHW1_TRUNCATED;
    size_t ct_len = len - REF_EHW1_OVERHEAD;
    if (ct_len > (size_t)INT_MAX)
        return REF_EHW1_BUFFER;
    if (out == NULL || cap < ct_len)
        return REF_EHW1_BUFFER;
    if (key == NULL)
        return REF_EHW1_AUTH;
    const uint8_t *nonce = data + REF_EHW1_MAGIC_LEN;
    const uint8_t *ct = nonce + REF_EHW1_NONCE_LEN;
    /* EVP wants a non-const tag buffer. */
    uint8_t tag[REF_EHW1_TAG_LEN];
    memcpy(tag, ct + ct_len, REF_EHW1_TAG_LEN);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return REF_EHW1_CRYPTO;
    ref_ehw1_status result = REF_EHW1_CRYPTO;
    int n = 0, fin = 0;
    if (EVP_DecryptInit_ex(ctx, gcm_cipher(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, REF_EHW1_NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
        goto done;
    if (ct_len > 0 && EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) != 1)
        goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, REF_EHW1_TAG_LEN, tag) != 1)
        goto done;
    if (EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1) {
        result = REF_EHW1_AUTH;
        goto done;
    }
    if ((size_t)(n + fin) != ct_len)
        goto done;
    *out_len = ct_len;
    result = REF_EHW1_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    if (result != REF_EHW1_OK && ct_len > 0)
        OPENSSL_cleanse(out, ct_len);
    return result;
}
