/* The reference core against the simulated world (domain.md §6, §7):
 * lifecycle, cache rules C1-C4, eviction rules L1-L2, migration, store and
 * load fallbacks, rollback with a fault at each Apple call, and one
 * unit-visible difference for every mutant of regressions.md.
 *
 * Each test builds a fresh world (booted, unlocked) and one or more cores;
 * teardown fails on a leaked CF object or a CF misuse. */
#include "core_test_support.h"

#include "ref/ehw1.h"
#include "ref/errmap.h"

#define SVC "com.example.sshenc"
#define MSG "ssh-userauth challenge"

static int setup(void **state) { return core_fx_setup(state, 7); }

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, core_fx_teardown)

static uint64_t calls(world_api api) { return world_calls_made(F.w, api); }

static bool item(const ref_core *core, const char *label, world_keychain kc, world_item_view *v) {
    const ref_config *c = ref_core_config(core);
    return world_item_find(F.w, kc, ref_core_service(core), label,
                           kc == WORLD_KEYCHAIN_DP ? c->access_group : NULL, v);
}

static bool any_item(const ref_core *core, const char *label) {
    world_item_view v;
    return item(core, label, WORLD_KEYCHAIN_DP, &v) || item(core, label, WORLD_KEYCHAIN_FILE, &v);
}

static bool any_file(const ref_core *core, const char *label) {
    return file_of(core, label, ".handle") || file_of(core, label, ".pub") ||
           file_of(core, label, ".meta");
}

/* Signs and verifies against the key's public key. */
static ref_error sign_ok(ref_core *core, const char *label, ref_presence p, int64_t ttl) {
    CFDataRef sig = NULL;
    ref_error err = ref_core_sign(core, label, MSG, strlen(MSG), p, ttl, &sig);
    if (err != REF_OK) {
        assert_null(sig);
        return err;
    }
    assert_non_null(sig);
    uint8_t pub[65];
    ref_core_pubkey(core, label, pub);
    bool ok = world_verify_signature(pub, (const unsigned char *)MSG, strlen(MSG),
                                     CFDataGetBytePtr(sig), (size_t)CFDataGetLength(sig));
    CFRelease(sig);
    assert_true(ok);
    return REF_OK;
}

/* D1: the handle decrypts with the key stored in the keychain (read directly). */
static bool usable(const ref_core *core, const char *label) {
    char path[512];
    ref_config_key_path(ref_core_config(core), label, ".handle", path, sizeof path);
    size_t hl = 0;
    const unsigned char *h = world_file_get(F.w, path, &hl);
    if (h == NULL)
        return false;
    world_item_view v;
    if (!item(core, label, WORLD_KEYCHAIN_DP, &v) && !item(core, label, WORLD_KEYCHAIN_FILE, &v))
        return !ref_ehw1_is_wrapped(h, hl);
    if (v.data_len != 32)
        return false;
    uint8_t out[1024];
    size_t n = 0;
    return hl <= sizeof out && ref_ehw1_open(v.data, h, hl, out, sizeof out, &n) == REF_EHW1_OK;
}

/* An older release's key: SE key, handle, .pub, .meta, wrapping-key item. */
static void plant(const ref_core *core, world_pid owner, const char *label, world_class cls,
                  bool presence, bool wrapped, world_keychain kc) {
    const ref_config *c = ref_core_config(core);
    unsigned char blob[512];
    size_t bl = 0;
    assert_int_equal(world_se_key_plant(F.w, false, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
                                        0, blob, sizeof blob, &bl),
                     0);
    world_se_key_view sk;
    assert_true(world_se_key_for_blob(F.w, blob, bl, &sk));
    unsigned char key[32], nonce[12], sealed[600];
    world_random_bytes(F.w, key, sizeof key);
    world_random_bytes(F.w, nonce, sizeof nonce);
    size_t sl = 0;
    if (wrapped) {
        assert_int_equal(ref_ehw1_seal(key, nonce, blob, bl, sealed, sizeof sealed, &sl),
                         REF_EHW1_OK);
    } else {
        memcpy(sealed, blob, bl);
        sl = bl;
    }
    char path[512], meta[REF_META_MAX];
    ref_meta m = {REF_AUTH_NONE, REF_PRESENCE_NONE, presence};
    size_t ml = ref_meta_format(&m, meta, sizeof meta);
    ref_config_key_path(c, label, ".handle", path, sizeof path);
    assert_int_equal(world_file_put(F.w, path, sealed, sl), 0);
    ref_config_key_path(c, label, ".pub", path, sizeof path);
    assert_int_equal(world_file_put(F.w, path, sk.public_key, 65), 0);
    ref_config_key_path(c, label, ".meta", path, sizeof path);
    assert_int_equal(world_file_put(F.w, path, meta, ml), 0);
    if (!wrapped)
        return;
    world_item_view it;
    memset(&it, 0, sizeof it);
    it.keychain = kc;
    it.service = ref_core_service(core);
    it.account = label;
    it.access_group = kc == WORLD_KEYCHAIN_DP ? c->access_group : NULL;
    it.accessible = cls;
    it.has_access_control = presence;
    it.ac_flags = presence ? WORLD_AC_USER_PRESENCE : 0;
    it.data = key;
    it.data_len = 32;
    it.creator = world_process_identity(F.w, owner);
    assert_int_equal(world_item_plant(F.w, &it), 0);
}

/* ---- Lifecycle ------------------------------------------------------------------- */

static void generate_sign_load_pubkey(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_string_equal(ref_core_service(core), SVC);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_last_bridge_code(core), 0);
    assert_true(file_of(core, "k1", ".handle") && file_of(core, "k1", ".pub") &&
                file_of(core, "k1", ".meta"));
    world_item_view v;
    assert_true(item(core, "k1", WORLD_KEYCHAIN_DP, &v));
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY); /* PC1 */
    assert_false(v.has_access_control);
    assert_true(usable(core, "k1"));
    assert_int_equal(live_se_keys(), 1);
    world_se_key_view sk;
    assert_true(world_se_key_at(F.w, 0, &sk));
    assert_false(sk.has_access_control); /* CryptoKit's default without an auth policy */
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_KEY_DEFAULT, REF_TTL_DEFAULT), REF_OK);
    uint8_t pub[65];
    assert_int_equal(ref_core_pubkey(core, "k1", pub), REF_OK);
    assert_memory_equal(pub, sk.public_key, 65);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_string_equal(ref_core_last_message(core), "");
    assert_int_equal(world_prompts_total(F.w), 0);
    ref_core_free(core);
}

static void auth_policy_se_key_is_when_unlocked(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    world_se_key_view sk;
    assert_true(world_se_key_at(F.w, 0, &sk));
    assert_true(sk.has_access_control);
    assert_int_equal(sk.accessible, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY); /* PC2 */
    assert_true((sk.ac_flags & WORLD_AC_USER_PRESENCE) != 0);
    assert_true((sk.ac_flags & WORLD_AC_PRIVATE_KEY_USAGE) != 0);
    ref_core_free(core);
}

static void generate_refuses_existing_label(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint64_t mut = world_item_mutations(F.w), gen = calls(WORLD_API_SE_GENERATE);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE),
                     REF_ERR_DUPLICATE_LABEL);
    assert_int_equal(world_item_mutations(F.w), mut);
    assert_int_equal(calls(WORLD_API_SE_GENERATE), gen);
    assert_true(usable(core, "k1"));
    assert_non_null(strstr(ref_core_last_message(core), "'k1'"));
    /* A keychain item without files is a duplicate too (an interrupted
     * rename or generate of another process may own it). */
    ref_config elsewhere = cfg_default();
    elsewhere.key_dir = "/elsewhere/";
    ref_core *other = core_with(&elsewhere);
    plant(other, F.agent, "k2", WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY, false, true,
          WORLD_KEYCHAIN_DP);
    assert_false(any_file(core, "k2"));
    assert_int_equal(ref_core_generate(core, "k2", REF_AUTH_NONE, REF_PRESENCE_NONE),
                     REF_ERR_DUPLICATE_LABEL);
    assert_true(usable(other, "k2"));
    ref_core_free(other);
    ref_core_free(core);
}

static void invalid_label_and_missing_key_before_any_keychain_call(void **state) {
    (void)state;
    ref_core *core = agent_core();
    uint64_t total = world_calls_total(F.w);
    const char *bad[] = {"", ".k", "a/b", "k 1", "k\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ref_core_generate(core, bad[i], REF_AUTH_NONE, REF_PRESENCE_NONE),
                         REF_ERR_INVALID_LABEL);
        assert_int_equal(ref_core_load(core, bad[i]), REF_ERR_INVALID_LABEL);
        assert_int_equal(ref_core_delete(core, bad[i]), REF_ERR_INVALID_LABEL);
    }
    assert_int_equal(world_calls_total(F.w), total);
    uint64_t copies = calls(WORLD_API_SEC_ITEM_COPY_MATCHING);
    assert_int_equal(ref_core_load(core, "nokey"), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(ref_core_delete(core, "nokey"), REF_ERR_KEY_NOT_FOUND);
    CFDataRef sig = NULL;
    assert_int_equal(ref_core_sign(core, "nokey", "m", 1, REF_PRESENCE_NONE, 0, &sig),
                     REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(calls(WORLD_API_SEC_ITEM_COPY_MATCHING), copies);
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_NONE);
    assert_non_null(strstr(ref_core_last_message(core), "nokey"));
    ref_core_free(core);
}

static void legacy_plaintext_handle_passes_through(void **state) {
    (void)state;
    ref_core *core = agent_core();
    plant(core, F.agent, "old", WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY, false, false,
          WORLD_KEYCHAIN_DP);
    uint64_t copies = calls(WORLD_API_SEC_ITEM_COPY_MATCHING);
    assert_int_equal(ref_core_load(core, "old"), REF_OK);
    assert_int_equal(sign_ok(core, "old", REF_PRESENCE_NONE, REF_TTL_DEFAULT), REF_OK);
    assert_int_equal(calls(WORLD_API_SEC_ITEM_COPY_MATCHING), copies);
    assert_int_equal(ref_core_delete(core, "old"), REF_OK);
    assert_false(any_file(core, "old"));
    assert_int_equal(live_se_keys(), 0);
    ref_core_free(core);
}

static void rename_moves_files_and_item(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "a", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_load(core, "a"), REF_OK);
    assert_true(ref_core_has_cached_key(core, "a"));
    assert_int_equal(ref_core_rename(core, "a", "b"), REF_OK);
    assert_false(ref_core_has_cached_key(core, "a"));
    assert_false(any_file(core, "a") || any_item(core, "a"));
    assert_true(usable(core, "b"));
    assert_int_equal(sign_ok(core, "b", REF_PRESENCE_NONE, REF_TTL_DEFAULT), REF_OK);
    assert_int_equal(ref_core_generate(core, "c", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_rename(core, "b", "c"), REF_ERR_DUPLICATE_LABEL);
    assert_int_equal(ref_core_rename(core, "zz", "y"), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(ref_core_rename(core, "b", "../x"), REF_ERR_INVALID_LABEL);
    assert_true(usable(core, "b") && usable(core, "c"));
    ref_core_free(core);
}

/* ---- Caches: C1-C4 ---------------------------------------------------------------- */

static void c3_ttl_zero_never_serves(void **state) {
    (void)state;
    ref_config c = cfg_default();
    c.cache_ttl_ms = 0;
    ref_core *core = agent_core_with(&c);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint64_t copies = calls(WORLD_API_SEC_ITEM_COPY_MATCHING);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ref_core_load(core, "k1"), REF_OK);
        assert_false(ref_core_has_cached_key(core, "k1"));
    }
    assert_int_equal(calls(WORLD_API_SEC_ITEM_COPY_MATCHING), copies + 3);
    ref_stats s;
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.cache_hits, 0);
    ref_core_free(core);
}

static void cache_serves_until_ttl_then_expires_without_lacontext(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, 600000), REF_OK);
    assert_true(ref_core_has_cached_key(core, "k1"));
    assert_true(ref_core_has_lacontext(core, "k1"));
    uint64_t copies = calls(WORLD_API_SEC_ITEM_COPY_MATCHING);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(calls(WORLD_API_SEC_ITEM_COPY_MATCHING), copies);
    world_advance(F.w, 299000);
    assert_true(ref_core_has_cached_key(core, "k1"));
    world_advance(F.w, 2000); /* past the 300 s cache TTL */
    assert_false(ref_core_has_cached_key(core, "k1"));
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(calls(WORLD_API_SEC_ITEM_COPY_MATCHING), copies + 1);
    ref_stats s;
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.cache_expiries, 1);
    assert_int_equal(s.la_evictions, 0); /* expiry leaves the LAContext alone */
    ref_core_free(core);
}

static void c4_isolated_by_app_and_label(void **state) {
    (void)state;
    ref_core *a = agent_core();
    world_process_config pc = {.name = "other",
                               .app = "gitenc",
                               .is_signed = true,
                               .access_group = GROUP,
                               .gui = true,
                               .home_override = false};
    world_pid other = world_process_add(F.w, &pc);
    ref_config c = cfg_default();
    c.app = "gitenc";
    ref_core *b = core_with(&c);
    assert_string_equal(ref_core_service(b), "com.example.gitenc");
    world_set_current(F.w, F.agent);
    assert_int_equal(ref_core_generate(a, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_generate(a, "k2", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_load(a, "k1"), REF_OK);
    assert_int_equal(ref_core_load(a, "k2"), REF_OK);
    world_set_current(F.w, other);
    assert_false(ref_core_has_cached_key(b, "k1"));
    assert_int_equal(ref_core_load(b, "k1"), REF_ERR_KEY_NOT_FOUND); /* its own key dir */
    world_set_current(F.w, F.agent);
    ref_core_evict_wrapping_key_cache(a, "k1");
    assert_false(ref_core_has_cached_key(a, "k1"));
    assert_true(ref_core_has_cached_key(a, "k2"));
    ref_core_evict_all(a);
    assert_false(ref_core_has_cached_key(a, "k2"));
    ref_core_free(a);
    ref_core_free(b);
}

static void c2_store_and_delete_evict_both_caches(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, REF_TTL_DEFAULT), REF_OK);
    assert_true(ref_core_has_cached_key(core, "k1") && ref_core_has_lacontext(core, "k1"));
    assert_int_equal(ref_core_delete(core, "k1"), REF_OK);
    assert_false(ref_core_has_cached_key(core, "k1") || ref_core_has_lacontext(core, "k1"));
    /* Another process of the same app deletes the key this one still caches,
     * then this one generates the label again: the store of new bytes must
     * drop both stale caches (C2). */
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, REF_TTL_DEFAULT), REF_OK);
    assert_true(ref_core_has_cached_key(core, "k1") && ref_core_has_lacontext(core, "k1"));
    world_pid other = proc("other", true, GROUP, true);
    ref_config c = cfg_default();
    ref_core *b = core_with(&c);
    assert_int_equal(ref_core_delete(b, "k1"), REF_OK);
    world_set_current(F.w, F.agent);
    assert_true(ref_core_has_cached_key(core, "k1")); /* stale, until the store */
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_false(ref_core_has_cached_key(core, "k1"));
    assert_false(ref_core_has_lacontext(core, "k1"));
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_NONE, REF_TTL_DEFAULT), REF_OK);
    (void)other;
    ref_core_free(b);
    ref_core_free(core);
}

/* ---- Migration: C1 and "write only when needed" ---------------------------------- */

static void migration_updates_old_class_in_place_without_eviction(void **state) {
    (void)state;
    ref_core *core = agent_core();
    plant(core, F.agent, "k1", WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY, false, true,
          WORLD_KEYCHAIN_DP);
    uint64_t dels = calls(WORLD_API_SEC_ITEM_DELETE), adds = calls(WORLD_API_SEC_ITEM_ADD);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    world_item_view v;
    assert_true(item(core, "k1", WORLD_KEYCHAIN_DP, &v));
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    assert_int_equal(calls(WORLD_API_SEC_ITEM_DELETE), dels); /* never delete-then-add */
    assert_int_equal(calls(WORLD_API_SEC_ITEM_ADD), adds);
    assert_true(ref_core_has_cached_key(core, "k1")); /* C1 */
    ref_stats s;
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.cache_evictions, 0);
    assert_int_equal(s.migrations_written, 1);
    assert_true(usable(core, "k1"));
    /* Already migrated: a later miss writes nothing. */
    ref_core_evict_wrapping_key_cache(core, "k1");
    uint64_t mut = world_item_mutations(F.w);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(world_item_mutations(F.w), mut);
    ref_core_free(core);
}

static void migration_writes_nothing_when_class_matches(void **state) {
    (void)state;
    ref_config c = cfg_default();
    c.cache_ttl_ms = 0;
    ref_core *core = agent_core_with(&c);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint64_t mut = world_item_mutations(F.w);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(world_item_mutations(F.w), mut);
    ref_stats s;
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.migrations_checked, 3);
    assert_int_equal(s.migrations_attempted, 0);
    ref_core_free(core);
}

static void migration_leaves_presence_items_alone(void **state) {
    (void)state;
    ref_core *core = agent_core();
    plant(core, F.agent, "k1", WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY, true, true,
          WORLD_KEYCHAIN_DP);
    uint64_t mut = world_item_mutations(F.w);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK); /* prompts: presence item */
    assert_int_equal(world_item_mutations(F.w), mut);
    assert_true(usable(core, "k1"));
    ref_core_free(core);
}

/* ---- LAContexts: L1, L2, P1 ---------------------------------------------------------- */

static void l2_no_context_without_presence(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    for (int p = REF_PRESENCE_NONE; p <= REF_PRESENCE_CACHED; p++)
        assert_int_equal(sign_ok(core, "k1", (ref_presence)p, REF_TTL_DEFAULT), REF_OK);
    assert_int_equal(calls(WORLD_API_LA_EVALUATE_POLICY), 0);
    assert_int_equal(world_prompts_total(F.w), 0);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    uint8_t pub[65];
    assert_int_equal(ref_core_pubkey(core, "k1", pub), REF_OK);
    assert_int_equal(ref_core_rename(core, "k1", "k2"), REF_OK);
    assert_int_equal(ref_core_delete(core, "k2"), REF_OK);
    assert_int_equal(calls(WORLD_API_LA_EVALUATE_POLICY), 0);
    ref_core_free(core);
}

static void p1_cached_mode_one_prompt_per_window(void **state) {
    (void)state;
    ref_config c = cfg_default();
    c.wrap_presence = true;
    ref_core *core = agent_core_with(&c);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    uint64_t prompts = world_prompts_total(F.w);
    for (int i = 0; i < 5; i++)
        assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, 300000), REF_OK);
    assert_int_equal(world_prompts_total(F.w), prompts + 1);
    ref_core_free(core);
}

static void l1_no_eviction_on_13_to_16_eviction_otherwise(void **state) {
    (void)state;
    ref_config c = cfg_default();
    c.cache_ttl_ms = 0; /* every sign reads the keychain */
    ref_core *core = agent_core_with(&c);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, 300000), REF_OK);
    assert_true(ref_core_has_lacontext(core, "k1"));
    struct {
        world_api api;
        int32_t status;
        ref_error err;
    } keep[] = {
        {WORLD_API_SEC_ITEM_COPY_MATCHING, -25293, REF_ERR_AUTH_DENIED},
        {WORLD_API_SEC_ITEM_COPY_MATCHING, -25308, REF_ERR_INTERACTION_REQUIRED},
        {WORLD_API_SEC_ITEM_COPY_MATCHING, -25315, REF_ERR_INTERACTION_REQUIRED},
        {WORLD_API_SEC_ITEM_COPY_MATCHING, -128, REF_ERR_USER_CANCELLED},
        {WORLD_API_SE_SIGN, -2 /* LAErrorUserCancel */, REF_ERR_USER_CANCELLED},
        {WORLD_API_SE_SIGN, -4 /* LAErrorSystemCancel */, REF_ERR_USER_CANCELLED},
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        fault(keep[i].api, keep[i].status, 1, 1);
        assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, 300000), keep[i].err);
        if (!ref_core_has_lacontext(core, "k1"))
            fail_msg("status %d evicted the LAContext", keep[i].status);
    }
    ref_stats s;
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.la_evictions, 0);
    assert_int_equal(s.la_acquisitions, 1);
    fault(WORLD_API_SEC_ITEM_COPY_MATCHING, -26275, 1, 1);
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, 300000), REF_ERR_KEY_OPERATION);
    assert_false(ref_core_has_lacontext(core, "k1"));
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, 300000), REF_OK);
    fault(WORLD_API_SE_SIGN, -1 /* LAErrorAuthenticationFailed */, 1, 1);
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_CACHED, 300000), REF_ERR_SIGN_FAILED);
    assert_false(ref_core_has_lacontext(core, "k1"));
    ref_core_free(core);
}

/* ---- Store and load routing, fallbacks, mapping in context --------------------------- */

static void unentitled_store_falls_back_with_warning(void **state) {
    (void)state;
    world_pid p = proc("cli", false, GROUP, true);
    (void)p;
    ref_config c = cfg_default();
    c.is_signed = false;
    c.wrap_presence = true;
    ref_core *core = core_with(&c);
    assert_string_equal(ref_core_service(core), "com.example.sshenc-unsigned");
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    world_item_view v;
    assert_false(item(core, "k1", WORLD_KEYCHAIN_DP, &v));
    assert_true(item(core, "k1", WORLD_KEYCHAIN_FILE, &v));
    assert_false(v.has_access_control);
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY); /* PC1 */
    assert_non_null(strstr(ref_core_last_warning(core), "presence downgraded"));
    /* A new process (restart) loads it: the DP -34018 falls back to the file keychain. */
    ref_core_free(core);
    core = core_with(&c);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_NONE, REF_TTL_DEFAULT), REF_OK);
    assert_int_equal(ref_core_delete(core, "k1"), REF_OK);
    assert_false(any_item(core, "k1") || any_file(core, "k1"));
    ref_core_free(core);
}

static void file_keychain_refuses_presence_fallback(void **state) {
    (void)state;
    proc("agent", true, NULL, true);
    ref_config c = cfg_default();
    c.access_group = NULL;
    c.wrap_presence = true;
    ref_core *core = core_with(&c);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    world_item_view v;
    assert_true(item(core, "k1", WORLD_KEYCHAIN_FILE, &v));
    assert_false(v.has_access_control);
    assert_non_null(strstr(ref_core_last_warning(core), "presence downgraded"));
    /* The warning belongs to that operation's success; the next one clears it. */
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_string_equal(ref_core_last_warning(core), "");
    ref_core_free(core);
}

static void dp_presence_store_has_access_control_only(void **state) {
    (void)state;
    ref_config c = cfg_default();
    c.wrap_presence = true;
    ref_core *core = agent_core_with(&c);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    world_item_view v;
    assert_true(item(core, "k1", WORLD_KEYCHAIN_DP, &v));
    assert_true(v.has_access_control);
    assert_true((v.ac_flags & WORLD_AC_USER_PRESENCE) != 0);
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    assert_string_equal(ref_core_last_warning(core), "");
    ref_core_free(core);
}

static void no_window_server_is_15_and_store_maps_like_load(void **state) {
    (void)state;
    proc("daemon", true, GROUP, false);
    ref_config c = cfg_default();
    c.wrap_presence = true;
    ref_core *core = core_with(&c);
    fault(WORLD_API_SEC_ITEM_ADD, -25308, 1, 1);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE),
                     REF_ERR_NO_WINDOW_SERVER);
    assert_int_equal(ref_core_last_bridge_code(core), 15);
    assert_non_null(strstr(ref_core_last_message(core), "launchd"));
    assert_false(any_item(core, "k1") || any_file(core, "k1"));
    assert_int_equal(live_se_keys(), 0);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    ref_core_free(core);
    core = core_with(&c);
    /* A presence item read without a GUI session: no prompt possible. */
    assert_int_equal(ref_core_load(core, "k1"), REF_ERR_NO_WINDOW_SERVER);
    bool has = false;
    assert_int_equal(ref_core_last_status(core, &has), -25308);
    assert_true(has);
    assert_true(any_item(core, "k1") && any_file(core, "k1")); /* D2 */
    ref_core_free(core);
}

static void no_default_keychain_uses_the_login_keychain_by_path(void **state) {
    (void)state;
    add_process("cron", true, NULL, true, true);
    ref_config c = cfg_default();
    c.access_group = NULL;
    c.cache_ttl_ms = 0;
    ref_core *core = core_with(&c);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    world_item_view v;
    assert_true(item(core, "k1", WORLD_KEYCHAIN_FILE, &v));
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(sign_ok(core, "k1", REF_PRESENCE_NONE, 0), REF_OK);
    assert_int_equal(ref_core_rename(core, "k1", "k2"), REF_OK);
    assert_int_equal(ref_core_delete(core, "k2"), REF_OK);
    assert_false(any_item(core, "k2") || any_file(core, "k2"));
    ref_core_free(core);
}

/* ---- Delete: transient failures keep everything (D2) --------------------------------- */

static void delete_keeps_everything_on_transient_read_failure(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    const int32_t transient[] = {-25308, -25315, -25293, -128};
    for (size_t i = 0; i < 4; i++) {
        fault(WORLD_API_SEC_ITEM_COPY_MATCHING, transient[i], 1, 1);
        ref_error err = ref_core_delete(core, "k1");
        assert_true(ref_errmap_is_transient(ref_core_last_bridge_code(core)));
        assert_int_not_equal(err, REF_OK);
        assert_true(usable(core, "k1"));
        assert_int_equal(live_se_keys(), 1);
        assert_true(file_of(core, "k1", ".pub") && file_of(core, "k1", ".meta"));
    }
    assert_int_equal(ref_core_delete(core, "k1"), REF_OK);
    assert_false(any_item(core, "k1") || any_file(core, "k1"));
    assert_int_equal(live_se_keys(), 0);
    ref_core_free(core);
}

/* ---- Rollback with a fault at each Apple call ------------------------------------------ */

typedef struct {
    world_api api;
    unsigned max_nth;
} fault_site;

static const fault_site generate_sites[] = {
    {WORLD_API_SEC_ITEM_COPY_MATCHING, 2},
    {WORLD_API_SEC_ITEM_DELETE, 2},
    {WORLD_API_SEC_ITEM_ADD, 2},
    {WORLD_API_SEC_ACCESS_CONTROL_CREATE, 2},
    {WORLD_API_SE_GENERATE, 1},
    {WORLD_API_SE_PUBLIC_KEY, 1},
    {WORLD_API_FILE_WRITE, 3},
};

static void generate_rolls_back_at_every_call(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof generate_sites / sizeof generate_sites[0]; s++) {
        for (unsigned nth = 1; nth <= generate_sites[s].max_nth; nth++) {
            for (int presence = 0; presence <= 1; presence++) {
                fresh_world(11);
                ref_config c = cfg_default();
                c.wrap_presence = presence == 1;
                ref_core *core = agent_core_with(&c);
                fault(generate_sites[s].api,
                      generate_sites[s].api >= WORLD_API_FILE_WRITE ? -5 : -26275, nth, 1);
                ref_error err = ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED);
                if (err == REF_OK) {
                    assert_true(usable(core, "k1"));
                    assert_int_equal(live_se_keys(), 1);
                } else if (any_item(core, "k1") || any_file(core, "k1") || live_se_keys() != 0 ||
                           world_item_count(F.w) != 0 || world_file_count(F.w) != 0) {
                    fail_msg("fault %s nth=%u: orphans after %s",
                             world_api_name(generate_sites[s].api), nth, ref_error_name(err));
                }
                ref_core_free(core);
            }
        }
    }
}

static const fault_site rename_sites[] = {
    {WORLD_API_SEC_ITEM_COPY_MATCHING, 2},
    {WORLD_API_SEC_ITEM_UPDATE, 2},
    {WORLD_API_FILE_RENAME, 3},
    {WORLD_API_FILE_READ, 1},
};

static void rename_rolls_back_at_every_call(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof rename_sites / sizeof rename_sites[0]; s++) {
        for (unsigned nth = 1; nth <= rename_sites[s].max_nth; nth++) {
            fresh_world(12);
            ref_core *core = agent_core();
            assert_int_equal(ref_core_generate(core, "a", REF_AUTH_NONE, REF_PRESENCE_NONE),
                             REF_OK);
            fault(rename_sites[s].api, rename_sites[s].api >= WORLD_API_FILE_WRITE ? -5 : -26275,
                  nth, 1);
            ref_error err = ref_core_rename(core, "a", "b");
            const char *live = err == REF_OK ? "b" : "a";
            const char *gone = err == REF_OK ? "a" : "b";
            if (!usable(core, live) || any_item(core, gone) || any_file(core, gone))
                fail_msg("fault %s nth=%u: rename %s left a mix",
                         world_api_name(rename_sites[s].api), nth, ref_error_name(err));
            assert_int_equal(sign_ok(core, live, REF_PRESENCE_NONE, 0), REF_OK);
            ref_core_free(core);
        }
    }
}

static const fault_site delete_sites[] = {
    {WORLD_API_FILE_READ, 1},   {WORLD_API_SEC_ITEM_COPY_MATCHING, 1},
    {WORLD_API_SE_DELETE, 1},   {WORLD_API_SEC_ITEM_DELETE, 2},
    {WORLD_API_FILE_UNLINK, 3},
};

static void delete_is_retryable_at_every_call(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof delete_sites / sizeof delete_sites[0]; s++) {
        for (unsigned nth = 1; nth <= delete_sites[s].max_nth; nth++) {
            fresh_world(13);
            ref_config c = cfg_default();
            c.cache_ttl_ms = 0;
            ref_core *core = agent_core_with(&c);
            assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE),
                             REF_OK);
            fault(delete_sites[s].api, delete_sites[s].api >= WORLD_API_FILE_WRITE ? -5 : -26275,
                  nth, 1);
            ref_error err = ref_core_delete(core, "k1");
            if (err != REF_OK) {
                /* Whatever failed, a retry finishes the job. */
                assert_true(file_of(core, "k1", ".handle"));
                assert_int_equal(ref_core_delete(core, "k1"), REF_OK);
            }
            if (any_item(core, "k1") || any_file(core, "k1") || live_se_keys() != 0)
                fail_msg("fault %s nth=%u: orphans after delete",
                         world_api_name(delete_sites[s].api), nth);
            ref_core_free(core);
        }
    }
}

/* ---- Every mutant changes a unit-visible behaviour ----------------------------------------
 * One probe per mutant: run it on the clean core and on the mutant, compare. */

typedef long (*probe_fn)(ref_mutant_set m);

static ref_core *probe_core(ref_mutant_set m, bool is_signed, const char *group, bool gui,
                            bool wrap_presence, int64_t ttl) {
    fresh_world(21);
    F.agent = proc("agent", is_signed, group, gui);
    ref_config c = cfg_default();
    c.is_signed = is_signed;
    c.access_group = group;
    c.wrap_presence = wrap_presence;
    c.cache_ttl_ms = ttl;
    c.mutants = m;
    return core_with(&c);
}

static long p_pr80(ref_mutant_set m) {
    ref_core *c = probe_core(m, false, NULL, true, true, 300000);
    long r = ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    ref_core_free(c);
    return r;
}

static long p_pr118(ref_mutant_set m) {
    ref_core *c = probe_core(m, true, GROUP, true, true, 300000);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_CACHED);
    uint64_t before = world_prompts_total(F.w);
    assert_int_equal(sign_ok(c, "k1", REF_PRESENCE_CACHED, 300000), REF_OK);
    ref_core_free(c);
    return (long)(world_prompts_total(F.w) - before);
}

static long load_code_after(ref_mutant_set m, int32_t status, bool gui) {
    ref_core *c = probe_core(m, true, GROUP, gui, false, 300000);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    ref_core_evict_wrapping_key_cache(c, "k1");
    fault(WORLD_API_SEC_ITEM_COPY_MATCHING, status, 1, 1);
    ref_core_load(c, "k1");
    long r = ref_core_last_bridge_code(c);
    ref_core_free(c);
    return r;
}

static long p_pr150_unmapped(ref_mutant_set m) { return load_code_after(m, -25315, true); }
static long p_pr151(ref_mutant_set m) { return load_code_after(m, -25308, false); }
static long p_pr158_missing(ref_mutant_set m) { return load_code_after(m, -25308, true); }

static long lacontext_after_failure(ref_mutant_set m, world_api api, int32_t status) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 0);
    ref_core_generate(c, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED);
    assert_int_equal(sign_ok(c, "k1", REF_PRESENCE_CACHED, 300000), REF_OK);
    fault(api, status, 1, 1);
    sign_ok(c, "k1", REF_PRESENCE_CACHED, 300000);
    long r = ref_core_has_lacontext(c, "k1");
    ref_core_free(c);
    return r;
}

static long p_pr150_evict(ref_mutant_set m) {
    return lacontext_after_failure(m, WORLD_API_SEC_ITEM_COPY_MATCHING, -25293);
}
static long p_pr155(ref_mutant_set m) {
    return lacontext_after_failure(m, WORLD_API_SE_SIGN, -2 /* LAErrorUserCancel */);
}

static long p_pr158_wrapping(ref_mutant_set m) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 300000);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    world_item_view v;
    assert_true(item(c, "k1", WORLD_KEYCHAIN_DP, &v));
    ref_core_free(c);
    return v.accessible;
}

static long p_pr158_blanket(ref_mutant_set m) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 300000);
    ref_core_generate(c, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED);
    world_se_key_view sk;
    assert_true(world_se_key_at(F.w, 0, &sk));
    ref_core_free(c);
    return sk.accessible;
}

static long p_pr162(ref_mutant_set m) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 300000);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    for (int i = 0; i < 3; i++)
        ref_core_load(c, "k1");
    ref_stats s;
    ref_core_stats(c, "k1", &s);
    ref_core_free(c);
    return (long)s.cache_misses * 100 + (long)s.cache_evictions;
}

static long p_pr171(ref_mutant_set m) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 300000);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    sign_ok(c, "k1", REF_PRESENCE_NONE, REF_TTL_DEFAULT);
    ref_core_free(c);
    return (long)calls(WORLD_API_LA_EVALUATE_POLICY);
}

static long p_every_load(ref_mutant_set m) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 0);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    uint64_t mut = world_item_mutations(F.w);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ref_core_load(c, "k1"), REF_OK);
    ref_core_free(c);
    return (long)(world_item_mutations(F.w) - mut);
}

/* The race of the latent migration rows, staged through the observer: right
 * after process A read the old-class item (and decided to migrate), process B
 * deletes the label and generates it anew. Returns whether B's key is intact
 * and A's load still succeeded. */
typedef struct {
    ref_core *b;
    world_pid a_pid, b_pid;
    bool fired;
} race;

static void race_observer(void *ctx, const ref_event *ev) {
    race *r = ctx;
    if (ev->kind != REF_EV_MIGRATION_CHECK || r->fired || r->b == NULL)
        return;
    r->fired = true;
    world_set_current(F.w, r->b_pid);
    assert_int_equal(ref_core_delete(r->b, "k1"), REF_OK);
    assert_int_equal(ref_core_generate(r->b, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    world_set_current(F.w, r->a_pid);
}

static long migration_race(ref_mutant_set m, long *deletes) {
    fresh_world(21);
    race r = {NULL, -1, -1, false};
    r.b_pid = proc("b", true, GROUP, true);
    r.a_pid = proc("a", true, GROUP, true);
    ref_config c = cfg_default();
    c.mutants = m;
    ref_core *b = core_with(&c);
    c.observer = race_observer;
    c.observer_ctx = &r;
    ref_core *a = core_with(&c);
    plant(a, r.a_pid, "k1", WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY, false, true,
          WORLD_KEYCHAIN_DP);
    r.b = b;
    uint64_t d0 = calls(WORLD_API_SEC_ITEM_DELETE);
    ref_error err = ref_core_load(a, "k1");
    *deletes = (long)(calls(WORLD_API_SEC_ITEM_DELETE) - d0);
    assert_true(r.fired);
    long intact = usable(a, "k1") && err == REF_OK;
    ref_core_free(a);
    ref_core_free(b);
    return intact;
}

static long p_window(ref_mutant_set m) {
    long deletes = 0;
    long intact = migration_race(m, &deletes);
    /* B's delete + generate account for their own deletes; the clean
     * migration adds none. */
    return intact * 1000 + deletes;
}

static long p_lost_update(ref_mutant_set m) {
    long deletes = 0;
    return migration_race(m, &deletes);
}

static long p_store_unmapped(ref_mutant_set m) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 300000);
    fault(WORLD_API_SEC_ITEM_ADD, -25308, 1, 1);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    long r = ref_core_last_bridge_code(c);
    ref_core_free(c);
    return r;
}

static long p_no_entitlement(ref_mutant_set m) {
    ref_core *c = probe_core(m, false, GROUP, true, false, 300000);
    assert_int_equal(ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    ref_core_evict_wrapping_key_cache(c, "k1");
    long r = ref_core_load(c, "k1");
    ref_core_free(c);
    return r;
}

static long p_overwrites(ref_mutant_set m) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 300000);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    long r = ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    r = r * 10 + (long)live_se_keys();
    ref_core_free(c);
    return r;
}

static long item_after_transient(ref_mutant_set m, bool via_delete) {
    ref_core *c = probe_core(m, true, GROUP, true, false, 0);
    ref_core_generate(c, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE);
    fault(WORLD_API_SEC_ITEM_COPY_MATCHING, -25308, 1, 1);
    if (via_delete)
        assert_int_equal(ref_core_delete(c, "k1"), REF_ERR_INTERACTION_REQUIRED);
    else
        assert_int_equal(ref_core_load(c, "k1"), REF_ERR_INTERACTION_REQUIRED);
    long r = any_item(c, "k1") && usable(c, "k1");
    ref_core_free(c);
    return r;
}

static long p_delete_drops(ref_mutant_set m) { return item_after_transient(m, true); }
static long p_destroy(ref_mutant_set m) { return item_after_transient(m, false); }

static const struct {
    ref_mutant m;
    probe_fn probe;
} probes[] = {
    {REF_MUT_PR80_NO_ACL_FALLBACK, p_pr80},
    {REF_MUT_PR118_TWO_PROMPTS, p_pr118},
    {REF_MUT_PR150_INTERACTION_UNMAPPED, p_pr150_unmapped},
    {REF_MUT_PR150_EVICT_WITHOUT_EXCLUSIONS, p_pr150_evict},
    {REF_MUT_PR151_NO_WINDOW_SERVER_AS_LOCKED, p_pr151},
    {REF_MUT_PR155_EVICT_ON_CANCEL, p_pr155},
    {REF_MUT_PR158_MISSING_25308, p_pr158_missing},
    {REF_MUT_PR158_WHEN_UNLOCKED_WRAPPING, p_pr158_wrapping},
    {REF_MUT_PR158_BLANKET_CLASS, p_pr158_blanket},
    {REF_MUT_PR162_MIGRATION_EVICTS, p_pr162},
    {REF_MUT_PR171_LACONTEXT_WITHOUT_PRESENCE, p_pr171},
    {REF_MUT_LATENT_MIGRATE_EVERY_LOAD, p_every_load},
    {REF_MUT_LATENT_MIGRATION_WINDOW, p_window},
    {REF_MUT_LATENT_MIGRATION_LOST_UPDATE, p_lost_update},
    {REF_MUT_LATENT_STORE_UNMAPPED, p_store_unmapped},
    {REF_MUT_LATENT_LOAD_NO_ENTITLEMENT_FALLBACK, p_no_entitlement},
    {REF_MUT_LATENT_GENERATE_OVERWRITES_WRAPPED, p_overwrites},
    {REF_MUT_LATENT_DELETE_DROPS_WRAPPING_KEY, p_delete_drops},
    {REF_MUT_LATENT_DESTROY_ON_TRANSIENT, p_destroy},
};

static void every_mutant_changes_a_behaviour(void **state) {
    (void)state;
    assert_int_equal(sizeof probes / sizeof probes[0], REF_MUT_COUNT);
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        assert_int_equal(probes[i].m, (ref_mutant)i);
        long clean = probes[i].probe(REF_MUTANTS_NONE);
        long mutant = probes[i].probe(REF_MUTANT_BIT(probes[i].m));
        if (clean == mutant)
            fail_msg("mutant %s: no visible difference (%ld)", ref_mutant_name(probes[i].m), clean);
        print_message("%-36s clean=%ld mutant=%ld\n", ref_mutant_name(probes[i].m), clean, mutant);
    }
}

/* ---- Messages never hold secrets (S1) ------------------------------------------------------- */

static void messages_hold_no_key_bytes(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    world_item_view v;
    assert_true(item(core, "k1", WORLD_KEYCHAIN_DP, &v));
    unsigned char key[32];
    memcpy(key, v.data, 32);
    ref_core_evict_wrapping_key_cache(core, "k1");
    fault(WORLD_API_SEC_ITEM_COPY_MATCHING, -26275, 1, 1);
    assert_int_equal(ref_core_load(core, "k1"), REF_ERR_KEY_OPERATION);
    const char *msg = ref_core_last_message(core);
    assert_non_null(strstr(msg, "SecItemCopyMatching"));
    assert_non_null(strstr(msg, "-26275"));
    size_t n = strlen(msg);
    for (size_t i = 0; i + 4 <= n; i++)
        for (size_t j = 0; j + 4 <= 32; j++)
            if (memcmp(msg + i, key + j, 4) == 0)
                fail_msg("message holds key bytes");
    const char *journal = world_journal(F.w);
    size_t jl = world_journal_length(F.w);
    for (size_t i = 0; i + 8 <= jl; i++)
        for (size_t j = 0; j + 8 <= 32; j++)
            if (memcmp(journal + i, key + j, 8) == 0)
                fail_msg("journal holds key bytes");
    ref_core_free(core);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(generate_sign_load_pubkey),
        T(auth_policy_se_key_is_when_unlocked),
        T(generate_refuses_existing_label),
        T(invalid_label_and_missing_key_before_any_keychain_call),
        T(legacy_plaintext_handle_passes_through),
        T(rename_moves_files_and_item),
        T(c3_ttl_zero_never_serves),
        T(cache_serves_until_ttl_then_expires_without_lacontext),
        T(c4_isolated_by_app_and_label),
        T(c2_store_and_delete_evict_both_caches),
        T(migration_updates_old_class_in_place_without_eviction),
        T(migration_writes_nothing_when_class_matches),
        T(migration_leaves_presence_items_alone),
        T(l2_no_context_without_presence),
        T(p1_cached_mode_one_prompt_per_window),
        T(l1_no_eviction_on_13_to_16_eviction_otherwise),
        T(unentitled_store_falls_back_with_warning),
        T(file_keychain_refuses_presence_fallback),
        T(dp_presence_store_has_access_control_only),
        T(no_window_server_is_15_and_store_maps_like_load),
        T(no_default_keychain_uses_the_login_keychain_by_path),
        T(delete_keeps_everything_on_transient_read_failure),
        T(generate_rolls_back_at_every_call),
        T(rename_rolls_back_at_every_call),
        T(delete_is_retryable_at_every_call),
        T(every_mutant_changes_a_behaviour),
        T(messages_hold_no_key_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
