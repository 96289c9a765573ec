/* Names of bridge codes and core errors: one table each, so that the CLI, the
 * scenario parser and the messages can never disagree on a spelling. */
#include "ref/result.h"

#include <stddef.h>
#include <string.h>

static const char *const bridge_code_names[REF_BRIDGE_CODE_COUNT] = {
    "ok",
    "generate",
    "load",
    "sign",
    "buffer_too_small",
    "not_available",
    "encrypt",
    "decrypt",
    "delete",
    "keychain_store",
    "keychain_load",
    "keychain_delete",
    "keychain_not_found",
    "keychain_auth_denied",
    "keychain_interaction_required",
    "keychain_no_window_server",
    "user_cancel",
};

static const char *const error_names[REF_ERROR_COUNT] = {
    "ok",
    "not_available",
    "generate_failed",
    "key_not_found",
    "duplicate_label",
    "invalid_label",
    "sign_failed",
    "key_operation",
    "wrapping_key_missing",
    "auth_denied",
    "interaction_required",
    "no_window_server",
    "user_cancelled",
};

const char *ref_bridge_code_name(int code) {
    if (code < 0 || code >= REF_BRIDGE_CODE_COUNT)
        return NULL;
    return bridge_code_names[code];
}

const char *ref_error_name(ref_error err) {
    if ((int)err < 0 || (int)err >= REF_ERROR_COUNT)
        return NULL;
    return error_names[err];
}

bool ref_error_from_name(const char *name, ref_error *out) {
    if (name == NULL)
        return false;
    for (int i = 0; i < REF_ERROR_COUNT; i++) {
        if (strcmp(name, error_names[i]) == 0) {
            *out = (ref_error)i;
            return true;
        }
    }
    return false;
}
