/* CFNumber (integers up to 64 bits and floating point, compared by numeric
 * value across types) and CFBoolean (two static immortal objects).
 *
 * A number keeps Apple's canonical type and its value either as int64_t or
 * as double. Every conversion avoids undefined behaviour: out-of-range
 * floating values are range-checked before any cast.
 */
#include "cf_internal.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

struct __CFNumber {
    CFNumberType type; /* canonical: SInt8/16/32/64, Float32 or Float64 */
    bool is_float;
    int64_t integer; /* when !is_float */
    double real;     /* when is_float (a Float32 is stored exactly) */
};

/* 2^63 as a double: the exclusive upper bound of int64_t. */
#define TWO_POW_63 9223372036854775808.0

CFTypeID CFNumberGetTypeID(void) { return CF_TYPE_ID_NUMBER; }

/* Apple's canonical type of each public type; 0 for an unknown type. */
static CFNumberType canonical_type(CFNumberType type) {
    switch (type) {
    case kCFNumberSInt8Type:
    case kCFNumberCharType:
        return kCFNumberSInt8Type;
    case kCFNumberSInt16Type:
    case kCFNumberShortType:
        return kCFNumberSInt16Type;
    case kCFNumberSInt32Type:
    case kCFNumberIntType:
        return kCFNumberSInt32Type;
    case kCFNumberSInt64Type:
    case kCFNumberLongType:
    case kCFNumberLongLongType:
    case kCFNumberCFIndexType:
    case kCFNumberNSIntegerType:
        return kCFNumberSInt64Type;
    case kCFNumberFloat32Type:
    case kCFNumberFloatType:
        return kCFNumberFloat32Type;
    case kCFNumberFloat64Type:
    case kCFNumberDoubleType:
    case kCFNumberCGFloatType:
        return kCFNumberFloat64Type;
    default:
        return 0;
    }
}

CFNumberRef CFNumberCreate(CFAllocatorRef allocator, CFNumberType theType, const void *valuePtr) {
    (void)allocator;
    CFNumberType canonical = canonical_type(theType);
    if (canonical == 0 || valuePtr == NULL) {
        cf_misuse("CFNumberCreate called with %s",
                  canonical == 0 ? "an unknown number type" : "NULL");
        return NULL;
    }
    struct __CFNumber *n = cf_object_alloc(&cf_number_class, sizeof *n, false);
    if (n == NULL) {
        return NULL;
    }
    n->type = canonical;
    switch (theType) {
    case kCFNumberSInt8Type:
        n->integer = *(const int8_t *)valuePtr;
        break;
    case kCFNumberCharType:
        n->integer = *(const signed char *)valuePtr;
        break;
    case kCFNumberSInt16Type:
        n->integer = *(const int16_t *)valuePtr;
        break;
    case kCFNumberShortType:
        n->integer = *(const short *)valuePtr;
        break;
    case kCFNumberSInt32Type:
        n->integer = *(const int32_t *)valuePtr;
        break;
    case kCFNumberIntType:
        n->integer = *(const int *)valuePtr;
        break;
    case kCFNumberSInt64Type:
        n->integer = *(const int64_t *)valuePtr;
        break;
    case kCFNumberLongType:
    case kCFNumberNSIntegerType:
        n->integer = *(const long *)valuePtr;
        break;
    case kCFNumberLongLongType:
        n->integer = *(const long long *)valuePtr;
        break;
    case kCFNumberCFIndexType:
        n->integer = *(const CFIndex *)valuePtr;
        break;
    case kCFNumberFloat32Type:
    case kCFNumberFloatType:
        n->is_float = true;
        n->real = *(const float *)valuePtr;
        break;
    default: /* the double types */
        n->is_float = true;
        n->real = *(const double *)valuePtr;
        break;
    }
    return n;
}

static const struct __CFNumber *number_cast(CFNumberRef number, const char *function) {
    return cf_cast(number, CF_TYPE_ID_NUMBER, function);
}

CFNumberType CFNumberGetType(CFNumberRef number) {
    const struct __CFNumber *n = number_cast(number, "CFNumberGetType");
    return n != NULL ? n->type : 0;
}

CFIndex CFNumberGetByteSize(CFNumberRef number) {
    const struct __CFNumber *n = number_cast(number, "CFNumberGetByteSize");
    if (n == NULL) {
        return 0;
    }
    switch (n->type) {
    case kCFNumberSInt8Type:
        return 1;
    case kCFNumberSInt16Type:
        return 2;
    case kCFNumberSInt32Type:
    case kCFNumberFloat32Type:
        return 4;
    default:
        return 8;
    }
}

Boolean CFNumberIsFloatType(CFNumberRef number) {
    const struct __CFNumber *n = number_cast(number, "CFNumberIsFloatType");
    return n != NULL && n->is_float;
}

/* ---- Conversions ---------------------------------------------------------------- */

/* The signed integer range of a canonical integer type. */
static void int_range(CFNumberType canonical, int64_t *min, int64_t *max) {
    switch (canonical) {
    case kCFNumberSInt8Type:
        *min = INT8_MIN, *max = INT8_MAX;
        break;
    case kCFNumberSInt16Type:
        *min = INT16_MIN, *max = INT16_MAX;
        break;
    case kCFNumberSInt32Type:
        *min = INT32_MIN, *max = INT32_MAX;
        break;
    default:
        *min = INT64_MIN, *max = INT64_MAX;
        break;
    }
}

/* Whether `d` is an integer in int64_t's range; if so stores it. */
static bool double_as_int64(double d, int64_t *out) {
    if (!(d >= -TWO_POW_63 && d < TWO_POW_63)) { /* also false for NaN */
        return false;
    }
    int64_t v = (int64_t)d; /* in range: truncation is defined */
    if ((double)v != d) {
        return false;
    }
    *out = v;
    return true;
}

/* The value as an integer of the canonical integer type `target`; *exact
 * false if it had to be truncated, clamped or wrapped. */
static int64_t to_integer(const struct __CFNumber *n, CFNumberType target, bool *exact) {
    int64_t min, max;
    int_range(target, &min, &max);
    if (!n->is_float) {
        *exact = n->integer >= min && n->integer <= max;
        return n->integer; /* the caller's narrowing cast wraps */
    }
    double d = n->real;
    *exact = false;
    if (d != d) {
        return 0;
    }
    if (d < (double)min) {
        return min;
    }
    /* (double)max + 1 is exact for every width (a power of two). */
    if (d >= (double)max + 1.0) {
        return max;
    }
    int64_t v = (int64_t)d;
    *exact = (double)v == d;
    return v;
}

static double to_double(const struct __CFNumber *n, bool *exact) {
    if (n->is_float) {
        *exact = true;
        return n->real;
    }
    double d = (double)n->integer;
    int64_t back;
    *exact = double_as_int64(d, &back) && back == n->integer;
    return d;
}

static float to_float(const struct __CFNumber *n, bool *exact) {
    double d = to_double(n, exact);
    if (d != d) {
        return (float)d;
    }
    if (d > FLT_MAX || d < -FLT_MAX) { /* converting would be undefined */
        *exact = *exact && (d == INFINITY || d == -INFINITY);
        return d > 0 ? INFINITY : -INFINITY;
    }
    float f = (float)d;
    *exact = *exact && (double)f == d;
    return f;
}

/* Wrapping narrow conversions via unsigned types, so no overflow occurs. */
static int64_t wrap(int64_t v, unsigned bits) {
    uint64_t u = (uint64_t)v;
    if (bits < 64) {
        uint64_t mask = (UINT64_C(1) << bits) - 1;
        uint64_t sign = UINT64_C(1) << (bits - 1);
        u &= mask;
        if (u & sign) {
            return -(int64_t)(mask - u) - 1;
        }
    }
    return (int64_t)u;
}

Boolean CFNumberGetValue(CFNumberRef number, CFNumberType theType, void *valuePtr) {
    const struct __CFNumber *n = number_cast(number, "CFNumberGetValue");
    if (n == NULL) {
        return false;
    }
    CFNumberType target = canonical_type(theType);
    if (target == 0 || valuePtr == NULL) {
        cf_misuse("CFNumberGetValue called with %s",
                  target == 0 ? "an unknown number type" : "NULL");
        return false;
    }
    bool exact = true;
    if (target == kCFNumberFloat32Type) {
        float f = to_float(n, &exact);
        memcpy(valuePtr, &f, sizeof f);
        return exact;
    }
    if (target == kCFNumberFloat64Type) {
        double d = to_double(n, &exact);
        memcpy(valuePtr, &d, sizeof d);
        return exact;
    }
    int64_t v = to_integer(n, target, &exact);
    switch (theType) {
    case kCFNumberSInt8Type:
    case kCFNumberCharType:
        *(int8_t *)valuePtr = (int8_t)wrap(v, 8);
        break;
    case kCFNumberSInt16Type:
    case kCFNumberShortType:
        *(int16_t *)valuePtr = (int16_t)wrap(v, 16);
        break;
    case kCFNumberSInt32Type:
    case kCFNumberIntType:
        *(int32_t *)valuePtr = (int32_t)wrap(v, 32);
        break;
    case kCFNumberSInt64Type:
        *(int64_t *)valuePtr = v;
        break;
    case kCFNumberLongLongType:
        *(long long *)valuePtr = v;
        break;
    case kCFNumberCFIndexType:
        *(CFIndex *)valuePtr = v;
        break;
    default: /* long, NSInteger */
        *(long *)valuePtr = v;
        break;
    }
    return exact;
}

/* ---- Comparison --------------------------------------------------------------------- */

static CFComparisonResult compare_int(int64_t a, int64_t b) {
    return a < b ? kCFCompareLessThan : a > b ? kCFCompareGreaterThan : kCFCompareEqualTo;
}

/* Exact comparison of an integer with a double (no rounding of either). */
static CFComparisonResult compare_int_double(int64_t i, double d) {
    if (d != d) {
        return kCFCompareGreaterThan; /* NaN sorts first */
    }
    if (d >= TWO_POW_63) {
        return kCFCompareLessThan;
    }
    if (d < -TWO_POW_63) {
        return kCFCompareGreaterThan;
    }
    int64_t t = (int64_t)d; /* toward zero */
    if (i != t) {
        return compare_int(i, t);
    }
    double fraction = d - (double)t; /* exact: |d| < 2^63 has the same exponent range */
    return fraction > 0   ? kCFCompareLessThan
           : fraction < 0 ? kCFCompareGreaterThan
                          : kCFCompareEqualTo;
}

static CFComparisonResult compare_numbers(const struct __CFNumber *a, const struct __CFNumber *b) {
    if (!a->is_float && !b->is_float) {
        return compare_int(a->integer, b->integer);
    }
    if (!a->is_float) {
        return compare_int_double(a->integer, b->real);
    }
    if (!b->is_float) {
        return (CFComparisonResult)-compare_int_double(b->integer, a->real);
    }
    double x = a->real, y = b->real;
    if (x != x || y != y) {
        return (x != x && y != y) ? kCFCompareEqualTo
               : (x != x)         ? kCFCompareLessThan
                                  : kCFCompareGreaterThan;
    }
    return x < y ? kCFCompareLessThan : x > y ? kCFCompareGreaterThan : kCFCompareEqualTo;
}

CFComparisonResult CFNumberCompare(CFNumberRef number, CFNumberRef otherNumber, void *context) {
    (void)context;
    const struct __CFNumber *a = number_cast(number, "CFNumberCompare");
    const struct __CFNumber *b = number_cast(otherNumber, "CFNumberCompare");
    if (a == NULL || b == NULL) {
        return kCFCompareEqualTo;
    }
    return compare_numbers(a, b);
}

/* ---- Number class ---------------------------------------------------------------------- */

static Boolean number_equal(CFTypeRef a, CFTypeRef b) {
    return compare_numbers(a, b) == kCFCompareEqualTo;
}

static CFHashCode number_hash(CFTypeRef obj) {
    const struct __CFNumber *n = obj;
    int64_t integral;
    if (!n->is_float) {
        return cf_hash_u64((uint64_t)n->integer);
    }
    if (double_as_int64(n->real, &integral)) { /* 5.0 hashes like 5 */
        return cf_hash_u64((uint64_t)integral);
    }
    if (n->real != n->real) {
        return cf_hash_u64(UINT64_C(0x7ff8000000000000));
    }
    uint64_t bits;
    memcpy(&bits, &n->real, sizeof bits);
    return cf_hash_u64(bits);
}

static CFStringRef number_copy_description(CFTypeRef obj) {
    const struct __CFNumber *n = obj;
    cf_strbuf text = {0};
    if (n->is_float) {
        cf_strbuf_appendf(&text, "%.17g", n->real);
    } else {
        cf_strbuf_appendf(&text, "%" PRId64, n->integer);
    }
    return cf_strbuf_finish(&text);
}

const kc_cf_class cf_number_class = {
    .type_id = CF_TYPE_ID_NUMBER,
    .name = "CFNumber",
    .finalize = NULL,
    .equal = number_equal,
    .hash = number_hash,
    .copy_description = number_copy_description,
};

/* ---- CFBoolean ---------------------------------------------------------------------- */

struct __CFBoolean {
    Boolean value;
};

typedef struct {
    cf_header header;
    struct __CFBoolean body;
} static_boolean;

_Static_assert(offsetof(static_boolean, body) == sizeof(cf_header),
               "static objects must have the heap layout");

static const static_boolean boolean_true = {CF_STATIC_HEADER(&cf_boolean_class), {true}};
static const static_boolean boolean_false = {CF_STATIC_HEADER(&cf_boolean_class), {false}};

const CFBooleanRef kCFBooleanTrue = &boolean_true.body;
const CFBooleanRef kCFBooleanFalse = &boolean_false.body;

void cf_boolean_register_statics(void) {
    cf_register_static(kCFBooleanTrue);
    cf_register_static(kCFBooleanFalse);
}

CFTypeID CFBooleanGetTypeID(void) { return CF_TYPE_ID_BOOLEAN; }

Boolean CFBooleanGetValue(CFBooleanRef boolean) {
    const struct __CFBoolean *b = cf_cast(boolean, CF_TYPE_ID_BOOLEAN, "CFBooleanGetValue");
    return b != NULL && b->value;
}

static CFHashCode boolean_hash(CFTypeRef obj) {
    return ((const struct __CFBoolean *)obj)->value ? 1 : 0;
}

static CFStringRef boolean_copy_description(CFTypeRef obj) {
    const char *text = ((const struct __CFBoolean *)obj)->value ? "true" : "false";
    return cf_string_create_utf8(text, strlen(text));
}

const kc_cf_class cf_boolean_class = {
    .type_id = CF_TYPE_ID_BOOLEAN,
    .name = "CFBoolean",
    .finalize = NULL,
    .equal = NULL, /* only two objects: identity is equality */
    .hash = boolean_hash,
    .copy_description = boolean_copy_description,
};
