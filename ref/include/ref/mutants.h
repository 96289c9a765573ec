/* Mutants: named run-time switches that put one catalogued bug back into the
 * reference core (regressions.md). The clean core has none set.
 *
 * Each mutant is tested in exactly one place of ref/src (grep for its enum
 * name), so that a mutant restores exactly the behaviour its row describes
 * and nothing else. Names are exactly those of the regressions.md table.
 */
#ifndef REF_MUTANTS_H
#define REF_MUTANTS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    REF_MUT_PR80_NO_ACL_FALLBACK,
    REF_MUT_PR118_TWO_PROMPTS,
    REF_MUT_PR150_INTERACTION_UNMAPPED,
    REF_MUT_PR150_EVICT_WITHOUT_EXCLUSIONS,
    REF_MUT_PR151_NO_WINDOW_SERVER_AS_LOCKED,
    REF_MUT_PR155_EVICT_ON_CANCEL,
    REF_MUT_PR158_MISSING_25308,
    REF_MUT_PR158_WHEN_UNLOCKED_WRAPPING,
    REF_MUT_PR158_BLANKET_CLASS,
    REF_MUT_PR162_MIGRATION_EVICTS,
    REF_MUT_PR171_LACONTEXT_WITHOUT_PRESENCE,
    REF_MUT_LATENT_MIGRATE_EVERY_LOAD,
    REF_MUT_LATENT_MIGRATION_WINDOW,
    REF_MUT_LATENT_MIGRATION_LOST_UPDATE,
    REF_MUT_LATENT_STORE_UNMAPPED,
    REF_MUT_LATENT_LOAD_NO_ENTITLEMENT_FALLBACK,
    REF_MUT_LATENT_GENERATE_OVERWRITES_WRAPPED,
    REF_MUT_LATENT_DELETE_DROPS_WRAPPING_KEY,
    REF_MUT_LATENT_DESTROY_ON_TRANSIENT,
    REF_MUT_COUNT
} ref_mutant;

/* A set of mutants: bit (1 << m) for each mutant m. 0 is the clean core. */
typedef uint32_t ref_mutant_set;

#define REF_MUTANT_BIT(m) ((ref_mutant_set)1u << (unsigned)(m))
#define REF_MUTANTS_NONE ((ref_mutant_set)0)

/* The regressions.md name ("pr158-missing-25308"), or NULL outside the enum. */
const char *ref_mutant_name(ref_mutant m);
/* One line: what the mutant puts back. NULL outside the enum. */
const char *ref_mutant_doc(ref_mutant m);
/* Exact, case-sensitive lookup. Unknown (or NULL) name: false, *out untouched. */
bool ref_mutant_from_name(const char *name, ref_mutant *out);
/* Is m in the set? (false for values outside the enum) */
bool ref_mutant_in(ref_mutant_set set, ref_mutant m);

#endif
