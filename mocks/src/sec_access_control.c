/* SecAccessControl: a protection class plus flags, as a CF object (type ID
 * 16), and the kSecAttrAccessible* constants of the seven classes.
 *
 * SecAccessControlCreateWithFlags goes through the world's entry hook
 * (WORLD_API_SEC_ACCESS_CONTROL_CREATE): an injected status makes it return
 * NULL with a CFError in kCFErrorDomainOSStatus carrying that status; invalid
 * input gives NULL and CFError(errSecParam), journaled as -50.
 */
#include "sec_internal.h"

#include <keyclass/cf_accounting.h>
#include <stdio.h>

#define SEC_ACCESS_CONTROL_TYPE_ID 16

struct __SecAccessControl {
    world_class protection;
    SecAccessControlCreateFlags flags;
};

static Boolean ac_equal(CFTypeRef a, CFTypeRef b) {
    const struct __SecAccessControl *x = a, *y = b;
    return x->protection == y->protection && x->flags == y->flags;
}

static CFHashCode ac_hash(CFTypeRef obj) {
    const struct __SecAccessControl *ac = obj;
    return (CFHashCode)ac->protection * 2654435761u ^ (CFHashCode)ac->flags;
}

static CFStringRef ac_copy_description(CFTypeRef obj) {
    const struct __SecAccessControl *ac = obj;
    char text[128];
    snprintf(text, sizeof text, "<SecAccessControl protection=%s flags=0x%x>",
             world_class_name(ac->protection), (unsigned)ac->flags);
    return CFStringCreateWithCString(NULL, text, kCFStringEncodingUTF8);
}

static const kc_cf_class access_control_class = {
    .type_id = SEC_ACCESS_CONTROL_TYPE_ID,
    .name = "SecAccessControl",
    .finalize = NULL,
    .equal = ac_equal,
    .hash = ac_hash,
    .copy_description = ac_copy_description,
};

CFTypeID SecAccessControlGetTypeID(void) { return SEC_ACCESS_CONTROL_TYPE_ID; }

/* ---- Protection classes ---------------------------------------------------------- */

/* The seven constants, interned once (CFSTR costs a hash lookup per use; the
 * pointers of interned immortal strings never change). */
static CFStringRef class_constants[WORLD_CLASS_COUNT];

static void init_class_constants(void) {
    if (class_constants[0] != NULL)
        return;
    class_constants[WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY] =
        kSecAttrAccessibleWhenUnlockedThisDeviceOnly;
    class_constants[WORLD_CLASS_AFTER_FIRST_UNLOCK] = kSecAttrAccessibleAfterFirstUnlock;
    class_constants[WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY] =
        kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly;
    class_constants[WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY] =
        kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly;
    class_constants[WORLD_CLASS_ALWAYS] = kSecAttrAccessibleAlways;
    class_constants[WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY] = kSecAttrAccessibleAlwaysThisDeviceOnly;
    class_constants[WORLD_CLASS_WHEN_UNLOCKED] =
        kSecAttrAccessibleWhenUnlocked; /* last: the flag */
}

CFStringRef sec_class_constant(world_class cls) {
    init_class_constants();
    return (unsigned)cls < WORLD_CLASS_COUNT ? class_constants[cls] : NULL;
}

int sec_class_from_value(CFTypeRef value) {
    if (!kc_cf_is_live(value) || CFGetTypeID(value) != CFStringGetTypeID())
        return -1;
    init_class_constants();
    for (int i = 0; i < WORLD_CLASS_COUNT; i++)
        if (value == class_constants[i])
            return i;
    for (int i = 0; i < WORLD_CLASS_COUNT; i++)
        if (CFEqual(value, class_constants[i]))
            return i;
    return -1;
}

/* ---- Access control objects ------------------------------------------------------------ */

bool sec_access_control_flags_valid(SecAccessControlCreateFlags flags) {
    const SecAccessControlCreateFlags known =
        kSecAccessControlUserPresence | kSecAccessControlBiometryAny |
        kSecAccessControlDevicePasscode | kSecAccessControlPrivateKeyUsage;
    return (flags & ~known) == 0;
}

SecAccessControlRef sec_access_control_make(world_class protection,
                                            SecAccessControlCreateFlags flags) {
    struct __SecAccessControl *ac = kc_cf_object_create(&access_control_class, sizeof *ac);
    if (ac == NULL)
        return NULL;
    ac->protection = protection;
    ac->flags = flags;
    return ac;
}

bool sec_access_control_read(CFTypeRef value, world_class *protection, uint32_t *flags) {
    if (!kc_cf_is_live(value) || CFGetTypeID(value) != SEC_ACCESS_CONTROL_TYPE_ID)
        return false;
    const struct __SecAccessControl *ac = value;
    *protection = ac->protection;
    *flags = ac->flags;
    return true;
}

static void set_error(CFErrorRef *error, OSStatus status) {
    if (error != NULL)
        *error = CFErrorCreate(NULL, kCFErrorDomainOSStatus, (CFIndex)status, NULL);
}

SecAccessControlRef SecAccessControlCreateWithFlags(CFAllocatorRef allocator, CFTypeRef protection,
                                                    SecAccessControlCreateFlags flags,
                                                    CFErrorRef *error) {
    (void)allocator;
    if (error != NULL)
        *error = NULL;
    world *w = world_active();
    if (w == NULL) {
        /* No world to act on: nothing can be journaled. */
        set_error(error, errSecNotAvailable);
        return NULL;
    }
    world_call call;
    world_call_begin(w, &call, WORLD_API_SEC_ACCESS_CONTROL_CREATE);
    int cls = protection != NULL ? sec_class_from_value(protection) : -1;
    call.cls = cls;
    call.flags = flags;
    int32_t status;
    SecAccessControlRef ac = NULL;
    if (!world_call_faulted(w, &call, &status)) {
        if (cls < 0 || !sec_access_control_flags_valid(flags)) {
            status = errSecParam;
        } else {
            ac = sec_access_control_make((world_class)cls, flags);
            status = ac != NULL ? errSecSuccess : errSecAllocate;
        }
    }
    if (ac == NULL)
        set_error(error, status); /* an injected status, even 0, still fails the call */
    world_call_end(w, &call, status);
    return ac;
}

CFTypeRef SecAccessControlGetProtection(SecAccessControlRef access_control) {
    const struct __SecAccessControl *ac = kc_cf_object_cast(
        access_control, SEC_ACCESS_CONTROL_TYPE_ID, "SecAccessControlGetProtection");
    return ac != NULL ? sec_class_constant(ac->protection) : NULL;
}

SecAccessControlCreateFlags SecAccessControlGetFlags(SecAccessControlRef access_control) {
    const struct __SecAccessControl *ac =
        kc_cf_object_cast(access_control, SEC_ACCESS_CONTROL_TYPE_ID, "SecAccessControlGetFlags");
    return ac != NULL ? ac->flags : 0;
}
