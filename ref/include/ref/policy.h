/* Labels and the agent policy (domain.md §6): which labels are valid, and the
 * user-facing message of each core error. Pure functions.
 *
 * Every message names the label and contains the recovery words the agent
 * policy fixes: interaction_required "unlock", no_window_server "launchd",
 * auth_denied "Always Allow", user_cancelled "cancelled",
 * wrapping_key_missing "keychain". Messages never contain key material: the
 * only inputs are the error, the operation, the label and a detail the core
 * builds from call names and status numbers.
 */
#ifndef REF_POLICY_H
#define REF_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "ref/result.h"

#define REF_LABEL_MAX 64

/* Letters, digits, '-', '_', '.', not starting with '.', 1..64 bytes. */
bool ref_label_valid(const char *label);

/* The policy text of one core error ("unlock the screen and retry ..."),
 * without label or detail; NULL for REF_OK or a value outside the enum. */
const char *ref_policy_text(ref_error err);

/* Writes "<op> of key '<label>' failed: <policy text> [(<detail>)]" into buf
 * (always NUL-terminated when cap > 0; truncated if needed). A label that is
 * not printable ASCII is shown escaped (\xNN) and cut after 64 bytes. op and
 * detail may be NULL. Returns the length written. */
size_t ref_policy_message(ref_error err, const char *op, const char *label, const char *detail,
                          char *buf, size_t cap);

/* The label as messages show it: printable ASCII as is, other bytes \xNN,
 * cut after 64 input bytes with "...". Returns the length written. */
size_t ref_label_quote(const char *label, char *buf, size_t cap);

#endif
