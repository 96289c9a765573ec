/* Result codes and core errors of the reference core (domain.md §6).
 *
 * Two vocabularies meet here. The *bridge code* is the C int the Swift-shaped
 * bridge returns (0..16, values fixed by the contract). The *core error* is the
 * reason an operation failed, as the agent policy and the scenario language
 * name it (`-> interaction_required`). Each core error has exactly one stable
 * name; the names are the outcomes of scenario-language.md.
 */
#ifndef REF_RESULT_H
#define REF_RESULT_H

#include <stdbool.h>

/* Bridge result codes; the numeric values are part of the contract. */
typedef enum {
    REF_BRIDGE_OK = 0,
    REF_BRIDGE_GENERATE = 1,
    REF_BRIDGE_LOAD = 2,
    REF_BRIDGE_SIGN = 3,
    REF_BRIDGE_BUFFER_TOO_SMALL = 4,
    REF_BRIDGE_NOT_AVAILABLE = 5,
    REF_BRIDGE_ENCRYPT = 6,
    REF_BRIDGE_DECRYPT = 7,
    REF_BRIDGE_DELETE = 8,
    REF_BRIDGE_KEYCHAIN_STORE = 9,
    REF_BRIDGE_KEYCHAIN_LOAD = 10,
    REF_BRIDGE_KEYCHAIN_DELETE = 11,
    REF_BRIDGE_KEYCHAIN_NOT_FOUND = 12,
    REF_BRIDGE_KEYCHAIN_AUTH_DENIED = 13,
    REF_BRIDGE_KEYCHAIN_INTERACTION_REQUIRED = 14,
    REF_BRIDGE_KEYCHAIN_NO_WINDOW_SERVER = 15,
    REF_BRIDGE_USER_CANCEL = 16,
} ref_bridge_code;

#define REF_BRIDGE_CODE_COUNT 17

/* Recorded as the last bridge code when an operation failed before any bridge
 * step (invalid_label, key_not_found, duplicate_label) or has not run yet. */
#define REF_BRIDGE_NONE (-1)

/* Why an operation failed (REF_OK when it did not). */
typedef enum {
    REF_OK = 0,
    REF_ERR_NOT_AVAILABLE,
    REF_ERR_GENERATE_FAILED,
    REF_ERR_KEY_NOT_FOUND,
    REF_ERR_DUPLICATE_LABEL,
    REF_ERR_INVALID_LABEL,
    REF_ERR_SIGN_FAILED,
    REF_ERR_KEY_OPERATION,
    REF_ERR_WRAPPING_KEY_MISSING,
    REF_ERR_AUTH_DENIED,
    REF_ERR_INTERACTION_REQUIRED,
    REF_ERR_NO_WINDOW_SERVER,
    REF_ERR_USER_CANCELLED,
} ref_error;

#define REF_ERROR_COUNT 13

/* Stable snake_case name of a bridge code ("keychain_interaction_required"),
 * or NULL for a value outside 0..16. */
const char *ref_bridge_code_name(int code);

/* Stable outcome name of a core error ("interaction_required"), or NULL for a
 * value outside the enum. */
const char *ref_error_name(ref_error err);

/* Parses an outcome name back to its core error. Returns false, leaving *out
 * untouched, for any other text. */
bool ref_error_from_name(const char *name, ref_error *out);

#endif
