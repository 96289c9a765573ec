/* CryptoKit's SecureEnclave.P256.Signing, a C face (simulated).
 *
 * Keys are real ECDSA P-256 keys (OpenSSL) held by the simulated enclave. A
 * key is named by its *data representation*: an opaque blob bound to this
 * simulated device (a tampered or foreign blob is rejected with errSecDecode).
 * Statuses are OSStatus values, except that a failed or refused user-presence
 * authentication returns its LAError code (LAErrorUserCancel, ...).
 */
#ifndef KEYCLASS_SECUREENCLAVE_H
#define KEYCLASS_SECUREENCLAVE_H

#include <CoreFoundation/CoreFoundation.h>
#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>

/* SecureEnclave.isAvailable (fidelity knob se_available). */
Boolean SEIsAvailable(void);
/* Creates a signing key. `access_control` NULL: CryptoKit's default
 * (AfterFirstUnlockThisDeviceOnly, no flags). On success *data_representation
 * is a +1 CFData. */
OSStatus SEKeyGenerate(SecAccessControlRef access_control, CFDataRef *data_representation);
/* The 65-byte uncompressed public key (+1 CFData). */
OSStatus SEKeyCopyPublicKey(CFDataRef data_representation, CFDataRef *public_key);
/* ECDSA P-256 over SHA-256 of `message`, DER encoded (+1 CFData). A key with a
 * user-presence flag prompts unless `context` (may be NULL) is authenticated
 * inside its reuse window and the reuse rules of domain.md §5 allow it. */
OSStatus SEKeySign(CFDataRef data_representation, CFDataRef message, LAContextRef context,
                   CFDataRef *signature);
/* Deletes the key; later uses of its blob fail with errSecItemNotFound. */
OSStatus SEKeyDelete(CFDataRef data_representation);

#endif
