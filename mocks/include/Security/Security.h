/* Security.framework, the subset keychain code needs (simulated).
 *
 * Names, constant string values and OSStatus values are Apple's, so that code
 * written against this header reads like code written for macOS. Every call
 * acts on the active world (keyclass/world.h) on behalf of its current
 * process, consults the world's fault plan first and is journaled.
 * Ownership follows CoreFoundation: *result of SecItemCopyMatching,
 * SecAccessControlCreateWithFlags, SecKeychainCopyDefault and SecKeychainOpen
 * are +1 references the caller releases.
 */
#ifndef KEYCLASS_SECURITY_H
#define KEYCLASS_SECURITY_H

#include <CoreFoundation/CoreFoundation.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t OSStatus;
typedef uint32_t UInt32;

/* OSStatus values (domain.md §4). */
enum {
    errSecSuccess = 0,
    errSecUnimplemented = -4,
    errSecParam = -50,
    errSecAllocate = -108,
    errSecUserCanceled = -128,
    errSecNotAvailable = -25291,
    errSecAuthFailed = -25293,
    errSecDuplicateItem = -25299,
    errSecItemNotFound = -25300,
    errSecNoSuchAttr = -25303,
    errSecNoDefaultKeychain = -25307,
    errSecInteractionNotAllowed = -25308,
    errSecInteractionRequired = -25315,
    errSecDecode = -26275,
    errSecMissingEntitlement = -34018,
};

/* Item class and attribute keys (Apple's string values). */
#define kSecClass CFSTR("class")
#define kSecClassGenericPassword CFSTR("genp")
#define kSecAttrService CFSTR("svce")
#define kSecAttrAccount CFSTR("acct")
#define kSecAttrAccessGroup CFSTR("agrp")
#define kSecAttrAccessible CFSTR("pdmn")
#define kSecAttrAccessControl CFSTR("accc")
#define kSecAttrSynchronizable CFSTR("sync")
#define kSecAttrLabel CFSTR("labl")
#define kSecValueData CFSTR("v_Data")
#define kSecReturnData CFSTR("r_Data")
#define kSecReturnAttributes CFSTR("r_Attributes")
#define kSecMatchLimit CFSTR("m_Limit")
#define kSecMatchLimitOne CFSTR("m_LimitOne")
#define kSecMatchLimitAll CFSTR("m_LimitAll")
#define kSecMatchSearchList CFSTR("m_SearchList")
#define kSecUseDataProtectionKeychain CFSTR("nleg")
#define kSecUseAuthenticationContext CFSTR("u_AuthCtx")
#define kSecUseKeychain CFSTR("u_Keychain")

/* kSecAttrAccessible values: the seven protection classes. */
#define kSecAttrAccessibleWhenUnlocked CFSTR("ak")
#define kSecAttrAccessibleWhenUnlockedThisDeviceOnly CFSTR("aku")
#define kSecAttrAccessibleAfterFirstUnlock CFSTR("ck")
#define kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly CFSTR("cku")
#define kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly CFSTR("akpu")
#define kSecAttrAccessibleAlways CFSTR("dk")
#define kSecAttrAccessibleAlwaysThisDeviceOnly CFSTR("dku")

/* ---- SecItem ------------------------------------------------------------ */

/* Adds a kSecClassGenericPassword item. `result` may be NULL (no return keys
 * are supported on add; a non-NULL result is set to NULL). */
OSStatus SecItemAdd(CFDictionaryRef attributes, CFTypeRef *result);
/* Finds items. With kSecReturnData alone: a CFData; with
 * kSecReturnAttributes: a CFDictionary (holding kSecValueData too when both
 * are set); with kSecMatchLimitAll: a CFArray of those. +1 reference. */
OSStatus SecItemCopyMatching(CFDictionaryRef query, CFTypeRef *result);
/* Changes attributes (and data) of the matching items in place. */
OSStatus SecItemUpdate(CFDictionaryRef query, CFDictionaryRef attributesToUpdate);
/* Deletes every matching item. */
OSStatus SecItemDelete(CFDictionaryRef query);

/* ---- SecAccessControl -------------------------------------------------- */

typedef const struct __SecAccessControl *SecAccessControlRef;
typedef uint32_t SecAccessControlCreateFlags;
enum {
    kSecAccessControlUserPresence = 1u << 0,
    kSecAccessControlBiometryAny = 1u << 1,
    kSecAccessControlDevicePasscode = 1u << 4,
    kSecAccessControlPrivateKeyUsage = 1u << 30,
};

CFTypeID SecAccessControlGetTypeID(void);
/* `protection` is one of the kSecAttrAccessible* values. Unknown protection or
 * flags: NULL and *error (if given) a CFError in kCFErrorDomainOSStatus with
 * errSecParam (+1, caller releases). */
SecAccessControlRef SecAccessControlCreateWithFlags(CFAllocatorRef allocator,
                                                    CFTypeRef protection,
                                                    SecAccessControlCreateFlags flags,
                                                    CFErrorRef *error);
/* The protection class / flags an access control was created with (Apple
 * exposes these only through private SPI; the shim needs them to be read). */
CFTypeRef SecAccessControlGetProtection(SecAccessControlRef access_control);
SecAccessControlCreateFlags SecAccessControlGetFlags(SecAccessControlRef access_control);

/* ---- SecKeychain (file-based keychains) ---------------------------------- */

typedef struct __SecKeychain *SecKeychainRef;

CFTypeID SecKeychainGetTypeID(void);
/* The process's default (login) keychain; errSecNoDefaultKeychain when the
 * process has none reachable (overridden HOME). */
OSStatus SecKeychainCopyDefault(SecKeychainRef *keychain);
/* Opens a keychain by path. Only the login keychain exists:
 * SEC_LOGIN_KEYCHAIN_PATH (a leading "~/" is the user's home); any other path
 * gives errSecNoSuchKeychain-like errSecParam. */
OSStatus SecKeychainOpen(const char *path, SecKeychainRef *keychain);
/* Unlocks it. With usePassword false, the user is prompted (file-keychain
 * unlock prompt; needs a GUI session). */
OSStatus SecKeychainUnlock(SecKeychainRef keychain, UInt32 passwordLength, const void *password,
                           Boolean usePassword);

#define SEC_LOGIN_KEYCHAIN_PATH "~/Library/Keychains/login.keychain-db"

/* ---- Randomness ---------------------------------------------------------- */

typedef const struct __SecRandom *SecRandomRef;
#define kSecRandomDefault ((SecRandomRef)NULL)
/* Draws from the active world's seeded generator. Returns errSecSuccess. */
int SecRandomCopyBytes(SecRandomRef rnd, size_t count, void *bytes);

#endif
