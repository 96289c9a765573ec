/* Internal contract between the reference core's source files. Not installed.
 *
 * One file per responsibility:
 *   core.c      instance, configuration, results and messages, events, stats
 *   clock.c     the world clock (CFAbsoluteTimeGetCurrent), the GUI session
 *   cache.c     the wrapping-key cache (secure arena, TTL, zeroization)
 *   lacontext.c the LAContext registry (acquire, one-shot, evict, TTL)
 *   keychain.c  bridge keychain store / load / delete / rename with routing
 *               and every fallback
 *   keyfiles.c  key files through keyclass/files.h
 *   recovery.c  what an interrupted generate, rename or delete left behind
 *   unwrap.c    decrypt-with-cached-key and the protection-class migration
 *   signer.c    sign with presence none / strict / cached
 *   lifecycle.c generate, load, pubkey, rename, delete
 */
#ifndef REF_CORE_INTERNAL_H
#define REF_CORE_INTERNAL_H

#include "ref/core.h"
#include "ref/ehw1.h"
#include "ref/errmap.h"
#include "ref/policy.h"

#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>

#define CORE_NAME_MAX 96 /* app, vendor */
#define CORE_GROUP_MAX 160
#define CORE_SERVICE_MAX 208
#define CORE_DIR_MAX 256
#define CORE_PATH_MAX (CORE_DIR_MAX + REF_LABEL_MAX + 16)
#define CORE_MSG_MAX 1024
#define CORE_DETAIL_MAX 384
#define CORE_CACHE_SLOTS 64
#define CORE_WK_LEN 32
/* An item's tag: "EHW1 " + the handle's nonce in hex + " " + the key directory. */
#define CORE_TAG_PREFIX "EHW1 "
#define CORE_TAG_MAX (sizeof CORE_TAG_PREFIX - 1 + 2 * REF_EHW1_NONCE_LEN + 1 + CORE_DIR_MAX + 1)

typedef struct {
    bool used;
    char label[REF_LABEL_MAX + 1];
    unsigned char *key; /* a CORE_WK_LEN slot of the secure arena */
    int64_t expires_ms;
} wk_entry;

typedef struct {
    char label[REF_LABEL_MAX + 1];
    LAContextRef ctx; /* owned (+1) */
    int64_t expires_ms;
} la_entry;

typedef struct {
    char label[REF_LABEL_MAX + 1];
    ref_stats stats;
} label_stats;

struct ref_core {
    ref_config cfg; /* string members point at the copies below */
    char app[CORE_NAME_MAX];
    char vendor[CORE_NAME_MAX];
    char group[CORE_GROUP_MAX];
    char key_dir[CORE_DIR_MAX];
    char service[CORE_SERVICE_MAX];

    /* Results. */
    ref_error last_error;
    int last_code;
    int32_t last_status;
    bool has_status;
    char message[CORE_MSG_MAX];
    char warning[CORE_MSG_MAX];

    /* The running operation. */
    const char *op;
    const char *op_label;
    int op_code;
    int32_t op_status;
    bool op_has_status;
    char op_detail[CORE_DETAIL_MAX];
    char op_warning[CORE_MSG_MAX];

    /* The wrapping-key cache. */
    unsigned char *arena; /* CORE_CACHE_SLOTS * CORE_WK_LEN, page aligned */
    size_t arena_len;
    bool arena_locked;
    wk_entry wk[CORE_CACHE_SLOTS];

    /* The LAContext registry. */
    la_entry *la;
    size_t la_len, la_cap;

    /* Counters. */
    label_stats *stats;
    size_t stats_len, stats_cap;
    ref_stats totals;
};

/* ---- core.c ---------------------------------------------------------------- */

bool core_mut(const ref_core *core, ref_mutant m);
void core_op_begin(ref_core *core, const char *op, const char *label);
/* Ends the operation: records error, code, status, message or warning. */
ref_error core_op_end(ref_core *core, ref_error err);
/* A step failed with a bridge code: records code and detail, returns the
 * code's core error. */
ref_error core_fail_code(ref_core *core, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* A failure decided by the core itself (no bridge code). */
ref_error core_fail(ref_core *core, ref_error err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Records the status a mapped call returned (last OSStatus seen). */
void core_note_status(ref_core *core, int32_t status);
void core_warn(ref_core *core, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void core_emit(ref_core *core, ref_event_kind kind, const char *label, const char *detail,
               int32_t status, int code);
void core_emit_event(ref_core *core, const ref_event *ev);
/* The label's counters (created on first use; NULL only if out of memory:
 * then counts go to totals only). */
ref_stats *core_stats_for(ref_core *core, const char *label);
/* Adds one to a counter of the label and of the totals. */
#define CORE_COUNT(core, label, field)                                                             \
    do {                                                                                           \
        ref_stats *s_ = core_stats_for((core), (label));                                           \
        if (s_ != NULL)                                                                            \
            s_->field++;                                                                           \
        (core)->totals.field++;                                                                    \
    } while (0)

/* ---- clock.c --------------------------------------------------------------- */

int64_t core_now_ms(void);
/* Does the current process have a window-server session? */
bool core_has_gui(void);

/* ---- cache.c --------------------------------------------------------------- */

bool cache_init(ref_core *core);
void cache_free(ref_core *core);
/* Copies the cached key into out; false on a miss (also when TTL is 0). */
bool cache_get(ref_core *core, const char *label, unsigned char out[CORE_WK_LEN]);
bool cache_peek(const ref_core *core, const char *label);
void cache_put(ref_core *core, const char *label, const unsigned char key[CORE_WK_LEN]);
/* Evicts (zeroizes) the label's entry and its LAContext (C2, rename, delete). */
void cache_evict(ref_core *core, const char *label);

/* ---- lacontext.c ------------------------------------------------------------- */

/* Cached mode: the registry's context for label, reused while valid, else a
 * new one evaluated now (one prompt) and registered for min(ttl, 300 s)
 * (TTL 0: not registered). Returns a +1 reference the caller CFReleases, or
 * NULL when the evaluation failed. */
LAContextRef la_acquire(ref_core *core, const char *label, int64_t ttl_ms);
/* A one-shot context evaluated now (+1; the caller invalidates and releases
 * it with la_release_one_shot), or NULL when the evaluation failed. */
LAContextRef la_one_shot(ref_core *core, const char *label);
void la_release_one_shot(LAContextRef ctx);
bool la_present(const ref_core *core, const char *label);
void la_evict(ref_core *core, const char *label);
void la_evict_all(ref_core *core);
void la_free_all(ref_core *core);

/* ---- keychain.c -------------------------------------------------------------- */

typedef enum { KC_DP, KC_FILE } kc_kind;

const char *kc_kind_name(kc_kind k);

typedef struct {
    kc_kind where; /* the keychain the item was read from */
    unsigned char key[CORE_WK_LEN];
    char cls[8];             /* stored class as its kSecAttrAccessible value ("aku") */
    bool has_access_control; /* presence-protected item */
} kc_loaded;

/* Upsert of the wrapping key (domain.md §6 keychain_store): evicts both caches
 * of the label first (C2), then pre-delete + add with every fallback. tag
 * (kSecAttrLabel, see kc_tag) may be NULL. *presence_out: whether the item
 * ended up presence-protected. Returns a bridge code (detail recorded on
 * failure). */
int kc_store(ref_core *core, const char *label, const unsigned char key[CORE_WK_LEN],
             const char *tag, bool want_presence, bool *presence_out);
/* keychain_load: DP first with a group, then the file-based keychain. ctx may
 * be NULL. On OK fills *out (caller cleanses out->key). */
int kc_load(ref_core *core, const char *label, LAContextRef ctx, kc_loaded *out);
/* keychain_delete: the sweep. */
int kc_delete(ref_core *core, const char *label);
/* Is there an item for label in any keychain the core could use? Attributes
 * only: no ACL dialog, no presence prompt. Returns a bridge code. */
int kc_exists(ref_core *core, const char *label, bool *exists);
/* kc_exists that also reports where the item is and its tag ("" if it has
 * none; tag may be NULL). */
int kc_lookup(ref_core *core, const char *label, bool *exists, kc_kind *where, char *tag,
              size_t tag_cap);
/* The tag a wrapping-key item carries in kSecAttrLabel: it names the handle
 * the key opens (by the EHW1 nonce, which the handle file holds in clear) and
 * the key directory, so that an item stranded under another label by an
 * interrupted rename can be matched to its handle without reading any secret
 * (ref/README.md "Crash safety"). Returns the length, 0 if cap is too small. */
size_t kc_tag(const ref_core *core, const unsigned char nonce[REF_EHW1_NONCE_LEN], char *buf,
              size_t cap);
/* The tag of a wrapped handle's item; false for a legacy plaintext handle. */
bool kc_tag_of_handle(const ref_core *core, const unsigned char *handle, size_t len, char *buf,
                      size_t cap);
/* The account of an item of the service carrying `tag` (attributes only, DP
 * first with a group). Best effort, records nothing: false when none is found
 * or a keychain answers anything but an item or "not found". */
bool kc_find_tagged(ref_core *core, const char *tag, kc_kind *where, char *account,
                    size_t account_cap);
/* Moves the item's account from old to new in place (SecItemUpdate) in every
 * keychain that has one. *moved: whether any item moved. */
int kc_rename(ref_core *core, const char *old_label, const char *new_label, bool *moved);
/* Raw calls for the migration: no eviction, no fallback, no mapping. */
OSStatus kc_update_class(ref_core *core, kc_kind kind, const char *label, const char *from_cls,
                         const unsigned char *data);
OSStatus kc_raw_delete(ref_core *core, kc_kind kind, const char *label);
OSStatus kc_raw_add(ref_core *core, kc_kind kind, const char *label,
                    const unsigned char key[CORE_WK_LEN], bool presence);
/* One in-place account update in one keychain (recovery): no mapping. */
OSStatus kc_raw_rename(ref_core *core, kc_kind kind, const char *old_label, const char *new_label);
/* The kSecAttrAccessible value wrapping keys are stored with ("cku"). */
CFStringRef kc_target_class(const ref_core *core);

/* ---- keyfiles.c -------------------------------------------------------------- */

#define KF_HANDLE ".handle"
#define KF_PUB ".pub"
#define KF_META ".meta"
/* A delete's commit point: the handle renamed to <label>.deleted. A label with
 * a tombstone and no handle is deleted; what is left is debris that the next
 * delete removes (SE key included) and the next generate reuses. */
#define KF_DELETED ".deleted"

size_t kf_path(const ref_core *core, const char *label, const char *ext, char *buf, size_t cap);
/* 0, -ENOENT or another negative errno; *out +1. */
int kf_read(ref_core *core, const char *label, const char *ext, CFDataRef *out);
int kf_write(ref_core *core, const char *label, const char *ext, const void *data, size_t len);
/* Is the file there? 1 yes, 0 no (-ENOENT), or the negative status of a
 * read that could not tell. */
int kf_probe(ref_core *core, const char *label, const char *ext);
int kf_rename(ref_core *core, const char *old_label, const char *new_label, const char *ext);
/* <label><from_ext> -> <label><to_ext>. */
int kf_rename_ext(ref_core *core, const char *label, const char *from_ext, const char *to_ext);
/* Every file of the key directory (+1 CFArray of CFString paths). */
int kf_list(ref_core *core, CFArrayRef *paths);
/* If path is "<key dir><label>.handle" with a valid label: the label. */
bool kf_handle_label(const ref_core *core, const char *path, char *label, size_t cap);
int kf_unlink(ref_core *core, const char *label, const char *ext);
/* Is a kf_* status "no such file"? */
bool kf_absent(int rc);
/* The label's advisory lock (ref/README.md "Concurrency (ours)"): an flock
 * of <key dir><label>.lock, which creates no file. kf_lock: 0, -EWOULDBLOCK
 * when another process holds it, or another failure; never waits. kf_unlock
 * is best effort (a crash releases the lock anyway). */
#define KF_LOCK ".lock"
int kf_lock(ref_core *core, const char *label);
void kf_unlock(ref_core *core, const char *label);
/* Is a kf_lock status "another process holds it"? */
bool kf_busy(int rc);
/* The key's meta, or defaults when absent/unreadable (auth none, presence
 * none, wrapping_presence = the configuration's). */
ref_meta kf_meta(ref_core *core, const char *label);

/* ---- unwrap.c ----------------------------------------------------------------- */

/* The plaintext SE blob of a key (secret; free with plain_free). */
typedef struct {
    unsigned char *bytes;
    size_t len;
    bool wrapped; /* the handle file was EHW1 */
} plain_handle;

void plain_free(plain_handle *h);

typedef struct {
    LAContextRef ctx; /* passed to the keychain load (may be NULL) */
    bool migrate;     /* migrate the item's class after a cache miss */
    bool use_cache;   /* serve from / fill the wrapping-key cache */
} unwrap_opts;

/* Reads nothing itself: `handle` is the handle file's bytes. Gets the
 * wrapping key (cache, then keychain, then migration) and decrypts. Returns a
 * core error (failure recorded). */
ref_error unwrap_handle(ref_core *core, const char *label, CFDataRef handle,
                        const unwrap_opts *opts, plain_handle *out);
/* After a failed load of label with a transient code: what a flow that
 * cleans up does (the clean core: nothing, D2). */
void unwrap_after_transient_failure(ref_core *core, const char *label, int code);

/* ---- recovery.c ------------------------------------------------------------------------ */

/* Load path: label's wrapped handle has no item under label in any keychain.
 * If the item its tag names sits under another label that has no handle (a
 * rename interrupted between the handle move and the item update), move it to
 * label in place (roll the rename forward). True if it moved. Never deletes. */
bool recover_stranded_item(ref_core *core, const char *label, const unsigned char *handle,
                           size_t len);

typedef enum {
    ORPHAN_DEBRIS,  /* left by an interrupted generate: no handle anywhere names it */
    ORPHAN_MOVED,   /* it belonged to a renamed key's handle: moved there, label free */
    ORPHAN_FOREIGN, /* untagged, another directory's, or unprovable: not ours to touch */
} orphan_kind;

/* Generate path: label has no handle and no tombstone, but an item (in
 * `where`, with `tag`). Decides what the item is; for ORPHAN_MOVED it has
 * already been moved to the handle that names it. Never deletes. */
orphan_kind classify_orphan_item(ref_core *core, const char *label, kc_kind where, const char *tag);

#endif
