/* Internal contract between the CF shim's source files (cf_*.c). Not
 * installed; nothing outside mocks/src/cf_*.c includes it.
 *
 * Object layout: every object is one allocation holding a cf_header followed
 * by the type's body. A CF reference (CFTypeRef) points at the body, so the
 * header sits just before it. The header is only ever read after the runtime
 * has confirmed the pointer is a live (or immortal) object — that is what
 * keeps over-release detection free of reads of freed memory.
 */
#ifndef KEYCLASS_CF_INTERNAL_H
#define KEYCLASS_CF_INTERNAL_H

#include <CoreFoundation/CoreFoundation.h>
#include <keyclass/cf_accounting.h>

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fixed type IDs of the built-in types (below KC_CF_FIRST_EXTENSION_TYPE_ID). */
enum {
    CF_TYPE_ID_STRING = 1,
    CF_TYPE_ID_DATA = 2,
    CF_TYPE_ID_NUMBER = 3,
    CF_TYPE_ID_BOOLEAN = 4,
    CF_TYPE_ID_ARRAY = 5,
    CF_TYPE_ID_DICTIONARY = 6,
    CF_TYPE_ID_ERROR = 7,
};

/* The hidden header before each object body. Its size is a multiple of the
 * strictest alignment, so the body that follows is suitably aligned. */
typedef struct cf_header {
    alignas(max_align_t) const kc_cf_class *cls;
    CFIndex retain_count; /* unused for immortal objects */
    uint64_t serial;      /* creation order: deterministic identity hash */
    bool immortal;
} cf_header;

static inline cf_header *cf_header_of(CFTypeRef obj) {
    return (cf_header *)(uintptr_t)((uintptr_t)obj - sizeof(cf_header));
}

/* Initializer of the header of a statically allocated immortal object. */
#define CF_STATIC_HEADER(cls_ptr)                                                                  \
    { (cls_ptr), 0, 0, true }

/* ---- Runtime (cf_base.c) -------------------------------------------------- */

/* Registers the static immortal objects on first use; every entry point
 * that looks objects up calls it (a flag test after the first time). */
void cf_runtime_ensure_init(void);

/* Allocates a registered object with a zeroed body; immortal objects are not
 * counted as live. NULL if out of memory. */
void *cf_object_alloc(const kc_cf_class *cls, size_t body_size, bool immortal);

/* Registers a statically allocated immortal object (header already set). */
void cf_register_static(CFTypeRef obj);

/* The retain and release callbacks of the kCFType... callback sets (arrays,
 * dictionaries): CFRetain and CFRelease, the allocator ignored. */
const void *cf_type_retain(CFAllocatorRef allocator, const void *value);
void cf_type_release(CFAllocatorRef allocator, const void *value);

/* kc_cf_object_cast under a shorter name. */
#define cf_cast kc_cf_object_cast
#define cf_misuse kc_cf_report_misuse

/* Deterministic hashing (never address-based, so runs are identical). */
CFHashCode cf_hash_bytes(const void *bytes, size_t length);
CFHashCode cf_hash_u64(uint64_t value);

/* Does `range` lie within [0, count]? */
static inline bool cf_range_within(CFRange range, CFIndex count) {
    return range.location >= 0 && range.length >= 0 && range.location <= count &&
           range.length <= count - range.location;
}

/* ---- Built-in classes (one per file) ------------------------------------- */

extern const kc_cf_class cf_string_class;
extern const kc_cf_class cf_data_class;
extern const kc_cf_class cf_number_class;
extern const kc_cf_class cf_boolean_class;
extern const kc_cf_class cf_array_class;
extern const kc_cf_class cf_dictionary_class;
extern const kc_cf_class cf_error_class;

/* Static immortal objects, registered by cf_runtime_ensure_init. */
void cf_boolean_register_statics(void); /* cf_number.c */
void cf_error_register_statics(void);   /* cf_error.c */

/* ---- Strings (cf_string.c) -------------------------------------------------- */

struct __CFString {
    const char *utf8;     /* NUL-terminated; may hold embedded NULs (has_nul) */
    CFIndex byte_length;  /* excluding the terminating NUL */
    CFIndex utf16_length; /* CFStringGetLength */
    CFHashCode hash;      /* cf_hash_bytes of the UTF-8 bytes */
    bool is_ascii;
    bool has_nul;
};

/* A statically allocated immortal string (see CF_STATIC_STRING). */
typedef struct cf_static_string {
    cf_header header;
    struct __CFString body;
} cf_static_string;

_Static_assert(offsetof(cf_static_string, body) == sizeof(cf_header),
               "static objects must have the heap layout");

/* Initializer of a cf_static_string for an ASCII literal; derived fields are
 * filled in by cf_string_register_static. */
#define CF_STATIC_STRING(text)                                                                     \
    {                                                                                              \
        CF_STATIC_HEADER(&cf_string_class), { (text), 0, 0, 0, false, false }                      \
    }

/* Fills in a static string's derived fields, registers it and interns it
 * (so CFSTR of the same text returns it). */
void cf_string_register_static(struct __CFString *string);

/* A new string from UTF-8 bytes (+1), NULL if invalid or out of memory. */
CFStringRef cf_string_create_utf8(const char *bytes, size_t length);

/* Internal bytes of a string already validated by the caller. */
static inline const struct __CFString *cf_string_body(CFStringRef string) {
    return (const struct __CFString *)string;
}

/* A growing text buffer for descriptions. Allocation failure is sticky and
 * makes cf_strbuf_finish return NULL. */
typedef struct cf_strbuf {
    char *data;
    size_t length;
    size_t capacity;
    bool failed;
} cf_strbuf;

void cf_strbuf_append(cf_strbuf *buffer, const char *text, size_t length);
void cf_strbuf_append_cstr(cf_strbuf *buffer, const char *text);
void cf_strbuf_appendf(cf_strbuf *buffer, const char *format, ...) KC_CF_PRINTF_LIKE(2, 3);
/* Appends the text of a CFString; "<null>" for NULL, "<invalid>" for a
 * non-string (no misuse reported). */
void cf_strbuf_append_string(cf_strbuf *buffer, CFStringRef string);
/* Appends copy_description(value) (released again), or "<value>" when the
 * container has no description callback. */
void cf_strbuf_append_value(cf_strbuf *buffer, CFStringRef (*copy_description)(const void *),
                            const void *value);
/* The buffer's text as a new string (+1); frees the buffer. */
CFStringRef cf_strbuf_finish(cf_strbuf *buffer);

#endif /* KEYCLASS_CF_INTERNAL_H */
