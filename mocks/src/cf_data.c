/* CFData and CFMutableData: byte buffers compared and hashed by content.
 *
 * Immutable data keeps its bytes in the object's own allocation; mutable
 * data owns a separate, growing buffer (so CFDataGetBytePtr of mutable data
 * is invalidated by growth, as on macOS).
 */
#include "cf_internal.h"

#include <stdlib.h>
#include <string.h>

struct __CFData {
    UInt8 *bytes; /* never NULL */
    CFIndex length;
    CFIndex allocated;  /* usable bytes at `bytes` (mutable only) */
    CFIndex max_length; /* mutable capacity limit; 0 = unlimited */
    bool is_mutable;
};

/* Far beyond any test's needs; keeps size arithmetic overflow-free. */
#define DATA_LENGTH_LIMIT ((CFIndex)1 << 40)

CFTypeID CFDataGetTypeID(void) { return CF_TYPE_ID_DATA; }

static const struct __CFData *data_cast(CFDataRef data, const char *function) {
    return cf_cast(data, CF_TYPE_ID_DATA, function);
}

/* The data if it is a valid, mutable CFData; otherwise reports and NULL. */
static struct __CFData *mutable_data(CFMutableDataRef data, const char *function) {
    struct __CFData *d = (struct __CFData *)(uintptr_t)data_cast(data, function);
    if (d != NULL && !d->is_mutable) {
        cf_misuse("%s called with an immutable CFData object", function);
        return NULL;
    }
    return d;
}

CFDataRef CFDataCreate(CFAllocatorRef allocator, const UInt8 *bytes, CFIndex length) {
    (void)allocator;
    if (length < 0 || length > DATA_LENGTH_LIMIT || (bytes == NULL && length > 0)) {
        cf_misuse("CFDataCreate called with %s",
                  bytes == NULL && length > 0 ? "NULL bytes" : "an invalid length");
        return NULL;
    }
    struct __CFData *d =
        cf_object_alloc(&cf_data_class, sizeof(struct __CFData) + (size_t)length + 1, false);
    if (d == NULL) {
        return NULL;
    }
    d->bytes = (UInt8 *)(d + 1);
    if (length > 0) {
        memcpy(d->bytes, bytes, (size_t)length);
    }
    d->length = length;
    return d;
}

CFDataRef CFDataCreateCopy(CFAllocatorRef allocator, CFDataRef theData) {
    const struct __CFData *d = data_cast(theData, "CFDataCreateCopy");
    if (d == NULL) {
        return NULL;
    }
    if (!d->is_mutable) {
        return CFRetain(theData); /* immutable: the copy is the data itself */
    }
    return CFDataCreate(allocator, d->bytes, d->length);
}

static struct __CFData *mutable_new(CFIndex capacity, CFIndex initial) {
    struct __CFData *d = cf_object_alloc(&cf_data_class, sizeof(struct __CFData), false);
    if (d == NULL) {
        return NULL;
    }
    d->allocated = initial > 16 ? initial : 16;
    d->bytes = malloc((size_t)d->allocated);
    if (d->bytes == NULL) {
        d->allocated = 0;
        d->bytes = (UInt8 *)(d + 1); /* a harmless pointer for the finalizer */
        CFRelease(d);
        return NULL;
    }
    d->max_length = capacity;
    d->is_mutable = true;
    return d;
}

CFMutableDataRef CFDataCreateMutable(CFAllocatorRef allocator, CFIndex capacity) {
    (void)allocator;
    if (capacity < 0 || capacity > DATA_LENGTH_LIMIT) {
        cf_misuse("CFDataCreateMutable called with an invalid capacity");
        return NULL;
    }
    return mutable_new(capacity, 0);
}

CFMutableDataRef CFDataCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity,
                                         CFDataRef theData) {
    (void)allocator;
    const struct __CFData *source = data_cast(theData, "CFDataCreateMutableCopy");
    if (source == NULL) {
        return NULL;
    }
    if (capacity < 0 || capacity > DATA_LENGTH_LIMIT ||
        (capacity > 0 && capacity < source->length)) {
        cf_misuse("CFDataCreateMutableCopy called with a capacity below the data's length");
        return NULL;
    }
    struct __CFData *d = mutable_new(capacity, source->length);
    if (d == NULL) {
        return NULL;
    }
    if (source->length > 0) {
        memcpy(d->bytes, source->bytes, (size_t)source->length);
    }
    d->length = source->length;
    return d;
}

CFIndex CFDataGetLength(CFDataRef theData) {
    const struct __CFData *d = data_cast(theData, "CFDataGetLength");
    return d != NULL ? d->length : 0;
}

const UInt8 *CFDataGetBytePtr(CFDataRef theData) {
    const struct __CFData *d = data_cast(theData, "CFDataGetBytePtr");
    return d != NULL ? d->bytes : NULL;
}

UInt8 *CFDataGetMutableBytePtr(CFMutableDataRef theData) {
    struct __CFData *d = mutable_data(theData, "CFDataGetMutableBytePtr");
    return d != NULL ? d->bytes : NULL;
}

void CFDataGetBytes(CFDataRef theData, CFRange range, UInt8 *buffer) {
    const struct __CFData *d = data_cast(theData, "CFDataGetBytes");
    if (d == NULL) {
        return;
    }
    if (!cf_range_within(range, d->length)) {
        cf_misuse("CFDataGetBytes: range {%ld, %ld} outside a CFData of length %ld", range.location,
                  range.length, d->length);
        return;
    }
    if (range.length > 0) {
        if (buffer == NULL) {
            cf_misuse("CFDataGetBytes called with a NULL buffer");
            return;
        }
        memcpy(buffer, d->bytes + range.location, (size_t)range.length);
    }
}

/* May `d` hold `length` bytes? Reports why not. */
static bool length_allowed(const struct __CFData *d, CFIndex length, const char *function) {
    if (length < 0 || length > DATA_LENGTH_LIMIT) {
        cf_misuse("%s: invalid CFData length %ld", function, length);
        return false;
    }
    if (d->max_length > 0 && length > d->max_length) {
        cf_misuse("%s: length %ld exceeds the capacity %ld of a CFData object", function, length,
                  d->max_length);
        return false;
    }
    return true;
}

static bool reserve(struct __CFData *d, CFIndex length) {
    if (length <= d->allocated) {
        return true;
    }
    CFIndex allocated = d->allocated * 2 > length ? d->allocated * 2 : length;
    UInt8 *bytes = realloc(d->bytes, (size_t)allocated);
    if (bytes == NULL) {
        cf_misuse("out of memory growing a CFData object to %ld bytes", length);
        return false;
    }
    d->bytes = bytes;
    d->allocated = allocated;
    return true;
}

/* Replaces d[range] with new_length bytes; the source may alias d's buffer. */
static void replace_bytes(struct __CFData *d, CFRange range, const UInt8 *new_bytes,
                          CFIndex new_length, const char *function) {
    if (!cf_range_within(range, d->length)) {
        cf_misuse("%s: range {%ld, %ld} outside a CFData of length %ld", function, range.location,
                  range.length, d->length);
        return;
    }
    if (new_length < 0 || (new_bytes == NULL && new_length > 0)) {
        cf_misuse("%s called with %s", function,
                  new_length < 0 ? "a negative length" : "NULL bytes");
        return;
    }
    if (new_length > DATA_LENGTH_LIMIT) {
        cf_misuse("%s: invalid CFData length %ld", function, new_length);
        return;
    }
    CFIndex total = d->length - range.length + new_length;
    if (!length_allowed(d, total, function)) {
        return;
    }
    /* Growing may move the buffer: copy a source that lives inside it first. */
    UInt8 *copy = NULL;
    uintptr_t source = (uintptr_t)new_bytes, start = (uintptr_t)d->bytes;
    if (new_length > 0 && source >= start && source < start + (uintptr_t)d->allocated) {
        copy = malloc((size_t)new_length);
        if (copy == NULL) {
            cf_misuse("out of memory in %s", function);
            return;
        }
        memcpy(copy, new_bytes, (size_t)new_length);
        new_bytes = copy;
    }
    if (reserve(d, total)) {
        CFIndex tail = d->length - range.location - range.length;
        memmove(d->bytes + range.location + new_length, d->bytes + range.location + range.length,
                (size_t)tail);
        if (new_length > 0) {
            memcpy(d->bytes + range.location, new_bytes, (size_t)new_length);
        }
        d->length = total;
    }
    free(copy);
}

void CFDataSetLength(CFMutableDataRef theData, CFIndex length) {
    struct __CFData *d = mutable_data(theData, "CFDataSetLength");
    if (d == NULL || !length_allowed(d, length, "CFDataSetLength") || !reserve(d, length)) {
        return;
    }
    if (length > d->length) {
        memset(d->bytes + d->length, 0, (size_t)(length - d->length));
    }
    d->length = length;
}

void CFDataIncreaseLength(CFMutableDataRef theData, CFIndex extraLength) {
    struct __CFData *d = mutable_data(theData, "CFDataIncreaseLength");
    if (d == NULL) {
        return;
    }
    if (extraLength < 0 || extraLength > DATA_LENGTH_LIMIT) {
        cf_misuse("CFDataIncreaseLength called with an invalid length %ld", extraLength);
        return;
    }
    CFDataSetLength(theData, d->length + extraLength);
}

void CFDataAppendBytes(CFMutableDataRef theData, const UInt8 *bytes, CFIndex length) {
    struct __CFData *d = mutable_data(theData, "CFDataAppendBytes");
    if (d != NULL) {
        replace_bytes(d, CFRangeMake(d->length, 0), bytes, length, "CFDataAppendBytes");
    }
}

void CFDataReplaceBytes(CFMutableDataRef theData, CFRange range, const UInt8 *newBytes,
                        CFIndex newLength) {
    struct __CFData *d = mutable_data(theData, "CFDataReplaceBytes");
    if (d != NULL) {
        replace_bytes(d, range, newBytes, newLength, "CFDataReplaceBytes");
    }
}

void CFDataDeleteBytes(CFMutableDataRef theData, CFRange range) {
    struct __CFData *d = mutable_data(theData, "CFDataDeleteBytes");
    if (d != NULL) {
        replace_bytes(d, range, NULL, 0, "CFDataDeleteBytes");
    }
}

/* ---- Class ------------------------------------------------------------------- */

static void data_finalize(CFTypeRef obj) {
    struct __CFData *d = (struct __CFData *)(uintptr_t)obj;
    if (d->is_mutable) {
        free(d->bytes);
    }
}

static Boolean data_equal(CFTypeRef a, CFTypeRef b) {
    const struct __CFData *x = a, *y = b;
    return x->length == y->length && memcmp(x->bytes, y->bytes, (size_t)x->length) == 0;
}

static CFHashCode data_hash(CFTypeRef obj) {
    const struct __CFData *d = obj;
    return cf_hash_bytes(d->bytes, (size_t)d->length);
}

static CFStringRef data_copy_description(CFTypeRef obj) {
    const struct __CFData *d = obj;
    enum { SHOWN = 32 }; /* enough to recognise a value, short enough for a journal */
    cf_strbuf text = {0};
    cf_strbuf_appendf(&text, "<CFData length=%ld bytes=0x", d->length);
    for (CFIndex i = 0; i < d->length && i < SHOWN; i++) {
        cf_strbuf_appendf(&text, "%02x", d->bytes[i]);
    }
    cf_strbuf_append_cstr(&text, d->length > SHOWN ? "...>" : ">");
    return cf_strbuf_finish(&text);
}

const kc_cf_class cf_data_class = {
    .type_id = CF_TYPE_ID_DATA,
    .name = "CFData",
    .finalize = data_finalize,
    .equal = data_equal,
    .hash = data_hash,
    .copy_description = data_copy_description,
};
