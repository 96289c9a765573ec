/* The mutant catalogue: names and one-line descriptions (regressions.md). */
#include "ref/mutants.h"

#include <stddef.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *doc;
} mutant_info;

static const mutant_info mutant_table[REF_MUT_COUNT] = {
    [REF_MUT_PR80_NO_ACL_FALLBACK] =
        {"pr80-no-acl-fallback", "a store with presence refused (-50 or -34018) is not retried "
                                 "without it: generate fails on unsigned builds"},
    [REF_MUT_PR118_TWO_PROMPTS] =
        {"pr118-two-prompts", "the authenticated LAContext is not passed to the keychain load: "
                              "one sign costs two prompts"},
    [REF_MUT_PR150_INTERACTION_UNMAPPED] = {"pr150-interaction-unmapped",
                                            "-25315 from the keychain surfaces as generic code 10 "
                                            "instead of 14"},
    [REF_MUT_PR150_EVICT_WITHOUT_EXCLUSIONS] =
        {"pr150-evict-without-exclusions", "every sign failure evicts the LAContext, even auth "
                                           "denied, locked, no window server and cancel"},
    [REF_MUT_PR151_NO_WINDOW_SERVER_AS_LOCKED] =
        {"pr151-no-window-server-as-locked", "a process without a GUI session gets 14 (unlock "
                                             "and retry) instead of 15 (restart under launchd)"},
    [REF_MUT_PR155_EVICT_ON_CANCEL] = {"pr155-evict-on-cancel",
                                       "a cancelled prompt evicts the still-valid LAContext"},
    [REF_MUT_PR158_MISSING_25308] = {"pr158-missing-25308",
                                     "-25308 from the keychain falls through to generic code 10"},
    [REF_MUT_PR158_WHEN_UNLOCKED_WRAPPING] = {"pr158-when-unlocked-wrapping",
                                              "wrapping keys are stored WhenUnlockedThisDeviceOnly "
                                              "and never migrated"},
    [REF_MUT_PR158_BLANKET_CLASS] = {"pr158-blanket-class",
                                     "the SE key of an auth policy gets AfterFirstUnlock too: "
                                     "biometric reuse stops, every sign prompts"},
    [REF_MUT_PR162_MIGRATION_EVICTS] = {"pr162-migration-evicts",
                                        "the migration re-store runs on every cache miss through "
                                        "the evicting store"},
    [REF_MUT_PR171_LACONTEXT_WITHOUT_PRESENCE] = {"pr171-lacontext-without-presence",
                                                  "a sign acquires a LAContext (a prompt) although "
                                                  "nothing needs presence"},
    [REF_MUT_LATENT_MIGRATE_EVERY_LOAD] = {"latent-migrate-every-load",
                                           "the migration re-store (delete + add) runs on every "
                                           "cache miss, even when the class is already right"},
    [REF_MUT_LATENT_MIGRATION_WINDOW] = {"latent-migration-window",
                                         "the migration is delete-then-add: a concurrent load can "
                                         "find nothing in between"},
    [REF_MUT_LATENT_MIGRATION_LOST_UPDATE] = {"latent-migration-lost-update",
                                              "the migration writes back the key bytes it loaded, "
                                              "over a key another process re-generated meanwhile"},
    [REF_MUT_LATENT_STORE_UNMAPPED] =
        {"latent-store-unmapped", "store failures from an unavailable class key (-25308/-25315) "
                                  "come back as generic code 9"},
    [REF_MUT_LATENT_LOAD_NO_ENTITLEMENT_FALLBACK] =
        {"latent-load-no-entitlement-fallback", "a load refused by the DP keychain with -34018 "
                                                "gives up instead of trying the file keychain"},
    [REF_MUT_LATENT_GENERATE_OVERWRITES_WRAPPED] =
        {"latent-generate-overwrites-wrapped", "generate only treats a plaintext handle as a "
                                               "duplicate and destroys an existing wrapped key"},
    [REF_MUT_LATENT_DELETE_DROPS_WRAPPING_KEY] = {"latent-delete-drops-wrapping-key",
                                                  "a delete whose handle read fails transiently "
                                                  "keeps the files but deletes the wrapping key"},
    [REF_MUT_LATENT_DESTROY_ON_TRANSIENT] = {"latent-destroy-on-transient",
                                             "a transient read error is taken for an invalid key "
                                             "and the item and handle are deleted"},
};

const char *ref_mutant_name(ref_mutant m) {
    if ((int)m < 0 || (int)m >= REF_MUT_COUNT)
        return NULL;
    return mutant_table[m].name;
}

const char *ref_mutant_doc(ref_mutant m) {
    if ((int)m < 0 || (int)m >= REF_MUT_COUNT)
        return NULL;
    return mutant_table[m].doc;
}

bool ref_mutant_from_name(const char *name, ref_mutant *out) {
    if (name == NULL)
        return false;
    for (int i = 0; i < REF_MUT_COUNT; i++) {
        if (strcmp(name, mutant_table[i].name) == 0) {
            *out = (ref_mutant)i;
            return true;
        }
    }
    return false;
}

bool ref_mutant_in(ref_mutant_set set, ref_mutant m) {
    if ((int)m < 0 || (int)m >= REF_MUT_COUNT)
        return false;
    return (set & REF_MUTANT_BIT(m)) != 0;
}
