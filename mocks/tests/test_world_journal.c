/* The journal and determinism, the seeded generator, the clock, and the
 * names the scenario language uses: statuses, APIs, knobs
 * (architecture.md "Determinism rules", keyclass/world.h). */
#include "test_sec_helpers.h"

#include "../src/world_internal.h"
#include "keyclass/files.h"

#include <errno.h>

/* Implemented by the world (world.c); the CoreFoundation shim header does not
 * declare it yet, so it is declared here with Apple's signature. */
CFAbsoluteTime CFAbsoluteTimeGetCurrent(void);

/* 2026-01-01T00:00:00Z as CFAbsoluteTime: where every world's clock starts. */
#define EPOCH 788918400.0

/* No fixture world here: most tests need two worlds. Each test checks that it
 * leaked no CF object and misused none. */
static kc_cf_snapshot_t cf_before;

static int setup(void **state) {
    (void)state;
    kc_cf_reset_misuse();
    kc_cf_snapshot(&cf_before);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    world_activate(NULL);
    return cf_clean_since(&cf_before);
}

/* ---- Determinism ---------------------------------------------------------------- */

static int32_t sim_call(world *w, world_api api, const char *service, const char *account,
                        world_class cls) {
    world_call call;
    world_call_begin(w, &call, api);
    snprintf(call.service, sizeof call.service, "%s", service);
    snprintf(call.account, sizeof call.account, "%s", account);
    call.keychain = "dp";
    call.cls = (int)cls;
    call.in_size = 32;
    int32_t st;
    if (!world_call_faulted(w, &call, &st))
        st = world_class_key_available(w, cls) ? errSecSuccess : errSecInteractionNotAllowed;
    return world_call_end(w, &call, st);
}

/* A long, mixed sequence of events and calls touching every part of the world
 * core. Returns the random bytes drawn at the end in *tail. */
static void drive(world *w, unsigned char tail[16]) {
    world_activate(w);
    world_set_knob(w, WORLD_KNOB_LOCK_GRACE_MS, 5000);
    world_process_config a = {.name = "agent",
                              .app = "sshenc",
                              .is_signed = true,
                              .access_group = "TEAMID.com.example.sshenc",
                              .gui = true};
    world_process_config b = {.name = "dev", .app = "sshenc", .is_signed = false, .gui = false};
    world_pid pa = world_process_add(w, &a);
    world_pid pb = world_process_add(w, &b);
    world_device_boot(w);
    world_device_unlock(w);
    world_set_current(w, pa);
    world_user_queue(w, WORLD_ANSWER_CANCEL, 2);
    world_user_set_default(w, WORLD_ANSWER_FAIL);
    world_fault f = {.api = WORLD_API_SEC_ITEM_COPY_MATCHING,
                     .status = errSecInteractionNotAllowed,
                     .nth = 2,
                     .times = 2,
                     .proc = pa,
                     .match = "com.example.sshenc/*"};
    world_fault_add(w, &f);
    world_fault_crash(w, pb, WORLD_API_FILE_WRITE, 2);
    for (int i = 0; i < 6; i++) {
        char acct[8];
        snprintf(acct, sizeof acct, "k%d", i);
        sim_call(w, WORLD_API_SEC_ITEM_ADD, "com.example.sshenc", acct,
                 WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
        sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "com.example.sshenc", acct,
                 WORLD_CLASS_WHEN_UNLOCKED);
        world_prompt_show(w, (world_prompt_kind)(i % WORLD_PROMPT_KIND_COUNT), acct);
        world_advance(w, 1000 * i);
    }
    world_journal_note(w, "step %d: %s", 7, "agent: sign k1");
    kc_file_write_atomic("keys/k1.handle", "EHW1....", 8);
    kc_file_rename("keys/k1.handle", "keys/k2.handle");
    world_set_current(w, pb);
    kc_file_write_atomic("keys/dev1", "a", 1);
    kc_file_write_atomic("keys/dev2", "b", 1); /* crash point */
    kc_file_write_atomic("keys/dev3", "c", 1); /* no effect */
    CFDataRef data = NULL;
    kc_file_read("keys/k2.handle", &data);
    if (data != NULL)
        CFRelease(data);
    world_process_restart(w, pb);
    world_process_rebuild(w, pb);
    world_device_lock(w);
    world_advance(w, 4999);
    sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "svc", "x", WORLD_CLASS_WHEN_UNLOCKED);
    world_advance(w, 1);
    sim_call(w, WORLD_API_SEC_ITEM_COPY_MATCHING, "svc", "x", WORLD_CLASS_WHEN_UNLOCKED);
    world_device_sleep(w);
    world_device_unlock(w); /* refused: asleep */
    world_advance(w, 2 * 3600 * 1000);
    world_device_wake(w);
    world_fault_lose_class_key(w, WORLD_CLASS_AFTER_FIRST_UNLOCK);
    world_fault_destroy_class_key(w, WORLD_CLASS_ALWAYS);
    world_login_keychain_set_lock_on_sleep(w, true);
    world_login_keychain_lock(w);
    world_login_keychain_unlock(w);
    world_device_set_passcode(w, false);
    world_device_set_biometry(w, false);
    world_device_reboot(w);
    world_random_bytes(w, tail, 16);
    world_activate(NULL);
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Same seed, same sequence: byte-identical journals and random streams. */
static void test_same_seed_identical_journal(void **state) {
    (void)state;
    world *w1 = world_new(2026);
    world *w2 = world_new(2026);
    unsigned char t1[16], t2[16];
    drive(w1, t1);
    drive(w2, t2);
    assert_int_equal(world_journal_length(w1), world_journal_length(w2));
    assert_string_equal(world_journal(w1), world_journal(w2));
    assert_memory_equal(t1, t2, sizeof t1);
    assert_int_equal(world_step(w1), world_step(w2));
    assert_int_equal(world_step(w1), count_lines(world_journal(w1)));
    assert_true(world_calls_total(w1) > 10);
    /* The identities drawn from the generator agree too. */
    assert_string_equal(world_process_identity(w1, 1), world_process_identity(w2, 1));
    world_free(w1);
    world_free(w2);
}

/* Different seeds: different random bytes (and unsigned identities), the
 * same journal apart from the seed it names. */
static void test_different_seed_same_shape(void **state) {
    (void)state;
    world *w1 = world_new(1);
    world *w2 = world_new(2);
    unsigned char t1[16], t2[16];
    drive(w1, t1);
    drive(w2, t2);
    assert_memory_not_equal(t1, t2, sizeof t1);
    assert_string_not_equal(world_process_identity(w1, 1), world_process_identity(w2, 1));
    /* Signed identities do not depend on the seed. */
    assert_string_equal(world_process_identity(w1, 0), world_process_identity(w2, 0));
    const char *j1 = world_journal(w1), *j2 = world_journal(w2);
    assert_non_null(strstr(j1, "world seed=1\n"));
    assert_non_null(strstr(j2, "world seed=2\n"));
    assert_int_equal(count_lines(j1), count_lines(j2));
    assert_string_equal(strchr(j1, '\n'), strchr(j2, '\n'));
    world_free(w1);
    world_free(w2);
}

/* Every line: "#<step> t=<ms> <kind> ...\n", steps 1, 2, 3, ... */
static void test_journal_line_format(void **state) {
    (void)state;
    world *w = world_new(5);
    unsigned char tail[16];
    drive(w, tail);
    const char *p = world_journal(w);
    unsigned long long expect = 1;
    while (*p) {
        unsigned long long step;
        long long t;
        char kind[8];
        int used = 0;
        assert_int_equal(sscanf(p, "#%llu t=%lld %7s %n", &step, &t, kind, &used), 3);
        assert_true(used > 0);
        assert_int_equal(step, expect++);
        assert_true(strcmp(kind, "event") == 0 || strcmp(kind, "call") == 0 ||
                    strcmp(kind, "note") == 0);
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        p = nl + 1;
    }
    assert_int_equal(expect - 1, world_step(w));
    assert_non_null(strstr(world_journal(w), " note step 7: agent: sign k1\n"));
    assert_non_null(strstr(world_journal(w), " event knob lock_grace=5000\n"));
    /* t= follows the clock. */
    assert_non_null(strstr(world_journal(w), " t=7220000 event device wake\n"));
    /* Content written to files never reaches the journal. */
    assert_null(strstr(world_journal(w), "EHW1...."));
    world_free(w);
}

/* ---- Random ------------------------------------------------------------------------ */

/* The generator is one stream: how it is cut into draws does not matter, and
 * no byte is handed out twice. */
static void test_random_stream(void **state) {
    (void)state;
    world *w1 = world_new(77);
    world *w2 = world_new(77);
    unsigned char one[1000], parts[1000];
    world_random_bytes(w1, one, sizeof one);
    world_random_bytes(w2, parts, 1);
    world_random_bytes(w2, parts + 1, 254);
    world_random_bytes(w2, parts + 255, 0);
    world_random_bytes(w2, parts + 255, 2);
    world_random_bytes(w2, parts + 257, 743);
    assert_memory_equal(one, parts, sizeof one);
    /* Not a constant stream. */
    int zeros = 0;
    for (size_t i = 0; i < sizeof one; i++)
        zeros += one[i] == 0;
    assert_true(zeros < 20);
    assert_memory_not_equal(one, one + 256, 256);
    /* A different seed, a different stream. */
    world *w3 = world_new(78);
    unsigned char other[32];
    world_random_bytes(w3, other, sizeof other);
    unsigned char next1[32];
    world_random_bytes(w1, next1, sizeof next1);
    assert_memory_not_equal(other, next1, sizeof other);
    world_free(w1);
    world_free(w2);
    world_free(w3);
}

/* SecRandomCopyBytes draws from the active world's generator. */
static void test_sec_random_draws_from_active_world(void **state) {
    (void)state;
    world *a = world_new(10);
    world *twin = world_new(10);
    world *b = world_new(11);
    unsigned char x[48], y[48];

    world_activate(a);
    assert_int_equal(SecRandomCopyBytes(kSecRandomDefault, sizeof x, x), errSecSuccess);
    world_random_bytes(twin, y, sizeof y);
    assert_memory_equal(x, y, sizeof x);
    /* It consumed a's stream: the next draws agree again. */
    world_random_bytes(a, x, 16);
    world_random_bytes(twin, y, 16);
    assert_memory_equal(x, y, 16);

    world_activate(b);
    assert_int_equal(SecRandomCopyBytes(kSecRandomDefault, 16, x), errSecSuccess);
    world_random_bytes(twin, y, 16);
    assert_memory_not_equal(x, y, 16);
    /* No call is counted or journaled. */
    assert_int_equal(world_calls_total(b), 0);

    assert_int_equal(SecRandomCopyBytes(kSecRandomDefault, 0, NULL), errSecSuccess);
    assert_int_equal(SecRandomCopyBytes(kSecRandomDefault, 4, NULL), errSecParam);
    world_activate(NULL);
    assert_int_equal(SecRandomCopyBytes(kSecRandomDefault, 4, x), errSecParam);
    world_free(a);
    world_free(twin);
    world_free(b);
}

/* ---- Clock and activation ----------------------------------------------------------- */

static void test_clock_and_absolute_time(void **state) {
    (void)state;
    world *w = world_new(3);
    world *v = world_new(3);
    assert_int_equal(world_now_ms(w), 0);
    world_activate(w);
    assert_true(CFAbsoluteTimeGetCurrent() == EPOCH);
    world_advance(w, 1500);
    assert_int_equal(world_now_ms(w), 1500);
    assert_true(CFAbsoluteTimeGetCurrent() == EPOCH + 1.5);
    assert_true(world_absolute_time(w) == EPOCH + 1.5);
    world_advance(w, 2 * 3600 * 1000);
    assert_true(CFAbsoluteTimeGetCurrent() == EPOCH + 1.5 + 7200.0);
    /* The active world's clock, not another's. */
    world_activate(v);
    assert_true(CFAbsoluteTimeGetCurrent() == EPOCH);
    world_activate(NULL);
    assert_true(CFAbsoluteTimeGetCurrent() == EPOCH);

    /* The clock never goes back; a refused step changes nothing. */
    size_t journal = world_journal_length(w);
    world_advance(w, -1);
    assert_int_equal(world_now_ms(w), 7201500);
    assert_int_equal(world_journal_length(w), journal);
    assert_non_null(strstr(world_last_error(w), "back"));
    world_advance(w, 0);
    assert_non_null(strstr(world_journal(w), "event clock +0ms\n"));
    world_free(w);
    world_free(v);
}

static void test_activation(void **state) {
    (void)state;
    assert_null(world_active());
    world *w = world_new(1);
    world *v = world_new(2);
    world_activate(w);
    assert_ptr_equal(world_active(), w);
    world_free(v); /* freeing another world leaves the active one */
    assert_ptr_equal(world_active(), w);
    world_free(w); /* freeing the active world deactivates it */
    assert_null(world_active());
    world_free(NULL);
}

/* ---- Status names ---------------------------------------------------------------- */

static void test_status_parse_names(void **state) {
    (void)state;
    static const struct {
        const char *name;
        int32_t value;
    } table[] = {
        {"errSecSuccess", 0},
        {"errSecUnimplemented", -4},
        {"errSecParam", -50},
        {"errSecAllocate", -108},
        {"errSecUserCanceled", -128},
        {"errSecNotAvailable", -25291},
        {"errSecAuthFailed", -25293},
        {"errSecDuplicateItem", -25299},
        {"errSecItemNotFound", -25300},
        {"errSecNoSuchAttr", -25303},
        {"errSecNoDefaultKeychain", -25307},
        {"errSecInteractionNotAllowed", -25308},
        {"errSecInteractionRequired", -25315},
        {"errSecDecode", -26275},
        {"errSecMissingEntitlement", -34018},
        {"LAErrorAuthenticationFailed", -1},
        {"LAErrorUserCancel", -2},
        {"LAErrorUserFallback", -3},
        {"LAErrorSystemCancel", -4},
        {"LAErrorPasscodeNotSet", -5},
        {"LAErrorAppCancel", -9},
        {"LAErrorInvalidContext", -10},
        {"LAErrorNotInteractive", -1004},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int32_t v = 777;
        if (!world_status_parse(table[i].name, &v))
            fail_msg("%s not parsed", table[i].name);
        if (v != table[i].value)
            fail_msg("%s = %d, expected %d", table[i].name, (int)v, (int)table[i].value);
    }
}

static void test_status_parse_integers(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int32_t value;
    } table[] = {
        {"0", 0},
        {"-25308", -25308},
        {"-34018", -34018},
        {"42", 42},
        {"2147483647", INT32_MAX},
        {"-2147483648", INT32_MIN},
        {"-0", 0},
        {"007", 7},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int32_t v = 777;
        if (!world_status_parse(table[i].text, &v) || v != table[i].value)
            fail_msg("\"%s\" not parsed as %d", table[i].text, (int)table[i].value);
    }
}

static void test_status_parse_rejects_garbage(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "-",
        "abc",
        "12abc",
        "0x10",
        "1e3",
        "2147483648",
        "-2147483649",
        "99999999999999999999",
        " -25308",
        "-25308 ",
        "\t5",
        "errSecBogus",
        "errsecparam",
        "ERRSECPARAM",
        "errSecParam ",
        "kSecAttrAccessibleAlways",
        "LAError",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t v = 777;
        if (world_status_parse(bad[i], &v))
            fail_msg("\"%s\" accepted as a status (%d)", bad[i], (int)v);
        if (v != 777)
            fail_msg("\"%s\" rejected but wrote the output", bad[i]);
    }
    int32_t v = 777;
    assert_false(world_status_parse(NULL, &v));
    assert_int_equal(v, 777);
}

/* The journal's status names: LocalAuthentication and SE calls read
 * overlapping codes as LAError; Security calls as OSStatus; file calls as ok. */
static void test_status_names_by_api(void **state) {
    (void)state;
    assert_string_equal(world_status_name(WORLD_API_SEC_ITEM_ADD, -25308),
                        "errSecInteractionNotAllowed");
    assert_string_equal(world_status_name(WORLD_API_SEC_ITEM_ADD, 0), "errSecSuccess");
    assert_string_equal(world_status_name(WORLD_API_SEC_ITEM_ADD, -4), "errSecUnimplemented");
    assert_string_equal(world_status_name(WORLD_API_LA_EVALUATE_POLICY, -4), "LAErrorSystemCancel");
    assert_string_equal(world_status_name(WORLD_API_SE_SIGN, -2), "LAErrorUserCancel");
    assert_string_equal(world_status_name(WORLD_API_SE_SIGN, -25308),
                        "errSecInteractionNotAllowed");
    assert_string_equal(world_status_name(WORLD_API_LA_EVALUATE_POLICY, 0), "errSecSuccess");
    assert_string_equal(world_status_name(WORLD_API_FILE_WRITE, 0), "ok");
    assert_null(world_status_name(WORLD_API_FILE_READ, -ENOENT));
    assert_null(world_status_name(WORLD_API_SEC_ITEM_ADD, 12345));
}

/* ---- API names -------------------------------------------------------------------- */

static void test_api_names_round_trip(void **state) {
    (void)state;
    for (int api = 0; api < WORLD_API_COUNT; api++) {
        const char *name = world_api_name((world_api)api);
        assert_non_null(name);
        assert_int_equal(world_api_from_name(name), api);
        for (int other = 0; other < api; other++)
            assert_string_not_equal(name, world_api_name((world_api)other));
    }
    /* The scenario language's fault list, exactly as written there. */
    static const char *const language[] = {
        "SecItemAdd",
        "SecItemCopyMatching",
        "SecItemUpdate",
        "SecItemDelete",
        "SecAccessControlCreateWithFlags",
        "LAEvaluatePolicy",
        "SEGenerate",
        "SESign",
    };
    for (size_t i = 0; i < sizeof language / sizeof language[0]; i++)
        assert_int_equal(world_api_from_name(language[i]), (int)i);
    assert_int_equal(world_api_from_name("secitemadd"), -1);
    assert_int_equal(world_api_from_name("SecItem"), -1);
    assert_int_equal(world_api_from_name(""), -1);
    assert_int_equal(world_api_from_name(NULL), -1);
    assert_null(world_api_name(WORLD_API_COUNT));
}

/* ---- Knobs ------------------------------------------------------------------------- */

static void test_knobs_names_and_defaults(void **state) {
    (void)state;
    static const struct {
        const char *name;
        world_knob knob;
        int64_t def;
    } table[] = {
        {"lock_grace", WORLD_KNOB_LOCK_GRACE_MS, 10000},
        {"se_reuse_requires_when_unlocked", WORLD_KNOB_SE_REUSE_REQUIRES_WHEN_UNLOCKED, 1},
        {"se_when_unlocked_unusable_while_locked", WORLD_KNOB_SE_WHEN_UNLOCKED_UNUSABLE_LOCKED, 1},
        {"se_available", WORLD_KNOB_SE_AVAILABLE, 1},
        {"la_max_reuse", WORLD_KNOB_LA_MAX_REUSE_MS, 300000},
        {"la_reuse_ends_at_lock", WORLD_KNOB_LA_REUSE_ENDS_AT_LOCK, 1},
    };
    assert_int_equal(sizeof table / sizeof table[0], WORLD_KNOB_COUNT);
    world *w = world_new(0);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        assert_int_equal(world_knob_from_name(table[i].name), table[i].knob);
        assert_string_equal(world_knob_name(table[i].knob), table[i].name);
        assert_int_equal(world_knob_default(table[i].knob), table[i].def);
        assert_int_equal(world_knob_value(w, table[i].knob), table[i].def);
        const char *doc = world_knob_doc(table[i].knob);
        assert_non_null(doc);
        assert_true(strlen(doc) > 20);
    }
    assert_int_equal(world_knob_from_name("lock-grace"), -1);
    assert_int_equal(world_knob_from_name("LOCK_GRACE"), -1);
    assert_int_equal(world_knob_from_name(""), -1);
    assert_int_equal(world_knob_from_name(NULL), -1);
    assert_null(world_knob_name(WORLD_KNOB_COUNT));
    assert_null(world_knob_doc(WORLD_KNOB_COUNT));

    world_set_knob(w, WORLD_KNOB_SE_AVAILABLE, 0);
    assert_int_equal(world_knob_value(w, WORLD_KNOB_SE_AVAILABLE), 0);
    assert_int_equal(world_knob_default(WORLD_KNOB_SE_AVAILABLE), 1);
    assert_non_null(strstr(world_journal(w), "event knob se_available=0\n"));
    size_t journal = world_journal_length(w);
    world_set_knob(w, WORLD_KNOB_COUNT, 5);
    assert_int_equal(world_journal_length(w), journal);
    /* Knobs belong to one world. */
    world *v = world_new(0);
    assert_int_equal(world_knob_value(v, WORLD_KNOB_SE_AVAILABLE), 1);
    world_free(v);
    world_free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_seed_identical_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_different_seed_same_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sec_random_draws_from_active_world, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_and_absolute_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_parse_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_parse_integers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_parse_rejects_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_names_by_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_names_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knobs_names_and_defaults, setup, teardown),
    };
    return cmocka_run_group_tests_name("world_journal", tests, NULL, NULL);
}
