/* What an interrupted generate, rename or delete left behind (ref/README.md
 * "Crash safety").
 *
 * The handle file is the key: a label with a handle is a key, a label without
 * one is not. Every multi-step operation orders its steps so that the handle
 * appears (generate), disappears (delete: renamed to the tombstone) or moves
 * (rename) in one atomic step; everything else of a label without a handle is
 * debris. Two shapes of leftovers need more than that rule:
 *
 *  - a rename interrupted after the handle moved and before the item's
 *    account changed: the handle is under the new label, its wrapping-key item
 *    still under the old one. The item carries a tag (kc_tag: the handle's
 *    EHW1 nonce and the key directory), so the handle finds its item by an
 *    attribute-only query, and an item finds its handle by a scan of the key
 *    directory; either way the rename is rolled forward with one in-place
 *    SecItemUpdate of the account.
 *  - a generate interrupted after its store: an item whose tag no handle of
 *    the key directory carries is debris (its handle was never written).
 *
 * Nothing here deletes anything: the callers decide (generate's upsert
 * replaces debris; delete removes it). */
#include "core_internal.h"

#include <stdio.h>
#include <string.h>

bool recover_stranded_item(ref_core *core, const char *label, const unsigned char *handle,
                           size_t len) {
    char tag[CORE_TAG_MAX];
    if (!kc_tag_of_handle(core, handle, len, tag, sizeof tag))
        return false;
    char account[REF_LABEL_MAX + 2];
    kc_kind where = KC_FILE;
    if (!kc_find_tagged(core, tag, &where, account, sizeof account))
        return false;
    if (!ref_label_valid(account) || strcmp(account, label) == 0)
        return false;
    if (kf_probe(core, account, KF_HANDLE) != 0)
        return false; /* a key of its own (a copied handle?), or cannot tell: not ours to move */
    if (kc_raw_rename(core, where, account, label) != errSecSuccess)
        return false;
    core_warn(core,
              "recovered an interrupted rename: the wrapping key of '%s' was still filed under "
              "'%s' on the %s keychain and has been moved",
              label, account, kc_kind_name(where));
    return true;
}

/* Is tag of the form kc_tag gives for this core's key directory? */
static bool tag_is_ours(const ref_core *core, const char *tag) {
    static const unsigned char zero[REF_EHW1_NONCE_LEN] = {0};
    char shape[CORE_TAG_MAX];
    size_t n = kc_tag(core, zero, shape, sizeof shape);
    size_t hex_at = sizeof CORE_TAG_PREFIX - 1, hex_len = 2 * REF_EHW1_NONCE_LEN;
    if (n == 0 || strlen(tag) != n || memcmp(tag, shape, hex_at) != 0 ||
        strcmp(tag + hex_at + hex_len, shape + hex_at + hex_len) != 0)
        return false;
    for (size_t i = hex_at; i < hex_at + hex_len; i++)
        if (!((tag[i] >= '0' && tag[i] <= '9') || (tag[i] >= 'a' && tag[i] <= 'f')))
            return false;
    return true;
}

/* The label (other than `label`) whose handle carries `tag`: 1 found, 0 none,
 * -1 the directory could not be read completely. */
static int handle_with_tag(ref_core *core, const char *label, const char *tag, char *owner,
                           size_t cap) {
    CFArrayRef paths = NULL;
    if (kf_list(core, &paths) != 0 || paths == NULL) {
        if (paths != NULL)
            CFRelease(paths);
        return -1;
    }
    int found = 0;
    CFIndex n = CFArrayGetCount(paths);
    for (CFIndex i = 0; i < n && found == 0; i++) {
        char path[CORE_PATH_MAX];
        CFStringRef s = CFArrayGetValueAtIndex(paths, i);
        if (s == NULL || CFGetTypeID(s) != CFStringGetTypeID() ||
            !CFStringGetCString(s, path, sizeof path, kCFStringEncodingUTF8) ||
            !kf_handle_label(core, path, owner, cap) || strcmp(owner, label) == 0)
            continue;
        CFDataRef h = NULL;
        int rc = kf_read(core, owner, KF_HANDLE, &h);
        if (rc != 0 || h == NULL) {
            if (h != NULL)
                CFRelease(h);
            if (!kf_absent(rc))
                found = -1; /* unreadable: cannot prove the item is nobody's */
            continue;
        }
        char other[CORE_TAG_MAX];
        if (kc_tag_of_handle(core, CFDataGetBytePtr(h), (size_t)CFDataGetLength(h), other,
                             sizeof other) &&
            strcmp(other, tag) == 0)
            found = 1;
        CFRelease(h);
    }
    CFRelease(paths);
    return found;
}

orphan_kind classify_orphan_item(ref_core *core, const char *label, kc_kind where,
                                 const char *tag) {
    if (tag == NULL || !tag_is_ours(core, tag))
        return ORPHAN_FOREIGN; /* an older release's, another directory's: keep refusing */
    char owner[REF_LABEL_MAX + 1];
    int found = handle_with_tag(core, label, tag, owner, sizeof owner);
    if (found < 0)
        return ORPHAN_FOREIGN;
    if (found == 0)
        return ORPHAN_DEBRIS; /* its handle was never written */
    bool exists = false;
    if (kc_lookup(core, owner, &exists, NULL, NULL, 0) != REF_BRIDGE_OK || exists)
        return ORPHAN_FOREIGN;
    if (kc_raw_rename(core, where, label, owner) != errSecSuccess)
        return ORPHAN_FOREIGN;
    core_warn(core,
              "recovered an interrupted rename: the wrapping key of '%s' was still filed under "
              "'%s' on the %s keychain and has been moved",
              owner, label, kc_kind_name(where));
    return ORPHAN_MOVED;
}
