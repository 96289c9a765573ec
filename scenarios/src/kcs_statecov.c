/* State-machine coverage (kcs/statecov.h): the engine records, at the end of
 * every operation that ran the reference core, one *cell* of
 *
 *   device state x keychain kind x class key x OSStatus seen x result code
 *   x presence mode
 *
 * and `keyclass coverage` lists the cells reached and the reachable cells no
 * scenario reaches.
 *
 * ---- What a cell's coordinates are ------------------------------------------------
 *
 * Recorded for the operations generate, sign, load, pubkey, rename and delete
 * (the ones that end with a REF_EV_OP_END event); evict, restart, rebuild and
 * plant do not run a core operation and are not cells. An operation in which
 * the process crashed is counted apart (its outcome is the crash, not a code).
 * An operation of a process that is already dead does not run: no cell.
 *
 *  device      world_device_state_now when the operation starts; "asleep"
 *              whenever world_device_asleep (the device is then locked or
 *              before its first unlock).
 *  keychain    the keychain of the label's wrapping-key item as the
 *              process's core finds it (kcs_find_item: DP with the access
 *              group first, then the file-based keychain) when the operation
 *              starts; when there is none then, the item at its end (generate
 *              creates it; rename: the new label's); "none" when there is no
 *              item before or after.
 *  class_key   the protection of that item, at the moment it was looked at.
 *              DP: is the class key of the item's class available
 *              (world_class_key_available)? File-based keychain: it has no
 *              class keys (kSecAttrAccessible has no effect there, domain.md
 *              §4), so its own lock stands in: login-unlocked / login-locked.
 *              No item: the protection a store would meet — the class key of
 *              AfterFirstUnlockThisDeviceOnly (PC1) for a process that stores
 *              on DP (signed, with an access group), else the login lock.
 *  status      the status of the last REF_EV_MAPPED event of the operation
 *              (the OSStatus or LAError the core mapped last), by the rows
 *              of the errmap table: none (no mapped call), 0, -25300, -25293,
 *              -25308, -25315, -128, la-cancel (LAErrorUserCancel/-2,
 *              SystemCancel/-4, AppCancel/-9, seen from the Secure Enclave:
 *              se_sign, se_generate) and other (any other value, also -2/-4/-9
 *              from a keychain call). The exact values are listed apart.
 *  code        the bridge code of REF_EV_OP_END: 0..16, or none when the
 *              operation failed before any bridge step (invalid_label,
 *              key_not_found, duplicate_label).
 *  presence    sign: its presence mode (the key's default from its .meta
 *              when the statement gives none; none when the .meta cannot be
 *              read, as the core does); generate: the mode it records;
 *              load, pubkey, rename, delete: n/a (they never use a context).
 *
 * ---- What "reachable" means ----------------------------------------------------------
 *
 * A cell is reachable when every rule below allows it. The rules are the
 * domain model's (domain.md §2-§6, the clean errmap table of ref/errmap.h),
 * not the library's: fault injection (`fault API STATUS`, lost and destroyed
 * class keys, a locked login keychain, plants of any class) decouples the
 * status an operation sees from the world it runs in, so the rules constrain
 * pairs of dimensions the model ties together and leave the rest free. They
 * over-approximate: a cell they allow may still need a scenario no one can
 * write (the report says "reachable by the rules"), while a reached cell they
 * forbid is a contradiction, listed as "outside the model" (the rule or the
 * core is wrong) and makes `keyclass coverage` exit 1.
 *
 *  R1  No operation runs while the device is off (a scenario boots it first).
 *  R2  keychain dp has class_key available|unavailable; keychain file has
 *      login-unlocked|login-locked; none has either pair (by its routing).
 *  R3  status and code agree with the clean errmap table: a status that a
 *      mapped call failed with gives a code the table gives it on some path
 *      (keychain_load, keychain_store, keychain_delete, se_sign, se_generate;
 *      GUI session or not); and when the last mapped call succeeded — 0, or
 *      -25300 / -34018 (other) that the delete sweep takes as "nothing to
 *      delete" — or none was made, the operation is ok or failed at a step
 *      that maps no status: none, 1 (SE public key), 2 (handle file), 3 (no
 *      signature), 5 (no Secure Enclave), 6 (seal), 7 (decrypt), 8 (SE key
 *      delete), 10 (item not 32 bytes), 12 (item gone after the load).
 *  R4  Code 4 (buffer_too_small) needs a short out-buffer, which the scenario
 *      language cannot pass.
 *  R5  A presence mode means sign or generate, which never give 8 or 11
 *      (delete's codes); n/a means load, pubkey, rename or delete, which
 *      never give 1, 3, 5 or 6 (generate's and sign's codes).
 *  R6  la-cancel comes only from the Secure Enclave's sign and generate
 *      calls, so only with a presence mode.
 *
 * ---- Output ------------------------------------------------------------------------
 *
 * The missing cells are merged into cubes: cells that differ in one dimension
 * only and together cover every value the rules allow there become one line
 * with `*` in that dimension, dimension by dimension until nothing merges
 * (presence, device, class key, keychain, code, status). Every order is
 * fixed, so the output is deterministic.
 */
#include "kcs_statecov.h"
#include "kcs_grow.h"

#include "ref/errmap.h"

#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kcs/report.h"

/* ---- Dimensions ---------------------------------------------------------------------- */

enum { DEV_OFF, DEV_BFU, DEV_UNLOCKED, DEV_LOCKED, DEV_ASLEEP, DEV_N };
enum { KC_DP, KC_FILE, KC_NONE, KC_N };
enum { CK_AVAILABLE, CK_UNAVAILABLE, CK_LOGIN_UNLOCKED, CK_LOGIN_LOCKED, CK_N };
enum {
    ST_NONE,
    ST_OK,
    ST_NOT_FOUND,
    ST_AUTH_FAILED,
    ST_NOT_ALLOWED,
    ST_REQUIRED,
    ST_CANCELED,
    ST_LA_CANCEL,
    ST_OTHER,
    ST_N
};
enum { CODE_NONE = 0, CODE_N = 1 + REF_BRIDGE_CODE_COUNT }; /* value = code + 1 */
enum { PR_NONE, PR_STRICT, PR_CACHED, PR_NA, PR_N };

#define NCELLS ((size_t)DEV_N * KC_N * CK_N * ST_N * CODE_N * PR_N)
#define MAX_VALUES CODE_N

typedef struct {
    const char *name;
    const char *doc;
} value_info;

static const value_info device_values[DEV_N] = {
    {"off", "the device is off (no process runs then: outside the model)"},
    {"before-first-unlock", "booted and awake, not unlocked since the boot"},
    {"unlocked", "unlocked and awake"},
    {"locked", "locked and awake (in the lock grace period or past it)"},
    {"asleep", "asleep (locked, or before the first unlock)"},
};

static const value_info keychain_values[KC_N] = {
    {"dp", "the wrapping-key item is in the data-protection keychain"},
    {"file", "the wrapping-key item is in the file-based (login) keychain"},
    {"none", "no wrapping-key item before or after the operation"},
};

static const value_info class_values[CK_N] = {
    {"available", "DP: the class key of the item's class is available"},
    {"unavailable", "DP: the class key of the item's class is unavailable"},
    {"login-unlocked", "file-based keychain (no class keys): the login keychain is unlocked"},
    {"login-locked", "file-based keychain (no class keys): the login keychain is locked"},
};

static const value_info status_values[ST_N] = {
    {"none", "no mapped call in the operation"},
    {"0", "errSecSuccess"},
    {"-25300", "errSecItemNotFound"},
    {"-25293", "errSecAuthFailed"},
    {"-25308", "errSecInteractionNotAllowed"},
    {"-25315", "errSecInteractionRequired"},
    {"-128", "errSecUserCanceled"},
    {"la-cancel", "LAErrorUserCancel -2, LAErrorSystemCancel -4, LAErrorAppCancel -9 (Secure "
                  "Enclave)"},
    {"other", "any other status (-34018, -50, -25291, LAErrorAuthenticationFailed, ...)"},
};

static const value_info presence_values[PR_N] = {
    {"none", "sign/generate, presence mode none"},
    {"strict", "sign/generate, presence mode strict"},
    {"cached", "sign/generate, presence mode cached"},
    {"n/a", "load, pubkey, rename, delete: no presence mode"},
};

static const char *const code_value_names[CODE_N] = {
    "none", "0", "1",  "2",  "3",  "4",  "5",  "6",  "7",
    "8",    "9", "10", "11", "12", "13", "14", "15", "16",
};

static const int dim_sizes[KCS_DIM_COUNT] = {DEV_N, KC_N, CK_N, ST_N, CODE_N, PR_N};

static const char *const dim_names[KCS_DIM_COUNT] = {"device", "keychain", "class_key",
                                                     "status", "code",     "presence"};
static const char *const dim_titles[KCS_DIM_COUNT] = {
    "device state", "keychain kind", "class key", "OSStatus seen", "result code", "presence mode"};

const char *kcs_statecov_dim_name(int dim) {
    return dim >= 0 && dim < KCS_DIM_COUNT ? dim_names[dim] : NULL;
}

const char *kcs_statecov_dim_title(int dim) {
    return dim >= 0 && dim < KCS_DIM_COUNT ? dim_titles[dim] : NULL;
}

int kcs_statecov_dim_size(int dim) { return dim >= 0 && dim < KCS_DIM_COUNT ? dim_sizes[dim] : 0; }

/* The names and docs of each dimension's values; the code dimension's come
 * from code_value_names and the bridge's code names instead. */
static const value_info *const dim_values[KCS_DIM_COUNT] = {
    [KCS_DIM_DEVICE] = device_values,
    [KCS_DIM_KEYCHAIN] = keychain_values,
    [KCS_DIM_CLASS_KEY] = class_values,
    [KCS_DIM_STATUS] = status_values,
    [KCS_DIM_CODE] = NULL,
    [KCS_DIM_PRESENCE] = presence_values,
};

const char *kcs_statecov_value_name(int dim, int value) {
    if (value == KCS_STATECOV_ANY)
        return "*";
    if (value < 0 || value >= kcs_statecov_dim_size(dim))
        return NULL;
    if (dim == KCS_DIM_CODE)
        return code_value_names[value];
    return dim_values[dim][value].name;
}

const char *kcs_statecov_value_doc(int dim, int value) {
    if (value == KCS_STATECOV_ANY)
        return "every value the rules allow";
    if (value < 0 || value >= kcs_statecov_dim_size(dim))
        return NULL;
    if (dim == KCS_DIM_CODE)
        return value == CODE_NONE ? "failed before any bridge step (REF_BRIDGE_NONE)"
                                  : ref_bridge_code_name(value - 1);
    return dim_values[dim][value].doc;
}

static size_t cell_index(const int v[KCS_DIM_COUNT]) {
    size_t i = 0;
    for (int d = 0; d < KCS_DIM_COUNT; d++)
        i = i * (size_t)dim_sizes[d] + (size_t)v[d];
    return i;
}

static void cell_of_index(size_t i, int v[KCS_DIM_COUNT]) {
    for (int d = KCS_DIM_COUNT - 1; d >= 0; d--) {
        v[d] = (int)(i % (size_t)dim_sizes[d]);
        i /= (size_t)dim_sizes[d];
    }
}

/* ---- Rules ------------------------------------------------------------------------------- */

typedef struct {
    const char *id;
    const char *text;
} rule_info;

static const rule_info rules[] = {
    {"R1", "No operation runs while the device is off: a scenario boots it first."},
    {"R2", "keychain dp goes with class_key available|unavailable, file with "
           "login-unlocked|login-locked (the file-based keychain has no class keys), none with "
           "either pair (by where the process stores)."},
    {"R3", "status and code agree with the clean errmap table: a failing status gives a code the "
           "table gives it on some path (keychain_load, keychain_store, keychain_delete, se_sign, "
           "se_generate; with or without GUI); after a successful last mapped call (0, or "
           "-25300/-34018 that the delete sweep takes as nothing to delete) or none, the "
           "operation is ok or fails at a step that maps no status (none, 1, 2, 3, 5, 6, 7, 8, "
           "10, 12)."},
    {"R4", "code 4 (buffer_too_small) needs a short out-buffer, which the scenario language "
           "cannot pass."},
    {"R5", "a presence mode means sign or generate, which never give 8 or 11; n/a means load, "
           "pubkey, rename or delete, which never give 1, 3, 5 or 6."},
    {"R6", "la-cancel comes only from the Secure Enclave's sign and generate: only with a "
           "presence mode."},
};

#define NRULES (sizeof rules / sizeof rules[0])

size_t kcs_statecov_rule_count(void) { return NRULES; }
const char *kcs_statecov_rule_id(size_t i) { return i < NRULES ? rules[i].id : NULL; }
const char *kcs_statecov_rule_text(size_t i) { return i < NRULES ? rules[i].text : NULL; }

typedef enum { PATH_LOAD, PATH_STORE, PATH_DELETE, PATH_SIGN, PATH_GENERATE, PATH_N } map_path;

static bool se_path(map_path p) { return p == PATH_SIGN || p == PATH_GENERATE; }

/* Representatives of a status value on a path; returns how many (0: the value
 * does not occur on that path). */
static size_t status_reps(int st, map_path p, int32_t out[4]) {
    switch (st) {
    case ST_OK:
        out[0] = errSecSuccess;
        return 1;
    case ST_NOT_FOUND:
        out[0] = errSecItemNotFound;
        return 1;
    case ST_AUTH_FAILED:
        out[0] = errSecAuthFailed;
        return 1;
    case ST_NOT_ALLOWED:
        out[0] = errSecInteractionNotAllowed;
        return 1;
    case ST_REQUIRED:
        out[0] = errSecInteractionRequired;
        return 1;
    case ST_CANCELED:
        out[0] = errSecUserCanceled;
        return 1;
    case ST_LA_CANCEL:
        if (!se_path(p))
            return 0; /* on a keychain path -2/-4/-9 are "other" */
        out[0] = LAErrorUserCancel;
        out[1] = LAErrorSystemCancel;
        out[2] = LAErrorAppCancel;
        return 3;
    case ST_OTHER:
        out[0] = errSecMissingEntitlement;
        out[1] = errSecParam;
        out[2] = se_path(p) ? LAErrorAuthenticationFailed : LAErrorUserCancel;
        return 3;
    default:
        return 0;
    }
}

static int map_status(map_path p, int32_t status, bool gui, bool dp) {
    switch (p) {
    case PATH_LOAD:
        return ref_errmap_load(status, gui, REF_MUTANTS_NONE);
    case PATH_STORE:
        return ref_errmap_store(status, gui, REF_MUTANTS_NONE);
    case PATH_DELETE:
        return ref_errmap_delete(&status, &dp, 1);
    case PATH_SIGN:
        return ref_errmap_sign(status);
    case PATH_GENERATE:
    default:
        return ref_errmap_generate(status);
    }
}

/* Can a mapped call ending with status value `st` give bridge code `code`
 * (code >= 0), on some path, with or without GUI (and, for the delete
 * sweep, on either keychain)? */
static bool maps_to(int st, int code) {
    for (int p = 0; p < PATH_N; p++) {
        int32_t reps[4];
        size_t n = status_reps(st, (map_path)p, reps);
        for (size_t i = 0; i < n; i++)
            for (int variant = 0; variant < 2; variant++)
                if (map_status((map_path)p, reps[i], variant == 0, variant == 0) == code)
                    return true;
    }
    return false;
}

/* Codes set at a step that maps no status (see R3). */
static bool unmapped_code(int code) {
    switch (code) {
    case REF_BRIDGE_NONE:
    case REF_BRIDGE_OK:
    case REF_BRIDGE_GENERATE:
    case REF_BRIDGE_LOAD:
    case REF_BRIDGE_SIGN:
    case REF_BRIDGE_NOT_AVAILABLE:
    case REF_BRIDGE_ENCRYPT:
    case REF_BRIDGE_DECRYPT:
    case REF_BRIDGE_DELETE:
    case REF_BRIDGE_KEYCHAIN_LOAD:
    case REF_BRIDGE_KEYCHAIN_NOT_FOUND:
        return true;
    default:
        return false;
    }
}

static bool status_code_agree(int st, int code) {
    if (code != REF_BRIDGE_NONE && code != REF_BRIDGE_OK && st != ST_NONE && maps_to(st, code))
        return true;
    bool last_call_ok = st == ST_NONE || maps_to(st, REF_BRIDGE_OK);
    return last_call_ok && unmapped_code(code);
}

/* The first rule that forbids the cell, or NULL. */
static const char *forbidding_rule(const int v[KCS_DIM_COUNT]) {
    for (int d = 0; d < KCS_DIM_COUNT; d++)
        if (v[d] < 0 || v[d] >= dim_sizes[d])
            return "range";
    int code = v[KCS_DIM_CODE] - 1;
    bool dp_prot = v[KCS_DIM_CLASS_KEY] == CK_AVAILABLE || v[KCS_DIM_CLASS_KEY] == CK_UNAVAILABLE;
    bool mode = v[KCS_DIM_PRESENCE] != PR_NA;
    if (v[KCS_DIM_DEVICE] == DEV_OFF)
        return "R1";
    if ((v[KCS_DIM_KEYCHAIN] == KC_DP && !dp_prot) || (v[KCS_DIM_KEYCHAIN] == KC_FILE && dp_prot))
        return "R2";
    if (!status_code_agree(v[KCS_DIM_STATUS], code))
        return "R3";
    if (code == REF_BRIDGE_BUFFER_TOO_SMALL)
        return "R4";
    if (mode ? (code == REF_BRIDGE_DELETE || code == REF_BRIDGE_KEYCHAIN_DELETE)
             : (code == REF_BRIDGE_GENERATE || code == REF_BRIDGE_SIGN ||
                code == REF_BRIDGE_NOT_AVAILABLE || code == REF_BRIDGE_ENCRYPT))
        return "R5";
    if (!mode && v[KCS_DIM_STATUS] == ST_LA_CANCEL)
        return "R6";
    return NULL;
}

bool kcs_statecov_reachable(const kcs_statecov_cell *cell, const char **rule) {
    const char *why = forbidding_rule(cell->v);
    if (rule != NULL)
        *rule = why;
    return why == NULL;
}

/* ---- The accumulator ------------------------------------------------------------------- */

typedef struct {
    uint64_t ops;
    uint64_t scenarios;
    uint64_t last_run; /* 1-based serial of the last run that reached it; 0: none */
    size_t first;      /* index into runs */
} tally;

typedef struct {
    bool active;
    const kcs_run *run;
    int proc;
    int device;
    int keychain; /* KC_NONE: look again at the end */
    int class_key;
    int presence;
} pending_op;

struct kcs_statecov {
    tally *cells; /* NCELLS */
    bool *reach;  /* NCELLS */
    size_t nreach;
    tally margin[KCS_DIM_COUNT][MAX_VALUES];
    char **runs;
    size_t nruns, runs_cap;
    uint64_t ops, crashed;
    kcs_statecov_status *statuses;
    size_t nstatuses, statuses_cap;
    pending_op pending;
};

kcs_statecov *kcs_statecov_new(void) {
    kcs_statecov *cov = calloc(1, sizeof *cov);
    if (cov == NULL)
        return NULL;
    cov->cells = calloc(NCELLS, sizeof *cov->cells);
    cov->reach = calloc(NCELLS, sizeof *cov->reach);
    if (cov->cells == NULL || cov->reach == NULL) {
        kcs_statecov_free(cov);
        return NULL;
    }
    for (size_t i = 0; i < NCELLS; i++) {
        kcs_statecov_cell c;
        cell_of_index(i, c.v);
        cov->reach[i] = kcs_statecov_reachable(&c, NULL);
        cov->nreach += cov->reach[i];
    }
    return cov;
}

void kcs_statecov_free(kcs_statecov *cov) {
    if (cov == NULL)
        return;
    for (size_t i = 0; i < cov->nruns; i++)
        free(cov->runs[i]);
    free(cov->runs);
    free(cov->statuses);
    free(cov->cells);
    free(cov->reach);
    free(cov);
}

int kcs_statecov_begin_run(kcs_statecov *cov, const char *scenario) {
    char **g = kcs_grow(cov->runs, cov->nruns, &cov->runs_cap, sizeof *g, 64);
    if (g == NULL)
        return -1;
    cov->runs = g;
    const char *name = scenario != NULL ? scenario : "(unnamed)";
    size_t len = strlen(name) + 1;
    char *copy = malloc(len);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    cov->runs[cov->nruns++] = copy;
    cov->pending.active = false;
    return 0;
}

static void count(tally *t, uint64_t run, size_t run_index) {
    if (t->ops == 0)
        t->first = run_index;
    t->ops++;
    if (t->last_run != run) {
        t->last_run = run;
        t->scenarios++;
    }
}

static void note_status(kcs_statecov *cov, int32_t status, int value) {
    size_t i = 0;
    while (i < cov->nstatuses &&
           (cov->statuses[i].status < status ||
            (cov->statuses[i].status == status && cov->statuses[i].value < value)))
        i++;
    if (i < cov->nstatuses && cov->statuses[i].status == status &&
        cov->statuses[i].value == value) {
        cov->statuses[i].ops++;
        return;
    }
    kcs_statecov_status *g =
        kcs_grow(cov->statuses, cov->nstatuses, &cov->statuses_cap, sizeof *g, 16);
    if (g == NULL)
        return; /* the side list only; the cell is recorded */
    cov->statuses = g;
    memmove(&cov->statuses[i + 1], &cov->statuses[i],
            (cov->nstatuses - i) * sizeof cov->statuses[0]);
    cov->statuses[i] = (kcs_statecov_status){status, ref_status_name(status), value, 1};
    cov->nstatuses++;
}

static void record(kcs_statecov *cov, const int v[KCS_DIM_COUNT], bool has_status, int32_t status) {
    if (cov->nruns == 0 && kcs_statecov_begin_run(cov, NULL) != 0)
        return;
    uint64_t run = cov->nruns;
    size_t run_index = cov->nruns - 1;
    count(&cov->cells[cell_index(v)], run, run_index);
    for (int d = 0; d < KCS_DIM_COUNT; d++)
        count(&cov->margin[d][v[d]], run, run_index);
    cov->ops++;
    if (has_status)
        note_status(cov, status, v[KCS_DIM_STATUS]);
}

/* ---- The hooks ------------------------------------------------------------------------------- */

static int device_value(const world *w) {
    if (world_device_state_now(w) == WORLD_DEVICE_OFF)
        return DEV_OFF;
    if (world_device_asleep(w))
        return DEV_ASLEEP;
    switch (world_device_state_now(w)) {
    case WORLD_DEVICE_BEFORE_FIRST_UNLOCK:
        return DEV_BFU;
    case WORLD_DEVICE_UNLOCKED:
        return DEV_UNLOCKED;
    default:
        return DEV_LOCKED;
    }
}

static int protection(const world *w, world_keychain kc, world_class cls) {
    if (kc == WORLD_KEYCHAIN_FILE)
        return world_login_keychain_locked(w) ? CK_LOGIN_LOCKED : CK_LOGIN_UNLOCKED;
    return world_class_key_available(w, cls) ? CK_AVAILABLE : CK_UNAVAILABLE;
}

/* The item of (process, label) now: its keychain and protection; false if none. */
static bool item_now(const kcs_run *run, const kcs_proc *p, const char *label, int *kc,
                     int *class_key) {
    world_item_view v;
    if (label == NULL || !kcs_find_item(run, p, label, &v))
        return false;
    *kc = v.keychain == WORLD_KEYCHAIN_DP ? KC_DP : KC_FILE;
    *class_key = protection(run->w, v.keychain, v.accessible);
    return true;
}

static int presence_value(ref_presence p) {
    switch (p) {
    case REF_PRESENCE_STRICT:
        return PR_STRICT;
    case REF_PRESENCE_CACHED:
        return PR_CACHED;
    default:
        return PR_NONE;
    }
}

static int sign_presence(const kcs_run *run, const kcs_proc *p, const kcs_op *op) {
    if (op->presence != REF_PRESENCE_KEY_DEFAULT)
        return presence_value(op->presence);
    ref_meta meta;
    if (op->label != NULL && kcs_key_meta(run, p, op->label, &meta))
        return presence_value(meta.presence);
    return PR_NONE;
}

void kcs_statecov_step_begin(kcs_run *run, const kcs_stmt *st) {
    kcs_statecov *cov = run->opt.statecov;
    if (cov == NULL)
        return;
    cov->pending.active = false;
    if (st->kind != KCS_ST_OP)
        return;
    const kcs_op *op = &st->u.op;
    int presence = PR_NA;
    switch (op->kind) {
    case KCS_OP_GENERATE:
        presence = presence_value(op->presence);
        break;
    case KCS_OP_SIGN:
        break;
    case KCS_OP_LOAD:
    case KCS_OP_PUBKEY:
    case KCS_OP_RENAME:
    case KCS_OP_DELETE:
        break;
    default:
        return;
    }
    if (op->proc < 0 || (size_t)op->proc >= run->sc->nprocs)
        return;
    const kcs_proc *p = &run->procs[op->proc];
    if (!p->declared || p->core == NULL)
        return;
    if (op->kind == KCS_OP_SIGN)
        presence = sign_presence(run, p, op);
    pending_op *po = &cov->pending;
    po->run = run;
    po->proc = op->proc;
    po->device = device_value(run->w);
    po->presence = presence;
    po->keychain = KC_NONE;
    po->class_key = CK_AVAILABLE;
    item_now(run, p, op->label, &po->keychain, &po->class_key);
    po->active = true;
}

static int status_value(const char *path, int32_t status) {
    bool se = path != NULL && strncmp(path, "se_", 3) == 0;
    switch (status) {
    case errSecSuccess:
        return ST_OK;
    case errSecItemNotFound:
        return ST_NOT_FOUND;
    case errSecAuthFailed:
        return ST_AUTH_FAILED;
    case errSecInteractionNotAllowed:
        return ST_NOT_ALLOWED;
    case errSecInteractionRequired:
        return ST_REQUIRED;
    case errSecUserCanceled:
        return ST_CANCELED;
    case LAErrorUserCancel:
    case LAErrorSystemCancel:
    case LAErrorAppCancel:
        return se ? ST_LA_CANCEL : ST_OTHER;
    default:
        return ST_OTHER;
    }
}

void kcs_statecov_step_end(kcs_run *run, const kcs_stmt *st) {
    kcs_statecov *cov = run->opt.statecov;
    if (cov == NULL || !cov->pending.active || cov->pending.run != run || st->kind != KCS_ST_OP)
        return;
    pending_op po = cov->pending;
    cov->pending.active = false;
    if (!run->op.ran || run->op.proc != po.proc)
        return;
    const kcs_event *end = NULL, *mapped = NULL;
    for (size_t i = 0; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        if (e->proc != po.proc)
            continue;
        if (e->kind == REF_EV_MAPPED)
            mapped = e;
        else if (e->kind == REF_EV_OP_END)
            end = e;
    }
    if (end == NULL)
        return; /* evict: not a core operation */
    if (run->op.crashed) {
        cov->crashed++;
        return;
    }
    if (end->code < REF_BRIDGE_NONE || end->code >= REF_BRIDGE_CODE_COUNT)
        return;
    if (po.keychain == KC_NONE) {
        const kcs_proc *p = &run->procs[po.proc];
        const kcs_op *op = &st->u.op;
        if (!item_now(run, p, op->label, &po.keychain, &po.class_key) &&
            !item_now(run, p, op->label2, &po.keychain, &po.class_key)) {
            po.keychain = KC_NONE;
            bool dp = p->cfg.access_group != NULL && p->decl->is_signed;
            po.class_key = protection(run->w, dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE,
                                      WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
        }
    }
    int v[KCS_DIM_COUNT];
    v[KCS_DIM_DEVICE] = po.device;
    v[KCS_DIM_KEYCHAIN] = po.keychain;
    v[KCS_DIM_CLASS_KEY] = po.class_key;
    v[KCS_DIM_STATUS] = mapped != NULL ? status_value(mapped->detail, mapped->status) : ST_NONE;
    v[KCS_DIM_CODE] = end->code + 1;
    v[KCS_DIM_PRESENCE] = po.presence;
    record(cov, v, mapped != NULL, mapped != NULL ? mapped->status : 0);
}

/* ---- Reading ------------------------------------------------------------------------------ */

void kcs_statecov_summarize(const kcs_statecov *cov, kcs_statecov_summary *out) {
    memset(out, 0, sizeof *out);
    out->runs = cov->nruns;
    out->ops = cov->ops;
    out->crashed = cov->crashed;
    out->reachable = cov->nreach;
    for (size_t i = 0; i < NCELLS; i++) {
        if (cov->cells[i].ops == 0)
            continue;
        if (cov->reach[i])
            out->reached++;
        else
            out->outside++;
    }
}

kcs_statecov_hit *kcs_statecov_hits(const kcs_statecov *cov, size_t *n) {
    *n = 0;
    for (size_t i = 0; i < NCELLS; i++)
        *n += cov->cells[i].ops != 0;
    kcs_statecov_hit *hits = calloc(*n ? *n : 1, sizeof *hits);
    if (hits == NULL) {
        *n = 0;
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < NCELLS; i++) {
        const tally *t = &cov->cells[i];
        if (t->ops == 0)
            continue;
        kcs_statecov_hit *h = &hits[k++];
        cell_of_index(i, h->cell.v);
        h->reachable = cov->reach[i];
        h->ops = t->ops;
        h->scenarios = t->scenarios;
        h->first = cov->runs[t->first];
    }
    return hits;
}

void kcs_statecov_margin_of(const kcs_statecov *cov, int dim, int value, kcs_statecov_margin *out) {
    memset(out, 0, sizeof *out);
    if (dim < 0 || dim >= KCS_DIM_COUNT || value < 0 || value >= dim_sizes[dim])
        return;
    out->ops = cov->margin[dim][value].ops;
    out->scenarios = cov->margin[dim][value].scenarios;
    for (size_t i = 0; i < NCELLS; i++) {
        int v[KCS_DIM_COUNT];
        cell_of_index(i, v);
        if (v[dim] != value)
            continue;
        out->reachable += cov->reach[i];
        out->reached += cov->reach[i] && cov->cells[i].ops != 0;
    }
}

void kcs_statecov_pair_grid(const kcs_statecov *cov, int a, int b, uint64_t *ops, bool *reachable) {
    if (a < 0 || a >= KCS_DIM_COUNT || b < 0 || b >= KCS_DIM_COUNT)
        return;
    size_t na = (size_t)dim_sizes[a], nb = (size_t)dim_sizes[b];
    memset(ops, 0, na * nb * sizeof *ops);
    memset(reachable, 0, na * nb * sizeof *reachable);
    for (size_t i = 0; i < NCELLS; i++) {
        int v[KCS_DIM_COUNT];
        cell_of_index(i, v);
        size_t k = (size_t)v[a] * nb + (size_t)v[b];
        ops[k] += cov->cells[i].ops;
        reachable[k] = reachable[k] || cov->reach[i];
    }
}

const kcs_statecov_status *kcs_statecov_statuses(const kcs_statecov *cov, size_t *n) {
    *n = cov->nstatuses;
    return cov->statuses;
}

/* ---- Missing cells as cubes -------------------------------------------------------------- */

/* Calls visit for every cell of the cube; stops early when it returns false.
 * Returns false when stopped. */
static bool cube_each(const int cube[KCS_DIM_COUNT], bool (*visit)(size_t index, void *ctx),
                      void *ctx) {
    int v[KCS_DIM_COUNT];
    for (int d = 0; d < KCS_DIM_COUNT; d++)
        v[d] = cube[d] == KCS_STATECOV_ANY ? 0 : cube[d];
    for (;;) {
        if (!visit(cell_index(v), ctx))
            return false;
        int d = KCS_DIM_COUNT - 1;
        for (; d >= 0; d--) {
            if (cube[d] != KCS_STATECOV_ANY)
                continue;
            if (++v[d] < dim_sizes[d])
                break;
            v[d] = 0;
        }
        if (d < 0)
            return true;
    }
}

typedef struct {
    const bool *reach;
    size_t count;
} reach_count;

static bool any_reachable_visit(size_t index, void *ctx) {
    reach_count *rc = ctx;
    if (rc->reach[index]) {
        rc->count++;
        return false;
    }
    return true;
}

static bool count_reachable_visit(size_t index, void *ctx) {
    reach_count *rc = ctx;
    rc->count += rc->reach[index];
    return true;
}

static bool cube_has_reachable(const bool *reach, const int cube[KCS_DIM_COUNT]) {
    reach_count rc = {reach, 0};
    cube_each(cube, any_reachable_visit, &rc);
    return rc.count > 0;
}

static size_t cube_reachable(const bool *reach, const int cube[KCS_DIM_COUNT]) {
    reach_count rc = {reach, 0};
    cube_each(cube, count_reachable_visit, &rc);
    return rc.count;
}

/* Sort key of a cube without dimension `skip` (ANY counts as the last value). */
typedef struct {
    uint64_t key;
    int value; /* at `skip` */
    size_t index;
} cube_key;

static uint64_t key_without(const int cube[KCS_DIM_COUNT], int skip) {
    uint64_t k = 0;
    for (int d = 0; d < KCS_DIM_COUNT; d++) {
        if (d == skip)
            continue;
        int x = cube[d] == KCS_STATECOV_ANY ? dim_sizes[d] : cube[d];
        k = k * (uint64_t)(dim_sizes[d] + 1) + (uint64_t)x;
    }
    return k;
}

static int cmp_cube_key(const void *a, const void *b) {
    const cube_key *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* One merge pass over dimension d; returns the new count (cubes compacted in
 * place) or (size_t)-1 when out of memory. *changed set when something merged. */
static size_t merge_dim(const bool *reach, kcs_statecov_cell *cubes, size_t n, int d,
                        bool *changed) {
    cube_key *keys = malloc((n ? n : 1) * sizeof *keys);
    kcs_statecov_cell *out = malloc((n ? n : 1) * sizeof *out);
    if (keys == NULL || out == NULL) {
        free(keys);
        free(out);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i].key = key_without(cubes[i].v, d);
        keys[i].value = cubes[i].v[d] == KCS_STATECOV_ANY ? dim_sizes[d] : cubes[i].v[d];
        keys[i].index = i;
    }
    qsort(keys, n, sizeof *keys, cmp_cube_key);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && keys[j].key == keys[i].key)
            j++;
        bool present[MAX_VALUES + 1] = {false};
        for (size_t k = i; k < j; k++)
            present[keys[k].value] = true;
        /* A lone cube stays as it is: `*` would stand for one value only. */
        bool merge = !present[dim_sizes[d]] && j - i >= 2;
        if (merge) {
            int probe[KCS_DIM_COUNT];
            memcpy(probe, cubes[keys[i].index].v, sizeof probe);
            for (int x = 0; x < dim_sizes[d] && merge; x++) {
                if (present[x])
                    continue;
                probe[d] = x;
                if (cube_has_reachable(reach, probe))
                    merge = false;
            }
        }
        if (merge) {
            out[m] = cubes[keys[i].index];
            out[m].v[d] = KCS_STATECOV_ANY;
            m++;
            *changed = true;
        } else {
            for (size_t k = i; k < j; k++)
                out[m++] = cubes[keys[k].index];
        }
        i = j;
    }
    memcpy(cubes, out, m * sizeof *out);
    free(out);
    free(keys);
    return m;
}

static int cmp_cells_for_output(const void *a, const void *b) {
    /* status, code, then device, keychain, class key, presence; ANY last. */
    static const int order[KCS_DIM_COUNT] = {KCS_DIM_STATUS,   KCS_DIM_CODE,      KCS_DIM_DEVICE,
                                             KCS_DIM_KEYCHAIN, KCS_DIM_CLASS_KEY, KCS_DIM_PRESENCE};
    const kcs_statecov_cell *x = a, *y = b;
    for (int i = 0; i < KCS_DIM_COUNT; i++) {
        int d = order[i];
        int p = x->v[d] == KCS_STATECOV_ANY ? dim_sizes[d] : x->v[d];
        int q = y->v[d] == KCS_STATECOV_ANY ? dim_sizes[d] : y->v[d];
        if (p != q)
            return p < q ? -1 : 1;
    }
    return 0;
}

kcs_statecov_cell *kcs_statecov_missing(const kcs_statecov *cov, size_t **cells, size_t *n) {
    *n = 0;
    *cells = NULL;
    size_t count = 0;
    for (size_t i = 0; i < NCELLS; i++)
        count += cov->reach[i] && cov->cells[i].ops == 0;
    kcs_statecov_cell *cubes = malloc((count ? count : 1) * sizeof *cubes);
    if (cubes == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < NCELLS; i++)
        if (cov->reach[i] && cov->cells[i].ops == 0)
            cell_of_index(i, cubes[k++].v);
    static const int merge_order[KCS_DIM_COUNT] = {KCS_DIM_PRESENCE,  KCS_DIM_DEVICE,
                                                   KCS_DIM_CLASS_KEY, KCS_DIM_KEYCHAIN,
                                                   KCS_DIM_CODE,      KCS_DIM_STATUS};
    bool changed = true;
    while (changed) {
        changed = false;
        for (int i = 0; i < KCS_DIM_COUNT; i++) {
            bool merged = false;
            size_t m = merge_dim(cov->reach, cubes, k, merge_order[i], &merged);
            if (m == (size_t)-1) {
                free(cubes);
                return NULL;
            }
            if (merged)
                changed = true;
            k = m;
        }
    }
    qsort(cubes, k, sizeof *cubes, cmp_cells_for_output);
    size_t *sizes = malloc((k ? k : 1) * sizeof *sizes);
    if (sizes == NULL) {
        free(cubes);
        return NULL;
    }
    for (size_t i = 0; i < k; i++)
        sizes[i] = cube_reachable(cov->reach, cubes[i].v);
    *cells = sizes;
    *n = k;
    return cubes;
}

/* ---- Text ---------------------------------------------------------------------------------- */

static double percent(size_t part, size_t whole) {
    return whole == 0 ? 0.0 : 100.0 * (double)part / (double)whole;
}

static const int cell_columns[KCS_DIM_COUNT] = {20, 9, 15, 10, 5, 9};

static void print_cell(FILE *out, const int v[KCS_DIM_COUNT], int skip) {
    for (int d = 0; d < KCS_DIM_COUNT; d++) {
        if (d == skip)
            continue;
        fprintf(out, " %-*s", cell_columns[d], kcs_statecov_value_name(d, v[d]));
    }
}

static void print_cell_header(FILE *out, int skip) {
    static const char *const heads[KCS_DIM_COUNT] = {"device", "keychain", "class key",
                                                     "status", "code",     "presence"};
    for (int d = 0; d < KCS_DIM_COUNT; d++) {
        if (d == skip)
            continue;
        fprintf(out, " %-*s", cell_columns[d], heads[d]);
    }
}

/* The grid of the dimensions (a, b) into ops and reach (kcs_statecov_pair_grid);
 * *reachable: how many of its value pairs are reachable, *reached: how many
 * of those a scenario reached. */
static void pair_counts(const kcs_statecov *cov, int a, int b, uint64_t *ops, bool *reach,
                        size_t *reachable, size_t *reached) {
    kcs_statecov_pair_grid(cov, a, b, ops, reach);
    size_t t = 0, r = 0;
    for (int k = 0; k < dim_sizes[a] * dim_sizes[b]; k++) {
        t += reach[k];
        r += reach[k] && ops[k] > 0;
    }
    *reachable = t;
    *reached = r;
}

/* Two-way coverage: per pair of dimensions, how many reachable value pairs
 * are reached, and the ones that are not, by the first dimension's value. */
static void print_pairs(FILE *out, const kcs_statecov *cov) {
    uint64_t ops[MAX_VALUES * MAX_VALUES];
    bool reach[MAX_VALUES * MAX_VALUES];
    size_t total = 0, reached = 0;
    for (int a = 0; a < KCS_DIM_COUNT; a++)
        for (int b = a + 1; b < KCS_DIM_COUNT; b++) {
            size_t t, r;
            pair_counts(cov, a, b, ops, reach, &t, &r);
            total += t;
            reached += r;
        }
    fprintf(out,
            "\nvalue pairs (2-way coverage): %zu of %zu reachable pairs reached; the pairs no "
            "scenario reaches:\n",
            reached, total);
    for (int a = 0; a < KCS_DIM_COUNT; a++)
        for (int b = a + 1; b < KCS_DIM_COUNT; b++) {
            size_t t, r;
            pair_counts(cov, a, b, ops, reach, &t, &r);
            fprintf(out, "  %s x %s: %zu of %zu\n", dim_titles[a], dim_titles[b], r, t);
            for (int x = 0; x < dim_sizes[a]; x++) {
                bool any = false;
                for (int y = 0; y < dim_sizes[b]; y++) {
                    size_t k = (size_t)x * (size_t)dim_sizes[b] + (size_t)y;
                    if (!reach[k] || ops[k] > 0)
                        continue;
                    if (!any)
                        fprintf(out, "    %-20s", kcs_statecov_value_name(a, x));
                    fprintf(out, " %s", kcs_statecov_value_name(b, y));
                    any = true;
                }
                if (any)
                    fputc('\n', out);
            }
        }
}

void kcs_statecov_print(FILE *out, const kcs_statecov *cov) {
    kcs_statecov_summary s;
    kcs_statecov_summarize(cov, &s);
    fprintf(out,
            "keyclass coverage: %" PRIu64 " scenario runs, %" PRIu64
            " operations recorded (%" PRIu64 " crashed: not cells)\n",
            s.runs, s.ops, s.crashed);
    fprintf(out,
            "state-machine cells: %zu of %zu reachable reached (%.1f %%); %zu reached outside "
            "the model\n",
            s.reached, s.reachable, percent(s.reached, s.reachable), s.outside);
    fputs("  a cell: device state x keychain kind x class key x OSStatus seen x result code x "
          "presence mode,\n  at each operation's end; reachable: allowed by rules R1-R6 "
          "(below; scenarios/src/kcs_statecov.c)\n",
          out);

    for (int d = 0; d < KCS_DIM_COUNT; d++) {
        fprintf(out, "\n%-24s %8s %10s %8s %10s  %s\n", kcs_statecov_dim_title(d), "ops",
                "scenarios", "cells", "reachable", "meaning");
        for (int x = 0; x < dim_sizes[d]; x++) {
            kcs_statecov_margin m;
            kcs_statecov_margin_of(cov, d, x, &m);
            fprintf(out, "  %-22s %8" PRIu64 " %10" PRIu64 " %8zu %10zu  %s\n",
                    kcs_statecov_value_name(d, x), m.ops, m.scenarios, m.reached, m.reachable,
                    kcs_statecov_value_doc(d, x));
        }
    }

    print_pairs(out, cov);

    size_t nhits = 0;
    kcs_statecov_hit *hits = kcs_statecov_hits(cov, &nhits);
    fprintf(out, "\nreached cells: %zu\n ", nhits);
    print_cell_header(out, -1);
    fprintf(out, " %7s %9s  %s\n", "ops", "scenarios", "first scenario");
    for (size_t i = 0; hits != NULL && i < nhits; i++) {
        fputc(' ', out);
        print_cell(out, hits[i].cell.v, -1);
        fprintf(out, " %7" PRIu64 " %9" PRIu64 "  %s\n", hits[i].ops, hits[i].scenarios,
                hits[i].first);
    }
    if (s.outside > 0) {
        fprintf(out, "\nreached cells OUTSIDE the model (a rule or the core is wrong): %zu\n",
                s.outside);
        for (size_t i = 0; hits != NULL && i < nhits; i++) {
            if (hits[i].reachable)
                continue;
            const char *rule = NULL;
            kcs_statecov_reachable(&hits[i].cell, &rule);
            fputs("  ", out);
            print_cell(out, hits[i].cell.v, -1);
            fprintf(out, "  forbidden by %s; first: %s\n", rule ? rule : "?", hits[i].first);
        }
    }
    free(hits);

    size_t *sizes = NULL, ncubes = 0;
    kcs_statecov_cell *cubes = kcs_statecov_missing(cov, &sizes, &ncubes);
    fprintf(out,
            "\nreachable cells no scenario reaches: %zu, in %zu groups by status (* = every "
            "value the rules allow there)\n",
            s.reachable - s.reached, ncubes);
    for (size_t i = 0; cubes != NULL && i < ncubes; i++) {
        int st = cubes[i].v[KCS_DIM_STATUS];
        if (i == 0 || cubes[i - 1].v[KCS_DIM_STATUS] != st) {
            fprintf(out, "  status %s (%s)\n   ", kcs_statecov_value_name(KCS_DIM_STATUS, st),
                    kcs_statecov_value_doc(KCS_DIM_STATUS, st));
            print_cell_header(out, KCS_DIM_STATUS);
            fprintf(out, " %6s\n", "cells");
        }
        fputs("   ", out);
        print_cell(out, cubes[i].v, KCS_DIM_STATUS);
        fprintf(out, " %6zu\n", sizes[i]);
    }
    free(cubes);
    free(sizes);

    size_t nst = 0;
    const kcs_statecov_status *sts = kcs_statecov_statuses(cov, &nst);
    fprintf(out, "\nexact statuses seen (last mapped status of an operation): %zu\n", nst);
    for (size_t i = 0; i < nst; i++)
        fprintf(out, "  %11" PRId32 " %-30s as %-10s %8" PRIu64 " ops\n", sts[i].status,
                sts[i].name ? sts[i].name : "(unnamed)",
                kcs_statecov_value_name(KCS_DIM_STATUS, sts[i].value), sts[i].ops);

    fputs("\nrules (a cell is reachable when every rule allows it):\n", out);
    for (size_t i = 0; i < NRULES; i++)
        fprintf(out, "  %s  %s\n", rules[i].id, rules[i].text);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void json_cell(FILE *out, const int v[KCS_DIM_COUNT]) {
    for (int d = 0; d < KCS_DIM_COUNT; d++) {
        fprintf(out, "%s\"%s\": ", d ? ", " : "", dim_names[d]);
        kcs_json_string(out, kcs_statecov_value_name(d, v[d]));
    }
}

int kcs_statecov_json(FILE *out, const kcs_statecov *cov) {
    kcs_statecov_summary s;
    kcs_statecov_summarize(cov, &s);
    fprintf(out,
            "{\n  \"runs\": %" PRIu64 ", \"operations\": %" PRIu64 ", \"crashed\": %" PRIu64
            ",\n  \"reachable\": %zu, \"reached\": %zu, \"outside\": %zu,\n  \"dimensions\": [",
            s.runs, s.ops, s.crashed, s.reachable, s.reached, s.outside);
    for (int d = 0; d < KCS_DIM_COUNT; d++) {
        fprintf(out, "%s\n    {\"name\": \"%s\", \"title\": ", d ? "," : "", dim_names[d]);
        kcs_json_string(out, dim_titles[d]);
        fputs(", \"values\": [", out);
        for (int x = 0; x < dim_sizes[d]; x++) {
            kcs_statecov_margin m;
            kcs_statecov_margin_of(cov, d, x, &m);
            fputs(x ? ",\n      {\"name\": " : "\n      {\"name\": ", out);
            kcs_json_string(out, kcs_statecov_value_name(d, x));
            fputs(", \"doc\": ", out);
            kcs_json_string(out, kcs_statecov_value_doc(d, x));
            fprintf(out,
                    ", \"ops\": %" PRIu64 ", \"scenarios\": %" PRIu64
                    ", \"reached\": %zu, \"reachable\": %zu}",
                    m.ops, m.scenarios, m.reached, m.reachable);
        }
        fputs("]}", out);
    }
    fputs("\n  ],\n  \"rules\": [", out);
    for (size_t i = 0; i < NRULES; i++) {
        fprintf(out, "%s\n    {\"id\": \"%s\", \"text\": ", i ? "," : "", rules[i].id);
        kcs_json_string(out, rules[i].text);
        fputc('}', out);
    }
    fputs("\n  ],\n  \"cells\": [", out);
    size_t nhits = 0;
    kcs_statecov_hit *hits = kcs_statecov_hits(cov, &nhits);
    for (size_t i = 0; hits != NULL && i < nhits; i++) {
        fputs(i ? ",\n    {" : "\n    {", out);
        json_cell(out, hits[i].cell.v);
        const char *rule = NULL;
        kcs_statecov_reachable(&hits[i].cell, &rule);
        fprintf(out, ", \"reachable\": %s, \"ops\": %" PRIu64 ", \"scenarios\": %" PRIu64,
                hits[i].reachable ? "true" : "false", hits[i].ops, hits[i].scenarios);
        fputs(", \"first\": ", out);
        kcs_json_string(out, hits[i].first);
        if (!hits[i].reachable) {
            fputs(", \"rule\": ", out);
            kcs_json_string(out, rule);
        }
        fputc('}', out);
    }
    free(hits);
    fputs("\n  ],\n  \"missing\": [", out);
    size_t *sizes = NULL, ncubes = 0;
    kcs_statecov_cell *cubes = kcs_statecov_missing(cov, &sizes, &ncubes);
    for (size_t i = 0; cubes != NULL && i < ncubes; i++) {
        fputs(i ? ",\n    {" : "\n    {", out);
        json_cell(out, cubes[i].v);
        fprintf(out, ", \"cells\": %zu}", sizes[i]);
    }
    free(cubes);
    free(sizes);
    fputs("\n  ],\n  \"pairs\": [", out);
    uint64_t ops[MAX_VALUES * MAX_VALUES];
    bool reach[MAX_VALUES * MAX_VALUES];
    bool first_pair = true;
    for (int a = 0; a < KCS_DIM_COUNT; a++)
        for (int b = a + 1; b < KCS_DIM_COUNT; b++) {
            size_t t, r;
            pair_counts(cov, a, b, ops, reach, &t, &r);
            fprintf(out,
                    "%s\n    {\"a\": \"%s\", \"b\": \"%s\", \"reachable\": %zu, \"reached\": %zu,"
                    " \"ops\": [",
                    first_pair ? "" : ",", dim_names[a], dim_names[b], t, r);
            first_pair = false;
            /* ops[x][y]; null where no reachable cell has the pair */
            for (int x = 0; x < dim_sizes[a]; x++) {
                fputs(x ? ", [" : "[", out);
                for (int y = 0; y < dim_sizes[b]; y++) {
                    size_t k = (size_t)x * (size_t)dim_sizes[b] + (size_t)y;
                    if (reach[k] || ops[k] > 0)
                        fprintf(out, "%s%" PRIu64, y ? ", " : "", ops[k]);
                    else
                        fputs(y ? ", null" : "null", out);
                }
                fputc(']', out);
            }
            fputs("]}", out);
        }
    fputs("\n  ],\n  \"statuses\": [", out);
    size_t nst = 0;
    const kcs_statecov_status *sts = kcs_statecov_statuses(cov, &nst);
    for (size_t i = 0; i < nst; i++) {
        fprintf(out, "%s\n    {\"status\": %" PRId32 ", \"name\": ", i ? "," : "", sts[i].status);
        if (sts[i].name != NULL)
            kcs_json_string(out, sts[i].name);
        else
            fputs("null", out);
        fputs(", \"as\": ", out);
        kcs_json_string(out, kcs_statecov_value_name(KCS_DIM_STATUS, sts[i].value));
        fprintf(out, ", \"ops\": %" PRIu64 "}", sts[i].ops);
    }
    fputs("\n  ]\n}", out);
    return ferror(out) ? -1 : 0;
}
