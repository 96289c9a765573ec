/* CoreFoundation, the subset keychain code needs (keyclass CF shim).
 *
 * Layer 1 of keyclass (architecture.md): CFString, CFData, CFNumber,
 * CFBoolean, CFArray, CFDictionary and CFError with Apple's names, signatures
 * and constant values, so that code written against this header reads like
 * code written for macOS. Implemented in mocks/src/cf_*.c.
 *
 * Ownership is Apple's: functions with Create or Copy in their name return a
 * +1 reference the caller must CFRelease; Get functions return a borrowed
 * reference that stays valid while its owner lives. Containers created with
 * the kCFType... callbacks retain what they hold and release it on removal or
 * destruction.
 *
 * Where Apple would crash or assert (NULL where an object is required, an
 * object of the wrong type, an already freed object, an index out of range,
 * mutating an immutable object) this shim never crashes: it reports a *misuse*
 * through keyclass/cf_accounting.h (counted, last message kept, handler
 * called; the default handler prints to stderr) and returns the neutral value
 * documented below (NULL, 0, false, or "no effect"). Tests assert that no
 * misuse happened.
 *
 * Deliberate differences from Apple, all documented at the functions:
 *  - Allocator arguments are accepted and ignored (malloc is always used).
 *  - Strings are stored as UTF-8. CFStringGetLength counts UTF-16 code units
 *    like Apple. Supported encodings: UTF-8, ASCII, ISO Latin-1; others are a
 *    reported misuse.
 *  - CFStringCompare compares by Unicode code point; kCFCompareCaseInsensitive
 *    folds ASCII letters only.
 *  - CFArray/CFDictionary capacities are hints (never limits); CFData's
 *    capacity is a limit, as in Apple's implementation.
 *  - CFDictionary iterates in insertion order (deterministic).
 *  - Type IDs are small fixed numbers, not Apple's values.
 *  - No autorelease pool, no CFMutableString, no CFStringCreateWithFormat.
 *
 * Not thread-safe: keyclass simulates concurrency on one thread.
 */
#ifndef KEYCLASS_COREFOUNDATION_H
#define KEYCLASS_COREFOUNDATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- MacTypes --------------------------------------------------------------
 * The basic Mac types CoreFoundation pulls in. Identical redefinitions in
 * other headers (e.g. `typedef int32_t OSStatus;`) are allowed by C11. */

typedef unsigned char Boolean;
typedef uint8_t UInt8;
typedef int8_t SInt8;
typedef uint16_t UInt16;
typedef int16_t SInt16;
typedef uint32_t UInt32;
typedef int32_t SInt32;
typedef uint64_t UInt64;
typedef int64_t SInt64;
typedef float Float32;
typedef double Float64;
typedef uint16_t UniChar;
typedef int32_t OSStatus;

/* Annotation and declaration macros Apple-style code uses; they carry no
 * meaning here. CF_ENUM/CF_OPTIONS expand to their plain-C form:
 * `typedef CF_ENUM(CFIndex, X) { ... };` declares the type X and the enum. */
#define CF_EXPORT extern
#define CF_INLINE static inline
#define CF_ENUM(_type, _name)                                                                      \
    _type _name;                                                                                   \
    enum
#define CF_OPTIONS(_type, _name)                                                                   \
    _type _name;                                                                                   \
    enum
#define CF_RETURNS_RETAINED
#define CF_RETURNS_NOT_RETAINED
#define CF_CONSUMED
#define CF_BRIDGED_TYPE(T)
#define CF_IMPLICIT_BRIDGING_ENABLED
#define CF_IMPLICIT_BRIDGING_DISABLED
#define CF_ASSUME_NONNULL_BEGIN
#define CF_ASSUME_NONNULL_END

/* ---- Base types ------------------------------------------------------------ */

typedef unsigned long CFTypeID;
typedef unsigned long CFOptionFlags;
typedef unsigned long CFHashCode;
typedef signed long CFIndex;

/* Any CF object. */
typedef const void *CFTypeRef;
typedef CFTypeRef CFPropertyListRef;

/* Opaque object references (mutable variants share the immutable type's
 * type ID, as in Apple's CF). */
typedef const struct __CFString *CFStringRef;
typedef struct __CFString *CFMutableStringRef; /* declared for signatures only */
typedef const struct __CFData *CFDataRef;
typedef struct __CFData *CFMutableDataRef;
typedef const struct __CFBoolean *CFBooleanRef;
typedef const struct __CFNumber *CFNumberRef;
typedef const struct __CFArray *CFArrayRef;
typedef struct __CFArray *CFMutableArrayRef;
typedef const struct __CFDictionary *CFDictionaryRef;
typedef struct __CFDictionary *CFMutableDictionaryRef;
typedef struct __CFError *CFErrorRef; /* not const, as in Apple's header */

/* Seconds; the world clock (keyclass/world.h) reports CFAbsoluteTime values. */
typedef double CFTimeInterval;
typedef CFTimeInterval CFAbsoluteTime;

/* Seconds since 2001-01-01 on the active world's clock (implemented by the
 * world in world.c; a fixed epoch when no world is active). Code above the
 * shim reads time only through this. */
CFAbsoluteTime CFAbsoluteTimeGetCurrent(void);

/* A range of indexes: [location, location + length). */
typedef struct {
    CFIndex location;
    CFIndex length;
} CFRange;

CF_INLINE CFRange CFRangeMake(CFIndex location, CFIndex length) {
    CFRange range;
    range.location = location;
    range.length = length;
    return range;
}

typedef CFIndex CFComparisonResult;
enum { kCFCompareLessThan = -1L, kCFCompareEqualTo = 0, kCFCompareGreaterThan = 1 };

typedef CFComparisonResult (*CFComparatorFunction)(const void *val1, const void *val2,
                                                   void *context);

/* Returned by searching functions when nothing is found. */
enum { kCFNotFound = -1 };

/* ---- Allocators --------------------------------------------------------------
 * Accepted for signature compatibility and ignored: every object is
 * allocated with malloc. All constants below are NULL. */

typedef const struct __CFAllocator *CFAllocatorRef;

CF_EXPORT const CFAllocatorRef kCFAllocatorDefault;
CF_EXPORT const CFAllocatorRef kCFAllocatorSystemDefault;
CF_EXPORT const CFAllocatorRef kCFAllocatorMalloc;

/* ---- CFType: functions valid on every CF object -------------------------- */

/* Adds one reference and returns `cf`. Immortal objects (CFSTR strings,
 * kCFBooleanTrue/False, the kCFError... constants) are returned unchanged.
 * NULL, a freed or unknown pointer: misuse reported, returns `cf` untouched. */
CFTypeRef CFRetain(CFTypeRef cf);

/* Drops one reference; the object is destroyed (and releases what it holds)
 * when the last one goes. No effect on immortal objects.
 * NULL: misuse reported (Apple crashes), returns.
 * An already freed object (over-release): misuse "over-release of a <Type>
 * object" reported, returns; the freed memory is never read. */
void CFRelease(CFTypeRef cf);

/* The object's type ID (compare with CFStringGetTypeID() etc.).
 * NULL or an invalid pointer: misuse reported, returns 0 (no type). */
CFTypeID CFGetTypeID(CFTypeRef cf);

/* Value equality: same type and equal contents (strings by text, data by
 * bytes, numbers by numeric value across number types, arrays elementwise,
 * dictionaries by key/value pairs, errors by domain, code and user info).
 * Objects of types without a notion of content (e.g. extension types without
 * an equal callback) are equal only to themselves.
 * NULL on either side: misuse reported, returns false. */
Boolean CFEqual(CFTypeRef cf1, CFTypeRef cf2);

/* A hash consistent with CFEqual; deterministic across runs.
 * NULL: misuse reported, returns 0. */
CFHashCode CFHash(CFTypeRef cf);

/* The current reference count; for immortal objects a very large constant
 * (LONG_MAX). Meant for tests only. NULL/invalid: misuse, returns 0. */
CFIndex CFGetRetainCount(CFTypeRef cf);

/* A human-readable description (+1 CFString). Deterministic (no addresses):
 * strings are their text, numbers as decimal, booleans "true"/"false", data
 * "<CFData length=N bytes=0x...>", arrays "(a, b)", dictionaries
 * "{k = v; k2 = v2}", errors "Error Domain=D Code=N \"description\"".
 * The format is for humans and journals, not for parsing.
 * NULL/invalid: misuse reported, returns NULL. */
CFStringRef CFCopyDescription(CFTypeRef cf);

/* The name of a type ("CFString", ...) as a +1 CFString; NULL if the ID was
 * never used. */
CFStringRef CFCopyTypeIDDescription(CFTypeID type_id);

/* ---- CFString -------------------------------------------------------------- */

typedef UInt32 CFStringEncoding;
enum {
    kCFStringEncodingMacRoman = 0,
    kCFStringEncodingWindowsLatin1 = 0x0500,
    kCFStringEncodingISOLatin1 = 0x0201,
    kCFStringEncodingNextStepLatin = 0x0B01,
    kCFStringEncodingASCII = 0x0600,
    kCFStringEncodingUnicode = 0x0100,
    kCFStringEncodingUTF8 = 0x08000100,
    kCFStringEncodingNonLossyASCII = 0x0BFF,
    kCFStringEncodingUTF16 = 0x0100,
    kCFStringEncodingUTF16BE = 0x10000100,
    kCFStringEncodingUTF16LE = 0x14000100,
    kCFStringEncodingUTF32 = 0x0c000100,
    kCFStringEncodingUTF32BE = 0x18000100,
    kCFStringEncodingUTF32LE = 0x1c000100
};
#define kCFStringEncodingInvalidId (0xffffffffU)

typedef CFOptionFlags CFStringCompareFlags;
enum {
    kCFCompareCaseInsensitive = 1,
    kCFCompareBackwards = 4,
    kCFCompareAnchored = 8,
    kCFCompareNonliteral = 16,
    kCFCompareLocalized = 32,
    kCFCompareNumerically = 64,
    kCFCompareDiacriticInsensitive = 128,
    kCFCompareWidthInsensitive = 256,
    kCFCompareForcedOrdering = 512
};

/* A constant string: immortal (CFRetain/CFRelease have no effect, it is never
 * counted as live or leaked) and interned, so the same text always gives the
 * same pointer, also across translation units. The argument must be a string
 * literal. Compared by content like any CFString, so a dictionary key stored
 * as CFSTR("acct") is found with a runtime-created "acct".
 * Costs a hash lookup per evaluation (there is no compiler builtin under
 * -std=c11). Invalid UTF-8: misuse reported, NULL. */
#define CFSTR(cStr) __CFStringMakeConstantString("" cStr "")

/* The implementation of CFSTR; prefer the macro. */
CFStringRef __CFStringMakeConstantString(const char *cStr);

CFTypeID CFStringGetTypeID(void);

/* A new string from a NUL-terminated C string (+1).
 * Encodings: kCFStringEncodingUTF8, kCFStringEncodingASCII,
 * kCFStringEncodingISOLatin1. Returns NULL if the bytes are not valid in that
 * encoding (invalid UTF-8, non-ASCII bytes for ASCII). Any other encoding:
 * misuse reported, NULL. cStr NULL: misuse reported, NULL. */
CFStringRef CFStringCreateWithCString(CFAllocatorRef alloc, const char *cStr,
                                      CFStringEncoding encoding);

/* A new string from `numBytes` bytes (+1); embedded NUL bytes are kept as
 * U+0000 characters. With isExternalRepresentation and UTF-8, a leading BOM
 * (EF BB BF) is skipped. Invalid bytes: NULL. Same encodings as above.
 * bytes NULL with numBytes > 0, or numBytes < 0: misuse reported, NULL. */
CFStringRef CFStringCreateWithBytes(CFAllocatorRef alloc, const UInt8 *bytes, CFIndex numBytes,
                                    CFStringEncoding encoding, Boolean isExternalRepresentation);

/* An immutable copy (+1). Strings are immutable here, so, like Apple for
 * immutable strings, this returns `theString` itself retained. */
CFStringRef CFStringCreateCopy(CFAllocatorRef alloc, CFStringRef theString);

/* Length in UTF-16 code units, like Apple: "é" is 1, "😀" is 2, never the
 * UTF-8 byte count. NULL/not a string: misuse reported, 0. */
CFIndex CFStringGetLength(CFStringRef theString);

/* Upper bound of bytes needed for `length` UTF-16 units in `encoding`
 * (excluding the terminating NUL): 3 per unit for UTF-8, 1 for ASCII and
 * Latin-1. Other encodings: misuse reported, kCFNotFound. */
CFIndex CFStringGetMaximumSizeForEncoding(CFIndex length, CFStringEncoding encoding);

/* Copies the string, NUL-terminated, into buffer[0..bufferSize). Returns
 * false, with buffer[0] set to NUL when bufferSize > 0, if the buffer is too
 * small (the NUL needs room too), a character cannot be represented in the
 * encoding, or the string contains U+0000. Unsupported encoding: misuse,
 * false. */
Boolean CFStringGetCString(CFStringRef theString, char *buffer, CFIndex bufferSize,
                           CFStringEncoding encoding);

/* The internal NUL-terminated bytes when they already are the requested
 * encoding (UTF-8 always; ASCII and Latin-1 when the string is pure ASCII),
 * else NULL (as Apple allows; fall back to CFStringGetCString). Valid while
 * the string lives. */
const char *CFStringGetCStringPtr(CFStringRef theString, CFStringEncoding encoding);

/* Orders two strings by Unicode code point (Apple's default order differs in
 * details; equality is the same). Honoured option: kCFCompareCaseInsensitive
 * (ASCII letters only). kCFCompareNonliteral, kCFCompareLocalized and
 * kCFCompareForcedOrdering are accepted and ignored; other options are a
 * reported misuse and ignored. NULL: misuse, kCFCompareEqualTo. */
CFComparisonResult CFStringCompare(CFStringRef theString1, CFStringRef theString2,
                                   CFStringCompareFlags compareOptions);

/* Whether `theString` starts / ends with `prefix` / `suffix` (literal
 * comparison). An empty prefix/suffix matches. NULL: misuse, false. */
Boolean CFStringHasPrefix(CFStringRef theString, CFStringRef prefix);
Boolean CFStringHasSuffix(CFStringRef theString, CFStringRef suffix);

/* The string's bytes in `encoding` as a new CFData (+1), no BOM, no NUL.
 * Unrepresentable characters become `lossByte`, or make the call return NULL
 * when lossByte is 0. */
CFDataRef CFStringCreateExternalRepresentation(CFAllocatorRef alloc, CFStringRef theString,
                                               CFStringEncoding encoding, UInt8 lossByte);

/* ---- CFData / CFMutableData ------------------------------------------------ */

CFTypeID CFDataGetTypeID(void);

/* A new immutable data holding a copy of `length` bytes (+1).
 * bytes NULL with length > 0, or length < 0: misuse reported, NULL. */
CFDataRef CFDataCreate(CFAllocatorRef allocator, const UInt8 *bytes, CFIndex length);

/* An immutable copy (+1). For an immutable source this is the source itself,
 * retained (as Apple); a mutable source is copied. */
CFDataRef CFDataCreateCopy(CFAllocatorRef allocator, CFDataRef theData);

/* A new empty mutable data (+1). `capacity` is the maximum length it may
 * ever reach; 0 means unlimited. Growing past a non-zero capacity is a
 * reported misuse and has no effect. capacity < 0: misuse, NULL. */
CFMutableDataRef CFDataCreateMutable(CFAllocatorRef allocator, CFIndex capacity);

/* A new mutable data with a copy of theData's bytes (+1); `capacity` as in
 * CFDataCreateMutable and must be 0 or >= the length (else misuse, NULL). */
CFMutableDataRef CFDataCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity,
                                         CFDataRef theData);

/* Length in bytes. NULL/not a data: misuse, 0. */
CFIndex CFDataGetLength(CFDataRef theData);

/* The bytes (never NULL for a valid data, even when empty). Valid until the
 * data is mutated or destroyed. */
const UInt8 *CFDataGetBytePtr(CFDataRef theData);

/* The writable bytes of a mutable data; immutable data: misuse, NULL. */
UInt8 *CFDataGetMutableBytePtr(CFMutableDataRef theData);

/* Copies bytes [range.location, range.location + range.length) to `buffer`.
 * A range outside the data, or buffer NULL with a non-empty range: misuse,
 * nothing copied. */
void CFDataGetBytes(CFDataRef theData, CFRange range, UInt8 *buffer);

/* Sets the length; new bytes are zero-filled. Negative length, past the
 * capacity, or immutable data: misuse, no effect. */
void CFDataSetLength(CFMutableDataRef theData, CFIndex length);

/* Grows the length by extraLength zero bytes (same rules as SetLength). */
void CFDataIncreaseLength(CFMutableDataRef theData, CFIndex extraLength);

/* Appends `length` bytes (which may point into theData itself). */
void CFDataAppendBytes(CFMutableDataRef theData, const UInt8 *bytes, CFIndex length);

/* Replaces the bytes in `range` with `newLength` bytes from newBytes (which
 * may point into theData itself). */
void CFDataReplaceBytes(CFMutableDataRef theData, CFRange range, const UInt8 *newBytes,
                        CFIndex newLength);

/* Removes the bytes in `range`. */
void CFDataDeleteBytes(CFMutableDataRef theData, CFRange range);

/* ---- CFString <-> CFData ----------------------------------------------------- */

/* A new string from the bytes of `data` (+1), as CFStringCreateWithBytes with
 * isExternalRepresentation true. */
CFStringRef CFStringCreateFromExternalRepresentation(CFAllocatorRef alloc, CFDataRef data,
                                                     CFStringEncoding encoding);

/* ---- CFBoolean --------------------------------------------------------------- */

/* The only two CFBoolean objects; immortal. */
CF_EXPORT const CFBooleanRef kCFBooleanTrue;
CF_EXPORT const CFBooleanRef kCFBooleanFalse;

CFTypeID CFBooleanGetTypeID(void);

/* true for kCFBooleanTrue. NULL/not a boolean: misuse, false. */
Boolean CFBooleanGetValue(CFBooleanRef boolean);

/* ---- CFNumber ---------------------------------------------------------------- */

typedef CFIndex CFNumberType;
enum {
    kCFNumberSInt8Type = 1,
    kCFNumberSInt16Type = 2,
    kCFNumberSInt32Type = 3,
    kCFNumberSInt64Type = 4,
    kCFNumberFloat32Type = 5,
    kCFNumberFloat64Type = 6,
    kCFNumberCharType = 7,       /* signed char */
    kCFNumberShortType = 8,      /* short */
    kCFNumberIntType = 9,        /* int */
    kCFNumberLongType = 10,      /* long (64-bit on LP64) */
    kCFNumberLongLongType = 11,  /* long long */
    kCFNumberFloatType = 12,     /* float */
    kCFNumberDoubleType = 13,    /* double */
    kCFNumberCFIndexType = 14,   /* CFIndex */
    kCFNumberNSIntegerType = 15, /* long */
    kCFNumberCGFloatType = 16,   /* double */
    kCFNumberMaxType = 16
};

CFTypeID CFNumberGetTypeID(void);

/* A new number (+1) reading *valuePtr as the C type named by theType.
 * valuePtr NULL or an unknown type: misuse reported, NULL. */
CFNumberRef CFNumberCreate(CFAllocatorRef allocator, CFNumberType theType, const void *valuePtr);

/* The canonical storage type, as Apple: Char/SInt8 -> kCFNumberSInt8Type,
 * Short/SInt16 -> SInt16, Int/SInt32 -> SInt32, Long/LongLong/CFIndex/
 * NSInteger/SInt64 -> SInt64, Float/Float32 -> kCFNumberFloat32Type,
 * Double/CGFloat/Float64 -> kCFNumberFloat64Type. */
CFNumberType CFNumberGetType(CFNumberRef number);

/* Size in bytes of the canonical storage type (1, 2, 4 or 8). */
CFIndex CFNumberGetByteSize(CFNumberRef number);

/* Whether the canonical type is Float32 or Float64. */
Boolean CFNumberIsFloatType(CFNumberRef number);

/* Stores the value converted to theType in *valuePtr. Returns false when
 * the conversion is lossy (out of range: the value is clamped for floating
 * sources, truncated for integers; fractional: truncated toward zero;
 * not exactly representable as a float: rounded) — the converted value is
 * still stored. NULL arguments or unknown type: misuse, false. */
Boolean CFNumberGetValue(CFNumberRef number, CFNumberType theType, void *valuePtr);

/* Numeric comparison across types (SInt32 5 == Float64 5.0); NaN sorts
 * below every other value and equal to NaN. `context` is unused. */
CFComparisonResult CFNumberCompare(CFNumberRef number, CFNumberRef otherNumber, void *context);

/* ---- CFArray / CFMutableArray --------------------------------------------- */

typedef const void *(*CFArrayRetainCallBack)(CFAllocatorRef allocator, const void *value);
typedef void (*CFArrayReleaseCallBack)(CFAllocatorRef allocator, const void *value);
typedef CFStringRef (*CFArrayCopyDescriptionCallBack)(const void *value);
typedef Boolean (*CFArrayEqualCallBack)(const void *value1, const void *value2);

/* How an array treats its values. Any member may be NULL: no retain, no
 * release, no description, pointer identity for equality. The array copies
 * the structure. `version` must be 0. */
typedef struct {
    CFIndex version;
    CFArrayRetainCallBack retain;
    CFArrayReleaseCallBack release;
    CFArrayCopyDescriptionCallBack copyDescription;
    CFArrayEqualCallBack equal;
} CFArrayCallBacks;

/* Values are CF objects: CFRetain on insertion, CFRelease on removal,
 * CFEqual for equality. Passing NULL callbacks instead means raw pointers:
 * no retain, identity equality. */
CF_EXPORT const CFArrayCallBacks kCFTypeArrayCallBacks;

typedef void (*CFArrayApplierFunction)(const void *value, void *context);

CFTypeID CFArrayGetTypeID(void);

/* A new immutable array of `numValues` values (+1), each retained through
 * callBacks. values NULL with numValues > 0, or numValues < 0: misuse, NULL.
 * A NULL value in an array with a retain callback: misuse, NULL. */
CFArrayRef CFArrayCreate(CFAllocatorRef allocator, const void **values, CFIndex numValues,
                         const CFArrayCallBacks *callBacks);

/* An immutable copy with the same callbacks (+1); the values are retained
 * again. An immutable source is returned itself, retained (as Apple). */
CFArrayRef CFArrayCreateCopy(CFAllocatorRef allocator, CFArrayRef theArray);

/* A new empty mutable array (+1). `capacity` is a hint only (0 = none);
 * the array always grows as needed. capacity < 0: misuse, NULL. */
CFMutableArrayRef CFArrayCreateMutable(CFAllocatorRef allocator, CFIndex capacity,
                                       const CFArrayCallBacks *callBacks);

/* A new mutable array with theArray's values and callbacks (+1). */
CFMutableArrayRef CFArrayCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity,
                                           CFArrayRef theArray);

CFIndex CFArrayGetCount(CFArrayRef theArray);

/* The value at idx (borrowed). idx outside [0, count): misuse, NULL. */
const void *CFArrayGetValueAtIndex(CFArrayRef theArray, CFIndex idx);

/* Copies the values in `range` (borrowed) to values[]. */
void CFArrayGetValues(CFArrayRef theArray, CFRange range, const void **values);

/* Whether `value` occurs in `range` (by the array's equal callback). */
Boolean CFArrayContainsValue(CFArrayRef theArray, CFRange range, const void *value);

/* Index of the first occurrence of `value` in `range`, or kCFNotFound. */
CFIndex CFArrayGetFirstIndexOfValue(CFArrayRef theArray, CFRange range, const void *value);

/* Calls applier(value, context) for each value in `range`, in order. Mutating
 * the array from the applier is a reported misuse and is refused. */
void CFArrayApplyFunction(CFArrayRef theArray, CFRange range, CFArrayApplierFunction applier,
                          void *context);

/* Mutations (mutable arrays only; immutable array: misuse, no effect). */
void CFArrayAppendValue(CFMutableArrayRef theArray, const void *value);
/* idx in [0, count]. */
void CFArrayInsertValueAtIndex(CFMutableArrayRef theArray, CFIndex idx, const void *value);
/* idx in [0, count]; idx == count appends. The new value is retained before
 * the old one is released. */
void CFArraySetValueAtIndex(CFMutableArrayRef theArray, CFIndex idx, const void *value);
/* idx in [0, count); the value is released. */
void CFArrayRemoveValueAtIndex(CFMutableArrayRef theArray, CFIndex idx);
void CFArrayRemoveAllValues(CFMutableArrayRef theArray);
/* Appends otherArray's values in `range` (retained through theArray's
 * callbacks). */
void CFArrayAppendArray(CFMutableArrayRef theArray, CFArrayRef otherArray, CFRange otherRange);

/* ---- CFDictionary / CFMutableDictionary ------------------------------------ */

typedef const void *(*CFDictionaryRetainCallBack)(CFAllocatorRef allocator, const void *value);
typedef void (*CFDictionaryReleaseCallBack)(CFAllocatorRef allocator, const void *value);
typedef CFStringRef (*CFDictionaryCopyDescriptionCallBack)(const void *value);
typedef Boolean (*CFDictionaryEqualCallBack)(const void *value1, const void *value2);
typedef CFHashCode (*CFDictionaryHashCallBack)(const void *value);

/* How a dictionary treats its keys. NULL members: no retain/release,
 * identity equality, address hash. `version` must be 0. */
typedef struct {
    CFIndex version;
    CFDictionaryRetainCallBack retain;
    CFDictionaryReleaseCallBack release;
    CFDictionaryCopyDescriptionCallBack copyDescription;
    CFDictionaryEqualCallBack equal;
    CFDictionaryHashCallBack hash;
} CFDictionaryKeyCallBacks;

/* How a dictionary treats its values. */
typedef struct {
    CFIndex version;
    CFDictionaryRetainCallBack retain;
    CFDictionaryReleaseCallBack release;
    CFDictionaryCopyDescriptionCallBack copyDescription;
    CFDictionaryEqualCallBack equal;
} CFDictionaryValueCallBacks;

/* Keys are CF objects: retained, compared with CFEqual and hashed with
 * CFHash, i.e. by content. */
CF_EXPORT const CFDictionaryKeyCallBacks kCFTypeDictionaryKeyCallBacks;
/* Keys are CFStrings and are copied (CFStringCreateCopy) on insertion. */
CF_EXPORT const CFDictionaryKeyCallBacks kCFCopyStringDictionaryKeyCallBacks;
/* Values are CF objects: retained, compared with CFEqual. */
CF_EXPORT const CFDictionaryValueCallBacks kCFTypeDictionaryValueCallBacks;

typedef void (*CFDictionaryApplierFunction)(const void *key, const void *value, void *context);

CFTypeID CFDictionaryGetTypeID(void);

/* A new immutable dictionary (+1) of `numValues` pairs keys[i] -> values[i].
 * Key and value callbacks may each be NULL (raw pointers: identity, no
 * retain). With a duplicate key the first pair wins. Arrays NULL with
 * numValues > 0, numValues < 0, or a NULL key/value where callbacks would
 * have to act on it: misuse, NULL. */
CFDictionaryRef CFDictionaryCreate(CFAllocatorRef allocator, const void **keys, const void **values,
                                   CFIndex numValues, const CFDictionaryKeyCallBacks *keyCallBacks,
                                   const CFDictionaryValueCallBacks *valueCallBacks);

/* An immutable copy with the same callbacks and order (+1). An immutable
 * source is returned itself, retained (as Apple). */
CFDictionaryRef CFDictionaryCreateCopy(CFAllocatorRef allocator, CFDictionaryRef theDict);

/* A new empty mutable dictionary (+1). `capacity` is a hint only. */
CFMutableDictionaryRef CFDictionaryCreateMutable(CFAllocatorRef allocator, CFIndex capacity,
                                                 const CFDictionaryKeyCallBacks *keyCallBacks,
                                                 const CFDictionaryValueCallBacks *valueCallBacks);

/* A new mutable dictionary with theDict's pairs, order and callbacks (+1). */
CFMutableDictionaryRef CFDictionaryCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity,
                                                     CFDictionaryRef theDict);

CFIndex CFDictionaryGetCount(CFDictionaryRef theDict);
/* 1 if the key is present, else 0. */
CFIndex CFDictionaryGetCountOfKey(CFDictionaryRef theDict, const void *key);

/* The value for `key` (borrowed), or NULL when absent. Keys are matched by
 * the key callbacks (content for kCFTypeDictionaryKeyCallBacks). */
const void *CFDictionaryGetValue(CFDictionaryRef theDict, const void *key);

/* Whether `key` is present; if so and `value` is non-NULL, *value is set to
 * the (borrowed) value. Distinguishes a stored NULL from absence. */
Boolean CFDictionaryGetValueIfPresent(CFDictionaryRef theDict, const void *key, const void **value);

Boolean CFDictionaryContainsKey(CFDictionaryRef theDict, const void *key);
Boolean CFDictionaryContainsValue(CFDictionaryRef theDict, const void *value);

/* Copies the keys and/or values (borrowed; either array may be NULL), in
 * insertion order, so keys[i] belongs to values[i]. */
void CFDictionaryGetKeysAndValues(CFDictionaryRef theDict, const void **keys, const void **values);

/* Calls applier(key, value, context) for each pair in insertion order.
 * Mutating the dictionary from the applier: misuse, refused. */
void CFDictionaryApplyFunction(CFDictionaryRef theDict, CFDictionaryApplierFunction applier,
                               void *context);

/* Mutations (mutable dictionaries only; immutable: misuse, no effect). */

/* Adds the pair if the key is absent; no effect if it is present (as Apple). */
void CFDictionaryAddValue(CFMutableDictionaryRef theDict, const void *key, const void *value);
/* Adds or replaces. On replace the new value is retained before the old one
 * is released, and the originally stored key is kept. The pair keeps its
 * position in the iteration order. */
void CFDictionarySetValue(CFMutableDictionaryRef theDict, const void *key, const void *value);
/* Replaces the value only if the key is present. */
void CFDictionaryReplaceValue(CFMutableDictionaryRef theDict, const void *key, const void *value);
/* Removes the pair (releasing key and value); no effect if absent. */
void CFDictionaryRemoveValue(CFMutableDictionaryRef theDict, const void *key);
void CFDictionaryRemoveAllValues(CFMutableDictionaryRef theDict);

/* ---- CFError ------------------------------------------------------------------ */

typedef CFStringRef CFErrorDomain;

/* Error domains and user-info keys (Apple's string values); immortal and the
 * same pointers CFSTR gives for the same text. */
CF_EXPORT const CFErrorDomain kCFErrorDomainPOSIX;             /* "NSPOSIXErrorDomain" */
CF_EXPORT const CFErrorDomain kCFErrorDomainOSStatus;          /* "NSOSStatusErrorDomain" */
CF_EXPORT const CFErrorDomain kCFErrorDomainMach;              /* "NSMachErrorDomain" */
CF_EXPORT const CFErrorDomain kCFErrorDomainCocoa;             /* "NSCocoaErrorDomain" */
CF_EXPORT const CFStringRef kCFErrorLocalizedDescriptionKey;   /* "NSLocalizedDescription" */
CF_EXPORT const CFStringRef kCFErrorLocalizedFailureReasonKey; /* "NSLocalizedFailureReason" */
CF_EXPORT const CFStringRef
    kCFErrorLocalizedRecoverySuggestionKey;             /* "NSLocalizedRecoverySuggestion" */
CF_EXPORT const CFStringRef kCFErrorDescriptionKey;     /* "NSDescription" */
CF_EXPORT const CFStringRef kCFErrorUnderlyingErrorKey; /* "NSUnderlyingError" */

CFTypeID CFErrorGetTypeID(void);

/* A new error (+1). The domain is retained; userInfo (may be NULL) is copied
 * (CFDictionaryCreateCopy). domain NULL or not a string, or userInfo not a
 * dictionary: misuse, NULL. */
CFErrorRef CFErrorCreate(CFAllocatorRef allocator, CFErrorDomain domain, CFIndex code,
                         CFDictionaryRef userInfo);

/* As CFErrorCreate with a user info built from numUserInfoValues CF
 * keys/values (retained). */
CFErrorRef CFErrorCreateWithUserInfoKeysAndValues(CFAllocatorRef allocator, CFErrorDomain domain,
                                                  CFIndex code, const void *const *userInfoKeys,
                                                  const void *const *userInfoValues,
                                                  CFIndex numUserInfoValues);

/* The domain (borrowed). NULL/not an error: misuse, NULL. */
CFErrorDomain CFErrorGetDomain(CFErrorRef err);
/* The code. NULL/not an error: misuse, 0. */
CFIndex CFErrorGetCode(CFErrorRef err);

/* The user info (+1); an empty dictionary when the error has none (as
 * Apple). */
CFDictionaryRef CFErrorCopyUserInfo(CFErrorRef err);

/* A description (+1, never NULL for a valid error): the
 * kCFErrorLocalizedDescriptionKey string if present; else
 * "The operation couldn’t be completed. <failure reason>" if a
 * kCFErrorLocalizedFailureReasonKey string is present; else
 * "The operation couldn’t be completed. (<domain> error <code>.)"
 * (with U+2019 as the apostrophe, like Apple). */
CFStringRef CFErrorCopyDescription(CFErrorRef err);

/* The kCFErrorLocalizedFailureReasonKey / ...RecoverySuggestionKey string
 * (+1), or NULL if absent. */
CFStringRef CFErrorCopyFailureReason(CFErrorRef err);
CFStringRef CFErrorCopyRecoverySuggestion(CFErrorRef err);

#ifdef __cplusplus
}
#endif

#endif /* KEYCLASS_COREFOUNDATION_H */
