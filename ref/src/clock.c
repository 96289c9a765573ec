/* The only two places the core asks the world about "now": the clock
 * (CFAbsoluteTimeGetCurrent) and the window-server session
 * (CGSessionCopyCurrentDictionary). */
#include "core_internal.h"

#include <CoreGraphics/CoreGraphics.h>

int64_t core_now_ms(void) {
    CFAbsoluteTime t = CFAbsoluteTimeGetCurrent();
    double ms = t * 1000.0;
    return (int64_t)(ms >= 0 ? ms + 0.5 : ms - 0.5);
}

bool core_has_gui(void) {
    CFDictionaryRef session = CGSessionCopyCurrentDictionary();
    if (session == NULL)
        return false;
    CFRelease(session);
    return true;
}
