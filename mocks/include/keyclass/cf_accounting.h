/* Live-object accounting and misuse detection for the CF shim.
 *
 * Every CF object the shim creates (and every object of an extension type
 * created with kc_cf_object_create) is registered while it lives, so that
 * tests can assert that nothing leaked and that nothing was released too
 * often. Immortal objects (CFSTR strings, kCFBooleanTrue/False, the kCFError...
 * constants) are never counted as live or leaked.
 *
 * Misuse (where Apple would crash or assert) is never fatal here: it is
 * counted, its message kept, and reported to a handler (default: one line on
 * stderr). Messages start with "CF misuse: " and name the object's type, e.g.
 *   "CF misuse: over-release of a CFData object"
 *   "CF misuse: CFDataGetLength called with a CFString object (expected CFData)"
 *   "CF misuse: CFRelease called with NULL"
 * Messages never contain addresses, so they are identical between runs.
 *
 * How over-release is caught without reading freed memory: the runtime keeps
 * a hash set of live object addresses. A destroyed object is not returned to
 * malloc at once; it waits in a FIFO quarantine of KC_CF_QUARANTINE_CAPACITY
 * objects, which remembers its type. Retaining, releasing or using an
 * address that is not live is looked up there (address comparison only) and
 * reported with the type name. Once an object has left the quarantine its
 * address may be reused by a new object, and a late over-release would then
 * hit the new object (undetectable, as on macOS).
 *
 * The counters, the registry, the quarantine and the CFSTR intern table are
 * the only process-wide mutable state of the CF shim. Not thread-safe.
 */
#ifndef KEYCLASS_CF_ACCOUNTING_H
#define KEYCLASS_CF_ACCOUNTING_H

#include <CoreFoundation/CoreFoundation.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define KC_CF_PRINTF_LIKE(fmt_index, first_arg)                                                    \
    __attribute__((format(printf, fmt_index, first_arg)))
#else
#define KC_CF_PRINTF_LIKE(fmt_index, first_arg)
#endif

/* Type IDs are 1 .. KC_CF_TYPE_ID_LIMIT - 1. The CF shim uses
 * 1 .. KC_CF_FIRST_EXTENSION_TYPE_ID - 1; extension types (SecAccessControl,
 * LAContext, ...) pick a fixed ID in KC_CF_FIRST_EXTENSION_TYPE_ID ..
 * KC_CF_TYPE_ID_LIMIT - 1, distinct per type. 0 means "no type". */
#define KC_CF_TYPE_ID_LIMIT 64
#define KC_CF_FIRST_EXTENSION_TYPE_ID 16

/* How many destroyed objects are kept (unfreed) to name over-releases. */
#define KC_CF_QUARANTINE_CAPACITY 1024

/* Longest kept misuse message, including the terminating NUL; longer
 * messages are truncated. */
#define KC_CF_MISUSE_MESSAGE_MAX 256

/* ---- Live objects -------------------------------------------------------- */

/* Number of live (created, not yet destroyed, not immortal) objects of a
 * type; 0 for an unknown or out-of-range ID. */
CFIndex kc_cf_live_count(CFTypeID type_id);

/* Number of live objects of all types. */
CFIndex kc_cf_live_total(void);

/* The name of a type ("CFString", "CFData", ...). Extension types are named
 * once an object of the type has been created. Unknown IDs: "unknown type".
 * The string is static. */
const char *kc_cf_type_name(CFTypeID type_id);

/* Whether `obj` is a live or immortal CF object (no misuse is reported for
 * anything else, including NULL). */
bool kc_cf_is_live(CFTypeRef obj);

/* Live counts per type at one moment, to find what a piece of code leaked. */
typedef struct kc_cf_snapshot {
    CFIndex live[KC_CF_TYPE_ID_LIMIT];
} kc_cf_snapshot_t;

/* Records the current live counts in *snapshot. */
void kc_cf_snapshot(kc_cf_snapshot_t *snapshot);

/* Number of objects leaked since `snapshot`: the sum over types of the
 * increase in live count (types whose count dropped contribute nothing).
 * If report is non-NULL and report_size > 0, writes a NUL-terminated,
 * possibly truncated, one-line summary ordered by type ID, e.g.
 *   "3 CF objects leaked: 2 CFData, 1 CFString"   or
 *   "no CF objects leaked". */
CFIndex kc_cf_leaks_since(const kc_cf_snapshot_t *snapshot, char *report, size_t report_size);

/* True if no object is live at all. Otherwise false, and `report` (if given)
 * holds a summary of the live objects, as for kc_cf_leaks_since. */
bool kc_cf_check_no_leaks(char *report, size_t report_size);

/* Returns every destroyed object still held in the quarantine to malloc. For
 * harnesses that need a unit of work to free what it allocated before it
 * ends (libFuzzer counts mallocs and frees per input and runs a full leak
 * scan when they differ). A later misuse of a drained object is no longer
 * recognised as one. */
void kc_cf_quarantine_drain(void);

/* ---- Misuse ----------------------------------------------------------------- */

/* Called for every misuse with the full message ("CF misuse: ...") and the
 * context given to kc_cf_set_misuse_handler. It may call CF functions. */
typedef void (*kc_cf_misuse_handler_fn)(const char *message, void *context);

/* Installs `handler` (NULL: the default, which prints the message and a
 * newline to stderr). */
void kc_cf_set_misuse_handler(kc_cf_misuse_handler_fn handler, void *context);

/* Number of misuses since start or the last kc_cf_reset_misuse. */
CFIndex kc_cf_misuse_count(void);

/* The last misuse message, "" if none since the last reset. Static buffer,
 * overwritten by the next misuse. */
const char *kc_cf_last_misuse(void);

/* Zeroes the misuse count and clears the last message (the handler stays). */
void kc_cf_reset_misuse(void);

/* Reports a misuse: formats "CF misuse: " followed by the printf-style
 * message, counts it, keeps it, calls the handler. For extension types. */
void kc_cf_report_misuse(const char *format, ...) KC_CF_PRINTF_LIKE(1, 2);

/* ---- Extension types ---------------------------------------------------------
 * Other layers (SecAccessControl, SecKeychain, LAContext, ...) make their
 * objects CF objects, so that CFRetain/CFRelease/CFGetTypeID/CFEqual/CFHash/
 * CFCopyDescription work on them and they are counted like CF's own:
 *
 *     static void ac_finalize(CFTypeRef obj) { ... release what it holds ... }
 *     static const kc_cf_class access_control_class = {
 *         .type_id = 16, .name = "SecAccessControl", .finalize = ac_finalize,
 *     };
 *     struct __SecAccessControl *ac =
 *         kc_cf_object_create(&access_control_class, sizeof *ac);
 *     ...
 *     const struct __SecAccessControl *checked = kc_cf_object_cast(
 *         ref, access_control_class.type_id, "SecAccessControlGetFlags");
 *     if (checked == NULL) return 0;   // misuse already reported
 */
typedef struct kc_cf_class {
    /* Fixed ID in [KC_CF_FIRST_EXTENSION_TYPE_ID, KC_CF_TYPE_ID_LIMIT). */
    CFTypeID type_id;
    /* Type name used in reports ("SecAccessControl"); static storage. */
    const char *name;
    /* Releases what the object holds; must not free the object itself.
     * NULL: nothing to do. */
    void (*finalize)(CFTypeRef obj);
    /* Content equality of two distinct objects of this type. NULL: an object
     * equals only itself. */
    Boolean (*equal)(CFTypeRef a, CFTypeRef b);
    /* Hash consistent with `equal`. NULL: a per-object creation serial
     * (deterministic across runs). */
    CFHashCode (*hash)(CFTypeRef obj);
    /* +1 description for CFCopyDescription. NULL: "<Name>". */
    CFStringRef (*copy_description)(CFTypeRef obj);
} kc_cf_class;

/* Creates an object of `cls` with a zero-filled body of body_size bytes,
 * aligned for any type, with a reference count of 1, counted as live.
 * Returns the body, which is the object reference, or NULL if memory runs
 * out. An invalid class (NULL, no name, type ID out of range, or a type ID
 * already used by another class): misuse reported, NULL. `cls` must outlive
 * all its objects. */
void *kc_cf_object_create(const kc_cf_class *cls, size_t body_size);

/* Validates an object reference passed to function `function`: returns `obj`
 * if it is a live (or immortal) object of type `type_id`; otherwise reports
 * the misuse (NULL, freed object, unknown pointer, wrong type — naming
 * `function` and the types involved) and returns NULL. Never reads memory
 * of a pointer that is not a live object. */
const void *kc_cf_object_cast(CFTypeRef obj, CFTypeID type_id, const char *function);

#ifdef __cplusplus
}
#endif

#endif /* KEYCLASS_CF_ACCOUNTING_H */
