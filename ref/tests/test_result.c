/* Bridge codes keep the numeric values of the contract, and every core error
 * has one name that parses back to itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ref/result.h"

static void bridge_codes_have_contract_values_and_names(void **state) {
    (void)state;
    assert_int_equal(REF_BRIDGE_KEYCHAIN_LOAD, 10);
    assert_int_equal(REF_BRIDGE_KEYCHAIN_INTERACTION_REQUIRED, 14);
    assert_int_equal(REF_BRIDGE_KEYCHAIN_NO_WINDOW_SERVER, 15);
    assert_int_equal(REF_BRIDGE_USER_CANCEL, 16);
    assert_string_equal(ref_bridge_code_name(12), "keychain_not_found");
    assert_string_equal(ref_bridge_code_name(16), "user_cancel");
    assert_null(ref_bridge_code_name(-1));
    assert_null(ref_bridge_code_name(17));
}

static void every_error_name_round_trips(void **state) {
    (void)state;
    for (int i = 0; i < REF_ERROR_COUNT; i++) {
        const char *name = ref_error_name((ref_error)i);
        assert_non_null(name);
        ref_error parsed = REF_ERROR_COUNT;
        assert_true(ref_error_from_name(name, &parsed));
        assert_int_equal(parsed, i);
    }
    assert_string_equal(ref_error_name(REF_ERR_INTERACTION_REQUIRED), "interaction_required");
    assert_null(ref_error_name(REF_ERROR_COUNT));
}

static void unknown_error_names_are_rejected(void **state) {
    (void)state;
    ref_error out = REF_ERR_AUTH_DENIED;
    assert_false(ref_error_from_name("crashed", &out));
    assert_false(ref_error_from_name("Interaction_Required", &out));
    assert_false(ref_error_from_name(NULL, &out));
    assert_int_equal(out, REF_ERR_AUTH_DENIED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bridge_codes_have_contract_values_and_names),
        cmocka_unit_test(every_error_name_round_trips),
        cmocka_unit_test(unknown_error_names_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
