/* The simulated Apple world: one explicit, seeded value (architecture.md
 * layer 2, domain.md §2–§5).
 *
 * Everything the Apple API shim simulates lives in a `world`: the clock, the
 * device and its keybag, the two keychains, processes and their identities,
 * the user's answers, the Secure Enclave's keys, the per-user file store, the
 * fault plan and the journal. Two worlds created from the same seed and driven
 * by the same calls produce byte-identical journals.
 *
 * The Apple-shaped functions (SecItemCopyMatching, LAContextEvaluatePolicy, ...)
 * take no world argument, exactly like Apple's. They act on the *active* world
 * (world_activate) on behalf of its *current process* (world_set_current). That
 * one accessor, world_active(), is the only way shim code reaches a world.
 *
 * Functions named world_* here drive the world from outside (the scenario
 * engine, tests) or inspect it: they cause no prompt, count no call and — except
 * for the events that change the world (device, clock, faults, keychain lock,
 * user answers), which are journaled as events — write nothing to the journal.
 */
#ifndef KEYCLASS_WORLD_H
#define KEYCLASS_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct world world;

/* ---- Lifecycle and the one accessor ----------------------------------- */

world *world_new(uint64_t seed);
void world_free(world *w);

/* Makes `w` the world the Apple-shaped API acts on (NULL: none). */
void world_activate(world *w);
/* The active world, or NULL. */
world *world_active(void);

/* ---- Fidelity knobs ----------------------------------------------------
 * Behaviours domain.md marks as uncertain. Each knob has a documented default
 * (see the table in world_knob.c and the README). Values are integers:
 * durations in milliseconds, booleans 0/1. */
typedef enum {
    WORLD_KNOB_LOCK_GRACE_MS,                    /* default 10000 */
    WORLD_KNOB_SE_REUSE_REQUIRES_WHEN_UNLOCKED,  /* default 1 */
    WORLD_KNOB_SE_WHEN_UNLOCKED_UNUSABLE_LOCKED, /* default 1 */
    WORLD_KNOB_SE_AVAILABLE,                     /* default 1 */
    WORLD_KNOB_LA_MAX_REUSE_MS,                  /* default 300000 */
    WORLD_KNOB_LA_REUSE_ENDS_AT_LOCK,            /* default 1 */
    WORLD_KNOB_COUNT
} world_knob;

/* Knob by its scenario-language name ("lock_grace", ...). -1 if unknown. */
int world_knob_from_name(const char *name);
const char *world_knob_name(world_knob knob);
const char *world_knob_doc(world_knob knob);
int64_t world_knob_default(world_knob knob);
void world_set_knob(world *w, world_knob knob, int64_t value);
int64_t world_knob_value(const world *w, world_knob knob);

/* ---- Clock ------------------------------------------------------------ */

/* Milliseconds since the world began (starts at 0). */
int64_t world_now_ms(const world *w);
/* The clock never passes 2^50 ms (35,000 years): so that now + any duration
 * the core adds stays far from int64 overflow. */
#define WORLD_CLOCK_HORIZON_MS ((int64_t)1 << 50)
/* Advances the clock; journaled as an event. ms must be >= 0 and keep the
 * clock within the horizon; otherwise nothing changes (world_last_error). */
void world_advance(world *w, int64_t ms);

/* ---- Device, keybag, login keychain ----------------------------------- */

typedef enum {
    WORLD_DEVICE_OFF,
    WORLD_DEVICE_BEFORE_FIRST_UNLOCK, /* booted, never unlocked since */
    WORLD_DEVICE_UNLOCKED,
    WORLD_DEVICE_LOCKED,
} world_device_state;

/* Device events. Each returns 0, or -1 when the event makes no sense in the
 * current state (unlock while off, wake while awake, ...): the world is then
 * unchanged and the reason is in world_last_error(). */
int world_device_boot(world *w);
int world_device_unlock(world *w);
int world_device_lock(world *w);
int world_device_sleep(world *w);  /* locks, then sleeps */
int world_device_wake(world *w);   /* wakes, still locked */
int world_device_reboot(world *w); /* back to before-first-unlock; restarts every process */
int world_device_set_passcode(world *w, bool on);
int world_device_set_biometry(world *w, bool on);

world_device_state world_device_state_now(const world *w);
bool world_device_asleep(const world *w);
bool world_device_passcode(const world *w);
bool world_device_biometry(const world *w);
const char *world_device_state_name(world_device_state s);

/* Apple's seven protection classes, in kSecAttrAccessible* order. */
typedef enum {
    WORLD_CLASS_WHEN_UNLOCKED,
    WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY,
    WORLD_CLASS_AFTER_FIRST_UNLOCK,
    WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
    WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY,
    WORLD_CLASS_ALWAYS,
    WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY,
    WORLD_CLASS_COUNT
} world_class;

/* Name without the kSecAttrAccessible prefix ("AfterFirstUnlockThisDeviceOnly"). */
const char *world_class_name(world_class c);
/* Parses such a name; -1 if unknown. */
int world_class_from_name(const char *name);

/* Is the class key available right now (domain.md §3)? Without a passcode
 * there is nothing to protect class keys with: every class but
 * WhenPasscodeSet is available whenever the device is on (as on Apple
 * devices without a passcode). */
bool world_class_key_available(const world *w, world_class c);
/* Faults: lost until the next device unlock; destroyed forever. */
void world_fault_lose_class_key(world *w, world_class c);
void world_fault_destroy_class_key(world *w, world_class c);

/* The file-based login keychain. */
int world_login_keychain_lock(world *w);
int world_login_keychain_unlock(world *w);
void world_login_keychain_set_lock_on_sleep(world *w, bool on);
bool world_login_keychain_locked(const world *w);

/* ---- Processes ---------------------------------------------------------- */

typedef int world_pid; /* index into the process table; -1 = none */

typedef struct {
    const char *name;         /* scenario name, e.g. "agent" */
    const char *app;          /* e.g. "sshenc" */
    bool is_signed;           /* signed: identity = signing identity, stable across rebuilds */
    const char *access_group; /* NULL: none; entitlement only when signed */
    bool gui;                 /* has a window-server session */
    bool home_override;       /* no default keychain reachable */
} world_process_config;

/* Declares a process (copied). Returns its pid, or -1 if the name is taken. */
world_pid world_process_add(world *w, const world_process_config *cfg);
world_pid world_process_find(const world *w, const char *name);
size_t world_process_count(const world *w);
const world_process_config *world_process_config_of(const world *w, world_pid pid);
/* Identity the ACLs see: the signing identity for a signed build, the code
 * hash (hex) for an unsigned one. */
const char *world_process_identity(const world *w, world_pid pid);
/* Memory gone, same identity; clears a crash. */
void world_process_restart(world *w, world_pid pid);
/* Memory gone, new build: new code hash (a new identity if unsigned). */
void world_process_rebuild(world *w, world_pid pid);
/* Restarts since declaration (a reboot restarts every process); the engine
 * compares it to drop the process's core memory. */
uint64_t world_process_generation(const world *w, world_pid pid);

/* The process on whose behalf Apple API calls run (set by the caller layer). */
void world_set_current(world *w, world_pid pid);
world_pid world_current(const world *w);

/* A crashed process: its crash fault fired right after one of its calls.
 * From then on every Apple call it makes fails without effect (errSecNotAvailable,
 * not journaled as a real call) until world_process_restart. The caller layer
 * checks this after each operation to report `crashed`. */
bool world_process_crashed(const world *w, world_pid pid);

/* ---- User --------------------------------------------------------------- */

typedef enum {
    WORLD_ANSWER_APPROVE,
    WORLD_ANSWER_CANCEL,
    WORLD_ANSWER_FAIL,
    WORLD_ANSWER_ABSENT,
} world_answer;

const char *world_answer_name(world_answer a);
int world_answer_from_name(const char *name); /* -1 if unknown */
void world_user_queue(world *w, world_answer a, unsigned times);
void world_user_set_default(world *w, world_answer a);
/* Answers queued by world_user_queue and not consumed yet. */
size_t world_user_answers_pending(const world *w);

typedef enum {
    WORLD_PROMPT_LA_EVALUATE,       /* LAContext evaluatePolicy */
    WORLD_PROMPT_KEYCHAIN_PRESENCE, /* DP item read with .userPresence */
    WORLD_PROMPT_SE_PRESENCE,       /* SE sign with .userPresence */
    WORLD_PROMPT_FILE_ALWAYS_ALLOW, /* file-based "Always Allow / Deny" */
    WORLD_PROMPT_FILE_UNLOCK,       /* file-based keychain unlock */
    WORLD_PROMPT_KIND_COUNT
} world_prompt_kind;

const char *world_prompt_kind_name(world_prompt_kind k);
/* Prompts shown since the world began, of one kind or in total. */
uint64_t world_prompts_shown(const world *w, world_prompt_kind k);
uint64_t world_prompts_total(const world *w);

/* ---- Apple API calls: names, counters ----------------------------------- */

typedef enum {
    WORLD_API_SEC_ITEM_ADD,
    WORLD_API_SEC_ITEM_COPY_MATCHING,
    WORLD_API_SEC_ITEM_UPDATE,
    WORLD_API_SEC_ITEM_DELETE,
    WORLD_API_SEC_ACCESS_CONTROL_CREATE,
    WORLD_API_LA_EVALUATE_POLICY,
    WORLD_API_SE_GENERATE,
    WORLD_API_SE_SIGN,
    /* Beyond the scenario language's fault list: counted, journaled, crash points. */
    WORLD_API_SE_DELETE,
    WORLD_API_SE_PUBLIC_KEY,
    WORLD_API_SEC_KEYCHAIN, /* SecKeychainCopyDefault / Open / Unlock */
    WORLD_API_FILE_WRITE,
    WORLD_API_FILE_READ,
    WORLD_API_FILE_RENAME,
    WORLD_API_FILE_UNLINK,
    WORLD_API_FILE_LOCK,   /* kc_file_trylock */
    WORLD_API_FILE_UNLOCK, /* kc_file_unlock */
    WORLD_API_COUNT
} world_api;

/* "SecItemAdd", "SecItemCopyMatching", ..., "SEGenerate", "SESign", "FileWrite",
 * ..., "FileLock", "FileUnlock". */
const char *world_api_name(world_api api);
int world_api_from_name(const char *name); /* -1 if unknown */
/* Calls made since the world began (faulted calls included). */
uint64_t world_calls_made(const world *w, world_api api);
uint64_t world_calls_total(const world *w);

/* Parses a status as the scenario language writes it: an Apple name
 * ("errSecInteractionNotAllowed", "LAErrorUserCancel", ...) or a decimal
 * int32. False for anything else. */
bool world_status_parse(const char *text, int32_t *out);

/* ---- Fault plan (scenario-language.md "Faults") --------------------------- */

typedef struct {
    world_api api;
    int32_t status;    /* OSStatus or LAError code to return */
    unsigned nth;      /* fire from the nth matching call on (>= 1) */
    unsigned times;    /* consecutive matching calls that fail; 0 = always */
    world_pid proc;    /* -1: any process */
    const char *match; /* fnmatch glob on "service/account" (file calls: the
                          path); NULL: any (copied) */
} world_fault;

/* Plans a fault. Each fault counts its own matching calls from the moment it
 * is planned and fails exactly calls nth .. nth+times-1 of that count (from
 * nth on when times is 0). When two faults claim one call, the one planned
 * first sets the status; both count it. A proc that names no declared
 * process is refused: nothing is planned. */
void world_fault_add(world *w, const world_fault *f);
/* Crash `proc` right after its nth matching call to `api` returns. */
void world_fault_crash(world *w, world_pid proc, world_api api, unsigned nth);
/* Crash `proc` right after its nth call of any API (counted from now) returns:
 * the crash points of a crash-point sweep. */
void world_fault_crash_after_calls(world *w, world_pid proc, unsigned nth);

/* ---- Journal -------------------------------------------------------------- */

/* The whole journal: one line per call or event, '\n'-terminated. */
const char *world_journal(const world *w);
size_t world_journal_length(const world *w);
/* Monotonic step counter (one per journal line). */
uint64_t world_step(const world *w);
/* Appends a free-form event line (the engine uses it for scenario steps). */
void world_journal_note(world *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Message of the last rejected world_* call. */
const char *world_last_error(const world *w);

/* ---- Inspection and seeding (no prompt, no counted call, no journal) -------- */

typedef enum { WORLD_KEYCHAIN_DP, WORLD_KEYCHAIN_FILE } world_keychain;

/* Access-control flags, as kSecAccessControl* bits. */
enum {
    WORLD_AC_USER_PRESENCE = 1u << 0,
    WORLD_AC_BIOMETRY_ANY = 1u << 1,
    WORLD_AC_DEVICE_PASSCODE = 1u << 4,
    WORLD_AC_PRIVATE_KEY_USAGE = 1u << 30,
};
#define WORLD_AC_PRESENCE_MASK                                                                     \
    (WORLD_AC_USER_PRESENCE | WORLD_AC_BIOMETRY_ANY | WORLD_AC_DEVICE_PASSCODE)

typedef struct {
    world_keychain keychain;
    const char *service;
    const char *account;
    const char *access_group; /* NULL on the file-based keychain */
    world_class accessible;   /* the class stored (effective on DP only) */
    bool has_access_control;
    uint32_t ac_flags; /* WORLD_AC_* when has_access_control */
    const unsigned char *data;
    size_t data_len;
    bool synchronizable;
    const char *creator; /* identity that created it (file ACL) */
    uint64_t writes;     /* adds + updates of this item so far */
} world_item_view;

size_t world_item_count(const world *w);
/* Item by index (0..count-1); the view is valid until the next world change. */
bool world_item_at(const world *w, size_t index, world_item_view *out);
/* Finds an item; access_group NULL matches an item without a group. */
bool world_item_find(const world *w, world_keychain kc, const char *service, const char *account,
                     const char *access_group, world_item_view *out);
/* Seeds an item directly (plant). Returns 0, or -1 if the primary key exists. */
int world_item_plant(world *w, const world_item_view *item);
/* Total adds/updates/deletes ever applied to items (for "no write" checks). */
uint64_t world_item_mutations(const world *w);
/* Changes whenever an item or a key file does (writes, deletes, renames,
 * plants): an observer may skip re-reading a store whose version it has
 * seen. */
uint64_t world_store_version(const world *w);

/* Key files: one store per user, paths are plain strings. */
int world_file_put(world *w, const char *path, const void *data, size_t len);
/* Returns a pointer to the stored bytes (valid until the next change) or NULL. */
const unsigned char *world_file_get(const world *w, const char *path, size_t *len);
bool world_file_exists(const world *w, const char *path);
size_t world_file_count(const world *w);
const char *world_file_path_at(const world *w, size_t index); /* sorted by path */
/* Advisory locks (kc_file_trylock): the process holding the lock on `path`,
 * or -1 when it is free. A process that crashed, restarted, was rebuilt or
 * went through a reboot holds none. */
world_pid world_file_lock_holder(const world *w, const char *path);
/* Locks held right now, by anyone. */
size_t world_file_lock_count(const world *w);

/* Secure Enclave keys. */
typedef struct {
    uint64_t id;
    bool deleted;
    bool has_access_control; /* false: CryptoKit default */
    world_class accessible;  /* AfterFirstUnlockThisDeviceOnly when no access control */
    uint32_t ac_flags;
    unsigned char public_key[65];
} world_se_key_view;

size_t world_se_key_count(const world *w);
bool world_se_key_at(const world *w, size_t index, world_se_key_view *out);
/* Finds the key a data representation names (bound to this device). */
bool world_se_key_for_blob(const world *w, const unsigned char *blob, size_t len,
                           world_se_key_view *out);
/* Creates an SE key directly; writes its data representation into blob (up
 * to cap bytes) and its length into *blob_len. has_ac false: CryptoKit default. */
int world_se_key_plant(world *w, bool has_ac, world_class accessible, uint32_t ac_flags,
                       unsigned char *blob, size_t cap, size_t *blob_len);
/* Verifies a DER ECDSA P-256/SHA-256 signature against a 65-byte public key. */
bool world_verify_signature(const unsigned char public_key[65], const unsigned char *msg,
                            size_t msg_len, const unsigned char *sig, size_t sig_len);

/* Draws from the world's seeded generator (used by the engine for plants). */
void world_random_bytes(world *w, void *out, size_t len);

/* ---- Scheduler hook (parallel blocks) -------------------------------------------
 * The one entry hook of every Apple-shaped and kc_file_* call can hand control
 * to a scheduler: right after the call's key arguments are known and before
 * the fault plan and the call itself run (at the start of the hook's fault
 * step), the world passes a description of the pending call to `yield`. The
 * scheduler may let other simulated processes run before it returns (it must
 * make this call's process current again, world_set_current); the call then
 * runs on the world as it is at that moment. Returning false abandons the
 * call: it fails without effect (errSecNotAvailable), as a crashed process's
 * calls do. After the call, `done` (if set) sees the same description with the
 * status. The world knows nothing else about schedulers. */

typedef struct {
    world_api api; /* WORLD_API_COUNT for a scheduler's own pseudo-event */
    world_pid pid;
    char keychain[8]; /* "dp", "file", or "" when the call names no keychain */
    char service[96]; /* item calls: the query's service/account, "" = any */
    char account[96];
    char service2[96]; /* SecItemUpdate: the new service/account, "" = unchanged */
    char account2[96];
    char path[128];          /* file calls: the path (kc_file_list: the prefix) */
    char path2[128];         /* kc_file_rename: the destination */
    uint64_t se_key;         /* SE sign/public key/delete: the key id, 0 if none */
    uint32_t flags;          /* as journaled (access-control flags) */
    bool writes;             /* may change what it names (add, update, delete, write...) */
    bool prefix;             /* `path` is a prefix (kc_file_list) */
    bool may_prompt;         /* may show a prompt (and consume one queued answer) */
    bool login_read;         /* depends on the login keychain's lock state */
    bool login_write;        /* may unlock the login keychain (a prompt) */
    bool shared_fault;       /* a planned fault for any process counts calls of this API */
    bool no_effect;          /* the process has crashed: the call changes nothing */
    bool global;             /* touches everything: a scheduler's pseudo-event, or a
                                call that crashes a process holding a file lock */
    bool injected_no_effect; /* `done` only: a planned fault answered in the
                                call's place, so it changed nothing (even with
                                status 0, errSecSuccess) */
    int32_t status;          /* `done` only: what the call returned */
} world_call_info;

typedef bool (*world_yield_fn)(void *ctx, const world_call_info *call);
typedef void (*world_done_fn)(void *ctx, const world_call_info *call);

/* Installs (or, with NULL functions, removes) the scheduler. */
void world_set_scheduler(world *w, world_yield_fn yield, world_done_fn done, void *ctx);

/* Do two pending calls of different processes commute: does running them in
 * either order reach the same world (same items, files, SE keys, lock states,
 * fault counters, answers consumed)? Conservative: false whenever unsure.
 * `answers_queued`: user answers are queued (then two calls that may prompt
 * never commute: each consumes the next answer; with none queued every prompt
 * gets the default answer, whatever the order). Calls of one process never
 * commute. Advisory file locks (FileLock, FileUnlock) are a store of their
 * own: two lock calls conflict when they name the same path, and a lock call
 * commutes with every call that is not a lock call (no file, item or SE call
 * reads or changes a lock). A call right after which its process crashes
 * while holding a lock also releases that lock: it is described as `global`. */
bool world_calls_commute(const world_call_info *a, const world_call_info *b, bool answers_queued);

#endif
