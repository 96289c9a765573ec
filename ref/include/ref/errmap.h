/* The OSStatus mapping of the reference core (domain.md §6), as pure,
 * table-driven functions: no Apple call, no state.
 *
 *   status x GUI session -> bridge code     (keychain load, keychain store)
 *   per-keychain statuses -> bridge code    (keychain delete sweep)
 *   SE status -> bridge code                (SE sign, SE generate)
 *   bridge code -> core error
 *   core error -> evict the sign's LAContext or not
 *
 * Every function is total: any int32 maps to a valid bridge code, and any
 * bridge code to a valid core error. The mutants that live in the mapping
 * (pr150-interaction-unmapped, pr151-no-window-server-as-locked,
 * pr158-missing-25308, latent-store-unmapped, pr150-evict-without-exclusions,
 * pr155-evict-on-cancel) are applied here, each in one place; pass
 * REF_MUTANTS_NONE for the clean table.
 */
#ifndef REF_ERRMAP_H
#define REF_ERRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ref/mutants.h"
#include "ref/result.h"

/* Keychain load (SecItemCopyMatching of the wrapping key): the status of the
 * last keychain tried. Success maps to OK; the caller checks the length (a
 * value that is not 32 bytes is REF_BRIDGE_KEYCHAIN_LOAD). */
ref_bridge_code ref_errmap_load(int32_t status, bool gui, ref_mutant_set mutants);

/* Keychain store (the final SecItemAdd after every fallback). */
ref_bridge_code ref_errmap_store(int32_t status, bool gui, ref_mutant_set mutants);

/* Keychain delete sweep: one status per keychain tried (DP, file). OK when
 * any of them deleted an item or all found nothing (errSecItemNotFound;
 * errSecMissingEntitlement from the DP keychain counts as found nothing, ours);
 * otherwise KEYCHAIN_DELETE. n == 0 is OK. */
ref_bridge_code ref_errmap_delete(const int32_t *statuses, const bool *is_dp, size_t n);

/* SE sign: LAErrorUserCancel/AppCancel/SystemCancel -> USER_CANCEL, any other
 * failure -> SIGN. */
ref_bridge_code ref_errmap_sign(int32_t status);

/* SE key creation: any failure -> GENERATE. */
ref_bridge_code ref_errmap_generate(int32_t status);

/* Bridge code -> core error. Codes outside 0..16 -> key_operation. */
ref_error ref_errmap_error(int code);

/* Does a sign that failed with `err` evict its (cached-mode) LAContext?
 * Clean: no for ok, auth_denied, interaction_required, no_window_server and
 * user_cancelled; yes for every other error (L1). */
bool ref_errmap_evicts_lacontext(ref_error err, ref_mutant_set mutants);

/* Is this bridge code one of the transient ones (13-16) that must never
 * delete anything (D2)? */
bool ref_errmap_is_transient(int code);

/* Apple's name for a status the contract lists ("errSecInteractionNotAllowed",
 * "LAErrorUserCancel" for the LAError values), or NULL. Where an OSStatus and
 * an LAError share a value (-4), the OSStatus name wins. */
const char *ref_status_name(int32_t status);

/* Prints the implemented table (the `keyclass errmap` output): every row of
 * domain.md §6 with bridge code, core error and LAContext eviction, for the
 * given mutant set (REF_MUTANTS_NONE: the clean core). */
void ref_errmap_print(FILE *out, ref_mutant_set mutants);

#endif
