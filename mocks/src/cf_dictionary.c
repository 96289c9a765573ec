/* CFDictionary and CFMutableDictionary.
 *
 * Pairs are kept in insertion order (iteration is deterministic, which the
 * journals need) with each key's hash cached. Small dictionaries — query
 * dictionaries have a handful of keys — are searched linearly, comparing
 * cached hashes first; above INDEX_THRESHOLD pairs an open-addressing index
 * of positions makes lookups O(1). Removal keeps the order and rebuilds the
 * index (removal is rare).
 */
#include "cf_internal.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_THRESHOLD 8

typedef struct {
    const void *key;
    const void *value;
    CFHashCode hash;
} dict_entry;

struct __CFDictionary {
    dict_entry *entries; /* insertion order */
    CFIndex count;
    CFIndex allocated;
    uint32_t *index; /* entry position + 1; 0 = empty; NULL while small */
    size_t index_capacity;
    CFDictionaryKeyCallBacks key_callbacks;
    CFDictionaryValueCallBacks value_callbacks;
    bool is_mutable;
    unsigned iterating; /* nesting depth of CFDictionaryApplyFunction */
};

/* ---- Callbacks -------------------------------------------------------------- */

static const void *string_copy_retain(CFAllocatorRef allocator, const void *value) {
    return CFStringCreateCopy(allocator, value);
}

const CFDictionaryKeyCallBacks kCFTypeDictionaryKeyCallBacks = {
    0, cf_type_retain, cf_type_release, CFCopyDescription, CFEqual, CFHash};
const CFDictionaryKeyCallBacks kCFCopyStringDictionaryKeyCallBacks = {
    0, string_copy_retain, cf_type_release, CFCopyDescription, CFEqual, CFHash};
const CFDictionaryValueCallBacks kCFTypeDictionaryValueCallBacks = {
    0, cf_type_retain, cf_type_release, CFCopyDescription, CFEqual};

CFTypeID CFDictionaryGetTypeID(void) { return CF_TYPE_ID_DICTIONARY; }

/* ---- Core ------------------------------------------------------------------------ */

static CFHashCode key_hash(const struct __CFDictionary *d, const void *key) {
    if (d->key_callbacks.hash != NULL) {
        return d->key_callbacks.hash(key);
    }
    return cf_hash_u64((uint64_t)(uintptr_t)key); /* identity: only positions depend on it */
}

static bool keys_equal(const struct __CFDictionary *d, const void *stored, const void *key) {
    return stored == key || (d->key_callbacks.equal != NULL && d->key_callbacks.equal(stored, key));
}

static bool values_equal(const struct __CFDictionary *d, const void *x, const void *y) {
    return x == y || (d->value_callbacks.equal != NULL && x != NULL && y != NULL &&
                      d->value_callbacks.equal(x, y));
}

/* Position of `key` (whose hash is `hash`), or -1. */
static CFIndex find(const struct __CFDictionary *d, const void *key, CFHashCode hash) {
    if (d->index == NULL) {
        for (CFIndex i = 0; i < d->count; i++) {
            if (d->entries[i].hash == hash && keys_equal(d, d->entries[i].key, key)) {
                return i;
            }
        }
        return -1;
    }
    size_t mask = d->index_capacity - 1;
    for (size_t i = (size_t)hash & mask; d->index[i] != 0; i = (i + 1) & mask) {
        const dict_entry *e = &d->entries[d->index[i] - 1];
        if (e->hash == hash && keys_equal(d, e->key, key)) {
            return (CFIndex)d->index[i] - 1;
        }
    }
    return -1;
}

static void index_place(struct __CFDictionary *d, CFIndex position) {
    size_t mask = d->index_capacity - 1;
    size_t i = (size_t)d->entries[position].hash & mask;
    while (d->index[i] != 0) {
        i = (i + 1) & mask;
    }
    d->index[i] = (uint32_t)position + 1;
}

/* (Re)builds the index for the current entries, or drops it when small.
 * Without memory the dictionary simply stays linear. */
static void index_rebuild(struct __CFDictionary *d) {
    free(d->index);
    d->index = NULL;
    d->index_capacity = 0;
    if (d->count <= INDEX_THRESHOLD) {
        return;
    }
    size_t capacity = 32;
    while (capacity < (size_t)d->count * 2 + 2) {
        capacity *= 2;
    }
    d->index = calloc(capacity, sizeof *d->index);
    if (d->index == NULL) {
        return;
    }
    d->index_capacity = capacity;
    for (CFIndex i = 0; i < d->count; i++) {
        index_place(d, i);
    }
}

static bool reserve(struct __CFDictionary *d, CFIndex count) {
    if (count <= d->allocated) {
        return true;
    }
    if (count >= (CFIndex)UINT32_MAX) {
        cf_misuse("CFDictionary too large");
        return false;
    }
    CFIndex allocated = d->allocated * 2 > count ? d->allocated * 2 : count;
    if (allocated < 8) {
        allocated = 8;
    }
    dict_entry *entries = realloc(d->entries, (size_t)allocated * sizeof *entries);
    if (entries == NULL) {
        cf_misuse("out of memory growing a CFDictionary");
        return false;
    }
    d->entries = entries;
    d->allocated = allocated;
    return true;
}

/* Appends a pair known to be absent, retaining key and value. */
static void append_pair(struct __CFDictionary *d, const void *key, const void *value,
                        CFHashCode hash) {
    if (!reserve(d, d->count + 1)) {
        return;
    }
    dict_entry *e = &d->entries[d->count];
    e->key = d->key_callbacks.retain != NULL ? d->key_callbacks.retain(NULL, key) : key;
    e->value = d->value_callbacks.retain != NULL ? d->value_callbacks.retain(NULL, value) : value;
    e->hash = hash;
    d->count++;
    if (d->index != NULL && (size_t)d->count * 2 + 2 <= d->index_capacity) {
        index_place(d, d->count - 1);
    } else if (d->count > INDEX_THRESHOLD) {
        index_rebuild(d);
    }
}

static void release_pair(const struct __CFDictionary *d, const void *key, const void *value) {
    if (d->value_callbacks.release != NULL) {
        d->value_callbacks.release(NULL, value);
    }
    if (d->key_callbacks.release != NULL) {
        d->key_callbacks.release(NULL, key);
    }
}

/* A NULL key cannot be handed to callbacks that act on keys (Apple would
 * crash); likewise a NULL value to a retain callback. */
static bool key_acceptable(const struct __CFDictionary *d, const void *key, const char *function) {
    if (key == NULL && (d->key_callbacks.retain != NULL || d->key_callbacks.hash != NULL ||
                        d->key_callbacks.equal != NULL)) {
        cf_misuse("%s: NULL key for a CFDictionary whose key callbacks need objects", function);
        return false;
    }
    return true;
}

static bool value_acceptable(const struct __CFDictionary *d, const void *value,
                             const char *function) {
    if (value == NULL && d->value_callbacks.retain != NULL) {
        cf_misuse("%s: NULL value for a CFDictionary that retains its values", function);
        return false;
    }
    return true;
}

static struct __CFDictionary *dict_new(const CFDictionaryKeyCallBacks *key_callbacks,
                                       const CFDictionaryValueCallBacks *value_callbacks,
                                       bool is_mutable) {
    struct __CFDictionary *d = cf_object_alloc(&cf_dictionary_class, sizeof *d, false);
    if (d == NULL) {
        return NULL;
    }
    if (key_callbacks != NULL) {
        d->key_callbacks = *key_callbacks;
    }
    if (value_callbacks != NULL) {
        d->value_callbacks = *value_callbacks;
    }
    d->is_mutable = is_mutable;
    return d;
}

static const struct __CFDictionary *dict_cast(CFDictionaryRef dict, const char *function) {
    return cf_cast(dict, CF_TYPE_ID_DICTIONARY, function);
}

/* The dictionary if it may be mutated now; otherwise reports and NULL. */
static struct __CFDictionary *mutable_dict(CFMutableDictionaryRef dict, const char *function) {
    struct __CFDictionary *d = (struct __CFDictionary *)(uintptr_t)dict_cast(dict, function);
    if (d == NULL) {
        return NULL;
    }
    if (!d->is_mutable) {
        cf_misuse("%s called with an immutable CFDictionary object", function);
        return NULL;
    }
    if (d->iterating > 0) {
        cf_misuse("%s called on a CFDictionary during CFDictionaryApplyFunction", function);
        return NULL;
    }
    return d;
}

/* ---- Creation ---------------------------------------------------------------------- */

CFDictionaryRef CFDictionaryCreate(CFAllocatorRef allocator, const void **keys, const void **values,
                                   CFIndex numValues, const CFDictionaryKeyCallBacks *keyCallBacks,
                                   const CFDictionaryValueCallBacks *valueCallBacks) {
    (void)allocator;
    if (numValues < 0 || (numValues > 0 && (keys == NULL || values == NULL))) {
        cf_misuse("CFDictionaryCreate called with %s",
                  numValues < 0 ? "a negative count" : "NULL keys or values");
        return NULL;
    }
    struct __CFDictionary *d = dict_new(keyCallBacks, valueCallBacks, false);
    if (d == NULL) {
        return NULL;
    }
    for (CFIndex i = 0; i < numValues; i++) {
        if (!key_acceptable(d, keys[i], "CFDictionaryCreate") ||
            !value_acceptable(d, values[i], "CFDictionaryCreate")) {
            CFRelease(d);
            return NULL;
        }
    }
    for (CFIndex i = 0; i < numValues; i++) {
        CFHashCode hash = key_hash(d, keys[i]);
        if (find(d, keys[i], hash) < 0) { /* duplicate keys: the first pair wins */
            append_pair(d, keys[i], values[i], hash);
        }
    }
    return d;
}

/* A new dictionary with source's callbacks and pairs, in order. */
static struct __CFDictionary *dict_copy(const struct __CFDictionary *source, bool is_mutable) {
    struct __CFDictionary *d =
        dict_new(&source->key_callbacks, &source->value_callbacks, is_mutable);
    if (d == NULL || !reserve(d, source->count)) {
        if (d != NULL) {
            CFRelease(d);
        }
        return NULL;
    }
    for (CFIndex i = 0; i < source->count; i++) {
        const dict_entry *e = &source->entries[i];
        append_pair(d, e->key, e->value, e->hash);
    }
    return d;
}

CFDictionaryRef CFDictionaryCreateCopy(CFAllocatorRef allocator, CFDictionaryRef theDict) {
    (void)allocator;
    const struct __CFDictionary *source = dict_cast(theDict, "CFDictionaryCreateCopy");
    if (source == NULL) {
        return NULL;
    }
    if (!source->is_mutable) {
        return CFRetain(theDict); /* immutable: the copy is the dictionary itself */
    }
    return dict_copy(source, false);
}

CFMutableDictionaryRef CFDictionaryCreateMutable(CFAllocatorRef allocator, CFIndex capacity,
                                                 const CFDictionaryKeyCallBacks *keyCallBacks,
                                                 const CFDictionaryValueCallBacks *valueCallBacks) {
    (void)allocator;
    if (capacity < 0) {
        cf_misuse("CFDictionaryCreateMutable called with a negative capacity");
        return NULL;
    }
    return dict_new(keyCallBacks, valueCallBacks, true);
}

CFMutableDictionaryRef CFDictionaryCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity,
                                                     CFDictionaryRef theDict) {
    (void)allocator;
    const struct __CFDictionary *source = dict_cast(theDict, "CFDictionaryCreateMutableCopy");
    if (source == NULL) {
        return NULL;
    }
    if (capacity < 0) {
        cf_misuse("CFDictionaryCreateMutableCopy called with a negative capacity");
        return NULL;
    }
    return dict_copy(source, true);
}

/* ---- Queries ------------------------------------------------------------------------ */

CFIndex CFDictionaryGetCount(CFDictionaryRef theDict) {
    const struct __CFDictionary *d = dict_cast(theDict, "CFDictionaryGetCount");
    return d != NULL ? d->count : 0;
}

/* Position of `key` in a valid dictionary, or -1 (also after a misuse). */
static CFIndex lookup(CFDictionaryRef dict, const void *key, const char *function,
                      const struct __CFDictionary **out) {
    const struct __CFDictionary *d = dict_cast(dict, function);
    *out = d;
    if (d == NULL || !key_acceptable(d, key, function)) {
        return -1;
    }
    return find(d, key, key_hash(d, key));
}

const void *CFDictionaryGetValue(CFDictionaryRef theDict, const void *key) {
    const struct __CFDictionary *d;
    CFIndex i = lookup(theDict, key, "CFDictionaryGetValue", &d);
    return i >= 0 ? d->entries[i].value : NULL;
}

Boolean CFDictionaryGetValueIfPresent(CFDictionaryRef theDict, const void *key,
                                      const void **value) {
    const struct __CFDictionary *d;
    CFIndex i = lookup(theDict, key, "CFDictionaryGetValueIfPresent", &d);
    if (i < 0) {
        return false;
    }
    if (value != NULL) {
        *value = d->entries[i].value;
    }
    return true;
}

Boolean CFDictionaryContainsKey(CFDictionaryRef theDict, const void *key) {
    const struct __CFDictionary *d;
    return lookup(theDict, key, "CFDictionaryContainsKey", &d) >= 0;
}

CFIndex CFDictionaryGetCountOfKey(CFDictionaryRef theDict, const void *key) {
    const struct __CFDictionary *d;
    return lookup(theDict, key, "CFDictionaryGetCountOfKey", &d) >= 0 ? 1 : 0;
}

Boolean CFDictionaryContainsValue(CFDictionaryRef theDict, const void *value) {
    const struct __CFDictionary *d = dict_cast(theDict, "CFDictionaryContainsValue");
    if (d == NULL) {
        return false;
    }
    for (CFIndex i = 0; i < d->count; i++) {
        if (values_equal(d, d->entries[i].value, value)) {
            return true;
        }
    }
    return false;
}

void CFDictionaryGetKeysAndValues(CFDictionaryRef theDict, const void **keys, const void **values) {
    const struct __CFDictionary *d = dict_cast(theDict, "CFDictionaryGetKeysAndValues");
    if (d == NULL) {
        return;
    }
    for (CFIndex i = 0; i < d->count; i++) {
        if (keys != NULL) {
            keys[i] = d->entries[i].key;
        }
        if (values != NULL) {
            values[i] = d->entries[i].value;
        }
    }
}

void CFDictionaryApplyFunction(CFDictionaryRef theDict, CFDictionaryApplierFunction applier,
                               void *context) {
    struct __CFDictionary *d =
        (struct __CFDictionary *)(uintptr_t)dict_cast(theDict, "CFDictionaryApplyFunction");
    if (d == NULL) {
        return;
    }
    if (applier == NULL) {
        cf_misuse("CFDictionaryApplyFunction called with a NULL applier");
        return;
    }
    /* Hold a reference so an applier that releases the dictionary cannot
     * free it under the loop; mutations are refused meanwhile. */
    CFRetain(theDict);
    d->iterating++;
    for (CFIndex i = 0; i < d->count; i++) {
        applier(d->entries[i].key, d->entries[i].value, context);
    }
    d->iterating--;
    CFRelease(theDict);
}

/* ---- Mutation ---------------------------------------------------------------------- */

/* Shared by Add/Set/Replace: whether to add when absent / replace when
 * present. */
static void store(CFMutableDictionaryRef dict, const void *key, const void *value, bool add,
                  bool replace, const char *function) {
    struct __CFDictionary *d = mutable_dict(dict, function);
    if (d == NULL || !key_acceptable(d, key, function) || !value_acceptable(d, value, function)) {
        return;
    }
    CFHashCode hash = key_hash(d, key);
    CFIndex i = find(d, key, hash);
    if (i < 0) {
        if (add) {
            append_pair(d, key, value, hash);
        }
        return;
    }
    if (!replace) {
        return;
    }
    const void *old = d->entries[i].value;
    /* Retain the new value before releasing the old: they may be one object
     * whose only reference is the dictionary's. */
    d->entries[i].value =
        d->value_callbacks.retain != NULL ? d->value_callbacks.retain(NULL, value) : value;
    if (d->value_callbacks.release != NULL) {
        d->value_callbacks.release(NULL, old);
    }
}

void CFDictionaryAddValue(CFMutableDictionaryRef theDict, const void *key, const void *value) {
    store(theDict, key, value, true, false, "CFDictionaryAddValue");
}

void CFDictionarySetValue(CFMutableDictionaryRef theDict, const void *key, const void *value) {
    store(theDict, key, value, true, true, "CFDictionarySetValue");
}

void CFDictionaryReplaceValue(CFMutableDictionaryRef theDict, const void *key, const void *value) {
    store(theDict, key, value, false, true, "CFDictionaryReplaceValue");
}

void CFDictionaryRemoveValue(CFMutableDictionaryRef theDict, const void *key) {
    struct __CFDictionary *d = mutable_dict(theDict, "CFDictionaryRemoveValue");
    if (d == NULL || !key_acceptable(d, key, "CFDictionaryRemoveValue")) {
        return;
    }
    CFIndex i = find(d, key, key_hash(d, key));
    if (i < 0) {
        return;
    }
    dict_entry removed = d->entries[i];
    memmove(d->entries + i, d->entries + i + 1, (size_t)(d->count - i - 1) * sizeof *d->entries);
    d->count--;
    if (d->index != NULL) {
        index_rebuild(d);
    }
    /* Last: releasing may run finalizers that look at this dictionary. */
    release_pair(d, removed.key, removed.value);
}

void CFDictionaryRemoveAllValues(CFMutableDictionaryRef theDict) {
    struct __CFDictionary *d = mutable_dict(theDict, "CFDictionaryRemoveAllValues");
    if (d == NULL) {
        return;
    }
    dict_entry *entries = d->entries;
    CFIndex count = d->count;
    d->entries = NULL;
    d->count = 0;
    d->allocated = 0;
    index_rebuild(d);
    for (CFIndex i = 0; i < count; i++) {
        release_pair(d, entries[i].key, entries[i].value);
    }
    free(entries);
}

/* ---- Class --------------------------------------------------------------------------- */

static void dict_finalize(CFTypeRef obj) {
    struct __CFDictionary *d = (struct __CFDictionary *)(uintptr_t)obj;
    for (CFIndex i = 0; i < d->count; i++) {
        release_pair(d, d->entries[i].key, d->entries[i].value);
    }
    free(d->entries);
    free(d->index);
}

static Boolean dict_equal(CFTypeRef x, CFTypeRef y) {
    const struct __CFDictionary *a = x, *b = y;
    if (a->count != b->count) {
        return false;
    }
    for (CFIndex i = 0; i < a->count; i++) {
        const dict_entry *e = &a->entries[i];
        CFIndex j = find(b, e->key, key_hash(b, e->key));
        if (j < 0 || !values_equal(a, e->value, b->entries[j].value)) {
            return false;
        }
    }
    return true;
}

static CFHashCode dict_hash(CFTypeRef obj) {
    /* The count: consistent with any key/value equality. */
    return cf_hash_u64((uint64_t)((const struct __CFDictionary *)obj)->count);
}

static CFStringRef dict_copy_description(CFTypeRef obj) {
    const struct __CFDictionary *d = obj;
    cf_strbuf text = {0};
    cf_strbuf_append_cstr(&text, "{");
    for (CFIndex i = 0; i < d->count; i++) {
        cf_strbuf_append_cstr(&text, i > 0 ? "; " : "");
        cf_strbuf_append_value(&text, d->key_callbacks.copyDescription, d->entries[i].key);
        cf_strbuf_append_cstr(&text, " = ");
        cf_strbuf_append_value(&text, d->value_callbacks.copyDescription, d->entries[i].value);
    }
    cf_strbuf_append_cstr(&text, "}");
    return cf_strbuf_finish(&text);
}

const kc_cf_class cf_dictionary_class = {
    .type_id = CF_TYPE_ID_DICTIONARY,
    .name = "CFDictionary",
    .finalize = dict_finalize,
    .equal = dict_equal,
    .hash = dict_hash,
    .copy_description = dict_copy_description,
};
