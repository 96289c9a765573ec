/* The per-user file store, its advisory locks, and the kc_file_* interface
 * (keyclass/files.h). Files and locks live in the world, so they are
 * deterministic, journaled, fault-able and covered by crash points like any
 * Apple call. */
#include "keyclass/files.h"
#include "world_state.h"

#include <Security/Security.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Binary search: index of `path`, or where it would be inserted. */
static size_t locate(const world *w, const char *path, bool *found) {
    size_t lo = 0, hi = w->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(w->files[mid].path, path);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void file_release(world_file *f) {
    free(f->path);
    if (f->data != NULL)
        memset(f->data, 0, f->len); /* key files may hold handle blobs */
    free(f->data);
}

int world_file_put(world *w, const char *path, const void *data, size_t len) {
    if (path == NULL || (data == NULL && len > 0))
        return -EINVAL;
    unsigned char *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return -ENOMEM;
    if (len)
        memcpy(copy, data, len);
    bool found;
    size_t at = locate(w, path, &found);
    w->files_version++;
    if (found) {
        memset(w->files[at].data, 0, w->files[at].len);
        free(w->files[at].data);
        w->files[at].data = copy;
        w->files[at].len = len;
        return 0;
    }
    if (w->nfiles == w->files_cap) {
        size_t cap = w->files_cap ? w->files_cap * 2 : 16;
        world_file *grown = realloc(w->files, cap * sizeof *grown);
        if (grown == NULL) {
            free(copy);
            return -ENOMEM;
        }
        w->files = grown;
        w->files_cap = cap;
    }
    char *name = strdup(path);
    if (name == NULL) {
        free(copy);
        return -ENOMEM;
    }
    memmove(&w->files[at + 1], &w->files[at], (w->nfiles - at) * sizeof *w->files);
    w->files[at] = (world_file){name, copy, len};
    w->nfiles++;
    return 0;
}

const unsigned char *world_file_get(const world *w, const char *path, size_t *len) {
    bool found;
    size_t at = locate(w, path, &found);
    if (!found)
        return NULL;
    if (len)
        *len = w->files[at].len;
    return w->files[at].data;
}

bool world_file_exists(const world *w, const char *path) {
    bool found;
    (void)locate(w, path, &found);
    return found;
}

size_t world_file_count(const world *w) { return w->nfiles; }

uint64_t world_store_version(const world *w) {
    return world_item_store_version(w) + w->files_version;
}

const char *world_file_path_at(const world *w, size_t index) {
    return index < w->nfiles ? w->files[index].path : NULL;
}

static int file_remove(world *w, const char *path) {
    bool found;
    size_t at = locate(w, path, &found);
    if (!found)
        return -ENOENT;
    file_release(&w->files[at]);
    memmove(&w->files[at], &w->files[at + 1], (w->nfiles - at - 1) * sizeof *w->files);
    w->nfiles--;
    w->files_version++;
    return 0;
}

void world_files_free(world *w) {
    for (size_t i = 0; i < w->nfiles; i++)
        file_release(&w->files[i]);
    free(w->files);
    w->files = NULL;
    w->nfiles = w->files_cap = 0;
    w->files_version++;
    for (size_t i = 0; i < w->nlocks; i++)
        free(w->locks[i].path);
    free(w->locks);
    w->locks = NULL;
    w->nlocks = w->locks_cap = 0;
}

/* ---- Advisory locks (kc_file_trylock) ------------------------------------------------
 * A table beside the files: path -> (holder, generation). Every entry names a
 * live holder: a process's locks go when it crashes (world_call_end) or is
 * reset (world_process_reset: restart, rebuild, reboot). */

static world_lock *lock_find(const world *w, const char *path) {
    for (size_t i = 0; i < w->nlocks; i++)
        if (strcmp(w->locks[i].path, path) == 0)
            return &w->locks[i];
    return NULL;
}

static void lock_drop(world *w, size_t at) {
    free(w->locks[at].path);
    w->locks[at] = w->locks[--w->nlocks];
}

static int lock_take(world *w, const char *path, world_pid pid) {
    const world_lock *held = lock_find(w, path);
    if (held != NULL)
        return held->holder == pid ? 0 : -EWOULDBLOCK;
    if (w->nlocks == w->locks_cap) {
        size_t cap = w->locks_cap ? w->locks_cap * 2 : 4;
        world_lock *grown = realloc(w->locks, cap * sizeof *grown);
        if (grown == NULL)
            return -ENOMEM;
        w->locks = grown;
        w->locks_cap = cap;
    }
    char *name = strdup(path);
    if (name == NULL)
        return -ENOMEM;
    w->locks[w->nlocks++] = (world_lock){name, pid, world_process_generation(w, pid)};
    return 0;
}

static int lock_release(world *w, const char *path, world_pid pid) {
    const world_lock *held = lock_find(w, path);
    if (held == NULL || held->holder != pid)
        return -ENOLCK; /* not the caller's: never released by it */
    lock_drop(w, (size_t)(held - w->locks));
    return 0;
}

void world_locks_release_all(world *w, world_pid pid, const char *why) {
    for (size_t i = w->nlocks; i-- > 0;) {
        if (w->locks[i].holder != pid)
            continue;
        world_journal_event(w, "lock %s released: %s %s", w->locks[i].path, w->procs[pid].cfg.name,
                            why);
        lock_drop(w, i);
    }
}

bool world_locks_held_by(const world *w, world_pid pid) {
    for (size_t i = 0; i < w->nlocks; i++)
        if (w->locks[i].holder == pid)
            return true;
    return false;
}

world_pid world_file_lock_holder(const world *w, const char *path) {
    const world_lock *held = path != NULL ? lock_find(w, path) : NULL;
    return held != NULL ? held->holder : -1;
}

size_t world_file_lock_count(const world *w) { return w->nlocks; }

/* ---- kc_file_*: through the hook -------------------------------------------------- */

static void begin(world *w, world_call *call, world_api api, const char *path) {
    world_call_begin(w, call, api);
    snprintf(call->path, sizeof call->path, "%s", path ? path : "");
}

int kc_file_write_atomic(const char *path, const void *data, size_t len) {
    world *w = world_active();
    if (w == NULL || path == NULL)
        return -EINVAL;
    world_call call;
    begin(w, &call, WORLD_API_FILE_WRITE, path);
    call.in_size = len;
    int32_t st;
    if (!world_call_faulted(w, &call, &st))
        st = world_file_put(w, path, data, len);
    return world_call_end(w, &call, st);
}

int kc_file_read(const char *path, CFDataRef *contents) {
    world *w = world_active();
    if (contents)
        *contents = NULL;
    if (w == NULL || path == NULL || contents == NULL)
        return -EINVAL;
    world_call call;
    begin(w, &call, WORLD_API_FILE_READ, path);
    int32_t st;
    if (!world_call_faulted(w, &call, &st)) {
        size_t len = 0;
        const unsigned char *bytes = world_file_get(w, path, &len);
        if (bytes == NULL) {
            st = -ENOENT;
        } else {
            *contents = CFDataCreate(kCFAllocatorDefault, bytes, (CFIndex)len);
            st = *contents ? 0 : -ENOMEM;
        }
    }
    return world_call_end(w, &call, st);
}

bool kc_file_exists(const char *path) {
    world *w = world_active();
    if (w == NULL || path == NULL)
        return false;
    world_call call;
    begin(w, &call, WORLD_API_FILE_READ, path);
    snprintf(call.detail, sizeof call.detail, "exists");
    int32_t st;
    if (!world_call_faulted(w, &call, &st))
        st = world_file_exists(w, path) ? 0 : -ENOENT;
    return world_call_end(w, &call, st) == 0;
}

int kc_file_rename(const char *from, const char *to) {
    world *w = world_active();
    if (w == NULL || from == NULL || to == NULL)
        return -EINVAL;
    world_call call;
    begin(w, &call, WORLD_API_FILE_RENAME, from);
    snprintf(call.detail, sizeof call.detail, "to=%s", to);
    snprintf(call.path2, sizeof call.path2, "%s", to);
    int32_t st;
    if (!world_call_faulted(w, &call, &st)) {
        size_t len = 0;
        const unsigned char *bytes = world_file_get(w, from, &len);
        if (bytes == NULL) {
            st = -ENOENT;
        } else if (strcmp(from, to) == 0) {
            st = 0;
        } else {
            st = world_file_put(w, to, bytes, len);
            if (st == 0)
                st = file_remove(w, from);
        }
    }
    return world_call_end(w, &call, st);
}

int kc_file_unlink(const char *path) {
    world *w = world_active();
    if (w == NULL || path == NULL)
        return -EINVAL;
    world_call call;
    begin(w, &call, WORLD_API_FILE_UNLINK, path);
    int32_t st;
    if (!world_call_faulted(w, &call, &st))
        st = file_remove(w, path);
    return world_call_end(w, &call, st);
}

int kc_file_list(const char *prefix, CFArrayRef *paths) {
    world *w = world_active();
    if (paths)
        *paths = NULL;
    if (w == NULL || prefix == NULL || paths == NULL)
        return -EINVAL;
    world_call call;
    begin(w, &call, WORLD_API_FILE_READ, prefix);
    snprintf(call.detail, sizeof call.detail, "list");
    call.prefix = true;
    int32_t st;
    if (!world_call_faulted(w, &call, &st)) {
        CFMutableArrayRef out =
            CFArrayCreateMutable(kCFAllocatorDefault, 0, &kCFTypeArrayCallBacks);
        size_t plen = strlen(prefix);
        for (size_t i = 0; out != NULL && i < w->nfiles; i++) {
            if (strncmp(w->files[i].path, prefix, plen) != 0)
                continue;
            CFStringRef s = CFStringCreateWithCString(kCFAllocatorDefault, w->files[i].path,
                                                      kCFStringEncodingUTF8);
            if (s != NULL) {
                CFArrayAppendValue(out, s);
                CFRelease(s);
            }
        }
        *paths = out;
        st = out ? 0 : -ENOMEM;
    }
    return world_call_end(w, &call, st);
}

int kc_file_trylock(const char *path) {
    world *w = world_active();
    if (w == NULL || path == NULL || path[0] == '\0')
        return -EINVAL;
    world_call call;
    begin(w, &call, WORLD_API_FILE_LOCK, path);
    int32_t st;
    if (!world_call_faulted(w, &call, &st))
        st = lock_take(w, path, call.pid);
    return world_call_end(w, &call, st);
}

int kc_file_unlock(const char *path) {
    world *w = world_active();
    if (w == NULL || path == NULL || path[0] == '\0')
        return -EINVAL;
    world_call call;
    begin(w, &call, WORLD_API_FILE_UNLOCK, path);
    int32_t st;
    if (!world_call_faulted(w, &call, &st))
        st = lock_release(w, path, call.pid);
    return world_call_end(w, &call, st);
}
