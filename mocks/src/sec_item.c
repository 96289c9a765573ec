/* SecItemAdd / SecItemCopyMatching / SecItemUpdate / SecItemDelete for
 * kSecClassGenericPassword: query parsing and validation, keychain routing
 * and every rule of domain.md §4, on top of the item store (sec_items.c).
 *
 * Each call: world_call_begin → parse the dictionary and fill the journaled
 * key arguments (keychain, service, account, class, flags, input size; never
 * secret bytes) → world_call_faulted (an injected status replaces the call:
 * no effect, *result NULL) → the real work → world_call_end.
 *
 * Documented choices where domain.md leaves room (Apple's behaviour as far as
 * it is known; "ours" where the simulation simply picks):
 *
 *  Keys and values
 *  - Only kSecClassGenericPassword. Apple's other class values ("inet",
 *    "cert", "keys", "idnt") give errSecUnimplemented; any other value, a
 *    missing kSecClass, an unknown key or a value of the wrong type gives
 *    errSecParam — never a crash (non-CF pointers included).
 *  - Which key each operation accepts (anything else: errSecParam):
 *      add:    class service account group accessible accessControl sync
 *              label data useDP authContext(ignored) useKeychain;
 *              return keys: errSecUnimplemented (the header's contract).
 *      copy:   class service account group accessible(filter) sync label
 *              returnData returnAttributes matchLimit useDP authContext
 *              useKeychain(ignored: Apple documents it for SecItemAdd only)
 *              searchList.
 *      update/delete query: as copy minus the return keys; matchLimit and
 *              authContext are accepted and ignored (every match is affected).
 *      update attributes: service account group accessible label data;
 *              accessControl: errSecParam (§4); class, sync and query-only
 *              keys: errSecParam. An empty attribute dictionary: errSecParam.
 *  - String values must not contain U+0000. kSecMatchLimit: kSecMatchLimitOne,
 *    kSecMatchLimitAll or a positive CFNumber (at most N items, as an array).
 *  - kSecAttrSynchronizable is part of the primary key, as in Apple's own
 *    genp schema; a query without it (or with false) sees only
 *    non-synchronizable items, with true only synchronizable ones.
 *
 *  Routing: the DP keychain when kSecUseDataProtectionKeychain or
 *  kSecAttrSynchronizable is kCFBooleanTrue, else the file-based keychain.
 *
 *  Data-protection keychain
 *  - A process without any keychain-access-groups entitlement, or naming a
 *    group it is not entitled to: errSecMissingEntitlement. An add without a
 *    group gets the process's default group; a query without a group sees the
 *    items of the groups the process is entitled to (a DP item without a
 *    group, which only world_item_plant can make, is visible to no process).
 *  - Class keys: *every* access to an item (add, data or attribute read,
 *    existence check, update, delete) needs its class key (the access
 *    control's protection when it has one; WhenUnlocked when kSecAttrAccessible
 *    was omitted), else errSecInteractionNotAllowed — Apple's DP keychain
 *    encrypts attributes with the class key too, and domain.md §3 says a
 *    destroyed key's items answer -25308 to every access. A call touching
 *    several items fails as a whole and changes nothing.
 *  - Update of kSecAttrAccessible needs both the old and the new class key;
 *    on an item with an access control it is errSecParam (the class is the
 *    access control's).
 *  - Presence (.userPresence/.biometryAny/.devicePasscode) gates data reads
 *    only: a kSecUseAuthenticationContext for which la_context_reusable() is
 *    true reads silently; otherwise a keychain-presence prompt when one is
 *    possible (approve: data; cancel/absent: errSecUserCanceled; fail:
 *    errSecAuthFailed), else errSecInteractionNotAllowed. The prompt does not
 *    authenticate the passed context. Attribute reads, update and delete are
 *    not gated.
 *
 *  File-based keychain
 *  - kSecAttrAccessible is stored and returned, no effect; an access control
 *    with a presence flag: errSecParam (other access controls are stored).
 *    kSecAttrAccessGroup is accepted and ignored (not stored, not matched).
 *  - No default keychain reachable: errSecNoDefaultKeychain, unless the add
 *    names the login keychain with kSecUseKeychain or the copy/update/delete
 *    with kSecMatchSearchList (an array of SecKeychainRef).
 *  - Locked login keychain: attribute-only reads and existence checks work
 *    (the legacy keychain keeps attributes in clear; `security
 *    dump-keychain` lists a locked keychain) and so do the duplicate and
 *    not-found answers. A data read, an add, an update or a delete that has
 *    something to do needs it unlocked: with a possible prompt, the
 *    file-unlock prompt (approve: unlocked, the call goes on; cancel/absent:
 *    errSecUserCanceled; fail: errSecAuthFailed), without one
 *    errSecInteractionNotAllowed.
 *  - ACL: the creator and the "Always Allow"-ed identities are trusted. A
 *    data read by a stranger: a remembered Deny gives errSecAuthFailed with
 *    no prompt; else the Always Allow / Deny prompt (approve: remembered, data;
 *    cancel/absent: errSecUserCanceled; fail: Deny remembered,
 *    errSecAuthFailed); no prompt possible: errSecInteractionNotAllowed.
 *    An update that changes the data is gated the same way (it replaces the
 *    protected content); attribute-only reads, attribute-only updates and
 *    deletes never consult the ACL (the default ACL of a SecItemAdd item
 *    restricts decryption, not deletion).
 *
 *  Results: kSecReturnData alone: CFData; kSecReturnAttributes: a
 *  CFDictionary with class, svce, acct, agrp (when the item has one), pdmn,
 *  accc (a new SecAccessControl, when the item has one), sync, labl (when
 *  set) and v_Data when data is returned too; kSecMatchLimitAll or a numeric
 *  limit: a CFArray of those, in insertion order. No return key: success
 *  with *result NULL (an existence check). Every result is +1. The gates
 *  (class key, ACL, presence) depend on what the query asks for, not on
 *  whether `result` is NULL.
 *
 *  No active world: errSecNotAvailable, nothing journaled.
 */
#include "la_internal.h"
#include "sec_internal.h"

#include <keyclass/cf_accounting.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Query keys -------------------------------------------------------------------- */

typedef enum {
    K_CLASS,
    K_SERVICE,
    K_ACCOUNT,
    K_GROUP,
    K_ACCESSIBLE,
    K_ACCESS_CONTROL,
    K_SYNC,
    K_LABEL,
    K_DATA,
    K_RETURN_DATA,
    K_RETURN_ATTRS,
    K_MATCH_LIMIT,
    K_USE_DP,
    K_AUTH_CONTEXT,
    K_USE_KEYCHAIN,
    K_SEARCH_LIST,
    K_COUNT
} qkey;

#define BIT(k) (1u << (k))

/* The key constants, interned once (CFSTR costs a hash lookup per use). */
static CFStringRef key_constants[K_COUNT];
static CFStringRef class_genp;
static CFStringRef limit_one;
static CFStringRef limit_all;

static void index_keys(void);

static void init_constants(void) {
    if (class_genp != NULL)
        return;
    key_constants[K_CLASS] = kSecClass;
    key_constants[K_SERVICE] = kSecAttrService;
    key_constants[K_ACCOUNT] = kSecAttrAccount;
    key_constants[K_GROUP] = kSecAttrAccessGroup;
    key_constants[K_ACCESSIBLE] = kSecAttrAccessible;
    key_constants[K_ACCESS_CONTROL] = kSecAttrAccessControl;
    key_constants[K_SYNC] = kSecAttrSynchronizable;
    key_constants[K_LABEL] = kSecAttrLabel;
    key_constants[K_DATA] = kSecValueData;
    key_constants[K_RETURN_DATA] = kSecReturnData;
    key_constants[K_RETURN_ATTRS] = kSecReturnAttributes;
    key_constants[K_MATCH_LIMIT] = kSecMatchLimit;
    key_constants[K_USE_DP] = kSecUseDataProtectionKeychain;
    key_constants[K_AUTH_CONTEXT] = kSecUseAuthenticationContext;
    key_constants[K_USE_KEYCHAIN] = kSecUseKeychain;
    key_constants[K_SEARCH_LIST] = kSecMatchSearchList;
    limit_one = kSecMatchLimitOne;
    limit_all = kSecMatchLimitAll;
    index_keys();
    class_genp = kSecClassGenericPassword; /* last: the "initialized" flag */
}

/* The key constants by address (interned strings never move): an
 * open-addressing table of KEY_SLOTS pointers, so that recognising a key
 * costs one or two probes. */
#define KEY_SLOTS 64
static struct {
    CFStringRef key;
    int k;
} key_slots[KEY_SLOTS];

static size_t key_slot(CFTypeRef key) {
    uintptr_t p = (uintptr_t)key;
    return (size_t)((p >> 4) ^ (p >> 10)) & (KEY_SLOTS - 1);
}

static void index_keys(void) {
    for (int k = 0; k < K_COUNT; k++) {
        size_t i = key_slot(key_constants[k]);
        while (key_slots[i].key != NULL)
            i = (i + 1) & (KEY_SLOTS - 1);
        key_slots[i].key = key_constants[k];
        key_slots[i].k = k;
    }
}

/* Which query key is `key`? -1 if none (or not a string). */
static int identify_key(CFTypeRef key) {
    for (size_t i = key_slot(key); key_slots[i].key != NULL; i = (i + 1) & (KEY_SLOTS - 1))
        if (key_slots[i].key == key)
            return key_slots[i].k;
    /* Not one of the constants themselves: a runtime-created string with
     * the same text still names the key. */
    if (!kc_cf_is_live(key) || CFGetTypeID(key) != CFStringGetTypeID())
        return -1;
    for (int k = 0; k < K_COUNT; k++)
        if (CFEqual(key, key_constants[k]))
            return k;
    return -1;
}

typedef enum { OP_ADD, OP_COPY, OP_UPDATE_QUERY, OP_DELETE, OP_UPDATE_ATTRS } op_kind;

#define ATTRIBUTE_KEYS (BIT(K_SERVICE) | BIT(K_ACCOUNT) | BIT(K_GROUP) | BIT(K_LABEL))
#define SEARCH_KEYS                                                                                \
    (BIT(K_CLASS) | ATTRIBUTE_KEYS | BIT(K_ACCESSIBLE) | BIT(K_SYNC) | BIT(K_MATCH_LIMIT) |        \
     BIT(K_USE_DP) | BIT(K_AUTH_CONTEXT) | BIT(K_USE_KEYCHAIN) | BIT(K_SEARCH_LIST))

static const unsigned allowed_keys[] = {
    [OP_ADD] = BIT(K_CLASS) | ATTRIBUTE_KEYS | BIT(K_ACCESSIBLE) | BIT(K_ACCESS_CONTROL) |
               BIT(K_SYNC) | BIT(K_DATA) | BIT(K_USE_DP) | BIT(K_AUTH_CONTEXT) |
               BIT(K_USE_KEYCHAIN),
    [OP_COPY] = SEARCH_KEYS | BIT(K_RETURN_DATA) | BIT(K_RETURN_ATTRS),
    [OP_UPDATE_QUERY] = SEARCH_KEYS,
    [OP_DELETE] = SEARCH_KEYS,
    /* kSecAttrAccessControl is parsed so that SecItemUpdate can refuse it by name. */
    [OP_UPDATE_ATTRS] = ATTRIBUTE_KEYS | BIT(K_ACCESSIBLE) | BIT(K_DATA) | BIT(K_ACCESS_CONTROL),
};

/* ---- Parsed query --------------------------------------------------------------------- */

typedef struct {
    unsigned present;                              /* BIT(qkey) of the keys given */
    const char *service, *account, *group, *label; /* UTF-8, borrowed from the dictionary */
    int accessible;                                /* world_class or -1 */
    bool has_ac;
    world_class ac_class;
    uint32_t ac_flags;
    bool sync;
    const UInt8 *data;
    size_t data_len;
    bool ret_data, ret_attrs;
    CFIndex limit;    /* max items; 1 for kSecMatchLimitOne */
    bool limit_array; /* the result is an array */
    bool use_dp;
    LAContextRef auth; /* borrowed */
    bool use_keychain; /* kSecUseKeychain names the login keychain */
    bool search_list;  /* kSecMatchSearchList names it */
    bool dp;           /* routed to the DP keychain */
} query;

static bool is_type(CFTypeRef v, CFTypeID type) {
    return kc_cf_is_live(v) && CFGetTypeID(v) == type;
}

/* A CFString's UTF-8 bytes, or NULL when v is not a string or holds U+0000. */
static const char *string_value(CFTypeRef v) {
    if (!is_type(v, CFStringGetTypeID()))
        return NULL;
    return CFStringGetCStringPtr((CFStringRef)v, kCFStringEncodingUTF8);
}

static bool bool_value(CFTypeRef v, bool *out) {
    if (v == kCFBooleanTrue || v == kCFBooleanFalse) {
        *out = v == kCFBooleanTrue;
        return true;
    }
    return false;
}

static OSStatus parse_class(CFTypeRef v) {
    if (v == class_genp)
        return errSecSuccess;
    if (!is_type(v, CFStringGetTypeID()))
        return errSecParam;
    if (CFEqual(v, class_genp))
        return errSecSuccess;
    static const char *const other_classes[] = {"inet", "cert", "keys", "idnt"};
    const char *text = CFStringGetCStringPtr((CFStringRef)v, kCFStringEncodingUTF8);
    for (size_t i = 0; text != NULL && i < sizeof other_classes / sizeof *other_classes; i++)
        if (strcmp(text, other_classes[i]) == 0)
            return errSecUnimplemented;
    return errSecParam;
}

static OSStatus parse_limit(CFTypeRef v, query *q) {
    if (v == limit_one || (is_type(v, CFStringGetTypeID()) && CFEqual(v, limit_one))) {
        q->limit = 1;
        q->limit_array = false;
        return errSecSuccess;
    }
    if (v == limit_all || (is_type(v, CFStringGetTypeID()) && CFEqual(v, limit_all))) {
        q->limit = -1;
        q->limit_array = true;
        return errSecSuccess;
    }
    long long n = 0;
    if (is_type(v, CFNumberGetTypeID()) && !CFNumberIsFloatType((CFNumberRef)v) &&
        CFNumberGetValue((CFNumberRef)v, kCFNumberLongLongType, &n) && n > 0) {
        q->limit = (CFIndex)n;
        q->limit_array = true;
        return errSecSuccess;
    }
    return errSecParam;
}

static OSStatus parse_search_list(CFTypeRef v, query *q) {
    if (!is_type(v, CFArrayGetTypeID()))
        return errSecParam;
    CFIndex n = CFArrayGetCount((CFArrayRef)v);
    for (CFIndex i = 0; i < n; i++)
        if (!sec_keychain_is(CFArrayGetValueAtIndex((CFArrayRef)v, i)))
            return errSecParam;
    q->search_list = n > 0;
    return errSecSuccess;
}

/* Parses and type-checks `dict` for operation `op`. */
static OSStatus parse_keys(CFDictionaryRef dict, op_kind op, query *q) {
    memset(q, 0, sizeof *q);
    q->accessible = -1;
    q->limit = 1;
    init_constants();
    if (!is_type(dict, CFDictionaryGetTypeID()))
        return errSecParam;
    CFIndex count = CFDictionaryGetCount(dict);
    if (count > K_COUNT)
        return errSecParam; /* keys are unique: more than K_COUNT means an unknown one */
    const void *keys[K_COUNT], *values[K_COUNT];
    CFDictionaryGetKeysAndValues(dict, keys, values);
    OSStatus unimplemented = errSecSuccess;
    for (CFIndex i = 0; i < count; i++) {
        int k = identify_key(keys[i]);
        if (k < 0)
            return errSecParam;
        q->present |= BIT(k);
        if (op == OP_ADD && (k == K_RETURN_DATA || k == K_RETURN_ATTRS)) {
            unimplemented = errSecUnimplemented;
            continue;
        }
        if (!(allowed_keys[op] & BIT(k)))
            return errSecParam;
        CFTypeRef v = values[i];
        OSStatus st = errSecSuccess;
        switch ((qkey)k) {
        case K_CLASS:
            st = parse_class(v);
            if (st == errSecUnimplemented) {
                unimplemented = st;
                st = errSecSuccess;
            }
            break;
        case K_SERVICE:
            st = (q->service = string_value(v)) != NULL ? errSecSuccess : errSecParam;
            break;
        case K_ACCOUNT:
            st = (q->account = string_value(v)) != NULL ? errSecSuccess : errSecParam;
            break;
        case K_GROUP:
            st = (q->group = string_value(v)) != NULL ? errSecSuccess : errSecParam;
            break;
        case K_LABEL:
            st = (q->label = string_value(v)) != NULL ? errSecSuccess : errSecParam;
            break;
        case K_ACCESSIBLE:
            st = (q->accessible = sec_class_from_value(v)) >= 0 ? errSecSuccess : errSecParam;
            break;
        case K_ACCESS_CONTROL:
            q->has_ac = sec_access_control_read(v, &q->ac_class, &q->ac_flags);
            st = q->has_ac ? errSecSuccess : errSecParam;
            break;
        case K_SYNC:
            st = bool_value(v, &q->sync) ? errSecSuccess : errSecParam;
            break;
        case K_DATA:
            if (is_type(v, CFDataGetTypeID())) {
                q->data = CFDataGetBytePtr((CFDataRef)v);
                q->data_len = (size_t)CFDataGetLength((CFDataRef)v);
            } else {
                st = errSecParam;
            }
            break;
        case K_RETURN_DATA:
            st = bool_value(v, &q->ret_data) ? errSecSuccess : errSecParam;
            break;
        case K_RETURN_ATTRS:
            st = bool_value(v, &q->ret_attrs) ? errSecSuccess : errSecParam;
            break;
        case K_MATCH_LIMIT:
            st = parse_limit(v, q);
            break;
        case K_USE_DP:
            st = bool_value(v, &q->use_dp) ? errSecSuccess : errSecParam;
            break;
        case K_AUTH_CONTEXT:
            if (is_type(v, LAContextGetTypeID()))
                q->auth = (LAContextRef)(uintptr_t)v;
            else
                st = errSecParam;
            break;
        case K_USE_KEYCHAIN:
            st = sec_keychain_is(v) ? errSecSuccess : errSecParam;
            q->use_keychain = st == errSecSuccess;
            break;
        case K_SEARCH_LIST:
            st = parse_search_list(v, q);
            break;
        case K_COUNT:
            break;
        }
        if (st != errSecSuccess)
            return st;
    }
    if (op != OP_UPDATE_ATTRS && !(q->present & BIT(K_CLASS)))
        return errSecParam;
    return unimplemented;
}

/* parse_keys, then the routing (known as far as parsing got, for the journal
 * of a rejected call too). */
static OSStatus parse(CFDictionaryRef dict, op_kind op, query *q) {
    OSStatus st = parse_keys(dict, op, q);
    q->dp = q->use_dp || q->sync;
    return st;
}

/* ---- Call bookkeeping ---------------------------------------------------------------- */

static void copy_field(char *dst, size_t cap, const char *src) {
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static void fill_call(world_call *call, const query *q) {
    call->keychain = q->dp ? "dp" : "file";
    copy_field(call->service, sizeof call->service, q->service);
    copy_field(call->account, sizeof call->account, q->account);
}

/* Everything one SecItem call needs to know about its caller. */
typedef struct {
    world *w;
    world_pid pid;
    const char *identity; /* the ACL identity, NULL without a current process */
} caller;

static caller caller_of(world *w, const world_call *call) {
    caller c = {w, call->pid, world_process_identity(w, call->pid)};
    return c;
}

OSStatus sec_answer_status(world_answer a) {
    switch (a) {
    case WORLD_ANSWER_APPROVE:
        return errSecSuccess;
    case WORLD_ANSWER_FAIL:
        return errSecAuthFailed;
    case WORLD_ANSWER_CANCEL:
    case WORLD_ANSWER_ABSENT:
    default:
        return errSecUserCanceled;
    }
}

static void prompt_about(const world_item *item, char *out, size_t cap) {
    snprintf(out, cap, "%.90s/%.90s", item->service, item->account);
}

/* ---- Gates ----------------------------------------------------------------------------- */

/* Keychain-level preconditions of a query routed as q->dp says. */
static OSStatus keychain_gate(const caller *c, const query *q, op_kind op) {
    if (q->dp) {
        if (!world_proc_entitled(c->w, c->pid, NULL))
            return errSecMissingEntitlement;
        if (q->group != NULL && !world_proc_entitled(c->w, c->pid, q->group))
            return errSecMissingEntitlement;
        return errSecSuccess;
    }
    if (world_proc_default_keychain_reachable(c->w, c->pid))
        return errSecSuccess;
    bool named = op == OP_ADD ? q->use_keychain : q->search_list;
    return named ? errSecSuccess : errSecNoDefaultKeychain;
}

/* The locked login keychain, for an operation that needs its secrets or
 * writes to it. */
static OSStatus unlock_gate(const caller *c) {
    if (!world_login_keychain_locked(c->w))
        return errSecSuccess;
    if (!world_prompt_possible(c->w, c->pid))
        return errSecInteractionNotAllowed;
    OSStatus st =
        sec_answer_status(world_prompt_show(c->w, WORLD_PROMPT_FILE_UNLOCK, "login keychain"));
    if (st == errSecSuccess && world_login_keychain_unlock(c->w) != 0)
        st = errSecNotAvailable;
    return st;
}

/* The file-based ACL for a use of an item's data by the caller. */
static OSStatus acl_gate(const caller *c, world_item *item) {
    if (sec_item_trusts(item, c->identity))
        return errSecSuccess;
    if (sec_item_denies(item, c->identity))
        return errSecAuthFailed;
    if (!world_prompt_possible(c->w, c->pid))
        return errSecInteractionNotAllowed;
    char about[192];
    prompt_about(item, about, sizeof about);
    world_answer a = world_prompt_show(c->w, WORLD_PROMPT_FILE_ALWAYS_ALLOW, about);
    if (a == WORLD_ANSWER_APPROVE)
        return sec_item_remember_allow(item, c->identity) == 0 ? errSecSuccess : errSecAllocate;
    if (a == WORLD_ANSWER_FAIL) {
        (void)sec_item_remember_deny(item, c->identity);
        return errSecAuthFailed;
    }
    return errSecUserCanceled;
}

static bool needs_presence(const world_item *item) {
    return item->has_access_control && (item->ac_flags & WORLD_AC_PRESENCE_MASK) != 0;
}

/* User presence for reading the data of a DP item. */
static OSStatus presence_gate(const caller *c, const query *q, const world_item *item) {
    if (!needs_presence(item))
        return errSecSuccess;
    if (q->auth != NULL && la_context_reusable(q->auth, c->w))
        return errSecSuccess;
    if (!world_prompt_possible(c->w, c->pid))
        return errSecInteractionNotAllowed;
    char about[192];
    prompt_about(item, about, sizeof about);
    return sec_answer_status(world_prompt_show(c->w, WORLD_PROMPT_KEYCHAIN_PRESENCE, about));
}

static OSStatus class_gate(const caller *c, world_class cls) {
    return world_class_key_available(c->w, cls) ? errSecSuccess : errSecInteractionNotAllowed;
}

/* ---- Matching ------------------------------------------------------------------------------ */

#define INLINE_MATCHES 8

typedef struct {
    const caller *c;
    const query *q;
    world_item **items;
    world_item *inline_items[INLINE_MATCHES];
    size_t count, cap;
    CFIndex limit; /* < 0: no limit */
    bool failed;   /* out of memory */
} matches;

static bool match_visit(world_item *item, void *context) {
    matches *m = context;
    const query *q = m->q;
    if (item->synchronizable != q->sync)
        return true;
    if (q->accessible >= 0 && item->accessible != (world_class)q->accessible)
        return true;
    if (q->label != NULL && (item->label == NULL || strcmp(item->label, q->label) != 0))
        return true;
    if (q->dp) {
        if (q->group != NULL) {
            if (item->access_group == NULL || strcmp(item->access_group, q->group) != 0)
                return true;
        } else if (item->access_group == NULL ||
                   !world_proc_entitled(m->c->w, m->c->pid, item->access_group)) {
            return true;
        }
    }
    if (m->count == m->cap) {
        size_t cap = m->cap * 2;
        world_item **grown = malloc(cap * sizeof *grown);
        if (grown == NULL) {
            m->failed = true;
            return false;
        }
        memcpy(grown, m->items, m->count * sizeof *grown);
        if (m->items != m->inline_items)
            free(m->items);
        m->items = grown;
        m->cap = cap;
    }
    m->items[m->count++] = item;
    return m->limit < 0 || (CFIndex)m->count < m->limit;
}

/* Finds the items `q` matches (at most `limit`, < 0: all) in insertion order. */
static OSStatus find_matches(const caller *c, const query *q, CFIndex limit, matches *m) {
    m->c = c;
    m->q = q;
    m->items = m->inline_items;
    m->count = 0;
    m->cap = INLINE_MATCHES;
    m->limit = limit;
    m->failed = false;
    sec_store_scan(world_item_store_of(c->w), q->dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE,
                   q->service, q->account, match_visit, m);
    if (m->failed)
        return errSecAllocate;
    return m->count > 0 ? errSecSuccess : errSecItemNotFound;
}

static void matches_free(matches *m) {
    if (m->items != m->inline_items)
        free(m->items);
    m->items = NULL;
}

/* ---- SecItemAdd ---------------------------------------------------------------------------- */

static OSStatus add_item(const caller *c, const query *q, world_class cls) {
    world_item_store *store = world_item_store_of(c->w);
    world_keychain kc = q->dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE;
    const char *group = NULL;
    if (q->dp) {
        group = q->group != NULL ? q->group : world_proc_default_group(c->w, c->pid);
        OSStatus st = class_gate(c, cls);
        if (st != errSecSuccess)
            return st;
    }
    if (sec_store_find_primary(store, kc, q->service, q->account, group, q->sync) != NULL)
        return errSecDuplicateItem;
    if (!q->dp) {
        OSStatus st = unlock_gate(c);
        if (st != errSecSuccess)
            return st;
    }
    world_item *item =
        sec_item_new(kc, q->service, q->account, group, q->label, q->data, q->data_len);
    if (item == NULL)
        return errSecAllocate;
    item->accessible = cls;
    item->has_access_control = q->has_ac;
    item->ac_flags = q->has_ac ? q->ac_flags : 0;
    item->synchronizable = q->sync;
    /* Both keychains record the creator; only the file-based ACL uses it. */
    if (sec_item_set_creator(item, c->identity != NULL ? c->identity : "") != 0 ||
        sec_store_insert(store, item) != 0) {
        sec_item_free(item);
        return errSecAllocate;
    }
    return errSecSuccess;
}

OSStatus SecItemAdd(CFDictionaryRef attributes, CFTypeRef *result) {
    if (result != NULL)
        *result = NULL;
    world *w = world_active();
    if (w == NULL)
        return errSecNotAvailable;
    world_call call;
    world_call_begin(w, &call, WORLD_API_SEC_ITEM_ADD);
    query q;
    OSStatus st = parse(attributes, OP_ADD, &q);
    world_class cls = q.has_ac            ? q.ac_class
                      : q.accessible >= 0 ? (world_class)q.accessible
                                          : WORLD_CLASS_WHEN_UNLOCKED;
    if (st == errSecSuccess && q.accessible >= 0 && q.has_ac)
        st = errSecParam; /* both in one add (domain.md §4, PC3) */
    if (st == errSecSuccess && !q.dp && q.has_ac && (q.ac_flags & WORLD_AC_PRESENCE_MASK))
        st = errSecParam; /* presence on the file-based keychain */
    fill_call(&call, &q);
    call.cls = (int)cls;
    call.flags = q.has_ac ? q.ac_flags : 0;
    call.in_size = q.data_len;
    /* Journaled so that PC3 (never both in one add) is visible on every
     * keychain, including the file-based one where -50 has two causes. */
    if (q.accessible >= 0 && q.has_ac)
        snprintf(call.detail, sizeof call.detail, "accessible+ac");
    int32_t status;
    if (!world_call_faulted(w, &call, &status)) {
        caller c = caller_of(w, &call);
        if (st == errSecSuccess)
            st = keychain_gate(&c, &q, OP_ADD);
        if (st == errSecSuccess)
            st = add_item(&c, &q, cls);
        status = st;
    }
    return world_call_end(w, &call, status);
}

/* ---- SecItemCopyMatching --------------------------------------------------------------- */

static CFTypeRef copy_data(const world_item *item) {
    return CFDataCreate(NULL, item->data, (CFIndex)item->data_len);
}

static CFStringRef make_string(const char *s) {
    return CFStringCreateWithCString(NULL, s, kCFStringEncodingUTF8);
}

/* Sets key to a +1 value, releasing it; false when the value is NULL. */
static bool put_owned(CFMutableDictionaryRef d, CFStringRef key, CFTypeRef value) {
    if (value == NULL)
        return false;
    CFDictionarySetValue(d, key, value);
    CFRelease(value);
    return true;
}

static CFTypeRef copy_attributes(const world_item *item, bool with_data) {
    CFMutableDictionaryRef d = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    if (d == NULL)
        return NULL;
    CFDictionarySetValue(d, kSecClass, class_genp);
    bool ok = put_owned(d, kSecAttrService, make_string(item->service)) &&
              put_owned(d, kSecAttrAccount, make_string(item->account));
    if (ok && item->access_group != NULL)
        ok = put_owned(d, kSecAttrAccessGroup, make_string(item->access_group));
    if (ok)
        CFDictionarySetValue(d, kSecAttrAccessible, sec_class_constant(item->accessible));
    if (ok && item->has_access_control)
        ok = put_owned(d, kSecAttrAccessControl,
                       sec_access_control_make(item->accessible, item->ac_flags));
    if (ok)
        CFDictionarySetValue(d, kSecAttrSynchronizable,
                             item->synchronizable ? kCFBooleanTrue : kCFBooleanFalse);
    if (ok && item->label != NULL)
        ok = put_owned(d, kSecAttrLabel, make_string(item->label));
    if (ok && with_data)
        ok = put_owned(d, kSecValueData, copy_data(item));
    if (!ok) {
        CFRelease(d);
        return NULL;
    }
    return d;
}

/* Runs the gates for one matched item of a copy; OK means it may be returned. */
static OSStatus copy_gates(const caller *c, const query *q, world_item *item, bool *unlocked) {
    if (q->dp)
        return class_gate(c, item->accessible);
    if (!q->ret_data)
        return errSecSuccess; /* attributes only: no lock, no ACL */
    if (!*unlocked) {
        OSStatus st = unlock_gate(c);
        if (st != errSecSuccess)
            return st;
        *unlocked = true;
    }
    return acl_gate(c, item);
}

static OSStatus copy_matching(const caller *c, const query *q, CFTypeRef *result) {
    matches m;
    OSStatus st = find_matches(c, q, q->limit_array ? q->limit : 1, &m);
    bool want = q->ret_data || q->ret_attrs;
    CFMutableArrayRef array = NULL;
    CFTypeRef single = NULL;
    if (st == errSecSuccess && want && q->limit_array && result != NULL) {
        array = CFArrayCreateMutable(NULL, (CFIndex)m.count, &kCFTypeArrayCallBacks);
        if (array == NULL)
            st = errSecAllocate;
    }
    bool unlocked = false;
    for (size_t i = 0; st == errSecSuccess && i < m.count; i++) {
        world_item *item = m.items[i];
        st = copy_gates(c, q, item, &unlocked);
        if (st == errSecSuccess && q->dp && q->ret_data)
            st = presence_gate(c, q, item);
        if (st != errSecSuccess || !want || result == NULL)
            continue;
        CFTypeRef one = q->ret_attrs ? copy_attributes(item, q->ret_data) : copy_data(item);
        if (one == NULL) {
            st = errSecAllocate;
        } else if (array != NULL) {
            CFArrayAppendValue(array, one);
            CFRelease(one);
        } else {
            single = one;
        }
    }
    matches_free(&m);
    if (st != errSecSuccess) {
        if (array != NULL)
            CFRelease(array);
        if (single != NULL)
            CFRelease(single);
        return st;
    }
    if (result != NULL)
        *result = array != NULL ? (CFTypeRef)array : single;
    return errSecSuccess;
}

OSStatus SecItemCopyMatching(CFDictionaryRef query_dict, CFTypeRef *result) {
    if (result != NULL)
        *result = NULL;
    world *w = world_active();
    if (w == NULL)
        return errSecNotAvailable;
    world_call call;
    world_call_begin(w, &call, WORLD_API_SEC_ITEM_COPY_MATCHING);
    query q;
    OSStatus st = parse(query_dict, OP_COPY, &q);
    fill_call(&call, &q);
    call.cls = q.accessible;
    call.returns_data = q.ret_data;
    int32_t status;
    if (!world_call_faulted(w, &call, &status)) {
        caller c = caller_of(w, &call);
        if (st == errSecSuccess)
            st = keychain_gate(&c, &q, OP_COPY);
        if (st == errSecSuccess)
            st = copy_matching(&c, &q, result);
        status = st;
    }
    return world_call_end(w, &call, status);
}

/* ---- SecItemUpdate ------------------------------------------------------------------------- */

static bool same_str(const char *a, const char *b) {
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Would the new primary keys of the matched items collide with another item
 * or with each other? */
static bool update_collides(const world_item_store *store, const matches *m, const query *a) {
    if (a->service == NULL && a->account == NULL && a->group == NULL)
        return false;
    for (size_t i = 0; i < m->count; i++) {
        const world_item *it = m->items[i];
        const char *svc = a->service != NULL ? a->service : it->service;
        const char *acct = a->account != NULL ? a->account : it->account;
        const char *grp =
            it->keychain == WORLD_KEYCHAIN_DP && a->group != NULL ? a->group : it->access_group;
        const world_item *other =
            sec_store_find_primary(store, it->keychain, svc, acct, grp, it->synchronizable);
        if (other != NULL && other != it)
            return true;
        for (size_t j = 0; j < i; j++) {
            const world_item *jt = m->items[j];
            const char *jsvc = a->service != NULL ? a->service : jt->service;
            const char *jacct = a->account != NULL ? a->account : jt->account;
            const char *jgrp =
                jt->keychain == WORLD_KEYCHAIN_DP && a->group != NULL ? a->group : jt->access_group;
            if (strcmp(svc, jsvc) == 0 && strcmp(acct, jacct) == 0 && same_str(grp, jgrp) &&
                it->synchronizable == jt->synchronizable)
                return true;
        }
    }
    return false;
}

static OSStatus update_items(const caller *c, const query *q, const query *a) {
    if (q->dp && a->group != NULL && !world_proc_entitled(c->w, c->pid, a->group))
        return errSecMissingEntitlement;
    world_item_store *store = world_item_store_of(c->w);
    matches m;
    OSStatus st = find_matches(c, q, -1, &m);
    bool changes_data = (a->present & BIT(K_DATA)) != 0;
    /* Every check first: the update applies to all matches or to none. */
    for (size_t i = 0; st == errSecSuccess && i < m.count; i++) {
        world_item *it = m.items[i];
        if (q->dp) {
            if (a->accessible >= 0 && it->has_access_control)
                st = errSecParam;
            else
                st = class_gate(c, it->accessible);
            if (st == errSecSuccess && a->accessible >= 0)
                st = class_gate(c, (world_class)a->accessible);
        }
    }
    if (st == errSecSuccess && update_collides(store, &m, a))
        st = errSecDuplicateItem;
    if (st == errSecSuccess && !q->dp)
        st = unlock_gate(c);
    for (size_t i = 0; st == errSecSuccess && !q->dp && changes_data && i < m.count; i++)
        st = acl_gate(c, m.items[i]);
    for (size_t i = 0; st == errSecSuccess && i < m.count; i++) {
        world_item *it = m.items[i];
        if ((a->service != NULL || a->account != NULL) &&
            sec_store_rekey(store, it, a->service, a->account) != 0)
            st = errSecAllocate;
        if (st == errSecSuccess && q->dp && a->group != NULL &&
            sec_item_set_group(it, a->group) != 0)
            st = errSecAllocate;
        if (st == errSecSuccess && a->label != NULL && sec_item_set_label(it, a->label) != 0)
            st = errSecAllocate;
        if (st == errSecSuccess && changes_data && sec_item_set_data(it, a->data, a->data_len) != 0)
            st = errSecAllocate;
        if (st == errSecSuccess && a->accessible >= 0)
            it->accessible = (world_class)a->accessible;
        if (st == errSecSuccess)
            sec_store_note_update(store, it);
    }
    matches_free(&m);
    return st;
}

OSStatus SecItemUpdate(CFDictionaryRef query_dict, CFDictionaryRef attributesToUpdate) {
    world *w = world_active();
    if (w == NULL)
        return errSecNotAvailable;
    world_call call;
    world_call_begin(w, &call, WORLD_API_SEC_ITEM_UPDATE);
    query q, a;
    OSStatus st = parse(query_dict, OP_UPDATE_QUERY, &q);
    OSStatus sta = parse(attributesToUpdate, OP_UPDATE_ATTRS, &a);
    if (st == errSecSuccess)
        st = sta;
    if (st == errSecSuccess && a.present == 0)
        st = errSecParam;
    if (st == errSecSuccess && (a.present & BIT(K_ACCESS_CONTROL)))
        st = errSecParam; /* an access control cannot be changed: delete + add (§4) */
    fill_call(&call, &q);
    call.cls = a.accessible >= 0 ? a.accessible : q.accessible;
    call.in_size = a.data_len;
    copy_field(call.service2, sizeof call.service2, a.service);
    copy_field(call.account2, sizeof call.account2, a.account);
    int32_t status;
    if (!world_call_faulted(w, &call, &status)) {
        caller c = caller_of(w, &call);
        if (st == errSecSuccess)
            st = keychain_gate(&c, &q, OP_UPDATE_QUERY);
        if (st == errSecSuccess)
            st = update_items(&c, &q, &a);
        status = st;
    }
    return world_call_end(w, &call, status);
}

/* ---- SecItemDelete --------------------------------------------------------------------------- */

static OSStatus delete_items(const caller *c, const query *q) {
    matches m;
    OSStatus st = find_matches(c, q, -1, &m);
    for (size_t i = 0; st == errSecSuccess && q->dp && i < m.count; i++)
        st = class_gate(c, m.items[i]->accessible);
    if (st == errSecSuccess && !q->dp)
        st = unlock_gate(c);
    world_item_store *store = world_item_store_of(c->w);
    for (size_t i = 0; st == errSecSuccess && i < m.count; i++)
        sec_store_remove(store, m.items[i]);
    matches_free(&m);
    return st;
}

OSStatus SecItemDelete(CFDictionaryRef query_dict) {
    world *w = world_active();
    if (w == NULL)
        return errSecNotAvailable;
    world_call call;
    world_call_begin(w, &call, WORLD_API_SEC_ITEM_DELETE);
    query q;
    OSStatus st = parse(query_dict, OP_DELETE, &q);
    fill_call(&call, &q);
    call.cls = q.accessible;
    int32_t status;
    if (!world_call_faulted(w, &call, &status)) {
        caller c = caller_of(w, &call);
        if (st == errSecSuccess)
            st = keychain_gate(&c, &q, OP_DELETE);
        if (st == errSecSuccess)
            st = delete_items(&c, &q);
        status = st;
    }
    return world_call_end(w, &call, status);
}
