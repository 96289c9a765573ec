/* The interpreter: scenarios pass on the clean core and fail on the mutants
 * they guard (the two examples of scenario-language.md among them); failures
 * name the file, the line and — for an invariant — the invariant; results
 * carry the journal; runs are deterministic; nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <keyclass/cf_accounting.h>
#include <keyclass/world.h>

#include "kcs/ast.h"
#include "kcs/engine.h"

#include "../../mocks/tests/cf_test_support.h"
#include "kcs_test_support.h"

static int teardown(void **state) {
    (void)state;
    cf_assert_no_leaks_or_misuse();
    if (world_active() != NULL)
        fail_msg("a world is still active after the runs");
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, cf_test_setup, teardown)

static kcs_file *load_fixture(const char *name) {
    kcs_file *f = NULL;
    char err[1024];
    if (kcs_parse_file(fixture_path(name), &f, err, sizeof err) != 0)
        fail_msg("%s", err);
    return f;
}

static kcs_result run(const kcs_file *f, size_t i, ref_mutant_set m, bool trace) {
    kcs_run_options o = {.seed = 1, .mutants = m, .trace = trace};
    kcs_result r;
    assert_int_equal(kcs_run_scenario(f, i, &o, &r), 0);
    assert_non_null(r.failure);
    assert_non_null(r.journal);
    return r;
}

static void assert_pass(const kcs_file *f, size_t i) {
    kcs_result r = run(f, i, REF_MUTANTS_NONE, false);
    if (r.verdict != KCS_PASS)
        fail_msg("%s should pass on the clean core: %s\n%s", kcs_scenario_name(f, i), r.failure,
                 r.journal);
    assert_string_equal(r.failure, "");
    assert_null(r.invariant);
    assert_string_equal(r.journal, "");
    assert_int_equal(r.steps, kcs_file_scenario(f, i)->nstmts);
    assert_true(r.invariant_checks >= 9 * r.steps);
    kcs_result_free(&r);
}

/* The line of the first statement whose text starts with `prefix`. */
static int line_of(const kcs_file *f, size_t sc, const char *prefix) {
    const kcs_scenario *s = kcs_file_scenario(f, sc);
    for (size_t i = 0; i < s->nstmts; i++)
        if (strncmp(s->stmts[i].text, prefix, strlen(prefix)) == 0)
            return s->stmts[i].line;
    fail_msg("no statement starts with '%s'", prefix);
    return 0;
}

static size_t scenario_index(const kcs_file *f, const char *name) {
    for (size_t i = 0; i < kcs_file_scenario_count(f); i++)
        if (strcmp(kcs_scenario_name(f, i), name) == 0)
            return i;
    fail_msg("no scenario '%s'", name);
    return 0;
}

static void assert_starts(const char *s, const char *prefix) {
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

/* ---- The examples of scenario-language.md ------------------------------------------------ */

static void spec_examples_pass_clean(void **state) {
    (void)state;
    kcs_file *f = load_fixture("spec_examples.kcs");
    assert_pass(f, 0);
    assert_pass(f, 1);
    kcs_file_free(f);
}

static void spec_examples_fail_on_their_mutants(void **state) {
    (void)state;
    kcs_file *f = load_fixture("spec_examples.kcs");
    char prefix[1200];

    kcs_result r = run(f, 0, bit("pr158-when-unlocked-wrapping"), false);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_non_null(r.invariant);
    assert_string_equal(r.invariant, "PC1");
    snprintf(prefix, sizeof prefix,
             "%s:%d: invariant PC1 violated: ", fixture_path("spec_examples.kcs"),
             line_of(f, 0, "agent: generate k1"));
    assert_starts(r.failure, prefix);
    assert_non_null(strstr(r.failure, "WhenUnlockedThisDeviceOnly"));
    kcs_result_free(&r);

    r = run(f, 1, bit("pr158-missing-25308"), false);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_string_equal(r.invariant, "EM1");
    snprintf(prefix, sizeof prefix,
             "%s:%d: invariant EM1 violated: ", fixture_path("spec_examples.kcs"),
             line_of(f, 1, "agent: load k1 -> interaction_required"));
    assert_starts(r.failure, prefix);
    assert_non_null(strstr(r.failure, "-25308"));
    /* The journal tail shows the faulted call. */
    assert_non_null(strstr(r.journal, "SecItemCopyMatching"));
    assert_non_null(strstr(r.journal, "injected -> -25308"));
    kcs_result_free(&r);
    kcs_file_free(f);
}

/* ---- Fixtures: every scenario passes clean, every guard kills ------------------------------- */

static void guards_fixture(void **state) {
    (void)state;
    kcs_file *f = load_fixture("guards.kcs");
    size_t n = kcs_file_scenario_count(f);
    assert_true(n >= 15);
    kcs_file *spec = load_fixture("spec_examples.kcs");
    ref_mutant_set covered = kcs_scenario_guards(spec, 0) | kcs_scenario_guards(spec, 1);
    kcs_file_free(spec);
    for (size_t i = 0; i < n; i++) {
        assert_pass(f, i);
        ref_mutant_set g = kcs_scenario_guards(f, i);
        assert_true(g != 0);
        covered |= g;
        for (int m = 0; m < REF_MUT_COUNT; m++) {
            if (!ref_mutant_in(g, (ref_mutant)m))
                continue;
            kcs_result r = run(f, i, REF_MUTANT_BIT(m), false);
            if (r.verdict != KCS_FAIL)
                fail_msg("%s does not kill %s", kcs_scenario_name(f, i),
                         ref_mutant_name((ref_mutant)m));
            assert_starts(r.failure, fixture_path("guards.kcs"));
            assert_true(r.journal[0] != '\0');
            kcs_result_free(&r);
        }
    }
    /* Every mutant but the two migration races (interleavings: next issue). */
    ref_mutant_set races = bit("latent-migration-window") | bit("latent-migration-lost-update");
    for (int m = 0; m < REF_MUT_COUNT; m++)
        if (!ref_mutant_in(races, (ref_mutant)m) && !ref_mutant_in(covered, (ref_mutant)m))
            fail_msg("no fixture guards %s", ref_mutant_name((ref_mutant)m));
    kcs_file_free(f);
}

static void statements_fixture(void **state) {
    (void)state;
    kcs_file *f = load_fixture("statements.kcs");
    for (size_t i = 0; i < kcs_file_scenario_count(f); i++)
        assert_pass(f, i);
    kcs_file_free(f);
}

/* ---- Failures: where and why ---------------------------------------------------------------- */

static void invariant_violation_names_invariant_line_and_journal(void **state) {
    (void)state;
    kcs_file *f = load_fixture("guards.kcs");
    size_t i = scenario_index(f, "transient-load-keeps-key");
    kcs_result r = run(f, i, bit("latent-destroy-on-transient"), false);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_string_equal(r.invariant, "D2");
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "%s:%d: invariant D2 violated: load of 'k1' failed",
             fixture_path("guards.kcs"), line_of(f, i, "agent: load k1 -> interaction_required"));
    assert_starts(r.failure, prefix);
    /* The journal tail: at most 40 lines, ending with the step's outcome note. */
    size_t lines = 0;
    for (const char *p = r.journal; *p; p++)
        lines += *p == '\n';
    assert_true(lines > 3 && lines <= 40);
    assert_non_null(strstr(r.journal, "call agent SecItemDelete"));
    assert_non_null(strstr(r.journal, "=> interaction_required"));
    /* The steps stop at the failure. */
    assert_true(r.steps < kcs_file_scenario(f, i)->nstmts);
    kcs_result_free(&r);

    /* With trace, the whole journal from the world's first line. */
    r = run(f, i, bit("latent-destroy-on-transient"), true);
    assert_starts(r.journal, "#1 t=0 event world seed=1\n");
    kcs_result_free(&r);
    kcs_file_free(f);
}

static void expectation_failure_has_no_invariant(void **state) {
    (void)state;
    kcs_file *f = parse("scenario s\n"
                        "device boot\n"
                        "device unlock\n"
                        "process agent wrap-presence=no\n"
                        "agent: generate k1\n"
                        "mark\n"
                        "expect prompts == 5\n"
                        "expect usable k1\n");
    kcs_result r = run(f, 0, REF_MUTANTS_NONE, false);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_null(r.invariant);
    assert_string_equal(r.failure, "t.kcs:7: expect prompts == 5: got 0 since mark");
    assert_int_equal(r.steps, 6);
    kcs_result_free(&r);
    kcs_file_free(f);
}

static void expectation_messages(void **state) {
    (void)state;
    static const struct {
        const char *stmt;
        const char *failure;
    } cases[] = {
        {"expect item k1 exists=no",
         "t.kcs:7: expect item k1 exists=no: an item com.example.sshenc/k1 exists on the file "
         "keychain (class AfterFirstUnlockThisDeviceOnly)"},
        {"expect item k1 exists=yes keychain=dp",
         "t.kcs:7: expect item k1 exists=yes keychain=dp: the item is on the file keychain, class "
         "AfterFirstUnlockThisDeviceOnly, presence no"},
        {"expect item k2 exists=yes", "t.kcs:7: expect item k2 exists=yes: no item "
                                      "com.example.sshenc/k2 in the file-based keychain"},
        {"expect sekey k1 accessible=WhenUnlockedThisDeviceOnly",
         "t.kcs:7: expect sekey k1 accessible=WhenUnlockedThisDeviceOnly: the SE key has class "
         "AfterFirstUnlockThisDeviceOnly (CryptoKit default, no access control), presence no"},
        {"expect sekey k2 accessible=WhenUnlocked",
         "t.kcs:7: expect sekey k2 accessible=WhenUnlocked: no handle file"},
        {"expect cache agent k1 absent",
         "t.kcs:7: expect cache agent k1 absent: the wrapping-key cache entry is present"},
        {"expect lacontext agent k1 present",
         "t.kcs:7: expect lacontext agent k1 present: the LAContext is absent"},
        {"expect last-error agent contains \"x\"",
         "t.kcs:7: expect last-error agent contains \"x\": the last error of 'agent' is \"\""},
        {"expect warning agent contains \"presence\"",
         "t.kcs:7: expect warning agent contains \"presence\": the warning of 'agent' is \"\""},
        {"expect usable k2", "t.kcs:7: expect usable k2: key 'k2' is not usable: no handle file"},
        {"expect files k1 absent", "t.kcs:7: expect files k1 absent: all three key files exist"},
        {"expect files k2 present", "t.kcs:7: expect files k2 present: no key file exists"},
        {"expect calls SecItemCopyMatching > 2",
         "t.kcs:7: expect calls SecItemCopyMatching > 2: got 2 since the start"},
        {"expect prompts != 0", "t.kcs:7: expect prompts != 0: got 0 since the start"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "scenario s\ndevice boot\ndevice unlock\nprocess agent wrap-presence=no\n"
                 "agent: generate k1\nagent: load k1\n%s\n",
                 cases[c].stmt);
        kcs_file *f = parse(text);
        kcs_result r = run(f, 0, REF_MUTANTS_NONE, false);
        if (r.verdict != KCS_FAIL || strcmp(r.failure, cases[c].failure) != 0)
            fail_msg("%s:\nexpected \"%s\"\n     got \"%s\"", cases[c].stmt, cases[c].failure,
                     r.failure);
        assert_null(r.invariant);
        kcs_result_free(&r);
        kcs_file_free(f);
    }
}

static void outcome_mismatches(void **state) {
    (void)state;
    kcs_file *f = parse("scenario s\ndevice boot\ndevice unlock\nprocess agent\n"
                        "agent: load nokey\n");
    kcs_result r = run(f, 0, REF_MUTANTS_NONE, false);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_starts(r.failure, "t.kcs:5: agent: load nokey: expected success, got key_not_found (");
    assert_non_null(strstr(r.failure, "'nokey'"));
    kcs_result_free(&r);
    kcs_file_free(f);

    f = parse("scenario s\ndevice boot\ndevice unlock\nprocess agent\n"
              "agent: load nokey -> key_not_found\n"
              "agent: load nokey -> any\n"
              "agent: restart -> ok\n"
              "agent: evict nokey -> any\n"
              "agent: load nokey -> crashed\n");
    r = run(f, 0, REF_MUTANTS_NONE, false);
    assert_starts(r.failure, "t.kcs:9: agent: load nokey: expected crashed, got key_not_found "
                             "(load of key 'nokey' failed: ");
    kcs_result_free(&r);
    kcs_file_free(f);

    f = parse("scenario s\ndevice boot\ndevice unlock\nprocess agent\n"
              "agent: restart -> user_cancelled\n");
    r = run(f, 0, REF_MUTANTS_NONE, false);
    assert_string_equal(r.failure, "t.kcs:5: agent: restart: expected user_cancelled, got ok");
    kcs_result_free(&r);
    kcs_file_free(f);
}

static void crashed_process_stays_dead_until_restart(void **state) {
    (void)state;
    kcs_file *f = parse("scenario s\ndevice boot\ndevice unlock\nprocess agent wrap-presence=no\n"
                        "agent: generate k1\n"
                        "fault crash agent after SecItemCopyMatching\n"
                        "agent: load k1 -> crashed\n"
                        "expect cache agent k1 absent\n"
                        "agent: load k1\n");
    kcs_result r = run(f, 0, REF_MUTANTS_NONE, false);
    assert_string_equal(r.failure, "t.kcs:9: agent: load k1: expected success, got crashed "
                                   "(process 'agent' crashed at line 7 and was not restarted)");
    kcs_result_free(&r);
    kcs_file_free(f);
}

static void step_failures(void **state) {
    (void)state;
    static const struct {
        const char *text;
        const char *failure;
    } cases[] = {
        {"scenario s\ndevice unlock\n",
         "t.kcs:2: device unlock: device unlock: not possible while the device is off"},
        {"scenario s\ndevice boot\ndevice wake\n", "t.kcs:3: device wake: device wake: not "
                                                   "possible while the device is before-first-"
                                                   "unlock"},
        {"scenario s\nkeychain unlock\n",
         "t.kcs:2: keychain unlock: keychain unlock: the device is off"},
        {"scenario s\ndevice boot\ndevice unlock\nprocess agent\nagent: plant k1\n"
         "agent: plant k1\n",
         "t.kcs:6: plant: label 'k1' already has a file or a keychain item"},
        {"scenario s\ndevice boot\nprocess agent\nagent: plant k1 presence=yes\n",
         "t.kcs:4: plant: presence=yes needs the data-protection keychain, but process 'agent' "
         "routes to the file-based keychain (no access group or unsigned), where .userPresence "
         "is refused"},
        {"scenario s\ndevice boot\nprocess agent signed=no group=G\nagent: plant k1 presence=yes\n",
         "t.kcs:4: plant: presence=yes needs the data-protection keychain, but process 'agent' "
         "routes to the file-based keychain (no access group or unsigned), where .userPresence "
         "is refused"},
        {"scenario s\ndevice boot\nprocess agent\nagent: plant ../x\n",
         "t.kcs:4: plant: 'agent: plant ../x' is not a valid label"},
        {"scenario s\nclock +100000h\nclock +100000h\nclock +100000h\nclock +100000h\n"
         "clock +100000h\n",
         NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        kcs_file *f = parse(cases[c].text);
        kcs_result r = run(f, 0, REF_MUTANTS_NONE, false);
        if (cases[c].failure == NULL) {
            assert_int_equal(r.verdict, KCS_PASS);
        } else if (r.verdict != KCS_FAIL || strcmp(r.failure, cases[c].failure) != 0) {
            fail_msg("expected \"%s\"\n     got \"%s\"", cases[c].failure, r.failure);
        }
        kcs_result_free(&r);
        kcs_file_free(f);
    }
}

static void clock_horizon(void **state) {
    (void)state;
    /* 2^50 ms is about 312 million hours: 3200 steps of 100000h pass it. */
    size_t cap = 3300 * 16 + 64, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "scenario s\n");
    for (int i = 0; i < 3200; i++)
        n += (size_t)snprintf(text + n, cap - n, "clock +100000h\n");
    kcs_file *f = parse(text);
    free(text);
    kcs_result r = run(f, 0, REF_MUTANTS_NONE, false);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_non_null(strstr(r.failure, "the world clock would pass its horizon"));
    kcs_result_free(&r);
    kcs_file_free(f);
}

/* ---- Determinism and results ------------------------------------------------------------------
 */

static void same_seed_same_journal(void **state) {
    (void)state;
    kcs_file *f = load_fixture("statements.kcs");
    for (size_t i = 0; i < kcs_file_scenario_count(f); i++) {
        kcs_result a = run(f, i, REF_MUTANTS_NONE, true);
        kcs_result b = run(f, i, REF_MUTANTS_NONE, true);
        assert_int_equal(a.verdict, KCS_PASS);
        assert_true(strlen(a.journal) > 100);
        assert_string_equal(a.journal, b.journal);
        assert_int_equal(a.steps, b.steps);
        assert_int_equal(a.invariant_checks, b.invariant_checks);
        assert_int_equal(a.prompts, b.prompts);
        assert_int_equal(a.calls, b.calls);
        kcs_result_free(&a);
        kcs_result_free(&b);
    }
    /* Under a mutant the failure is reproducible too. */
    kcs_file *g = load_fixture("guards.kcs");
    size_t i = scenario_index(g, "cached-sign-one-prompt");
    kcs_result a = run(g, i, bit("pr118-two-prompts"), true);
    kcs_result b = run(g, i, bit("pr118-two-prompts"), true);
    assert_int_equal(a.verdict, KCS_FAIL);
    assert_string_equal(a.failure, b.failure);
    assert_string_equal(a.journal, b.journal);
    kcs_result_free(&a);
    kcs_result_free(&b);
    /* Another seed: other keys, same verdict. */
    kcs_run_options o = {.seed = 99, .mutants = REF_MUTANTS_NONE, .trace = true};
    kcs_result c;
    assert_int_equal(kcs_run_scenario(f, 0, &o, &c), 0);
    assert_int_equal(c.verdict, KCS_PASS);
    assert_starts(c.journal, "#1 t=0 event world seed=99\n");
    kcs_result_free(&c);
    kcs_file_free(g);
    kcs_file_free(f);
}

static void results_and_arguments(void **state) {
    (void)state;
    kcs_file *f = parse("scenario s\ndevice boot\ndevice unlock\n"
                        "process agent group=TEAMID.com.example.sshenc\n"
                        "agent: generate k1 presence=cached\n"
                        "agent: sign k1\n");
    kcs_result r;
    /* NULL options: seed 1, clean core, no trace. */
    assert_int_equal(kcs_run_scenario(f, 0, NULL, &r), 0);
    assert_int_equal(r.verdict, KCS_PASS);
    assert_int_equal(r.steps, 5);
    assert_int_equal(r.prompts, 1);
    assert_true(r.calls > 10);
    /* 9 per step, + L2 and D2 for the two operations, + L1 for the sign. */
    assert_int_equal(r.invariant_checks, 9 * 5 + 2 * 2 + 1);
    kcs_result_free(&r);
    kcs_result_free(&r); /* idempotent */
    assert_int_equal(kcs_run_scenario(f, 1, NULL, &r), -1);
    assert_int_equal(kcs_run_scenario(NULL, 0, NULL, &r), -1);
    assert_int_equal(kcs_run_scenario(f, 0, NULL, NULL), -1);

    /* A world the caller had active is active again afterwards. */
    world *mine = world_new(5);
    world_activate(mine);
    assert_int_equal(kcs_run_scenario(f, 0, NULL, &r), 0);
    assert_ptr_equal(world_active(), mine);
    kcs_result_free(&r);
    world_free(mine);
    assert_null(world_active());
    kcs_file_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(spec_examples_pass_clean),
        T(spec_examples_fail_on_their_mutants),
        T(guards_fixture),
        T(statements_fixture),
        T(invariant_violation_names_invariant_line_and_journal),
        T(expectation_failure_has_no_invariant),
        T(expectation_messages),
        T(outcome_mismatches),
        T(crashed_process_stays_dead_until_restart),
        T(step_failures),
        T(clock_horizon),
        T(same_seed_same_journal),
        T(results_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
