/* Inspection helpers: where a process's key lives in the world, read only
 * through world.h's inspection API (no prompt, no counted call, no journal
 * entry). Shared by the expectations, the interpreter (signature checks) and
 * the invariant checker. */
#include "kcs_internal.h"

#include "ref/ehw1.h"
#include "ref/meta.h"

#include <string.h>

#include <openssl/crypto.h>

bool kcs_key_path(const kcs_proc *p, const char *label, const char *ext, char *buf, size_t cap) {
    size_t n = ref_config_key_path(&p->cfg, label, ext, buf, cap);
    return n > 0 && n < cap;
}

bool kcs_has_key_file(const kcs_run *run, const kcs_proc *p, const char *label, bool handle_only) {
    static const char *const exts[] = {".handle", ".pub", ".meta"};
    char path[KCS_PATH_MAX];
    for (size_t i = 0; i < (handle_only ? 1u : 3u); i++)
        if (kcs_key_path(p, label, exts[i], path, sizeof path) && world_file_exists(run->w, path))
            return true;
    return false;
}

const unsigned char *kcs_key_file(const kcs_run *run, const kcs_proc *p, const char *label,
                                  const char *ext, size_t *len) {
    char path[KCS_PATH_MAX];
    *len = 0;
    if (!kcs_key_path(p, label, ext, path, sizeof path))
        return NULL;
    return world_file_get(run->w, path, len);
}

bool kcs_key_meta(const kcs_run *run, const kcs_proc *p, const char *label, ref_meta *out) {
    size_t len = 0;
    const unsigned char *m = kcs_key_file(run, p, label, ".meta", &len);
    return m != NULL && ref_meta_parse((const char *)m, len, out);
}

bool kcs_find_item(const kcs_run *run, const kcs_proc *p, const char *label, world_item_view *out) {
    if (p->cfg.access_group != NULL &&
        world_item_find(run->w, WORLD_KEYCHAIN_DP, p->service, label, p->cfg.access_group, out))
        return true;
    return world_item_find(run->w, WORLD_KEYCHAIN_FILE, p->service, label, NULL, out);
}

int kcs_handle_blob(const kcs_run *run, const kcs_proc *p, const char *label, unsigned char *blob,
                    size_t cap, size_t *len, const char **why) {
    char path[KCS_PATH_MAX];
    *len = 0;
    if (!kcs_key_path(p, label, ".handle", path, sizeof path)) {
        *why = "the key path is too long";
        return -1;
    }
    size_t hl = 0;
    const unsigned char *h = world_file_get(run->w, path, &hl);
    if (h == NULL) {
        *why = "no handle file";
        return -1;
    }
    if (hl > cap) {
        *why = "the handle file is too large";
        return -1;
    }
    if (!ref_ehw1_is_wrapped(h, hl)) {
        memcpy(blob, h, hl);
        *len = hl;
        return 0;
    }
    world_item_view v;
    if (!kcs_find_item(run, p, label, &v)) {
        *why = "no wrapping-key item in any keychain the process uses";
        return -1;
    }
    if (v.data == NULL || v.data_len != REF_EHW1_KEY_LEN) {
        *why = "the wrapping-key item does not hold 32 bytes";
        return -1;
    }
    ref_ehw1_status st = ref_ehw1_open(v.data, h, hl, blob, cap, len);
    if (st != REF_EHW1_OK) {
        OPENSSL_cleanse(blob, cap);
        *len = 0;
        *why = "the handle does not decrypt with the keychain's wrapping key";
        return -1;
    }
    return 0;
}

int kcs_se_key_of(const kcs_run *run, const kcs_proc *p, const char *label, world_se_key_view *out,
                  const char **why) {
    unsigned char blob[KCS_BLOB_MAX];
    size_t bl = 0;
    if (kcs_handle_blob(run, p, label, blob, sizeof blob, &bl, why) != 0)
        return -1;
    bool found = world_se_key_for_blob(run->w, blob, bl, out);
    OPENSSL_cleanse(blob, sizeof blob);
    if (!found || out->deleted) {
        *why = "the handle names no existing Secure Enclave key";
        return -1;
    }
    return 0;
}

bool kcs_key_needs_presence(const kcs_run *run, const kcs_proc *p, const char *label) {
    world_item_view v;
    if (kcs_find_item(run, p, label, &v) && v.has_access_control &&
        (v.ac_flags & WORLD_AC_PRESENCE_MASK) != 0)
        return true;
    world_se_key_view k;
    const char *why = NULL;
    if (kcs_se_key_of(run, p, label, &k, &why) == 0 && k.has_access_control &&
        (k.ac_flags & WORLD_AC_PRESENCE_MASK) != 0)
        return true;
    ref_meta meta;
    if (kcs_key_meta(run, p, label, &meta) &&
        (meta.auth != REF_AUTH_NONE || meta.wrapping_presence))
        return true;
    return false;
}

bool kcs_is_core_service(const kcs_run *run, const char *service) {
    if (service == NULL)
        return false;
    for (size_t i = 0; i < run->sc->nprocs; i++)
        if (run->procs[i].declared && strcmp(run->procs[i].service, service) == 0)
            return true;
    return false;
}

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Is there an item of `service` for `label` in any keychain, any group? (The
 * processes sharing a key directory may use different keychains.) */
static bool any_item_for(const kcs_run *run, const char *service, const char *label) {
    for (size_t i = 0; i < world_item_count(run->w); i++) {
        world_item_view v;
        if (world_item_at(run->w, i, &v) && v.service != NULL && v.account != NULL &&
            strcmp(v.service, service) == 0 && strcmp(v.account, label) == 0)
            return true;
    }
    return false;
}

/* Does a wrapped handle in `dir` open with `key`, or (key NULL) does a
 * wrapped handle there lack its item (so the item in question may be the one
 * it lost: a rename interrupted after its handle move)? */
static bool item_may_be_needed(const kcs_run *run, const kcs_proc *p, const char *dir,
                               const unsigned char *key) {
    size_t dl = strlen(dir);
    for (size_t i = 0; i < world_file_count(run->w); i++) {
        const char *path = world_file_path_at(run->w, i);
        if (path == NULL || strncmp(path, dir, dl) != 0 || strchr(path + dl, '/') != NULL ||
            !has_suffix(path, ".handle"))
            continue;
        size_t hl = 0;
        const unsigned char *h = world_file_get(run->w, path, &hl);
        if (h == NULL || !ref_ehw1_is_wrapped(h, hl))
            continue;
        if (key == NULL) {
            char label[KCS_PATH_MAX];
            size_t ll = strlen(path + dl) - strlen(".handle");
            if (ll < sizeof label) {
                memcpy(label, path + dl, ll);
                label[ll] = '\0';
                if (!any_item_for(run, p->service, label))
                    return true;
            }
            continue;
        }
        unsigned char blob[KCS_BLOB_MAX];
        size_t bl = 0;
        ref_ehw1_status st = ref_ehw1_open(key, h, hl, blob, sizeof blob, &bl);
        OPENSSL_cleanse(blob, sizeof blob);
        if (st == REF_EHW1_OK || st == REF_EHW1_BUFFER || st == REF_EHW1_CRYPTO)
            return true; /* opens, or cannot be told apart: needed */
    }
    return false;
}

bool kcs_item_is_debris(const kcs_run *run, const char *service, const char *account,
                        const unsigned char *data, size_t data_len) {
    if (service == NULL || account == NULL || account[0] == '\0')
        return false;
    const unsigned char *key = data != NULL && data_len == REF_EHW1_KEY_LEN ? data : NULL;
    bool owned = false;
    for (size_t i = 0; i < run->sc->nprocs; i++) {
        const kcs_proc *p = &run->procs[i];
        if (!p->declared || strcmp(p->service, service) != 0)
            continue;
        owned = true;
        char dir[KCS_PATH_MAX];
        if (kcs_has_key_file(run, p, account, true) || !kcs_key_path(p, "", "", dir, sizeof dir) ||
            item_may_be_needed(run, p, dir, key))
            return false;
    }
    return owned;
}

bool kcs_file_is_debris(const kcs_run *run, const char *path) {
    if (path == NULL || !(has_suffix(path, ".pub") || has_suffix(path, ".meta")))
        return false;
    for (size_t i = 0; i < run->sc->nprocs; i++) {
        const kcs_proc *p = &run->procs[i];
        char dir[KCS_PATH_MAX];
        if (!p->declared || !kcs_key_path(p, "", "", dir, sizeof dir))
            continue;
        size_t dl = strlen(dir);
        if (strncmp(path, dir, dl) != 0 || strchr(path + dl, '/') != NULL)
            continue;
        char label[KCS_PATH_MAX];
        size_t ll = strlen(path + dl) - (has_suffix(path, ".pub") ? 4 : 5);
        if (ll == 0 || ll >= sizeof label)
            return false;
        memcpy(label, path + dl, ll);
        label[ll] = '\0';
        return !kcs_has_key_file(run, p, label, true);
    }
    return false;
}
