/* Decrypt-with-cached-key and the protection-class migration.
 *
 * The wrapping key comes from the cache, else from the keychain; a key read
 * from the keychain is cached (TTL permitting) and, when asked, its item's
 * protection class is migrated to AfterFirstUnlockThisDeviceOnly.
 *
 * The migration (ours, see ref/README.md "Migration"): only when the stored
 * class differs; for an item without an access control, one SecItemUpdate of
 * kSecAttrAccessible in place, whose query also matches the old class, so it
 * changes nothing but the class of exactly the item that was read: no moment
 * without the item (no window), no key bytes written (no lost update), no
 * cache touched (C1). An item with an access control (presence) is left as it
 * is: its class can only change by delete + add, which cannot be made safe
 * against a concurrent process, and its class makes no difference while the
 * device is locked (reading it needs an interactive authentication anyway). */
#include "core_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void plain_free(plain_handle *h) {
    if (h->bytes != NULL) {
        OPENSSL_cleanse(h->bytes, h->len);
        free(h->bytes);
    }
    h->bytes = NULL;
    h->len = 0;
}

typedef enum {
    MIG_NONE,
    MIG_UPDATE_CLASS,        /* clean: in-place class update, guarded by the old class */
    MIG_SKIP_ACCESS_CONTROL, /* clean: presence item, left as is */
    MIG_RESTORE_EVICTING,    /* pr162: the evicting store, on every miss */
    MIG_DELETE_ADD,          /* latent-migration-window / latent-migrate-every-load */
    MIG_UPDATE_WITH_DATA,    /* latent-migration-lost-update: writes the loaded bytes back */
} mig_plan;

static const char *const mig_plan_names[] = {
    "none",       "update-class",     "skip-access-control", "restore-evicting",
    "delete-add", "update-with-data",
};

/* Every migration mutant is decided here, once. */
static mig_plan migration_plan(const ref_core *core, const kc_loaded *l) {
    if (core_mut(core, REF_MUT_PR162_MIGRATION_EVICTS))
        return MIG_RESTORE_EVICTING;
    char target[8] = "";
    CFStringGetCString(kc_target_class(core), target, sizeof target, kCFStringEncodingUTF8);
    if (strcmp(l->cls, target) == 0)
        return core_mut(core, REF_MUT_LATENT_MIGRATE_EVERY_LOAD) ? MIG_DELETE_ADD : MIG_NONE;
    if (core_mut(core, REF_MUT_LATENT_MIGRATION_WINDOW))
        return MIG_DELETE_ADD;
    if (core_mut(core, REF_MUT_LATENT_MIGRATION_LOST_UPDATE))
        return MIG_UPDATE_WITH_DATA;
    if (l->has_access_control)
        return MIG_SKIP_ACCESS_CONTROL;
    return MIG_UPDATE_CLASS;
}

static void migrate(ref_core *core, const char *label, const kc_loaded *l) {
    mig_plan plan = migration_plan(core, l);
    CORE_COUNT(core, label, migrations_checked);
    core_emit(core, REF_EV_MIGRATION_CHECK, label, mig_plan_names[plan], 0, 0);
    if (plan == MIG_NONE || plan == MIG_SKIP_ACCESS_CONTROL)
        return;
    CORE_COUNT(core, label, migrations_attempted);
    OSStatus st = errSecSuccess;
    switch (plan) {
    case MIG_UPDATE_CLASS:
        st = kc_update_class(core, l->where, label, l->cls, NULL);
        break;
    case MIG_UPDATE_WITH_DATA:
        st = kc_update_class(core, l->where, label, NULL, l->key);
        break;
    case MIG_DELETE_ADD:
        st = kc_raw_delete(core, l->where, label);
        if (st == errSecSuccess || st == errSecItemNotFound)
            st = kc_raw_add(core, l->where, label, l->key, l->has_access_control);
        break;
    case MIG_RESTORE_EVICTING: {
        bool presence = false;
        int code = kc_store(core, label, l->key, NULL, l->has_access_control, &presence);
        st = code == REF_BRIDGE_OK ? errSecSuccess : core->op_status;
        break;
    }
    case MIG_NONE:
    case MIG_SKIP_ACCESS_CONTROL:
        break;
    }
    if (st == errSecSuccess)
        CORE_COUNT(core, label, migrations_written);
    /* A failed migration never fails the load: the key was read. */
    core_emit(core, REF_EV_MIGRATION_WRITE, label, mig_plan_names[plan], st, 0);
}

void unwrap_after_transient_failure(ref_core *core, const char *label, int code) {
    if (!ref_errmap_is_transient(code))
        return;
    if (core_mut(core, REF_MUT_LATENT_DESTROY_ON_TRANSIENT)) {
        /* The bug: "unreadable" taken for "invalid", and the item cleaned up. */
        if (core->cfg.access_group != NULL)
            (void)kc_raw_delete(core, KC_DP, label);
        (void)kc_raw_delete(core, KC_FILE, label);
    }
    /* The clean core keeps everything (D2). */
}

ref_error unwrap_handle(ref_core *core, const char *label, CFDataRef handle,
                        const unwrap_opts *opts, plain_handle *out) {
    memset(out, 0, sizeof *out);
    const uint8_t *h = CFDataGetBytePtr(handle);
    size_t hl = (size_t)CFDataGetLength(handle);
    out->bytes = malloc(hl > 0 ? hl : 1);
    if (out->bytes == NULL)
        return core_fail_code(core, REF_BRIDGE_DECRYPT, "handle: out of memory");
    if (!ref_ehw1_is_wrapped(h, hl)) {
        if (hl > 0)
            memcpy(out->bytes, h, hl); /* legacy plaintext handle: used as is */
        out->len = hl;
        out->wrapped = false;
        return REF_OK;
    }
    out->wrapped = true;
    unsigned char key[CORE_WK_LEN];
    bool from_cache = opts->use_cache && cache_get(core, label, key);
    for (;;) {
        if (!from_cache) {
            kc_loaded l;
            int code = kc_load(core, label, opts->ctx, &l);
            if (code == REF_BRIDGE_KEYCHAIN_NOT_FOUND && recover_stranded_item(core, label, h, hl))
                code = kc_load(core, label, opts->ctx, &l); /* an interrupted rename, completed */
            if (code != REF_BRIDGE_OK) {
                OPENSSL_cleanse(&l, sizeof l);
                plain_free(out);
                unwrap_after_transient_failure(core, label, code);
                return ref_errmap_error(code);
            }
            memcpy(key, l.key, CORE_WK_LEN);
            if (opts->use_cache)
                cache_put(core, label, key);
            if (opts->migrate)
                migrate(core, label, &l);
            OPENSSL_cleanse(&l, sizeof l);
        }
        ref_ehw1_status st = ref_ehw1_open(key, h, hl, out->bytes, hl, &out->len);
        if (st == REF_EHW1_OK) {
            OPENSSL_cleanse(key, sizeof key);
            return REF_OK;
        }
        if (from_cache && st == REF_EHW1_AUTH) {
            /* The cached key no longer opens the handle: the label was re-created
             * elsewhere. Drop it and read the keychain once. */
            cache_evict(core, label);
            from_cache = false;
            continue;
        }
        OPENSSL_cleanse(key, sizeof key);
        plain_free(out);
        return core_fail_code(core, REF_BRIDGE_DECRYPT, "handle decrypt: %s",
                              ref_ehw1_status_name(st));
    }
}
