/* Internal contract of the simulated LocalAuthentication (la_context.c) with
 * the rest of the Apple API shim (SecItem's presence gating, the Secure
 * Enclave's sign). Not installed; nothing outside mocks/src includes it.
 */
#ifndef KEYCLASS_LA_INTERNAL_H
#define KEYCLASS_LA_INTERNAL_H

#include <LocalAuthentication/LocalAuthentication.h>

#include "world_internal.h"

#include <stdbool.h>

/* Does `ctx` authenticate a presence-gated use in world `w` right now,
 * without a prompt? True iff all of:
 *  - it was authenticated by an approved LAContextEvaluatePolicy and has not
 *    been invalidated since;
 *  - it belongs to `w` and to w's current process, and that process has not
 *    restarted since the context was created (a context is process memory);
 *  - its reuse window is still open: now - auth time <= min(reuse duration,
 *    knob la_max_reuse) — a window of 0 covers only the instant of the
 *    authentication (the simulated clock does not move inside one operation);
 *  - the device has not been locked (or slept, or rebooted) since it
 *    authenticated (world_lock_epoch).
 * NULL ctx: false. Not a LAContext: CF misuse reported, false. No prompt, no
 * journal entry. */
bool la_context_reusable(LAContextRef ctx, const world *w);

/* Has `ctx` been invalidated (LAContextInvalidate)? A presence-gated use
 * with such a context fails with LAErrorInvalidContext instead of prompting.
 * NULL: false. Not a LAContext: CF misuse reported, false. */
bool la_context_invalidated(LAContextRef ctx);

/* The status of a LocalAuthentication prompt's answer: 0 (errSecSuccess)
 * when approved, LAErrorUserCancel, LAErrorAuthenticationFailed, or
 * LAErrorSystemCancel when nobody answered. */
int32_t la_answer_status(world_answer a);

#endif
