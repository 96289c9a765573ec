/* Mutant catalogue, labels, agent-policy messages and the .meta format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ref/meta.h"
#include "ref/mutants.h"
#include "ref/policy.h"

/* The table of regressions.md, in order. */
static const char *const regression_names[] = {
    "pr80-no-acl-fallback",
    "pr118-two-prompts",
    "pr150-interaction-unmapped",
    "pr150-evict-without-exclusions",
    "pr151-no-window-server-as-locked",
    "pr155-evict-on-cancel",
    "pr158-missing-25308",
    "pr158-when-unlocked-wrapping",
    "pr158-blanket-class",
    "pr162-migration-evicts",
    "pr171-lacontext-without-presence",
    "latent-migrate-every-load",
    "latent-migration-window",
    "latent-migration-lost-update",
    "latent-store-unmapped",
    "latent-load-no-entitlement-fallback",
    "latent-generate-overwrites-wrapped",
    "latent-delete-drops-wrapping-key",
    "latent-destroy-on-transient",
};

static void every_regression_row_is_a_mutant(void **state) {
    (void)state;
    size_t n = sizeof regression_names / sizeof regression_names[0];
    assert_int_equal(n, REF_MUT_COUNT);
    for (size_t i = 0; i < n; i++) {
        ref_mutant m = REF_MUT_COUNT;
        assert_true(ref_mutant_from_name(regression_names[i], &m));
        assert_string_equal(ref_mutant_name(m), regression_names[i]);
        assert_non_null(ref_mutant_doc(m));
        assert_true(strlen(ref_mutant_doc(m)) > 20);
        assert_true(ref_mutant_in(REF_MUTANT_BIT(m), m));
        assert_false(ref_mutant_in(REF_MUTANTS_NONE, m));
    }
    assert_true(REF_MUT_COUNT <= 32); /* fits the set */
}

static void unknown_mutants_are_errors(void **state) {
    (void)state;
    ref_mutant m = REF_MUT_PR118_TWO_PROMPTS;
    assert_false(ref_mutant_from_name("pr999-nothing", &m));
    assert_false(ref_mutant_from_name("PR80-no-acl-fallback", &m));
    assert_false(ref_mutant_from_name("", &m));
    assert_false(ref_mutant_from_name(NULL, &m));
    assert_int_equal(m, REF_MUT_PR118_TWO_PROMPTS);
    assert_null(ref_mutant_name(REF_MUT_COUNT));
    assert_null(ref_mutant_doc((ref_mutant)-1));
    assert_false(ref_mutant_in(0xffffffffu, REF_MUT_COUNT));
}

static void labels(void **state) {
    (void)state;
    assert_true(ref_label_valid("k1"));
    assert_true(ref_label_valid("My-key_2.old"));
    assert_true(ref_label_valid("a."));
    char max[65];
    memset(max, 'x', 64);
    max[64] = '\0';
    assert_true(ref_label_valid(max));
    char over[66];
    memset(over, 'x', 65);
    over[65] = '\0';
    assert_false(ref_label_valid(over));
    assert_false(ref_label_valid(""));
    assert_false(ref_label_valid(NULL));
    assert_false(ref_label_valid(".hidden"));
    assert_false(ref_label_valid("a/b"));
    assert_false(ref_label_valid("../k"));
    assert_false(ref_label_valid("a b"));
    assert_false(ref_label_valid("k\n"));
    assert_false(ref_label_valid("k\xc3\xa9"));
}

static void messages_name_label_and_recovery(void **state) {
    (void)state;
    struct {
        ref_error err;
        const char *word;
    } rules[] = {
        {REF_ERR_INTERACTION_REQUIRED, "unlock"},  {REF_ERR_NO_WINDOW_SERVER, "launchd"},
        {REF_ERR_AUTH_DENIED, "\"Always Allow\""}, {REF_ERR_AUTH_DENIED, "Keychain Access"},
        {REF_ERR_USER_CANCELLED, "cancelled"},     {REF_ERR_WRAPPING_KEY_MISSING, "keychain"},
    };
    char buf[1024];
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        ref_policy_message(rules[i].err, "sign", "k1", "SecItemCopyMatching returned -25308", buf,
                           sizeof buf);
        if (strstr(buf, rules[i].word) == NULL || strstr(buf, "'k1'") == NULL ||
            strstr(buf, "-25308") == NULL)
            fail_msg("message lacks \"%s\": %s", rules[i].word, buf);
    }
    for (int e = 1; e < REF_ERROR_COUNT; e++) {
        assert_non_null(ref_policy_text((ref_error)e));
        ref_policy_message((ref_error)e, "generate", "key-7", NULL, buf, sizeof buf);
        assert_non_null(strstr(buf, "'key-7'"));
        assert_non_null(strstr(buf, "generate"));
    }
    assert_null(ref_policy_text(REF_OK));
}

static void hostile_labels_are_escaped_and_cut(void **state) {
    (void)state;
    char buf[1024];
    ref_policy_message(REF_ERR_INVALID_LABEL, "load", "a'\n\x01z", NULL, buf, sizeof buf);
    assert_non_null(strstr(buf, "'a\\x27\\x0a\\x01z'"));
    assert_null(strchr(buf, '\n'));
    char longl[300];
    memset(longl, 'q', sizeof longl - 1);
    longl[sizeof longl - 1] = '\0';
    ref_policy_message(REF_ERR_INVALID_LABEL, "load", longl, NULL, buf, sizeof buf);
    assert_non_null(strstr(buf, "..."));
    assert_true(strlen(buf) < 400);
    char tiny[16];
    size_t n = ref_policy_message(REF_ERR_INVALID_LABEL, "load", "k1", NULL, tiny, sizeof tiny);
    assert_int_equal(n, strlen(tiny));
    assert_true(n < sizeof tiny);
}

static void meta_round_trip(void **state) {
    (void)state;
    for (int a = REF_AUTH_NONE; a <= REF_AUTH_PASSCODE; a++)
        for (int p = REF_PRESENCE_NONE; p <= REF_PRESENCE_CACHED; p++)
            for (int w = 0; w <= 1; w++) {
                ref_meta in = {(ref_auth)a, (ref_presence)p, w == 1}, out;
                char buf[REF_META_MAX];
                size_t n = ref_meta_format(&in, buf, sizeof buf);
                assert_true(n > 0);
                memset(&out, 0x55, sizeof out);
                assert_true(ref_meta_parse(buf, n, &out));
                assert_int_equal(out.auth, in.auth);
                assert_int_equal(out.presence, in.presence);
                assert_int_equal(out.wrapping_presence, in.wrapping_presence);
            }
}

static void meta_parse_is_strict_enough(void **state) {
    (void)state;
    ref_meta m;
    const char *ok = " { \"presence\" : \"cached\", \"x\": 7, \"auth\":\"any\" ,"
                     "\"wrapping_presence\": true } ";
    assert_true(ref_meta_parse(ok, strlen(ok), &m));
    assert_int_equal(m.auth, REF_AUTH_ANY);
    assert_int_equal(m.presence, REF_PRESENCE_CACHED);
    assert_true(m.wrapping_presence);
    const char *bad[] = {
        "",
        "{}",
        "{\"auth\":\"none\"}",
        "{\"auth\":\"nobody\",\"presence\":\"none\"}",
        "{\"auth\":\"none\",\"presence\":\"none\"",
        "{\"auth\":\"none\",\"presence\":\"none\"} x",
        "{\"auth\":\"none\",\"presence\":\"none\",\"type\":\"encryption\"}",
        "{\"auth\":\"no\\\"ne\",\"presence\":\"none\"}",
        "[1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ref_meta_parse(bad[i], strlen(bad[i]), &m))
            fail_msg("accepted: %s", bad[i]);
    char small[8];
    ref_meta in = {REF_AUTH_NONE, REF_PRESENCE_NONE, false};
    assert_int_equal(ref_meta_format(&in, small, sizeof small), 0);
    ref_presence p;
    assert_true(ref_presence_from_name("strict", &p));
    assert_int_equal(p, REF_PRESENCE_STRICT);
    assert_false(ref_presence_from_name("default", &p));
    assert_null(ref_presence_name(REF_PRESENCE_KEY_DEFAULT));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_regression_row_is_a_mutant),
        cmocka_unit_test(unknown_mutants_are_errors),
        cmocka_unit_test(labels),
        cmocka_unit_test(messages_name_label_and_recovery),
        cmocka_unit_test(hostile_labels_are_escaped_and_cut),
        cmocka_unit_test(meta_round_trip),
        cmocka_unit_test(meta_parse_is_strict_enough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
