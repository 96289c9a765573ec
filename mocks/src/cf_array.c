/* CFArray and CFMutableArray: ordered values, treated as the callbacks say
 * (kCFTypeArrayCallBacks: CF objects, retained; NULL: raw pointers).
 */
#include "cf_internal.h"

#include <stdlib.h>
#include <string.h>

struct __CFArray {
    const void **values;
    CFIndex count;
    CFIndex allocated;
    CFArrayCallBacks callbacks;
    bool is_mutable;
    unsigned iterating; /* nesting depth of CFArrayApplyFunction */
};

const CFArrayCallBacks kCFTypeArrayCallBacks = {0, cf_type_retain, cf_type_release,
                                                CFCopyDescription, CFEqual};

CFTypeID CFArrayGetTypeID(void) { return CF_TYPE_ID_ARRAY; }

static const struct __CFArray *array_cast(CFArrayRef array, const char *function) {
    return cf_cast(array, CF_TYPE_ID_ARRAY, function);
}

/* The array if it may be mutated now; otherwise reports and NULL. */
static struct __CFArray *mutable_array(CFMutableArrayRef array, const char *function) {
    struct __CFArray *a = (struct __CFArray *)(uintptr_t)array_cast(array, function);
    if (a == NULL) {
        return NULL;
    }
    if (!a->is_mutable) {
        cf_misuse("%s called with an immutable CFArray object", function);
        return NULL;
    }
    if (a->iterating > 0) {
        cf_misuse("%s called on a CFArray during CFArrayApplyFunction", function);
        return NULL;
    }
    return a;
}

/* A NULL value cannot be handed to a retain callback (Apple would crash). */
static bool value_acceptable(const struct __CFArray *a, const void *value, const char *function) {
    if (value == NULL && a->callbacks.retain != NULL) {
        cf_misuse("%s: NULL value for a CFArray that retains its values", function);
        return false;
    }
    return true;
}

static struct __CFArray *array_new(const CFArrayCallBacks *callbacks, bool is_mutable,
                                   CFIndex capacity) {
    struct __CFArray *a = cf_object_alloc(&cf_array_class, sizeof *a, false);
    if (a == NULL) {
        return NULL;
    }
    if (callbacks != NULL) {
        a->callbacks = *callbacks;
    }
    a->is_mutable = is_mutable;
    if (capacity > 0 && capacity <= 1024) { /* a hint; never a limit */
        a->values = malloc((size_t)capacity * sizeof *a->values);
        a->allocated = a->values != NULL ? capacity : 0;
    }
    return a;
}

static bool reserve(struct __CFArray *a, CFIndex count) {
    if (count <= a->allocated) {
        return true;
    }
    CFIndex allocated = a->allocated * 2 > count ? a->allocated * 2 : count;
    if (allocated < 8) {
        allocated = 8;
    }
    if ((size_t)allocated > SIZE_MAX / sizeof *a->values) {
        return false;
    }
    const void **values = realloc(a->values, (size_t)allocated * sizeof *values);
    if (values == NULL) {
        cf_misuse("out of memory growing a CFArray");
        return false;
    }
    a->values = values;
    a->allocated = allocated;
    return true;
}

static const void *retain_value(const struct __CFArray *a, const void *value) {
    return a->callbacks.retain != NULL ? a->callbacks.retain(NULL, value) : value;
}

static void release_value(const struct __CFArray *a, const void *value) {
    if (a->callbacks.release != NULL) {
        a->callbacks.release(NULL, value);
    }
}

/* Inserts at idx (0 <= idx <= count, checked by callers). */
static void insert_value(struct __CFArray *a, CFIndex idx, const void *value) {
    if (!reserve(a, a->count + 1)) {
        return;
    }
    memmove(a->values + idx + 1, a->values + idx, (size_t)(a->count - idx) * sizeof *a->values);
    a->values[idx] = retain_value(a, value);
    a->count++;
}

CFArrayRef CFArrayCreate(CFAllocatorRef allocator, const void **values, CFIndex numValues,
                         const CFArrayCallBacks *callBacks) {
    (void)allocator;
    if (numValues < 0 || (values == NULL && numValues > 0)) {
        cf_misuse("CFArrayCreate called with %s",
                  numValues < 0 ? "a negative count" : "NULL values");
        return NULL;
    }
    if (callBacks != NULL && callBacks->retain != NULL) {
        for (CFIndex i = 0; i < numValues; i++) {
            if (values[i] == NULL) {
                cf_misuse("CFArrayCreate: NULL value for a CFArray that retains its values");
                return NULL;
            }
        }
    }
    struct __CFArray *a = array_new(callBacks, false, 0);
    if (a == NULL || !reserve(a, numValues)) {
        if (a != NULL) {
            CFRelease(a);
        }
        return NULL;
    }
    for (CFIndex i = 0; i < numValues; i++) {
        a->values[i] = retain_value(a, values[i]);
    }
    a->count = numValues;
    return a;
}

/* A new array with a's callbacks holding a's values (retained again). */
static struct __CFArray *array_copy(const struct __CFArray *source, bool is_mutable) {
    struct __CFArray *a = array_new(&source->callbacks, is_mutable, 0);
    if (a == NULL || !reserve(a, source->count)) {
        if (a != NULL) {
            CFRelease(a);
        }
        return NULL;
    }
    for (CFIndex i = 0; i < source->count; i++) {
        a->values[i] = retain_value(a, source->values[i]);
    }
    a->count = source->count;
    return a;
}

CFArrayRef CFArrayCreateCopy(CFAllocatorRef allocator, CFArrayRef theArray) {
    (void)allocator;
    const struct __CFArray *source = array_cast(theArray, "CFArrayCreateCopy");
    if (source == NULL) {
        return NULL;
    }
    if (!source->is_mutable) {
        return CFRetain(theArray); /* immutable: the copy is the array itself */
    }
    return array_copy(source, false);
}

CFMutableArrayRef CFArrayCreateMutable(CFAllocatorRef allocator, CFIndex capacity,
                                       const CFArrayCallBacks *callBacks) {
    (void)allocator;
    if (capacity < 0) {
        cf_misuse("CFArrayCreateMutable called with a negative capacity");
        return NULL;
    }
    return array_new(callBacks, true, capacity);
}

CFMutableArrayRef CFArrayCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity,
                                           CFArrayRef theArray) {
    (void)allocator;
    const struct __CFArray *source = array_cast(theArray, "CFArrayCreateMutableCopy");
    if (source == NULL) {
        return NULL;
    }
    if (capacity < 0) {
        cf_misuse("CFArrayCreateMutableCopy called with a negative capacity");
        return NULL;
    }
    return array_copy(source, true);
}

CFIndex CFArrayGetCount(CFArrayRef theArray) {
    const struct __CFArray *a = array_cast(theArray, "CFArrayGetCount");
    return a != NULL ? a->count : 0;
}

const void *CFArrayGetValueAtIndex(CFArrayRef theArray, CFIndex idx) {
    const struct __CFArray *a = array_cast(theArray, "CFArrayGetValueAtIndex");
    if (a == NULL) {
        return NULL;
    }
    if (idx < 0 || idx >= a->count) {
        cf_misuse("CFArrayGetValueAtIndex: index %ld outside a CFArray of count %ld", idx,
                  a->count);
        return NULL;
    }
    return a->values[idx];
}

/* The array if `range` lies within it; otherwise reports and NULL. */
static const struct __CFArray *array_with_range(CFArrayRef array, CFRange range,
                                                const char *function) {
    const struct __CFArray *a = array_cast(array, function);
    if (a != NULL && !cf_range_within(range, a->count)) {
        cf_misuse("%s: range {%ld, %ld} outside a CFArray of count %ld", function, range.location,
                  range.length, a->count);
        return NULL;
    }
    return a;
}

void CFArrayGetValues(CFArrayRef theArray, CFRange range, const void **values) {
    const struct __CFArray *a = array_with_range(theArray, range, "CFArrayGetValues");
    if (a == NULL || range.length == 0) {
        return;
    }
    if (values == NULL) {
        cf_misuse("CFArrayGetValues called with a NULL buffer");
        return;
    }
    memcpy(values, a->values + range.location, (size_t)range.length * sizeof *values);
}

static bool values_equal(const struct __CFArray *a, const void *x, const void *y) {
    return x == y ||
           (a->callbacks.equal != NULL && x != NULL && y != NULL && a->callbacks.equal(x, y));
}

CFIndex CFArrayGetFirstIndexOfValue(CFArrayRef theArray, CFRange range, const void *value) {
    const struct __CFArray *a = array_with_range(theArray, range, "CFArrayGetFirstIndexOfValue");
    if (a == NULL) {
        return kCFNotFound;
    }
    for (CFIndex i = range.location; i < range.location + range.length; i++) {
        if (values_equal(a, a->values[i], value)) {
            return i;
        }
    }
    return kCFNotFound;
}

Boolean CFArrayContainsValue(CFArrayRef theArray, CFRange range, const void *value) {
    const struct __CFArray *a = array_with_range(theArray, range, "CFArrayContainsValue");
    if (a == NULL) {
        return false;
    }
    for (CFIndex i = range.location; i < range.location + range.length; i++) {
        if (values_equal(a, a->values[i], value)) {
            return true;
        }
    }
    return false;
}

void CFArrayApplyFunction(CFArrayRef theArray, CFRange range, CFArrayApplierFunction applier,
                          void *context) {
    struct __CFArray *a =
        (struct __CFArray *)(uintptr_t)array_with_range(theArray, range, "CFArrayApplyFunction");
    if (a == NULL) {
        return;
    }
    if (applier == NULL) {
        cf_misuse("CFArrayApplyFunction called with a NULL applier");
        return;
    }
    /* Hold a reference so an applier that releases the array cannot free it
     * under the loop; mutations are refused meanwhile. */
    CFRetain(theArray);
    a->iterating++;
    for (CFIndex i = range.location; i < range.location + range.length; i++) {
        applier(a->values[i], context);
    }
    a->iterating--;
    CFRelease(theArray);
}

void CFArrayAppendValue(CFMutableArrayRef theArray, const void *value) {
    struct __CFArray *a = mutable_array(theArray, "CFArrayAppendValue");
    if (a != NULL && value_acceptable(a, value, "CFArrayAppendValue")) {
        insert_value(a, a->count, value);
    }
}

void CFArrayInsertValueAtIndex(CFMutableArrayRef theArray, CFIndex idx, const void *value) {
    struct __CFArray *a = mutable_array(theArray, "CFArrayInsertValueAtIndex");
    if (a == NULL || !value_acceptable(a, value, "CFArrayInsertValueAtIndex")) {
        return;
    }
    if (idx < 0 || idx > a->count) {
        cf_misuse("CFArrayInsertValueAtIndex: index %ld outside a CFArray of count %ld", idx,
                  a->count);
        return;
    }
    insert_value(a, idx, value);
}

void CFArraySetValueAtIndex(CFMutableArrayRef theArray, CFIndex idx, const void *value) {
    struct __CFArray *a = mutable_array(theArray, "CFArraySetValueAtIndex");
    if (a == NULL || !value_acceptable(a, value, "CFArraySetValueAtIndex")) {
        return;
    }
    if (idx < 0 || idx > a->count) {
        cf_misuse("CFArraySetValueAtIndex: index %ld outside a CFArray of count %ld", idx,
                  a->count);
        return;
    }
    if (idx == a->count) {
        insert_value(a, idx, value);
        return;
    }
    const void *old = a->values[idx];
    a->values[idx] = retain_value(a, value); /* before releasing: they may be the same */
    release_value(a, old);
}

void CFArrayRemoveValueAtIndex(CFMutableArrayRef theArray, CFIndex idx) {
    struct __CFArray *a = mutable_array(theArray, "CFArrayRemoveValueAtIndex");
    if (a == NULL) {
        return;
    }
    if (idx < 0 || idx >= a->count) {
        cf_misuse("CFArrayRemoveValueAtIndex: index %ld outside a CFArray of count %ld", idx,
                  a->count);
        return;
    }
    const void *old = a->values[idx];
    memmove(a->values + idx, a->values + idx + 1, (size_t)(a->count - idx - 1) * sizeof *a->values);
    a->count--;
    release_value(a, old); /* last: a release callback may look at the array */
}

void CFArrayRemoveAllValues(CFMutableArrayRef theArray) {
    struct __CFArray *a = mutable_array(theArray, "CFArrayRemoveAllValues");
    if (a == NULL) {
        return;
    }
    const void **values = a->values;
    CFIndex count = a->count;
    a->values = NULL;
    a->count = 0;
    a->allocated = 0;
    for (CFIndex i = 0; i < count; i++) {
        release_value(a, values[i]);
    }
    free(values);
}

void CFArrayAppendArray(CFMutableArrayRef theArray, CFArrayRef otherArray, CFRange otherRange) {
    struct __CFArray *a = mutable_array(theArray, "CFArrayAppendArray");
    const struct __CFArray *other = array_with_range(otherArray, otherRange, "CFArrayAppendArray");
    if (a == NULL || other == NULL) {
        return;
    }
    for (CFIndex i = otherRange.location; i < otherRange.location + otherRange.length; i++) {
        if (!value_acceptable(a, other->values[i], "CFArrayAppendArray")) {
            return;
        }
    }
    if (!reserve(a, a->count + otherRange.length)) {
        return;
    }
    /* Indexes stay valid when appending an array to itself: values only grow. */
    for (CFIndex i = 0; i < otherRange.length; i++) {
        a->values[a->count] = retain_value(a, other->values[otherRange.location + i]);
        a->count++;
    }
}

/* ---- Class ---------------------------------------------------------------------- */

static void array_finalize(CFTypeRef obj) {
    struct __CFArray *a = (struct __CFArray *)(uintptr_t)obj;
    for (CFIndex i = 0; i < a->count; i++) {
        release_value(a, a->values[i]);
    }
    free(a->values);
}

static Boolean array_equal(CFTypeRef x, CFTypeRef y) {
    const struct __CFArray *a = x, *b = y;
    if (a->count != b->count) {
        return false;
    }
    for (CFIndex i = 0; i < a->count; i++) {
        if (!values_equal(a, a->values[i], b->values[i])) {
            return false;
        }
    }
    return true;
}

static CFHashCode array_hash(CFTypeRef obj) {
    /* The count: consistent with any element equality. */
    return cf_hash_u64((uint64_t)((const struct __CFArray *)obj)->count);
}

static CFStringRef array_copy_description(CFTypeRef obj) {
    const struct __CFArray *a = obj;
    cf_strbuf text = {0};
    cf_strbuf_append_cstr(&text, "(");
    for (CFIndex i = 0; i < a->count; i++) {
        if (i > 0) {
            cf_strbuf_append_cstr(&text, ", ");
        }
        cf_strbuf_append_value(&text, a->callbacks.copyDescription, a->values[i]);
    }
    cf_strbuf_append_cstr(&text, ")");
    return cf_strbuf_finish(&text);
}

const kc_cf_class cf_array_class = {
    .type_id = CF_TYPE_ID_ARRAY,
    .name = "CFArray",
    .finalize = array_finalize,
    .equal = array_equal,
    .hash = array_hash,
    .copy_description = array_copy_description,
};
