/* The reference core's pure functions at their edges (issue 8, coverage):
 * values outside each enum, buffers too small for each output, the EHW1 size
 * guards, the .meta parser's every refusal, and the errmap table's mutant
 * header. Each test states what a broken implementation would get wrong. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ref/ehw1.h"
#include "ref/errmap.h"
#include "ref/meta.h"
#include "ref/mutants.h"
#include "ref/policy.h"
#include "ref/result.h"

static const uint8_t key[REF_EHW1_KEY_LEN] = {7, 7, 7, 7, 7, 7, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8,
                                              9, 9, 9, 9, 9, 9, 9, 9, 0, 1, 0, 1, 0, 1, 0, 1};
static const uint8_t nonce[REF_EHW1_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* ---- EHW1 -------------------------------------------------------------------------- */

static void ehw1_every_status_has_its_own_name(void **state) {
    (void)state;
    const char *seen[REF_EHW1_CRYPTO + 1];
    for (int s = REF_EHW1_OK; s <= REF_EHW1_CRYPTO; s++) {
        const char *name = ref_ehw1_status_name((ref_ehw1_status)s);
        assert_non_null(name);
        assert_string_not_equal(name, "unknown");
        for (int j = 0; j < s; j++)
            assert_string_not_equal(name, seen[j]);
        seen[s] = name;
    }
    assert_string_equal(ref_ehw1_status_name(REF_EHW1_OK), "ok");
    assert_non_null(strstr(ref_ehw1_status_name(REF_EHW1_AUTH), "does not verify"));
    assert_string_equal(ref_ehw1_status_name((ref_ehw1_status)99), "unknown");
    assert_string_equal(ref_ehw1_status_name((ref_ehw1_status)-1), "unknown");
}

static void ehw1_null_data_is_not_wrapped(void **state) {
    (void)state;
    assert_false(ref_ehw1_is_wrapped(NULL, 64));
    assert_false(ref_ehw1_is_wrapped((const uint8_t *)"EHW", 3));
    assert_true(ref_ehw1_is_wrapped((const uint8_t *)"EHW1", 4));
    assert_int_equal(ref_ehw1_sealed_len(0), REF_EHW1_OVERHEAD);
}

/* A plaintext the GCM API cannot take in one int-sized update is refused
 * before anything is read or written (the lengths are never truncated). */
static void ehw1_oversized_lengths_are_refused_untouched(void **state) {
    (void)state;
    uint8_t plain[4] = {1, 2, 3, 4};
    uint8_t out[64];
    memset(out, 0xAB, sizeof out);
    size_t n = 12345;
    assert_int_equal(
        ref_ehw1_seal(key, nonce, plain, (size_t)INT_MAX, out, sizeof out, &n),
        REF_EHW1_BUFFER);
    assert_int_equal(n, 12345);
    assert_int_equal(out[0], 0xAB);
    /* A handle claiming more than INT_MAX bytes of ciphertext: only its
     * magic is looked at. */
    const uint8_t head[REF_EHW1_MAGIC_LEN] = {'E', 'H', 'W', '1'};
    assert_int_equal(ref_ehw1_open(key, head, (size_t)INT_MAX + REF_EHW1_OVERHEAD + 1, out,
                                   sizeof out, &n),
                     REF_EHW1_BUFFER);
    assert_int_equal(n, 12345);
    assert_int_equal(out[0], 0xAB);
}

static void ehw1_null_buffers_are_refused(void **state) {
    (void)state;
    uint8_t sealed[64];
    size_t n = 0;
    assert_int_equal(ref_ehw1_seal(key, nonce, (const uint8_t *)"abc", 3, NULL, 100, &n),
                     REF_EHW1_BUFFER);
    assert_int_equal(ref_ehw1_seal(key, nonce, (const uint8_t *)"abc", 3, sealed, sizeof sealed, &n),
                     REF_EHW1_OK);
    assert_int_equal(n, 3 + REF_EHW1_OVERHEAD);
    size_t m = 99;
    assert_int_equal(ref_ehw1_open(key, sealed, n, NULL, 100, &m), REF_EHW1_BUFFER);
    assert_int_equal(ref_ehw1_open(NULL, (const uint8_t *)"legacy", 6, NULL, 100, &m),
                     REF_EHW1_BUFFER);
    assert_int_equal(m, 99);
    /* A wrapped handle without a key cannot verify: AUTH, and nothing of the
     * ciphertext leaks into out. */
    uint8_t out[8];
    memset(out, 0x11, sizeof out);
    assert_int_equal(ref_ehw1_open(NULL, sealed, n, out, sizeof out, &m), REF_EHW1_AUTH);
    assert_int_equal(m, 99);
    assert_int_equal(out[0], 0x11);
}

/* ---- meta ---------------------------------------------------------------------------- */

static void meta_names_outside_the_enums(void **state) {
    (void)state;
    assert_null(ref_auth_name((ref_auth)-1));
    assert_null(ref_auth_name((ref_auth)(REF_AUTH_PASSCODE + 1)));
    assert_string_equal(ref_auth_name(REF_AUTH_BIOMETRY), "biometry");
    assert_null(ref_presence_name((ref_presence)(REF_PRESENCE_CACHED + 1)));
    ref_auth a = REF_AUTH_ANY;
    assert_false(ref_auth_from_name(NULL, &a));
    assert_false(ref_auth_from_name("Passcode", &a));
    assert_int_equal(a, REF_AUTH_ANY);
    assert_true(ref_auth_from_name("passcode", &a));
    assert_int_equal(a, REF_AUTH_PASSCODE);
    ref_presence p = REF_PRESENCE_STRICT;
    assert_false(ref_presence_from_name(NULL, &p));
    assert_int_equal(p, REF_PRESENCE_STRICT);
}

static void meta_format_refuses_what_it_cannot_write(void **state) {
    (void)state;
    char buf[REF_META_MAX];
    memset(buf, 'x', sizeof buf);
    ref_meta bad_auth = {(ref_auth)9, REF_PRESENCE_NONE, false};
    assert_int_equal(ref_meta_format(&bad_auth, buf, sizeof buf), 0);
    ref_meta bad_presence = {REF_AUTH_NONE, (ref_presence)9, false};
    assert_int_equal(ref_meta_format(&bad_presence, buf, sizeof buf), 0);
    ref_meta ok = {REF_AUTH_NONE, REF_PRESENCE_NONE, true};
    assert_int_equal(ref_meta_format(&ok, buf, 0), 0);
    assert_int_equal(buf[0], 'x'); /* cap 0: not even a NUL */
    size_t n = ref_meta_format(&ok, buf, sizeof buf);
    assert_true(n > 0);
    /* One byte short: nothing, and an empty string rather than a cut object. */
    char shorter[REF_META_MAX];
    assert_int_equal(ref_meta_format(&ok, shorter, n), 0);
    assert_string_equal(shorter, "");
    assert_int_equal(ref_meta_format(&ok, shorter, n + 1), n);
    assert_non_null(strstr(shorter, "\"wrapping_presence\":true"));
}

static bool parses(const char *text, ref_meta *m) { return ref_meta_parse(text, strlen(text), m); }

static void meta_parse_accepts_every_json_whitespace(void **state) {
    (void)state;
    ref_meta m = {REF_AUTH_ANY, REF_PRESENCE_CACHED, true};
    assert_true(parses("\r\n{\t\"auth\"\r:\n\"biometry\"\t,\r\n\"presence\":\"strict\","
                       "\"type\":\"signing\",\"version\":12,\"other\":false,"
                       "\"wrapping_presence\":false}\n\r\t ",
                       &m));
    assert_int_equal(m.auth, REF_AUTH_BIOMETRY);
    assert_int_equal(m.presence, REF_PRESENCE_STRICT);
    assert_false(m.wrapping_presence);
    /* Other string keys are ignored. */
    assert_true(parses("{\"note\":\"hi\",\"auth\":\"none\",\"presence\":\"none\"}", &m));
    assert_int_equal(m.auth, REF_AUTH_NONE);
    /* Another key's boolean does not set wrapping_presence. */
    assert_true(parses("{\"auth\":\"none\",\"presence\":\"none\",\"flag\":true}", &m));
    assert_false(m.wrapping_presence);
    assert_true(parses("{\"wrapping_presence\":true,\"auth\":\"none\",\"presence\":\"none\"}", &m));
    assert_true(m.wrapping_presence);
}

static void meta_parse_refuses_each_malformation(void **state) {
    (void)state;
    const char *bad[] = {
        "{",                                               /* nothing after the brace */
        "{\"auth\"",                                       /* no colon */
        "{\"auth\":",                                      /* no value */
        "{\"auth\"  :   ",                                  /* no value after spaces */
        "{auth:\"none\"}",                                 /* unquoted key */
        "{\"auth",                                         /* unterminated key */
        "{\"auth\":\"none",                                /* unterminated value */
        "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}", /* key longer than the parser keeps */
        "{\"auth\":\"none\",\"presence\":\"sometimes\"}",  /* unknown presence */
        "{\"auth\":\"none\",\"presence\":\"none\",\"n\":-1}", /* no digits */
        "{\"auth\":\"none\",\"presence\":\"none\",\"n\":nul}",
        "{\"auth\":\"none\",\"presence\":\"none\",\"n\":12",   /* ends inside a number */
        "{\"auth\":\"none\",\"presence\":\"none\",\"n\":12a}", /* a number, then junk */
        "{\"auth\":\"none\",\"presence\":\"none\";}", /* neither ',' nor '}' */
        "{\"presence\":\"none\"}",                     /* no auth */
        "  ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ref_meta m = {REF_AUTH_ANY, REF_PRESENCE_CACHED, true};
        if (parses(bad[i], &m))
            fail_msg("accepted: %s", bad[i]);
        /* A refused file leaves the caller's value alone. */
        assert_int_equal(m.auth, REF_AUTH_ANY);
        assert_int_equal(m.presence, REF_PRESENCE_CACHED);
        assert_true(m.wrapping_presence);
    }
    ref_meta m;
    assert_false(ref_meta_parse(NULL, 10, &m));
    /* Not NUL-terminated: the parser stops at len. */
    const char *full = "{\"auth\":\"none\",\"presence\":\"none\"}GARBAGE";
    assert_true(ref_meta_parse(full, strlen(full) - strlen("GARBAGE"), &m));
    assert_false(ref_meta_parse(full, strlen(full) - strlen("GARBAGE") - 1, &m));
}

/* ---- policy --------------------------------------------------------------------------- */

static void policy_text_outside_the_enum(void **state) {
    (void)state;
    assert_null(ref_policy_text(REF_OK));
    assert_null(ref_policy_text((ref_error)-1));
    assert_null(ref_policy_text((ref_error)REF_ERROR_COUNT));
    assert_non_null(strstr(ref_policy_text(REF_ERR_USER_CANCELLED), "cancelled"));
}

static void label_validity_covers_each_character_class(void **state) {
    (void)state;
    assert_true(ref_label_valid("azAZ09-_."));
    const char *bad[] = {"a b", "a/b", "a:b", "a~", "a@", "a[", "a`", "a{", "\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ref_label_valid(bad[i]))
            fail_msg("accepted label %s", bad[i]);
    char longest[REF_LABEL_MAX + 2];
    memset(longest, 'k', sizeof longest);
    longest[REF_LABEL_MAX] = '\0';
    assert_true(ref_label_valid(longest));
    longest[REF_LABEL_MAX] = 'k';
    longest[REF_LABEL_MAX + 1] = '\0';
    assert_false(ref_label_valid(longest));
}

static void label_quote_stops_at_the_buffer(void **state) {
    (void)state;
    char buf[16];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(ref_label_quote("abc", buf, 0), 0);
    assert_int_equal(buf[0], 'x');
    assert_int_equal(ref_label_quote(NULL, buf, sizeof buf), strlen("(null)"));
    assert_string_equal(buf, "(null)");
    /* "\x01" needs four bytes: with room for three, the quote stops before it
     * instead of writing half an escape. */
    assert_int_equal(ref_label_quote("ab\x01z", buf, 6), 2);
    assert_string_equal(buf, "ab");
    assert_int_equal(ref_label_quote("ab\x01z", buf, 7), 6);
    assert_string_equal(buf, "ab\\x01");
    /* A label cut after 64 bytes gets "..." only when it fits. */
    char longer[REF_LABEL_MAX + 10];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    char wide[REF_LABEL_MAX + 4];
    assert_int_equal(ref_label_quote(longer, wide, sizeof wide), REF_LABEL_MAX + 3);
    assert_string_equal(wide + REF_LABEL_MAX, "...");
    char exact[REF_LABEL_MAX + 1];
    assert_int_equal(ref_label_quote(longer, exact, sizeof exact), REF_LABEL_MAX);
    assert_int_equal(strlen(exact), REF_LABEL_MAX);
    assert_null(strchr(exact, '.'));
}

static void policy_message_defaults_and_truncation(void **state) {
    (void)state;
    char buf[200];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(ref_policy_message(REF_ERR_KEY_NOT_FOUND, "sign", "k", NULL, buf, 0), 0);
    assert_int_equal(buf[0], 'x');
    size_t n = ref_policy_message(REF_ERR_KEY_NOT_FOUND, NULL, "k", NULL, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "operation of key 'k' failed: no such key (no handle file)");
    n = ref_policy_message(REF_OK, NULL, "k", "", buf, sizeof buf);
    assert_string_equal(buf, "operation of key 'k' failed: no error");
    n = ref_policy_message(REF_OK, NULL, NULL, "step", buf, sizeof buf);
    assert_string_equal(buf, "operation of key '(null)' failed: no error (step)");
    /* Truncated: the length returned is what is in the buffer. */
    char tiny[10];
    n = ref_policy_message(REF_ERR_KEY_NOT_FOUND, "load", "k", "detail", tiny, sizeof tiny);
    assert_int_equal(n, sizeof tiny - 1);
    assert_string_equal(tiny, "load of k");
}

/* ---- errmap, results, mutants ----------------------------------------------------------- */

static void errmap_eviction_outside_the_enum(void **state) {
    (void)state;
    ref_mutant_set all = 0;
    for (int m = 0; m < REF_MUT_COUNT; m++)
        all |= REF_MUTANT_BIT(m);
    assert_false(ref_errmap_evicts_lacontext((ref_error)-1, all));
    assert_false(ref_errmap_evicts_lacontext((ref_error)REF_ERROR_COUNT, all));
    assert_true(ref_errmap_evicts_lacontext(REF_ERR_KEY_OPERATION, REF_MUTANTS_NONE));
}

static char *print_table(ref_mutant_set m) {
    FILE *f = tmpfile();
    assert_non_null(f);
    ref_errmap_print(f, m);
    long len = ftell(f);
    assert_true(len > 0);
    char *text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

/* The table says which mutants it describes, in enum order, comma-separated;
 * the clean table has no such line. */
static void errmap_print_names_its_mutants(void **state) {
    (void)state;
    char *clean = print_table(REF_MUTANTS_NONE);
    assert_null(strstr(clean, "# mutants:"));
    char *one = print_table(REF_MUTANT_BIT(REF_MUT_PR158_MISSING_25308));
    assert_non_null(strstr(one, "\n# mutants: pr158-missing-25308\n"));
    char *two = print_table(REF_MUTANT_BIT(REF_MUT_PR150_INTERACTION_UNMAPPED) |
                            REF_MUTANT_BIT(REF_MUT_PR155_EVICT_ON_CANCEL));
    assert_non_null(
        strstr(two, "\n# mutants: pr150-interaction-unmapped, pr155-evict-on-cancel\n"));
    /* The mutant changes the rows themselves, not only the header. */
    assert_non_null(strstr(clean, "\npath "));
    assert_string_not_equal(strstr(clean, "\npath "), strstr(one, "\npath "));
    free(clean);
    free(one);
    free(two);
}

static void names_outside_the_enums(void **state) {
    (void)state;
    assert_null(ref_error_name((ref_error)-1));
    assert_null(ref_error_name((ref_error)REF_ERROR_COUNT));
    assert_null(ref_bridge_code_name(-1));
    assert_null(ref_mutant_name((ref_mutant)-1));
    assert_null(ref_mutant_doc((ref_mutant)-1));
    assert_null(ref_mutant_doc(REF_MUT_COUNT));
    assert_false(ref_mutant_in(0xFFFFFFFFu, (ref_mutant)-1));
    assert_false(ref_mutant_in(0xFFFFFFFFu, REF_MUT_COUNT));
    assert_true(ref_mutant_in(0xFFFFFFFFu, (ref_mutant)(REF_MUT_COUNT - 1)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ehw1_every_status_has_its_own_name),
        cmocka_unit_test(ehw1_null_data_is_not_wrapped),
        cmocka_unit_test(ehw1_oversized_lengths_are_refused_untouched),
        cmocka_unit_test(ehw1_null_buffers_are_refused),
        cmocka_unit_test(meta_names_outside_the_enums),
        cmocka_unit_test(meta_format_refuses_what_it_cannot_write),
        cmocka_unit_test(meta_parse_accepts_every_json_whitespace),
        cmocka_unit_test(meta_parse_refuses_each_malformation),
        cmocka_unit_test(policy_text_outside_the_enum),
        cmocka_unit_test(label_validity_covers_each_character_class),
        cmocka_unit_test(label_quote_stops_at_the_buffer),
        cmocka_unit_test(policy_message_defaults_and_truncation),
        cmocka_unit_test(errmap_eviction_outside_the_enum),
        cmocka_unit_test(errmap_print_names_its_mutants),
        cmocka_unit_test(names_outside_the_enums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
