/* Internal contract between the simulated Security.framework's source files
 * (sec_items.c: the item store; sec_item.c: the SecItem API;
 * sec_access_control.c; sec_keychain.c). Not installed; nothing outside
 * mocks/src/sec_*.c includes it.
 *
 * The item store holds the items of both keychains (domain.md §2, §4) inside
 * the world (world_item_store_of). It knows nothing of queries, rules or
 * prompts: it stores, indexes and finds. Items are kept
 *  - in insertion order (a vector sorted by a per-store sequence number), so
 *    results and the inspection API are deterministic, and
 *  - in a hash index keyed by (keychain, service, account), so that a lookup
 *    by the full key — what every keychain client does — costs O(1) however
 *    many items the store holds.
 */
#ifndef KEYCLASS_SEC_INTERNAL_H
#define KEYCLASS_SEC_INTERNAL_H

#include <Security/Security.h>

#include "world_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One generic-password item. Strings and data are owned by the item: an item
 * is created as one allocation holding its data and strings right after the
 * struct (one cache miss for a lookup, not five); a value replaced later is a
 * separate allocation. Hot fields (those a lookup reads) come first. */
struct world_item {
    uint64_t hash;           /* of (keychain, service, account) */
    struct world_item *next; /* hash chain, ordered by seq */
    world_keychain keychain;
    world_class accessible; /* stored class; with an access control, its protection */
    bool synchronizable;
    bool has_access_control;
    uint32_t ac_flags;
    char *service;       /* "" when the item has none */
    char *account;       /* "" when the item has none */
    char *access_group;  /* DP only; NULL on the file-based keychain */
    char *label;         /* kSecAttrLabel, NULL when unset */
    unsigned char *data; /* zeroized when replaced or freed */
    size_t data_len;
    uint64_t seq;    /* insertion order */
    uint64_t writes; /* adds + updates of this item */

    /* File-based ACL (domain.md §4): the creator and the identities the user
     * chose "Always Allow" for are trusted; Deny answers are remembered. A
     * NULL creator (only by world_item_plant) trusts every application. */
    char *creator;
    char **allowed;
    size_t nallowed;
    char **denied;
    size_t ndenied;

    size_t inline_len; /* bytes of data and strings stored after the struct */
};

/* ---- Item construction (sec_items.c) ----------------------------------------- */

/* A new, unlinked item holding copies of the strings (service/account NULL:
 * "") and of the data. NULL when out of memory. */
world_item *sec_item_new(world_keychain kc, const char *service, const char *account,
                         const char *access_group, const char *label, const void *data,
                         size_t data_len);
/* Frees an unlinked item, zeroizing its data. */
void sec_item_free(world_item *item);
/* Replaces the item's data with a copy (zeroizing the old). 0, or -1 when out of
 * memory (item unchanged). */
int sec_item_set_data(world_item *item, const void *data, size_t len);
/* Replaces the label (NULL: none). 0 or -1 (out of memory, unchanged). */
int sec_item_set_label(world_item *item, const char *label);
/* Replaces the access group (NULL: none). 0 or -1. */
int sec_item_set_group(world_item *item, const char *group);
/* Sets the creator identity (NULL: trusts every application). 0 or -1. */
int sec_item_set_creator(world_item *item, const char *creator);

/* File ACL: is `identity` trusted (creator or Always Allowed) / denied? */
bool sec_item_trusts(const world_item *item, const char *identity);
bool sec_item_denies(const world_item *item, const char *identity);
/* Remembers an Always Allow / a Deny answer of `identity` (each undoes the
 * other). 0 or -1 (out of memory). */
int sec_item_remember_allow(world_item *item, const char *identity);
int sec_item_remember_deny(world_item *item, const char *identity);

/* ---- The store (sec_items.c) ----------------------------------------------------- */

/* Links `item` into the store (takes ownership): last in insertion order.
 * 0, or -1 when out of memory (the item is then still the caller's). Does not
 * check the primary key: callers do (sec_store_find_primary). Counts one
 * mutation and sets item->writes to 1. */
int sec_store_insert(world_item_store *store, world_item *item);
/* Unlinks and frees `item`; counts one mutation. */
void sec_store_remove(world_item_store *store, world_item *item);
/* Changes the service and/or account of a linked item (NULL: unchanged),
 * keeping its place in insertion order. 0 or -1 (out of memory, unchanged). */
int sec_store_rekey(world_item_store *store, world_item *item, const char *service,
                    const char *account);
/* Counts one update of `item` (item->writes and the store's mutations). */
void sec_store_note_update(world_item_store *store, world_item *item);

/* The item with this primary key (keychain, service, account, access group,
 * synchronizable), or NULL. access_group NULL matches only an item without a
 * group. */
world_item *sec_store_find_primary(const world_item_store *store, world_keychain kc,
                                   const char *service, const char *account,
                                   const char *access_group, bool synchronizable);

/* Visits, in insertion order, every item of keychain `kc` whose service and
 * account equal the given ones (NULL: any). With both given, only one hash
 * chain is walked. `visit` returns false to stop. Items must not be inserted
 * or removed while visiting. */
typedef bool (*sec_store_visit_fn)(world_item *item, void *context);
void sec_store_scan(const world_item_store *store, world_keychain kc, const char *service,
                    const char *account, sec_store_visit_fn visit, void *context);

/* ---- Access control (sec_access_control.c) ---------------------------------------- */

/* The kSecAttrAccessible* constant of a class (immortal CFSTR). */
CFStringRef sec_class_constant(world_class cls);
/* The class a kSecAttrAccessible* value names; -1 when `value` is not one of
 * the seven constants (any CFString of the same text counts). No misuse is
 * reported for non-strings. */
int sec_class_from_value(CFTypeRef value);
/* Is `flags` a valid combination of the four supported flags? */
bool sec_access_control_flags_valid(SecAccessControlCreateFlags flags);
/* A new access control (+1) without going through the world's hook (for
 * returned attribute dictionaries). NULL when out of memory. */
SecAccessControlRef sec_access_control_make(world_class protection,
                                            SecAccessControlCreateFlags flags);
/* If `value` is a live SecAccessControl, stores its class and flags and
 * returns true; false (no misuse reported) otherwise. */
bool sec_access_control_read(CFTypeRef value, world_class *protection, uint32_t *flags);

/* ---- Keychains (sec_keychain.c) ------------------------------------------------------ */

/* Is `value` a live SecKeychainRef? (Only the login keychain exists, so every
 * SecKeychainRef names it.) No misuse is reported for other values. */
bool sec_keychain_is(CFTypeRef value);

/* The status of a Security prompt's answer (sec_item.c): errSecSuccess when
 * approved, errSecAuthFailed when the authentication failed, otherwise
 * (cancelled, nobody there) errSecUserCanceled. */
OSStatus sec_answer_status(world_answer a);

#endif
