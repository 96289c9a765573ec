/* CoreGraphics, only the window-server session query (simulated). */
#ifndef KEYCLASS_COREGRAPHICS_H
#define KEYCLASS_COREGRAPHICS_H

#include <CoreFoundation/CoreFoundation.h>

#define kCGSessionOnConsoleKey CFSTR("kCGSSessionOnConsoleKey")
#define kCGSessionUserNameKey CFSTR("kCGSSessionUserNameKey")

/* The current process's window-server session (+1 CFDictionary), or NULL for
 * a process without one (a launchd agent outside the GUI session). */
CFDictionaryRef CGSessionCopyCurrentDictionary(void);

#endif
