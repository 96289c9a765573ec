/* CFString: immutable strings stored as validated UTF-8, the CFSTR intern
 * table, and the text buffer used to build descriptions.
 *
 * Why UTF-8 inside: keychain code moves C strings in and out; UTF-8 makes
 * CFStringGetCStringPtr free and lets byte order double as code point order.
 * The UTF-16 length is computed once at creation so CFStringGetLength
 * matches Apple.
 */
#include "cf_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ------------------------------------------------------------------ */

typedef struct {
    CFIndex utf16_length;
    bool is_ascii;
    bool has_nul;
} utf8_info;

/* Strict validation (no overlongs, no surrogates, nothing above U+10FFFF),
 * measuring the text on the way. */
static bool utf8_scan(const unsigned char *s, size_t n, utf8_info *info) {
    utf8_info result = {0, true, false};
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            result.has_nul |= (c == 0);
            result.utf16_length++;
            i++;
            continue;
        }
        result.is_ascii = false;
        size_t trail;
        unsigned char low = 0x80, high = 0xBF; /* allowed range of the 2nd byte */
        if (c >= 0xC2 && c <= 0xDF) {
            trail = 1;
        } else if (c == 0xE0) {
            trail = 2, low = 0xA0;
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
            trail = 2;
        } else if (c == 0xED) {
            trail = 2, high = 0x9F; /* excludes UTF-16 surrogates */
        } else if (c == 0xF0) {
            trail = 3, low = 0x90;
        } else if (c >= 0xF1 && c <= 0xF3) {
            trail = 3;
        } else if (c == 0xF4) {
            trail = 3, high = 0x8F;
        } else {
            return false;
        }
        if (n - i - 1 < trail || s[i + 1] < low || s[i + 1] > high) {
            return false;
        }
        for (size_t k = 2; k <= trail; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        result.utf16_length += (trail == 3) ? 2 : 1; /* 4-byte sequences need a pair */
        i += trail + 1;
    }
    *info = result;
    return true;
}

/* Decodes one code point of already validated UTF-8 at s[*i]. */
static uint32_t utf8_next(const unsigned char *s, size_t *i) {
    unsigned char c = s[*i];
    if (c < 0x80) {
        *i += 1;
        return c;
    }
    size_t trail = (c >= 0xF0) ? 3 : (c >= 0xE0) ? 2 : 1;
    uint32_t cp = c & (0x3F >> trail);
    for (size_t k = 1; k <= trail; k++) {
        cp = (cp << 6) | (s[*i + k] & 0x3F);
    }
    *i += trail + 1;
    return cp;
}

/* ---- Construction -------------------------------------------------------------- */

static bool encoding_supported(CFStringEncoding encoding) {
    return encoding == kCFStringEncodingUTF8 || encoding == kCFStringEncodingASCII ||
           encoding == kCFStringEncodingISOLatin1;
}

/* A string holding a copy of `length` UTF-8 bytes, in the same allocation.
 * NULL if the bytes are not valid UTF-8 or memory runs out. */
static struct __CFString *string_new(const char *bytes, size_t length, bool immortal) {
    utf8_info info;
    if (!utf8_scan((const unsigned char *)bytes, length, &info)) {
        return NULL;
    }
    if (length > SIZE_MAX / 2) {
        return NULL;
    }
    struct __CFString *string =
        cf_object_alloc(&cf_string_class, sizeof(struct __CFString) + length + 1, immortal);
    if (string == NULL) {
        return NULL;
    }
    char *text = (char *)(string + 1);
    if (length > 0) {
        memcpy(text, bytes, length);
    }
    text[length] = '\0';
    string->utf8 = text;
    string->byte_length = (CFIndex)length;
    string->utf16_length = info.utf16_length;
    string->hash = cf_hash_bytes(text, length);
    string->is_ascii = info.is_ascii;
    string->has_nul = info.has_nul;
    return string;
}

CFStringRef cf_string_create_utf8(const char *bytes, size_t length) {
    return string_new(bytes, length, false);
}

/* Creates from bytes in a supported single-byte encoding or UTF-8. */
static CFStringRef string_create_encoded(const UInt8 *bytes, size_t length,
                                         CFStringEncoding encoding, bool external,
                                         const char *function) {
    if (!encoding_supported(encoding)) {
        cf_misuse("%s: unsupported string encoding 0x%lx", function, (unsigned long)encoding);
        return NULL;
    }
    const char *text = (const char *)bytes;
    if (encoding == kCFStringEncodingUTF8) {
        if (external && length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) {
            text += 3, length -= 3; /* byte order mark */
        }
        return string_new(text, length, false);
    }
    if (encoding == kCFStringEncodingASCII) {
        for (size_t i = 0; i < length; i++) {
            if (bytes[i] >= 0x80) {
                return NULL;
            }
        }
        return string_new(text, length, false);
    }
    /* ISO Latin-1: every byte is the code point of the same value. */
    if (length > SIZE_MAX / 2) {
        return NULL;
    }
    char *utf8 = malloc(length * 2 + 1);
    if (utf8 == NULL) {
        return NULL;
    }
    size_t out = 0;
    for (size_t i = 0; i < length; i++) {
        if (bytes[i] < 0x80) {
            utf8[out++] = (char)bytes[i];
        } else {
            utf8[out++] = (char)(0xC0 | (bytes[i] >> 6));
            utf8[out++] = (char)(0x80 | (bytes[i] & 0x3F));
        }
    }
    CFStringRef string = string_new(utf8, out, false);
    free(utf8);
    return string;
}

CFTypeID CFStringGetTypeID(void) { return CF_TYPE_ID_STRING; }

CFStringRef CFStringCreateWithCString(CFAllocatorRef alloc, const char *cStr,
                                      CFStringEncoding encoding) {
    (void)alloc;
    if (cStr == NULL) {
        cf_misuse("CFStringCreateWithCString called with NULL");
        return NULL;
    }
    return string_create_encoded((const UInt8 *)cStr, strlen(cStr), encoding, false,
                                 "CFStringCreateWithCString");
}

CFStringRef CFStringCreateWithBytes(CFAllocatorRef alloc, const UInt8 *bytes, CFIndex numBytes,
                                    CFStringEncoding encoding, Boolean isExternalRepresentation) {
    (void)alloc;
    if (numBytes < 0 || (bytes == NULL && numBytes > 0)) {
        cf_misuse("CFStringCreateWithBytes called with %s",
                  numBytes < 0 ? "a negative length" : "NULL bytes");
        return NULL;
    }
    static const UInt8 empty[1] = {0};
    return string_create_encoded(bytes != NULL ? bytes : empty, (size_t)numBytes, encoding,
                                 isExternalRepresentation, "CFStringCreateWithBytes");
}

CFStringRef CFStringCreateCopy(CFAllocatorRef alloc, CFStringRef theString) {
    (void)alloc;
    if (cf_cast(theString, CF_TYPE_ID_STRING, "CFStringCreateCopy") == NULL) {
        return NULL;
    }
    return CFRetain(theString); /* immutable: the copy is the string itself */
}

/* ---- CFSTR intern table ---------------------------------------------------------
 * Open addressing keyed by the text; holds immortal strings only. */

static struct __CFString **intern_slots;
static size_t intern_capacity; /* power of two, or 0 */
static size_t intern_used;

static struct __CFString *intern_find(const char *text, size_t length, CFHashCode hash) {
    if (intern_capacity == 0) {
        return NULL;
    }
    size_t mask = intern_capacity - 1;
    for (size_t i = (size_t)hash & mask; intern_slots[i] != NULL; i = (i + 1) & mask) {
        struct __CFString *s = intern_slots[i];
        if (s->hash == hash && (size_t)s->byte_length == length &&
            memcmp(s->utf8, text, length) == 0) {
            return s;
        }
    }
    return NULL;
}

static void intern_insert(struct __CFString *string) {
    if ((intern_used + 1) * 2 > intern_capacity) {
        size_t capacity = intern_capacity ? intern_capacity * 2 : 128;
        struct __CFString **slots = calloc(capacity, sizeof *slots);
        if (slots == NULL) {
            return; /* the string still works; it just is not shared */
        }
        for (size_t i = 0; i < intern_capacity; i++) {
            if (intern_slots[i] != NULL) {
                size_t j = (size_t)intern_slots[i]->hash & (capacity - 1);
                while (slots[j] != NULL) {
                    j = (j + 1) & (capacity - 1);
                }
                slots[j] = intern_slots[i];
            }
        }
        free(intern_slots);
        intern_slots = slots;
        intern_capacity = capacity;
    }
    size_t j = (size_t)string->hash & (intern_capacity - 1);
    while (intern_slots[j] != NULL) {
        j = (j + 1) & (intern_capacity - 1);
    }
    intern_slots[j] = string;
    intern_used++;
}

CFStringRef __CFStringMakeConstantString(const char *cStr) {
    cf_runtime_ensure_init(); /* static constants are interned first */
    if (cStr == NULL) {
        cf_misuse("CFSTR called with NULL");
        return NULL;
    }
    size_t length = strlen(cStr);
    CFHashCode hash = cf_hash_bytes(cStr, length);
    struct __CFString *string = intern_find(cStr, length, hash);
    if (string != NULL) {
        return string;
    }
    string = string_new(cStr, length, true);
    if (string == NULL) {
        cf_misuse("CFSTR called with invalid UTF-8");
        return NULL;
    }
    intern_insert(string);
    return string;
}

void cf_string_register_static(struct __CFString *string) {
    size_t length = strlen(string->utf8);
    utf8_info info = {0, true, false};
    utf8_scan((const unsigned char *)string->utf8, length, &info); /* ASCII by contract */
    string->byte_length = (CFIndex)length;
    string->utf16_length = info.utf16_length;
    string->hash = cf_hash_bytes(string->utf8, length);
    string->is_ascii = info.is_ascii;
    string->has_nul = false;
    cf_register_static(string);
    if (intern_find(string->utf8, length, string->hash) == NULL) {
        intern_insert(string);
    }
}

/* ---- Access ---------------------------------------------------------------------- */

static const struct __CFString *string_cast(CFStringRef string, const char *function) {
    return cf_cast(string, CF_TYPE_ID_STRING, function);
}

CFIndex CFStringGetLength(CFStringRef theString) {
    const struct __CFString *s = string_cast(theString, "CFStringGetLength");
    return s != NULL ? s->utf16_length : 0;
}

CFIndex CFStringGetMaximumSizeForEncoding(CFIndex length, CFStringEncoding encoding) {
    if (!encoding_supported(encoding)) {
        cf_misuse("CFStringGetMaximumSizeForEncoding: unsupported string encoding 0x%lx",
                  (unsigned long)encoding);
        return kCFNotFound;
    }
    if (length < 0) {
        return kCFNotFound;
    }
    if (encoding != kCFStringEncodingUTF8) {
        return length;
    }
    return length > LONG_MAX / 3 ? kCFNotFound : length * 3;
}

/* Writes the string in ASCII (max 0x7F) or Latin-1 (max 0xFF), one byte per
 * code point, into out[0..capacity). Characters above `max` become lossByte,
 * or fail the call when lossByte is 0. */
static bool encode_single_byte(const struct __CFString *s, uint32_t max, UInt8 lossByte, char *out,
                               size_t capacity, size_t *written) {
    const unsigned char *text = (const unsigned char *)s->utf8;
    size_t n = 0;
    for (size_t i = 0; i < (size_t)s->byte_length;) {
        uint32_t cp = utf8_next(text, &i);
        if (cp > max && lossByte == 0) {
            return false;
        }
        if (n == capacity) {
            return false;
        }
        out[n++] = (char)(cp > max ? lossByte : cp);
    }
    *written = n;
    return true;
}

Boolean CFStringGetCString(CFStringRef theString, char *buffer, CFIndex bufferSize,
                           CFStringEncoding encoding) {
    const struct __CFString *s = string_cast(theString, "CFStringGetCString");
    if (bufferSize <= 0) {
        return false;
    }
    if (buffer == NULL) {
        cf_misuse("CFStringGetCString called with a NULL buffer");
        return false;
    }
    buffer[0] = '\0';
    if (s == NULL) {
        return false;
    }
    if (!encoding_supported(encoding)) {
        cf_misuse("CFStringGetCString: unsupported string encoding 0x%lx", (unsigned long)encoding);
        return false;
    }
    if (s->has_nul) {
        return false; /* a C string cannot hold U+0000 */
    }
    if (encoding == kCFStringEncodingUTF8) {
        if (s->byte_length >= bufferSize) {
            return false;
        }
        memcpy(buffer, s->utf8, (size_t)s->byte_length + 1);
        return true;
    }
    uint32_t max = encoding == kCFStringEncodingASCII ? 0x7F : 0xFF;
    size_t written = 0;
    if (!encode_single_byte(s, max, 0, buffer, (size_t)bufferSize - 1, &written)) {
        buffer[0] = '\0';
        return false;
    }
    buffer[written] = '\0';
    return true;
}

const char *CFStringGetCStringPtr(CFStringRef theString, CFStringEncoding encoding) {
    const struct __CFString *s = string_cast(theString, "CFStringGetCStringPtr");
    if (s == NULL || s->has_nul) {
        return NULL;
    }
    if (encoding == kCFStringEncodingUTF8) {
        return s->utf8;
    }
    if ((encoding == kCFStringEncodingASCII || encoding == kCFStringEncodingISOLatin1) &&
        s->is_ascii) {
        return s->utf8;
    }
    return NULL;
}

static unsigned char ascii_fold(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

CFComparisonResult CFStringCompare(CFStringRef theString1, CFStringRef theString2,
                                   CFStringCompareFlags compareOptions) {
    const struct __CFString *a = string_cast(theString1, "CFStringCompare");
    const struct __CFString *b = string_cast(theString2, "CFStringCompare");
    if (a == NULL || b == NULL) {
        return kCFCompareEqualTo;
    }
    const CFStringCompareFlags ignored =
        kCFCompareNonliteral | kCFCompareLocalized | kCFCompareForcedOrdering;
    CFStringCompareFlags unsupported = compareOptions & ~(ignored | kCFCompareCaseInsensitive);
    if (unsupported != 0) {
        cf_misuse("CFStringCompare: unsupported options 0x%lx ignored", unsupported);
    }
    bool fold = (compareOptions & kCFCompareCaseInsensitive) != 0;
    const unsigned char *p = (const unsigned char *)a->utf8;
    const unsigned char *q = (const unsigned char *)b->utf8;
    size_t n = (size_t)(a->byte_length < b->byte_length ? a->byte_length : b->byte_length);
    for (size_t i = 0; i < n; i++) {
        /* UTF-8 byte order is code point order. */
        unsigned char x = fold ? ascii_fold(p[i]) : p[i];
        unsigned char y = fold ? ascii_fold(q[i]) : q[i];
        if (x != y) {
            return x < y ? kCFCompareLessThan : kCFCompareGreaterThan;
        }
    }
    if (a->byte_length == b->byte_length) {
        return kCFCompareEqualTo;
    }
    return a->byte_length < b->byte_length ? kCFCompareLessThan : kCFCompareGreaterThan;
}

Boolean CFStringHasPrefix(CFStringRef theString, CFStringRef prefix) {
    const struct __CFString *s = string_cast(theString, "CFStringHasPrefix");
    const struct __CFString *p = string_cast(prefix, "CFStringHasPrefix");
    return s != NULL && p != NULL && p->byte_length <= s->byte_length &&
           memcmp(s->utf8, p->utf8, (size_t)p->byte_length) == 0;
}

Boolean CFStringHasSuffix(CFStringRef theString, CFStringRef suffix) {
    const struct __CFString *s = string_cast(theString, "CFStringHasSuffix");
    const struct __CFString *p = string_cast(suffix, "CFStringHasSuffix");
    return s != NULL && p != NULL && p->byte_length <= s->byte_length &&
           memcmp(s->utf8 + (s->byte_length - p->byte_length), p->utf8, (size_t)p->byte_length) ==
               0;
}

CFDataRef CFStringCreateExternalRepresentation(CFAllocatorRef alloc, CFStringRef theString,
                                               CFStringEncoding encoding, UInt8 lossByte) {
    const struct __CFString *s = string_cast(theString, "CFStringCreateExternalRepresentation");
    if (s == NULL) {
        return NULL;
    }
    if (!encoding_supported(encoding)) {
        cf_misuse("CFStringCreateExternalRepresentation: unsupported string encoding 0x%lx",
                  (unsigned long)encoding);
        return NULL;
    }
    if (encoding == kCFStringEncodingUTF8) {
        return CFDataCreate(alloc, (const UInt8 *)s->utf8, s->byte_length);
    }
    char *bytes = malloc((size_t)s->byte_length + 1); /* >= one byte per code point */
    if (bytes == NULL) {
        return NULL;
    }
    size_t written = 0;
    uint32_t max = encoding == kCFStringEncodingASCII ? 0x7F : 0xFF;
    CFDataRef data = NULL;
    if (encode_single_byte(s, max, lossByte, bytes, (size_t)s->byte_length, &written)) {
        data = CFDataCreate(alloc, (const UInt8 *)bytes, (CFIndex)written);
    }
    free(bytes);
    return data;
}

CFStringRef CFStringCreateFromExternalRepresentation(CFAllocatorRef alloc, CFDataRef data,
                                                     CFStringEncoding encoding) {
    if (cf_cast(data, CF_TYPE_ID_DATA, "CFStringCreateFromExternalRepresentation") == NULL) {
        return NULL;
    }
    return CFStringCreateWithBytes(alloc, CFDataGetBytePtr(data), CFDataGetLength(data), encoding,
                                   true);
}

/* ---- Class --------------------------------------------------------------------------- */

static Boolean string_equal(CFTypeRef a, CFTypeRef b) {
    const struct __CFString *x = a, *y = b;
    return x->byte_length == y->byte_length && x->hash == y->hash &&
           memcmp(x->utf8, y->utf8, (size_t)x->byte_length) == 0;
}

static CFHashCode string_hash(CFTypeRef obj) { return ((const struct __CFString *)obj)->hash; }

static CFStringRef string_copy_description(CFTypeRef obj) { return CFRetain(obj); }

const kc_cf_class cf_string_class = {
    .type_id = CF_TYPE_ID_STRING,
    .name = "CFString",
    .finalize = NULL, /* the text lives in the object's own allocation */
    .equal = string_equal,
    .hash = string_hash,
    .copy_description = string_copy_description,
};

/* ---- Description buffer ---------------------------------------------------------------- */

void cf_strbuf_append(cf_strbuf *buffer, const char *text, size_t length) {
    if (buffer->failed) {
        return;
    }
    if (buffer->capacity - buffer->length < length + 1) {
        size_t capacity = buffer->capacity ? buffer->capacity : 64;
        while (capacity - buffer->length < length + 1) {
            if (capacity > SIZE_MAX / 2) {
                buffer->failed = true;
                return;
            }
            capacity *= 2;
        }
        char *data = realloc(buffer->data, capacity);
        if (data == NULL) {
            buffer->failed = true;
            return;
        }
        buffer->data = data;
        buffer->capacity = capacity;
    }
    if (length > 0) {
        memcpy(buffer->data + buffer->length, text, length);
    }
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
}

void cf_strbuf_append_cstr(cf_strbuf *buffer, const char *text) {
    cf_strbuf_append(buffer, text, strlen(text));
}

void cf_strbuf_appendf(cf_strbuf *buffer, const char *format, ...) {
    char text[128]; /* only used for numbers and short names */
    va_list args;
    va_start(args, format);
    int n = vsnprintf(text, sizeof text, format, args);
    va_end(args);
    if (n > 0) {
        cf_strbuf_append(buffer, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    }
}

void cf_strbuf_append_string(cf_strbuf *buffer, CFStringRef string) {
    if (string == NULL) {
        cf_strbuf_append_cstr(buffer, "<null>");
    } else if (!kc_cf_is_live(string) || CFGetTypeID(string) != CF_TYPE_ID_STRING) {
        cf_strbuf_append_cstr(buffer, "<invalid>");
    } else {
        const struct __CFString *s = cf_string_body(string);
        cf_strbuf_append(buffer, s->utf8, (size_t)s->byte_length);
    }
}

void cf_strbuf_append_value(cf_strbuf *buffer, CFStringRef (*copy_description)(const void *),
                            const void *value) {
    if (copy_description == NULL) {
        cf_strbuf_append_cstr(buffer, "<value>");
        return;
    }
    CFStringRef description = copy_description(value);
    cf_strbuf_append_string(buffer, description);
    if (description != NULL && kc_cf_is_live(description)) {
        CFRelease(description);
    }
}

CFStringRef cf_strbuf_finish(cf_strbuf *buffer) {
    CFStringRef string = NULL;
    if (!buffer->failed) {
        string = cf_string_create_utf8(buffer->data != NULL ? buffer->data : "", buffer->length);
    }
    free(buffer->data);
    *buffer = (cf_strbuf){0};
    return string;
}
