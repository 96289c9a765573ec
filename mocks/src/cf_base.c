/* CF runtime: object header, retain/release, the type table, live-object
 * accounting, the quarantine of destroyed objects and misuse reporting.
 *
 * Process-wide state (architecture.md allows exactly this for layer 1): the
 * live registry, the per-type counters, the quarantine, the misuse counter
 * and handler. The CFSTR intern table lives in cf_string.c.
 */
#include "cf_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const CFAllocatorRef kCFAllocatorDefault = NULL;
const CFAllocatorRef kCFAllocatorSystemDefault = NULL;
const CFAllocatorRef kCFAllocatorMalloc = NULL;

/* ---- Hashing ------------------------------------------------------------ */

CFHashCode cf_hash_u64(uint64_t value) {
    /* splitmix64 finalizer: cheap and mixes all bits. */
    value ^= value >> 30;
    value *= 0xbf58476d1ce4e5b9ULL;
    value ^= value >> 27;
    value *= 0x94d049bb133111ebULL;
    value ^= value >> 31;
    return (CFHashCode)value;
}

CFHashCode cf_hash_bytes(const void *bytes, size_t length) {
    /* FNV-1a, then mixed: stable across runs and platforms. */
    const unsigned char *p = bytes;
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < length; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ULL;
    }
    return cf_hash_u64(hash ^ (uint64_t)length);
}

/* ---- Type table and counters ------------------------------------------------ */

static const kc_cf_class *type_classes[KC_CF_TYPE_ID_LIMIT];
static CFIndex live_counts[KC_CF_TYPE_ID_LIMIT];
static uint64_t next_serial;
static bool runtime_initialized;

/* ---- Live registry: open-addressing set of object addresses ---------------
 * Linear probing with backward-shift deletion (no tombstones), load <= 1/2.
 * Only addresses are hashed and compared, never dereferenced. */

static const void **live_slots;
static size_t live_capacity; /* power of two, or 0 */
static size_t live_used;

static size_t live_home(const void *obj, size_t mask) {
    return (size_t)cf_hash_u64((uint64_t)(uintptr_t)obj) & mask;
}

static bool live_contains(const void *obj) {
    if (live_capacity == 0) {
        return false;
    }
    size_t mask = live_capacity - 1;
    for (size_t i = live_home(obj, mask);; i = (i + 1) & mask) {
        if (live_slots[i] == obj) {
            return true;
        }
        if (live_slots[i] == NULL) {
            return false;
        }
    }
}

static void live_place(const void **slots, size_t capacity, const void *obj) {
    size_t mask = capacity - 1;
    size_t i = live_home(obj, mask);
    while (slots[i] != NULL) {
        i = (i + 1) & mask;
    }
    slots[i] = obj;
}

static bool live_insert(const void *obj) {
    if ((live_used + 1) * 2 > live_capacity) {
        size_t capacity = live_capacity ? live_capacity * 2 : 256;
        const void **slots = calloc(capacity, sizeof *slots);
        if (slots == NULL) {
            return false;
        }
        for (size_t i = 0; i < live_capacity; i++) {
            if (live_slots[i] != NULL) {
                live_place(slots, capacity, live_slots[i]);
            }
        }
        free(live_slots);
        live_slots = slots;
        live_capacity = capacity;
    }
    live_place(live_slots, live_capacity, obj);
    live_used++;
    return true;
}

static void live_remove(const void *obj) {
    if (live_capacity == 0) {
        return;
    }
    size_t mask = live_capacity - 1;
    size_t hole = live_home(obj, mask);
    while (live_slots[hole] != obj) {
        if (live_slots[hole] == NULL) {
            return;
        }
        hole = (hole + 1) & mask;
    }
    /* Shift later members of the probe run back into the hole. */
    for (size_t j = (hole + 1) & mask; live_slots[j] != NULL; j = (j + 1) & mask) {
        size_t home = live_home(live_slots[j], mask);
        bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            live_slots[hole] = live_slots[j];
            hole = j;
        }
    }
    live_slots[hole] = NULL;
    live_used--;
}

/* ---- Quarantine: destroyed objects, FIFO, not yet returned to malloc --------
 * While an object sits here its address cannot be reused, so a late
 * retain/release/use of it is recognised and named. */

static struct {
    const void *obj;
    const kc_cf_class *cls;
} quarantine[KC_CF_QUARANTINE_CAPACITY];
static size_t quarantine_next; /* slot to fill next (oldest when full) */
static size_t quarantine_count;

static void quarantine_push(const void *obj, const kc_cf_class *cls) {
    if (quarantine_count == KC_CF_QUARANTINE_CAPACITY) {
        free(cf_header_of(quarantine[quarantine_next].obj));
    } else {
        quarantine_count++;
    }
    quarantine[quarantine_next].obj = obj;
    quarantine[quarantine_next].cls = cls;
    quarantine_next = (quarantine_next + 1) % KC_CF_QUARANTINE_CAPACITY;
}

void kc_cf_quarantine_drain(void) {
    size_t oldest = (quarantine_next + KC_CF_QUARANTINE_CAPACITY - quarantine_count) %
                    KC_CF_QUARANTINE_CAPACITY;
    for (size_t n = 0; n < quarantine_count; n++) {
        size_t i = (oldest + n) % KC_CF_QUARANTINE_CAPACITY;
        free(cf_header_of(quarantine[i].obj));
        quarantine[i].obj = NULL;
        quarantine[i].cls = NULL;
    }
    quarantine_count = 0;
    quarantine_next = 0;
}

static const kc_cf_class *quarantine_lookup(const void *obj) {
    for (size_t n = 0; n < quarantine_count; n++) {
        size_t i =
            (quarantine_next + KC_CF_QUARANTINE_CAPACITY - 1 - n) % KC_CF_QUARANTINE_CAPACITY;
        if (quarantine[i].obj == obj) {
            return quarantine[i].cls;
        }
    }
    return NULL;
}

/* ---- Misuse reporting ------------------------------------------------------------- */

static CFIndex misuse_count;
static char last_misuse[KC_CF_MISUSE_MESSAGE_MAX];
static kc_cf_misuse_handler_fn misuse_handler;
static void *misuse_context;

static void default_misuse_handler(const char *message, void *context) {
    (void)context;
    fprintf(stderr, "%s\n", message);
}

void kc_cf_report_misuse(const char *format, ...) {
    static const char prefix[] = "CF misuse: ";
    char message[KC_CF_MISUSE_MESSAGE_MAX];
    memcpy(message, prefix, sizeof prefix);
    va_list args;
    va_start(args, format);
    vsnprintf(message + sizeof prefix - 1, sizeof message - (sizeof prefix - 1), format, args);
    va_end(args);

    misuse_count++;
    memcpy(last_misuse, message, sizeof message);
    /* The handler gets a local copy: it may itself cause further misuse. */
    if (misuse_handler != NULL) {
        misuse_handler(message, misuse_context);
    } else {
        default_misuse_handler(message, NULL);
    }
}

void kc_cf_set_misuse_handler(kc_cf_misuse_handler_fn handler, void *context) {
    misuse_handler = handler;
    misuse_context = handler != NULL ? context : NULL;
}

CFIndex kc_cf_misuse_count(void) { return misuse_count; }

const char *kc_cf_last_misuse(void) { return last_misuse; }

void kc_cf_reset_misuse(void) {
    misuse_count = 0;
    last_misuse[0] = '\0';
}

/* ---- Initialisation and allocation -------------------------------------------- */

void cf_runtime_ensure_init(void) {
    if (runtime_initialized) {
        return;
    }
    runtime_initialized = true; /* first: registration below re-enters */
    static const kc_cf_class *const builtins[] = {
        &cf_string_class, &cf_data_class,       &cf_number_class, &cf_boolean_class,
        &cf_array_class,  &cf_dictionary_class, &cf_error_class,
    };
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        type_classes[builtins[i]->type_id] = builtins[i];
    }
    cf_boolean_register_statics();
    cf_error_register_statics();
}

void *cf_object_alloc(const kc_cf_class *cls, size_t body_size, bool immortal) {
    cf_runtime_ensure_init();
    if (body_size > SIZE_MAX - sizeof(cf_header)) {
        return NULL;
    }
    cf_header *header = calloc(1, sizeof(cf_header) + body_size);
    if (header == NULL) {
        return NULL;
    }
    header->cls = cls;
    header->retain_count = 1;
    header->serial = ++next_serial;
    header->immortal = immortal;
    void *body = header + 1;
    if (!live_insert(body)) {
        free(header);
        return NULL;
    }
    if (!immortal) {
        live_counts[cls->type_id]++;
    }
    return body;
}

void cf_register_static(CFTypeRef obj) {
    if (!live_contains(obj)) {
        live_insert(obj); /* at start-up; failure only means "unknown object" later */
    }
}

void *kc_cf_object_create(const kc_cf_class *cls, size_t body_size) {
    cf_runtime_ensure_init();
    if (cls == NULL || cls->name == NULL) {
        cf_misuse("kc_cf_object_create called with an invalid class");
        return NULL;
    }
    if (cls->type_id < KC_CF_FIRST_EXTENSION_TYPE_ID || cls->type_id >= KC_CF_TYPE_ID_LIMIT) {
        cf_misuse("kc_cf_object_create: type ID %lu of %s is outside the extension range",
                  cls->type_id, cls->name);
        return NULL;
    }
    const kc_cf_class *known = type_classes[cls->type_id];
    if (known == NULL) {
        type_classes[cls->type_id] = cls;
    } else if (known != cls && strcmp(known->name, cls->name) != 0) {
        cf_misuse("kc_cf_object_create: type ID %lu of %s is already used by %s", cls->type_id,
                  cls->name, known->name);
        return NULL;
    }
    return cf_object_alloc(cls, body_size, false);
}

/* ---- Checked access ------------------------------------------------------------- */

typedef enum { ACCESS_USE, ACCESS_RETAIN, ACCESS_RELEASE } access_kind;

/* The header of `obj` if it is a live or immortal object; otherwise reports
 * why not (reading nothing at that address) and returns NULL. */
static cf_header *checked_header(CFTypeRef obj, const char *function, access_kind access) {
    cf_runtime_ensure_init();
    if (obj == NULL) {
        cf_misuse("%s called with NULL", function);
        return NULL;
    }
    if (live_contains(obj)) {
        return cf_header_of(obj);
    }
    const kc_cf_class *freed = quarantine_lookup(obj);
    if (freed == NULL) {
        cf_misuse("%s called with an unknown pointer (not a CF object, or one destroyed long ago)",
                  function);
    } else if (access == ACCESS_RELEASE) {
        cf_misuse("over-release of a %s object (%s of an already destroyed object)", freed->name,
                  function);
    } else if (access == ACCESS_RETAIN) {
        cf_misuse("%s of an already destroyed %s object", function, freed->name);
    } else {
        cf_misuse("%s called with an already destroyed %s object", function, freed->name);
    }
    return NULL;
}

const void *kc_cf_object_cast(CFTypeRef obj, CFTypeID type_id, const char *function) {
    cf_header *header = checked_header(obj, function, ACCESS_USE);
    if (header == NULL) {
        return NULL;
    }
    if (header->cls->type_id != type_id) {
        cf_misuse("%s called with a %s object (expected %s)", function, header->cls->name,
                  kc_cf_type_name(type_id));
        return NULL;
    }
    return obj;
}

bool kc_cf_is_live(CFTypeRef obj) {
    cf_runtime_ensure_init();
    return obj != NULL && live_contains(obj);
}

/* ---- CFType functions -------------------------------------------------------------- */

CFTypeRef CFRetain(CFTypeRef cf) {
    cf_header *header = checked_header(cf, "CFRetain", ACCESS_RETAIN);
    if (header != NULL && !header->immortal) {
        header->retain_count++;
    }
    return cf;
}

void CFRelease(CFTypeRef cf) {
    cf_header *header = checked_header(cf, "CFRelease", ACCESS_RELEASE);
    if (header == NULL || header->immortal) {
        return;
    }
    if (--header->retain_count > 0) {
        return;
    }
    const kc_cf_class *cls = header->cls;
    if (cls->finalize != NULL) {
        cls->finalize(cf); /* may release other objects, reshaping the registry */
    }
    live_remove(cf);
    live_counts[cls->type_id]--;
    quarantine_push(cf, cls);
}

const void *cf_type_retain(CFAllocatorRef allocator, const void *value) {
    (void)allocator;
    return CFRetain(value);
}

void cf_type_release(CFAllocatorRef allocator, const void *value) {
    (void)allocator;
    CFRelease(value);
}

CFTypeID CFGetTypeID(CFTypeRef cf) {
    cf_header *header = checked_header(cf, "CFGetTypeID", ACCESS_USE);
    return header != NULL ? header->cls->type_id : 0;
}

CFIndex CFGetRetainCount(CFTypeRef cf) {
    cf_header *header = checked_header(cf, "CFGetRetainCount", ACCESS_USE);
    if (header == NULL) {
        return 0;
    }
    return header->immortal ? LONG_MAX : header->retain_count;
}

Boolean CFEqual(CFTypeRef cf1, CFTypeRef cf2) {
    cf_header *a = checked_header(cf1, "CFEqual", ACCESS_USE);
    cf_header *b = checked_header(cf2, "CFEqual", ACCESS_USE);
    if (a == NULL || b == NULL) {
        return false;
    }
    if (cf1 == cf2) {
        return true;
    }
    if (a->cls->type_id != b->cls->type_id || a->cls->equal == NULL) {
        return false;
    }
    return a->cls->equal(cf1, cf2);
}

CFHashCode CFHash(CFTypeRef cf) {
    cf_header *header = checked_header(cf, "CFHash", ACCESS_USE);
    if (header == NULL) {
        return 0;
    }
    if (header->cls->hash != NULL) {
        return header->cls->hash(cf);
    }
    return cf_hash_u64(header->serial);
}

CFStringRef CFCopyDescription(CFTypeRef cf) {
    cf_header *header = checked_header(cf, "CFCopyDescription", ACCESS_USE);
    if (header == NULL) {
        return NULL;
    }
    if (header->cls->copy_description != NULL) {
        return header->cls->copy_description(cf);
    }
    cf_strbuf text = {0};
    cf_strbuf_appendf(&text, "<%s>", header->cls->name);
    return cf_strbuf_finish(&text);
}

CFStringRef CFCopyTypeIDDescription(CFTypeID type_id) {
    cf_runtime_ensure_init();
    if (type_id == 0 || type_id >= KC_CF_TYPE_ID_LIMIT || type_classes[type_id] == NULL) {
        return NULL;
    }
    const char *name = type_classes[type_id]->name;
    return cf_string_create_utf8(name, strlen(name));
}

/* ---- Accounting ---------------------------------------------------------------- */

CFIndex kc_cf_live_count(CFTypeID type_id) {
    return type_id < KC_CF_TYPE_ID_LIMIT ? live_counts[type_id] : 0;
}

CFIndex kc_cf_live_total(void) {
    CFIndex total = 0;
    for (size_t i = 0; i < KC_CF_TYPE_ID_LIMIT; i++) {
        total += live_counts[i];
    }
    return total;
}

const char *kc_cf_type_name(CFTypeID type_id) {
    cf_runtime_ensure_init();
    if (type_id == 0 || type_id >= KC_CF_TYPE_ID_LIMIT || type_classes[type_id] == NULL) {
        return "unknown type";
    }
    return type_classes[type_id]->name;
}

void kc_cf_snapshot(kc_cf_snapshot_t *snapshot) {
    if (snapshot != NULL) {
        memcpy(snapshot->live, live_counts, sizeof live_counts);
    }
}

/* Appends to a fixed buffer, truncating silently. */
static void report_append(char *report, size_t size, size_t *used, const char *format, ...)
    KC_CF_PRINTF_LIKE(4, 5);

static void report_append(char *report, size_t size, size_t *used, const char *format, ...) {
    if (report == NULL || *used + 1 >= size) {
        return;
    }
    va_list args;
    va_start(args, format);
    int n = vsnprintf(report + *used, size - *used, format, args);
    va_end(args);
    if (n > 0) {
        *used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
    }
}

/* Counts objects above `baseline` (all live objects when NULL) and
 * describes them. */
static CFIndex leak_report(const CFIndex *baseline, char *report, size_t report_size) {
    CFIndex leaked[KC_CF_TYPE_ID_LIMIT];
    CFIndex total = 0;
    for (size_t i = 0; i < KC_CF_TYPE_ID_LIMIT; i++) {
        CFIndex delta = live_counts[i] - (baseline != NULL ? baseline[i] : 0);
        leaked[i] = delta > 0 ? delta : 0;
        total += leaked[i];
    }
    if (report == NULL || report_size == 0) {
        return total;
    }
    report[0] = '\0';
    size_t used = 0;
    if (total == 0) {
        report_append(report, report_size, &used, "no CF objects leaked");
        return 0;
    }
    report_append(report, report_size, &used, "%ld CF object%s leaked:", total,
                  total == 1 ? "" : "s");
    const char *separator = " ";
    for (size_t i = 0; i < KC_CF_TYPE_ID_LIMIT; i++) {
        if (leaked[i] > 0) {
            report_append(report, report_size, &used, "%s%ld %s", separator, leaked[i],
                          kc_cf_type_name(i));
            separator = ", ";
        }
    }
    return total;
}

CFIndex kc_cf_leaks_since(const kc_cf_snapshot_t *snapshot, char *report, size_t report_size) {
    return leak_report(snapshot != NULL ? snapshot->live : NULL, report, report_size);
}

bool kc_cf_check_no_leaks(char *report, size_t report_size) {
    return leak_report(NULL, report, report_size) == 0;
}
