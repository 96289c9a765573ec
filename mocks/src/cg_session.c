/* CoreGraphics' window-server session query (domain.md §5).
 *
 * A process declared without a GUI session (a launchd agent outside the
 * user's session) gets NULL; any other gets a new dictionary with
 * kCGSessionOnConsoleKey true and the console user's name. Like macOS, the
 * dictionary also carries "CGSSessionScreenIsLocked" = true while the device
 * is locked or asleep (the key is absent otherwise).
 *
 * Not an entry of the world's API table: no fault can be planned on it, and
 * it is neither counted nor journaled (it changes nothing).
 */
#include <CoreFoundation/CoreFoundation.h>
#include <CoreGraphics/CoreGraphics.h>

#include "world_internal.h"

/* The simulated device has one user. */
#define CG_SESSION_USER_NAME "user"

CFDictionaryRef CGSessionCopyCurrentDictionary(void) {
    const world *w = world_active();
    if (w == NULL || !world_proc_has_gui(w, world_current(w)))
        return NULL;
    CFMutableDictionaryRef session = CFDictionaryCreateMutable(
        NULL, 3, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
    if (session == NULL)
        return NULL;
    CFDictionarySetValue(session, kCGSessionOnConsoleKey, kCFBooleanTrue);
    CFDictionarySetValue(session, kCGSessionUserNameKey, CFSTR(CG_SESSION_USER_NAME));
    if (world_device_state_now(w) != WORLD_DEVICE_UNLOCKED || world_device_asleep(w))
        CFDictionarySetValue(session, CFSTR("CGSSessionScreenIsLocked"), kCFBooleanTrue);
    CFDictionaryRef copy = CFDictionaryCreateCopy(NULL, session); /* immutable, like Apple's */
    CFRelease(session);
    return copy;
}
