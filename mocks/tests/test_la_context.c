/* LocalAuthentication's LAContext (domain.md §5): reuse-duration cap,
 * canEvaluatePolicy, evaluatePolicy and its user answers, invalidate, the
 * reuse window (la_context_reusable) and faults. Every test ends by asserting
 * that it leaked no CF object and misused none. */
#include "test_sec_helpers.h"

#include "../src/la_internal.h"

/* Evaluates `ctx`; returns 0 or the LAError code (checking the error's
 * domain). */
static CFIndex evaluate(LAContextRef ctx, LAPolicy policy) {
    CFErrorRef error = NULL;
    Boolean ok = LAContextEvaluatePolicy(ctx, policy, CFSTR("sign with key k1"), &error);
    if (ok) {
        assert_null(error);
        return 0;
    }
    assert_non_null(error);
    assert_true(CFEqual(CFErrorGetDomain(error), LAErrorDomain));
    CFIndex code = CFErrorGetCode(error);
    CFRelease(error);
    return code;
}

/* Evaluates a fresh context with a 300 s window; *out, if given, receives
 * the context (+1). */
static CFIndex evaluate_new(session_fx *f, LAContextRef *out) {
    (void)f;
    LAContextRef ctx = LAContextCreate();
    assert_non_null(ctx);
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 300);
    CFIndex code = evaluate(ctx, kLAPolicyDeviceOwnerAuthentication);
    if (out != NULL)
        *out = ctx;
    else
        CFRelease(ctx);
    return code;
}

static CFIndex can_evaluate(LAPolicy policy) {
    LAContextRef ctx = LAContextCreate();
    CFErrorRef error = NULL;
    Boolean ok = LAContextCanEvaluatePolicy(ctx, policy, &error);
    CFIndex code = 0;
    if (ok) {
        assert_null(error);
    } else {
        assert_non_null(error);
        assert_true(CFEqual(CFErrorGetDomain(error), LAErrorDomain));
        code = CFErrorGetCode(error);
        CFRelease(error);
    }
    CFRelease(ctx);
    return code;
}

/* ---- The context object ------------------------------------------------------- */

static void context_is_a_cf_object_of_its_own_type(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = LAContextCreate();
    assert_non_null(ctx);
    assert_int_equal(CFGetTypeID(ctx), LAContextGetTypeID());
    assert_int_equal(LAContextGetTypeID(), 18);
    assert_string_equal(kc_cf_type_name(LAContextGetTypeID()), "LAContext");
    assert_int_equal(kc_cf_live_count(LAContextGetTypeID()), 1);
    assert_int_equal(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx), 0);
    CFRelease(ctx);
    assert_int_equal(kc_cf_live_count(LAContextGetTypeID()), 0);
    assert_no_cf_leak(f);
}

static void a_wrong_object_is_a_reported_misuse(void **state) {
    session_fx *f = *state;
    CFErrorRef error = (CFErrorRef)(uintptr_t)1; /* must be overwritten */
    assert_false(LAContextEvaluatePolicy((LAContextRef)(uintptr_t)CFSTR("not a context"),
                                         kLAPolicyDeviceOwnerAuthentication, NULL, &error));
    assert_null(error);
    assert_int_equal(kc_cf_misuse_count(), 1);
    LAContextRef ctx = LAContextCreate();
    assert_false(LAContextCanEvaluatePolicy(ctx, (LAPolicy)77, NULL));
    assert_int_equal(kc_cf_misuse_count(), 2);
    CFRelease(ctx);
    assert_int_equal(world_prompts_total(f->w), 0);
    assert_int_equal(world_calls_made(f->w, WORLD_API_LA_EVALUATE_POLICY), 0);
    kc_cf_reset_misuse();
    assert_no_cf_leak(f);
}

/* ---- Reuse duration ------------------------------------------------------------- */

static void reuse_duration_is_capped_at_300_seconds(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = LAContextCreate();
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 1000);
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx) == 300.0);
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 300.5);
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx) == 300.0);
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 42.5);
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx) == 42.5);
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, -5);
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx) == 0.0);
    /* The cap is the knob la_max_reuse. */
    world_set_knob(f->w, WORLD_KNOB_LA_MAX_REUSE_MS, 60000);
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 100);
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx) == 60.0);
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

static void the_cap_also_bounds_the_reuse_window(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = LAContextCreate();
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 100000);
    assert_int_equal(evaluate(ctx, kLAPolicyDeviceOwnerAuthentication), 0);
    world_advance(f->w, 300000);
    assert_true(la_context_reusable(ctx, f->w));
    world_advance(f->w, 1);
    assert_false(la_context_reusable(ctx, f->w));
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

/* ---- canEvaluatePolicy ------------------------------------------------------------ */

static void can_evaluate_with_gui_on_an_unlocked_device(void **state) {
    session_fx *f = *state;
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthenticationWithBiometrics), 0);
    assert_int_equal(world_prompts_total(f->w), 0); /* asking shows nothing */
    assert_no_cf_leak(f);
}

static void cannot_evaluate_without_a_gui_session(void **state) {
    session_fx *f = *state;
    world_set_current(f->w, f->daemon);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), LAErrorNotInteractive);
    assert_no_cf_leak(f);
}

static void cannot_evaluate_while_locked_or_asleep(void **state) {
    session_fx *f = *state;
    assert_int_equal(world_device_lock(f->w), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), LAErrorNotInteractive);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(world_device_sleep(f->w), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), LAErrorNotInteractive);
    assert_int_equal(world_device_wake(f->w), 0); /* awake, still locked */
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), LAErrorNotInteractive);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), 0);
    assert_no_cf_leak(f);
}

static void cannot_evaluate_without_passcode_or_biometry(void **state) {
    session_fx *f = *state;
    /* Passcode alone is enough for device-owner authentication, not for
     * the biometrics policy. */
    assert_int_equal(world_device_set_biometry(f->w, false), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthenticationWithBiometrics),
                     LAErrorPasscodeNotSet);
    /* Biometry alone is enough for both. */
    assert_int_equal(world_device_set_biometry(f->w, true), 0);
    assert_int_equal(world_device_set_passcode(f->w, false), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthenticationWithBiometrics), 0);
    /* Neither. */
    assert_int_equal(world_device_set_biometry(f->w, false), 0);
    assert_int_equal(can_evaluate(kLAPolicyDeviceOwnerAuthentication), LAErrorPasscodeNotSet);
    /* And evaluatePolicy refuses the same way, without a prompt. */
    world_user_queue(f->w, WORLD_ANSWER_APPROVE, 1);
    assert_int_equal(evaluate_new(f, NULL), LAErrorPasscodeNotSet);
    assert_int_equal(world_prompts_total(f->w), 0);
    assert_no_cf_leak(f);
}

/* ---- evaluatePolicy and the user's answers --------------------------------------- */

static void evaluate_consumes_exactly_one_answer(void **state) {
    session_fx *f = *state;
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    world_user_set_default(f->w, WORLD_ANSWER_ABSENT);
    assert_int_equal(evaluate_new(f, NULL), LAErrorUserCancel);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_LA_EVALUATE), 1);
    assert_int_equal(evaluate_new(f, NULL), LAErrorAuthenticationFailed);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_LA_EVALUATE), 2);
    assert_int_equal(evaluate_new(f, NULL), LAErrorSystemCancel); /* the default now */
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_LA_EVALUATE), 3);
    assert_int_equal(world_prompts_total(f->w), 3);
    assert_int_equal(world_calls_made(f->w, WORLD_API_LA_EVALUATE_POLICY), 3);
    assert_no_cf_leak(f);
}

static void each_answer_has_its_code(void **state) {
    session_fx *f = *state;
    static const struct {
        world_answer answer;
        CFIndex code;
    } cases[] = {
        {WORLD_ANSWER_APPROVE, 0},
        {WORLD_ANSWER_CANCEL, LAErrorUserCancel},
        {WORLD_ANSWER_FAIL, LAErrorAuthenticationFailed},
        {WORLD_ANSWER_ABSENT, LAErrorSystemCancel},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        world_user_queue(f->w, cases[i].answer, 1);
        LAContextRef ctx = NULL;
        assert_int_equal(evaluate_new(f, &ctx), cases[i].code);
        /* Only an approval authenticates the context. */
        assert_int_equal(la_context_reusable(ctx, f->w), cases[i].code == 0);
        CFRelease(ctx);
    }
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_LA_EVALUATE), 4);
    assert_non_null(strstr(world_journal(f->w), "LAEvaluatePolicy policy=owner -> -2 "
                                                "LAErrorUserCancel"));
    assert_non_null(strstr(world_journal(f->w), "prompt la-evaluate proc=agent "
                                                "about=sign_with_key_k1 -> cancel"));
    assert_no_cf_leak(f);
}

static void not_interactive_consumes_no_answer(void **state) {
    session_fx *f = *state;
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    world_set_current(f->w, f->daemon);
    assert_int_equal(evaluate_new(f, NULL), LAErrorNotInteractive);
    world_set_current(f->w, f->agent);
    assert_int_equal(world_device_lock(f->w), 0);
    assert_int_equal(evaluate_new(f, NULL), LAErrorNotInteractive);
    assert_int_equal(world_prompts_total(f->w), 0);
    /* Both calls were made (and journaled), yet the cancel is still queued. */
    assert_int_equal(world_calls_made(f->w, WORLD_API_LA_EVALUATE_POLICY), 2);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(evaluate_new(f, NULL), LAErrorUserCancel);
    assert_int_equal(world_prompts_total(f->w), 1);
    assert_no_cf_leak(f);
}

static void a_null_error_pointer_is_allowed(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = LAContextCreate();
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    assert_false(LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, NULL, NULL));
    assert_true(LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, NULL, NULL));
    assert_true(LAContextCanEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, NULL));
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

/* ---- invalidate ------------------------------------------------------------------ */

static void invalidate_ends_the_authentication(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = NULL;
    assert_int_equal(evaluate_new(f, &ctx), 0);
    assert_true(la_context_reusable(ctx, f->w));
    assert_false(la_context_invalidated(ctx));
    LAContextInvalidate(ctx);
    assert_true(la_context_invalidated(ctx));
    assert_false(la_context_reusable(ctx, f->w));
    /* Later uses fail with InvalidContext, without a prompt. */
    world_user_queue(f->w, WORLD_ANSWER_APPROVE, 1);
    assert_int_equal(evaluate(ctx, kLAPolicyDeviceOwnerAuthentication), LAErrorInvalidContext);
    CFErrorRef error = NULL;
    assert_false(LAContextCanEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, &error));
    assert_int_equal(CFErrorGetCode(error), LAErrorInvalidContext);
    CFRelease(error);
    assert_int_equal(world_prompts_total(f->w), 1);
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

/* ---- The reuse window -------------------------------------------------------------- */

static void an_unevaluated_context_is_not_reusable(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = LAContextCreate();
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 300);
    assert_false(la_context_reusable(ctx, f->w));
    assert_false(la_context_reusable(NULL, f->w));
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

static void reuse_window_expires_with_the_clock(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = LAContextCreate();
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 60);
    assert_int_equal(evaluate(ctx, kLAPolicyDeviceOwnerAuthentication), 0);
    assert_true(la_context_reusable(ctx, f->w));
    world_advance(f->w, 60000);
    assert_true(la_context_reusable(ctx, f->w));
    world_advance(f->w, 1);
    assert_false(la_context_reusable(ctx, f->w));
    /* A new approval opens a new window. */
    assert_int_equal(evaluate(ctx, kLAPolicyDeviceOwnerAuthentication), 0);
    assert_true(la_context_reusable(ctx, f->w));
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

static void a_zero_window_covers_only_the_instant_of_approval(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = LAContextCreate(); /* reuse duration 0, Apple's default */
    assert_int_equal(evaluate(ctx, kLAPolicyDeviceOwnerAuthentication), 0);
    assert_true(la_context_reusable(ctx, f->w));
    world_advance(f->w, 1);
    assert_false(la_context_reusable(ctx, f->w));
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

static void a_device_lock_ends_the_reuse_window(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = NULL;
    assert_int_equal(evaluate_new(f, &ctx), 0);
    assert_int_equal(world_device_lock(f->w), 0);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_false(la_context_reusable(ctx, f->w)); /* well inside 300 s */
    CFRelease(ctx);

    /* Sleep locks too. */
    assert_int_equal(evaluate_new(f, &ctx), 0);
    assert_int_equal(world_device_sleep(f->w), 0);
    assert_int_equal(world_device_wake(f->w), 0);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_false(la_context_reusable(ctx, f->w));
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

static void knob_la_reuse_ends_at_lock_off_keeps_the_window(void **state) {
    session_fx *f = *state;
    world_set_knob(f->w, WORLD_KNOB_LA_REUSE_ENDS_AT_LOCK, 0);
    LAContextRef ctx = NULL;
    assert_int_equal(evaluate_new(f, &ctx), 0);
    assert_int_equal(world_device_lock(f->w), 0);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_true(la_context_reusable(ctx, f->w)); /* the lock no longer matters */
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

static void a_context_is_memory_of_its_process(void **state) {
    session_fx *f = *state;
    LAContextRef ctx = NULL;
    assert_int_equal(evaluate_new(f, &ctx), 0);
    /* Another process cannot use it. */
    world_set_current(f->w, f->daemon);
    assert_false(la_context_reusable(ctx, f->w));
    world_set_current(f->w, f->agent);
    assert_true(la_context_reusable(ctx, f->w));
    /* After a restart the process's memory is gone. */
    world_process_restart(f->w, f->agent);
    assert_false(la_context_reusable(ctx, f->w));
    assert_int_equal(evaluate(ctx, kLAPolicyDeviceOwnerAuthentication), LAErrorInvalidContext);
    CFRelease(ctx);
    /* And a context belongs to its world. */
    world *other = world_new(1);
    assert_int_equal(evaluate_new(f, &ctx), 0);
    assert_false(la_context_reusable(ctx, other));
    world_free(other);
    world_activate(f->w);
    CFRelease(ctx);
    assert_no_cf_leak(f);
}

/* ---- Faults ---------------------------------------------------------------------------- */

static void an_injected_status_is_returned_without_a_prompt(void **state) {
    session_fx *f = *state;
    world_fault_add(f->w, &(world_fault){.api = WORLD_API_LA_EVALUATE_POLICY,
                                         .status = LAErrorSystemCancel,
                                         .nth = 2,
                                         .times = 1,
                                         .proc = -1});
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    world_user_queue(f->w, WORLD_ANSWER_FAIL, 1);
    assert_int_equal(evaluate_new(f, NULL), LAErrorUserCancel);
    LAContextRef ctx = NULL;
    assert_int_equal(evaluate_new(f, &ctx), LAErrorSystemCancel); /* injected */
    assert_false(la_context_reusable(ctx, f->w));
    CFRelease(ctx);
    assert_int_equal(world_prompts_total(f->w), 1);
    assert_int_equal(evaluate_new(f, NULL), LAErrorAuthenticationFailed); /* the queue resumes */
    assert_int_equal(world_calls_made(f->w, WORLD_API_LA_EVALUATE_POLICY), 3);
    assert_non_null(strstr(world_journal(f->w), "agent LAEvaluatePolicy policy=owner injected "
                                                "-> -4 LAErrorSystemCancel"));
    assert_no_cf_leak(f);
}

static void a_fault_can_target_one_process(void **state) {
    session_fx *f = *state;
    world_fault_add(f->w, &(world_fault){.api = WORLD_API_LA_EVALUATE_POLICY,
                                         .status = LAErrorAppCancel,
                                         .times = 0,
                                         .proc = f->daemon});
    assert_int_equal(evaluate_new(f, NULL), 0);
    world_set_current(f->w, f->daemon);
    assert_int_equal(evaluate_new(f, NULL), LAErrorAppCancel);
    assert_int_equal(evaluate_new(f, NULL), LAErrorAppCancel);
    assert_no_cf_leak(f);
}

static void journals_are_reproducible(void **state) {
    session_fx *f = *state;
    char *journals[2];
    for (int run = 0; run < 2; run++) {
        world *w = world_new(7);
        world_activate(w);
        world_device_boot(w);
        world_device_unlock(w);
        world_pid p = world_process_add(
            w, &(world_process_config){.name = "agent", .is_signed = true, .gui = true});
        world_set_current(w, p);
        world_user_queue(w, WORLD_ANSWER_FAIL, 1);
        assert_int_equal(evaluate_new(f, NULL), LAErrorAuthenticationFailed);
        world_advance(w, 1500);
        assert_int_equal(evaluate_new(f, NULL), 0);
        journals[run] = strdup(world_journal(w));
        world_free(w);
    }
    assert_string_equal(journals[0], journals[1]);
    free(journals[0]);
    free(journals[1]);
    world_activate(f->w);
    assert_no_cf_leak(f);
}

#define T(name) SESSION_TEST(name)

int main(void) {
    kc_cf_set_misuse_handler(quiet_misuse, NULL);
    const struct CMUnitTest tests[] = {
        T(context_is_a_cf_object_of_its_own_type),
        T(a_wrong_object_is_a_reported_misuse),
        T(reuse_duration_is_capped_at_300_seconds),
        T(the_cap_also_bounds_the_reuse_window),
        T(can_evaluate_with_gui_on_an_unlocked_device),
        T(cannot_evaluate_without_a_gui_session),
        T(cannot_evaluate_while_locked_or_asleep),
        T(cannot_evaluate_without_passcode_or_biometry),
        T(evaluate_consumes_exactly_one_answer),
        T(each_answer_has_its_code),
        T(not_interactive_consumes_no_answer),
        T(a_null_error_pointer_is_allowed),
        T(invalidate_ends_the_authentication),
        T(an_unevaluated_context_is_not_reusable),
        T(reuse_window_expires_with_the_clock),
        T(a_zero_window_covers_only_the_instant_of_approval),
        T(a_device_lock_ends_the_reuse_window),
        T(knob_la_reuse_ends_at_lock_off_keeps_the_window),
        T(a_context_is_memory_of_its_process),
        T(an_injected_status_is_returned_without_a_prompt),
        T(a_fault_can_target_one_process),
        T(journals_are_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
