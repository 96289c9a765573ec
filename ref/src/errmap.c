/* The OSStatus mapping as data (domain.md §6): one row table per path, looked
 * up by a single function; the mutants that live in the mapping adjust the
 * inputs or the result, each in one place. */
#include "ref/errmap.h"

#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>

#include <string.h>

typedef enum { GUI_ANY, GUI_YES, GUI_NO } gui_match;

typedef struct {
    int32_t status;
    gui_match gui;
    ref_bridge_code code;
} status_row;

/* keychain_load: the table of domain.md §6. Anything else: KEYCHAIN_LOAD. */
static const status_row load_rows[] = {
    {errSecSuccess, GUI_ANY, REF_BRIDGE_OK},
    {errSecItemNotFound, GUI_ANY, REF_BRIDGE_KEYCHAIN_NOT_FOUND},
    {errSecAuthFailed, GUI_ANY, REF_BRIDGE_KEYCHAIN_AUTH_DENIED},
    {errSecInteractionNotAllowed, GUI_YES, REF_BRIDGE_KEYCHAIN_INTERACTION_REQUIRED},
    {errSecInteractionNotAllowed, GUI_NO, REF_BRIDGE_KEYCHAIN_NO_WINDOW_SERVER},
    {errSecInteractionRequired, GUI_YES, REF_BRIDGE_KEYCHAIN_INTERACTION_REQUIRED},
    {errSecInteractionRequired, GUI_NO, REF_BRIDGE_KEYCHAIN_NO_WINDOW_SERVER},
    {errSecUserCanceled, GUI_ANY, REF_BRIDGE_USER_CANCEL},
};

/* keychain_store maps like the load, except not-found (ours; upstream: 9 for
 * every failure). Anything else: KEYCHAIN_STORE. */
static const status_row store_rows[] = {
    {errSecSuccess, GUI_ANY, REF_BRIDGE_OK},
    {errSecAuthFailed, GUI_ANY, REF_BRIDGE_KEYCHAIN_AUTH_DENIED},
    {errSecInteractionNotAllowed, GUI_YES, REF_BRIDGE_KEYCHAIN_INTERACTION_REQUIRED},
    {errSecInteractionNotAllowed, GUI_NO, REF_BRIDGE_KEYCHAIN_NO_WINDOW_SERVER},
    {errSecInteractionRequired, GUI_YES, REF_BRIDGE_KEYCHAIN_INTERACTION_REQUIRED},
    {errSecInteractionRequired, GUI_NO, REF_BRIDGE_KEYCHAIN_NO_WINDOW_SERVER},
    {errSecUserCanceled, GUI_ANY, REF_BRIDGE_USER_CANCEL},
};

/* SE sign: cancellations are the user's; everything else is a sign failure. */
static const status_row sign_rows[] = {
    {errSecSuccess, GUI_ANY, REF_BRIDGE_OK},
    {LAErrorUserCancel, GUI_ANY, REF_BRIDGE_USER_CANCEL},
    {LAErrorAppCancel, GUI_ANY, REF_BRIDGE_USER_CANCEL},
    {LAErrorSystemCancel, GUI_ANY, REF_BRIDGE_USER_CANCEL},
};

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))

static ref_bridge_code lookup(const status_row *rows, size_t n, int32_t status, bool gui,
                              ref_bridge_code otherwise) {
    for (size_t i = 0; i < n; i++) {
        if (rows[i].status != status)
            continue;
        if (rows[i].gui == GUI_ANY || (rows[i].gui == GUI_YES) == gui)
            return rows[i].code;
    }
    return otherwise;
}

/* The one place where the GUI session enters the mapping. */
static bool effective_gui(bool gui, ref_mutant_set m) {
    if (ref_mutant_in(m, REF_MUT_PR151_NO_WINDOW_SERVER_AS_LOCKED))
        return true; /* the bug: no session is reported as a locked screen */
    return gui;
}

ref_bridge_code ref_errmap_load(int32_t status, bool gui, ref_mutant_set m) {
    if (status == errSecInteractionRequired && ref_mutant_in(m, REF_MUT_PR150_INTERACTION_UNMAPPED))
        return REF_BRIDGE_KEYCHAIN_LOAD;
    if (status == errSecInteractionNotAllowed && ref_mutant_in(m, REF_MUT_PR158_MISSING_25308))
        return REF_BRIDGE_KEYCHAIN_LOAD;
    return lookup(load_rows, ROWS(load_rows), status, effective_gui(gui, m),
                  REF_BRIDGE_KEYCHAIN_LOAD);
}

ref_bridge_code ref_errmap_store(int32_t status, bool gui, ref_mutant_set m) {
    if ((status == errSecInteractionNotAllowed || status == errSecInteractionRequired) &&
        ref_mutant_in(m, REF_MUT_LATENT_STORE_UNMAPPED))
        return REF_BRIDGE_KEYCHAIN_STORE;
    return lookup(store_rows, ROWS(store_rows), status, effective_gui(gui, m),
                  REF_BRIDGE_KEYCHAIN_STORE);
}

ref_bridge_code ref_errmap_delete(const int32_t *statuses, const bool *is_dp, size_t n) {
    bool all_absent = true;
    for (size_t i = 0; i < n; i++) {
        int32_t st = statuses[i];
        if (st == errSecSuccess)
            return REF_BRIDGE_OK;
        bool absent = st == errSecItemNotFound ||
                      (is_dp != NULL && is_dp[i] && st == errSecMissingEntitlement);
        if (!absent)
            all_absent = false;
    }
    return all_absent ? REF_BRIDGE_OK : REF_BRIDGE_KEYCHAIN_DELETE;
}

ref_bridge_code ref_errmap_sign(int32_t status) {
    return lookup(sign_rows, ROWS(sign_rows), status, true, REF_BRIDGE_SIGN);
}

ref_bridge_code ref_errmap_generate(int32_t status) {
    return status == errSecSuccess ? REF_BRIDGE_OK : REF_BRIDGE_GENERATE;
}

/* Bridge code -> core error, indexed by code. */
static const ref_error error_of_code[REF_BRIDGE_CODE_COUNT] = {
    [REF_BRIDGE_OK] = REF_OK,
    [REF_BRIDGE_GENERATE] = REF_ERR_GENERATE_FAILED,
    [REF_BRIDGE_LOAD] = REF_ERR_KEY_OPERATION,
    [REF_BRIDGE_SIGN] = REF_ERR_SIGN_FAILED,
    [REF_BRIDGE_BUFFER_TOO_SMALL] = REF_ERR_KEY_OPERATION,
    [REF_BRIDGE_NOT_AVAILABLE] = REF_ERR_NOT_AVAILABLE,
    [REF_BRIDGE_ENCRYPT] = REF_ERR_KEY_OPERATION,
    [REF_BRIDGE_DECRYPT] = REF_ERR_KEY_OPERATION,
    [REF_BRIDGE_DELETE] = REF_ERR_KEY_OPERATION,
    [REF_BRIDGE_KEYCHAIN_STORE] = REF_ERR_KEY_OPERATION,
    [REF_BRIDGE_KEYCHAIN_LOAD] = REF_ERR_KEY_OPERATION,
    [REF_BRIDGE_KEYCHAIN_DELETE] = REF_ERR_KEY_OPERATION,
    [REF_BRIDGE_KEYCHAIN_NOT_FOUND] = REF_ERR_WRAPPING_KEY_MISSING,
    [REF_BRIDGE_KEYCHAIN_AUTH_DENIED] = REF_ERR_AUTH_DENIED,
    [REF_BRIDGE_KEYCHAIN_INTERACTION_REQUIRED] = REF_ERR_INTERACTION_REQUIRED,
    [REF_BRIDGE_KEYCHAIN_NO_WINDOW_SERVER] = REF_ERR_NO_WINDOW_SERVER,
    [REF_BRIDGE_USER_CANCEL] = REF_ERR_USER_CANCELLED,
};

ref_error ref_errmap_error(int code) {
    if (code < 0 || code >= REF_BRIDGE_CODE_COUNT)
        return REF_ERR_KEY_OPERATION;
    return error_of_code[code];
}

/* Errors after which the cached LAContext stays: the user or the OS said
 * "not now", the context itself is still good (L1). */
static const bool keeps_lacontext[REF_ERROR_COUNT] = {
    [REF_OK] = true,
    [REF_ERR_AUTH_DENIED] = true,
    [REF_ERR_INTERACTION_REQUIRED] = true,
    [REF_ERR_NO_WINDOW_SERVER] = true,
    [REF_ERR_USER_CANCELLED] = true,
};

bool ref_errmap_evicts_lacontext(ref_error err, ref_mutant_set m) {
    if ((int)err <= REF_OK || (int)err >= REF_ERROR_COUNT)
        return false;
    if (ref_mutant_in(m, REF_MUT_PR150_EVICT_WITHOUT_EXCLUSIONS))
        return true;
    if (err == REF_ERR_USER_CANCELLED && ref_mutant_in(m, REF_MUT_PR155_EVICT_ON_CANCEL))
        return true;
    return !keeps_lacontext[err];
}

bool ref_errmap_is_transient(int code) {
    return code == REF_BRIDGE_KEYCHAIN_AUTH_DENIED ||
           code == REF_BRIDGE_KEYCHAIN_INTERACTION_REQUIRED ||
           code == REF_BRIDGE_KEYCHAIN_NO_WINDOW_SERVER || code == REF_BRIDGE_USER_CANCEL;
}

typedef struct {
    int32_t status;
    const char *name;
} status_name;

static const status_name status_names[] = {
    {errSecSuccess, "errSecSuccess"},
    {errSecUnimplemented, "errSecUnimplemented"},
    {errSecParam, "errSecParam"},
    {errSecAllocate, "errSecAllocate"},
    {errSecUserCanceled, "errSecUserCanceled"},
    {errSecNotAvailable, "errSecNotAvailable"},
    {errSecAuthFailed, "errSecAuthFailed"},
    {errSecDuplicateItem, "errSecDuplicateItem"},
    {errSecItemNotFound, "errSecItemNotFound"},
    {errSecNoSuchAttr, "errSecNoSuchAttr"},
    {errSecNoDefaultKeychain, "errSecNoDefaultKeychain"},
    {errSecInteractionNotAllowed, "errSecInteractionNotAllowed"},
    {errSecInteractionRequired, "errSecInteractionRequired"},
    {errSecDecode, "errSecDecode"},
    {errSecMissingEntitlement, "errSecMissingEntitlement"},
    {LAErrorAuthenticationFailed, "LAErrorAuthenticationFailed"},
    {LAErrorUserCancel, "LAErrorUserCancel"},
    {LAErrorUserFallback, "LAErrorUserFallback"},
    {LAErrorSystemCancel, "LAErrorSystemCancel"},
    {LAErrorPasscodeNotSet, "LAErrorPasscodeNotSet"},
    {LAErrorAppCancel, "LAErrorAppCancel"},
    {LAErrorInvalidContext, "LAErrorInvalidContext"},
    {LAErrorNotInteractive, "LAErrorNotInteractive"},
};

const char *ref_status_name(int32_t status) {
    for (size_t i = 0; i < ROWS(status_names); i++)
        if (status_names[i].status == status)
            return status_names[i].name;
    return NULL;
}

/* For the SE rows: LAError names first (-4 is LAErrorSystemCancel there). */
static const char *la_status_name(int32_t status) {
    for (size_t i = 0; i < ROWS(status_names); i++)
        if (status_names[i].status == status && strncmp(status_names[i].name, "LA", 2) == 0)
            return status_names[i].name;
    return ref_status_name(status);
}

/* ---- Printing ------------------------------------------------------------------ */

static const char *gui_text(gui_match g) {
    return g == GUI_ANY ? "any" : g == GUI_YES ? "yes" : "no";
}

static void print_row(FILE *out, const char *path, const char *status_text, const char *gui,
                      ref_bridge_code code, ref_mutant_set m) {
    ref_error err = ref_errmap_error(code);
    fprintf(out, "%-15s %-36s %-4s %3d %-30s %-21s %s\n", path, status_text, gui, (int)code,
            ref_bridge_code_name(code), ref_error_name(err),
            ref_errmap_evicts_lacontext(err, m) ? "yes" : "no");
}

static void print_status_rows(FILE *out, const char *path, const status_row *rows, size_t n,
                              ref_bridge_code (*map)(int32_t, bool, ref_mutant_set),
                              ref_mutant_set m, const char *other_text,
                              const char *(*namer)(int32_t)) {
    char text[64];
    for (size_t i = 0; i < n; i++) {
        const char *name = namer(rows[i].status);
        snprintf(text, sizeof text, "%d %s", (int)rows[i].status, name != NULL ? name : "");
        bool gui = rows[i].gui != GUI_NO;
        print_row(out, path, text, gui_text(rows[i].gui), map(rows[i].status, gui, m), m);
    }
    /* The default row, shown through the function with a status no row names. */
    print_row(out, path, other_text, "any", map(INT32_MIN, true, m), m);
}

static ref_bridge_code sign_adapter(int32_t status, bool gui, ref_mutant_set m) {
    (void)gui;
    (void)m;
    return ref_errmap_sign(status);
}

void ref_errmap_print(FILE *out, ref_mutant_set m) {
    fprintf(out, "# keyclass reference core: OSStatus -> bridge code -> core error -> evict "
                 "LAContext (domain.md section 6)\n");
    bool any = false;
    for (int i = 0; i < REF_MUT_COUNT; i++) {
        if (ref_mutant_in(m, (ref_mutant)i)) {
            fprintf(out, "%s %s", any ? "," : "# mutants:", ref_mutant_name((ref_mutant)i));
            any = true;
        }
    }
    if (any)
        fputc('\n', out);
    fprintf(out, "%-15s %-36s %-4s %3s %-30s %-21s %s\n", "path", "status", "gui", "code", "bridge",
            "core error", "evict");
    print_status_rows(out, "keychain_load", load_rows, ROWS(load_rows), ref_errmap_load, m,
                      "any other status", ref_status_name);
    print_row(out, "keychain_load", "0 errSecSuccess, not 32 bytes", "any",
              REF_BRIDGE_KEYCHAIN_LOAD, m);
    print_status_rows(out, "keychain_store", store_rows, ROWS(store_rows), ref_errmap_store, m,
                      "any other status", ref_status_name);
    {
        const int32_t ok[] = {errSecSuccess, errSecItemNotFound};
        const int32_t none[] = {errSecItemNotFound, errSecItemNotFound};
        const int32_t other[] = {errSecItemNotFound, errSecInteractionNotAllowed};
        const bool dp[] = {true, false};
        print_row(out, "keychain_delete", "one keychain deleted", "any",
                  ref_errmap_delete(ok, dp, 2), m);
        print_row(out, "keychain_delete", "all -25300 (dp: or -34018)", "any",
                  ref_errmap_delete(none, dp, 2), m);
        print_row(out, "keychain_delete", "any other combination", "any",
                  ref_errmap_delete(other, dp, 2), m);
    }
    print_status_rows(out, "se_sign", sign_rows, ROWS(sign_rows), sign_adapter, m,
                      "any other status", la_status_name);
    print_row(out, "se_generate", "0 errSecSuccess", "any", ref_errmap_generate(errSecSuccess), m);
    print_row(out, "se_generate", "any other status", "any", ref_errmap_generate(INT32_MIN), m);
    fprintf(out, "\n%-4s %-30s %-21s %s\n", "code", "bridge", "core error", "evict");
    for (int c = 0; c < REF_BRIDGE_CODE_COUNT; c++) {
        ref_error err = ref_errmap_error(c);
        fprintf(out, "%4d %-30s %-21s %s\n", c, ref_bridge_code_name(c), ref_error_name(err),
                ref_errmap_evicts_lacontext(err, m) ? "yes" : "no");
    }
}
