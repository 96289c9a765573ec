/* The interpreter: runs one scenario in a fresh world against the reference
 * core, statement by statement, with the invariant checker after each.
 *
 * Decisions (where scenario-language.md is silent):
 *  - One ref_core per declared process, created when its `process` line runs,
 *    with the configuration of that line, the run's mutants and the checker
 *    as observer. Whenever the world's generation of a process changes
 *    (restart, rebuild, device reboot) its core is freed and created anew:
 *    memory gone. A process that crashed in an operation loses its core at
 *    once; until it is restarted (or the device reboots) every operation of
 *    it ends as `crashed` without running.
 *  - The order within a step: run it, check the invariants, then compare the
 *    outcome with `-> <outcome>`. So a mutant that both breaks an invariant and
 *    changes an outcome is reported by the invariant it breaks.
 *  - A world event that makes no sense in the current state (`device unlock`
 *    while off, `device wake` while awake, `keychain unlock` while off) fails
 *    the scenario at its line with the world's reason.
 *  - `restart`, `rebuild`, `evict` and `plant` always end `ok`; `-> ok` and
 *    `-> any` hold for them, any other outcome fails.
 *  - `sign` signs "keyclass:<scenario>:<line>". A returned signature is
 *    verified against the public key of the SE key the handle names (found by
 *    inspection; the .pub file only when the handle no longer leads to it).
 *    `pubkey` must return that SE key's public key when it can be inspected.
 *  - `plant` refuses (fails the scenario) an invalid label, a label that
 *    already has a file or an item, and presence=yes for a process whose
 *    configuration routes to the file-based keychain (where .userPresence is
 *    impossible, so no older release can have left such an item). The SE key
 *    of auth=any|biometry|passcode gets class WhenUnlockedThisDeviceOnly with
 *    .privateKeyUsage and the policy's flag, as generate gives it; the item's
 *    creator (file-based ACL) is the process's current identity; the .meta
 *    records the auth policy, presence mode none and whether the item is
 *    presence-protected.
 *  - The journal gets a note for every operation ("line N: <statement>" and
 *    "line N: => <outcome>"); world statements are journaled by the world
 *    itself; expectations write nothing.
 *  - A `parallel` block runs its processes on scheduled threads
 *    (kcs_parallel.c); a scenario with blocks or sweeps is run by the
 *    explorer (kcs_drive.c), once per schedule or crash point.
 */
#include "kcs_internal.h"
#include "kcs_statecov.h" /* state-machine coverage hooks */

#include "ref/ehw1.h"
#include "ref/meta.h"
#include "ref/policy.h"

#include <CoreFoundation/CoreFoundation.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define JOURNAL_TAIL_LINES 40
/* The world clock never goes past 2^50 ms (about 35000 years): the core adds
 * TTLs to it in int64 milliseconds and reads it through a double. */
#define KCS_CLOCK_HORIZON_MS ((int64_t)1 << 50)
#define PENDING_MAX 1024

/* ---- Failures ------------------------------------------------------------------- */

static void vfail(kcs_run *run, int line, const char *invariant, const char *fmt, va_list ap) {
    if (run->failed)
        return;
    run->failed = true;
    run->invariant = invariant;
    int n = invariant != NULL
                ? snprintf(run->failure, sizeof run->failure,
                           "%s:%d: invariant %s violated: ", run->path, line, invariant)
                : snprintf(run->failure, sizeof run->failure, "%s:%d: ", run->path, line);
    if (n >= 0 && (size_t)n < sizeof run->failure)
        vsnprintf(run->failure + n, sizeof run->failure - (size_t)n, fmt, ap);
}

int kcs_fail(kcs_run *run, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(run, line, NULL, fmt, ap);
    va_end(ap);
    return 1;
}

int kcs_fail_invariant(kcs_run *run, int line, const char *name, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(run, line, name, fmt, ap);
    va_end(ap);
    return 1;
}

/* ---- Processes and their cores ----------------------------------------------------- */

static int core_start(kcs_run *run, kcs_proc *p, int line) {
    p->core = ref_core_new(&p->cfg);
    p->generation = world_process_generation(run->w, p->pid);
    p->crash_line = 0;
    if (p->core == NULL)
        return kcs_fail(run, line, "the reference core refused the configuration of process '%s'",
                        p->decl->name);
    return 0;
}

static void core_drop(kcs_proc *p) {
    ref_core_free(p->core);
    p->core = NULL;
    kcs_inv_forget_core(p);
}

/* A process whose world generation moved on (restart, rebuild, reboot) gets
 * a fresh core: its memory is gone. */
static int sync_processes(kcs_run *run, int line) {
    for (size_t i = 0; i < run->sc->nprocs; i++) {
        kcs_proc *p = &run->procs[i];
        if (!p->declared || world_process_generation(run->w, p->pid) == p->generation)
            continue;
        core_drop(p);
        if (core_start(run, p, line) != 0)
            return 1;
    }
    return 0;
}

static int exec_process(kcs_run *run, const kcs_stmt *st) {
    kcs_proc *p = &run->procs[st->u.process.proc];
    const kcs_process_decl *d = p->decl;
    world_process_config pc = {.name = d->name,
                               .app = d->app,
                               .is_signed = d->is_signed,
                               .access_group = d->group,
                               .gui = d->gui,
                               .home_override = d->home_override};
    p->pid = world_process_add(run->w, &pc);
    if (p->pid < 0)
        return kcs_fail(run, st->line, "the world refused process '%s'", d->name);
    ref_config_init(&p->cfg);
    p->cfg.app = d->app;
    p->cfg.is_signed = d->is_signed;
    p->cfg.access_group = d->group;
    p->cfg.wrap_presence = d->wrap_presence;
    p->cfg.cache_ttl_ms = d->cache_ttl_ms;
    p->cfg.mutants = run->opt.mutants;
    p->cfg.observer = kcs_observe;
    p->cfg.observer_ctx = p;
    if (ref_config_service(&p->cfg, p->service, sizeof p->service) == 0)
        return kcs_fail(run, st->line, "process '%s': its service name is too long", d->name);
    p->declared = true;
    return core_start(run, p, st->line);
}

/* ---- World statements ----------------------------------------------------------------- */

static int world_refused(kcs_run *run, const kcs_stmt *st) {
    return kcs_fail(run, st->line, "%s: %s", st->text, world_last_error(run->w));
}

static int exec_device(kcs_run *run, const kcs_stmt *st) {
    world *w = run->w;
    int rc = 0;
    switch (st->u.device.event) {
    case KCS_DEV_BOOT:
        rc = world_device_boot(w);
        break;
    case KCS_DEV_UNLOCK:
        rc = world_device_unlock(w);
        if (rc == 0)
            memset(run->class_lost, 0, sizeof run->class_lost);
        break;
    case KCS_DEV_LOCK:
        rc = world_device_lock(w);
        break;
    case KCS_DEV_SLEEP:
        rc = world_device_sleep(w);
        break;
    case KCS_DEV_WAKE:
        rc = world_device_wake(w);
        break;
    case KCS_DEV_REBOOT:
        rc = world_device_reboot(w);
        break;
    case KCS_DEV_PASSCODE:
        rc = world_device_set_passcode(w, st->u.device.on);
        break;
    case KCS_DEV_BIOMETRY:
        rc = world_device_set_biometry(w, st->u.device.on);
        break;
    }
    if (rc != 0)
        return world_refused(run, st);
    return sync_processes(run, st->line);
}

static int exec_keychain(kcs_run *run, const kcs_stmt *st) {
    switch (st->u.keychain.event) {
    case KCS_KC_LOCK:
        if (world_login_keychain_lock(run->w) != 0)
            return world_refused(run, st);
        break;
    case KCS_KC_UNLOCK:
        if (world_login_keychain_unlock(run->w) != 0)
            return world_refused(run, st);
        break;
    case KCS_KC_LOCK_ON_SLEEP:
        world_login_keychain_set_lock_on_sleep(run->w, st->u.keychain.on);
        break;
    }
    return 0;
}

static int exec_fault(kcs_run *run, const kcs_stmt *st) {
    world_fault f;
    memset(&f, 0, sizeof f);
    f.api = st->u.fault.api;
    f.status = st->u.fault.status;
    f.nth = st->u.fault.nth;
    f.times = st->u.fault.times;
    f.proc = st->u.fault.proc >= 0 ? run->procs[st->u.fault.proc].pid : -1;
    f.match = st->u.fault.match;
    world_fault_add(run->w, &f);
    return 0;
}

/* ---- Plant ------------------------------------------------------------------------------ */

static uint32_t auth_flags(ref_auth auth) {
    switch (auth) {
    case REF_AUTH_ANY:
        return WORLD_AC_USER_PRESENCE;
    case REF_AUTH_BIOMETRY:
        return WORLD_AC_BIOMETRY_ANY;
    case REF_AUTH_PASSCODE:
        return WORLD_AC_DEVICE_PASSCODE;
    case REF_AUTH_NONE:
        break;
    }
    return 0;
}

/* Writes a complete key as an older release left it: inspection and seeding
 * API only (no prompt, no counted call). */
static int exec_plant(kcs_run *run, const kcs_stmt *st, kcs_proc *p) {
    const kcs_op *op = &st->u.op;
    const char *label = op->label;
    world *w = run->w;
    if (!ref_label_valid(label))
        return kcs_fail(run, st->line, "plant: '%s' is not a valid label", st->text);
    char hpath[KCS_PATH_MAX], ppath[KCS_PATH_MAX], mpath[KCS_PATH_MAX];
    if (!kcs_key_path(p, label, ".handle", hpath, sizeof hpath) ||
        !kcs_key_path(p, label, ".pub", ppath, sizeof ppath) ||
        !kcs_key_path(p, label, ".meta", mpath, sizeof mpath))
        return kcs_fail(run, st->line, "plant: the key paths are too long");
    world_item_view existing;
    if (kcs_has_key_file(run, p, label, false) || kcs_find_item(run, p, label, &existing))
        return kcs_fail(run, st->line, "plant: label '%s' already has a file or a keychain item",
                        label);
    bool dp = p->cfg.access_group != NULL && p->decl->is_signed;
    if (!op->plaintext && op->plant_presence && !dp)
        return kcs_fail(run, st->line,
                        "plant: presence=yes needs the data-protection keychain, but process '%s' "
                        "routes to the file-based keychain (no access group or unsigned), where "
                        ".userPresence is refused",
                        p->decl->name);

    /* The SE key. */
    bool has_ac = op->auth != REF_AUTH_NONE;
    uint32_t flags = has_ac ? WORLD_AC_PRIVATE_KEY_USAGE | auth_flags(op->auth) : 0;
    unsigned char blob[KCS_BLOB_MAX];
    size_t bl = 0;
    if (world_se_key_plant(w, has_ac, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY, flags, blob,
                           sizeof blob, &bl) != 0)
        return kcs_fail(run, st->line, "plant: the world refused to create the SE key");
    world_se_key_view sk;
    if (!world_se_key_for_blob(w, blob, bl, &sk)) {
        OPENSSL_cleanse(blob, sizeof blob);
        return kcs_fail(run, st->line, "plant: the planted SE key cannot be found");
    }

    /* The handle (wrapped or plaintext) and the wrapping-key item. */
    unsigned char key[REF_EHW1_KEY_LEN], nonce[REF_EHW1_NONCE_LEN];
    unsigned char sealed[KCS_BLOB_MAX + REF_EHW1_OVERHEAD];
    size_t sl = 0;
    int rc = 0;
    if (op->plaintext) {
        memcpy(sealed, blob, bl);
        sl = bl;
    } else {
        world_random_bytes(w, key, sizeof key);
        world_random_bytes(w, nonce, sizeof nonce);
        if (ref_ehw1_seal(key, nonce, blob, bl, sealed, sizeof sealed, &sl) != REF_EHW1_OK)
            rc = kcs_fail(run, st->line, "plant: EHW1 seal failed");
        if (rc == 0) {
            world_item_view it;
            memset(&it, 0, sizeof it);
            it.keychain = dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE;
            it.service = p->service;
            it.account = label;
            it.access_group = dp ? p->cfg.access_group : NULL;
            it.accessible = op->accessible;
            it.has_access_control = op->plant_presence;
            it.ac_flags = op->plant_presence ? WORLD_AC_USER_PRESENCE : 0;
            it.data = key;
            it.data_len = sizeof key;
            it.creator = dp ? NULL : world_process_identity(w, p->pid);
            it.writes = 0;
            if (world_item_plant(w, &it) != 0)
                rc = kcs_fail(run, st->line, "plant: the world refused the wrapping-key item");
        }
        OPENSSL_cleanse(key, sizeof key);
        OPENSSL_cleanse(nonce, sizeof nonce);
    }
    OPENSSL_cleanse(blob, sizeof blob);

    /* The files; the handle last, as a release writes it. */
    if (rc == 0) {
        ref_meta meta = {op->auth, REF_PRESENCE_NONE, !op->plaintext && op->plant_presence};
        char mtext[REF_META_MAX];
        size_t ml = ref_meta_format(&meta, mtext, sizeof mtext);
        if (ml == 0 || world_file_put(w, mpath, mtext, ml) != 0 ||
            world_file_put(w, ppath, sk.public_key, sizeof sk.public_key) != 0 ||
            world_file_put(w, hpath, sealed, sl) != 0)
            rc = kcs_fail(run, st->line, "plant: the world refused a key file");
    }
    OPENSSL_cleanse(sealed, sizeof sealed);
    return rc;
}

/* ---- Operations --------------------------------------------------------------------------- */

static void note(kcs_run *run, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void note(kcs_run *run, const char *fmt, ...) {
    char buf[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    world_journal_note(run->w, "%s", buf);
}

static bool any_class_key_lost(const kcs_run *run) {
    for (int c = 0; c < WORLD_CLASS_COUNT; c++)
        if (run->class_lost[c] || run->class_destroyed[c])
            return true;
    return false;
}

/* The public key to verify a signature of (proc, label) with. */
static bool public_key_of(kcs_run *run, const kcs_proc *p, const char *label,
                          unsigned char out[65]) {
    world_se_key_view k;
    const char *why = NULL;
    if (kcs_se_key_of(run, p, label, &k, &why) == 0) {
        memcpy(out, k.public_key, 65);
        return true;
    }
    size_t len = 0;
    const unsigned char *pub = kcs_key_file(run, p, label, ".pub", &len);
    if (pub == NULL || len != 65)
        return false;
    memcpy(out, pub, 65);
    return true;
}

static const char *outcome_text(kcs_outcome_kind k, ref_error e) {
    switch (k) {
    case KCS_OUT_SUCCESS:
        return "success";
    case KCS_OUT_ANY:
        return "any";
    case KCS_OUT_CRASHED:
        return "crashed";
    case KCS_OUT_ERROR:
        return ref_error_name(e);
    }
    return "?";
}

static bool outcome_holds(const kcs_op *op, bool crashed, ref_error err) {
    switch (op->outcome) {
    case KCS_OUT_SUCCESS:
        return !crashed && err == REF_OK;
    case KCS_OUT_ANY:
        return true;
    case KCS_OUT_CRASHED:
        return crashed;
    case KCS_OUT_ERROR:
        return !crashed && err == op->error;
    }
    return false;
}

/* Runs one operation. Step failures are recorded at once (return 1); an
 * outcome or signature mismatch goes to `pending`, reported after the
 * invariants. */
/* The public key the SE key of a signature made inside a parallel block: the
 * key the process's SESign used (other processes may have re-created the
 * label since, so the label's current key proves nothing). */
static bool signing_key_of(kcs_run *run, const kcs_proc *p, unsigned char out[65]) {
    world_se_key_view k;
    if (p->par.sign_key == 0 || !world_se_key_at(run->w, (size_t)(p->par.sign_key - 1), &k))
        return false;
    memcpy(out, k.public_key, 65);
    return true;
}

/* Inside a parallel block a public key must be one of the Secure Enclave's
 * keys (the label may name another key by the end of the operation). */
static bool is_some_se_key(kcs_run *run, const uint8_t pub[65]) {
    size_t n = world_se_key_count(run->w);
    for (size_t i = 0; i < n; i++) {
        world_se_key_view k;
        if (world_se_key_at(run->w, i, &k) && memcmp(k.public_key, pub, 65) == 0)
            return true;
    }
    return false;
}

int kcs_exec_op(kcs_run *run, const kcs_stmt *st, char *pending, size_t pending_cap) {
    const kcs_op *op = &st->u.op;
    kcs_proc *p = &run->procs[op->proc];
    const char *pname = p->decl->name;
    ref_error err = REF_OK;
    bool crashed = false;
    char message[1100] = "";
    note(run, "line %d: %s", st->line, st->text);

    if (op->kind == KCS_OP_RESTART || op->kind == KCS_OP_REBUILD) {
        if (op->kind == KCS_OP_RESTART)
            world_process_restart(run->w, p->pid);
        else
            world_process_rebuild(run->w, p->pid);
        if (sync_processes(run, st->line) != 0)
            return 1;
    } else if (p->core == NULL) {
        crashed = true; /* a dead process does not run */
        snprintf(message, sizeof message, "process '%s' crashed at line %d and was not restarted",
                 pname, p->crash_line);
    } else if (op->kind == KCS_OP_PLANT) {
        if (exec_plant(run, st, p) != 0)
            return 1;
    } else {
        ref_core *core = p->core;
        kcs_op_ctx *opc = run->in_parallel ? &p->par.op : &run->op;
        opc->ran = true;
        opc->proc = op->proc;
        opc->kind = op->kind;
        opc->label = op->label;
        opc->presence = kcs_key_needs_presence(run, p, op->label);
        opc->class_key_lost = any_class_key_lost(run);
        p->cur_op = st;
        world_set_current(run->w, p->pid);
        CFDataRef sig = NULL;
        char msg[128];
        int mlen = snprintf(msg, sizeof msg, "keyclass:%s:%d", run->sc->name, st->line);
        size_t msg_len = mlen > 0 && (size_t)mlen < sizeof msg ? (size_t)mlen : strlen(msg);
        uint8_t pub[65];
        switch (op->kind) {
        case KCS_OP_GENERATE:
            err = ref_core_generate(core, op->label, op->auth, op->presence);
            break;
        case KCS_OP_SIGN:
            err = ref_core_sign(core, op->label, msg, msg_len, op->presence, op->ttl_ms, &sig);
            break;
        case KCS_OP_LOAD:
            err = ref_core_load(core, op->label);
            break;
        case KCS_OP_PUBKEY:
            err = ref_core_pubkey(core, op->label, pub);
            break;
        case KCS_OP_RENAME:
            err = ref_core_rename(core, op->label, op->label2);
            break;
        case KCS_OP_DELETE:
            err = ref_core_delete(core, op->label);
            break;
        case KCS_OP_EVICT:
            ref_core_evict_wrapping_key_cache(core, op->label);
            break;
        default:
            break;
        }
        world_set_current(run->w, -1);
        crashed = world_process_crashed(run->w, p->pid);
        p->cur_op = NULL;
        opc->err = err;
        opc->code = ref_core_last_bridge_code(core);
        opc->crashed = crashed;
        if (err != REF_OK)
            snprintf(message, sizeof message, "%s", ref_core_last_message(core));

        /* A signature is always verified; a public key must be the SE key's. */
        if (sig != NULL) {
            unsigned char key[65];
            bool have = run->in_parallel ? signing_key_of(run, p, key)
                                         : public_key_of(run, p, op->label, key);
            if (!have)
                snprintf(pending, pending_cap,
                         "%s: sign %s: cannot find the key's public key to verify the signature",
                         pname, op->label);
            else if (!world_verify_signature(key, (const unsigned char *)msg, msg_len,
                                             CFDataGetBytePtr(sig), (size_t)CFDataGetLength(sig)))
                snprintf(pending, pending_cap,
                         "%s: sign %s: the signature does not verify against the key's public key",
                         pname, op->label);
            CFRelease(sig);
        } else if (op->kind == KCS_OP_SIGN && err == REF_OK && !crashed) {
            snprintf(pending, pending_cap, "%s: sign %s: succeeded without a signature", pname,
                     op->label);
        }
        if (op->kind == KCS_OP_PUBKEY && err == REF_OK && run->in_parallel) {
            if (!is_some_se_key(run, pub))
                snprintf(pending, pending_cap,
                         "%s: pubkey %s: returned a key that is no Secure Enclave key's", pname,
                         op->label);
        } else if (op->kind == KCS_OP_PUBKEY && err == REF_OK) {
            world_se_key_view k;
            const char *why = NULL;
            if (kcs_se_key_of(run, p, op->label, &k, &why) == 0 &&
                memcmp(k.public_key, pub, 65) != 0)
                snprintf(pending, pending_cap,
                         "%s: pubkey %s: returned a key that is not the Secure Enclave key's",
                         pname, op->label);
        }
        if (crashed) {
            p->crash_line = st->line;
            core_drop(p);
        }
    }

    const char *got = crashed ? "crashed" : ref_error_name(err);
    note(run, "line %d: => %s", st->line, got != NULL ? got : "?");
    if (pending[0] == '\0' && !outcome_holds(op, crashed, err)) {
        const char *label = op->label != NULL ? op->label : "";
        snprintf(pending, pending_cap, "%s: %s%s%s: expected %s, got %s%s%s%s", pname,
                 kcs_op_name(op->kind), label[0] ? " " : "", label,
                 outcome_text(op->outcome, op->error), got != NULL ? got : "?",
                 message[0] ? " (" : "", message, message[0] ? ")" : "");
    }
    return 0;
}

/* ---- Statements ----------------------------------------------------------------------------- */

static int exec_stmt(kcs_run *run, const kcs_stmt *st, char *pending, size_t pending_cap) {
    world *w = run->w;
    switch (st->kind) {
    case KCS_ST_KNOB:
        world_set_knob(w, st->u.knob.knob, st->u.knob.value);
        return 0;
    case KCS_ST_DEVICE:
        return exec_device(run, st);
    case KCS_ST_CLOCK:
        if (st->u.clock.ms > KCS_CLOCK_HORIZON_MS - world_now_ms(w))
            return kcs_fail(run, st->line, "%s: the world clock would pass its horizon (%lld ms)",
                            st->text, (long long)KCS_CLOCK_HORIZON_MS);
        world_advance(w, st->u.clock.ms);
        return 0;
    case KCS_ST_KEYCHAIN:
        return exec_keychain(run, st);
    case KCS_ST_USER:
        if (st->u.user.is_default)
            world_user_set_default(w, st->u.user.answer);
        else
            world_user_queue(w, st->u.user.answer, st->u.user.times);
        return 0;
    case KCS_ST_PROCESS:
        return exec_process(run, st);
    case KCS_ST_FAULT:
        return exec_fault(run, st);
    case KCS_ST_FAULT_CLASS:
        if (st->u.class_fault.destroy) {
            world_fault_destroy_class_key(w, st->u.class_fault.cls);
            run->class_destroyed[st->u.class_fault.cls] = true;
        } else {
            world_fault_lose_class_key(w, st->u.class_fault.cls);
            run->class_lost[st->u.class_fault.cls] = true;
        }
        return 0;
    case KCS_ST_FAULT_CRASH:
        world_fault_crash(w, run->procs[st->u.crash.proc].pid, st->u.crash.api, st->u.crash.nth);
        return 0;
    case KCS_ST_OP:
        return kcs_exec_op(run, st, pending, pending_cap);
    case KCS_ST_SWEEP:
        return kcs_exec_sweep(run, st, pending, pending_cap);
    case KCS_ST_PARALLEL:
        return kcs_exec_parallel(run, st, pending, pending_cap);
    default:
        return kcs_expect(run, st);
    }
}

/* ---- Results -------------------------------------------------------------------------------- */

static char *dup_text(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (c == NULL)
        return NULL;
    if (n > 0)
        memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

/* The last `lines` lines of the journal. */
static char *journal_tail(const world *w, size_t lines) {
    const char *j = world_journal(w);
    size_t n = world_journal_length(w);
    size_t start = n, seen = 0;
    while (start > 0) {
        if (j[start - 1] == '\n' && start != n && ++seen == lines)
            break;
        start--;
    }
    return dup_text(j + start, n - start);
}

void kcs_result_free(kcs_result *result) {
    if (result == NULL)
        return;
    free(result->failure);
    free(result->journal);
    free(result->schedule);
    result->failure = NULL;
    result->journal = NULL;
    result->schedule = NULL;
}

static void run_free(kcs_run *run) {
    if (run->procs != NULL)
        for (size_t i = 0; i < run->sc->nprocs; i++) {
            core_drop(&run->procs[i]);
            kcs_par_forget(&run->procs[i]);
        }
    kcs_inv_free(run);
    free(run->procs);
    run->procs = NULL;
    world_free(run->w);
    run->w = NULL;
}

const kcs_scenario *kcs_run_begin_result(const kcs_file *file, size_t index, kcs_result *result) {
    if (result == NULL)
        return NULL;
    memset(result, 0, sizeof *result);
    return kcs_file_scenario(file, index);
}

int kcs_run_init(kcs_run *run, const kcs_file *file, size_t index, const kcs_run_options *options,
                 kcs_result *result) {
    memset(run, 0, sizeof *run);
    const kcs_scenario *sc = kcs_run_begin_result(file, index, result);
    if (sc == NULL)
        return -1;
    run->file = file;
    run->sc = sc;
    run->path = kcs_file_path(file);
    run->result = result;
    if (options != NULL) {
        run->opt = *options;
    } else {
        run->opt.seed = 1;
        run->opt.mutants = REF_MUTANTS_NONE;
        run->opt.trace = false;
    }
    run->previous = world_active();
    run->w = world_new(run->opt.seed);
    run->procs = calloc(sc->nprocs > 0 ? sc->nprocs : 1, sizeof *run->procs);
    if (run->w == NULL || run->procs == NULL) {
        free(run->procs);
        run->procs = NULL;
        world_free(run->w);
        run->w = NULL;
        return -1;
    }
    for (size_t i = 0; i < sc->nprocs; i++) {
        run->procs[i].run = run;
        run->procs[i].index = (int)i;
        run->procs[i].decl = &sc->procs[i];
        run->procs[i].pid = -1;
    }
    world_activate(run->w);
    return 0;
}

static int run_stmt(kcs_run *run, const kcs_stmt *st);

int kcs_run_step(kcs_run *run, size_t index) {
    if (index >= run->sc->nstmts)
        return -1;
    return run_stmt(run, &run->sc->stmts[index]);
}

int kcs_run_extra_step(kcs_run *run, const kcs_stmt *st) { return run_stmt(run, st); }

static int run_stmt(kcs_run *run, const kcs_stmt *st) {
    char pending[PENDING_MAX];
    run->pending_line = 0;
    run->step = st;
    memset(&run->op, 0, sizeof run->op);
    pending[0] = '\0';
    run->result->steps++;
    if (kcs_inv_step_begin(run) != 0)
        return -1;
    kcs_statecov_step_begin(run, st); /* state-machine coverage (kcs_statecov.c) */
    int rc = exec_stmt(run, st, pending, sizeof pending);
    kcs_statecov_step_end(run, st); /* state-machine coverage (kcs_statecov.c) */
    if (rc == 0)
        rc = kcs_inv_step_end(run);
    if (rc == 0 && pending[0] != '\0')
        rc = kcs_fail(run, run->pending_line > 0 ? run->pending_line : st->line, "%s", pending);
    if (run->oom)
        rc = -1;
    return rc;
}

int kcs_run_finish(kcs_run *run, int rc) {
    kcs_result *result = run->result;
    if (run->oom)
        rc = -1;
    if (rc >= 0 && run->w != NULL) {
        result->verdict = run->failed ? KCS_FAIL : KCS_PASS;
        result->invariant = run->failed ? run->invariant : NULL;
        result->failure =
            dup_text(run->failed ? run->failure : "", run->failed ? strlen(run->failure) : 0);
        if (run->opt.trace)
            result->journal = dup_text(world_journal(run->w), world_journal_length(run->w));
        else if (run->failed)
            result->journal = journal_tail(run->w, JOURNAL_TAIL_LINES);
        else
            result->journal = dup_text("", 0);
        result->prompts = world_prompts_total(run->w);
        result->calls = world_calls_total(run->w);
        if (result->failure == NULL || result->journal == NULL)
            rc = -1;
    }
    run_free(run);
    world_activate(run->previous);
    if (rc < 0) {
        kcs_result_free(result);
        return -1;
    }
    return 0;
}

int kcs_run_scenario(const kcs_file *file, size_t index, const kcs_run_options *options,
                     kcs_result *result) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    if (sc != NULL && (sc->has_parallel || sc->has_sweep))
        return kcs_explore_scenario(file, index, options, NULL, result);
    return kcs_run_plain(file, index, options, result);
}

int kcs_run_plain(const kcs_file *file, size_t index, const kcs_run_options *options,
                  kcs_result *result) {
    kcs_run run;
    if (kcs_run_init(&run, file, index, options, result) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < run.sc->nstmts && rc == 0; i++)
        rc = kcs_run_step(&run, i);
    return kcs_run_finish(&run, rc);
}
