/* Key files: the one narrow file interface code above the shim uses.
 *
 * The world implements it as a per-user, in-memory file store, so files are
 * part of the deterministic world: every call goes through the world's entry
 * hook (fault plan, journal, crash points) like an Apple API call. Paths are
 * plain strings; there are no directories to create.
 * Statuses: 0, or a negative errno value (-ENOENT, -EEXIST, -EIO, ...).
 */
#ifndef KEYCLASS_FILES_H
#define KEYCLASS_FILES_H

#include <CoreFoundation/CoreFoundation.h>
#include <stdbool.h>
#include <stddef.h>

/* Replaces (or creates) `path` with `data` in one step: readers see the old
 * bytes or the new, never a mix. */
int kc_file_write_atomic(const char *path, const void *data, size_t len);
/* Reads the whole file into *contents (+1 CFData). -ENOENT if absent. */
int kc_file_read(const char *path, CFDataRef *contents);
bool kc_file_exists(const char *path);
/* Atomic rename; replaces `to` if it exists. -ENOENT if `from` is absent. */
int kc_file_rename(const char *from, const char *to);
/* -ENOENT if absent. */
int kc_file_unlink(const char *path);
/* Paths starting with `prefix`, sorted (+1 CFArray of CFString). */
int kc_file_list(const char *prefix, CFArrayRef *paths);

#endif
