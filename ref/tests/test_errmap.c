/* The OSStatus mapping (domain.md §6): every row of the table, totality over
 * a sweep of int32 statuses (EM1), the LAContext eviction rule (L1), and the
 * mapping mutants each change exactly their row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>

#include "ref/errmap.h"

#define CLEAN REF_MUTANTS_NONE

typedef struct {
    int32_t status;
    bool gui;
    int code;
    ref_error err;
    bool evict;
} row;

/* domain.md §6, keychain_load, row by row (both GUI values where "any"). */
static const row load_table[] = {
    {0, true, 0, REF_OK, false},
    {0, false, 0, REF_OK, false},
    {-25300, true, 12, REF_ERR_WRAPPING_KEY_MISSING, true},
    {-25300, false, 12, REF_ERR_WRAPPING_KEY_MISSING, true},
    {-25293, true, 13, REF_ERR_AUTH_DENIED, false},
    {-25293, false, 13, REF_ERR_AUTH_DENIED, false},
    {-25308, true, 14, REF_ERR_INTERACTION_REQUIRED, false},
    {-25315, true, 14, REF_ERR_INTERACTION_REQUIRED, false},
    {-25308, false, 15, REF_ERR_NO_WINDOW_SERVER, false},
    {-25315, false, 15, REF_ERR_NO_WINDOW_SERVER, false},
    {-128, true, 16, REF_ERR_USER_CANCELLED, false},
    {-128, false, 16, REF_ERR_USER_CANCELLED, false},
    {-50, true, 10, REF_ERR_KEY_OPERATION, true},
    {-34018, false, 10, REF_ERR_KEY_OPERATION, true},
    {-26275, true, 10, REF_ERR_KEY_OPERATION, true},
    {-25307, true, 10, REF_ERR_KEY_OPERATION, true},
    {12345, false, 10, REF_ERR_KEY_OPERATION, true},
};

static void load_table_every_row(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof load_table / sizeof load_table[0]; i++) {
        const row *r = &load_table[i];
        int code = ref_errmap_load(r->status, r->gui, CLEAN);
        if (code != r->code)
            fail_msg("load %d gui=%d: code %d, want %d", r->status, r->gui, code, r->code);
        assert_int_equal(ref_errmap_error(code), r->err);
        assert_int_equal(ref_errmap_evicts_lacontext(ref_errmap_error(code), CLEAN), r->evict);
    }
}

static void store_maps_like_load(void **state) {
    (void)state;
    assert_int_equal(ref_errmap_store(0, true, CLEAN), 0);
    assert_int_equal(ref_errmap_store(-25308, true, CLEAN), 14);
    assert_int_equal(ref_errmap_store(-25315, true, CLEAN), 14);
    assert_int_equal(ref_errmap_store(-25308, false, CLEAN), 15);
    assert_int_equal(ref_errmap_store(-25315, false, CLEAN), 15);
    assert_int_equal(ref_errmap_store(-25293, false, CLEAN), 13);
    assert_int_equal(ref_errmap_store(-128, true, CLEAN), 16);
    assert_int_equal(ref_errmap_store(-25300, true, CLEAN), 9);
    assert_int_equal(ref_errmap_store(-25299, true, CLEAN), 9);
    assert_int_equal(ref_errmap_store(-50, true, CLEAN), 9);
    assert_int_equal(ref_errmap_store(-34018, false, CLEAN), 9);
}

static void delete_sweep_rule(void **state) {
    (void)state;
    const bool dp_file[] = {true, false};
    int32_t a[] = {0, -25300};
    assert_int_equal(ref_errmap_delete(a, dp_file, 2), 0);
    int32_t b[] = {-25300, -25300};
    assert_int_equal(ref_errmap_delete(b, dp_file, 2), 0);
    int32_t c[] = {-34018, -25300}; /* unentitled: the DP keychain holds nothing of ours */
    assert_int_equal(ref_errmap_delete(c, dp_file, 2), 0);
    int32_t d[] = {-25300, -25308};
    assert_int_equal(ref_errmap_delete(d, dp_file, 2), 11);
    int32_t e[] = {-25300, -34018}; /* -34018 from the file keychain is not "absent" */
    assert_int_equal(ref_errmap_delete(e, dp_file, 2), 11);
    int32_t f[] = {-25308, 0}; /* either deleted */
    assert_int_equal(ref_errmap_delete(f, dp_file, 2), 0);
    int32_t g[] = {-25293};
    assert_int_equal(ref_errmap_delete(g, NULL, 1), 11);
    assert_int_equal(ref_errmap_delete(NULL, NULL, 0), 0);
    assert_int_equal(ref_errmap_error(11), REF_ERR_KEY_OPERATION);
}

static void se_sign_and_generate(void **state) {
    (void)state;
    assert_int_equal(ref_errmap_sign(0), 0);
    assert_int_equal(ref_errmap_sign(LAErrorUserCancel), 16);
    assert_int_equal(ref_errmap_sign(LAErrorAppCancel), 16);
    assert_int_equal(ref_errmap_sign(LAErrorSystemCancel), 16);
    assert_int_equal(ref_errmap_sign(LAErrorAuthenticationFailed), 3);
    assert_int_equal(ref_errmap_sign(LAErrorNotInteractive), 3);
    assert_int_equal(ref_errmap_sign(LAErrorInvalidContext), 3);
    assert_int_equal(ref_errmap_sign(-25308), 3);
    assert_int_equal(ref_errmap_sign(-26275), 3);
    assert_int_equal(ref_errmap_error(3), REF_ERR_SIGN_FAILED);
    assert_int_equal(ref_errmap_error(16), REF_ERR_USER_CANCELLED);
    assert_int_equal(ref_errmap_generate(0), 0);
    assert_int_equal(ref_errmap_generate(-25308), 1);
    assert_int_equal(ref_errmap_error(1), REF_ERR_GENERATE_FAILED);
    assert_int_equal(ref_errmap_error(5), REF_ERR_NOT_AVAILABLE);
}

static void bridge_to_error_is_total(void **state) {
    (void)state;
    for (int c = -5; c < REF_BRIDGE_CODE_COUNT + 5; c++) {
        ref_error e = ref_errmap_error(c);
        assert_non_null(ref_error_name(e));
        if (c == 0)
            assert_int_equal(e, REF_OK);
        else
            assert_int_not_equal(e, REF_OK);
    }
}

/* L1: no eviction on 13, 14, 15, 16; eviction on every other failure. */
static void eviction_rule(void **state) {
    (void)state;
    for (int c = 1; c < REF_BRIDGE_CODE_COUNT; c++) {
        bool keep = c >= 13 && c <= 16;
        assert_int_equal(ref_errmap_evicts_lacontext(ref_errmap_error(c), CLEAN), !keep);
    }
    assert_false(ref_errmap_evicts_lacontext(REF_OK, CLEAN));
    assert_true(ref_errmap_evicts_lacontext(REF_ERR_KEY_NOT_FOUND, CLEAN));
    assert_true(ref_errmap_is_transient(13) && ref_errmap_is_transient(16));
    assert_false(ref_errmap_is_transient(12) || ref_errmap_is_transient(10));
}

/* A deterministic sample of int32: edges, every listed status and its
 * neighbours, and a xorshift sweep. */
static void sweep(void (*check)(int32_t st)) {
    static const int32_t edges[] = {
        INT32_MIN, INT32_MIN + 1, -1,     0,      1,      INT32_MAX, -4,     -50,    -108,
        -128,      -25291,        -25293, -25299, -25300, -25303,    -25307, -25308, -25315,
        -26275,    -34018,        -1004,  -2,     -3,     -5,        -9,     -10};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        for (int32_t d = -1; d <= 1; d++)
            if (!((d < 0 && edges[i] == INT32_MIN) || (d > 0 && edges[i] == INT32_MAX)))
                check(edges[i] + d);
    uint32_t x = 2463534242u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int32_t st;
        memcpy(&st, &x, sizeof st);
        check(st);
        check((int32_t)(st % 40000)); /* dense around the OSStatus range */
    }
}

static void check_total(int32_t st) {
    for (int gui = 0; gui <= 1; gui++) {
        int l = ref_errmap_load(st, gui, CLEAN);
        int s = ref_errmap_store(st, gui, CLEAN);
        if (l < 0 || l >= REF_BRIDGE_CODE_COUNT || s < 0 || s >= REF_BRIDGE_CODE_COUNT)
            fail_msg("status %d: code out of range", st);
        if (ref_error_name(ref_errmap_error(l)) == NULL)
            fail_msg("status %d: no core error", st);
        /* EM1 */
        if ((st == -25308 || st == -25315) && (l == 10 || l == 9 || s == 10 || s == 9))
            fail_msg("status %d surfaces as %d/%d", st, l, s);
        /* Success only for success. */
        if ((l == 0) != (st == 0) || (s == 0) != (st == 0))
            fail_msg("status %d: success mismatch", st);
        /* Unknown statuses are generic failures. */
        if (ref_status_name(st) == NULL && (l != 10 || s != 9))
            fail_msg("unknown status %d: %d/%d", st, l, s);
    }
    int g = ref_errmap_sign(st);
    if (g != 0 && g != 3 && g != 16)
        fail_msg("sign %d -> %d", st, g);
}

static void table_is_total_over_int32_sample(void **state) {
    (void)state;
    sweep(check_total);
}

static ref_mutant_set M(ref_mutant m) { return REF_MUTANT_BIT(m); }

static void mapping_mutants_change_their_row_only(void **state) {
    (void)state;
    assert_int_equal(ref_errmap_load(-25315, true, M(REF_MUT_PR150_INTERACTION_UNMAPPED)), 10);
    assert_int_equal(ref_errmap_load(-25308, true, M(REF_MUT_PR150_INTERACTION_UNMAPPED)), 14);
    assert_int_equal(ref_errmap_load(-25308, true, M(REF_MUT_PR158_MISSING_25308)), 10);
    assert_int_equal(ref_errmap_load(-25308, false, M(REF_MUT_PR158_MISSING_25308)), 10);
    assert_int_equal(ref_errmap_load(-25315, false, M(REF_MUT_PR158_MISSING_25308)), 15);
    assert_int_equal(ref_errmap_load(-25308, false, M(REF_MUT_PR151_NO_WINDOW_SERVER_AS_LOCKED)),
                     14);
    assert_int_equal(ref_errmap_store(-25308, false, M(REF_MUT_PR151_NO_WINDOW_SERVER_AS_LOCKED)),
                     14);
    assert_int_equal(ref_errmap_store(-25308, true, M(REF_MUT_LATENT_STORE_UNMAPPED)), 9);
    assert_int_equal(ref_errmap_store(-25315, false, M(REF_MUT_LATENT_STORE_UNMAPPED)), 9);
    assert_int_equal(ref_errmap_load(-25308, true, M(REF_MUT_LATENT_STORE_UNMAPPED)), 14);
    assert_true(ref_errmap_evicts_lacontext(REF_ERR_AUTH_DENIED,
                                            M(REF_MUT_PR150_EVICT_WITHOUT_EXCLUSIONS)));
    assert_true(ref_errmap_evicts_lacontext(REF_ERR_INTERACTION_REQUIRED,
                                            M(REF_MUT_PR150_EVICT_WITHOUT_EXCLUSIONS)));
    assert_false(ref_errmap_evicts_lacontext(REF_OK, M(REF_MUT_PR150_EVICT_WITHOUT_EXCLUSIONS)));
    assert_true(
        ref_errmap_evicts_lacontext(REF_ERR_USER_CANCELLED, M(REF_MUT_PR155_EVICT_ON_CANCEL)));
    assert_false(
        ref_errmap_evicts_lacontext(REF_ERR_AUTH_DENIED, M(REF_MUT_PR155_EVICT_ON_CANCEL)));
    /* Mutants that do not live in the mapping leave it as it is. */
    for (int m = 0; m < REF_MUT_COUNT; m++) {
        if (m == REF_MUT_PR150_INTERACTION_UNMAPPED || m == REF_MUT_PR158_MISSING_25308 ||
            m == REF_MUT_PR151_NO_WINDOW_SERVER_AS_LOCKED || m == REF_MUT_LATENT_STORE_UNMAPPED ||
            m == REF_MUT_PR150_EVICT_WITHOUT_EXCLUSIONS || m == REF_MUT_PR155_EVICT_ON_CANCEL)
            continue;
        for (size_t i = 0; i < sizeof load_table / sizeof load_table[0]; i++)
            assert_int_equal(
                ref_errmap_load(load_table[i].status, load_table[i].gui, M((ref_mutant)m)),
                load_table[i].code);
    }
}

static void status_names(void **state) {
    (void)state;
    assert_string_equal(ref_status_name(-25308), "errSecInteractionNotAllowed");
    assert_string_equal(ref_status_name(-25315), "errSecInteractionRequired");
    assert_string_equal(ref_status_name(-1004), "LAErrorNotInteractive");
    assert_null(ref_status_name(777));
}

/* Is there a line holding the words in order and ending with `last`? */
static bool line_has(const char *buf, const char *const *words, size_t n, const char *last) {
    for (const char *line = buf; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char copy[256];
        if (len >= sizeof copy)
            len = sizeof copy - 1;
        memcpy(copy, line, len);
        copy[len] = '\0';
        const char *at = copy;
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            const char *hit = strstr(at, words[i]);
            ok = hit != NULL;
            if (ok)
                at = hit + strlen(words[i]);
        }
        size_t ll = strlen(last);
        if (ok && len >= ll && strcmp(copy + len - ll, last) == 0)
            return true;
        line = end != NULL ? end + 1 : NULL;
    }
    return false;
}

static void printed_table_has_every_row(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ref_errmap_print(f, CLEAN);
    fclose(f);
    /* path, status, gui, code + bridge, core error; evict ends the line. */
    struct {
        const char *w[5];
        const char *evict;
    } rows[] = {
        {{"keychain_load ", "-25300 errSecItemNotFound", " any ", " 12 keychain_not_found ",
          " wrapping_key_missing "},
         " yes"},
        {{"keychain_load ", "-25293 errSecAuthFailed", " any ", " 13 keychain_auth_denied ",
          " auth_denied "},
         " no"},
        {{"keychain_load ", "-25308 errSecInteractionNotAllowed", " yes ",
          " 14 keychain_interaction_required ", " interaction_required "},
         " no"},
        {{"keychain_load ", "-25308 errSecInteractionNotAllowed", " no ",
          " 15 keychain_no_window_server ", " no_window_server "},
         " no"},
        {{"keychain_load ", "-25315 errSecInteractionRequired", " yes ",
          " 14 keychain_interaction_required ", " interaction_required "},
         " no"},
        {{"keychain_load ", "-25315 errSecInteractionRequired", " no ",
          " 15 keychain_no_window_server ", " no_window_server "},
         " no"},
        {{"keychain_load ", "-128 errSecUserCanceled", " any ", " 16 user_cancel ",
          " user_cancelled "},
         " no"},
        {{"keychain_load ", "any other status", " any ", " 10 keychain_load ", " key_operation "},
         " yes"},
        {{"keychain_store ", "-25308 errSecInteractionNotAllowed", " no ",
          " 15 keychain_no_window_server ", " no_window_server "},
         " no"},
        {{"keychain_store ", "any other status", " any ", "  9 keychain_store ", " key_operation "},
         " yes"},
        {{"keychain_delete ", "any other", " any ", " 11 keychain_delete ", " key_operation "},
         " yes"},
        {{"se_sign ", "-4 LAErrorSystemCancel", " any ", " 16 user_cancel ", " user_cancelled "},
         " no"},
        {{"se_sign ", "any other status", " any ", "  3 sign ", " sign_failed "}, " yes"},
        {{"se_generate ", "any other status", " any ", "  1 generate ", " generate_failed "},
         " yes"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (!line_has(buf, rows[i].w, 5, rows[i].evict))
            fail_msg("table lacks row %zu (%s %s):\n%s", i, rows[i].w[0], rows[i].w[1], buf);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_table_every_row),
        cmocka_unit_test(store_maps_like_load),
        cmocka_unit_test(delete_sweep_rule),
        cmocka_unit_test(se_sign_and_generate),
        cmocka_unit_test(bridge_to_error_is_total),
        cmocka_unit_test(eviction_rule),
        cmocka_unit_test(table_is_total_over_int32_sample),
        cmocka_unit_test(mapping_mutants_change_their_row_only),
        cmocka_unit_test(status_names),
        cmocka_unit_test(printed_table_has_every_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
