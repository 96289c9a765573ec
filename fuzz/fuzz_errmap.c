/* libFuzzer target: the OSStatus mapping of domain.md §6 on the real code
 * path.
 *
 * One input is one case (12 bytes, little-endian; shorter inputs are padded
 * with zeros):
 *   int32 status   any OSStatus / LAError, injected with world_fault_add
 *   u8    flags    bit0 GUI session, bit1 access group, bit2 wrap-presence,
 *                  bit3 unsigned build, bit4 HOME overridden, bit5 sign in
 *                  cached mode, bit6 SE key with auth=any, bit7 device locked
 *                  (past the grace period) before the operation
 *   u8    api      the call the status is injected into (world_api)
 *   u8    op       load, sign, generate, rename, delete, migration
 *   u8    nth      the matching call that fails first (1..4)
 *   u8    times    1, 2 or always
 *   3 bytes        reserved
 *
 * The case runs in a fresh world through the reference core (one process,
 * cache TTL 0 so that every operation reaches the keychain). The target
 * observes the core's events and asserts, aborting on a violation:
 *  - the table: every mapped status (keychain_load, keychain_store, se_sign,
 *    se_generate, keychain_delete) has the code of domain.md §6 — checked
 *    against a copy of the table written here from the spec and against the
 *    pure table of ref/errmap.h; the GUI flag the core used for -25308/-25315
 *    is the process's real session; the status it mapped is one that a call
 *    of the operation really returned (the journal);
 *  - on the simplest path (load, injected into SecItemCopyMatching, file
 *    keychain only) the code is exactly the table's for the injected status;
 *  - the operation's error is the core error of its last bridge code, and the
 *    core's last error / code say the same; a failure has a message naming
 *    the label and the policy's words;
 *  - EM1: -25308/-25315 never give code 9 or 10;
 *  - L1: a sign that fails with 13-16 keeps its LAContext (no LA eviction),
 *    any other failed sign leaves none;
 *  - D2: an operation that fails with 13-16 removes no item and no file;
 *  - migration: a failed migration write never fails the load, evicts
 *    nothing (C1), and leaves the item with its key bytes;
 *  - no CF object outlives the case.
 *
 * With KEYCLASS_FUZZ_EMIT=<path> in the environment every case is also
 * written there as an equivalent `.kcs` scenario (fuzz/crash2kcs.sh uses it).
 */
#include "common.h"

#include "keyclass/cf_accounting.h"
#include "keyclass/world.h"
#include "ref/core.h"
#include "ref/ehw1.h"
#include "ref/errmap.h"
#include "ref/meta.h"
#include "ref/policy.h"

#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_LOAD, OP_SIGN, OP_GENERATE, OP_RENAME, OP_DELETE, OP_MIGRATION, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"load",   "sign",   "generate",
                                               "rename", "delete", "migration"};

#define F_GUI 0x01
#define F_GROUP 0x02
#define F_WRAP_PRESENCE 0x04
#define F_UNSIGNED 0x08
#define F_HOME_OVERRIDE 0x10
#define F_CACHED 0x20
#define F_AUTH 0x40
#define F_LOCKED 0x80

#define GROUP "TEAMID.com.example.sshenc"
#define LABEL "k1"
#define LABEL2 "k2"
#define SIGN_TTL_MS 60000

typedef struct {
    int32_t status;
    uint8_t flags;
    world_api api;
    int op;
    unsigned nth;
    unsigned times; /* 0: always */
} errmap_case;

static void decode_case(const uint8_t *data, size_t size, errmap_case *c) {
    uint8_t b[12];
    memset(b, 0, sizeof b);
    memcpy(b, data, size < sizeof b ? size : sizeof b);
    c->status = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                          (uint32_t)b[3] << 24);
    c->flags = b[4];
    c->api = (world_api)(b[5] % WORLD_API_COUNT);
    c->op = b[6] % OP_COUNT;
    c->nth = 1u + b[7] % 4u;
    static const unsigned times[3] = {1, 2, 0};
    c->times = times[b[8] % 3];
}

/* ---- The table of domain.md §6, written from the spec (not from ref/) ------------ */

static bool interaction(int32_t st) { return st == -25308 || st == -25315; }

/* keychain_load: success (32 bytes) 0; -25300 12; -25293 13; -25308/-25315
 * 14 with a GUI session, 15 without; -128 16; anything else 10. */
static int spec_load(int32_t st, bool gui) {
    switch (st) {
    case 0:
        return 0;
    case -25300:
        return 12;
    case -25293:
        return 13;
    case -128:
        return 16;
    default:
        return interaction(st) ? (gui ? 14 : 15) : 10;
    }
}

/* keychain_store: like the load (ours), anything else 9. */
static int spec_store(int32_t st, bool gui) {
    switch (st) {
    case 0:
        return 0;
    case -25293:
        return 13;
    case -128:
        return 16;
    default:
        return interaction(st) ? (gui ? 14 : 15) : 9;
    }
}

/* SE sign: LAError userCancel (-2), appCancel (-9), systemCancel (-4) 16,
 * any other failure 3. */
static int spec_sign(int32_t st) {
    if (st == 0)
        return 0;
    return st == -2 || st == -9 || st == -4 ? 16 : 3;
}

/* The core error of a bridge code (domain.md §6's codes and the agent policy). */
static ref_error spec_error(int code) {
    switch (code) {
    case 0:
        return REF_OK;
    case 1:
        return REF_ERR_GENERATE_FAILED;
    case 3:
        return REF_ERR_SIGN_FAILED;
    case 5:
        return REF_ERR_NOT_AVAILABLE;
    case 12:
        return REF_ERR_WRAPPING_KEY_MISSING;
    case 13:
        return REF_ERR_AUTH_DENIED;
    case 14:
        return REF_ERR_INTERACTION_REQUIRED;
    case 15:
        return REF_ERR_NO_WINDOW_SERVER;
    case 16:
        return REF_ERR_USER_CANCELLED;
    default:
        return REF_ERR_KEY_OPERATION;
    }
}

static bool keeps_lacontext(ref_error e) {
    return e == REF_OK || e == REF_ERR_AUTH_DENIED || e == REF_ERR_INTERACTION_REQUIRED ||
           e == REF_ERR_NO_WINDOW_SERVER || e == REF_ERR_USER_CANCELLED;
}

/* The words each message must carry (domain.md §6 "Agent policy"). */
static const char *policy_word(ref_error e) {
    switch (e) {
    case REF_ERR_INTERACTION_REQUIRED:
        return "unlock";
    case REF_ERR_NO_WINDOW_SERVER:
        return "launchd";
    case REF_ERR_AUTH_DENIED:
        return "Always Allow";
    case REF_ERR_USER_CANCELLED:
        return "cancelled";
    case REF_ERR_WRAPPING_KEY_MISSING:
        return "keychain";
    default:
        return NULL;
    }
}

/* ---- Observation -------------------------------------------------------------------- */

#define MAX_EVENTS 256

typedef struct {
    ref_event_kind kind;
    char detail[32];
    int32_t status;
    int code;
    bool gui;
    bool in_op; /* during the operation under test */
} seen_event;

static struct {
    seen_event ev[MAX_EVENTS];
    size_t n;
    bool in_op;
} obs;

static void observe(void *ctx, const ref_event *e) {
    (void)ctx;
    if (obs.n == MAX_EVENTS)
        return;
    seen_event *s = &obs.ev[obs.n++];
    s->kind = e->kind;
    snprintf(s->detail, sizeof s->detail, "%s", e->detail != NULL ? e->detail : "");
    s->status = e->status;
    s->code = e->code;
    s->gui = e->gui;
    s->in_op = obs.in_op;
}

/* ---- Setup helpers ------------------------------------------------------------------- */

typedef struct {
    world *w;
    world_pid pid;
    ref_core *core;
    ref_config cfg;
    bool gui;
} fixture;

/* A complete key, as the engine's `plant` writes it (and as generate leaves
 * it): SE key (CryptoKit default, or WhenUnlockedThisDeviceOnly with
 * .privateKeyUsage|.userPresence for auth=any), EHW1 handle, the wrapping-key
 * item of class `cls` (presence-protected if asked; DP only), .pub and .meta.
 * Cheaper than a generate through the core, which is what makes 20,000
 * cases a second possible; generate itself is the `generate` operation. */
static bool plant_key(fixture *fx, bool dp, world_class cls, bool presence, ref_auth auth,
                      ref_presence mode) {
    unsigned char blob[1024];
    size_t bl = 0;
    bool has_ac = auth != REF_AUTH_NONE;
    if (world_se_key_plant(fx->w, has_ac, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY,
                           has_ac ? WORLD_AC_PRIVATE_KEY_USAGE | WORLD_AC_USER_PRESENCE : 0, blob,
                           sizeof blob, &bl) != 0)
        return false;
    world_se_key_view sk;
    if (!world_se_key_for_blob(fx->w, blob, bl, &sk))
        return false;
    unsigned char key[REF_EHW1_KEY_LEN], nonce[REF_EHW1_NONCE_LEN];
    unsigned char sealed[1024 + REF_EHW1_OVERHEAD];
    size_t sl = 0;
    world_random_bytes(fx->w, key, sizeof key);
    world_random_bytes(fx->w, nonce, sizeof nonce);
    if (ref_ehw1_seal(key, nonce, blob, bl, sealed, sizeof sealed, &sl) != REF_EHW1_OK)
        return false;
    world_item_view it;
    memset(&it, 0, sizeof it);
    it.keychain = dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE;
    it.service = ref_core_service(fx->core);
    it.account = LABEL;
    it.access_group = dp ? GROUP : NULL;
    it.accessible = cls;
    it.has_access_control = presence;
    it.ac_flags = presence ? WORLD_AC_USER_PRESENCE : 0;
    it.data = key;
    it.data_len = sizeof key;
    it.creator = dp ? NULL : world_process_identity(fx->w, fx->pid);
    if (world_item_plant(fx->w, &it) != 0)
        return false;
    char path[512], mtext[REF_META_MAX];
    ref_meta meta = {auth, mode, presence};
    size_t ml = ref_meta_format(&meta, mtext, sizeof mtext);
    const ref_config *cfg = ref_core_config(fx->core);
    return ml > 0 && ref_config_key_path(cfg, LABEL, ".meta", path, sizeof path) > 0 &&
           world_file_put(fx->w, path, mtext, ml) == 0 &&
           ref_config_key_path(cfg, LABEL, ".pub", path, sizeof path) > 0 &&
           world_file_put(fx->w, path, sk.public_key, 65) == 0 &&
           ref_config_key_path(cfg, LABEL, ".handle", path, sizeof path) > 0 &&
           world_file_put(fx->w, path, sealed, sl) == 0;
}

/* What existed before the operation (D2). */
#define MAX_SNAP 32
typedef struct {
    size_t nitems, nfiles;
    struct {
        world_keychain kc;
        char service[128], account[80];
        bool group;
    } items[MAX_SNAP];
    char files[MAX_SNAP][160];
} snapshot;

static void take_snapshot(const world *w, snapshot *s) {
    s->nitems = 0;
    s->nfiles = 0;
    size_t n = world_item_count(w);
    for (size_t i = 0; i < n && s->nitems < MAX_SNAP; i++) {
        world_item_view v;
        if (!world_item_at(w, i, &v))
            continue;
        s->items[s->nitems].kc = v.keychain;
        snprintf(s->items[s->nitems].service, sizeof s->items[0].service, "%s", v.service);
        snprintf(s->items[s->nitems].account, sizeof s->items[0].account, "%s", v.account);
        s->items[s->nitems].group = v.access_group != NULL;
        s->nitems++;
    }
    n = world_file_count(w);
    for (size_t i = 0; i < n && s->nfiles < MAX_SNAP; i++)
        snprintf(s->files[s->nfiles++], sizeof s->files[0], "%s", world_file_path_at(w, i));
}

static void check_nothing_removed(const world *w, const snapshot *s, const char *why) {
    for (size_t i = 0; i < s->nitems; i++) {
        world_item_view v;
        FUZZ_CHECK(world_item_find(w, s->items[i].kc, s->items[i].service, s->items[i].account,
                                   s->items[i].group ? GROUP : NULL, &v),
                   "D2: %s removed the item %s/%s", why, s->items[i].service, s->items[i].account);
    }
    for (size_t i = 0; i < s->nfiles; i++)
        FUZZ_CHECK(world_file_exists(w, s->files[i]), "D2: %s removed the file %s", why,
                   s->files[i]);
}

/* Did a call of the operation (journal lines after `from`) return `status`? */
static bool journal_has_status(const world *w, size_t from, int32_t status) {
    const char *j = world_journal(w);
    size_t n = world_journal_length(w);
    char needle[24];
    int nl = snprintf(needle, sizeof needle, " -> %d", (int)status);
    for (size_t pos = from; pos < n;) {
        const char *end = memchr(j + pos, '\n', n - pos);
        size_t len = end != NULL ? (size_t)(end - (j + pos)) : n - pos;
        const char *line = j + pos;
        for (size_t i = 0; i + (size_t)nl <= len; i++)
            if (memcmp(line + i, needle, (size_t)nl) == 0 &&
                (i + (size_t)nl == len || line[i + nl] == ' '))
                return true;
        pos += len + 1;
    }
    return false;
}

/* ---- The .kcs form of a case ------------------------------------------------------------- */

static void emit_kcs(const errmap_case *c, const char *path) {
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    bool gui = c->flags & F_GUI, group = c->flags & F_GROUP;
    bool migration = c->op == OP_MIGRATION;
    fprintf(f, "# Written by fuzz/fuzz_errmap.c (KEYCLASS_FUZZ_EMIT): one errmap case.\n");
    fprintf(f, "scenario errmap-%s-%s-%d\n", op_names[c->op], world_api_name(c->api),
            (int)c->status);
    fprintf(f, "doc status %d injected into %s (nth=%u times=%u), GUI %s, op %s\n", (int)c->status,
            world_api_name(c->api), c->nth, c->times, gui ? "yes" : "no", op_names[c->op]);
    fprintf(f, "tags fuzz errmap\n");
    fprintf(f, "device boot\ndevice unlock\n");
    fprintf(f, "process agent signed=%s group=%s gui=%s wrap-presence=%s cache-ttl=0s%s\n",
            c->flags & F_UNSIGNED ? "no" : "yes", group ? GROUP : "none", gui ? "yes" : "no",
            (c->flags & F_WRAP_PRESENCE) && !migration ? "yes" : "no",
            c->flags & F_HOME_OVERRIDE ? " home-override=yes" : "");
    bool dp = group && !(c->flags & F_UNSIGNED);
    if (migration)
        fprintf(f, "agent: plant " LABEL " accessible=WhenUnlockedThisDeviceOnly\n");
    else if (c->op != OP_GENERATE)
        fprintf(f,
                "agent: plant " LABEL
                " accessible=AfterFirstUnlockThisDeviceOnly presence=%s auth=%s\n",
                (c->flags & F_WRAP_PRESENCE) && dp ? "yes" : "no",
                c->flags & F_AUTH ? "any" : "none");
    if (c->op == OP_SIGN && (c->flags & F_CACHED))
        fprintf(f, "agent: sign " LABEL " presence=cached ttl=60s -> any\n");
    if (c->flags & F_LOCKED)
        fprintf(f, "knob lock_grace=0\ndevice lock\n");
    fprintf(f, "fault %s %d nth=%u times=", world_api_name(c->api), (int)c->status, c->nth);
    if (c->times == 0)
        fprintf(f, "always\n");
    else
        fprintf(f, "%u\n", c->times);
    switch (c->op) {
    case OP_GENERATE:
        fprintf(f, "agent: generate " LABEL " auth=%s -> any\n",
                c->flags & F_AUTH ? "any" : "none");
        break;
    case OP_SIGN:
        fprintf(f, "agent: sign " LABEL " presence=%s ttl=60s -> any\n",
                c->flags & F_CACHED ? "cached" : "none");
        break;
    case OP_RENAME:
        fprintf(f, "agent: rename " LABEL " " LABEL2 " -> any\n");
        break;
    case OP_DELETE:
        fprintf(f, "agent: delete " LABEL " -> any\n");
        break;
    default:
        fprintf(f, "agent: load " LABEL " -> any\n");
        break;
    }
    fclose(f);
}

/* ---- One case ---------------------------------------------------------------------------- */

static void check_mapped(const fixture *fx, const errmap_case *c, size_t journal_from) {
    for (size_t i = 0; i < obs.n; i++) {
        const seen_event *e = &obs.ev[i];
        if (e->kind != REF_EV_MAPPED || !e->in_op)
            continue;
        FUZZ_CHECK(!(interaction(e->status) && (e->code == 9 || e->code == 10)),
                   "EM1: %s mapped %d to code %d", e->detail, (int)e->status, e->code);
        bool keychain_path =
            strcmp(e->detail, "keychain_load") == 0 || strcmp(e->detail, "keychain_store") == 0;
        if (keychain_path && interaction(e->status))
            FUZZ_CHECK(e->gui == fx->gui, "%s mapped %d with GUI %d, the process has GUI %d",
                       e->detail, (int)e->status, e->gui, fx->gui);
        int want = -1;
        if (strcmp(e->detail, "keychain_load") == 0) {
            want = spec_load(e->status, e->gui);
            FUZZ_CHECK((int)ref_errmap_load(e->status, e->gui, REF_MUTANTS_NONE) == want,
                       "ref_errmap_load(%d) disagrees with the spec", (int)e->status);
        } else if (strcmp(e->detail, "keychain_store") == 0) {
            want = spec_store(e->status, e->gui);
            FUZZ_CHECK((int)ref_errmap_store(e->status, e->gui, REF_MUTANTS_NONE) == want,
                       "ref_errmap_store(%d) disagrees with the spec", (int)e->status);
        } else if (strcmp(e->detail, "se_sign") == 0) {
            want = spec_sign(e->status);
        } else if (strcmp(e->detail, "se_generate") == 0) {
            want = e->status == 0 ? 0 : 1;
        } else if (strcmp(e->detail, "keychain_delete") == 0) {
            FUZZ_CHECK(e->code == 0 || e->code == 11, "keychain_delete gave code %d", e->code);
        } else {
            FUZZ_CHECK(false, "unknown mapped path '%s'", e->detail);
        }
        if (want >= 0)
            FUZZ_CHECK(e->code == want, "%s: status %d with GUI %d gave code %d, the table says %d",
                       e->detail, (int)e->status, e->gui, e->code, want);
        /* The status the core mapped is one a call really returned (a faulted
         * success of SecItemCopyMatching returns no data: its "0" is in the
         * journal too). keychain_delete reports 0 when nothing failed. */
        if (e->status != 0)
            FUZZ_CHECK(journal_has_status(fx->w, journal_from, e->status),
                       "%s mapped status %d that no call of the operation returned", e->detail,
                       (int)e->status);
    }
    (void)c;
}

/* The simplest path: load on the file keychain only (no group, default
 * keychain reachable, nothing cached), the status injected into
 * SecItemCopyMatching. The last copy's status decides the code exactly as
 * the table says. */
static void check_direct_load(const errmap_case *c, ref_error err, int code) {
    if (c->op != OP_LOAD || c->api != WORLD_API_SEC_ITEM_COPY_MATCHING || c->nth != 1 ||
        (c->flags & (F_GROUP | F_HOME_OVERRIDE | F_LOCKED)) != 0)
        return;
    int want;
    if (c->status == 0)
        want = 10; /* "success" without the 32 bytes */
    else if (c->status == errSecNoDefaultKeychain)
        want = c->times == 1 ? 0 : 10; /* retried by path: the retry is the last copy */
    else
        want = spec_load(c->status, (c->flags & F_GUI) != 0);
    FUZZ_CHECK(code == want,
               "load with %d injected into SecItemCopyMatching (GUI %d): code %d, "
               "the table says %d",
               (int)c->status, (c->flags & F_GUI) != 0, code, want);
    FUZZ_CHECK(err == spec_error(want), "load: error %s for code %d", ref_error_name(err), want);
}

static void run_case(const errmap_case *c) {
    bool gui = (c->flags & F_GUI) != 0;
    bool group = (c->flags & F_GROUP) != 0;
    bool migration = c->op == OP_MIGRATION;
    fixture fx;
    memset(&fx, 0, sizeof fx);
    fx.gui = gui;
    fx.w = world_new(1);
    FUZZ_CHECK(fx.w != NULL, "world_new failed");
    world_activate(fx.w);
    FUZZ_CHECK(world_device_boot(fx.w) == 0 && world_device_unlock(fx.w) == 0, "device setup");
    world_process_config pc = {.name = "agent",
                               .app = "sshenc",
                               .is_signed = !(c->flags & F_UNSIGNED),
                               .access_group = group ? GROUP : NULL,
                               .gui = gui,
                               .home_override = (c->flags & F_HOME_OVERRIDE) != 0};
    fx.pid = world_process_add(fx.w, &pc);
    ref_config_init(&fx.cfg);
    fx.cfg.is_signed = pc.is_signed;
    fx.cfg.access_group = pc.access_group;
    fx.cfg.wrap_presence = (c->flags & F_WRAP_PRESENCE) && !migration;
    fx.cfg.cache_ttl_ms = 0;
    fx.cfg.observer = observe;
    fx.core = ref_core_new(&fx.cfg);
    FUZZ_CHECK(fx.core != NULL, "ref_core_new failed");
    world_set_current(fx.w, fx.pid);
    obs.n = 0;
    obs.in_op = false;

    ref_auth auth = c->flags & F_AUTH ? REF_AUTH_ANY : REF_AUTH_NONE;
    ref_presence mode = c->flags & F_CACHED ? REF_PRESENCE_CACHED : REF_PRESENCE_NONE;
    static const char msg[] = "keyclass:errmap";
    CFDataRef sig = NULL;
    bool ready = true;
    bool dp = group && pc.is_signed;
    if (c->op != OP_GENERATE) {
        bool presence = fx.cfg.wrap_presence && dp;
        ready = migration ? plant_key(&fx, dp, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY, false,
                                      REF_AUTH_NONE, REF_PRESENCE_NONE)
                          : plant_key(&fx, dp, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
                                      presence, auth, mode);
        FUZZ_CHECK(ready, "plant of the key failed");
        if (c->op == OP_SIGN && mode == REF_PRESENCE_CACHED) {
            (void)ref_core_sign(fx.core, LABEL, msg, sizeof msg - 1, mode, SIGN_TTL_MS, &sig);
            if (sig != NULL)
                CFRelease(sig);
            sig = NULL;
        }
    }
    if (c->flags & F_LOCKED) {
        world_set_knob(fx.w, WORLD_KNOB_LOCK_GRACE_MS, 0);
        FUZZ_CHECK(world_device_lock(fx.w) == 0, "device lock");
    }

    world_fault f = {.api = c->api,
                     .status = c->status,
                     .nth = c->nth,
                     .times = c->times,
                     .proc = fx.pid,
                     .match = NULL};
    world_fault_add(fx.w, &f);

    unsigned char item_before[32];
    bool have_item_before = false;
    if (migration) {
        world_item_view v;
        if (world_item_find(fx.w, dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE,
                            ref_core_service(fx.core), LABEL, dp ? GROUP : NULL, &v) &&
            v.data_len == 32) {
            memcpy(item_before, v.data, 32);
            have_item_before = true;
        }
    }
    bool had_ctx = ref_core_has_lacontext(fx.core, LABEL);
    snapshot before;
    take_snapshot(fx.w, &before);
    size_t journal_from = world_journal_length(fx.w);

    obs.in_op = true;
    ref_error err = REF_OK;
    const char *label = LABEL;
    switch (c->op) {
    case OP_LOAD:
    case OP_MIGRATION:
        err = ref_core_load(fx.core, LABEL);
        break;
    case OP_SIGN:
        err = ref_core_sign(fx.core, LABEL, msg, sizeof msg - 1, mode, SIGN_TTL_MS, &sig);
        break;
    case OP_GENERATE:
        err = ref_core_generate(fx.core, LABEL, auth, mode);
        break;
    case OP_RENAME:
        err = ref_core_rename(fx.core, LABEL, LABEL2);
        break;
    case OP_DELETE:
        err = ref_core_delete(fx.core, LABEL);
        break;
    }
    obs.in_op = false;
    int code = ref_core_last_bridge_code(fx.core);

    /* The core's own record of the operation. */
    FUZZ_CHECK(ref_core_last_error(fx.core) == err, "last_error %d, the operation returned %d",
               (int)ref_core_last_error(fx.core), (int)err);
    FUZZ_CHECK(code == REF_BRIDGE_NONE || (code >= 0 && code < REF_BRIDGE_CODE_COUNT),
               "bridge code %d out of range", code);
    if (err == REF_OK)
        FUZZ_CHECK(code == REF_BRIDGE_OK, "success with bridge code %d", code);
    else if (code != REF_BRIDGE_NONE)
        FUZZ_CHECK(err == spec_error(code) && err == ref_errmap_error(code),
                   "error %s for bridge code %d (the table says %s)", ref_error_name(err), code,
                   ref_error_name(spec_error(code)));
    FUZZ_CHECK(!((code == 9 || code == 10) && ref_core_last_status(fx.core, NULL) != 0 &&
                 interaction(ref_core_last_status(fx.core, NULL)) &&
                 (c->api <= WORLD_API_SEC_ITEM_DELETE)),
               "EM1: the operation ended with code %d after status %d", code,
               (int)ref_core_last_status(fx.core, NULL));
    if (err != REF_OK) {
        const char *m = ref_core_last_message(fx.core);
        FUZZ_CHECK(m[0] != '\0', "a failure without a message");
        FUZZ_CHECK(strstr(m, label) != NULL, "the message does not name '%s': %s", label, m);
        const char *word = policy_word(err);
        FUZZ_CHECK(word == NULL || strstr(m, word) != NULL, "the %s message lacks \"%s\": %s",
                   ref_error_name(err), word != NULL ? word : "", m);
    }
    if (c->op == OP_SIGN && err == REF_OK)
        FUZZ_CHECK(sig != NULL, "sign succeeded without a signature");
    if (sig != NULL)
        CFRelease(sig);

    check_mapped(&fx, c, journal_from);
    check_direct_load(c, err, code);

    /* L1 */
    if (c->op == OP_SIGN && ready) {
        bool la_evicted = false;
        for (size_t i = 0; i < obs.n; i++)
            if (obs.ev[i].in_op && obs.ev[i].kind == REF_EV_LA_EVICT) {
                bool with_cache = i > 0 && obs.ev[i - 1].kind == REF_EV_CACHE_EVICT;
                if (!with_cache)
                    la_evicted = true;
            }
        bool has_ctx = ref_core_has_lacontext(fx.core, LABEL);
        if (err != REF_OK && keeps_lacontext(err)) {
            FUZZ_CHECK(!la_evicted, "L1: sign ended %s (code %d) and evicted its LAContext",
                       ref_error_name(err), code);
            FUZZ_CHECK(!had_ctx || has_ctx, "L1: sign ended %s and lost its LAContext",
                       ref_error_name(err));
        } else if (err != REF_OK) {
            FUZZ_CHECK(!has_ctx, "L1: sign failed with %s (code %d) and kept its LAContext",
                       ref_error_name(err), code);
        }
    }

    /* D2 */
    if (err != REF_OK && ref_errmap_is_transient(code)) {
        FUZZ_CHECK(code >= 13 && code <= 16, "ref_errmap_is_transient(%d)", code);
        check_nothing_removed(fx.w, &before, op_names[c->op]);
    }

    /* Migration: never fails the load, evicts nothing, keeps the key bytes. */
    if (migration) {
        bool wrote = false;
        int32_t write_status = 0;
        for (size_t i = 0; i < obs.n; i++) {
            const seen_event *e = &obs.ev[i];
            if (!e->in_op)
                continue;
            FUZZ_CHECK(e->kind != REF_EV_CACHE_EVICT && e->kind != REF_EV_LA_EVICT,
                       "C1: the load with migration evicted a cache");
            if (e->kind == REF_EV_MIGRATION_WRITE) {
                wrote = true;
                write_status = e->status;
            }
        }
        if (wrote && write_status != 0)
            FUZZ_CHECK(err == REF_OK, "a failed migration write (%d) failed the load: %s",
                       (int)write_status, ref_error_name(err));
        if (have_item_before) {
            world_item_view v;
            FUZZ_CHECK(world_item_find(fx.w, dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE,
                                       ref_core_service(fx.core), LABEL, dp ? GROUP : NULL, &v),
                       "the migration lost the item");
            FUZZ_CHECK(v.data_len == 32 && memcmp(v.data, item_before, 32) == 0,
                       "the migration changed the key bytes");
            /* (An injected success of SecItemUpdate reports 0 without an effect.) */
            bool faked = c->api == WORLD_API_SEC_ITEM_UPDATE && c->status == 0;
            if (err == REF_OK && wrote && write_status == 0 && !faked)
                FUZZ_CHECK(v.accessible == WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
                           "PC1: the migration wrote class %s", world_class_name(v.accessible));
        }
    }

    world_set_current(fx.w, -1);
    ref_core_free(fx.core);
    world_activate(NULL);
    world_free(fx.w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    errmap_case c;
    decode_case(data, size, &c);
    const char *emit = getenv("KEYCLASS_FUZZ_EMIT");
    if (emit != NULL && emit[0] != '\0')
        emit_kcs(&c, emit);
    CFIndex live = kc_cf_live_total();
    run_case(&c);
    FUZZ_CHECK(kc_cf_live_total() == live, "the case leaked %ld CF objects",
               (long)(kc_cf_live_total() - live));
    kc_cf_quarantine_drain(); /* libFuzzer compares mallocs and frees per input */
    return 0;
}
