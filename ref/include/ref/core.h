/* The reference core: one instance per simulated process (domain.md §1, §6).
 *
 * A core holds everything a process keeps in memory: its configuration, the
 * wrapping-key cache, the LAContext registry, the last message and warning,
 * and counters for the invariant checker. There is no static or global
 * mutable state, so several cores (processes) run side by side, also as
 * coroutines on one thread.
 *
 * The core talks to the (simulated) Apple world only through the Apple-shaped
 * headers: Security, LocalAuthentication, CryptoKit/SecureEnclave,
 * CoreGraphics, keyclass/files.h for key files, CFAbsoluteTimeGetCurrent for
 * the clock and SecRandomCopyBytes for randomness. A world must be active
 * (and its current process set) whenever an operation runs.
 *
 * Every operation returns a core error (REF_OK on success) and records the
 * bridge code of the failing step (REF_BRIDGE_OK on success, REF_BRIDGE_NONE
 * when it failed before any bridge step). A failure records one message
 * (ref_core_last_message) that a later success does not erase; a success may
 * record a warning instead.
 */
#ifndef REF_CORE_H
#define REF_CORE_H

#include <CoreFoundation/CoreFoundation.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ref/meta.h"
#include "ref/mutants.h"
#include "ref/result.h"

typedef struct ref_core ref_core;

/* ---- Events (for the invariant checker) -------------------------------- */

typedef enum {
    REF_EV_OP_BEGIN,        /* detail: the operation ("sign") */
    REF_EV_OP_END,          /* error, code */
    REF_EV_MAPPED,          /* a status was mapped: detail = path ("keychain_load",
                               "keychain_store", "keychain_delete", "se_sign", "se_generate"),
                               status, gui, code */
    REF_EV_CACHE_HIT,       /* wrapping key served from the cache */
    REF_EV_CACHE_MISS,      /* not cached (or TTL 0) */
    REF_EV_CACHE_PUT,       /* cached for ttl_ms */
    REF_EV_CACHE_EXPIRE,    /* dropped at expiry; the LAContext is not touched */
    REF_EV_CACHE_EVICT,     /* evicted (zeroized); the LAContext is evicted with it */
    REF_EV_LA_EVALUATE,     /* evaluatePolicy called (a prompt); status 0 or the LAError */
    REF_EV_LA_REUSE,        /* the registry's context was reused (no prompt) */
    REF_EV_LA_REGISTER,     /* a context was registered for ttl_ms */
    REF_EV_LA_EVICT,        /* the registry's context was evicted (invalidated) */
    REF_EV_LA_EXPIRE,       /* the registry's context expired */
    REF_EV_STORE,           /* a wrapping-key item was added: detail "dp"/"file", presence */
    REF_EV_MIGRATION_CHECK, /* a load missed the cache: detail = stored class, decision */
    REF_EV_MIGRATION_WRITE, /* the migration wrote (status) */
    REF_EV_WARNING,         /* detail: the warning */
} ref_event_kind;

typedef struct {
    ref_event_kind kind;
    const char *label; /* the label concerned (may be NULL) */
    const char *detail;
    int32_t status;  /* OSStatus / LAError where relevant, else 0 */
    int code;        /* bridge code where relevant, else 0 */
    ref_error error; /* OP_END */
    bool gui;        /* MAPPED */
    bool presence;   /* STORE */
    int64_t ttl_ms;  /* CACHE_PUT, LA_REGISTER */
} ref_event;

typedef void (*ref_observer_fn)(void *ctx, const ref_event *event);

/* ---- Configuration ------------------------------------------------------- */

#define REF_TTL_DEFAULT (-1) /* sign: the configuration's cache_ttl_ms */
/* Longest TTL accepted (1000 days): now + TTL can never overflow. */
#define REF_TTL_MAX_MS ((int64_t)1000 * 24 * 3600 * 1000)
#define REF_DEFAULT_VENDOR "example"

typedef struct {
    const char *app;          /* "sshenc"; copied */
    const char *vendor;       /* service is "com.<vendor>.<app>"; NULL: REF_DEFAULT_VENDOR */
    bool is_signed;           /* unsigned builds use "<app>-unsigned" (service and key dir) */
    const char *access_group; /* NULL: none (file-based keychain only); copied */
    bool wrap_presence;       /* store the wrapping key presence-protected */
    int64_t cache_ttl_ms;     /* wrapping-key cache TTL and default sign TTL; 0 disables */
    const char *key_dir;      /* prefix of key file paths, ending in '/'; NULL: default
                                 "~/.<app>[-unsigned]/keys/"; copied */
    ref_mutant_set mutants;   /* REF_MUTANTS_NONE: the clean core */
    ref_observer_fn observer; /* may be NULL */
    void *observer_ctx;
} ref_config;

/* Scenario-language defaults: app "sshenc", vendor "example", signed, no
 * group, wrap_presence true, TTL 300 s, default key dir, no mutant. */
void ref_config_init(ref_config *cfg);

/* The service ("com.example.sshenc" / "com.example.sshenc-unsigned"). Returns
 * the length, or 0 if cap is too small. */
size_t ref_config_service(const ref_config *cfg, char *buf, size_t cap);
/* The key directory prefix ("~/.sshenc/keys/"). */
size_t ref_config_key_dir(const ref_config *cfg, char *buf, size_t cap);
/* A key file path: key dir + label + ext (".handle", ".pub", ".meta"). */
size_t ref_config_key_path(const ref_config *cfg, const char *label, const char *ext, char *buf,
                           size_t cap);

/* NULL if cfg is invalid (no app, a name too long, a TTL < 0 or > REF_TTL_MAX_MS). */
ref_core *ref_core_new(const ref_config *cfg);
/* Zeroizes and frees the caches and releases every LAContext. */
void ref_core_free(ref_core *core);
const ref_config *ref_core_config(const ref_core *core);
const char *ref_core_service(const ref_core *core);

/* ---- Operations ------------------------------------------------------------ */

/* Creates a key: SE key, EHW1 handle, wrapping key in the keychain, files.
 * Refuses an existing label (duplicate_label) touching nothing; rolls back
 * every earlier step on failure. presence is recorded as the key's default
 * sign mode (REF_PRESENCE_KEY_DEFAULT means none). */
ref_error ref_core_generate(ref_core *core, const char *label, ref_auth auth,
                            ref_presence presence);

/* Signs msg (ECDSA P-256 / SHA-256, DER). presence: a mode, or
 * REF_PRESENCE_KEY_DEFAULT; ttl_ms: the LAContext TTL in cached mode, or
 * REF_TTL_DEFAULT. On success *signature is a +1 CFData. */
ref_error ref_core_sign(ref_core *core, const char *label, const void *msg, size_t len,
                        ref_presence presence, int64_t ttl_ms, CFDataRef *signature);

/* Loads the wrapping key (cache first) and decrypts the handle; a legacy
 * plaintext handle passes through. Migrates the item's protection class after
 * a cache miss when needed. */
ref_error ref_core_load(ref_core *core, const char *label);

/* The 65-byte uncompressed public key: the .pub file when it is a valid P-256
 * point, otherwise from the SE (and the .pub is rewritten). */
ref_error ref_core_pubkey(ref_core *core, const char *label, uint8_t out[65]);

/* Renames a key: files first, then the keychain item (in place); rolls back
 * on failure. Evicts both caches of both labels. */
ref_error ref_core_rename(ref_core *core, const char *old_label, const char *new_label);

/* Deletes a key: SE key, keychain item, files. When the handle cannot be read
 * for a transient reason, keeps everything so that a retry can succeed. */
ref_error ref_core_delete(ref_core *core, const char *label);

/* Drops the cached wrapping key (zeroized) and the label's LAContext. */
void ref_core_evict_wrapping_key_cache(ref_core *core, const char *label);
/* Evicts every cached wrapping key and every registered LAContext. */
void ref_core_evict_all(ref_core *core);

/* ---- Observation (no Apple call) ------------------------------------------- */

ref_error ref_core_last_error(const ref_core *core);
/* Bridge code of the last operation (REF_BRIDGE_NONE before any). */
int ref_core_last_bridge_code(const ref_core *core);
/* The last OSStatus / LAError the last operation saw from a mapped call, and
 * whether there was one. */
int32_t ref_core_last_status(const ref_core *core, bool *has_status);
/* The message of the last failed operation ("" if none yet). */
const char *ref_core_last_message(const ref_core *core);
/* The warning of the last successful operation ("" if it had none). */
const char *ref_core_last_warning(const ref_core *core);

/* Is a wrapping key cached (and not expired at the world's current time)? */
bool ref_core_has_cached_key(const ref_core *core, const char *label);
/* Is a LAContext registered (and not expired) for the label? */
bool ref_core_has_lacontext(const ref_core *core, const char *label);

typedef struct {
    uint64_t cache_hits;
    uint64_t cache_misses;
    uint64_t cache_puts;
    uint64_t cache_evictions; /* explicit evictions (rename, delete, store, public evict) */
    uint64_t cache_expiries;
    uint64_t la_acquisitions; /* evaluatePolicy calls */
    uint64_t la_reuses;
    uint64_t la_evictions;
    uint64_t migrations_checked; /* cache misses whose stored class was examined */
    uint64_t migrations_attempted;
    uint64_t migrations_written; /* a keychain write happened */
    uint64_t stores;             /* successful wrapping-key adds */
} ref_stats;

/* Counters for one label (zero for a label never seen), or totals (label NULL). */
void ref_core_stats(const ref_core *core, const char *label, ref_stats *out);

#endif
