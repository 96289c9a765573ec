/* Internal contract between the world (world_*.c) and the Apple API shim
 * (sec_*.c, la_*.c, se_*.c, cg_*.c) inside mocks/. Not installed; nothing
 * outside mocks/src includes it.
 *
 * Every Apple-shaped entry point follows the same four steps, through the one
 * central hook below; a scheduler (world_set_scheduler) yields at the start of
 * world_call_faulted, once the key arguments are known:
 *
 *     world *w = world_active();
 *     world_call call;
 *     world_call_begin(w, &call, WORLD_API_SEC_ITEM_ADD);   // who, which api
 *     ... parse the query; fill call.keychain/service/account/cls/flags ...
 *     OSStatus st;
 *     if (!world_call_faulted(w, &call, &st))               // fault plan first
 *         st = the_real_work(...);
 *     return world_call_end(w, &call, st);                  // journal, counters, crash
 *
 * world_call_faulted also returns true (errSecNotAvailable) for a crashed
 * process, so its calls have no effect.
 *
 * Because other simulated processes may run inside world_call_faulted, an
 * entry point must not keep pointers into world state (items, SE keys, files)
 * across it: it looks things up again after it returns.
 */
#ifndef KEYCLASS_WORLD_INTERNAL_H
#define KEYCLASS_WORLD_INTERNAL_H

#include "keyclass/world.h"
#include <openssl/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Status names ---------------------------------------------------------- */

/* Apple's name of a status as returned by `api` ("errSecItemNotFound",
 * "LAErrorUserCancel" for LocalAuthentication and SE calls), or NULL. */
const char *world_status_name(world_api api, int32_t status);

/* ---- The central entry hook --------------------------------------------- */

typedef struct {
    world_api api;
    world_pid pid;
    const char *keychain; /* "dp", "file" or NULL: journaled as kc= */
    char service[96];     /* journaled; matched by fault match= globs */
    char account[96];
    int cls;         /* world_class or -1 */
    uint32_t flags;  /* access-control flags or 0 */
    size_t in_size;  /* input size (data added, message signed), 0 if none */
    char path[128];  /* file calls: the path (journaled, matched by match=) */
    char detail[64]; /* extra, non-secret detail for the journal, "" if none */
    /* Not journaled: what a scheduler needs to know beyond the journaled
     * arguments (world_call_info). */
    char account2[96]; /* SecItemUpdate: the new account, "" = unchanged */
    char service2[96]; /* SecItemUpdate: the new service, "" = unchanged */
    char path2[128];   /* kc_file_rename: the destination */
    uint64_t se_key;   /* SE calls: the key id the blob names, 0 if none */
    bool returns_data; /* SecItemCopyMatching with kSecReturnData */
    bool prefix;       /* kc_file_list: path is a prefix */
    bool injected;     /* a planned fault answered in the call's place */
    int32_t injected_status;
} world_call;

/* Starts a call of the current process. Never fails. */
void world_call_begin(world *w, world_call *call, world_api api);
/* Consults the fault plan once the key arguments are filled in. True: the
 * call must not run and *status is what it returns. */
bool world_call_faulted(world *w, world_call *call, int32_t *status);
/* Journals the call with its status, counts it, arms a crash if one is
 * planned after it. Returns status unchanged. */
int32_t world_call_end(world *w, world_call *call, int32_t status);

/* ---- Processes, seen from the shim --------------------------------------- */

bool world_proc_has_gui(const world *w, world_pid pid);
/* Is the process entitled to the DP keychain access group? A NULL group asks
 * whether it has any keychain-access-groups entitlement at all. */
bool world_proc_entitled(const world *w, world_pid pid, const char *group);
/* The access group a DP item gets when the query names none (the process's
 * first entitlement), or NULL when it has none. */
const char *world_proc_default_group(const world *w, world_pid pid);
bool world_proc_default_keychain_reachable(const world *w, world_pid pid);

/* ---- Prompts ------------------------------------------------------------- */

/* Can a prompt be shown to the user for this process now (GUI session and
 * device unlocked and awake)? */
bool world_prompt_possible(const world *w, world_pid pid);
/* Shows one prompt: counts it by kind, consumes one answer (queue first, then
 * the default), journals kind and answer. Call only when possible. */
world_answer world_prompt_show(world *w, world_prompt_kind kind, const char *about);

/* ---- Item store (both keychains; opaque, implemented by sec_items.c) ------ */

typedef struct world_item world_item;
typedef struct world_item_store world_item_store;
world_item_store *world_item_store_new(void);
void world_item_store_free(world_item_store *store);
world_item_store *world_item_store_of(world *w);
const world_item_store *world_item_store_of_const(const world *w);
/* SHA-256, fetched once for the process (an implicit fetch on every
 * digest, signature and MAC cost more than hashing a few bytes). */
const EVP_MD *world_sha256(void);

/* Counts every change of the item store, plants included (world_store_version). */
uint64_t world_item_store_version(const world *w);
/* Passcode removal: delete every item of this class (DP keychain). */
void world_items_delete_class(world *w, world_class cls);

/* ---- Time ----------------------------------------------------------------- */

/* Seconds since 2001-01-01 (CFAbsoluteTime) for the world clock: a fixed
 * epoch plus world_now_ms / 1000. */
double world_absolute_time(const world *w);

/* ---- Secure Enclave store (opaque; implemented by se_*.c) ----------------- */

typedef struct world_se_store world_se_store;
world_se_store *world_se_store_new(void);
void world_se_store_free(world_se_store *store);
world_se_store *world_se_store_of(world *w);
const world_se_store *world_se_store_of_const(const world *w);

/* A per-device secret (from the seeded generator) that binds SE blobs to this
 * simulated device. */
const unsigned char *world_device_secret(const world *w); /* 32 bytes */

/* ---- Contexts and times of the device ----------------------------------- */

/* Increments at every device lock (LAContext reuse does not survive a lock). */
uint64_t world_lock_epoch(const world *w);

#endif
