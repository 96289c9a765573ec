/* SecKeychain: the file-based login keychain as a CF object (type ID 17).
 *
 * Only the login keychain exists, so every SecKeychainRef names it. Each call
 * goes through the world's entry hook as WORLD_API_SEC_KEYCHAIN (journaled
 * kc=file with the function in the detail: CopyDefault, Open, Unlock).
 *
 * Choices (Apple's behaviour where the world has no model):
 *  - SecKeychainOpen accepts SEC_LOGIN_KEYCHAIN_PATH and any absolute path
 *    ending in "/Library/Keychains/login.keychain-db" (the login keychain by
 *    explicit path: this is how a process whose HOME is overridden still
 *    reaches it); it works whether or not a default keychain is reachable.
 *    Any other path: errSecParam (there is no other keychain).
 *  - SecKeychainUnlock with usePassword true accepts any password (the world
 *    models no login password); with usePassword false it shows the
 *    file-keychain unlock prompt (domain.md §5 "User answers"). Unlocking an
 *    unlocked keychain succeeds without a prompt. A NULL keychain means the
 *    default one (errSecNoDefaultKeychain when none is reachable).
 */
#include "sec_internal.h"

#include <keyclass/cf_accounting.h>
#include <string.h>

#define SEC_KEYCHAIN_TYPE_ID 17

struct __SecKeychain {
    int which; /* 0: the login keychain (the only one) */
};

static const kc_cf_class keychain_class = {
    .type_id = SEC_KEYCHAIN_TYPE_ID,
    .name = "SecKeychain",
};

CFTypeID SecKeychainGetTypeID(void) { return SEC_KEYCHAIN_TYPE_ID; }

bool sec_keychain_is(CFTypeRef value) {
    return kc_cf_is_live(value) && CFGetTypeID(value) == SEC_KEYCHAIN_TYPE_ID;
}

static SecKeychainRef make_login_keychain(void) {
    return kc_cf_object_create(&keychain_class, sizeof(struct __SecKeychain));
}

static void begin(world *w, world_call *call, const char *function) {
    world_call_begin(w, call, WORLD_API_SEC_KEYCHAIN);
    call->keychain = "file";
    strncpy(call->detail, function, sizeof call->detail - 1);
}

OSStatus SecKeychainCopyDefault(SecKeychainRef *keychain) {
    if (keychain != NULL)
        *keychain = NULL;
    world *w = world_active();
    if (w == NULL)
        return errSecNotAvailable;
    world_call call;
    begin(w, &call, "CopyDefault");
    int32_t status;
    if (!world_call_faulted(w, &call, &status)) {
        if (keychain == NULL)
            status = errSecParam;
        else if (!world_proc_default_keychain_reachable(w, call.pid))
            status = errSecNoDefaultKeychain;
        else
            status = (*keychain = make_login_keychain()) != NULL ? errSecSuccess : errSecAllocate;
    }
    return world_call_end(w, &call, status);
}

static bool names_login_keychain(const char *path) {
    static const char suffix[] = "/Library/Keychains/login.keychain-db";
    if (strcmp(path, SEC_LOGIN_KEYCHAIN_PATH) == 0)
        return true;
    size_t n = strlen(path), k = sizeof suffix - 1;
    return path[0] == '/' && n > k && strcmp(path + n - k, suffix) == 0;
}

OSStatus SecKeychainOpen(const char *path, SecKeychainRef *keychain) {
    if (keychain != NULL)
        *keychain = NULL;
    world *w = world_active();
    if (w == NULL)
        return errSecNotAvailable;
    world_call call;
    begin(w, &call, "Open");
    if (path != NULL) {
        strncpy(call.path, path, sizeof call.path - 1);
    }
    int32_t status;
    if (!world_call_faulted(w, &call, &status)) {
        if (keychain == NULL || path == NULL || !names_login_keychain(path))
            status = errSecParam;
        else
            status = (*keychain = make_login_keychain()) != NULL ? errSecSuccess : errSecAllocate;
    }
    return world_call_end(w, &call, status);
}

static OSStatus unlock(world *w, world_pid pid, SecKeychainRef keychain, UInt32 len,
                       const void *password, Boolean use_password) {
    if (keychain == NULL) {
        if (!world_proc_default_keychain_reachable(w, pid))
            return errSecNoDefaultKeychain;
    } else if (!sec_keychain_is(keychain)) {
        return errSecParam;
    }
    if (use_password && len > 0 && password == NULL)
        return errSecParam;
    if (!world_login_keychain_locked(w))
        return errSecSuccess;
    if (!use_password) {
        if (!world_prompt_possible(w, pid))
            return errSecInteractionNotAllowed;
        OSStatus st =
            sec_answer_status(world_prompt_show(w, WORLD_PROMPT_FILE_UNLOCK, "login keychain"));
        if (st != errSecSuccess)
            return st;
    }
    return world_login_keychain_unlock(w) == 0 ? errSecSuccess : errSecNotAvailable;
}

OSStatus SecKeychainUnlock(SecKeychainRef keychain, UInt32 passwordLength, const void *password,
                           Boolean usePassword) {
    world *w = world_active();
    if (w == NULL)
        return errSecNotAvailable;
    world_call call;
    begin(w, &call, "Unlock");
    int32_t status;
    if (!world_call_faulted(w, &call, &status))
        status = unlock(w, call.pid, keychain, passwordLength, password, usePassword);
    return world_call_end(w, &call, status);
}
