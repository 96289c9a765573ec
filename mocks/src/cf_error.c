/* CFError: domain, code and an optional user-info dictionary, plus the
 * static immortal domain and key constants.
 */
#include "cf_internal.h"

#include <string.h>

/* ---- Constants ------------------------------------------------------------------ */

static cf_static_string domain_posix = CF_STATIC_STRING("NSPOSIXErrorDomain");
static cf_static_string domain_osstatus = CF_STATIC_STRING("NSOSStatusErrorDomain");
static cf_static_string domain_mach = CF_STATIC_STRING("NSMachErrorDomain");
static cf_static_string domain_cocoa = CF_STATIC_STRING("NSCocoaErrorDomain");
static cf_static_string key_localized_description = CF_STATIC_STRING("NSLocalizedDescription");
static cf_static_string key_failure_reason = CF_STATIC_STRING("NSLocalizedFailureReason");
static cf_static_string key_recovery_suggestion = CF_STATIC_STRING("NSLocalizedRecoverySuggestion");
static cf_static_string key_description = CF_STATIC_STRING("NSDescription");
static cf_static_string key_underlying_error = CF_STATIC_STRING("NSUnderlyingError");

const CFErrorDomain kCFErrorDomainPOSIX = &domain_posix.body;
const CFErrorDomain kCFErrorDomainOSStatus = &domain_osstatus.body;
const CFErrorDomain kCFErrorDomainMach = &domain_mach.body;
const CFErrorDomain kCFErrorDomainCocoa = &domain_cocoa.body;
const CFStringRef kCFErrorLocalizedDescriptionKey = &key_localized_description.body;
const CFStringRef kCFErrorLocalizedFailureReasonKey = &key_failure_reason.body;
const CFStringRef kCFErrorLocalizedRecoverySuggestionKey = &key_recovery_suggestion.body;
const CFStringRef kCFErrorDescriptionKey = &key_description.body;
const CFStringRef kCFErrorUnderlyingErrorKey = &key_underlying_error.body;

void cf_error_register_statics(void) {
    cf_static_string *const all[] = {
        &domain_posix,
        &domain_osstatus,
        &domain_mach,
        &domain_cocoa,
        &key_localized_description,
        &key_failure_reason,
        &key_recovery_suggestion,
        &key_description,
        &key_underlying_error,
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        cf_string_register_static(&all[i]->body);
    }
}

/* ---- Errors ------------------------------------------------------------------------ */

struct __CFError {
    CFStringRef domain; /* retained */
    CFIndex code;
    CFDictionaryRef user_info; /* retained immutable copy, or NULL */
};

CFTypeID CFErrorGetTypeID(void) { return CF_TYPE_ID_ERROR; }

CFErrorRef CFErrorCreate(CFAllocatorRef allocator, CFErrorDomain domain, CFIndex code,
                         CFDictionaryRef userInfo) {
    if (cf_cast(domain, CF_TYPE_ID_STRING, "CFErrorCreate") == NULL) {
        return NULL;
    }
    if (userInfo != NULL && cf_cast(userInfo, CF_TYPE_ID_DICTIONARY, "CFErrorCreate") == NULL) {
        return NULL;
    }
    struct __CFError *e = cf_object_alloc(&cf_error_class, sizeof *e, false);
    if (e == NULL) {
        return NULL;
    }
    e->domain = CFRetain(domain);
    e->code = code;
    e->user_info = userInfo != NULL ? CFDictionaryCreateCopy(allocator, userInfo) : NULL;
    return e;
}

CFErrorRef CFErrorCreateWithUserInfoKeysAndValues(CFAllocatorRef allocator, CFErrorDomain domain,
                                                  CFIndex code, const void *const *userInfoKeys,
                                                  const void *const *userInfoValues,
                                                  CFIndex numUserInfoValues) {
    if (numUserInfoValues < 0 ||
        (numUserInfoValues > 0 && (userInfoKeys == NULL || userInfoValues == NULL))) {
        cf_misuse("CFErrorCreateWithUserInfoKeysAndValues called with %s",
                  numUserInfoValues < 0 ? "a negative count" : "NULL keys or values");
        return NULL;
    }
    CFDictionaryRef user_info = CFDictionaryCreate(
        allocator, (const void **)(uintptr_t)userInfoKeys, (const void **)(uintptr_t)userInfoValues,
        numUserInfoValues, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
    if (user_info == NULL) {
        return NULL;
    }
    CFErrorRef error = CFErrorCreate(allocator, domain, code, user_info);
    CFRelease(user_info);
    return error;
}

static const struct __CFError *error_cast(CFErrorRef error, const char *function) {
    return cf_cast(error, CF_TYPE_ID_ERROR, function);
}

CFErrorDomain CFErrorGetDomain(CFErrorRef err) {
    const struct __CFError *e = error_cast(err, "CFErrorGetDomain");
    return e != NULL ? e->domain : NULL;
}

CFIndex CFErrorGetCode(CFErrorRef err) {
    const struct __CFError *e = error_cast(err, "CFErrorGetCode");
    return e != NULL ? e->code : 0;
}

CFDictionaryRef CFErrorCopyUserInfo(CFErrorRef err) {
    const struct __CFError *e = error_cast(err, "CFErrorCopyUserInfo");
    if (e == NULL) {
        return NULL;
    }
    if (e->user_info != NULL) {
        return CFRetain(e->user_info);
    }
    return CFDictionaryCreate(NULL, NULL, NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                              &kCFTypeDictionaryValueCallBacks);
}

/* The user-info string under `key` (borrowed), or NULL when absent or not a
 * string. The user info may hold raw pointers: checked before use. */
static CFStringRef user_info_string(const struct __CFError *e, CFStringRef key) {
    if (e->user_info == NULL) {
        return NULL;
    }
    const void *value = CFDictionaryGetValue(e->user_info, key);
    if (value == NULL || !kc_cf_is_live(value) || CFGetTypeID(value) != CF_TYPE_ID_STRING) {
        return NULL;
    }
    return value;
}

CFStringRef CFErrorCopyDescription(CFErrorRef err) {
    const struct __CFError *e = error_cast(err, "CFErrorCopyDescription");
    if (e == NULL) {
        return NULL;
    }
    CFStringRef localized = user_info_string(e, kCFErrorLocalizedDescriptionKey);
    if (localized != NULL) {
        return CFRetain(localized);
    }
    cf_strbuf text = {0};
    cf_strbuf_append_cstr(&text, "The operation couldn\xE2\x80\x99t be completed. ");
    CFStringRef reason = user_info_string(e, kCFErrorLocalizedFailureReasonKey);
    if (reason != NULL) {
        cf_strbuf_append_string(&text, reason);
    } else {
        cf_strbuf_append_cstr(&text, "(");
        cf_strbuf_append_string(&text, e->domain);
        cf_strbuf_appendf(&text, " error %ld.)", e->code);
    }
    return cf_strbuf_finish(&text);
}

CFStringRef CFErrorCopyFailureReason(CFErrorRef err) {
    const struct __CFError *e = error_cast(err, "CFErrorCopyFailureReason");
    CFStringRef reason = e != NULL ? user_info_string(e, kCFErrorLocalizedFailureReasonKey) : NULL;
    return reason != NULL ? CFRetain(reason) : NULL;
}

CFStringRef CFErrorCopyRecoverySuggestion(CFErrorRef err) {
    const struct __CFError *e = error_cast(err, "CFErrorCopyRecoverySuggestion");
    CFStringRef suggestion =
        e != NULL ? user_info_string(e, kCFErrorLocalizedRecoverySuggestionKey) : NULL;
    return suggestion != NULL ? CFRetain(suggestion) : NULL;
}

/* ---- Class ----------------------------------------------------------------------------- */

static void error_finalize(CFTypeRef obj) {
    struct __CFError *e = (struct __CFError *)(uintptr_t)obj;
    CFRelease(e->domain);
    if (e->user_info != NULL) {
        CFRelease(e->user_info);
    }
}

static CFIndex user_info_count(const struct __CFError *e) {
    return e->user_info != NULL ? CFDictionaryGetCount(e->user_info) : 0;
}

static Boolean error_equal(CFTypeRef a, CFTypeRef b) {
    const struct __CFError *x = a, *y = b;
    if (x->code != y->code || !CFEqual(x->domain, y->domain)) {
        return false;
    }
    if (x->user_info == NULL || y->user_info == NULL) {
        return user_info_count(x) == 0 && user_info_count(y) == 0; /* none == empty */
    }
    return CFEqual(x->user_info, y->user_info);
}

static CFHashCode error_hash(CFTypeRef obj) {
    const struct __CFError *e = obj;
    return cf_hash_u64((uint64_t)e->code) ^ CFHash(e->domain);
}

static CFStringRef error_copy_description(CFTypeRef obj) {
    const struct __CFError *e = obj;
    cf_strbuf text = {0};
    cf_strbuf_append_cstr(&text, "Error Domain=");
    cf_strbuf_append_string(&text, e->domain);
    cf_strbuf_appendf(&text, " Code=%ld \"", e->code);
    CFStringRef description = CFErrorCopyDescription((CFErrorRef)(uintptr_t)obj);
    cf_strbuf_append_string(&text, description);
    if (description != NULL) {
        CFRelease(description);
    }
    cf_strbuf_append_cstr(&text, "\"");
    return cf_strbuf_finish(&text);
}

const kc_cf_class cf_error_class = {
    .type_id = CF_TYPE_ID_ERROR,
    .name = "CFError",
    .finalize = error_finalize,
    .equal = error_equal,
    .hash = error_hash,
    .copy_description = error_copy_description,
};
