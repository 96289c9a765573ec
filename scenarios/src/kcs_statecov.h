/* The engine's hooks for state-machine coverage (kcs_statecov.c). Internal.
 *
 * kcs_run_step calls kcs_statecov_step_begin right before it runs a statement
 * and kcs_statecov_step_end right after (before the invariant checker). Both
 * return at once when the run records no coverage (options.statecov NULL) or
 * the statement is not an operation. A driver that runs operations some other
 * way (the interleaving explorer) calls the same pair around each operation
 * statement of one process; the pair must not interleave with another pair on
 * the same accumulator.
 */
#ifndef KCS_STATECOV_INTERNAL_H
#define KCS_STATECOV_INTERNAL_H

#include "kcs/statecov.h"
#include "kcs_internal.h"

void kcs_statecov_step_begin(kcs_run *run, const kcs_stmt *st);
void kcs_statecov_step_end(kcs_run *run, const kcs_stmt *st);

#endif
