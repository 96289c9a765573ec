/* Key files, through the world's narrow file interface (keyclass/files.h):
 * <key dir><label>.handle, .pub, .meta, .deleted, and the label's advisory
 * lock (.lock, which is not a file). */
#include "core_internal.h"

#include <keyclass/files.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

size_t kf_path(const ref_core *core, const char *label, const char *ext, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%s%s%s", core->key_dir, label, ext);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

int kf_read(ref_core *core, const char *label, const char *ext, CFDataRef *out) {
    char path[CORE_PATH_MAX];
    *out = NULL;
    if (kf_path(core, label, ext, path, sizeof path) == 0)
        return -1;
    return kc_file_read(path, out);
}

int kf_write(ref_core *core, const char *label, const char *ext, const void *data, size_t len) {
    char path[CORE_PATH_MAX];
    if (kf_path(core, label, ext, path, sizeof path) == 0)
        return -1;
    return kc_file_write_atomic(path, data, len);
}

/* A read, not kc_file_exists: "does not exist" must not stand in for "could
 * not be read" where the answer decides what is replaced (fuzz finding,
 * scenarios/found/generate-over-unreadable-handle.kcs). */
int kf_probe(ref_core *core, const char *label, const char *ext) {
    CFDataRef data = NULL;
    int rc = kf_read(core, label, ext, &data);
    if (data != NULL)
        CFRelease(data);
    if (rc == 0)
        return 1;
    if (kf_absent(rc))
        return 0;
    return rc < 0 ? rc : -1;
}

int kf_rename(ref_core *core, const char *old_label, const char *new_label, const char *ext) {
    char from[CORE_PATH_MAX], to[CORE_PATH_MAX];
    if (kf_path(core, old_label, ext, from, sizeof from) == 0 ||
        kf_path(core, new_label, ext, to, sizeof to) == 0)
        return -1;
    return kc_file_rename(from, to);
}

int kf_rename_ext(ref_core *core, const char *label, const char *from_ext, const char *to_ext) {
    char from[CORE_PATH_MAX], to[CORE_PATH_MAX];
    if (kf_path(core, label, from_ext, from, sizeof from) == 0 ||
        kf_path(core, label, to_ext, to, sizeof to) == 0)
        return -1;
    return kc_file_rename(from, to);
}

int kf_list(ref_core *core, CFArrayRef *paths) { return kc_file_list(core->key_dir, paths); }

bool kf_handle_label(const ref_core *core, const char *path, char *label, size_t cap) {
    size_t dl = strlen(core->key_dir), pl = strlen(path), el = strlen(KF_HANDLE);
    if (pl <= dl + el || strncmp(path, core->key_dir, dl) != 0 ||
        strcmp(path + pl - el, KF_HANDLE) != 0 || pl - dl - el >= cap)
        return false;
    memcpy(label, path + dl, pl - dl - el);
    label[pl - dl - el] = '\0';
    return ref_label_valid(label);
}

int kf_unlink(ref_core *core, const char *label, const char *ext) {
    char path[CORE_PATH_MAX];
    if (kf_path(core, label, ext, path, sizeof path) == 0)
        return -1;
    return kc_file_unlink(path);
}

/* Without a readable .meta (a rename interrupted after moving it ahead of
 * the handle, a legacy key) nothing is known to need presence: no LAContext is
 * acquired for it (L2) — a presence-protected item then prompts on its own
 * read. Falling back to the configuration's wrap_presence would decide by
 * configuration, not by need (fuzz finding, scenarios/found/). */
ref_meta kf_meta(ref_core *core, const char *label) {
    ref_meta meta = {REF_AUTH_NONE, REF_PRESENCE_NONE, false};
    CFDataRef data = NULL;
    if (kf_read(core, label, KF_META, &data) == 0 && data != NULL) {
        ref_meta parsed;
        if (ref_meta_parse((const char *)CFDataGetBytePtr(data), (size_t)CFDataGetLength(data),
                           &parsed))
            meta = parsed;
    }
    if (data != NULL)
        CFRelease(data);
    return meta;
}

bool kf_absent(int rc) { return rc == -ENOENT; }

/* A path that does not fit is "" here, which the world refuses (-EINVAL):
 * the lock then fails like any file call would. */
int kf_lock(ref_core *core, const char *label) {
    char path[CORE_PATH_MAX];
    (void)kf_path(core, label, KF_LOCK, path, sizeof path);
    return kc_file_trylock(path);
}

void kf_unlock(ref_core *core, const char *label) {
    char path[CORE_PATH_MAX];
    (void)kf_path(core, label, KF_LOCK, path, sizeof path);
    (void)kc_file_unlock(path);
}

bool kf_busy(int rc) { return rc == -EWOULDBLOCK; }
