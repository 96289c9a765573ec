/* The simulated Secure Enclave: its key store, CryptoKit's
 * SecureEnclave.P256.Signing C face, and the inspection API of world.h
 * (domain.md §5).
 *
 * Keys are real ECDSA P-256 keys (OpenSSL 3 EVP). Each private scalar is
 * drawn from the world's seeded generator (redrawn while out of range), so
 * the same seed and calls give the same public keys. Creating a key computes
 * its public point only; the EVP key pair is built on its first sign (the
 * fuzz targets create many keys that never sign). A key is named by its
 * *data representation*, a 44-byte blob bound to this simulated device:
 *
 *     "SEK1" | key id (8 bytes, big endian) | HMAC-SHA256(device secret,
 *                                             "keyclass-se-blob" | "SEK1" | id)
 *
 * A blob of another length or magic, or whose MAC does not verify under this
 * world's device secret (tampered, or from a world with another seed), is
 * errSecDecode; a blob of a deleted key is errSecItemNotFound.
 *
 * Every SE call goes through the world's entry hook; the journal gets the
 * key id (key=N), the key's class and flags, and the size of a signed message
 * — never key bytes, signature bytes or signature lengths. Rules beyond
 * CryptoKit's documentation:
 *  - se_available off: every SE call returns errSecNotAvailable.
 *  - An injected errSecSuccess (a fault with status 0) lets the call run as
 *    usual (the call still has to produce its result).
 *  - Generating never consults the keybag (a key can be created before the
 *    first unlock; whether it can sign is decided at sign time).
 *  - "Locked" for the knob se_when_unlocked_unusable_while_locked means any
 *    device state but unlocked; it covers WhenUnlocked, WhenUnlocked-
 *    ThisDeviceOnly and WhenPasscodeSetThisDeviceOnly keys. Silent reuse of an
 *    authenticated context (knob se_reuse_requires_when_unlocked) is granted
 *    to the two WhenUnlocked classes only, as domain.md words it.
 *  - A presence-gated sign with an invalidated context fails with
 *    LAErrorInvalidContext (no prompt); keys without a presence flag ignore
 *    the context.
 */
#include <CoreFoundation/CoreFoundation.h>
#include <CryptoKit/SecureEnclave.h>
#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>

#include "la_internal.h"
#include "world_internal.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SE_BLOB_MAGIC "SEK1"
#define SE_BLOB_MAGIC_LEN 4
#define SE_BLOB_ID_LEN 8
#define SE_BLOB_MAC_LEN 32
#define SE_BLOB_LEN (SE_BLOB_MAGIC_LEN + SE_BLOB_ID_LEN + SE_BLOB_MAC_LEN)
#define SE_PUBLIC_KEY_LEN 65
#define SE_SCALAR_LEN 32
#define SE_SCALAR_MAX_DRAWS 64 /* P(out of range) < 2^-32 per draw */

typedef struct {
    uint64_t id; /* 1-based; index + 1 */
    bool deleted;
    bool has_ac;
    world_class cls;
    uint32_t flags;
    unsigned char public_key[SE_PUBLIC_KEY_LEN];
    /* The private scalar; the EVP key pair is built from it on the key's first
     * sign (most keys of a run never sign, and building it is the costly part
     * of a key's creation). Zeroized when the key is deleted. */
    unsigned char scalar[SE_SCALAR_LEN];
    EVP_PKEY *pkey; /* NULL until the first sign, and once deleted */
} se_key;

struct world_se_store {
    se_key *keys;
    size_t count, cap;
};

world_se_store *world_se_store_new(void) { return calloc(1, sizeof(world_se_store)); }

void world_se_store_free(world_se_store *store) {
    if (store == NULL)
        return;
    for (size_t i = 0; i < store->count; i++)
        EVP_PKEY_free(store->keys[i].pkey);
    if (store->keys != NULL)
        OPENSSL_cleanse(store->keys, store->cap * sizeof *store->keys);
    free(store->keys);
    free(store);
}

/* ---- P-256 with OpenSSL 3 EVP ---------------------------------------------- */

/* The P-256 group, built once: it is immutable and costly to build (the one
 * piece of process-wide state here; like the CF shim, not thread-safe). */
static const EC_GROUP *p256_group(void) {
    static EC_GROUP *group;
    if (group == NULL)
        group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    return group;
}

/* The public point of a big-endian private scalar. Returns 1 on success
 * (public_key set), 0 if the scalar is not in [1, n-1], -1 on an OpenSSL
 * failure. */
static int p256_public_of_scalar(const unsigned char scalar[SE_SCALAR_LEN],
                                 unsigned char public_key[SE_PUBLIC_KEY_LEN]) {
    int result = -1;
    const EC_GROUP *group = p256_group();
    BIGNUM *d = BN_bin2bn(scalar, SE_SCALAR_LEN, NULL);
    EC_POINT *point = NULL;
    if (group == NULL || d == NULL)
        goto done;
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
        result = 0;
        goto done;
    }
    point = EC_POINT_new(group);
    if (point == NULL || EC_POINT_mul(group, point, d, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, public_key,
                           SE_PUBLIC_KEY_LEN, NULL) != SE_PUBLIC_KEY_LEN)
        goto done;
    result = 1;
done:
    EC_POINT_free(point);
    BN_clear_free(d);
    if (result != 1)
        ERR_clear_error();
    return result;
}

/* ---- A memo of key pairs and blob MACs --------------------------------------
 * A world's keys follow from its seed, so runs with the same seed (the tests,
 * the fuzz targets: thousands of worlds a second) make the same keys and blobs
 * again and again. Both functions memoized here are pure — a scalar always has
 * the same public point and key pair, a (device secret, blob head) always the
 * same MAC — so a small process-wide memo changes no result; it saves the
 * scalar multiplication, the EVP key construction and the HMAC. Like the CF
 * shim's registry: process-wide, not thread-safe. */
#define SE_MEMO_SLOTS 32

typedef struct {
    bool used;
    unsigned char scalar[SE_SCALAR_LEN];
    unsigned char public_key[SE_PUBLIC_KEY_LEN];
    EVP_PKEY *pkey; /* built on the first sign with this scalar; the memo's reference */
} key_memo;

static key_memo key_memos[SE_MEMO_SLOTS];
static size_t key_memo_next;

static key_memo *key_memo_find(const unsigned char scalar[SE_SCALAR_LEN]) {
    for (size_t i = 0; i < SE_MEMO_SLOTS; i++)
        if (key_memos[i].used && memcmp(key_memos[i].scalar, scalar, SE_SCALAR_LEN) == 0)
            return &key_memos[i];
    return NULL;
}

static key_memo *key_memo_put(const unsigned char scalar[SE_SCALAR_LEN],
                              const unsigned char public_key[SE_PUBLIC_KEY_LEN]) {
    key_memo *m = &key_memos[key_memo_next];
    key_memo_next = (key_memo_next + 1) % SE_MEMO_SLOTS;
    EVP_PKEY_free(m->pkey);
    m->pkey = NULL;
    m->used = true;
    memcpy(m->scalar, scalar, SE_SCALAR_LEN);
    memcpy(m->public_key, public_key, SE_PUBLIC_KEY_LEN);
    return m;
}

typedef struct {
    bool used;
    unsigned char secret[32];
    unsigned char head[SE_BLOB_MAGIC_LEN + SE_BLOB_ID_LEN];
    unsigned char mac[SE_BLOB_MAC_LEN];
} mac_memo;

static mac_memo mac_memos[SE_MEMO_SLOTS];
static size_t mac_memo_next;

/* The EVP key pair of a scalar whose public point is known. Returns 1 on
 * success (*out set), -1 on an OpenSSL failure. */
static int p256_from_scalar(const unsigned char scalar[SE_SCALAR_LEN],
                            const unsigned char public_key[SE_PUBLIC_KEY_LEN], EVP_PKEY **out) {
    int result = -1;
    BIGNUM *d = BN_bin2bn(scalar, SE_SCALAR_LEN, NULL);
    OSSL_PARAM_BLD *builder = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    *out = NULL;
    if (d == NULL)
        goto done;
    builder = OSSL_PARAM_BLD_new();
    if (builder == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1,
                                        0) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, public_key,
                                         SE_PUBLIC_KEY_LEN) != 1)
        goto done;
    params = OSSL_PARAM_BLD_to_param(builder);
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) != 1)
        goto done;
    result = 1;
done:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    BN_clear_free(d);
    if (result != 1) {
        EVP_PKEY_free(*out);
        *out = NULL;
        ERR_clear_error();
    }
    return result;
}

/* A public-only P-256 key from its 65-byte uncompressed point (NULL if it is
 * not a point of the curve). */
static EVP_PKEY *p256_public(const unsigned char public_key[SE_PUBLIC_KEY_LEN]) {
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)SN_X9_62_prime256v1,
                                         0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)public_key,
                                          SE_PUBLIC_KEY_LEN),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(pctx);
    return pkey;
}

/* Public keys by their point, for verification (the memo above, same
 * rules: pure, process-wide). */
typedef struct {
    bool used;
    unsigned char public_key[SE_PUBLIC_KEY_LEN];
    EVP_PKEY *pkey;
} public_memo;

static public_memo public_memos[SE_MEMO_SLOTS];
static size_t public_memo_next;

static EVP_PKEY *p256_public_memo(const unsigned char public_key[SE_PUBLIC_KEY_LEN]) {
    for (size_t i = 0; i < SE_MEMO_SLOTS; i++)
        if (public_memos[i].used &&
            memcmp(public_memos[i].public_key, public_key, SE_PUBLIC_KEY_LEN) == 0)
            return public_memos[i].pkey;
    EVP_PKEY *pkey = p256_public(public_key);
    if (pkey == NULL)
        return NULL;
    public_memo *m = &public_memos[public_memo_next];
    public_memo_next = (public_memo_next + 1) % SE_MEMO_SLOTS;
    EVP_PKEY_free(m->pkey);
    m->used = true;
    memcpy(m->public_key, public_key, SE_PUBLIC_KEY_LEN);
    m->pkey = pkey;
    return pkey;
}

bool world_verify_signature(const unsigned char public_key[65], const unsigned char *msg,
                            size_t msg_len, const unsigned char *sig, size_t sig_len) {
    if (public_key == NULL || (msg == NULL && msg_len > 0) || sig == NULL || sig_len == 0)
        return false;
    static const unsigned char empty = 0;
    EVP_PKEY *pkey = p256_public_memo(public_key); /* the memo's: not freed here */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = pkey != NULL && md != NULL &&
              EVP_DigestVerifyInit(md, NULL, world_sha256(), NULL, pkey) == 1 &&
              EVP_DigestVerify(md, sig, sig_len, msg != NULL ? msg : &empty, msg_len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

/* The key's EVP key pair, built on first use (NULL on an OpenSSL failure or
 * for a deleted key). */
static EVP_PKEY *key_pkey(se_key *key) {
    if (key->pkey != NULL || key->deleted)
        return key->pkey;
    key_memo *m = key_memo_find(key->scalar);
    if (m == NULL)
        m = key_memo_put(key->scalar, key->public_key);
    if (m->pkey == NULL && p256_from_scalar(key->scalar, key->public_key, &m->pkey) != 1)
        return NULL;
    if (EVP_PKEY_up_ref(m->pkey) != 1)
        return NULL;
    key->pkey = m->pkey;
    return key->pkey;
}

/* DER ECDSA over SHA-256 of msg (+1 CFData), NULL on failure. */
static CFDataRef p256_sign(EVP_PKEY *pkey, const unsigned char *msg, size_t msg_len) {
    static const unsigned char empty = 0;
    CFDataRef result = NULL;
    if (pkey == NULL)
        return NULL;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestSignInit(md, NULL, world_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(md, NULL, &sig_len, msg != NULL ? msg : &empty, msg_len) != 1 ||
        (sig = malloc(sig_len)) == NULL ||
        EVP_DigestSign(md, sig, &sig_len, msg != NULL ? msg : &empty, msg_len) != 1)
        goto done;
    result = CFDataCreate(NULL, sig, (CFIndex)sig_len);
done:
    free(sig);
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return result;
}

/* ---- Data representations ------------------------------------------------------ */

static bool blob_mac(const world *w, const unsigned char head[SE_BLOB_MAGIC_LEN + SE_BLOB_ID_LEN],
                     unsigned char mac[SE_BLOB_MAC_LEN]) {
    const unsigned char *secret = world_device_secret(w);
    for (size_t i = 0; i < SE_MEMO_SLOTS; i++) {
        const mac_memo *m = &mac_memos[i];
        if (m->used && memcmp(m->head, head, sizeof m->head) == 0 &&
            memcmp(m->secret, secret, sizeof m->secret) == 0) {
            memcpy(mac, m->mac, SE_BLOB_MAC_LEN);
            return true;
        }
    }
    static const char label[] = "keyclass-se-blob";
    unsigned char input[sizeof label - 1 + SE_BLOB_MAGIC_LEN + SE_BLOB_ID_LEN];
    memcpy(input, label, sizeof label - 1);
    memcpy(input + sizeof label - 1, head, SE_BLOB_MAGIC_LEN + SE_BLOB_ID_LEN);
    unsigned int mac_len = 0;
    bool ok = HMAC(world_sha256(), secret, 32, input, sizeof input, mac, &mac_len) != NULL &&
              mac_len == SE_BLOB_MAC_LEN;
    ERR_clear_error();
    if (ok) {
        mac_memo *m = &mac_memos[mac_memo_next];
        mac_memo_next = (mac_memo_next + 1) % SE_MEMO_SLOTS;
        m->used = true;
        memcpy(m->secret, secret, sizeof m->secret);
        memcpy(m->head, head, sizeof m->head);
        memcpy(m->mac, mac, sizeof m->mac);
    }
    return ok;
}

static bool blob_make(const world *w, uint64_t id, unsigned char blob[SE_BLOB_LEN]) {
    memcpy(blob, SE_BLOB_MAGIC, SE_BLOB_MAGIC_LEN);
    for (int i = 0; i < SE_BLOB_ID_LEN; i++)
        blob[SE_BLOB_MAGIC_LEN + i] = (unsigned char)(id >> (8 * (SE_BLOB_ID_LEN - 1 - i)));
    return blob_mac(w, blob, blob + SE_BLOB_MAGIC_LEN + SE_BLOB_ID_LEN);
}

/* The key a blob names: errSecSuccess (*out set, possibly a deleted key),
 * errSecDecode (not a blob of this device, or of no key it ever made). */
static int32_t blob_key(const world *w, const unsigned char *blob, size_t len, se_key **out) {
    *out = NULL;
    if (blob == NULL || len != SE_BLOB_LEN || memcmp(blob, SE_BLOB_MAGIC, SE_BLOB_MAGIC_LEN) != 0)
        return errSecDecode;
    unsigned char mac[SE_BLOB_MAC_LEN];
    if (!blob_mac(w, blob, mac) ||
        CRYPTO_memcmp(mac, blob + SE_BLOB_MAGIC_LEN + SE_BLOB_ID_LEN, SE_BLOB_MAC_LEN) != 0)
        return errSecDecode;
    uint64_t id = 0;
    for (int i = 0; i < SE_BLOB_ID_LEN; i++)
        id = id << 8 | blob[SE_BLOB_MAGIC_LEN + i];
    const world_se_store *store = world_se_store_of_const(w);
    if (id == 0 || id > store->count)
        return errSecDecode; /* MAC'd by this device, yet never issued: cannot happen */
    *out = &store->keys[id - 1];
    return errSecSuccess;
}

/* ---- Creating keys ------------------------------------------------------------- */

/* Creates a key; writes its blob. Returns the key or NULL (out of memory,
 * OpenSSL failure, or a generator that keeps drawing out-of-range scalars). */
static se_key *key_create(world *w, bool has_ac, world_class cls, uint32_t flags,
                          unsigned char blob[SE_BLOB_LEN]) {
    world_se_store *store = world_se_store_of(w);
    if (store->count == store->cap) {
        /* Grown by hand rather than realloc: the old array holds private
         * scalars and is zeroized before it is freed. */
        size_t cap = store->cap ? store->cap * 2 : 8;
        se_key *grown = malloc(cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        if (store->count > 0)
            memcpy(grown, store->keys, store->count * sizeof *grown);
        if (store->keys != NULL)
            OPENSSL_cleanse(store->keys, store->cap * sizeof *store->keys);
        free(store->keys);
        store->keys = grown;
        store->cap = cap;
    }
    se_key *key = &store->keys[store->count];
    memset(key, 0, sizeof *key);
    int made = 0;
    for (int draw = 0; draw < SE_SCALAR_MAX_DRAWS && made == 0; draw++) {
        world_random_bytes(w, key->scalar, sizeof key->scalar);
        const key_memo *m = key_memo_find(key->scalar);
        if (m != NULL) {
            memcpy(key->public_key, m->public_key, SE_PUBLIC_KEY_LEN);
            made = 1;
        } else if ((made = p256_public_of_scalar(key->scalar, key->public_key)) == 1) {
            key_memo_put(key->scalar, key->public_key);
        }
    }
    if (made != 1) {
        OPENSSL_cleanse(key->scalar, sizeof key->scalar);
        return NULL;
    }
    key->id = (uint64_t)store->count + 1;
    key->has_ac = has_ac;
    key->cls = cls;
    key->flags = flags;
    if (!blob_make(w, key->id, blob)) {
        OPENSSL_cleanse(key->scalar, sizeof key->scalar);
        return NULL;
    }
    store->count++;
    return key;
}

int world_se_key_plant(world *w, bool has_ac, world_class accessible, uint32_t ac_flags,
                       unsigned char *blob, size_t cap, size_t *blob_len) {
    if (w == NULL || blob == NULL || cap < SE_BLOB_LEN ||
        (has_ac && (unsigned)accessible >= WORLD_CLASS_COUNT))
        return -1;
    unsigned char made[SE_BLOB_LEN];
    if (key_create(w, has_ac, has_ac ? accessible : WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
                   has_ac ? ac_flags : 0, made) == NULL)
        return -1;
    memcpy(blob, made, SE_BLOB_LEN);
    if (blob_len != NULL)
        *blob_len = SE_BLOB_LEN;
    return 0;
}

/* ---- Inspection ------------------------------------------------------------------ */

static void key_view(const se_key *key, world_se_key_view *out) {
    out->id = key->id;
    out->deleted = key->deleted;
    out->has_access_control = key->has_ac;
    out->accessible = key->cls;
    out->ac_flags = key->flags;
    memcpy(out->public_key, key->public_key, SE_PUBLIC_KEY_LEN);
}

size_t world_se_key_count(const world *w) { return world_se_store_of_const(w)->count; }

bool world_se_key_at(const world *w, size_t index, world_se_key_view *out) {
    const world_se_store *store = world_se_store_of_const(w);
    if (index >= store->count || out == NULL)
        return false;
    key_view(&store->keys[index], out);
    return true;
}

bool world_se_key_for_blob(const world *w, const unsigned char *blob, size_t len,
                           world_se_key_view *out) {
    se_key *key = NULL;
    if (blob_key(w, blob, len, &key) != errSecSuccess)
        return false;
    if (out != NULL)
        key_view(key, out);
    return true;
}

/* ---- The CryptoKit face ---------------------------------------------------------- */

static void detail_add(world_call *call, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void detail_add(world_call *call, const char *fmt, ...) {
    size_t used = strlen(call->detail);
    if (used > 0 && used + 1 < sizeof call->detail)
        call->detail[used++] = ' ', call->detail[used] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->detail + used, sizeof call->detail - used, fmt, ap);
    va_end(ap);
}

static bool se_available(const world *w) {
    return world_knob_value(w, WORLD_KNOB_SE_AVAILABLE) != 0;
}

Boolean SEIsAvailable(void) {
    const world *w = world_active();
    return w != NULL && se_available(w);
}

static bool is_data(CFTypeRef cf) { return cf != NULL && CFGetTypeID(cf) == CFDataGetTypeID(); }

/* The key a data representation argument names, for the hook's key
 * arguments and for the call itself: errSecParam (not a CFData),
 * errSecDecode, errSecItemNotFound (deleted), or errSecSuccess. */
static int32_t arg_key(const world *w, CFDataRef blob, world_call *call, se_key **out) {
    *out = NULL;
    if (!is_data(blob))
        return errSecParam;
    se_key *key = NULL;
    int32_t status = blob_key(w, CFDataGetBytePtr(blob), (size_t)CFDataGetLength(blob), &key);
    if (status != errSecSuccess)
        return status;
    call->cls = (int)key->cls;
    call->flags = key->flags;
    call->se_key = key->id;
    detail_add(call, "key=%llu", (unsigned long long)key->id);
    if (key->deleted)
        return errSecItemNotFound;
    *out = key;
    return errSecSuccess;
}

/* The key again after the hook: other simulated processes may have run
 * inside world_call_faulted (the store may have grown, the key may have been
 * deleted), so a pointer taken before it is not used after it. */
static int32_t key_again(world *w, const world_call *call, se_key **out) {
    world_se_store *store = world_se_store_of(w);
    *out = NULL;
    if (call->se_key == 0 || call->se_key > store->count)
        return errSecDecode;
    se_key *key = &store->keys[call->se_key - 1];
    if (key->deleted)
        return errSecItemNotFound;
    *out = key;
    return errSecSuccess;
}

/* Runs the call unless the fault plan answers it (an injected errSecSuccess
 * lets it run). */
static bool run_call(world *w, world_call *call, int32_t *status) {
    return !world_call_faulted(w, call, status) || *status == errSecSuccess;
}

/* The start of a call on an existing key: the active world (NULL: there is
 * none, and the call fails with errSecNotAvailable before anything else), the
 * call begun, the key its blob names and the status of that argument. */
static world *key_call_begin(world_call *call, world_api api, CFDataRef data_representation,
                             se_key **key, int32_t *arg_status) {
    world *w = world_active();
    if (w == NULL)
        return NULL;
    world_call_begin(w, call, api);
    *arg_status = arg_key(w, data_representation, call, key);
    return w;
}

/* Once the fault plan lets a call on an existing key run: the key looked up
 * again, then the enclave's availability and the arguments decide.
 * errSecSuccess when the call's own work may go ahead. */
static int32_t key_call_gate(world *w, const world_call *call, se_key **key, int32_t arg_status) {
    if (arg_status == errSecSuccess)
        arg_status = key_again(w, call, key);
    if (!se_available(w))
        return errSecNotAvailable;
    return arg_status;
}

/* The protection class of a kSecAttrAccessible* value, or -1. */
static int protection_class(CFTypeRef protection) {
    if (protection == NULL || CFGetTypeID(protection) != CFStringGetTypeID())
        return -1;
    const struct {
        CFStringRef value;
        world_class cls;
    } table[] = {
        {kSecAttrAccessibleWhenUnlocked, WORLD_CLASS_WHEN_UNLOCKED},
        {kSecAttrAccessibleWhenUnlockedThisDeviceOnly, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY},
        {kSecAttrAccessibleAfterFirstUnlock, WORLD_CLASS_AFTER_FIRST_UNLOCK},
        {kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
         WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY},
        {kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly,
         WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY},
        {kSecAttrAccessibleAlways, WORLD_CLASS_ALWAYS},
        {kSecAttrAccessibleAlwaysThisDeviceOnly, WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (CFEqual(protection, table[i].value))
            return (int)table[i].cls;
    return -1;
}

OSStatus SEKeyGenerate(SecAccessControlRef access_control, CFDataRef *data_representation) {
    if (data_representation != NULL)
        *data_representation = NULL;
    world *w = world_active();
    if (w == NULL)
        return errSecNotAvailable;
    world_call call;
    world_call_begin(w, &call, WORLD_API_SE_GENERATE);
    /* CryptoKit's default when no access control is given. */
    bool has_ac = access_control != NULL;
    int cls = WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY;
    uint32_t flags = 0;
    int32_t arg_status = errSecSuccess;
    if (has_ac) {
        if (CFGetTypeID(access_control) != SecAccessControlGetTypeID()) {
            arg_status = errSecParam;
        } else {
            cls = protection_class(SecAccessControlGetProtection(access_control));
            flags = SecAccessControlGetFlags(access_control);
            if (cls < 0)
                arg_status = errSecParam;
        }
    } else {
        detail_add(&call, "ac=default");
    }
    if (arg_status == errSecSuccess) {
        call.cls = cls;
        call.flags = flags;
    }
    if (data_representation == NULL)
        arg_status = errSecParam;

    int32_t status;
    if (run_call(w, &call, &status)) {
        unsigned char blob[SE_BLOB_LEN];
        se_key *key = NULL;
        if (!se_available(w))
            status = errSecNotAvailable;
        else if (arg_status != errSecSuccess)
            status = arg_status;
        else if ((key = key_create(w, has_ac, (world_class)cls, flags, blob)) == NULL)
            status = errSecAllocate;
        else if ((*data_representation = CFDataCreate(NULL, blob, SE_BLOB_LEN)) == NULL)
            status = errSecAllocate;
        else
            status = errSecSuccess;
        if (key != NULL)
            detail_add(&call, "key=%llu", (unsigned long long)key->id);
    }
    return world_call_end(w, &call, status);
}

OSStatus SEKeyCopyPublicKey(CFDataRef data_representation, CFDataRef *public_key) {
    if (public_key != NULL)
        *public_key = NULL;
    world_call call;
    se_key *key;
    int32_t arg_status;
    world *w =
        key_call_begin(&call, WORLD_API_SE_PUBLIC_KEY, data_representation, &key, &arg_status);
    if (w == NULL)
        return errSecNotAvailable;
    if (public_key == NULL)
        arg_status = errSecParam;
    int32_t status;
    if (run_call(w, &call, &status) &&
        (status = key_call_gate(w, &call, &key, arg_status)) == errSecSuccess &&
        (*public_key = CFDataCreate(NULL, key->public_key, SE_PUBLIC_KEY_LEN)) == NULL)
        status = errSecAllocate;
    return world_call_end(w, &call, status);
}

static bool class_is_when_unlocked(world_class cls) {
    return cls == WORLD_CLASS_WHEN_UNLOCKED || cls == WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY;
}

static bool class_needs_unlocked_device(world_class cls) {
    return class_is_when_unlocked(cls) || cls == WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY;
}

/* The gate before a sign: keybag, lock state, user presence. */
static int32_t sign_gate(world *w, world_call *call, const se_key *key, LAContextRef context) {
    if (!world_class_key_available(w, key->cls))
        return errSecInteractionNotAllowed;
    if (class_needs_unlocked_device(key->cls) &&
        world_knob_value(w, WORLD_KNOB_SE_WHEN_UNLOCKED_UNUSABLE_LOCKED) != 0 &&
        world_device_state_now(w) != WORLD_DEVICE_UNLOCKED)
        return errSecInteractionNotAllowed;
    if ((key->flags & WORLD_AC_PRESENCE_MASK) == 0)
        return errSecSuccess;
    if (context != NULL && la_context_invalidated(context))
        return LAErrorInvalidContext;
    bool reuse_allowed = world_knob_value(w, WORLD_KNOB_SE_REUSE_REQUIRES_WHEN_UNLOCKED) == 0 ||
                         class_is_when_unlocked(key->cls);
    if (context != NULL && reuse_allowed && la_context_reusable(context, w)) {
        detail_add(call, "ctx=reused");
        return errSecSuccess;
    }
    if (!world_prompt_possible(w, call->pid))
        return errSecInteractionNotAllowed; /* no prompt shown, no answer consumed */
    char about[32];
    snprintf(about, sizeof about, "key=%llu", (unsigned long long)key->id);
    return la_answer_status(world_prompt_show(w, WORLD_PROMPT_SE_PRESENCE, about));
}

OSStatus SEKeySign(CFDataRef data_representation, CFDataRef message, LAContextRef context,
                   CFDataRef *signature) {
    if (signature != NULL)
        *signature = NULL;
    world_call call;
    se_key *key;
    int32_t arg_status;
    world *w = key_call_begin(&call, WORLD_API_SE_SIGN, data_representation, &key, &arg_status);
    if (w == NULL)
        return errSecNotAvailable;
    if (is_data(message))
        call.in_size = (size_t)CFDataGetLength(message);
    else if (arg_status == errSecSuccess)
        arg_status = errSecParam;
    if (signature == NULL || (context != NULL && CFGetTypeID(context) != LAContextGetTypeID()))
        arg_status = errSecParam;

    int32_t status;
    if (run_call(w, &call, &status) &&
        (status = key_call_gate(w, &call, &key, arg_status)) == errSecSuccess &&
        (status = sign_gate(w, &call, key, context)) == errSecSuccess &&
        (*signature = p256_sign(key_pkey(key), CFDataGetBytePtr(message),
                                (size_t)CFDataGetLength(message))) == NULL)
        status = errSecAllocate;
    return world_call_end(w, &call, status);
}

OSStatus SEKeyDelete(CFDataRef data_representation) {
    world_call call;
    se_key *key;
    int32_t arg_status;
    world *w = key_call_begin(&call, WORLD_API_SE_DELETE, data_representation, &key, &arg_status);
    if (w == NULL)
        return errSecNotAvailable;
    int32_t status;
    if (run_call(w, &call, &status) &&
        (status = key_call_gate(w, &call, &key, arg_status)) == errSecSuccess) {
        key->deleted = true;
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
        OPENSSL_cleanse(key->scalar, sizeof key->scalar);
    }
    return world_call_end(w, &call, status);
}
