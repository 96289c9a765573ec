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

/* Advisory locks, like flock(2) with LOCK_EX | LOCK_NB on a lock file.
 *
 * A lock is named by a path but lives beside the files, not among them:
 * taking one creates no file (kc_file_exists / kc_file_list never see it),
 * and file calls never touch a lock. It is held by the calling process (in
 * its current generation) until it unlocks it, or until the process dies:
 * a crash, a restart, a rebuild or a device reboot releases every lock the
 * process held, as the kernel releases flock locks when the last descriptor
 * closes, so a crash never leaves a lock stuck. Both calls go through the
 * world's entry hook (journaled as FileLock / FileUnlock, fault-able, crash
 * points) and never wait.
 *
 * kc_file_trylock: 0 when the caller now holds the lock (also when it already
 * held it: not counted, one unlock releases it); -EWOULDBLOCK when another
 * live process holds it; -EINVAL for a NULL or empty path. */
int kc_file_trylock(const char *path);
/* Releases the caller's lock: 0, or -ENOLCK when the caller does not hold it
 * (another process's lock is never released by this). */
int kc_file_unlock(const char *path);

#endif
