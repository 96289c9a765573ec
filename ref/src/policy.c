/* Label validation and the agent-policy messages. */
#include "ref/policy.h"

#include <stdio.h>
#include <string.h>

bool ref_label_valid(const char *label) {
    if (label == NULL || label[0] == '\0' || label[0] == '.')
        return false;
    size_t n = 0;
    for (const char *p = label; *p != '\0'; p++, n++) {
        if (n >= REF_LABEL_MAX)
            return false;
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

static const char *const policy_texts[REF_ERROR_COUNT] = {
    [REF_OK] = NULL,
    [REF_ERR_NOT_AVAILABLE] = "the Secure Enclave is not available on this machine",
    [REF_ERR_GENERATE_FAILED] = "the Secure Enclave refused to create the key",
    [REF_ERR_KEY_NOT_FOUND] = "no such key (no handle file)",
    [REF_ERR_DUPLICATE_LABEL] = "a key with this label already exists (a key file or a keychain "
                                "item); delete it first or choose another label",
    [REF_ERR_INVALID_LABEL] = "invalid label: use letters, digits, '-', '_' and '.', not "
                              "starting with '.', at most 64 bytes",
    [REF_ERR_SIGN_FAILED] = "the Secure Enclave could not sign",
    [REF_ERR_KEY_OPERATION] = "a key operation failed; see the failed step below",
    [REF_ERR_WRAPPING_KEY_MISSING] = "the wrapping key's keychain entry is gone, so the key "
                                     "cannot be decrypted any more; delete the key and generate "
                                     "a new one",
    [REF_ERR_AUTH_DENIED] = "the keychain denied access to the wrapping key; open Keychain "
                            "Access, select the item and set \"Always Allow\" for this program",
    [REF_ERR_INTERACTION_REQUIRED] = "the keychain is locked or the key is not available yet "
                                     "(screen locked, or not unlocked since boot); unlock the "
                                     "screen and retry (transient: caches are kept)",
    [REF_ERR_NO_WINDOW_SERVER] = "this process has no window-server session, so no prompt can "
                                 "be shown; this is a deployment error: restart the agent under "
                                 "launchd in the user's GUI session (launchctl bootstrap gui/UID)",
    [REF_ERR_USER_CANCELLED] = "the authentication prompt was cancelled; not retried "
                               "automatically, run the operation again to be asked again",
};

const char *ref_policy_text(ref_error err) {
    if ((int)err <= REF_OK || (int)err >= REF_ERROR_COUNT)
        return NULL;
    return policy_texts[err];
}

size_t ref_label_quote(const char *label, char *buf, size_t cap) {
    if (cap == 0)
        return 0;
    size_t w = 0;
    buf[0] = '\0';
    if (label == NULL) {
        snprintf(buf, cap, "(null)");
        return strlen(buf);
    }
    size_t i = 0;
    for (; label[i] != '\0' && i < REF_LABEL_MAX; i++) {
        unsigned char c = (unsigned char)label[i];
        char piece[8];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
            piece[0] = (char)c;
            piece[1] = '\0';
        } else {
            snprintf(piece, sizeof piece, "\\x%02x", c);
        }
        size_t pl = strlen(piece);
        if (w + pl + 1 > cap)
            return w;
        memcpy(buf + w, piece, pl + 1);
        w += pl;
    }
    if (label[i] != '\0' && w + 4 <= cap) {
        memcpy(buf + w, "...", 4);
        w += 3;
    }
    return w;
}

size_t ref_policy_message(ref_error err, const char *op, const char *label, const char *detail,
                          char *buf, size_t cap) {
    if (cap == 0)
        return 0;
    char quoted[REF_LABEL_MAX * 4 + 8];
    ref_label_quote(label, quoted, sizeof quoted);
    const char *text = ref_policy_text(err);
    int n;
    if (detail != NULL && detail[0] != '\0')
        n = snprintf(buf, cap, "%s of key '%s' failed: %s (%s)", op != NULL ? op : "operation",
                     quoted, text != NULL ? text : "no error", detail);
    else
        n = snprintf(buf, cap, "%s of key '%s' failed: %s", op != NULL ? op : "operation", quoted,
                     text != NULL ? text : "no error");
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
