/* The bridge keychain: store (upsert with fallbacks), load (DP then file),
 * delete (sweep), exists, rename, the raw calls the migration and crash
 * recovery use, and the items' tags (kSecAttrLabel: which handle an item
 * opens, for recovery.c).
 *
 * Routing: with an access group the data-protection keychain
 * (kSecUseDataProtectionKeychain + kSecAttrAccessGroup) first, always the
 * file-based keychain as the fallback. A file-keychain call refused with
 * errSecNoDefaultKeychain is retried once against the login keychain named by
 * its explicit path (kSecUseKeychain for an add, kSecMatchSearchList for the
 * others). */
#include "core_internal.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

const char *kc_kind_name(kc_kind k) { return k == KC_DP ? "dp" : "file"; }

CFStringRef kc_target_class(const ref_core *core) {
    if (core_mut(core, REF_MUT_PR158_WHEN_UNLOCKED_WRAPPING))
        return kSecAttrAccessibleWhenUnlockedThisDeviceOnly;
    return kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly;
}

static bool has_group(const ref_core *core) { return core->cfg.access_group != NULL; }

static const char *status_text(int32_t st) {
    const char *name = ref_status_name(st);
    return name != NULL ? name : "unknown status";
}

/* The GUI session matters only where the mapping asks for it. */
static bool gui_for(int32_t st) {
    if (st == errSecInteractionNotAllowed || st == errSecInteractionRequired)
        return core_has_gui();
    return true;
}

static void emit_mapped(ref_core *core, const char *label, const char *path, int32_t st, bool gui,
                        int code) {
    ref_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = REF_EV_MAPPED;
    ev.label = label;
    ev.detail = path;
    ev.status = st;
    ev.gui = gui;
    ev.code = code;
    core_emit_event(core, &ev);
}

/* ---- Queries ------------------------------------------------------------------ */

static void set_cstr(CFMutableDictionaryRef q, CFStringRef key, const char *value) {
    CFStringRef s = CFStringCreateWithCString(NULL, value, kCFStringEncodingUTF8);
    if (s != NULL) {
        CFDictionarySetValue(q, key, s);
        CFRelease(s);
    }
}

static CFMutableDictionaryRef new_query(const ref_core *core, kc_kind kind, const char *label,
                                        SecKeychainRef explicit_kc, bool for_add) {
    CFMutableDictionaryRef q = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    if (q == NULL)
        return NULL;
    CFDictionarySetValue(q, kSecClass, kSecClassGenericPassword);
    set_cstr(q, kSecAttrService, core->service);
    if (label != NULL) /* NULL: every account of the service (a lookup by tag) */
        set_cstr(q, kSecAttrAccount, label);
    if (kind == KC_DP) {
        CFDictionarySetValue(q, kSecUseDataProtectionKeychain, kCFBooleanTrue);
        if (has_group(core))
            set_cstr(q, kSecAttrAccessGroup, core->cfg.access_group);
    } else if (explicit_kc != NULL) {
        if (for_add) {
            CFDictionarySetValue(q, kSecUseKeychain, explicit_kc);
        } else {
            const void *kcs[1] = {explicit_kc};
            CFArrayRef list = CFArrayCreate(NULL, kcs, 1, &kCFTypeArrayCallBacks);
            if (list != NULL) {
                CFDictionarySetValue(q, kSecMatchSearchList, list);
                CFRelease(list);
            }
        }
    }
    return q;
}

typedef OSStatus (*kc_body)(ref_core *core, CFMutableDictionaryRef query, void *arg);

/* Builds the query, runs body, and on errSecNoDefaultKeychain from the file
 * keychain runs it once more against the login keychain by path. */
static OSStatus kc_run(ref_core *core, kc_kind kind, const char *label, bool for_add, kc_body body,
                       void *arg) {
    CFMutableDictionaryRef q = new_query(core, kind, label, NULL, for_add);
    if (q == NULL)
        return errSecAllocate;
    OSStatus st = body(core, q, arg);
    CFRelease(q);
    if (st != errSecNoDefaultKeychain || kind != KC_FILE)
        return st;
    SecKeychainRef login = NULL;
    OSStatus open_st = SecKeychainOpen(SEC_LOGIN_KEYCHAIN_PATH, &login);
    if (open_st != errSecSuccess || login == NULL) {
        if (login != NULL)
            CFRelease(login);
        return st;
    }
    q = new_query(core, kind, label, login, for_add);
    if (q == NULL) {
        CFRelease(login);
        return errSecAllocate;
    }
    st = body(core, q, arg);
    CFRelease(q);
    CFRelease(login);
    return st;
}

/* ---- Raw calls -------------------------------------------------------------------- */

static OSStatus delete_body(ref_core *core, CFMutableDictionaryRef q, void *arg) {
    (void)core;
    (void)arg;
    return SecItemDelete(q);
}

OSStatus kc_raw_delete(ref_core *core, kc_kind kind, const char *label) {
    return kc_run(core, kind, label, false, delete_body, NULL);
}

typedef struct {
    const unsigned char *key;
    bool presence;
    const char *tag; /* kSecAttrLabel (the handle's tag), or NULL */
} add_arg;

static OSStatus add_body(ref_core *core, CFMutableDictionaryRef q, void *arg) {
    const add_arg *a = arg;
    CFDataRef data = CFDataCreate(NULL, a->key, CORE_WK_LEN);
    if (data == NULL)
        return errSecAllocate;
    CFDictionarySetValue(q, kSecValueData, data);
    CFRelease(data);
    if (a->tag != NULL)
        set_cstr(q, kSecAttrLabel, a->tag);
    if (a->presence) {
        /* Presence: an access control, and never kSecAttrAccessible with it (PC3). */
        CFErrorRef error = NULL;
        SecAccessControlRef ac = SecAccessControlCreateWithFlags(
            NULL, kc_target_class(core), kSecAccessControlUserPresence, &error);
        if (ac == NULL) {
            OSStatus st = error != NULL ? (OSStatus)CFErrorGetCode(error) : errSecParam;
            if (error != NULL)
                CFRelease(error);
            return st != errSecSuccess ? st : errSecParam;
        }
        if (error != NULL)
            CFRelease(error);
        CFDictionarySetValue(q, kSecAttrAccessControl, ac);
        CFRelease(ac);
    } else {
        CFDictionarySetValue(q, kSecAttrAccessible, kc_target_class(core));
    }
    return SecItemAdd(q, NULL);
}

static OSStatus tagged_add(ref_core *core, kc_kind kind, const char *label,
                           const unsigned char key[CORE_WK_LEN], bool presence, const char *tag) {
    add_arg a = {key, presence, tag};
    return kc_run(core, kind, label, true, add_body, &a);
}

OSStatus kc_raw_add(ref_core *core, kc_kind kind, const char *label,
                    const unsigned char key[CORE_WK_LEN], bool presence) {
    return tagged_add(core, kind, label, key, presence, NULL);
}

typedef struct {
    const char *from_cls;
    const unsigned char *data;
} update_class_arg;

static OSStatus update_class_body(ref_core *core, CFMutableDictionaryRef q, void *arg) {
    const update_class_arg *a = arg;
    if (a->from_cls != NULL)
        set_cstr(q, kSecAttrAccessible, a->from_cls); /* only while still in the old class */
    CFMutableDictionaryRef attrs = CFDictionaryCreateMutable(
        NULL, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
    if (attrs == NULL)
        return errSecAllocate;
    CFDictionarySetValue(attrs, kSecAttrAccessible, kc_target_class(core));
    if (a->data != NULL) {
        CFDataRef data = CFDataCreate(NULL, a->data, CORE_WK_LEN);
        if (data != NULL) {
            CFDictionarySetValue(attrs, kSecValueData, data);
            CFRelease(data);
        }
    }
    OSStatus st = SecItemUpdate(q, attrs);
    CFRelease(attrs);
    return st;
}

OSStatus kc_update_class(ref_core *core, kc_kind kind, const char *label, const char *from_cls,
                         const unsigned char *data) {
    update_class_arg a = {from_cls, data};
    return kc_run(core, kind, label, false, update_class_body, &a);
}

/* ---- keychain_store ----------------------------------------------------------------- */

/* The fallbacks of domain.md §6, in one decision. */
static bool store_fallback(const ref_core *core, kc_kind kind, bool presence, OSStatus st,
                           kc_kind *next_kind, bool *next_presence) {
    if (presence && core_mut(core, REF_MUT_PR80_NO_ACL_FALLBACK))
        return false;
    if (kind == KC_DP && st == errSecMissingEntitlement) {
        *next_kind = KC_FILE; /* unentitled: file keychain, no group, no presence */
        *next_presence = false;
        return true;
    }
    if (presence && (st == errSecParam || st == errSecMissingEntitlement)) {
        *next_kind = kind; /* the keychain refuses the access control: store without */
        *next_presence = false;
        return true;
    }
    return false;
}

int kc_store(ref_core *core, const char *label, const unsigned char key[CORE_WK_LEN],
             const char *tag, bool want_presence, bool *presence_out) {
    cache_evict(core, label); /* the key bytes change: both caches go (C2) */
    kc_kind kind = has_group(core) ? KC_DP : KC_FILE;
    bool presence = want_presence;
    bool predeleted[2] = {false, false};
    OSStatus st = errSecSuccess;
    OSStatus dropped_by = errSecSuccess;
    kc_kind dropped_on = kind;
    for (int attempt = 0; attempt < 4; attempt++) {
        if (!predeleted[kind]) {
            (void)kc_raw_delete(core, kind, label); /* upsert: status ignored */
            predeleted[kind] = true;
        }
        st = tagged_add(core, kind, label, key, presence, tag);
        kc_kind next_kind = kind;
        bool next_presence = presence;
        if (st == errSecSuccess ||
            !store_fallback(core, kind, presence, st, &next_kind, &next_presence))
            break;
        if (presence && !next_presence) {
            dropped_by = st;
            dropped_on = kind;
        }
        kind = next_kind;
        presence = next_presence;
    }
    core_note_status(core, st);
    bool gui = gui_for(st);
    int code = ref_errmap_store(st, gui, core->cfg.mutants);
    emit_mapped(core, label, "keychain_store", st, gui, code);
    if (code != REF_BRIDGE_OK) {
        core_fail_code(core, code, "keychain store: SecItemAdd on the %s keychain returned %d (%s)",
                       kc_kind_name(kind), (int)st, status_text(st));
        return code;
    }
    *presence_out = presence;
    CORE_COUNT(core, label, stores);
    ref_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = REF_EV_STORE;
    ev.label = label;
    ev.detail = kc_kind_name(kind);
    ev.presence = presence;
    core_emit_event(core, &ev);
    if (want_presence && !presence)
        core_warn(core,
                  "presence downgraded: the wrapping key of '%s' is stored without user presence "
                  "on the %s keychain (the %s keychain refused the access control with %d %s)",
                  label, kc_kind_name(kind), kc_kind_name(dropped_on), (int)dropped_by,
                  status_text(dropped_by));
    return REF_BRIDGE_OK;
}

/* ---- keychain_load ----------------------------------------------------------------- */

typedef struct {
    LAContextRef ctx;
    kc_loaded *out;
    bool bad_length;
    size_t length;
} copy_arg;

static void read_class(CFDictionaryRef attrs, kc_loaded *out) {
    snprintf(out->cls, sizeof out->cls, "ak"); /* omitted: WhenUnlocked */
    out->has_access_control = false;
    const void *ac = CFDictionaryGetValue(attrs, kSecAttrAccessControl);
    CFTypeRef cls = NULL;
    if (ac != NULL && CFGetTypeID(ac) == SecAccessControlGetTypeID()) {
        out->has_access_control = true;
        cls = SecAccessControlGetProtection((SecAccessControlRef)ac);
    } else {
        cls = CFDictionaryGetValue(attrs, kSecAttrAccessible);
    }
    if (cls != NULL && CFGetTypeID(cls) == CFStringGetTypeID())
        CFStringGetCString((CFStringRef)cls, out->cls, sizeof out->cls, kCFStringEncodingUTF8);
}

static OSStatus copy_body(ref_core *core, CFMutableDictionaryRef q, void *arg) {
    (void)core;
    copy_arg *a = arg;
    CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitOne);
    if (a->ctx != NULL)
        CFDictionarySetValue(q, kSecUseAuthenticationContext, a->ctx);
    CFTypeRef result = NULL;
    OSStatus st = SecItemCopyMatching(q, &result);
    if (st != errSecSuccess) {
        if (result != NULL)
            CFRelease(result);
        return st;
    }
    CFDataRef data = NULL;
    if (result != NULL && CFGetTypeID(result) == CFDictionaryGetTypeID()) {
        CFDictionaryRef attrs = result;
        const void *v = CFDictionaryGetValue(attrs, kSecValueData);
        if (v != NULL && CFGetTypeID(v) == CFDataGetTypeID())
            data = v;
        read_class(attrs, a->out);
    } else if (result != NULL && CFGetTypeID(result) == CFDataGetTypeID()) {
        data = result;
        snprintf(a->out->cls, sizeof a->out->cls, "ak");
    }
    a->length = data != NULL ? (size_t)CFDataGetLength(data) : 0;
    a->bad_length = a->length != CORE_WK_LEN;
    if (!a->bad_length)
        memcpy(a->out->key, CFDataGetBytePtr(data), CORE_WK_LEN);
    if (result != NULL)
        CFRelease(result);
    return st;
}

int kc_load(ref_core *core, const char *label, LAContextRef ctx, kc_loaded *out) {
    memset(out, 0, sizeof *out);
    kc_kind kinds[2];
    size_t n = 0;
    if (has_group(core))
        kinds[n++] = KC_DP;
    kinds[n++] = KC_FILE;
    OSStatus st = errSecItemNotFound;
    copy_arg a = {NULL, out, false, 0};
    kc_kind kind = KC_FILE;
    for (size_t i = 0; i < n; i++) {
        kind = kinds[i];
        a.ctx = kind == KC_DP ? ctx : NULL; /* no presence items on the file keychain */
        st = kc_run(core, kind, label, false, copy_body, &a);
        if (kind != KC_DP || i + 1 == n)
            break;
        if (st == errSecItemNotFound)
            continue;
        if (st == errSecMissingEntitlement &&
            !core_mut(core, REF_MUT_LATENT_LOAD_NO_ENTITLEMENT_FALLBACK))
            continue; /* ours: an unentitled process stored on the file keychain */
        break;
    }
    core_note_status(core, st);
    bool gui = gui_for(st);
    int code = ref_errmap_load(st, gui, core->cfg.mutants);
    emit_mapped(core, label, "keychain_load", st, gui, code);
    if (code != REF_BRIDGE_OK) {
        core_fail_code(core, code,
                       "keychain load: SecItemCopyMatching on the %s keychain returned %d (%s)",
                       kc_kind_name(kind), (int)st, status_text(st));
        OPENSSL_cleanse(out->key, sizeof out->key);
        return code;
    }
    if (a.bad_length) {
        OPENSSL_cleanse(out->key, sizeof out->key);
        core_fail_code(core, REF_BRIDGE_KEYCHAIN_LOAD,
                       "keychain load: the %s keychain item holds %zu bytes, not 32",
                       kc_kind_name(kind), a.length);
        return REF_BRIDGE_KEYCHAIN_LOAD;
    }
    out->where = kind;
    return REF_BRIDGE_OK;
}

/* ---- keychain_delete ----------------------------------------------------------------- */

int kc_delete(ref_core *core, const char *label) {
    int32_t statuses[2];
    bool is_dp[2];
    size_t n = 0;
    if (has_group(core)) {
        statuses[n] = kc_raw_delete(core, KC_DP, label);
        is_dp[n++] = true;
    }
    statuses[n] = kc_raw_delete(core, KC_FILE, label);
    is_dp[n++] = false;
    int code = ref_errmap_delete(statuses, is_dp, n);
    int32_t shown = statuses[n - 1];
    size_t shown_i = n - 1;
    for (size_t i = 0; i < n; i++) {
        if (statuses[i] != errSecSuccess && statuses[i] != errSecItemNotFound &&
            !(is_dp[i] && statuses[i] == errSecMissingEntitlement)) {
            shown = statuses[i];
            shown_i = i;
            break;
        }
    }
    core_note_status(core, shown);
    emit_mapped(core, label, "keychain_delete", shown, true, code);
    if (code != REF_BRIDGE_OK)
        core_fail_code(core, code,
                       "keychain delete: SecItemDelete on the %s keychain returned %d (%s)",
                       is_dp[shown_i] ? "dp" : "file", (int)shown, status_text(shown));
    return code;
}

/* ---- tags ------------------------------------------------------------------------------ */

static const char tag_prefix[] = CORE_TAG_PREFIX;

size_t kc_tag(const ref_core *core, const unsigned char nonce[REF_EHW1_NONCE_LEN], char *buf,
              size_t cap) {
    static const char hex[] = "0123456789abcdef";
    size_t need = sizeof tag_prefix - 1 + 2 * REF_EHW1_NONCE_LEN + 1 + strlen(core->key_dir);
    if (cap <= need) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    size_t o = 0;
    memcpy(buf, tag_prefix, sizeof tag_prefix - 1);
    o += sizeof tag_prefix - 1;
    for (size_t i = 0; i < REF_EHW1_NONCE_LEN; i++) {
        buf[o++] = hex[nonce[i] >> 4];
        buf[o++] = hex[nonce[i] & 15];
    }
    buf[o++] = ' ';
    memcpy(buf + o, core->key_dir, strlen(core->key_dir) + 1);
    return need;
}

bool kc_tag_of_handle(const ref_core *core, const unsigned char *handle, size_t len, char *buf,
                      size_t cap) {
    if (!ref_ehw1_is_wrapped(handle, len) || len < REF_EHW1_OVERHEAD)
        return false;
    /* The nonce follows the magic. */
    return kc_tag(core, handle + REF_EHW1_MAGIC_LEN, buf, cap) > 0;
}

/* ---- exists / lookup / find by tag / rename ---------------------------------------------- */

typedef struct {
    char *tag; /* out: the item's kSecAttrLabel ("" if none); may be NULL */
    size_t tag_cap;
    char *account; /* out: the item's account; may be NULL */
    size_t account_cap;
    const char *match_tag; /* query by this kSecAttrLabel; may be NULL */
} attrs_arg;

static void copy_attr(CFDictionaryRef attrs, CFStringRef key, char *out, size_t cap) {
    if (out == NULL || cap == 0)
        return;
    out[0] = '\0';
    const void *v = CFDictionaryGetValue(attrs, key);
    if (v != NULL && CFGetTypeID(v) == CFStringGetTypeID() &&
        !CFStringGetCString((CFStringRef)v, out, (CFIndex)cap, kCFStringEncodingUTF8))
        out[0] = '\0';
}

static OSStatus attrs_body(ref_core *core, CFMutableDictionaryRef q, void *arg) {
    (void)core;
    attrs_arg *a = arg;
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitOne);
    if (a != NULL && a->match_tag != NULL)
        set_cstr(q, kSecAttrLabel, a->match_tag);
    CFTypeRef result = NULL;
    OSStatus st = SecItemCopyMatching(q, &result);
    if (st == errSecSuccess && a != NULL && result != NULL &&
        CFGetTypeID(result) == CFDictionaryGetTypeID()) {
        copy_attr(result, kSecAttrLabel, a->tag, a->tag_cap);
        copy_attr(result, kSecAttrAccount, a->account, a->account_cap);
    }
    if (result != NULL)
        CFRelease(result);
    return st;
}

int kc_lookup(ref_core *core, const char *label, bool *exists, kc_kind *where, char *tag,
              size_t tag_cap) {
    *exists = false;
    if (tag != NULL && tag_cap > 0)
        tag[0] = '\0';
    kc_kind kinds[2];
    size_t n = 0;
    if (has_group(core))
        kinds[n++] = KC_DP;
    kinds[n++] = KC_FILE;
    attrs_arg a = {tag, tag_cap, NULL, 0, NULL};
    for (size_t i = 0; i < n; i++) {
        OSStatus st = kc_run(core, kinds[i], label, false, attrs_body, &a);
        if (st == errSecSuccess) {
            *exists = true;
            if (where != NULL)
                *where = kinds[i];
            return REF_BRIDGE_OK;
        }
        if (st == errSecItemNotFound || (kinds[i] == KC_DP && st == errSecMissingEntitlement))
            continue;
        core_note_status(core, st);
        bool gui = gui_for(st);
        int code = ref_errmap_load(st, gui, core->cfg.mutants);
        emit_mapped(core, label, "keychain_load", st, gui, code);
        core_fail_code(core, code,
                       "keychain lookup: SecItemCopyMatching (attributes) on the %s keychain "
                       "returned %d (%s)",
                       kc_kind_name(kinds[i]), (int)st, status_text(st));
        return code;
    }
    return REF_BRIDGE_OK;
}

int kc_exists(ref_core *core, const char *label, bool *exists) {
    return kc_lookup(core, label, exists, NULL, NULL, 0);
}

bool kc_find_tagged(ref_core *core, const char *tag, kc_kind *where, char *account,
                    size_t account_cap) {
    kc_kind kinds[2];
    size_t n = 0;
    if (has_group(core))
        kinds[n++] = KC_DP;
    kinds[n++] = KC_FILE;
    if (account_cap == 0)
        return false;
    account[0] = '\0';
    attrs_arg a = {NULL, 0, account, account_cap, tag};
    for (size_t i = 0; i < n; i++) {
        OSStatus st = kc_run(core, kinds[i], NULL, false, attrs_body, &a);
        if (st == errSecSuccess && account[0] != '\0') {
            *where = kinds[i];
            return true;
        }
        if (st == errSecItemNotFound || st == errSecSuccess ||
            (kinds[i] == KC_DP && st == errSecMissingEntitlement))
            continue;
        return false; /* best effort: any other answer ends the search */
    }
    return false;
}

static OSStatus rename_body(ref_core *core, CFMutableDictionaryRef q, void *arg) {
    (void)core;
    const char *new_label = arg;
    CFMutableDictionaryRef attrs = CFDictionaryCreateMutable(
        NULL, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
    if (attrs == NULL)
        return errSecAllocate;
    set_cstr(attrs, kSecAttrAccount, new_label);
    OSStatus st = SecItemUpdate(q, attrs);
    CFRelease(attrs);
    return st;
}

OSStatus kc_raw_rename(ref_core *core, kc_kind kind, const char *old_label, const char *new_label) {
    return kc_run(core, kind, old_label, false, rename_body, (void *)new_label);
}

int kc_rename(ref_core *core, const char *old_label, const char *new_label, bool *moved) {
    *moved = false;
    kc_kind kinds[2];
    bool done[2] = {false, false};
    size_t n = 0;
    if (has_group(core))
        kinds[n++] = KC_DP;
    kinds[n++] = KC_FILE;
    for (size_t i = 0; i < n; i++) {
        OSStatus st = kc_run(core, kinds[i], old_label, false, rename_body, (void *)new_label);
        if (st == errSecSuccess) {
            done[i] = true;
            *moved = true;
            continue;
        }
        if (st == errSecItemNotFound || (kinds[i] == KC_DP && st == errSecMissingEntitlement))
            continue;
        /* Failed: put back what moved, report like a store. */
        bool stuck = false;
        for (size_t j = 0; j < i; j++)
            if (done[j] && kc_run(core, kinds[j], new_label, false, rename_body,
                                  (void *)old_label) != errSecSuccess)
                stuck = true;
        if (stuck) {
            /* The item cannot be moved back: the key now lives under the new
             * label. Keep it whole there (the caller keeps the files moved)
             * rather than split it — handle under one label, wrapping key under
             * the other (D1, D2; fuzz finding, scenarios/found/). */
            core_warn(core,
                      "rename: the %s keychain refused the rename of '%s' (%d %s) and its item "
                      "could not be moved back: the key is now '%s'",
                      kc_kind_name(kinds[i]), old_label, (int)st, status_text(st), new_label);
            return REF_BRIDGE_OK;
        }
        *moved = false;
        core_note_status(core, st);
        bool gui = gui_for(st);
        int code = ref_errmap_store(st, gui, core->cfg.mutants);
        emit_mapped(core, old_label, "keychain_store", st, gui, code);
        core_fail_code(core, code,
                       "keychain rename: SecItemUpdate on the %s keychain returned %d (%s)",
                       kc_kind_name(kinds[i]), (int)st, status_text(st));
        return code;
    }
    return REF_BRIDGE_OK;
}
