/* The reference core at the edges the lifecycle tests (test_core.c) and the
 * scenario library do not reach (issue 8, coverage): configuration limits,
 * argument checks, a full wrapping-key cache, eviction of contexts that have
 * no cached key, an unreadable or damaged .pub/.meta/.handle, a wrapping-key
 * item of the wrong length, a key re-created by another process behind a
 * cached key, and rollbacks of rename.
 *
 * Fixture as in test_core.c: a fresh booted, unlocked world per test;
 * teardown fails on a leaked CF object or a CF misuse. White-box only for
 * the cache's slot count (core_internal.h). */
#include "core_test_support.h"

#include <Security/Security.h>
#include <keyclass/files.h>

#include "../src/core_internal.h"
#include "ref/ehw1.h"
#include "ref/errmap.h"

#include <errno.h>

#define MSG "coverage challenge"

static int setup(void **state) { return core_fx_setup(state, 11); }

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, core_fx_teardown)

static void put_file(const ref_core *core, const char *label, const char *ext, const void *data,
                     size_t len) {
    char path[512];
    key_path(core, label, ext, path, sizeof path);
    assert_int_equal(world_file_put(F.w, path, data, len), 0);
}

static bool dp_item(const ref_core *core, const char *label, world_item_view *v) {
    return world_item_find(F.w, WORLD_KEYCHAIN_DP, ref_core_service(core), label, GROUP, v);
}

/* A query (+1) for the wrapping-key item of `label` on the DP keychain, as
 * another program would name it through the API. */
static CFMutableDictionaryRef dp_item_query(const ref_core *core, CFStringRef label) {
    CFStringRef svc =
        CFStringCreateWithCString(NULL, ref_core_service(core), kCFStringEncodingUTF8);
    CFStringRef grp = CFStringCreateWithCString(NULL, GROUP, kCFStringEncodingUTF8);
    CFMutableDictionaryRef q = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    CFDictionarySetValue(q, kSecClass, kSecClassGenericPassword);
    CFDictionarySetValue(q, kSecAttrService, svc);
    CFDictionarySetValue(q, kSecAttrAccount, label);
    CFDictionarySetValue(q, kSecAttrAccessGroup, grp);
    CFDictionarySetValue(q, kSecUseDataProtectionKeychain, kCFBooleanTrue);
    CFRelease(grp);
    CFRelease(svc);
    return q;
}

/* The public key of the newest live SE key. */
static void newest_public_key(uint8_t out[65]) {
    for (size_t i = world_se_key_count(F.w); i-- > 0;) {
        world_se_key_view v;
        assert_true(world_se_key_at(F.w, i, &v));
        if (!v.deleted) {
            memcpy(out, v.public_key, 65);
            return;
        }
    }
    fail_msg("no live SE key");
}

static bool verify(const uint8_t pub[65], CFDataRef sig, const char *msg, size_t len) {
    return world_verify_signature(pub, (const unsigned char *)msg, len, CFDataGetBytePtr(sig),
                                  (size_t)CFDataGetLength(sig));
}

/* Signs MSG and checks the signature against the SE key's public key. */
static ref_error sign_verified(ref_core *core, const char *label, ref_presence p, int64_t ttl) {
    CFDataRef sig = NULL;
    ref_error err = ref_core_sign(core, label, MSG, strlen(MSG), p, ttl, &sig);
    if (err != REF_OK) {
        assert_null(sig);
        return err;
    }
    uint8_t pub[65];
    assert_int_equal(ref_core_pubkey(core, label, pub), REF_OK);
    assert_true(verify(pub, sig, MSG, strlen(MSG)));
    CFRelease(sig);
    return REF_OK;
}

/* ---- Observer: records the kinds and details of events -------------------------------- */

typedef struct {
    int capacity_expiries;
    char capacity_label[REF_LABEL_MAX + 1];
    int la_evicts;
} seen_events;

static void observe(void *ctx, const ref_event *ev) {
    seen_events *s = ctx;
    if (ev->kind == REF_EV_CACHE_EXPIRE && ev->detail != NULL &&
        strcmp(ev->detail, "capacity") == 0) {
        s->capacity_expiries++;
        snprintf(s->capacity_label, sizeof s->capacity_label, "%s", ev->label);
    }
    if (ev->kind == REF_EV_LA_EVICT)
        s->la_evicts++;
}

/* ---- Configuration -------------------------------------------------------------------- */

static void config_limits_refuse_the_core(void **state) {
    (void)state;
    assert_null(ref_core_new(NULL));
    char longname[CORE_NAME_MAX + 1];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0'; /* CORE_NAME_MAX chars: no room for the NUL */
    char longgroup[CORE_GROUP_MAX + 1];
    memset(longgroup, 'g', sizeof longgroup - 1);
    longgroup[sizeof longgroup - 1] = '\0';
    char longdir[CORE_DIR_MAX + 8];
    memset(longdir, 'd', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';

    ref_config c = cfg_default();
    c.app = NULL;
    assert_null(ref_core_new(&c));
    c = cfg_default();
    c.app = "";
    assert_null(ref_core_new(&c));
    c = cfg_default();
    c.cache_ttl_ms = -1;
    assert_null(ref_core_new(&c));
    c.cache_ttl_ms = REF_TTL_MAX_MS + 1;
    assert_null(ref_core_new(&c));
    c.cache_ttl_ms = REF_TTL_MAX_MS; /* the limit itself is fine */
    ref_core *core = ref_core_new(&c);
    assert_non_null(core);
    ref_core_free(core);
    c = cfg_default();
    c.app = longname;
    assert_null(ref_core_new(&c));
    c = cfg_default();
    c.vendor = longname;
    assert_null(ref_core_new(&c));
    c = cfg_default();
    c.access_group = longgroup;
    assert_null(ref_core_new(&c));
    c = cfg_default();
    c.key_dir = longdir;
    assert_null(ref_core_new(&c));
    /* No vendor: the default one names the service. */
    c = cfg_default();
    c.vendor = NULL;
    c.is_signed = false;
    core = ref_core_new(&c);
    assert_non_null(core);
    assert_string_equal(ref_core_service(core), "com." REF_DEFAULT_VENDOR ".sshenc-unsigned");
    assert_string_equal(ref_core_config(core)->key_dir, "~/.sshenc-unsigned/keys/");
    ref_core_free(core);
    ref_core_free(NULL); /* allowed, like free() */
}

static void config_strings_need_room(void **state) {
    (void)state;
    ref_config c = cfg_default();
    char buf[64];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(ref_config_service(NULL, buf, sizeof buf), 0);
    assert_int_equal(ref_config_service(&c, buf, 0), 0);
    assert_int_equal(buf[0], 'x');
    /* Too small: 0 and an empty string, never a cut service name. */
    assert_int_equal(ref_config_service(&c, buf, 8), 0);
    assert_string_equal(buf, "");
    assert_int_equal(ref_config_service(&c, buf, sizeof buf), strlen("com.example.sshenc"));
    assert_int_equal(ref_config_key_dir(NULL, buf, sizeof buf), 0);
    assert_int_equal(ref_config_key_dir(&c, buf, 0), 0);
    c.app = NULL;
    assert_int_equal(ref_config_key_dir(&c, buf, sizeof buf), 0);
    c.key_dir = "/keys/";
    assert_int_equal(ref_config_key_dir(&c, buf, sizeof buf), 6); /* explicit dir: no app needed */
    c = cfg_default();
    assert_int_equal(ref_config_key_path(&c, NULL, ".pub", buf, sizeof buf), 0);
    assert_int_equal(ref_config_key_path(&c, "k", NULL, buf, sizeof buf), 0);
    assert_int_equal(ref_config_key_path(&c, "k", ".pub", buf, 10), 0);
    assert_string_equal(buf, "");
    assert_int_equal(ref_config_key_path(&c, "k", ".pub", buf, sizeof buf),
                     strlen("~/.sshenc/keys/k.pub"));
    assert_string_equal(buf, "~/.sshenc/keys/k.pub");
}

/* ---- Results and counters --------------------------------------------------------------- */

static void last_error_and_totals_follow_each_operation(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_last_error(core), REF_OK);
    assert_int_equal(ref_core_load(core, "absent"), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(ref_core_last_error(core), REF_ERR_KEY_NOT_FOUND);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_generate(core, "k2", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_last_error(core), REF_OK);
    /* has_status may be NULL: the status alone. */
    assert_int_equal(ref_core_last_status(core, NULL), errSecSuccess);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(ref_core_load(core, "k2"), REF_OK);
    assert_int_equal(ref_core_load(core, "k2"), REF_OK);
    ref_stats k1, k2, total, none;
    ref_core_stats(core, "k1", &k1);
    ref_core_stats(core, "k2", &k2);
    ref_core_stats(core, NULL, &total);
    ref_core_stats(core, "never-seen", &none);
    assert_int_equal(k1.cache_misses, 1);
    assert_int_equal(k2.cache_hits, 1);
    assert_int_equal(total.cache_hits, k1.cache_hits + k2.cache_hits);
    assert_int_equal(total.cache_misses, k1.cache_misses + k2.cache_misses);
    assert_int_equal(total.stores, 2);
    assert_int_equal(none.cache_hits + none.cache_misses + none.stores, 0);
    ref_core_free(core);
}

/* ---- The wrapping-key cache ----------------------------------------------------------------- */

/* Full: the entry closest to expiry goes (an expiry, not an eviction), every
 * other entry stays; the newcomer is cached. */
static void full_cache_drops_the_entry_closest_to_expiry(void **state) {
    (void)state;
    ref_config c = cfg_default();
    seen_events seen;
    memset(&seen, 0, sizeof seen);
    c.observer = observe;
    c.observer_ctx = &seen;
    ref_core *core = agent_core_with(&c);
    char label[16];
    for (int i = 0; i <= CORE_CACHE_SLOTS; i++) {
        snprintf(label, sizeof label, "k%d", i);
        assert_int_equal(ref_core_generate(core, label, REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    }
    /* k1 is loaded first, so it expires first; k0 after every other one. */
    for (int i = 1; i < CORE_CACHE_SLOTS; i++) {
        snprintf(label, sizeof label, "k%d", i);
        assert_int_equal(ref_core_load(core, label), REF_OK);
        world_advance(F.w, 10);
    }
    assert_int_equal(ref_core_load(core, "k0"), REF_OK);
    assert_int_equal(seen.capacity_expiries, 0);
    world_advance(F.w, 10);
    snprintf(label, sizeof label, "k%d", CORE_CACHE_SLOTS);
    assert_int_equal(ref_core_load(core, label), REF_OK);
    assert_int_equal(seen.capacity_expiries, 1);
    assert_string_equal(seen.capacity_label, "k1");
    assert_false(ref_core_has_cached_key(core, "k1"));
    assert_true(ref_core_has_cached_key(core, "k0"));
    assert_true(ref_core_has_cached_key(core, "k2"));
    assert_true(ref_core_has_cached_key(core, label));
    ref_stats s;
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.cache_expiries, 1);
    assert_int_equal(s.cache_evictions, 0);
    /* The dropped key still loads, from the keychain. */
    uint64_t copies = world_calls_made(F.w, WORLD_API_SEC_ITEM_COPY_MATCHING);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(world_calls_made(F.w, WORLD_API_SEC_ITEM_COPY_MATCHING), copies + 1);
    ref_core_free(core);
}

/* A context registered for a cached-mode sign of a core whose wrapping-key
 * cache is off has no cache entry to go with: evict_all must still find and
 * invalidate it. NULL arguments evict nothing. */
static void evict_all_reaches_contexts_without_a_cached_key(void **state) {
    (void)state;
    ref_config c = cfg_default();
    c.cache_ttl_ms = 0;
    seen_events seen;
    memset(&seen, 0, sizeof seen);
    c.observer = observe;
    c.observer_ctx = &seen;
    ref_core *core = agent_core_with(&c);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    assert_int_equal(ref_core_generate(core, "k2", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    assert_int_equal(sign_verified(core, "k1", REF_PRESENCE_CACHED, 60000), REF_OK);
    assert_int_equal(sign_verified(core, "k2", REF_PRESENCE_CACHED, 60000), REF_OK);
    assert_true(ref_core_has_lacontext(core, "k1") && ref_core_has_lacontext(core, "k2"));
    assert_false(ref_core_has_cached_key(core, "k1"));
    assert_false(ref_core_has_cached_key(core, NULL));
    assert_false(ref_core_has_lacontext(core, NULL));
    ref_core_evict_wrapping_key_cache(core, NULL);
    ref_core_evict_wrapping_key_cache(NULL, "k1");
    ref_core_evict_all(NULL);
    assert_true(ref_core_has_lacontext(core, "k1") && ref_core_has_lacontext(core, "k2"));
    assert_int_equal(seen.la_evicts, 0);
    ref_core_evict_all(core);
    assert_false(ref_core_has_lacontext(core, "k1") || ref_core_has_lacontext(core, "k2"));
    assert_int_equal(seen.la_evicts, 2);
    /* The next cached sign evaluates a new context: one more prompt. */
    uint64_t prompts = world_prompts_shown(F.w, WORLD_PROMPT_LA_EVALUATE);
    assert_int_equal(sign_verified(core, "k1", REF_PRESENCE_CACHED, 60000), REF_OK);
    assert_int_equal(world_prompts_shown(F.w, WORLD_PROMPT_LA_EVALUATE), prompts + 1);
    ref_core_free(core);
}

/* Another process deletes the key and generates the label again behind this
 * core's cached wrapping key: the stale key no longer opens the new handle,
 * so the core drops it and reads the keychain once, and the sign succeeds
 * with the new SE key. */
static void stale_cached_key_is_replaced_after_recreation_elsewhere(void **state) {
    (void)state;
    ref_core *a = agent_core();
    assert_int_equal(ref_core_generate(a, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_load(a, "k1"), REF_OK);
    assert_true(ref_core_has_cached_key(a, "k1"));
    world_pid other = proc("other", true, GROUP, true);
    ref_config c = cfg_default();
    ref_core *b = core_with(&c);
    assert_int_equal(ref_core_delete(b, "k1"), REF_OK);
    assert_int_equal(ref_core_generate(b, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint8_t fresh[65];
    newest_public_key(fresh);
    world_set_current(F.w, F.agent);
    assert_true(ref_core_has_cached_key(a, "k1")); /* stale */
    uint64_t copies = world_calls_made(F.w, WORLD_API_SEC_ITEM_COPY_MATCHING);
    CFDataRef sig = NULL;
    assert_int_equal(
        ref_core_sign(a, "k1", MSG, strlen(MSG), REF_PRESENCE_NONE, REF_TTL_DEFAULT, &sig), REF_OK);
    assert_true(verify(fresh, sig, MSG, strlen(MSG)));
    CFRelease(sig);
    assert_int_equal(world_calls_made(F.w, WORLD_API_SEC_ITEM_COPY_MATCHING), copies + 1);
    ref_stats s;
    ref_core_stats(a, "k1", &s);
    assert_int_equal(s.cache_evictions, 1);
    assert_true(ref_core_has_cached_key(a, "k1")); /* the new key, cached */
    (void)other;
    ref_core_free(b);
    ref_core_free(a);
}

/* ---- sign ------------------------------------------------------------------------------------ */

static void sign_checks_its_arguments_before_any_call(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint64_t total = world_calls_total(F.w);
    assert_int_equal(
        ref_core_sign(core, "k1", MSG, strlen(MSG), REF_PRESENCE_NONE, REF_TTL_DEFAULT, NULL),
        ref_errmap_error(REF_BRIDGE_BUFFER_TOO_SMALL));
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_BUFFER_TOO_SMALL);
    assert_non_null(strstr(ref_core_last_message(core), "no signature out-parameter"));
    CFDataRef sig = (CFDataRef)(uintptr_t)1; /* must be reset */
    assert_int_equal(ref_core_sign(core, "k1", NULL, 5, REF_PRESENCE_NONE, REF_TTL_DEFAULT, &sig),
                     REF_ERR_KEY_OPERATION);
    assert_null(sig);
    assert_int_equal(
        ref_core_sign(core, "k1", MSG, strlen(MSG), (ref_presence)7, REF_TTL_DEFAULT, &sig),
        REF_ERR_KEY_OPERATION);
    assert_int_equal(ref_core_sign(core, "k1", MSG, strlen(MSG), REF_PRESENCE_CACHED, -5, &sig),
                     REF_ERR_KEY_OPERATION);
    assert_non_null(strstr(ref_core_last_message(core), "bad argument"));
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_NONE);
    assert_int_equal(world_calls_total(F.w), total);
    /* An empty message is a message: NULL with length 0 signs "". */
    assert_int_equal(ref_core_sign(core, "k1", NULL, 0, REF_PRESENCE_NONE, REF_TTL_DEFAULT, &sig),
                     REF_OK);
    uint8_t pub[65];
    assert_int_equal(ref_core_pubkey(core, "k1", pub), REF_OK);
    assert_true(verify(pub, sig, "", 0));
    CFRelease(sig);
    ref_core_free(core);
}

/* A handle file that exists but cannot be read is not "no such key": the
 * bridge's load code, with the errno in the message, and nothing deleted. */
static void unreadable_handle_is_a_load_failure(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    fault(WORLD_API_FILE_READ, -EIO, 1, 1);
    CFDataRef sig = NULL;
    ref_error err = ref_core_sign(core, "k1", MSG, strlen(MSG), REF_PRESENCE_NONE, 0, &sig);
    assert_int_equal(err, ref_errmap_error(REF_BRIDGE_LOAD));
    assert_int_not_equal(err, REF_ERR_KEY_NOT_FOUND);
    assert_null(sig);
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_LOAD);
    char expect[32];
    snprintf(expect, sizeof expect, "(%d)", -EIO);
    assert_non_null(strstr(ref_core_last_message(core), expect));
    assert_true(file_of(core, "k1", ".handle"));
    assert_int_equal(sign_verified(core, "k1", REF_PRESENCE_NONE, 0), REF_OK);
    ref_core_free(core);
}

/* An unparseable .meta means defaults: presence none, so a key-default sign
 * of a key recorded as "cached" registers no context any more. */
static void unparseable_meta_falls_back_to_defaults(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
    assert_int_equal(sign_verified(core, "k1", REF_PRESENCE_KEY_DEFAULT, REF_TTL_DEFAULT), REF_OK);
    assert_true(ref_core_has_lacontext(core, "k1"));
    ref_core_evict_all(core);
    put_file(core, "k1", ".meta", "{\"auth\":", 8);
    assert_int_equal(sign_verified(core, "k1", REF_PRESENCE_KEY_DEFAULT, REF_TTL_DEFAULT), REF_OK);
    assert_false(ref_core_has_lacontext(core, "k1"));
    ref_core_free(core);
}

/* ---- generate -------------------------------------------------------------------------------- */

static void generate_refuses_unknown_modes_and_defaults_presence(void **state) {
    (void)state;
    ref_core *core = agent_core();
    uint64_t total = world_calls_total(F.w);
    assert_int_equal(ref_core_generate(core, "k1", (ref_auth)9, REF_PRESENCE_NONE),
                     REF_ERR_KEY_OPERATION);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, (ref_presence)9),
                     REF_ERR_KEY_OPERATION);
    assert_non_null(strstr(ref_core_last_message(core), "unknown auth policy or presence mode"));
    assert_int_equal(world_calls_total(F.w), total);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_KEY_DEFAULT),
                     REF_OK);
    char path[512];
    key_path(core, "k1", ".meta", path, sizeof path);
    size_t len = 0;
    const unsigned char *meta = world_file_get(F.w, path, &len);
    assert_non_null(meta);
    ref_meta m;
    assert_true(ref_meta_parse((const char *)meta, len, &m));
    assert_int_equal(m.presence, REF_PRESENCE_NONE);
    ref_core_free(core);
}

/* No default keychain and the login keychain cannot be opened either: the
 * original errSecNoDefaultKeychain is what the core reports, and nothing is
 * left behind. */
static void login_keychain_unreachable_reports_no_default_keychain(void **state) {
    (void)state;
    add_process("cron", true, NULL, true, true);
    ref_config c = cfg_default();
    c.access_group = NULL;
    ref_core *core = core_with(&c);
    fault(WORLD_API_SEC_KEYCHAIN, errSecParam, 1, 0);
    assert_int_not_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    bool has = false;
    assert_int_equal(ref_core_last_status(core, &has), errSecNoDefaultKeychain);
    assert_true(has);
    assert_true(world_calls_made(F.w, WORLD_API_SEC_KEYCHAIN) >= 1);
    assert_false(file_of(core, "k1", ".handle") || file_of(core, "k1", ".meta"));
    assert_int_equal(world_item_count(F.w), 0);
    assert_int_equal(live_se_keys(), 0);
    ref_core_free(core);
}

/* ---- pubkey ---------------------------------------------------------------------------------- */

/* A .pub that is not a valid uncompressed P-256 point is ignored, the SE is
 * asked, and the file repaired. */
static void invalid_pub_files_are_repaired_from_the_se(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint8_t real[65];
    newest_public_key(real);
    uint8_t short_pub[64], compressed[65], off_curve[65];
    memcpy(short_pub, real, sizeof short_pub);
    memcpy(compressed, real, sizeof compressed);
    compressed[0] = 0x02;
    memset(off_curve, 0x01, sizeof off_curve);
    off_curve[0] = 0x04;
    const struct {
        const uint8_t *bytes;
        size_t len;
    } bad[] = {{short_pub, sizeof short_pub}, {compressed, 65}, {off_curve, 65}};
    char path[512];
    key_path(core, "k1", ".pub", path, sizeof path);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_file(core, "k1", ".pub", bad[i].bytes, bad[i].len);
        uint64_t se = world_calls_made(F.w, WORLD_API_SE_PUBLIC_KEY);
        uint8_t out[65];
        assert_int_equal(ref_core_pubkey(core, "k1", out), REF_OK);
        assert_memory_equal(out, real, 65);
        assert_int_equal(world_calls_made(F.w, WORLD_API_SE_PUBLIC_KEY), se + 1);
        size_t len = 0;
        const unsigned char *now = world_file_get(F.w, path, &len);
        assert_int_equal(len, 65);
        assert_memory_equal(now, real, 65);
    }
    /* The SE refusing: a load failure, the bad file left for the next try. */
    put_file(core, "k1", ".pub", off_curve, 65);
    fault(WORLD_API_SE_PUBLIC_KEY, errSecItemNotFound, 1, 1);
    uint8_t out[65];
    assert_int_equal(ref_core_pubkey(core, "k1", out), ref_errmap_error(REF_BRIDGE_LOAD));
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_LOAD);
    assert_non_null(strstr(ref_core_last_message(core), "SE public key returned"));
    size_t len = 0;
    const unsigned char *now = world_file_get(F.w, path, &len);
    assert_memory_equal(now, off_curve, 65);
    ref_core_free(core);
}

/* ---- The keychain item and the handle going bad ---------------------------------------------- */

/* A wrapping-key item of the wrong length: load fails with the keychain load
 * code, naming the length; delete keeps everything (not known to be
 * unrecoverable). */
static void wrong_length_item_fails_load_and_delete_keeps_it(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    world_item_view v;
    assert_true(dp_item(core, "k1", &v));
    /* Replace the item by one holding 16 bytes (through the API, as another
     * program writing the item would). */
    CFMutableDictionaryRef q = dp_item_query(core, CFSTR("k1"));
    CFMutableDictionaryRef attrs = CFDictionaryCreateMutable(
        NULL, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
    CFDataRef short_key = CFDataCreate(NULL, (const UInt8 *)"sixteen bytes!!!", 16);
    CFDictionarySetValue(attrs, kSecValueData, short_key);
    assert_int_equal(SecItemUpdate(q, attrs), errSecSuccess);
    CFRelease(short_key);
    CFRelease(attrs);
    CFRelease(q);

    assert_int_equal(ref_core_load(core, "k1"), ref_errmap_error(REF_BRIDGE_KEYCHAIN_LOAD));
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_KEYCHAIN_LOAD);
    assert_non_null(strstr(ref_core_last_message(core), "holds 16 bytes, not 32"));
    assert_false(ref_core_has_cached_key(core, "k1"));
    assert_int_not_equal(ref_core_delete(core, "k1"), REF_OK);
    assert_true(file_of(core, "k1", ".handle") && file_of(core, "k1", ".pub"));
    assert_true(dp_item(core, "k1", &v));
    assert_int_equal(v.data_len, 16);
    assert_int_equal(live_se_keys(), 1);
    ref_core_free(core);
}

/* A tampered handle does not decrypt: a decrypt failure naming the EHW1
 * status; delete then removes what is left (the SE key cannot be named). */
static void tampered_handle_fails_decrypt_and_delete_cleans_up(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    char path[512];
    key_path(core, "k1", ".handle", path, sizeof path);
    size_t len = 0;
    const unsigned char *h = world_file_get(F.w, path, &len);
    assert_non_null(h);
    unsigned char copy[1024];
    assert_true(len <= sizeof copy && len > REF_EHW1_OVERHEAD);
    memcpy(copy, h, len);
    copy[REF_EHW1_MAGIC_LEN + REF_EHW1_NONCE_LEN + 3] ^= 0x40;
    assert_int_equal(world_file_put(F.w, path, copy, len), 0);
    assert_int_equal(ref_core_load(core, "k1"), ref_errmap_error(REF_BRIDGE_DECRYPT));
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_DECRYPT);
    assert_non_null(strstr(ref_core_last_message(core), "does not verify"));
    assert_int_equal(ref_core_delete(core, "k1"), REF_OK);
    world_item_view v;
    assert_false(dp_item(core, "k1", &v));
    assert_false(file_of(core, "k1", ".handle") || file_of(core, "k1", ".pub") ||
                 file_of(core, "k1", ".meta"));
    ref_core_free(core);
}

/* ---- rename ---------------------------------------------------------------------------------- */

/* .pub and .meta are optional: a key without them renames. */
static void rename_without_optional_files(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "a", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    char path[512];
    key_path(core, "a", ".pub", path, sizeof path);
    assert_int_equal(kc_file_unlink(path), 0);
    assert_int_equal(ref_core_rename(core, "a", "b"), REF_OK);
    assert_false(file_of(core, "a", ".handle") || file_of(core, "a", ".meta"));
    assert_true(file_of(core, "b", ".handle") && file_of(core, "b", ".meta"));
    assert_false(file_of(core, "b", ".pub"));
    assert_int_equal(sign_verified(core, "b", REF_PRESENCE_NONE, 0), REF_OK);
    assert_true(file_of(core, "b", ".pub")); /* repaired by pubkey */
    ref_core_free(core);
}

/* A wrapped key whose wrapping-key item is gone cannot be renamed: every file
 * goes back, and the error says the wrapping key is missing. */
static void rename_of_a_key_without_its_item_rolls_back(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "a", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    CFMutableDictionaryRef q = dp_item_query(core, CFSTR("a"));
    assert_int_equal(SecItemDelete(q), errSecSuccess);
    CFRelease(q);
    assert_int_equal(ref_core_rename(core, "a", "b"), REF_ERR_WRAPPING_KEY_MISSING);
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_KEYCHAIN_NOT_FOUND);
    assert_non_null(strstr(ref_core_last_message(core), "no wrapping-key item for 'a'"));
    assert_true(file_of(core, "a", ".handle") && file_of(core, "a", ".pub") &&
                file_of(core, "a", ".meta"));
    assert_false(file_of(core, "b", ".handle") || file_of(core, "b", ".pub") ||
                 file_of(core, "b", ".meta"));
    ref_core_free(core);
}

/* The item is only on the file keychain (the DP keychain has none) and
 * moving it fails: nothing on the DP side to put back, every file back. */
static void rename_failing_on_the_file_keychain_rolls_back(void **state) {
    (void)state;
    /* An unsigned build has no entitlement: its store fell back to the file
     * keychain. */
    F.agent = proc("agent", false, NULL, true);
    ref_config c = cfg_default();
    c.is_signed = false;
    ref_core *core = core_with(&c);
    assert_int_equal(ref_core_generate(core, "a", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    world_item_view v;
    assert_true(world_item_find(F.w, WORLD_KEYCHAIN_FILE, ref_core_service(core), "a", NULL, &v));
    fault(WORLD_API_SEC_ITEM_UPDATE, errSecInteractionNotAllowed, 2, 1);
    ref_error err = ref_core_rename(core, "a", "b");
    assert_int_not_equal(err, REF_OK);
    assert_true(ref_errmap_is_transient(ref_core_last_bridge_code(core)));
    assert_true(file_of(core, "a", ".handle") && file_of(core, "a", ".pub"));
    assert_false(file_of(core, "b", ".handle"));
    assert_true(world_item_find(F.w, WORLD_KEYCHAIN_FILE, ref_core_service(core), "a", NULL, &v));
    assert_int_equal(ref_core_rename(core, "a", "b"), REF_OK);
    ref_core_free(core);
}

/* ---- More edges: the upstream duplicate check, files that fail, handles of
 * odd shapes, a growing context registry ---------------------------------------------------- */

/* Even the upstream duplicate check (the mutant) refuses a plaintext handle,
 * and leaves it alone. */
static void upstream_duplicate_check_keeps_a_plaintext_handle(void **state) {
    (void)state;
    ref_config c = cfg_default();
    c.mutants = REF_MUTANT_BIT(REF_MUT_LATENT_GENERATE_OVERWRITES_WRAPPED);
    ref_core *core = agent_core_with(&c);
    put_file(core, "old", ".handle", "plaintext SE blob", 17);
    uint64_t gen = world_calls_made(F.w, WORLD_API_SE_GENERATE);
    assert_int_equal(ref_core_generate(core, "old", REF_AUTH_NONE, REF_PRESENCE_NONE),
                     REF_ERR_DUPLICATE_LABEL);
    assert_non_null(strstr(ref_core_last_message(core), "the handle file exists"));
    assert_int_equal(world_calls_made(F.w, WORLD_API_SE_GENERATE), gen);
    char path[512];
    key_path(core, "old", ".handle", path, sizeof path);
    size_t len = 0;
    const unsigned char *h = world_file_get(F.w, path, &len);
    assert_int_equal(len, 17);
    assert_memory_equal(h, "plaintext SE blob", 17);
    ref_core_free(core);
}

/* The handle vanishing under a rename (after the .pub and .meta moved) puts
 * them back and fails; nothing is half-renamed. */
static void rename_whose_handle_vanishes_rolls_back(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "a", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    fault_match(WORLD_API_FILE_RENAME, -ENOENT, 1, 1, "*a.handle");
    assert_int_equal(ref_core_rename(core, "a", "b"), REF_ERR_KEY_OPERATION);
    assert_non_null(strstr(ref_core_last_message(core), "renaming a.handle failed"));
    assert_true(file_of(core, "a", ".handle") && file_of(core, "a", ".pub") &&
                file_of(core, "a", ".meta"));
    assert_false(file_of(core, "b", ".pub") || file_of(core, "b", ".meta"));
    assert_int_equal(sign_verified(core, "a", REF_PRESENCE_NONE, 0), REF_OK);
    ref_core_free(core);
}

/* A .pub that cannot be read is not trusted: the SE is asked instead. */
static void unreadable_pub_falls_back_to_the_se(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    uint8_t real[65];
    newest_public_key(real);
    fault_match(WORLD_API_FILE_READ, -EIO, 1, 1, "*k1.pub");
    uint64_t se = world_calls_made(F.w, WORLD_API_SE_PUBLIC_KEY);
    uint8_t out[65];
    assert_int_equal(ref_core_pubkey(core, "k1", out), REF_OK);
    assert_memory_equal(out, real, 65);
    assert_int_equal(world_calls_made(F.w, WORLD_API_SE_PUBLIC_KEY), se + 1);
    ref_core_free(core);
}

/* A handle cut short behind a cached key: truncated is not "the key
 * changed" (that is only a tag mismatch), so no keychain re-read, a decrypt
 * failure naming the truncation. */
static void truncated_handle_behind_a_cached_key(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_true(ref_core_has_cached_key(core, "k1"));
    put_file(core, "k1", ".handle", "EHW1short", 9);
    uint64_t copies = world_calls_made(F.w, WORLD_API_SEC_ITEM_COPY_MATCHING);
    assert_int_equal(ref_core_load(core, "k1"), ref_errmap_error(REF_BRIDGE_DECRYPT));
    assert_non_null(strstr(ref_core_last_message(core), "truncated"));
    assert_int_equal(world_calls_made(F.w, WORLD_API_SEC_ITEM_COPY_MATCHING), copies);
    ref_core_free(core);
}

/* An empty handle file is a (legacy) plaintext handle of nothing: load
 * passes it through, and the SE refuses to sign with it. */
static void empty_handle_is_passed_through_and_refused_by_the_se(void **state) {
    (void)state;
    ref_core *core = agent_core();
    put_file(core, "e", ".handle", "", 0);
    assert_int_equal(ref_core_load(core, "e"), REF_OK);
    CFDataRef sig = NULL;
    assert_int_equal(ref_core_sign(core, "e", MSG, strlen(MSG), REF_PRESENCE_NONE, 0, &sig),
                     REF_ERR_SIGN_FAILED);
    assert_null(sig);
    assert_int_equal(ref_core_last_bridge_code(core), REF_BRIDGE_SIGN);
    ref_core_free(core);
}

/* The context registry grows past its first allocation and keeps every
 * context: five labels signed in cached mode, five contexts, no re-prompt. */
static void context_registry_grows(void **state) {
    (void)state;
    ref_core *core = agent_core();
    char label[8];
    for (int i = 0; i < 5; i++) {
        snprintf(label, sizeof label, "p%d", i);
        assert_int_equal(ref_core_generate(core, label, REF_AUTH_ANY, REF_PRESENCE_CACHED), REF_OK);
        assert_int_equal(sign_verified(core, label, REF_PRESENCE_CACHED, 60000), REF_OK);
    }
    uint64_t prompts = world_prompts_total(F.w);
    for (int i = 0; i < 5; i++) {
        snprintf(label, sizeof label, "p%d", i);
        assert_true(ref_core_has_lacontext(core, label));
        assert_int_equal(sign_verified(core, label, REF_PRESENCE_CACHED, 60000), REF_OK);
    }
    assert_int_equal(world_prompts_total(F.w), prompts);
    ref_core_free(core);
}

static void config_without_app_has_no_paths(void **state) {
    (void)state;
    ref_config c = cfg_default();
    c.app = NULL;
    char buf[64];
    assert_int_equal(ref_config_service(&c, buf, sizeof buf), 0);
    assert_int_equal(ref_config_key_path(&c, "k", ".pub", buf, sizeof buf), 0);
    c.key_dir = "/d/";
    assert_int_equal(ref_config_key_path(&c, "k", ".pub", buf, sizeof buf), strlen("/d/k.pub"));
    assert_string_equal(buf, "/d/k.pub");
}

/* ---- Mutants whose own steps fail ------------------------------------------------------------ */

/* An older release's wrapped key: SE key, handle, .pub, .meta, and its
 * wrapping-key item of class `cls` on keychain `kc` (no presence). */
static void plant_wrapped(const ref_core *core, const char *label, world_class cls,
                          world_keychain kc) {
    unsigned char blob[512];
    size_t bl = 0;
    assert_int_equal(world_se_key_plant(F.w, false, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
                                        0, blob, sizeof blob, &bl),
                     0);
    unsigned char key[32], nonce[12], sealed[600];
    world_random_bytes(F.w, key, sizeof key);
    world_random_bytes(F.w, nonce, sizeof nonce);
    size_t sl = 0;
    assert_int_equal(ref_ehw1_seal(key, nonce, blob, bl, sealed, sizeof sealed, &sl), REF_EHW1_OK);
    put_file(core, label, ".handle", sealed, sl);
    world_item_view it;
    memset(&it, 0, sizeof it);
    it.keychain = kc;
    it.service = ref_core_service(core);
    it.account = label;
    it.access_group = kc == WORLD_KEYCHAIN_DP ? GROUP : NULL;
    it.accessible = cls;
    it.data = key;
    it.data_len = 32;
    it.creator = world_process_identity(F.w, world_current(F.w));
    assert_int_equal(world_item_plant(F.w, &it), 0);
}

static ref_core *mutant_core(ref_mutant m, bool group) {
    F.agent = proc("agent", true, group ? GROUP : NULL, true);
    ref_config c = cfg_default();
    c.mutants = REF_MUTANT_BIT(m);
    if (!group)
        c.access_group = NULL;
    ref_core *core = core_with(&c);
    return core;
}

/* latent-migration-window: the delete of its delete-then-add fails, so it
 * adds nothing; the load still succeeds and the item keeps its class. */
static void migration_window_whose_delete_fails_writes_nothing(void **state) {
    (void)state;
    ref_core *core = mutant_core(REF_MUT_LATENT_MIGRATION_WINDOW, true);
    plant_wrapped(core, "k1", WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY, WORLD_KEYCHAIN_DP);
    fault(WORLD_API_SEC_ITEM_DELETE, errSecInteractionNotAllowed, 1, 1);
    uint64_t adds = world_calls_made(F.w, WORLD_API_SEC_ITEM_ADD);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(world_calls_made(F.w, WORLD_API_SEC_ITEM_ADD), adds);
    ref_stats s;
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.migrations_attempted, 1);
    assert_int_equal(s.migrations_written, 0);
    world_item_view v;
    assert_true(dp_item(core, "k1", &v));
    assert_int_equal(v.accessible, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY);
    /* Its delete answering "not found" (another process was first) goes on
     * to the add, which finds the item still there: nothing written. */
    ref_core_evict_wrapping_key_cache(core, "k1");
    fault(WORLD_API_SEC_ITEM_DELETE, errSecItemNotFound, 1, 1);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    assert_int_equal(world_calls_made(F.w, WORLD_API_SEC_ITEM_ADD), adds + 1);
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.migrations_attempted, 2);
    assert_int_equal(s.migrations_written, 0);
    assert_true(dp_item(core, "k1", &v));
    assert_int_equal(v.accessible, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY);
    ref_core_free(core);
}

/* A file-keychain add refused with errSecMissingEntitlement while asking for
 * presence is retried without presence (and says so in a warning). */
static void presence_refused_by_entitlement_on_the_file_keychain(void **state) {
    (void)state;
    F.agent = proc("agent", true, NULL, true);
    ref_config c = cfg_default();
    c.access_group = NULL;
    c.wrap_presence = true;
    ref_core *core = core_with(&c);
    assert_int_equal(world_login_keychain_unlock(F.w), 0);
    fault(WORLD_API_SEC_ITEM_ADD, errSecMissingEntitlement, 1, 1);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_non_null(strstr(ref_core_last_warning(core), "presence downgraded"));
    world_item_view v;
    assert_true(world_item_find(F.w, WORLD_KEYCHAIN_FILE, ref_core_service(core), "k1", NULL, &v));
    assert_false(v.has_access_control);
    ref_core_free(core);
}

/* pr162-migration-evicts: its evicting store fails; the load still succeeds,
 * nothing counts as written. */
static void evicting_migration_whose_store_fails(void **state) {
    (void)state;
    ref_core *core = mutant_core(REF_MUT_PR162_MIGRATION_EVICTS, true);
    plant_wrapped(core, "k1", WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY, WORLD_KEYCHAIN_DP);
    fault(WORLD_API_SEC_ITEM_ADD, errSecInteractionNotAllowed, 1, 0);
    assert_int_equal(ref_core_load(core, "k1"), REF_OK);
    ref_stats s;
    ref_core_stats(core, "k1", &s);
    assert_int_equal(s.migrations_attempted, 1);
    assert_int_equal(s.migrations_written, 0);
    ref_core_free(core);
}

/* latent-destroy-on-transient and latent-delete-drops-wrapping-key on a
 * core without an access group: the bug reaches the file keychain only. */
static void transient_mutants_without_a_group_hit_the_file_keychain(void **state) {
    (void)state;
    ref_core *core = mutant_core(REF_MUT_LATENT_DESTROY_ON_TRANSIENT, false);
    plant_wrapped(core, "k1", WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY, WORLD_KEYCHAIN_FILE);
    uint64_t dels = world_calls_made(F.w, WORLD_API_SEC_ITEM_DELETE);
    fault(WORLD_API_SEC_ITEM_COPY_MATCHING, errSecInteractionNotAllowed, 1, 1);
    assert_int_equal(ref_core_load(core, "k1"), REF_ERR_INTERACTION_REQUIRED);
    assert_int_equal(world_calls_made(F.w, WORLD_API_SEC_ITEM_DELETE), dels + 1);
    world_item_view v;
    assert_false(world_item_find(F.w, WORLD_KEYCHAIN_FILE, ref_core_service(core), "k1", NULL, &v));
    ref_core_free(core);
    world_process_restart(F.w, F.agent);

    ref_config c = cfg_default();
    c.access_group = NULL;
    c.mutants = REF_MUTANT_BIT(REF_MUT_LATENT_DELETE_DROPS_WRAPPING_KEY);
    core = core_with(&c);
    plant_wrapped(core, "k2", WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY, WORLD_KEYCHAIN_FILE);
    dels = world_calls_made(F.w, WORLD_API_SEC_ITEM_DELETE);
    fault(WORLD_API_SEC_ITEM_COPY_MATCHING, errSecInteractionNotAllowed, 1, 1);
    assert_int_equal(ref_core_delete(core, "k2"), REF_ERR_INTERACTION_REQUIRED);
    assert_int_equal(world_calls_made(F.w, WORLD_API_SEC_ITEM_DELETE), dels + 1);
    assert_false(world_item_find(F.w, WORLD_KEYCHAIN_FILE, ref_core_service(core), "k2", NULL, &v));
    assert_true(file_of(core, "k2", ".handle")); /* the files stay: the bug is the item */
    ref_core_free(core);
}

/* ---- An item without a handle (ref/README.md "Crash safety") --------------------------------- */

/* Leaves k's wrapping-key item behind without any file, as a generate
 * interrupted after its store would. */
static void strand_item(const ref_core *core, const char *label) {
    static const char *const exts[] = {".pub", ".meta", ".handle"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        key_path(core, label, exts[i], path, sizeof path);
        assert_int_equal(kc_file_unlink(path), 0);
    }
}

/* Debris is replaced by a new generate, but only when the key directory
 * proves that no handle names the item: a directory that cannot be listed
 * proves nothing, and the label stays refused. */
static void stranded_item_needs_a_readable_directory_to_be_debris(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    strand_item(core, "k1");
    world_item_view before;
    assert_true(dp_item(core, "k1", &before));
    uint64_t writes = before.writes;
    fault_match(WORLD_API_FILE_READ, -EIO, 1, 1, "*keys/");
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE),
                     REF_ERR_DUPLICATE_LABEL);
    assert_non_null(strstr(ref_core_last_message(core), "no handle file names it"));
    world_item_view v;
    assert_true(dp_item(core, "k1", &v));
    assert_int_equal(v.writes, writes);
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(sign_verified(core, "k1", REF_PRESENCE_NONE, 0), REF_OK);
    ref_core_free(core);
}

/* Another key's handle that cannot be read might be the one naming the
 * item: the label stays refused. */
static void stranded_item_with_an_unreadable_handle_elsewhere_is_kept(void **state) {
    (void)state;
    ref_core *core = agent_core();
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    assert_int_equal(ref_core_generate(core, "k2", REF_AUTH_NONE, REF_PRESENCE_NONE), REF_OK);
    strand_item(core, "k1");
    fault_match(WORLD_API_FILE_READ, -EIO, 1, 1, "*k2.handle");
    assert_int_equal(ref_core_generate(core, "k1", REF_AUTH_NONE, REF_PRESENCE_NONE),
                     REF_ERR_DUPLICATE_LABEL);
    world_item_view v;
    assert_true(dp_item(core, "k1", &v));
    assert_int_equal(sign_verified(core, "k2", REF_PRESENCE_NONE, 0), REF_OK);
    ref_core_free(core);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(config_limits_refuse_the_core),
        T(config_strings_need_room),
        T(last_error_and_totals_follow_each_operation),
        T(full_cache_drops_the_entry_closest_to_expiry),
        T(evict_all_reaches_contexts_without_a_cached_key),
        T(stale_cached_key_is_replaced_after_recreation_elsewhere),
        T(sign_checks_its_arguments_before_any_call),
        T(unreadable_handle_is_a_load_failure),
        T(unparseable_meta_falls_back_to_defaults),
        T(generate_refuses_unknown_modes_and_defaults_presence),
        T(login_keychain_unreachable_reports_no_default_keychain),
        T(invalid_pub_files_are_repaired_from_the_se),
        T(wrong_length_item_fails_load_and_delete_keeps_it),
        T(tampered_handle_fails_decrypt_and_delete_cleans_up),
        T(rename_without_optional_files),
        T(rename_of_a_key_without_its_item_rolls_back),
        T(rename_failing_on_the_file_keychain_rolls_back),
        T(upstream_duplicate_check_keeps_a_plaintext_handle),
        T(rename_whose_handle_vanishes_rolls_back),
        T(unreadable_pub_falls_back_to_the_se),
        T(truncated_handle_behind_a_cached_key),
        T(empty_handle_is_passed_through_and_refused_by_the_se),
        T(context_registry_grows),
        T(config_without_app_has_no_paths),
        T(migration_window_whose_delete_fails_writes_nothing),
        T(evicting_migration_whose_store_fails),
        T(presence_refused_by_entitlement_on_the_file_keychain),
        T(transient_mutants_without_a_group_hit_the_file_keychain),
        T(stranded_item_needs_a_readable_directory_to_be_debris),
        T(stranded_item_with_an_unreadable_handle_elsewhere_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
