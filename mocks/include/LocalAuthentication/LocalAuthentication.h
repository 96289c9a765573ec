/* LocalAuthentication, a C face of LAContext (simulated).
 *
 * An LAContextRef is a CF object (CFRelease it). evaluatePolicy is
 * synchronous here: it shows one prompt (domain.md §5) and consumes one
 * answer of the world's user.
 */
#ifndef KEYCLASS_LOCALAUTHENTICATION_H
#define KEYCLASS_LOCALAUTHENTICATION_H

#include <CoreFoundation/CoreFoundation.h>

typedef struct __LAContext *LAContextRef;

typedef enum {
    kLAPolicyDeviceOwnerAuthenticationWithBiometrics = 1,
    kLAPolicyDeviceOwnerAuthentication = 2,
} LAPolicy;

/* LAError codes (Apple's values). */
enum {
    LAErrorAuthenticationFailed = -1,
    LAErrorUserCancel = -2,
    LAErrorUserFallback = -3,
    LAErrorSystemCancel = -4,
    LAErrorPasscodeNotSet = -5,
    LAErrorAppCancel = -9,
    LAErrorInvalidContext = -10,
    LAErrorNotInteractive = -1004,
};

#define LAErrorDomain CFSTR("com.apple.LocalAuthentication")

/* Apple's cap on touchIDAuthenticationAllowableReuseDuration, in seconds. */
#define LATouchIDAuthenticationMaximumAllowableReuseDuration 300.0

CFTypeID LAContextGetTypeID(void);
/* A new context of the current process (+1). */
LAContextRef LAContextCreate(void);
/* Sets the reuse window; values above 300 s are capped, negatives become 0. */
void LAContextSetTouchIDAuthenticationAllowableReuseDuration(LAContextRef context, double seconds);
double LAContextGetTouchIDAuthenticationAllowableReuseDuration(LAContextRef context);
/* Could evaluatePolicy be shown now? On false, *error (if given) is an
 * LAErrorDomain CFError (+1): NotInteractive without a GUI session or while
 * the device is locked, PasscodeNotSet without passcode and biometry. */
Boolean LAContextCanEvaluatePolicy(LAContextRef context, LAPolicy policy, CFErrorRef *error);
/* Shows one prompt. true on approval (the context is then authenticated until
 * its reuse window closes or it is invalidated); false with an LAErrorDomain
 * CFError (+1) otherwise. */
Boolean LAContextEvaluatePolicy(LAContextRef context, LAPolicy policy, CFStringRef localizedReason,
                                CFErrorRef *error);
/* Ends the context's authentication; later uses fail with InvalidContext. */
void LAContextInvalidate(LAContextRef context);

#endif
