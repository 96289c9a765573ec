/* Crash-point sweep (issue 6; domain.md §7 D1, D2): generate, rename, delete
 * and the migration path, crashed after each of their hooked calls in turn.
 *
 * For each operation and keychain configuration the operation first runs
 * cleanly in a fresh world, counting its hooked calls per API (every Apple
 * call and every kc_file_* call goes through the world's hook). Then, for
 * every crash point (API x nth), the world is built again from the same seed,
 * world_fault_crash kills the process right after that call, the core is freed
 * and the process restarted with a new core, and:
 *
 *  D1  the key is either fully usable (load and sign succeed, with the
 *      original key where there was one; for rename under exactly one of the
 *      two labels) or cleanly absent (no handle file; load and sign say
 *      key_not_found). A new generate of every label involved then succeeds
 *      (after a delete of the surviving key), and a final delete leaves no
 *      file of those labels and no wrapping-key item. Run twice per crash
 *      point: "retry" deletes first (an interrupted delete is retried), the
 *      "generate-first" variant generates over whatever was left.
 *  D2  with every keychain read, add and update answering
 *      errSecInteractionNotAllowed (a transient error; deletes are not faulted,
 *      so a wrongful one would take effect), no operation on the labels (load,
 *      sign, pubkey, generate, rename both ways, delete) removes or changes any
 *      file or item.
 *
 * SE keys: an interrupted delete retried frees its SE key, a rename or a
 * migration never orphans one; a generate interrupted between SEGenerate and
 * its commit leaves one behind that nothing can name (counted and bounded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <CoreFoundation/CoreFoundation.h>
#include <keyclass/cf_accounting.h>
#include <keyclass/world.h>

#include "../../mocks/tests/cf_test_support.h"
#include "ref/core.h"
#include "ref/ehw1.h"
#include "ref/errmap.h"

#define GROUP "TEAM.com.example.sshenc"
#define MSG "ssh-userauth challenge"
#define SEED 4242

typedef enum { OP_GENERATE, OP_RENAME, OP_DELETE, OP_MIGRATE, OP_COUNT } sweep_op;

static const char *const op_names[OP_COUNT] = {"generate", "rename", "delete", "load-migrate"};

typedef struct {
    const char *name;
    bool is_signed;
    const char *group;
    bool wrap_presence;
    ref_auth auth;
} sweep_cfg;

static const sweep_cfg cfgs[] = {
    {"dp", true, GROUP, false, REF_AUTH_NONE},
    {"dp-presence", true, GROUP, true, REF_AUTH_ANY},
    {"file-signed", true, NULL, false, REF_AUTH_NONE},
    {"unsigned-with-group", false, GROUP, true, REF_AUTH_NONE},
};
#define NCFGS (sizeof cfgs / sizeof cfgs[0])

typedef enum { CHECK_RETRY, CHECK_GENERATE_FIRST, CHECK_D2 } check_mode;

/* One replay's world, process and core. */
typedef struct {
    world *w;
    world_pid pid;
    ref_core *core;
    ref_config cfg;
    const sweep_cfg *sc;
    uint8_t original_pub[65]; /* the key before the operation (rename, delete, migrate) */
    bool has_original;
} run_t;

/* Totals, printed at the end. */
static unsigned points[OP_COUNT];
static unsigned usable_after[OP_COUNT], absent_after[OP_COUNT];
static unsigned se_leaks[OP_COUNT];

static int teardown(void **state) {
    (void)state;
    world_activate(NULL);
    cf_assert_no_leaks_or_misuse();
    return 0;
}

/* ---- World and core -------------------------------------------------------------- */

static void new_core(run_t *r) {
    r->core = ref_core_new(&r->cfg);
    assert_non_null(r->core);
}

static void restart(run_t *r) {
    ref_core_free(r->core);
    world_process_restart(r->w, r->pid);
    world_set_current(r->w, r->pid);
    new_core(r);
}

/* An older release's key for the migration path: SE key, wrapped handle,
 * .pub, .meta, and a WhenUnlockedThisDeviceOnly item without access control. */
static void plant_old_class_key(run_t *r, const char *label) {
    unsigned char blob[512];
    size_t bl = 0;
    assert_int_equal(world_se_key_plant(r->w, false,
                                        WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY, 0, blob,
                                        sizeof blob, &bl),
                     0);
    world_se_key_view sk;
    assert_true(world_se_key_for_blob(r->w, blob, bl, &sk));
    unsigned char key[32], nonce[12], sealed[600];
    world_random_bytes(r->w, key, sizeof key);
    world_random_bytes(r->w, nonce, sizeof nonce);
    size_t sl = 0;
    assert_int_equal(ref_ehw1_seal(key, nonce, blob, bl, sealed, sizeof sealed, &sl), REF_EHW1_OK);
    char path[512], meta[REF_META_MAX];
    ref_meta m = {REF_AUTH_NONE, REF_PRESENCE_NONE, false};
    size_t ml = ref_meta_format(&m, meta, sizeof meta);
    ref_config_key_path(&r->cfg, label, ".handle", path, sizeof path);
    assert_int_equal(world_file_put(r->w, path, sealed, sl), 0);
    ref_config_key_path(&r->cfg, label, ".pub", path, sizeof path);
    assert_int_equal(world_file_put(r->w, path, sk.public_key, 65), 0);
    ref_config_key_path(&r->cfg, label, ".meta", path, sizeof path);
    assert_int_equal(world_file_put(r->w, path, meta, ml), 0);
    world_item_view it;
    memset(&it, 0, sizeof it);
    /* Where this configuration's store puts items: DP only for an entitled build. */
    bool dp = r->sc->group != NULL && r->sc->is_signed;
    it.keychain = dp ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE;
    it.service = ref_core_service(r->core);
    it.account = label;
    it.access_group = dp ? r->sc->group : NULL;
    it.accessible = WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY;
    it.data = key;
    it.data_len = 32;
    it.creator = world_process_identity(r->w, r->pid);
    assert_int_equal(world_item_plant(r->w, &it), 0);
}

static void pub_of(const run_t *r, const char *label, uint8_t out[65], bool *has) {
    char path[512];
    ref_config_key_path(&r->cfg, label, ".pub", path, sizeof path);
    size_t len = 0;
    const unsigned char *p = world_file_get(r->w, path, &len);
    *has = p != NULL && len == 65;
    if (*has)
        memcpy(out, p, 65);
}

/* A fresh world with the operation's starting state and a core. */
static void start(run_t *r, const sweep_cfg *sc, sweep_op op) {
    memset(r, 0, sizeof *r);
    r->sc = sc;
    r->w = world_new(SEED);
    assert_non_null(r->w);
    world_activate(r->w);
    assert_int_equal(world_device_boot(r->w), 0);
    assert_int_equal(world_device_unlock(r->w), 0);
    world_process_config pc = {.name = "agent",
                               .app = "sshenc",
                               .is_signed = sc->is_signed,
                               .access_group = sc->group,
                               .gui = true,
                               .home_override = false};
    r->pid = world_process_add(r->w, &pc);
    assert_true(r->pid >= 0);
    world_set_current(r->w, r->pid);
    ref_config_init(&r->cfg);
    r->cfg.is_signed = sc->is_signed;
    r->cfg.access_group = sc->group;
    r->cfg.wrap_presence = sc->wrap_presence;
    new_core(r);
    switch (op) {
    case OP_GENERATE:
        break;
    case OP_RENAME:
    case OP_DELETE:
        assert_int_equal(ref_core_generate(r->core, "k1", sc->auth, REF_PRESENCE_NONE), REF_OK);
        break;
    case OP_MIGRATE:
        plant_old_class_key(r, "k1");
        break;
    case OP_COUNT:
        break;
    }
    if (op != OP_GENERATE)
        pub_of(r, "k1", r->original_pub, &r->has_original);
    /* The operation starts in a fresh process: nothing cached. */
    restart(r);
}

static ref_error run_op(run_t *r, sweep_op op) {
    switch (op) {
    case OP_GENERATE:
        return ref_core_generate(r->core, "k1", r->sc->auth, REF_PRESENCE_NONE);
    case OP_RENAME:
        return ref_core_rename(r->core, "k1", "k2");
    case OP_DELETE:
        return ref_core_delete(r->core, "k1");
    case OP_MIGRATE:
        return ref_core_load(r->core, "k1");
    case OP_COUNT:
        break;
    }
    return REF_ERR_KEY_OPERATION;
}

static void finish(run_t *r) {
    ref_core_free(r->core);
    r->core = NULL;
    world_free(r->w);
    r->w = NULL;
    world_activate(NULL);
}

/* ---- Inspection ------------------------------------------------------------------ */

static bool file_exists(const run_t *r, const char *label, const char *ext) {
    char path[512];
    ref_config_key_path(&r->cfg, label, ext, path, sizeof path);
    return world_file_exists(r->w, path);
}

/* Any file "<key dir><label>.<anything>". */
static bool any_file_of(const run_t *r, const char *label, char *which, size_t cap) {
    char prefix[512];
    ref_config_key_path(&r->cfg, label, ".", prefix, sizeof prefix);
    for (size_t i = 0; i < world_file_count(r->w); i++) {
        const char *p = world_file_path_at(r->w, i);
        if (p != NULL && strncmp(p, prefix, strlen(prefix)) == 0) {
            snprintf(which, cap, "%s", p);
            return true;
        }
    }
    return false;
}

static bool any_item_of(const run_t *r, const char *label) {
    world_item_view v;
    const char *svc = ref_core_service(r->core);
    return world_item_find(r->w, WORLD_KEYCHAIN_DP, svc, label, r->sc->group, &v) ||
           world_item_find(r->w, WORLD_KEYCHAIN_FILE, svc, label, NULL, &v);
}

static size_t live_se_keys(const run_t *r) {
    size_t n = 0;
    for (size_t i = 0; i < world_se_key_count(r->w); i++) {
        world_se_key_view v;
        assert_true(world_se_key_at(r->w, i, &v));
        if (!v.deleted)
            n++;
    }
    return n;
}

/* Load and sign through the core; the signature verifies against the SE key's
 * public key, which is the original key's where there was one. */
static ref_error usable_via_core(run_t *r, const char *label, bool check_original) {
    ref_error err = ref_core_load(r->core, label);
    if (err != REF_OK)
        return err;
    CFDataRef sig = NULL;
    err = ref_core_sign(r->core, label, MSG, strlen(MSG), REF_PRESENCE_NONE, REF_TTL_DEFAULT, &sig);
    if (err != REF_OK) {
        assert_null(sig);
        return err;
    }
    uint8_t pub[65];
    assert_int_equal(ref_core_pubkey(r->core, label, pub), REF_OK);
    bool ok = world_verify_signature(pub, (const unsigned char *)MSG, strlen(MSG),
                                     CFDataGetBytePtr(sig), (size_t)CFDataGetLength(sig));
    CFRelease(sig);
    assert_true(ok);
    if (check_original && r->has_original)
        assert_memory_equal(pub, r->original_pub, 65);
    return REF_OK;
}

/* ---- D2 snapshot ------------------------------------------------------------------ */

typedef struct {
    char path[256];
    unsigned char data[1024];
    size_t len;
} file_snap;

typedef struct {
    world_keychain kc;
    char account[80];
    char group[80];
    bool has_group;
    unsigned char data[64];
    size_t len;
} item_snap;

typedef struct {
    file_snap files[32];
    size_t nfiles;
    item_snap items[16];
    size_t nitems;
} world_snap;

static void take_snap(const run_t *r, world_snap *s) {
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < world_file_count(r->w); i++) {
        assert_true(s->nfiles < 32);
        file_snap *f = &s->files[s->nfiles++];
        snprintf(f->path, sizeof f->path, "%s", world_file_path_at(r->w, i));
        const unsigned char *d = world_file_get(r->w, f->path, &f->len);
        assert_non_null(d);
        assert_true(f->len <= sizeof f->data);
        memcpy(f->data, d, f->len);
    }
    for (size_t i = 0; i < world_item_count(r->w); i++) {
        world_item_view v;
        assert_true(world_item_at(r->w, i, &v));
        assert_true(s->nitems < 16);
        item_snap *it = &s->items[s->nitems++];
        it->kc = v.keychain;
        snprintf(it->account, sizeof it->account, "%s", v.account);
        it->has_group = v.access_group != NULL;
        snprintf(it->group, sizeof it->group, "%s", v.access_group ? v.access_group : "");
        assert_true(v.data_len <= sizeof it->data);
        memcpy(it->data, v.data, v.data_len);
        it->len = v.data_len;
    }
}

static void check_nothing_removed(const run_t *r, const world_snap *s, const char *where) {
    for (size_t i = 0; i < s->nfiles; i++) {
        size_t len = 0;
        const unsigned char *d = world_file_get(r->w, s->files[i].path, &len);
        if (d == NULL || len != s->files[i].len || memcmp(d, s->files[i].data, len) != 0)
            fail_msg("D2 (%s): the file %s was %s under transient errors", where, s->files[i].path,
                     d == NULL ? "removed" : "changed");
    }
    for (size_t i = 0; i < s->nitems; i++) {
        world_item_view v;
        const item_snap *it = &s->items[i];
        if (!world_item_find(r->w, it->kc, ref_core_service(r->core), it->account,
                             it->has_group ? it->group : NULL, &v) ||
            v.data_len != it->len || memcmp(v.data, it->data, it->len) != 0)
            fail_msg("D2 (%s): the item %s was removed or changed under transient errors", where,
                     it->account);
    }
}

/* ---- One crash point ---------------------------------------------------------------- */

static void check_after_crash(run_t *r, sweep_op op, check_mode mode, const char *where) {
    const char *labels[2] = {"k1", "k2"};
    size_t nlabels = op == OP_RENAME ? 2 : 1;

    if (mode == CHECK_D2) {
        /* Reads, adds and updates answer -25308; deletes are left alone, so
         * that a delete attempted after a transient error takes effect and
         * shows. */
        static const world_api apis[] = {WORLD_API_SEC_ITEM_ADD, WORLD_API_SEC_ITEM_COPY_MATCHING,
                                         WORLD_API_SEC_ITEM_UPDATE};
        for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++) {
            world_fault f = {
                .api = apis[i], .status = -25308, .nth = 1, .times = 0, .proc = -1, .match = NULL};
            world_fault_add(r->w, &f);
        }
        world_snap before;
        take_snap(r, &before);
        for (size_t i = 0; i < nlabels; i++) {
            CFDataRef sig = NULL;
            uint8_t pub[65];
            (void)ref_core_load(r->core, labels[i]);
            (void)ref_core_sign(r->core, labels[i], MSG, strlen(MSG), REF_PRESENCE_NONE,
                                REF_TTL_DEFAULT, &sig);
            if (sig != NULL)
                CFRelease(sig);
            (void)ref_core_pubkey(r->core, labels[i], pub);
            (void)ref_core_delete(r->core, labels[i]);
            (void)ref_core_generate(r->core, labels[i], r->sc->auth, REF_PRESENCE_NONE);
            check_nothing_removed(r, &before, where);
        }
        (void)ref_core_rename(r->core, "k1", "k2");
        (void)ref_core_rename(r->core, "k2", "k1");
        check_nothing_removed(r, &before, where);
        return;
    }

    /* D1: usable or cleanly absent; for rename exactly one of the two labels. */
    bool usable[2] = {false, false};
    size_t nusable = 0;
    for (size_t i = 0; i < nlabels; i++) {
        ref_error err = usable_via_core(r, labels[i], op != OP_GENERATE);
        if (err == REF_OK) {
            usable[i] = true;
            nusable++;
            continue;
        }
        if (err != REF_ERR_KEY_NOT_FOUND || file_exists(r, labels[i], ".handle"))
            fail_msg("D1 (%s): '%s' is neither usable nor cleanly absent: %s (%s)", where,
                     labels[i], ref_error_name(err), ref_core_last_message(r->core));
        CFDataRef sig = NULL;
        assert_int_equal(ref_core_sign(r->core, labels[i], MSG, strlen(MSG), REF_PRESENCE_NONE,
                                       REF_TTL_DEFAULT, &sig),
                         REF_ERR_KEY_NOT_FOUND);
        assert_null(sig);
    }
    if ((op == OP_RENAME || op == OP_MIGRATE) && nusable != 1)
        fail_msg("D1 (%s): %zu of the labels are usable, expected exactly one", where, nusable);
    if (nusable > 0)
        usable_after[op]++;
    else
        absent_after[op]++;

    /* The labels can be used again: delete the survivor (or retry the delete),
     * then generate every label. */
    for (size_t i = 0; i < nlabels; i++) {
        if (usable[i]) {
            if (ref_core_delete(r->core, labels[i]) != REF_OK)
                fail_msg("(%s): delete of the surviving '%s' failed: %s", where, labels[i],
                         ref_core_last_message(r->core));
        } else if (mode == CHECK_RETRY) {
            ref_error err = ref_core_delete(r->core, labels[i]);
            if (err != REF_OK && err != REF_ERR_KEY_NOT_FOUND)
                fail_msg("(%s): retried delete of '%s' failed: %s", where, labels[i],
                         ref_core_last_message(r->core));
        }
    }
    size_t se_before = live_se_keys(r);
    if (mode == CHECK_RETRY && op != OP_GENERATE && se_before != 0)
        fail_msg("(%s): %zu SE key(s) orphaned after the retry", where, se_before);
    for (size_t i = 0; i < nlabels; i++) {
        if (ref_core_generate(r->core, labels[i], r->sc->auth, REF_PRESENCE_NONE) != REF_OK)
            fail_msg("(%s): generate of '%s' after the crash failed: %s", where, labels[i],
                     ref_core_last_message(r->core));
        if (usable_via_core(r, labels[i], false) != REF_OK)
            fail_msg("(%s): the regenerated '%s' is not usable: %s", where, labels[i],
                     ref_core_last_message(r->core));
    }
    for (size_t i = 0; i < nlabels; i++) {
        if (ref_core_delete(r->core, labels[i]) != REF_OK)
            fail_msg("(%s): final delete of '%s' failed: %s", where, labels[i],
                     ref_core_last_message(r->core));
        char which[512];
        if (any_file_of(r, labels[i], which, sizeof which))
            fail_msg("(%s): %s is left after the final delete", where, which);
        if (any_item_of(r, labels[i]))
            fail_msg("(%s): an item for '%s' is left after the final delete", where, labels[i]);
    }
    size_t leaked = live_se_keys(r);
    if (mode == CHECK_RETRY)
        se_leaks[op] += (unsigned)leaked;
    /* Only a generate interrupted before its commit can leave an SE key nobody
     * can name (its blob was only in memory); a delete interrupted after its
     * commit and generated over leaves the deleted key's SE key. */
    if (leaked > 1 ||
        (leaked == 1 && op != OP_GENERATE && !(op == OP_DELETE && mode == CHECK_GENERATE_FIRST)))
        fail_msg("(%s): %zu SE key(s) orphaned", where, leaked);
}

static void crash_point(const sweep_cfg *sc, sweep_op op, world_api api, unsigned nth,
                        check_mode mode) {
    char where[160];
    static const char *const mode_names[] = {"retry", "generate-first", "d2"};
    snprintf(where, sizeof where, "%s on %s, crash after %s #%u, %s", op_names[op], sc->name,
             world_api_name(api), nth, mode_names[mode]);
    run_t r;
    start(&r, sc, op);
    world_fault_crash(r.w, r.pid, api, nth);
    (void)run_op(&r, op);
    if (!world_process_crashed(r.w, r.pid))
        fail_msg("(%s): the crash did not fire", where);
    restart(&r);
    check_after_crash(&r, op, mode, where);
    finish(&r);
}

static void sweep(sweep_op op) {
    for (size_t c = 0; c < NCFGS; c++) {
        /* The clean run: its hooked calls per API. */
        run_t r;
        start(&r, &cfgs[c], op);
        uint64_t before[WORLD_API_COUNT];
        for (int a = 0; a < WORLD_API_COUNT; a++)
            before[a] = world_calls_made(r.w, (world_api)a);
        assert_int_equal(run_op(&r, op), REF_OK);
        unsigned counts[WORLD_API_COUNT];
        for (int a = 0; a < WORLD_API_COUNT; a++)
            counts[a] = (unsigned)(world_calls_made(r.w, (world_api)a) - before[a]);
        finish(&r);
        unsigned here = 0;
        for (int a = 0; a < WORLD_API_COUNT; a++) {
            for (unsigned nth = 1; nth <= counts[a]; nth++) {
                crash_point(&cfgs[c], op, (world_api)a, nth, CHECK_RETRY);
                crash_point(&cfgs[c], op, (world_api)a, nth, CHECK_GENERATE_FIRST);
                crash_point(&cfgs[c], op, (world_api)a, nth, CHECK_D2);
                here++;
            }
        }
        points[op] += here;
        print_message("%-13s %-20s %2u crash points\n", op_names[op], cfgs[c].name, here);
    }
    print_message("%-13s total %u crash points: %u left the key usable, %u cleanly absent; "
                  "SE keys orphaned (retry variant): %u\n",
                  op_names[op], points[op], usable_after[op] / 2, absent_after[op] / 2,
                  se_leaks[op]);
    assert_true(points[op] > 0);
}

static void sweep_generate(void **state) {
    (void)state;
    sweep(OP_GENERATE);
}

static void sweep_rename(void **state) {
    (void)state;
    sweep(OP_RENAME);
}

static void sweep_delete(void **state) {
    (void)state;
    sweep(OP_DELETE);
}

static void sweep_load_migrate(void **state) {
    (void)state;
    sweep(OP_MIGRATE);
}

/* ---- The edges of the debris rules ------------------------------------------------- */

/* An item that another key directory's generate tagged is not debris here,
 * even though no handle of this directory names it: duplicate_label, and the
 * other directory's key stays usable. */
static void foreign_tagged_item_stays_a_duplicate(void **state) {
    (void)state;
    run_t r;
    start(&r, &cfgs[0], OP_GENERATE);
    ref_config elsewhere = r.cfg;
    elsewhere.key_dir = "/elsewhere/";
    ref_core *other = ref_core_new(&elsewhere);
    assert_non_null(other);
    assert_int_equal(ref_core_generate(other, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint64_t mutations = world_item_mutations(r.w);
    assert_int_equal(ref_core_generate(r.core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE),
                     REF_ERR_DUPLICATE_LABEL);
    assert_int_equal(world_item_mutations(r.w), mutations);
    assert_int_equal(ref_core_load(other, "k1"), REF_OK);
    ref_core_free(other);
    finish(&r);
}

/* A rename interrupted before its handle moved leaves .pub/.meta under the new
 * label: the key is usable under the old one, the retried rename moves the
 * handle over the leftovers (which are the key's own) and the result is
 * complete. Delete of the new label in between says key_not_found without a
 * keychain call and touches nothing. */
static void rename_retry_over_moved_ahead_files(void **state) {
    (void)state;
    run_t r;
    start(&r, &cfgs[0], OP_RENAME);
    world_fault_crash(r.w, r.pid, WORLD_API_FILE_RENAME, 2);
    (void)run_op(&r, OP_RENAME);
    assert_true(world_process_crashed(r.w, r.pid));
    restart(&r);
    assert_true(file_exists(&r, "k2", ".pub") && file_exists(&r, "k2", ".meta"));
    assert_false(file_exists(&r, "k2", ".handle"));
    uint64_t copies = world_calls_made(r.w, WORLD_API_SEC_ITEM_COPY_MATCHING);
    assert_int_equal(ref_core_delete(r.core, "k2"), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(world_calls_made(r.w, WORLD_API_SEC_ITEM_COPY_MATCHING), copies);
    assert_true(file_exists(&r, "k2", ".pub") && file_exists(&r, "k2", ".meta"));
    assert_int_equal(usable_via_core(&r, "k1", true), REF_OK);
    assert_int_equal(ref_core_rename(r.core, "k1", "k2"), REF_OK);
    char which[512];
    assert_false(any_file_of(&r, "k1", which, sizeof which) || any_item_of(&r, "k1"));
    assert_true(file_exists(&r, "k2", ".handle") && file_exists(&r, "k2", ".pub") &&
                file_exists(&r, "k2", ".meta"));
    assert_int_equal(usable_via_core(&r, "k2", true), REF_OK);
    finish(&r);
}

/* A delete interrupted after its commit: the handle is the tombstone, the key
 * is gone for every operation but delete, which completes the job (SE key
 * included) and reports success. */
static void interrupted_delete_is_completed_by_the_next_delete(void **state) {
    (void)state;
    run_t r;
    start(&r, &cfgs[1], OP_DELETE);
    world_fault_crash(r.w, r.pid, WORLD_API_FILE_RENAME, 1);
    (void)run_op(&r, OP_DELETE);
    assert_true(world_process_crashed(r.w, r.pid));
    restart(&r);
    assert_false(file_exists(&r, "k1", ".handle"));
    assert_true(file_exists(&r, "k1", ".deleted") && any_item_of(&r, "k1"));
    assert_int_equal(live_se_keys(&r), 1);
    assert_int_equal(ref_core_load(r.core, "k1"), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(ref_core_rename(r.core, "k1", "k2"), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(ref_core_delete(r.core, "k1"), REF_OK);
    char which[512];
    assert_false(any_file_of(&r, "k1", which, sizeof which) || any_item_of(&r, "k1"));
    assert_int_equal(live_se_keys(&r), 0);
    assert_int_equal(ref_core_delete(r.core, "k1"), REF_ERR_KEY_NOT_FOUND);
    finish(&r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, cf_test_setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(sweep_generate),
        T(sweep_rename),
        T(sweep_delete),
        T(sweep_load_migrate),
        T(foreign_tagged_item_stays_a_duplicate),
        T(rename_retry_over_moved_ahead_files),
        T(interrupted_delete_is_completed_by_the_next_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
