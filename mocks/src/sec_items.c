/* The item store of both keychains (sec_internal.h) and the world's
 * inspection and seeding API for items (keyclass/world.h).
 *
 * Layout: a vector of item pointers in insertion order (sorted by a
 * per-store sequence number, so an item is located by binary search) and a
 * chained hash index keyed by (keychain, service, account) whose chains are
 * kept in insertion order too. A lookup by the full key walks one short
 * chain; only a query that leaves service or account open scans the vector.
 *
 * Secrets: item data is zeroized whenever it is replaced or freed. Nothing in
 * this file journals.
 */
#include "sec_internal.h"

#include <stdlib.h>
#include <string.h>

struct world_item_store {
    world_item **order; /* insertion order (ascending seq) */
    size_t count, cap;
    world_item **buckets; /* chains ordered by seq */
    size_t nbuckets;      /* power of two */
    uint64_t next_seq;
    uint64_t mutations;
    uint64_t version; /* every change, plants included (world_store_version) */
};

/* ---- Strings and items ----------------------------------------------------------- */

static char *dup_str(const char *s) {
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

/* Is `p` inside the item's own allocation (so not separately freed)? */
static bool is_inline(const world_item *item, const void *p) {
    uintptr_t start = (uintptr_t)(item + 1), at = (uintptr_t)p;
    return p != NULL && at >= start && at < start + item->inline_len;
}

static void free_owned(const world_item *item, void *p) {
    if (!is_inline(item, p))
        free(p);
}

/* Replaces *slot with a separately allocated copy of `s` (NULL allowed).
 * 0 or -1. */
static int replace_str(world_item *item, char **slot, const char *s) {
    char *copy = NULL;
    if (s != NULL && (copy = dup_str(s)) == NULL)
        return -1;
    free_owned(item, *slot);
    *slot = copy;
    return 0;
}

static void free_list(char **list, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* Copies `s` (with its NUL) to *at and advances it. */
static char *place(char **at, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = *at;
    memcpy(p, s, n);
    *at += n;
    return p;
}

world_item *sec_item_new(world_keychain kc, const char *service, const char *account,
                         const char *access_group, const char *label, const void *data,
                         size_t data_len) {
    if (service == NULL)
        service = "";
    if (account == NULL)
        account = "";
    size_t strings = strlen(service) + 1 + strlen(account) + 1 +
                     (access_group != NULL ? strlen(access_group) + 1 : 0) +
                     (label != NULL ? strlen(label) + 1 : 0);
    size_t extra = data_len + strings;
    world_item *item = calloc(1, sizeof *item + extra);
    if (item == NULL)
        return NULL;
    item->keychain = kc;
    item->accessible = WORLD_CLASS_WHEN_UNLOCKED;
    item->inline_len = extra;
    unsigned char *base = (unsigned char *)(item + 1);
    item->data = base;
    item->data_len = data_len;
    if (data_len)
        memcpy(base, data, data_len);
    char *at = (char *)base + data_len;
    item->service = place(&at, service);
    item->account = place(&at, account);
    item->access_group = access_group != NULL ? place(&at, access_group) : NULL;
    item->label = label != NULL ? place(&at, label) : NULL;
    return item;
}

void sec_item_free(world_item *item) {
    if (item == NULL)
        return;
    if (item->data != NULL)
        memset(item->data, 0, item->data_len);
    free_owned(item, item->data);
    free_owned(item, item->service);
    free_owned(item, item->account);
    free_owned(item, item->access_group);
    free_owned(item, item->label);
    free(item->creator);
    free_list(item->allowed, item->nallowed);
    free_list(item->denied, item->ndenied);
    memset(item, 0, sizeof *item + item->inline_len);
    free(item);
}

int sec_item_set_data(world_item *item, const void *data, size_t len) {
    unsigned char *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return -1;
    if (len)
        memcpy(copy, data, len);
    if (item->data != NULL)
        memset(item->data, 0, item->data_len);
    free_owned(item, item->data);
    item->data = copy;
    item->data_len = len;
    return 0;
}

int sec_item_set_label(world_item *item, const char *label) {
    return replace_str(item, &item->label, label);
}

int sec_item_set_group(world_item *item, const char *group) {
    return replace_str(item, &item->access_group, group);
}

int sec_item_set_creator(world_item *item, const char *creator) {
    char *copy = NULL;
    if (creator != NULL && (copy = dup_str(creator)) == NULL)
        return -1;
    free(item->creator);
    item->creator = copy;
    return 0;
}

static bool list_has(char *const *list, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static void list_drop(char **list, size_t *n, const char *s) {
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(list[i], s) == 0) {
            free(list[i]);
            memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof *list);
            (*n)--;
            return;
        }
    }
}

static int list_add(char ***list, size_t *n, const char *s) {
    if (list_has(*list, *n, s))
        return 0;
    char *copy = dup_str(s);
    char **grown = copy != NULL ? realloc(*list, (*n + 1) * sizeof **list) : NULL;
    if (grown == NULL) {
        free(copy);
        return -1;
    }
    grown[(*n)++] = copy;
    *list = grown;
    return 0;
}

bool sec_item_trusts(const world_item *item, const char *identity) {
    if (item->creator == NULL)
        return true; /* planted without a creator: any application */
    if (identity == NULL)
        return false;
    return strcmp(item->creator, identity) == 0 ||
           list_has(item->allowed, item->nallowed, identity);
}

bool sec_item_denies(const world_item *item, const char *identity) {
    return identity != NULL && list_has(item->denied, item->ndenied, identity);
}

int sec_item_remember_allow(world_item *item, const char *identity) {
    if (identity == NULL)
        return 0;
    list_drop(item->denied, &item->ndenied, identity);
    return list_add(&item->allowed, &item->nallowed, identity);
}

int sec_item_remember_deny(world_item *item, const char *identity) {
    if (identity == NULL)
        return 0;
    list_drop(item->allowed, &item->nallowed, identity);
    return list_add(&item->denied, &item->ndenied, identity);
}

/* ---- Hash index --------------------------------------------------------------------- */

/* FNV-1a over the keychain, the service, a separator and the account. */
static uint64_t key_hash(world_keychain kc, const char *service, const char *account) {
    uint64_t h = 14695981039346656037ull;
    h = (h ^ (uint64_t)(kc + 1)) * 1099511628211ull;
    for (const unsigned char *p = (const unsigned char *)service; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull; /* never a UTF-8 byte */
    for (const unsigned char *p = (const unsigned char *)account; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h ^ (h >> 29);
}

static void chain_link(world_item_store *s, world_item *item) {
    world_item **at = &s->buckets[item->hash & (s->nbuckets - 1)];
    while (*at != NULL && (*at)->seq < item->seq)
        at = &(*at)->next;
    item->next = *at;
    *at = item;
}

static void chain_unlink(world_item_store *s, world_item *item) {
    world_item **at = &s->buckets[item->hash & (s->nbuckets - 1)];
    while (*at != NULL && *at != item)
        at = &(*at)->next;
    if (*at == item)
        *at = item->next;
    item->next = NULL;
}

static int grow_buckets(world_item_store *s) {
    size_t n = s->nbuckets ? s->nbuckets * 2 : 64;
    world_item **b = calloc(n, sizeof *b);
    if (b == NULL)
        return -1;
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = n;
    /* Relinking in insertion order keeps every chain sorted by seq. */
    for (size_t i = 0; i < s->count; i++) {
        s->order[i]->next = NULL;
        chain_link(s, s->order[i]);
    }
    return 0;
}

/* Position of `item` in the order vector (binary search by seq), or count. */
static size_t order_index(const world_item_store *s, const world_item *item) {
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->order[mid]->seq < item->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->count && s->order[lo] == item ? lo : s->count;
}

/* ---- Store ---------------------------------------------------------------------------- */

world_item_store *world_item_store_new(void) {
    world_item_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    if (grow_buckets(s) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void world_item_store_free(world_item_store *s) {
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        sec_item_free(s->order[i]);
    free(s->order);
    free(s->buckets);
    free(s);
}

/* Links without counting a mutation (world_item_plant). */
static int link_item(world_item_store *s, world_item *item) {
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        world_item **grown = realloc(s->order, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        s->order = grown;
        s->cap = cap;
    }
    if ((s->count + 1) * 4 > s->nbuckets * 3 && grow_buckets(s) != 0)
        return -1;
    item->seq = s->next_seq++;
    item->hash = key_hash(item->keychain, item->service, item->account);
    s->order[s->count++] = item;
    chain_link(s, item);
    return 0;
}

int sec_store_insert(world_item_store *s, world_item *item) {
    if (link_item(s, item) != 0)
        return -1;
    item->writes = 1;
    s->mutations++;
    s->version++;
    return 0;
}

void sec_store_remove(world_item_store *s, world_item *item) {
    size_t at = order_index(s, item);
    if (at == s->count)
        return;
    chain_unlink(s, item);
    memmove(&s->order[at], &s->order[at + 1], (s->count - at - 1) * sizeof *s->order);
    s->count--;
    s->mutations++;
    s->version++;
    sec_item_free(item);
}

int sec_store_rekey(world_item_store *s, world_item *item, const char *service,
                    const char *account) {
    char *new_service = service != NULL ? dup_str(service) : NULL;
    char *new_account = account != NULL ? dup_str(account) : NULL;
    if ((service != NULL && new_service == NULL) || (account != NULL && new_account == NULL)) {
        free(new_service);
        free(new_account);
        return -1;
    }
    chain_unlink(s, item);
    if (new_service != NULL) {
        free_owned(item, item->service);
        item->service = new_service;
    }
    if (new_account != NULL) {
        free_owned(item, item->account);
        item->account = new_account;
    }
    item->hash = key_hash(item->keychain, item->service, item->account);
    chain_link(s, item);
    s->version++;
    return 0;
}

void sec_store_note_update(world_item_store *s, world_item *item) {
    item->writes++;
    s->mutations++;
    s->version++;
}

static bool group_equal(const char *a, const char *b) {
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

typedef struct {
    const char *group;
    bool sync;
    bool any_sync;
    world_item *found;
} primary_ctx;

static bool primary_visit(world_item *item, void *context) {
    primary_ctx *c = context;
    if (!group_equal(item->access_group, c->group) ||
        (!c->any_sync && item->synchronizable != c->sync))
        return true;
    c->found = item;
    return false;
}

world_item *sec_store_find_primary(const world_item_store *s, world_keychain kc,
                                   const char *service, const char *account,
                                   const char *access_group, bool synchronizable) {
    primary_ctx c = {access_group, synchronizable, false, NULL};
    sec_store_scan(s, kc, service != NULL ? service : "", account != NULL ? account : "",
                   primary_visit, &c);
    return c.found;
}

void sec_store_scan(const world_item_store *s, world_keychain kc, const char *service,
                    const char *account, sec_store_visit_fn visit, void *context) {
    if (service != NULL && account != NULL) {
        uint64_t h = key_hash(kc, service, account);
        for (world_item *it = s->buckets[h & (s->nbuckets - 1)]; it != NULL;) {
            world_item *next = it->next;
            if (it->hash == h && it->keychain == kc && strcmp(it->service, service) == 0 &&
                strcmp(it->account, account) == 0 && !visit(it, context))
                return;
            it = next;
        }
        return;
    }
    for (size_t i = 0; i < s->count; i++) {
        world_item *it = s->order[i];
        if (it->keychain != kc || (service != NULL && strcmp(it->service, service) != 0) ||
            (account != NULL && strcmp(it->account, account) != 0))
            continue;
        if (!visit(it, context))
            return;
    }
}

/* ---- World: passcode removal ------------------------------------------------------------ */

void world_items_delete_class(world *w, world_class cls) {
    world_item_store *s = world_item_store_of(w);
    if (s == NULL)
        return;
    for (size_t i = s->count; i-- > 0;) {
        world_item *it = s->order[i];
        if (it->keychain == WORLD_KEYCHAIN_DP && it->accessible == cls)
            sec_store_remove(s, it);
    }
}

/* ---- World: inspection and seeding (no prompt, no call, no journal) ------------------------ */

static void view_of(const world_item *it, world_item_view *out) {
    out->keychain = it->keychain;
    out->service = it->service;
    out->account = it->account;
    out->access_group = it->access_group;
    out->accessible = it->accessible;
    out->has_access_control = it->has_access_control;
    out->ac_flags = it->has_access_control ? it->ac_flags : 0;
    out->data = it->data;
    out->data_len = it->data_len;
    out->synchronizable = it->synchronizable;
    out->creator = it->creator;
    out->writes = it->writes;
}

size_t world_item_count(const world *w) {
    const world_item_store *s = world_item_store_of_const(w);
    return s != NULL ? s->count : 0;
}

bool world_item_at(const world *w, size_t index, world_item_view *out) {
    const world_item_store *s = world_item_store_of_const(w);
    if (s == NULL || index >= s->count || out == NULL)
        return false;
    view_of(s->order[index], out);
    return true;
}

bool world_item_find(const world *w, world_keychain kc, const char *service, const char *account,
                     const char *access_group, world_item_view *out) {
    const world_item_store *s = world_item_store_of_const(w);
    if (s == NULL)
        return false;
    primary_ctx c = {kc == WORLD_KEYCHAIN_FILE ? NULL : access_group, false, true, NULL};
    sec_store_scan(s, kc, service != NULL ? service : "", account != NULL ? account : "",
                   primary_visit, &c);
    if (c.found == NULL)
        return false;
    if (out != NULL)
        view_of(c.found, out);
    return true;
}

/* Seeding: the item is stored as given (a file-keychain item never has an
 * access group; a NULL creator trusts every application). The plant is not a
 * write: it counts no mutation, and the item's `writes` is taken from the
 * view. The primary key includes `synchronizable`, as Apple's does. */
int world_item_plant(world *w, const world_item_view *v) {
    world_item_store *s = world_item_store_of(w);
    if (s == NULL || v == NULL || (unsigned)v->accessible >= WORLD_CLASS_COUNT ||
        (v->data == NULL && v->data_len > 0) ||
        (v->keychain != WORLD_KEYCHAIN_DP && v->keychain != WORLD_KEYCHAIN_FILE))
        return -1;
    const char *group = v->keychain == WORLD_KEYCHAIN_DP ? v->access_group : NULL;
    if (sec_store_find_primary(s, v->keychain, v->service, v->account, group, v->synchronizable))
        return -1;
    world_item *it =
        sec_item_new(v->keychain, v->service, v->account, group, NULL, v->data, v->data_len);
    if (it == NULL)
        return -1;
    it->accessible = v->accessible;
    it->has_access_control = v->has_access_control;
    it->ac_flags = v->has_access_control ? v->ac_flags : 0;
    it->synchronizable = v->synchronizable;
    it->writes = v->writes;
    if (sec_item_set_creator(it, v->creator) != 0 || link_item(s, it) != 0) {
        sec_item_free(it);
        return -1;
    }
    s->version++;
    return 0;
}

uint64_t world_item_store_version(const world *w) {
    const world_item_store *s = world_item_store_of_const(w);
    return s != NULL ? s->version : 0;
}

uint64_t world_item_mutations(const world *w) {
    const world_item_store *s = world_item_store_of_const(w);
    return s != NULL ? s->mutations : 0;
}
