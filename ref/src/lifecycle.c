/* The key lifecycle: generate, load, public key, rename, delete (domain.md
 * §6 "Key lifecycle"). */
#include "core_internal.h"

#include <CryptoKit/SecureEnclave.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

static const char *status_text(int32_t st) {
    const char *name = ref_status_name(st);
    return name != NULL ? name : "unknown status";
}

/* Reads the handle file; on failure ends with key_not_found (no handle) or
 * key_operation, before any keychain call. */
static ref_error read_handle(ref_core *core, const char *label, CFDataRef *handle) {
    int rc = kf_read(core, label, KF_HANDLE, handle);
    if (rc == 0 && *handle != NULL)
        return REF_OK;
    if (*handle != NULL) {
        CFRelease(*handle);
        *handle = NULL;
    }
    if (kf_absent(rc))
        return core_fail(core, REF_ERR_KEY_NOT_FOUND, NULL);
    return core_fail_code(core, REF_BRIDGE_LOAD, "reading the handle file failed (%d)", rc);
}

/* ---- the label's lock ------------------------------------------------------------ */

/* Takes the label's advisory lock (ref/README.md "Concurrency (ours)"):
 * generate, rename and delete hold the locks of the labels they change from
 * their first check to their last step, so that no other process sees their
 * half-made state as debris or acts on a check they are about to invalidate.
 * A lock another process holds is `busy` (it is generating, renaming or
 * deleting that label right now); any other failure is key_operation. Never
 * waits. */
static ref_error lock_label(ref_core *core, const char *label, ref_error busy) {
    int rc = kf_lock(core, label);
    if (rc == 0)
        return REF_OK;
    if (kf_busy(rc))
        return core_fail(core, busy,
                         "another process is generating, renaming or deleting '%s' right now "
                         "(it holds the label's lock); retry when it is done",
                         label);
    return core_fail(core, REF_ERR_KEY_OPERATION, "locking %s%s failed (%d)", label, KF_LOCK, rc);
}

/* ---- generate -------------------------------------------------------------------- */

/* The SE key's protection class when an auth policy is set (PC2). */
static CFStringRef se_key_class(const ref_core *core) {
    if (core_mut(core, REF_MUT_PR158_BLANKET_CLASS))
        return kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly; /* the bug */
    return kSecAttrAccessibleWhenUnlockedThisDeviceOnly;
}

static SecAccessControlCreateFlags auth_flag(ref_auth auth) {
    switch (auth) {
    case REF_AUTH_ANY:
        return kSecAccessControlUserPresence;
    case REF_AUTH_BIOMETRY:
        return kSecAccessControlBiometryAny;
    case REF_AUTH_PASSCODE:
        return kSecAccessControlDevicePasscode;
    case REF_AUTH_NONE:
        break;
    }
    return 0;
}

/* Upstream's check (the mutant): only a plaintext handle counts; a wrapped
 * one is "not a key", its SE key is "deleted" with the encrypted blob and its
 * files removed, and the store then overwrites the wrapping key. */
static ref_error upstream_duplicate_check(ref_core *core, const char *label) {
    CFDataRef handle = NULL;
    if (kf_read(core, label, KF_HANDLE, &handle) == 0 && handle != NULL) {
        bool wrapped =
            ref_ehw1_is_wrapped(CFDataGetBytePtr(handle), (size_t)CFDataGetLength(handle));
        if (!wrapped) {
            CFRelease(handle);
            return core_fail(core, REF_ERR_DUPLICATE_LABEL, "the handle file exists");
        }
        (void)SEKeyDelete(handle); /* cannot work: the blob is encrypted */
        (void)kf_unlink(core, label, KF_PUB);
        (void)kf_unlink(core, label, KF_META);
        (void)kf_unlink(core, label, KF_HANDLE);
    }
    if (handle != NULL)
        CFRelease(handle);
    return REF_OK;
}

/* A key (a handle file) or a keychain item that is not provably debris makes
 * the label a duplicate (ours; ref/README.md "Crash safety"). What an
 * interrupted operation left behind does not: .pub / .meta without a handle,
 * a deleted key's tombstone and its item, an item that an interrupted
 * generate stored before it could write the handle. An item that an
 * interrupted rename left under this label is moved to its handle first.
 * *tombstone: the label has a deleted key's tombstone (removed after the
 * commit). */
static ref_error duplicate_check(ref_core *core, const char *label, bool *tombstone) {
    *tombstone = false;
    if (core_mut(core, REF_MUT_LATENT_GENERATE_OVERWRITES_WRAPPED))
        return upstream_duplicate_check(core, label);
    static const char *const probed[2] = {KF_HANDLE, KF_DELETED};
    int found[2] = {0, 0};
    for (size_t i = 0; i < 2; i++) {
        found[i] = kf_probe(core, label, probed[i]);
        if (found[i] < 0) /* cannot tell: replace nothing */
            return core_fail_code(core, REF_BRIDGE_GENERATE,
                                  "cannot tell whether %s%s exists: reading it failed (%d)", label,
                                  probed[i], found[i]);
        if (i == 0 && found[i] > 0)
            return core_fail(core, REF_ERR_DUPLICATE_LABEL, "the file %s%s exists", label,
                             KF_HANDLE);
    }
    *tombstone = found[1] > 0;
    bool exists = false;
    kc_kind where = KC_FILE;
    char tag[CORE_TAG_MAX];
    int code = kc_lookup(core, label, &exists, &where, tag, sizeof tag);
    if (code != REF_BRIDGE_OK)
        return ref_errmap_error(code);
    if (!exists || *tombstone)
        return REF_OK;
    if (classify_orphan_item(core, label, where, tag) != ORPHAN_FOREIGN)
        return REF_OK; /* debris (replaced by the store's upsert), or moved away */
    return core_fail(core, REF_ERR_DUPLICATE_LABEL,
                     "a keychain item for it exists (no handle file names it)");
}

typedef enum {
    GEN_NOTHING,
    GEN_SE_KEY,
    GEN_STORED,
    GEN_META,
    GEN_PUB,
} gen_stage;

/* Undoes every step up to `stage`, newest first; best effort. */
static void generate_rollback(ref_core *core, const char *label, gen_stage stage, CFDataRef blob) {
    if (stage >= GEN_PUB)
        (void)kf_unlink(core, label, KF_PUB);
    if (stage >= GEN_META)
        (void)kf_unlink(core, label, KF_META);
    if (stage >= GEN_STORED) {
        if (core->cfg.access_group != NULL)
            (void)kc_raw_delete(core, KC_DP, label);
        (void)kc_raw_delete(core, KC_FILE, label);
        cache_evict(core, label);
    }
    if (stage >= GEN_SE_KEY && blob != NULL)
        (void)SEKeyDelete(blob);
}

/* Generate with the label's lock held. */
static ref_error generate_locked(ref_core *core, const char *label, ref_auth auth,
                                 ref_presence presence) {
    bool tombstone = false;
    ref_error err = duplicate_check(core, label, &tombstone);
    if (err != REF_OK)
        return err;
    if (!SEIsAvailable())
        return core_fail_code(core, REF_BRIDGE_NOT_AVAILABLE, "SecureEnclave.isAvailable is false");

    /* 1. The SE key. */
    SecAccessControlRef ac = NULL;
    if (auth != REF_AUTH_NONE) {
        CFErrorRef error = NULL;
        ac = SecAccessControlCreateWithFlags(
            NULL, se_key_class(core), kSecAccessControlPrivateKeyUsage | auth_flag(auth), &error);
        if (ac == NULL) {
            OSStatus st = error != NULL ? (OSStatus)CFErrorGetCode(error) : errSecParam;
            if (error != NULL)
                CFRelease(error);
            core_note_status(core, st);
            return core_fail_code(core, REF_BRIDGE_GENERATE,
                                  "SecAccessControlCreateWithFlags returned %d (%s)", (int)st,
                                  status_text(st));
        }
        if (error != NULL)
            CFRelease(error);
    }
    CFDataRef blob = NULL;
    OSStatus st = SEKeyGenerate(ac, &blob);
    if (ac != NULL)
        CFRelease(ac);
    core_note_status(core, st);
    int code = ref_errmap_generate(st);
    core_emit(core, REF_EV_MAPPED, label, "se_generate", st, code);
    if (code != REF_BRIDGE_OK || blob == NULL) {
        if (blob != NULL)
            CFRelease(blob);
        return core_fail_code(core, REF_BRIDGE_GENERATE, "SE key generation returned %d (%s)",
                              (int)st, status_text(st));
    }
    gen_stage stage = GEN_SE_KEY;

    CFDataRef pub = NULL;
    unsigned char key[CORE_WK_LEN];
    unsigned char nonce[REF_EHW1_NONCE_LEN];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    memset(key, 0, sizeof key);

    st = SEKeyCopyPublicKey(blob, &pub);
    if (st != errSecSuccess || pub == NULL || CFDataGetLength(pub) != 65) {
        core_note_status(core, st);
        err = core_fail_code(core, REF_BRIDGE_GENERATE, "SE public key returned %d (%s)", (int)st,
                             status_text(st));
        goto fail;
    }

    /* 2. Wrap the blob under a fresh wrapping key. */
    if (SecRandomCopyBytes(kSecRandomDefault, sizeof key, key) != errSecSuccess ||
        SecRandomCopyBytes(kSecRandomDefault, sizeof nonce, nonce) != errSecSuccess) {
        err = core_fail_code(core, REF_BRIDGE_ENCRYPT, "SecRandomCopyBytes failed");
        goto fail;
    }
    size_t blob_len = (size_t)CFDataGetLength(blob);
    sealed_len = ref_ehw1_sealed_len(blob_len);
    sealed = malloc(sealed_len);
    size_t written = 0;
    if (sealed == NULL || ref_ehw1_seal(key, nonce, CFDataGetBytePtr(blob), blob_len, sealed,
                                        sealed_len, &written) != REF_EHW1_OK) {
        err = core_fail_code(core, REF_BRIDGE_ENCRYPT, "EHW1 seal failed");
        goto fail;
    }

    /* 3. Store the wrapping key (evicts both caches of the label, C2), tagged
     * with the handle's nonce. An item an interrupted operation left under the
     * label is debris (duplicate_check): the upsert replaces it. */
    bool presence_stored = false;
    char tag[CORE_TAG_MAX];
    code = kc_store(core, label, key, kc_tag(core, nonce, tag, sizeof tag) > 0 ? tag : NULL,
                    core->cfg.wrap_presence, &presence_stored);
    if (code != REF_BRIDGE_OK) {
        err = ref_errmap_error(code);
        goto fail;
    }
    stage = GEN_STORED;

    /* 4. Files, each atomic; the handle last: it is what makes the key exist
     * (the commit point; .pub / .meta left over from an interrupted operation
     * are simply replaced). */
    ref_meta meta = {auth, presence, presence_stored};
    char meta_text[REF_META_MAX];
    size_t meta_len = ref_meta_format(&meta, meta_text, sizeof meta_text);
    int rc = kf_write(core, label, KF_META, meta_text, meta_len);
    if (rc != 0) {
        err =
            core_fail(core, REF_ERR_KEY_OPERATION, "writing %s%s failed (%d)", label, KF_META, rc);
        goto fail;
    }
    stage = GEN_META;
    rc = kf_write(core, label, KF_PUB, CFDataGetBytePtr(pub), 65);
    if (rc != 0) {
        err = core_fail(core, REF_ERR_KEY_OPERATION, "writing %s%s failed (%d)", label, KF_PUB, rc);
        goto fail;
    }
    stage = GEN_PUB;
    rc = kf_write(core, label, KF_HANDLE, sealed, written);
    if (rc != 0) {
        err = core_fail(core, REF_ERR_KEY_OPERATION, "writing %s%s failed (%d)", label, KF_HANDLE,
                        rc);
        goto fail;
    }
    if (tombstone)
        (void)kf_unlink(core, label, KF_DELETED); /* a deleted key's leftover; best effort */
    err = REF_OK;
    goto done;

fail:
    generate_rollback(core, label, stage, blob);
done:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(nonce, sizeof nonce);
    if (sealed != NULL)
        free(sealed);
    if (pub != NULL)
        CFRelease(pub);
    CFRelease(blob);
    return err;
}

static ref_error generate(ref_core *core, const char *label, ref_auth auth, ref_presence presence) {
    if (!ref_label_valid(label))
        return core_fail(core, REF_ERR_INVALID_LABEL, NULL);
    if (presence == REF_PRESENCE_KEY_DEFAULT)
        presence = REF_PRESENCE_NONE;
    if (ref_auth_name(auth) == NULL || ref_presence_name(presence) == NULL)
        return core_fail(core, REF_ERR_KEY_OPERATION, "unknown auth policy or presence mode");
    /* Held from the duplicate check to the handle write: another generate of
     * the label is refused meanwhile (duplicate_label: it is being created),
     * so what the check takes for debris is never a live generate's work. */
    ref_error err = lock_label(core, label, REF_ERR_DUPLICATE_LABEL);
    if (err != REF_OK)
        return err;
    err = generate_locked(core, label, auth, presence);
    kf_unlock(core, label);
    return err;
}

ref_error ref_core_generate(ref_core *core, const char *label, ref_auth auth,
                            ref_presence presence) {
    core_op_begin(core, "generate", label);
    return core_op_end(core, generate(core, label, auth, presence));
}

/* ---- load ---------------------------------------------------------------------- */

ref_error ref_core_load(ref_core *core, const char *label) {
    core_op_begin(core, "load", label);
    if (!ref_label_valid(label))
        return core_op_end(core, core_fail(core, REF_ERR_INVALID_LABEL, NULL));
    CFDataRef handle = NULL;
    ref_error err = read_handle(core, label, &handle);
    if (err != REF_OK)
        return core_op_end(core, err);
    unwrap_opts opts = {NULL, true, true};
    plain_handle plain;
    err = unwrap_handle(core, label, handle, &opts, &plain);
    CFRelease(handle);
    if (err == REF_OK)
        plain_free(&plain);
    return core_op_end(core, err);
}

/* ---- public key ------------------------------------------------------------------ */

static bool valid_p256_point(const uint8_t *p, size_t len) {
    if (len != 65 || p[0] != 0x04)
        return false;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *point = group != NULL ? EC_POINT_new(group) : NULL;
    bool ok = point != NULL && EC_POINT_oct2point(group, point, p, len, NULL) == 1 &&
              EC_POINT_is_on_curve(group, point, NULL) == 1;
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return ok;
}

ref_error ref_core_pubkey(ref_core *core, const char *label, uint8_t out[65]) {
    core_op_begin(core, "pubkey", label);
    if (!ref_label_valid(label))
        return core_op_end(core, core_fail(core, REF_ERR_INVALID_LABEL, NULL));
    CFDataRef handle = NULL;
    ref_error err = read_handle(core, label, &handle);
    if (err != REF_OK)
        return core_op_end(core, err);
    CFDataRef pub = NULL;
    if (kf_read(core, label, KF_PUB, &pub) == 0 && pub != NULL &&
        valid_p256_point(CFDataGetBytePtr(pub), (size_t)CFDataGetLength(pub))) {
        memcpy(out, CFDataGetBytePtr(pub), 65); /* the fast path */
        CFRelease(pub);
        CFRelease(handle);
        return core_op_end(core, REF_OK);
    }
    if (pub != NULL) {
        CFRelease(pub);
        pub = NULL;
    }
    /* Slow path: ask the SE, then repair the .pub. */
    unwrap_opts opts = {NULL, false, true};
    plain_handle plain;
    err = unwrap_handle(core, label, handle, &opts, &plain);
    CFRelease(handle);
    if (err != REF_OK)
        return core_op_end(core, err);
    CFDataRef blob = CFDataCreate(NULL, plain.bytes, (CFIndex)plain.len);
    plain_free(&plain);
    OSStatus st = blob != NULL ? SEKeyCopyPublicKey(blob, &pub) : errSecAllocate;
    if (blob != NULL)
        CFRelease(blob);
    core_note_status(core, st);
    if (st != errSecSuccess || pub == NULL ||
        !valid_p256_point(CFDataGetBytePtr(pub), (size_t)CFDataGetLength(pub))) {
        if (pub != NULL)
            CFRelease(pub);
        return core_op_end(core,
                           core_fail_code(core, REF_BRIDGE_LOAD, "SE public key returned %d (%s)",
                                          (int)st, status_text(st)));
    }
    memcpy(out, CFDataGetBytePtr(pub), 65);
    (void)kf_write(core, label, KF_PUB, out, 65); /* a cache: best effort */
    CFRelease(pub);
    return core_op_end(core, REF_OK);
}

/* ---- rename -------------------------------------------------------------------------- */

static const char *const rename_order[] = {KF_PUB, KF_META, KF_HANDLE};
#define RENAME_FILES (sizeof rename_order / sizeof rename_order[0])

static void rename_files_back(ref_core *core, const char *old_label, const char *new_label,
                              const bool *moved) {
    for (size_t i = RENAME_FILES; i-- > 0;)
        if (moved[i])
            (void)kf_rename(core, new_label, old_label, rename_order[i]);
}

/* Rename with both labels' locks held. */
static ref_error rename_locked(ref_core *core, const char *old_label, const char *new_label) {
    CFDataRef handle = NULL;
    ref_error err = read_handle(core, old_label, &handle);
    if (err != REF_OK)
        return err;
    bool wrapped = ref_ehw1_is_wrapped(CFDataGetBytePtr(handle), (size_t)CFDataGetLength(handle));
    CFRelease(handle);
    if (strcmp(old_label, new_label) == 0)
        return core_fail(core, REF_ERR_DUPLICATE_LABEL, "old and new label are the same");
    /* The new label must hold no key: no handle, no item. A .pub / .meta there
     * without a handle is what an interrupted rename moved ahead of its handle
     * (ref/README.md "Crash safety"): the moves below replace it. All three
     * files are still looked at, in this order, as before (scenarios index
     * rename's calls), but only the handle blocks. */
    for (size_t i = 0; i < RENAME_FILES; i++) {
        int found = kf_probe(core, new_label, rename_order[i]);
        if (strcmp(rename_order[i], KF_HANDLE) != 0)
            continue;
        if (found > 0)
            return core_fail(core, REF_ERR_DUPLICATE_LABEL, "the file %s%s exists", new_label,
                             rename_order[i]);
        if (found < 0) /* cannot tell: move nothing over it */
            return core_fail(core, REF_ERR_KEY_OPERATION,
                             "cannot tell whether %s%s exists: reading it failed (%d)", new_label,
                             rename_order[i], found);
    }
    bool exists = false;
    int code = kc_exists(core, new_label, &exists);
    if (code != REF_BRIDGE_OK)
        return ref_errmap_error(code);
    if (exists)
        return core_fail(core, REF_ERR_DUPLICATE_LABEL, "a keychain item for '%s' exists",
                         new_label);
    /* 1. Files (the handle last). */
    bool moved[RENAME_FILES] = {false, false, false};
    for (size_t i = 0; i < RENAME_FILES; i++) {
        int rc = kf_rename(core, old_label, new_label, rename_order[i]);
        if (rc == 0) {
            moved[i] = true;
            continue;
        }
        if (kf_absent(rc) && strcmp(rename_order[i], KF_HANDLE) != 0)
            continue; /* .pub / .meta are optional */
        rename_files_back(core, old_label, new_label, moved);
        return core_fail(core, REF_ERR_KEY_OPERATION, "renaming %s%s failed (%d)", old_label,
                         rename_order[i], rc);
    }
    /* 2. The keychain item, in place. */
    bool item_moved = false;
    code = kc_rename(core, old_label, new_label, &item_moved);
    if (code != REF_BRIDGE_OK) {
        rename_files_back(core, old_label, new_label, moved);
        return ref_errmap_error(code);
    }
    if (wrapped && !item_moved) {
        rename_files_back(core, old_label, new_label, moved);
        return core_fail_code(core, REF_BRIDGE_KEYCHAIN_NOT_FOUND,
                              "keychain rename: no wrapping-key item for '%s'", old_label);
    }
    cache_evict(core, old_label); /* both caches of both labels */
    cache_evict(core, new_label);
    return REF_OK;
}

static ref_error rename_key(ref_core *core, const char *old_label, const char *new_label) {
    if (!ref_label_valid(old_label))
        return core_fail(core, REF_ERR_INVALID_LABEL, NULL);
    if (!ref_label_valid(new_label)) {
        core->op_label = new_label;
        return core_fail(core, REF_ERR_INVALID_LABEL, NULL);
    }
    /* Both labels' locks, in label order (try-locks never wait, so no order
     * can deadlock; one order makes two renames of one pair meet on the same
     * lock first). The new label held elsewhere is duplicate_label (a key is
     * being made there), the old one key_operation (its key is busy). */
    int cmp = strcmp(old_label, new_label);
    const char *first = cmp <= 0 ? old_label : new_label;
    const char *second = cmp <= 0 ? new_label : old_label;
    ref_error err =
        lock_label(core, first, cmp <= 0 ? REF_ERR_KEY_OPERATION : REF_ERR_DUPLICATE_LABEL);
    if (err != REF_OK)
        return err;
    if (cmp != 0)
        err = lock_label(core, second, cmp < 0 ? REF_ERR_DUPLICATE_LABEL : REF_ERR_KEY_OPERATION);
    if (err == REF_OK) {
        err = rename_locked(core, old_label, new_label);
        if (cmp != 0)
            kf_unlock(core, second);
    }
    kf_unlock(core, first);
    return err;
}

ref_error ref_core_rename(ref_core *core, const char *old_label, const char *new_label) {
    core_op_begin(core, "rename", old_label);
    return core_op_end(core, rename_key(core, old_label, new_label));
}

/* ---- delete ---------------------------------------------------------------------------- */

/* The handle, or (when there is none) a deleted key's tombstone: an earlier
 * delete that committed and was interrupted. */
static ref_error read_handle_or_tombstone(ref_core *core, const char *label, CFDataRef *handle,
                                          bool *committed) {
    *committed = false;
    int rc = kf_read(core, label, KF_HANDLE, handle);
    if (rc == 0 && *handle != NULL)
        return REF_OK;
    if (*handle != NULL) {
        CFRelease(*handle);
        *handle = NULL;
    }
    if (!kf_absent(rc))
        return core_fail_code(core, REF_BRIDGE_LOAD, "reading the handle file failed (%d)", rc);
    rc = kf_read(core, label, KF_DELETED, handle);
    if (rc == 0 && *handle != NULL) {
        *committed = true;
        return REF_OK;
    }
    if (*handle != NULL) {
        CFRelease(*handle);
        *handle = NULL;
    }
    if (kf_absent(rc))
        return core_fail(core, REF_ERR_KEY_NOT_FOUND, NULL);
    return core_fail_code(core, REF_BRIDGE_LOAD, "reading the tombstone %s%s failed (%d)", label,
                          KF_DELETED, rc);
}

/* A step after this call's commit failed: put the handle back, so that the
 * key is where it was (possibly without its SE key) and a retry completes. */
static ref_error delete_undo(ref_core *core, const char *label, bool committed_here,
                             ref_error err) {
    if (committed_here)
        (void)kf_rename_ext(core, label, KF_DELETED, KF_HANDLE);
    return err;
}

/* Delete with the label's lock held. */
static ref_error delete_locked(ref_core *core, const char *label) {
    CFDataRef handle = NULL;
    bool committed = false;
    ref_error err = read_handle_or_tombstone(core, label, &handle, &committed);
    if (err != REF_OK)
        return err;
    unwrap_opts opts = {NULL, false, true};
    plain_handle plain;
    err = unwrap_handle(core, label, handle, &opts, &plain);
    CFRelease(handle);
    int read_code = core->op_code;
    if (err != REF_OK) {
        if (ref_errmap_is_transient(read_code)) {
            /* The handle cannot be read now: keep files and item for a retry (D2). */
            if (core_mut(core, REF_MUT_LATENT_DELETE_DROPS_WRAPPING_KEY)) {
                if (core->cfg.access_group != NULL)
                    (void)kc_raw_delete(core, KC_DP, label);
                (void)kc_raw_delete(core, KC_FILE, label);
            }
            return err;
        }
        if (read_code != REF_BRIDGE_KEYCHAIN_NOT_FOUND && read_code != REF_BRIDGE_DECRYPT)
            return err; /* not known to be unrecoverable: keep everything */
        /* The wrapping key is gone or the handle is garbage: the SE key cannot
         * be named any more; delete what is left. */
        plain.bytes = NULL;
        plain.len = 0;
    }
    /* The commit point: the handle becomes the tombstone in one atomic rename.
     * From here the label holds no key; an interruption leaves debris that the
     * next delete removes (through the tombstone, SE key included) and that
     * the next generate reuses. A failure (not a crash) below moves the handle
     * back, so that a failed delete keeps the handle and a retry completes. */
    bool committed_here = false;
    if (!committed) {
        int rc = kf_rename_ext(core, label, KF_HANDLE, KF_DELETED);
        if (rc != 0) {
            plain_free(&plain);
            return core_fail(core, REF_ERR_KEY_OPERATION, "renaming %s%s to %s%s failed (%d)",
                             label, KF_HANDLE, label, KF_DELETED, rc);
        }
        committed_here = true;
    }
    if (plain.bytes != NULL) {
        CFDataRef blob = CFDataCreate(NULL, plain.bytes, (CFIndex)plain.len);
        plain_free(&plain);
        OSStatus st = blob != NULL ? SEKeyDelete(blob) : errSecAllocate;
        if (blob != NULL)
            CFRelease(blob);
        core_note_status(core, st);
        if (st != errSecSuccess && st != errSecItemNotFound)
            return delete_undo(core, label, committed_here,
                               core_fail_code(core, REF_BRIDGE_DELETE,
                                              "SE key delete returned %d (%s)", (int)st,
                                              status_text(st)));
    }
    int code = kc_delete(core, label);
    if (code != REF_BRIDGE_OK)
        return delete_undo(core, label, committed_here, ref_errmap_error(code));
    /* The tombstone last, so that an interrupted delete can be retried. */
    static const char *const order[] = {KF_PUB, KF_META, KF_DELETED};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int rc = kf_unlink(core, label, order[i]);
        if (rc != 0 && !kf_absent(rc))
            return delete_undo(core, label, committed_here,
                               core_fail(core, REF_ERR_KEY_OPERATION, "removing %s%s failed (%d)",
                                         label, order[i], rc));
    }
    return REF_OK;
}

static ref_error delete_key(ref_core *core, const char *label) {
    if (!ref_label_valid(label))
        return core_fail(core, REF_ERR_INVALID_LABEL, NULL);
    /* Held from the handle read to the tombstone's removal: a generate of the
     * label cannot store its item between this delete's commit and its sweep
     * (which would delete the new key's item). */
    ref_error err = lock_label(core, label, REF_ERR_KEY_OPERATION);
    if (err != REF_OK)
        return err;
    err = delete_locked(core, label);
    kf_unlock(core, label);
    return err;
}

ref_error ref_core_delete(ref_core *core, const char *label) {
    core_op_begin(core, "delete", label);
    ref_error err = delete_key(core, label);
    if (err == REF_OK)
        cache_evict(core, label); /* a failed delete keeps them, like the key */
    return core_op_end(core, err);
}
