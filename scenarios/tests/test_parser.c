/* The `.kcs` parser: valid input becomes the AST the language page describes;
 * every malformed input gets exactly one "file:line: message" (checked with
 * the exact prefix), one test per category; and a deterministic fuzz loop
 * feeds truncated and mutated versions of the fixtures (parse never crashes
 * or leaks — run it under `make SAN=1` — and what parses also runs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <keyclass/cf_accounting.h>

#include "kcs/ast.h"
#include "kcs/engine.h"

#include "kcs_test_support.h"

/* ---- Helpers ------------------------------------------------------------------------ */

static char *read_fixture(const char *name, size_t *len) {
    FILE *f = fopen(fixture_path(name), "rb");
    if (f == NULL)
        fail_msg("cannot open fixture %s", fixture_path(name));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static kcs_file *parse_ok(const char *text) {
    kcs_file *f = NULL;
    char err[1024] = "unset";
    int rc = kcs_parse_text("t.kcs", text, strlen(text), &f, err, sizeof err);
    if (rc != 0)
        fail_msg("expected a clean parse of:\n%s\ngot: %s", text, err);
    assert_non_null(f);
    assert_string_equal(err, "");
    return f;
}

/* The parse fails with an error that starts with `prefix` and contains `needle`. */
static void parse_err(const char *text, const char *prefix, const char *needle) {
    kcs_file *f = (kcs_file *)&f; /* must be reset to NULL */
    char err[1024] = "";
    int rc = kcs_parse_text("t.kcs", text, strlen(text), &f, err, sizeof err);
    if (rc != -1 || f != NULL || strncmp(err, prefix, strlen(prefix)) != 0 ||
        strstr(err + strlen(prefix), needle) == NULL)
        fail_msg("input:\n%s\nexpected \"%s...%s...\", got rc=%d \"%s\"", text, prefix, needle, rc,
                 err);
}

/* A scenario with one process; the statement under test is on line 4. */
#define H "scenario s\ndevice boot\nprocess agent group=TEAMID.com.example.sshenc\n"

static const kcs_stmt *stmt_at(const kcs_file *f, size_t sc, size_t i) {
    const kcs_scenario *s = kcs_file_scenario(f, sc);
    assert_non_null(s);
    assert_true(i < s->nstmts);
    return &s->stmts[i];
}

/* ---- Valid input ------------------------------------------------------------------------ */

static void spec_examples_parse(void **state) {
    (void)state;
    kcs_file *f = NULL;
    char err[512];
    assert_int_equal(kcs_parse_file(fixture_path("spec_examples.kcs"), &f, err, sizeof err), 0);
    assert_int_equal(kcs_file_scenario_count(f), 2);
    assert_string_equal(kcs_scenario_name(f, 0), "pr158-dp-wrapping-key-survives-sleep");
    assert_string_equal(kcs_scenario_name(f, 1), "pr158-25308-is-interaction-required");
    assert_int_equal(kcs_scenario_line(f, 0), 3);
    assert_int_equal(kcs_scenario_line(f, 1), 18);
    assert_string_equal(kcs_scenario_doc(f, 0),
                        "Signed build, DP keychain, no presence on the wrapping key: a background "
                        "load after sleep must still succeed.");
    assert_string_equal(kcs_scenario_doc(f, 1), "");
    assert_int_equal(kcs_scenario_guards(f, 0),
                     REF_MUTANT_BIT(REF_MUT_PR158_WHEN_UNLOCKED_WRAPPING));
    assert_int_equal(kcs_scenario_guards(f, 1), REF_MUTANT_BIT(REF_MUT_PR158_MISSING_25308));
    assert_false(kcs_scenario_has_parallel(f, 0));
    assert_null(kcs_scenario_name(f, 2));

    const kcs_scenario *s = kcs_file_scenario(f, 0);
    assert_int_equal(s->nprocs, 1);
    assert_string_equal(s->procs[0].name, "agent");
    assert_string_equal(s->procs[0].app, "sshenc");
    assert_true(s->procs[0].is_signed);
    assert_string_equal(s->procs[0].group, "TEAMID.com.example.sshenc");
    assert_false(s->procs[0].wrap_presence);
    assert_int_equal(s->procs[0].cache_ttl_ms, 300000);
    const kcs_stmt *gen = stmt_at(f, 0, 3);
    assert_int_equal(gen->kind, KCS_ST_OP);
    assert_int_equal(gen->line, 10);
    assert_int_equal(gen->u.op.kind, KCS_OP_GENERATE);
    assert_string_equal(gen->u.op.label, "k1");
    assert_int_equal(gen->u.op.outcome, KCS_OUT_SUCCESS);
    assert_string_equal(gen->text, "agent: generate k1 auth=none presence=none");
    const kcs_stmt *clock = stmt_at(f, 0, 6);
    assert_int_equal(clock->kind, KCS_ST_CLOCK);
    assert_int_equal(clock->u.clock.ms, 2 * 3600 * 1000);
    const kcs_stmt *load = stmt_at(f, 1, 6);
    assert_int_equal(load->u.op.outcome, KCS_OUT_ERROR);
    assert_int_equal(load->u.op.error, REF_ERR_INTERACTION_REQUIRED);
    kcs_file_free(f);
}

static void every_statement_parses(void **state) {
    (void)state;
    const char *text =
        "scenario all-1.x_y   # comment after the name\n"
        "doc  first   line  \n"
        "doc second \"quoted\" # comment\n"
        "tags a b\n"
        "tags c\n"
        "guards pr80-no-acl-fallback latent-store-unmapped\n"
        "knob lock_grace=5s\n"
        "knob se_available=off\n"
        "knob la_max_reuse=1000\n"
        "device boot\r\n"
        "device passcode off\n"
        "device biometry on\n"
        "clock +250ms\n"
        "keychain lock-on-sleep on\n"
        "user cancel x3\n"
        "user default absent\n"
        "process agent app=other signed=no group=none gui=no wrap-presence=no cache-ttl=0s "
        "home-override=yes\n"
        "process b\n"
        "fault SecItemCopyMatching errSecInteractionNotAllowed nth=2 times=always proc=b "
        "match=com.*/k?\n"
        "fault SESign -42\n"
        "fault lose-class-key AfterFirstUnlockThisDeviceOnly\n"
        "fault destroy-class-key WhenUnlocked\n"
        "fault crash b after FileWrite nth=3\n"
        "agent: generate k#1 auth=biometry presence=cached -> any\n"
        "b: sign k1 presence=strict ttl=1m -> crashed\n"
        "b: rename k1 k2 -> ok\n"
        "b: plant k3 accessible=AlwaysThisDeviceOnly presence=yes auth=passcode\n"
        "b: plant k4 handle=plaintext\n"
        "b: restart\n"
        "mark\n"
        "expect prompts >= 2\n"
        "expect calls SecItemAdd != 0\n"
        "expect item k1 proc=b exists=yes accessible=WhenUnlocked keychain=file presence=no\n"
        "expect sekey k1 accessible=WhenUnlockedThisDeviceOnly\n"
        "expect cache b k1 absent\n"
        "expect lacontext agent k1 present\n"
        "expect last-error b contains \"say \\\"unlock\\\" # not a comment \\\\ \"\n"
        "expect warning agent contains \"\"\n"
        "expect usable k1 proc=agent\n"
        "expect files k1 proc=b absent\n"
        "expect files k2 present proc=b\n"
        "parallel\n"
        "  agent: load k1   # inside\n"
        "  b: sign k1 -> any\n"
        "end\n";
    kcs_file *f = parse_ok(text);
    const kcs_scenario *s = kcs_file_scenario(f, 0);
    assert_string_equal(s->name, "all-1.x_y");
    assert_string_equal(s->doc, "first   line second \"quoted\"");
    assert_int_equal(kcs_scenario_tag_count(f, 0), 3);
    assert_string_equal(kcs_scenario_tag(f, 0, 2), "c");
    assert_null(kcs_scenario_tag(f, 0, 3));
    assert_int_equal(s->guards, REF_MUTANT_BIT(REF_MUT_PR80_NO_ACL_FALLBACK) |
                                    REF_MUTANT_BIT(REF_MUT_LATENT_STORE_UNMAPPED));
    assert_true(s->has_parallel);
    assert_true(kcs_scenario_has_parallel(f, 0));
    assert_int_equal(s->nprocs, 2);
    assert_false(s->procs[0].is_signed);
    assert_null(s->procs[0].group);
    assert_false(s->procs[0].gui);
    assert_int_equal(s->procs[0].cache_ttl_ms, 0);
    assert_true(s->procs[0].home_override);

    size_t i = 0;
    assert_int_equal(s->stmts[i].u.knob.knob, WORLD_KNOB_LOCK_GRACE_MS);
    assert_int_equal(s->stmts[i++].u.knob.value, 5000);
    assert_int_equal(s->stmts[i++].u.knob.value, 0);
    assert_int_equal(s->stmts[i++].u.knob.value, 1000);
    assert_int_equal(s->stmts[i].kind, KCS_ST_DEVICE);
    assert_int_equal(s->stmts[i].line, 10);
    assert_string_equal(s->stmts[i++].text, "device boot"); /* CRLF */
    assert_false(s->stmts[i++].u.device.on);
    assert_true(s->stmts[i++].u.device.on);
    assert_int_equal(s->stmts[i++].u.clock.ms, 250);
    assert_true(s->stmts[i++].u.keychain.on);
    assert_int_equal(s->stmts[i].u.user.answer, WORLD_ANSWER_CANCEL);
    assert_int_equal(s->stmts[i++].u.user.times, 3);
    assert_true(s->stmts[i++].u.user.is_default);
    assert_int_equal(s->stmts[i++].kind, KCS_ST_PROCESS);
    assert_int_equal(s->stmts[i++].kind, KCS_ST_PROCESS);
    const kcs_stmt *ft = &s->stmts[i++];
    assert_int_equal(ft->u.fault.api, WORLD_API_SEC_ITEM_COPY_MATCHING);
    assert_int_equal(ft->u.fault.status, -25308);
    assert_int_equal(ft->u.fault.nth, 2);
    assert_int_equal(ft->u.fault.times, 0);
    assert_int_equal(ft->u.fault.proc, 1);
    assert_string_equal(ft->u.fault.match, "com.*/k?");
    ft = &s->stmts[i++];
    assert_int_equal(ft->u.fault.status, -42);
    assert_int_equal(ft->u.fault.nth, 1);
    assert_int_equal(ft->u.fault.times, 1);
    assert_int_equal(ft->u.fault.proc, -1);
    assert_null(ft->u.fault.match);
    assert_false(s->stmts[i++].u.class_fault.destroy);
    assert_true(s->stmts[i].u.class_fault.destroy);
    assert_int_equal(s->stmts[i++].u.class_fault.cls, WORLD_CLASS_WHEN_UNLOCKED);
    assert_int_equal(s->stmts[i].u.crash.api, WORLD_API_FILE_WRITE);
    assert_int_equal(s->stmts[i++].u.crash.nth, 3);
    const kcs_op *op = &s->stmts[i++].u.op;
    assert_string_equal(op->label, "k#1"); /* '#' inside a word is not a comment */
    assert_int_equal(op->auth, REF_AUTH_BIOMETRY);
    assert_int_equal(op->presence, REF_PRESENCE_CACHED);
    assert_int_equal(op->outcome, KCS_OUT_ANY);
    op = &s->stmts[i++].u.op;
    assert_int_equal(op->kind, KCS_OP_SIGN);
    assert_int_equal(op->proc, 1);
    assert_int_equal(op->presence, REF_PRESENCE_STRICT);
    assert_int_equal(op->ttl_ms, 60000);
    assert_int_equal(op->outcome, KCS_OUT_CRASHED);
    op = &s->stmts[i++].u.op;
    assert_string_equal(op->label2, "k2");
    assert_int_equal(op->outcome, KCS_OUT_ERROR);
    assert_int_equal(op->error, REF_OK);
    op = &s->stmts[i++].u.op;
    assert_int_equal(op->accessible, WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY);
    assert_true(op->plant_presence);
    assert_int_equal(op->auth, REF_AUTH_PASSCODE);
    assert_false(op->plaintext);
    assert_true(s->stmts[i++].u.op.plaintext);
    assert_int_equal(s->stmts[i].u.op.kind, KCS_OP_RESTART);
    assert_null(s->stmts[i++].u.op.label);
    assert_int_equal(s->stmts[i++].kind, KCS_ST_MARK);
    assert_int_equal(s->stmts[i].u.count.cmp, KCS_CMP_GE);
    assert_int_equal(s->stmts[i++].u.count.n, 2);
    assert_int_equal(s->stmts[i].u.count.api, WORLD_API_SEC_ITEM_ADD);
    assert_int_equal(s->stmts[i++].u.count.cmp, KCS_CMP_NE);
    const kcs_stmt *it = &s->stmts[i++];
    assert_int_equal(it->u.item.proc, 1);
    assert_true(it->u.item.exists);
    assert_int_equal(it->u.item.accessible, WORLD_CLASS_WHEN_UNLOCKED);
    assert_int_equal(it->u.item.keychain, WORLD_KEYCHAIN_FILE);
    assert_int_equal(it->u.item.presence, 0);
    assert_int_equal(s->stmts[i].u.sekey.proc, 0); /* the first process */
    assert_int_equal(s->stmts[i++].u.sekey.presence, KCS_UNSET);
    assert_false(s->stmts[i++].u.memory.present);
    assert_true(s->stmts[i++].u.memory.present);
    assert_string_equal(s->stmts[i++].u.contains.text, "say \"unlock\" # not a comment \\ ");
    assert_string_equal(s->stmts[i++].u.contains.text, "");
    assert_int_equal(s->stmts[i++].kind, KCS_ST_EXPECT_USABLE);
    assert_false(s->stmts[i++].u.key.present);
    assert_true(s->stmts[i].u.key.present);
    assert_int_equal(s->stmts[i++].u.key.proc, 1);
    const kcs_stmt *par = &s->stmts[i++];
    assert_int_equal(par->kind, KCS_ST_PARALLEL);
    assert_int_equal(par->u.parallel.count, 2);
    assert_int_equal(par->u.parallel.body[0].u.op.kind, KCS_OP_LOAD);
    assert_int_equal(par->u.parallel.body[1].line, 44);
    assert_int_equal(i, s->nstmts);
    kcs_file_free(f);
}

static void several_scenarios_and_edge_layout(void **state) {
    (void)state;
    /* No final newline; blank and comment-only lines; tabs. */
    kcs_file *f = parse_ok("# leading comment\n\n   \nscenario a\n\tdevice\tboot\t# c\n"
                           "scenario b\nclock +0ms");
    assert_int_equal(kcs_file_scenario_count(f), 2);
    assert_int_equal(kcs_scenario_line(f, 0), 4);
    assert_int_equal(kcs_file_scenario(f, 0)->nstmts, 1);
    assert_int_equal(stmt_at(f, 1, 0)->u.clock.ms, 0);
    kcs_file_free(f);
    /* The largest duration. */
    f = parse_ok("scenario a\nclock +100000h\n");
    assert_int_equal(stmt_at(f, 0, 0)->u.clock.ms, (int64_t)100000 * 3600 * 1000);
    kcs_file_free(f);
}

/* ---- Errors: one per category, exact "file:line:" prefix ---------------------------------- */

static void error_unknown_statement(void **state) {
    (void)state;
    parse_err(H "frobnicate k1\n", "t.kcs:4: ", "unknown statement 'frobnicate'");
    parse_err(H "agent : load k1\n", "t.kcs:4: ", "':' right after the process name");
    parse_err(H "expect nothing k1\n", "t.kcs:4: ", "unknown expectation 'nothing'");
    parse_err(H "agent: fly k1\n", "t.kcs:4: ", "unknown operation 'fly'");
    parse_err(H "device explode\n", "t.kcs:4: ", "unknown device event 'explode'");
    parse_err(H "keychain open\n", "t.kcs:4: ", "unknown keychain event 'open'");
}

static void error_bad_option_or_value(void **state) {
    (void)state;
    parse_err(H "process b colour=red\n", "t.kcs:4: ", "unknown option 'colour' for process");
    parse_err(H "process b signed=maybe\n", "t.kcs:4: ", "bad value 'maybe' for signed");
    parse_err(H "process b =yes\n", "t.kcs:4: ", "bad option '=yes'");
    parse_err(H "process b gui=\n", "t.kcs:4: ", "empty value for option 'gui'");
    parse_err(H "process b app=a/b\n", "t.kcs:4: ", "bad value 'a/b' for app");
    parse_err(H "process b!\n", "t.kcs:4: ", "bad process name 'b!'");
    parse_err(H "agent: generate k1 auth=face\n", "t.kcs:4: ", "bad value 'face' for auth");
    parse_err(H "agent: sign k1 presence=always\n", "t.kcs:4: ", "bad value 'always' for presence");
    parse_err(H "agent: plant k1 handle=raw\n", "t.kcs:4: ", "bad value 'raw' for handle");
    parse_err(H "agent: plant k1 handle=plaintext presence=yes\n",
              "t.kcs:4: ", "presence= applies to the wrapping-key item");
    parse_err(H "agent: generate auth=any\n", "t.kcs:4: ", "missing label before option");
    parse_err(H "expect item k1 exists=no keychain=dp\n",
              "t.kcs:4: ", "keychain= needs exists=yes");
    parse_err(H "expect item k1 keychain=dp\n", "t.kcs:4: ", "needs exists=yes|no");
    parse_err(H "expect item k1 exists=yes keychain=cloud\n",
              "t.kcs:4: ", "bad value 'cloud' for keychain");
    parse_err(H "expect sekey k1\n", "t.kcs:4: ", "needs accessible=");
    parse_err(H "expect prompts ~ 1\n", "t.kcs:4: ", "bad comparison '~'");
    parse_err(H "expect prompts == -1\n", "t.kcs:4: ", "bad number '-1'");
    parse_err(H "expect prompts == 99999999999999999999\n", "t.kcs:4: ", "bad number");
    parse_err(H "expect cache agent k1 maybe\n", "t.kcs:4: ", "expected present or absent");
    parse_err(H "expect files k1\n", "t.kcs:4: ", "needs present or absent");
    parse_err(H "device passcode maybe\n", "t.kcs:4: ", "bad value 'maybe' for passcode");
    parse_err(H "fault SESign -1 nth=0\n", "t.kcs:4: ", "bad value '0' for nth");
    parse_err(H "fault SESign -1 times=4294967296\n", "t.kcs:4: ", "bad value '4294967296'");
    parse_err(H "knob lock_grace\n", "t.kcs:4: ", "bad knob 'lock_grace'");
    parse_err(H "knob lock_grace=soon\n", "t.kcs:4: ", "bad value 'soon' for knob lock_grace");
    parse_err(H "user maybe\n", "t.kcs:4: ", "unknown answer 'maybe'");
    parse_err("scenario bad/name\n", "t.kcs:1: ", "bad scenario name 'bad/name'");
    parse_err(H "process agent\n", "t.kcs:4: ", "process 'agent' is already declared (line 3)");
    parse_err("scenario a\nscenario b\nscenario a\n",
              "t.kcs:3: ", "duplicate scenario name 'a' (first at line 1)");
}

static void error_bad_duration(void **state) {
    (void)state;
    parse_err(H "clock +5\n", "t.kcs:4: ", "bad duration '5' for clock");
    parse_err(H "clock +5d\n", "t.kcs:4: ", "bad duration '5d'");
    parse_err(H "clock +-5s\n", "t.kcs:4: ", "bad duration '-5s'");
    parse_err(H "clock 5s\n", "t.kcs:4: ", "usage: clock +<duration>");
    parse_err(H "clock +s\n", "t.kcs:4: ", "bad duration 's'");
    parse_err(H "clock +100001h\n", "t.kcs:4: ", "out of range");
    parse_err(H "clock +99999999999999999999999ms\n", "t.kcs:4: ", "out of range");
    parse_err(H "clock +9223372036854775807ms\n", "t.kcs:4: ", "out of range");
    parse_err(H "process b cache-ttl=10\n", "t.kcs:4: ", "bad duration '10' for cache-ttl");
    parse_err(H "agent: sign k1 ttl=1.5s\n", "t.kcs:4: ", "bad duration '1.5s' for ttl");
    parse_err(H "knob lock_grace=99999999999999999999h\n", "t.kcs:4: ", "out of range");
}

static void error_unknown_names(void **state) {
    (void)state;
    parse_err(H "fault SecItemFrob errSecParam\n", "t.kcs:4: ", "unknown api 'SecItemFrob'");
    parse_err(H "expect calls secitemadd == 1\n", "t.kcs:4: ", "unknown api 'secitemadd'");
    parse_err(H "fault crash agent after Nope\n", "t.kcs:4: ", "unknown api 'Nope'");
    parse_err(H "fault SecItemAdd errSecBogus\n", "t.kcs:4: ", "unknown status 'errSecBogus'");
    parse_err(H "fault SecItemAdd 2147483648\n", "t.kcs:4: ", "unknown status '2147483648'");
    parse_err(H "fault lose-class-key Sometimes\n",
              "t.kcs:4: ", "unknown protection class 'Sometimes'");
    parse_err(H "agent: plant k1 accessible=kSecAttrAccessibleAlways\n",
              "t.kcs:4: ", "unknown protection class");
    parse_err(H "agent: load k1 -> exploded\n", "t.kcs:4: ", "unknown outcome 'exploded'");
    parse_err(H "guards pr158-missing-25308 pr999-imaginary\n",
              "t.kcs:4: ", "unknown mutant 'pr999-imaginary'");
    parse_err(H "knob frobnicity=1\n", "t.kcs:4: ", "unknown knob 'frobnicity'");
}

static void error_undeclared_process(void **state) {
    (void)state;
    parse_err(H "ghost: load k1\n", "t.kcs:4: ", "undeclared process 'ghost'");
    parse_err(H "expect cache ghost k1 present\n", "t.kcs:4: ", "undeclared process 'ghost'");
    parse_err(H "expect usable k1 proc=ghost\n", "t.kcs:4: ", "undeclared process 'ghost'");
    parse_err(H "fault SESign -1 proc=ghost\n", "t.kcs:4: ", "undeclared process 'ghost'");
    parse_err(H "fault crash ghost after SESign\n", "t.kcs:4: ", "undeclared process 'ghost'");
    /* Declared later does not count; each scenario has its own processes. */
    parse_err("scenario a\nlate: load k1\nprocess late\n",
              "t.kcs:2: ", "undeclared process 'late'");
    parse_err(H "scenario b\nagent: load k1\n", "t.kcs:5: ", "undeclared process 'agent'");
    parse_err("scenario a\nexpect usable k1\n", "t.kcs:2: ", "no process declared yet");
}

static void error_missing_end(void **state) {
    (void)state;
    parse_err(H "parallel\nagent: load k1\n", "t.kcs:4: ", "`parallel` block has no `end`");
    parse_err(H "parallel\nagent: load k1\nscenario next\n",
              "t.kcs:4: ", "`parallel` block has no `end`");
    parse_err(H "parallel\nend\n", "t.kcs:4: ", "empty `parallel` block");
    parse_err(H "parallel\nagent: load k1\nparallel\n",
              "t.kcs:6: ", "only operations may appear inside `parallel` (opened at line 4)");
    parse_err(H "parallel\nexpect usable k1\nend\n", "t.kcs:5: ", "only operations may appear");
    parse_err(H "end\n", "t.kcs:4: ", "`end` without `parallel`");
    parse_err(H "parallel now\n", "t.kcs:4: ", "unexpected 'now'");
}

static void error_statement_before_scenario(void **state) {
    (void)state;
    parse_err("device boot\nscenario s\n", "t.kcs:1: ", "statement before `scenario`");
    parse_err("# c\n\ndoc hello\nscenario s\n", "t.kcs:3: ", "statement before `scenario`");
    parse_err("agent: load k1\n", "t.kcs:1: ", "statement before `scenario`");
    parse_err("", "t.kcs:1: ", "no scenario in the file");
    parse_err("# only a comment\n\n", "t.kcs:1: ", "no scenario in the file");
}

static void error_duplicate_option(void **state) {
    (void)state;
    parse_err(H "process b gui=yes gui=no\n", "t.kcs:4: ", "duplicate option 'gui'");
    parse_err(H "agent: generate k1 auth=any auth=none\n", "t.kcs:4: ", "duplicate option 'auth'");
    parse_err(H "expect item k1 exists=yes exists=no\n", "t.kcs:4: ", "duplicate option 'exists'");
    parse_err(H "fault SESign -1 nth=1 nth=2\n", "t.kcs:4: ", "duplicate option 'nth'");
}

static void error_trailing_garbage(void **state) {
    (void)state;
    parse_err(H "device boot now\n", "t.kcs:4: ", "unexpected 'now'");
    parse_err(H "mark twice\n", "t.kcs:4: ", "unexpected 'twice'");
    parse_err(H "agent: load k1 k2\n", "t.kcs:4: ", "unexpected 'k2'");
    parse_err(H "agent: restart now\n", "t.kcs:4: ", "unexpected 'now'");
    parse_err(H "agent: load k1 -> ok extra\n",
              "t.kcs:4: ", "unexpected 'extra' after the outcome");
    parse_err(H "agent: load k1 ->\n", "t.kcs:4: ", "missing outcome after '->'");
    parse_err(H "agent: rename k1\n", "t.kcs:4: ", "incomplete operation");
    parse_err(H "agent:\n", "t.kcs:4: ", "missing operation after 'agent:'");
    parse_err(H "expect prompts == 1 2\n", "t.kcs:4: ", "unexpected '2'");
    parse_err(H "expect cache agent k1 present now\n", "t.kcs:4: ", "unexpected 'now'");
    parse_err(H "clock +1s +2s\n", "t.kcs:4: ", "unexpected '+2s'");
    parse_err(H "scenario a b\n", "t.kcs:4: ", "unexpected 'b'");
    parse_err(H "user default approve cancel\n", "t.kcs:4: ", "unexpected 'cancel'");
    parse_err(H "user approve x2 x3\n", "t.kcs:4: ", "unexpected 'x3'");
    parse_err(H "fault crash agent before SESign\n", "t.kcs:4: ", "expected 'after'");
    parse_err(H "fault lose-class-key WhenUnlocked now\n", "t.kcs:4: ", "unexpected 'now'");
    parse_err(H "expect last-error agent contains \"x\" more\n",
              "t.kcs:4: ", "unexpected 'more' after the quoted text");
}

static void error_bad_repeat_count(void **state) {
    (void)state;
    parse_err(H "user approve x0\n", "t.kcs:4: ", "bad repeat count 'x0'");
    parse_err(H "user approve 3\n", "t.kcs:4: ", "bad repeat count '3'");
    parse_err(H "user approve x\n", "t.kcs:4: ", "bad repeat count 'x'");
    parse_err(H "user approve x-1\n", "t.kcs:4: ", "bad repeat count 'x-1'");
    parse_err(H "user approve x10001\n", "t.kcs:4: ", "bad repeat count 'x10001'");
    parse_err(H "user approve x99999999999999999999999\n", "t.kcs:4: ", "bad repeat count");
    parse_err(H "user approve X2\n", "t.kcs:4: ", "bad repeat count 'X2'");
}

static void error_quoted_text(void **state) {
    (void)state;
    parse_err(H "expect last-error agent contains unlock\n",
              "t.kcs:4: ", "the text must be quoted: \"unlock\"");
    parse_err(H "expect warning agent contains \"unterminated\n",
              "t.kcs:4: ", "unterminated quoted text");
    parse_err(H "expect warning agent contains \"a\\nb\"\n", "t.kcs:4: ", "bad escape");
    parse_err(H "expect warning agent contains \"a\"b\n",
              "t.kcs:4: ", "unexpected text right after quoted text");
    parse_err(H "expect warning agent has \"a\"\n", "t.kcs:4: ", "expected 'contains'");
    parse_err(H "expect warning agent contains\n", "t.kcs:4: ", "incomplete statement");
    parse_err(H "device \"boot\"\n", "t.kcs:4: ", "unexpected quoted text \"boot\"");
    parse_err(H "agent: load \"k1\"\n", "t.kcs:4: ", "unexpected quoted text \"k1\"");
    parse_err(H "process b app=\"x\"\n", "t.kcs:4: ", "bad value '\"x\"' for app");
    parse_err(H "\"scenario\" s\n", "t.kcs:4: ", "unexpected quoted text");
    parse_err(H "expect warning \"agent\" contains \"a\"\n", "t.kcs:4: ", "unexpected quoted text");
}

static void error_bytes(void **state) {
    (void)state;
    static const char nul[] = "scenario s\ndevice bo\0ot\n";
    kcs_file *f = NULL;
    char err[256];
    assert_int_equal(kcs_parse_text("t.kcs", nul, sizeof nul - 1, &f, err, sizeof err), -1);
    assert_null(f);
    assert_string_equal(err, "t.kcs:2: NUL byte in the line");
    parse_err(H "agent: load k\x01\n", "t.kcs:4: ", "control character 0x01");
    parse_err(H "agent: load k1\x7f\n", "t.kcs:4: ", "control character 0x7f");
    parse_err(H "doc a\x1b[31m\n", "t.kcs:4: ", "control character 0x1b");
    /* A control byte inside a comment is ignored; \r only at the line end. */
    kcs_file *ok = parse_ok("scenario s # \x01\x02\n");
    kcs_file_free(ok);
    parse_err("scenario s\ndevice boot\rx\n", "t.kcs:2: ", "control character 0x0d");
}

static void error_file_and_arguments(void **state) {
    (void)state;
    kcs_file *f = (kcs_file *)&f;
    char err[512];
    assert_int_equal(kcs_parse_file("/nonexistent/x.kcs", &f, err, sizeof err), -1);
    assert_null(f);
    assert_string_equal(err,
                        "/nonexistent/x.kcs:1: cannot open the file: No such file or directory");
    /* A tiny error buffer is truncated, never overrun; NULL is allowed. */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    assert_int_equal(kcs_parse_text("t.kcs", "mark\n", 5, &f, tiny, sizeof tiny), -1);
    assert_int_equal(tiny[7], '\0');
    assert_int_equal(kcs_parse_text("t.kcs", "mark\n", 5, &f, NULL, 0), -1);
    assert_int_equal(kcs_parse_text("t.kcs", NULL, 5, &f, err, sizeof err), -1);
    /* Accessors tolerate NULL and bad indexes. */
    assert_int_equal(kcs_file_scenario_count(NULL), 0);
    assert_null(kcs_scenario_name(NULL, 0));
    assert_string_equal(kcs_scenario_doc(NULL, 0), "");
    assert_int_equal(kcs_scenario_guards(NULL, 0), 0);
    assert_false(kcs_scenario_has_parallel(NULL, 0));
    kcs_file_free(NULL);
}

/* ---- Fuzz-ish
 * ------------------------------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static const char *const dictionary[] = {
    " ",
    "\n",
    "#",
    "\"",
    "\\",
    "=",
    ":",
    "->",
    "-> any",
    "-> crashed",
    "x0",
    "x10000",
    "99999999999999999999",
    "-1",
    "0",
    "+",
    "+0ms",
    "100000h",
    "ms",
    "always",
    "none",
    "yes",
    "no",
    "on",
    "off",
    "scenario z",
    "parallel\n",
    "end\n",
    "\r\n",
    "\x01",
    "\xff",
    "agent:",
    "agent: load k1",
    "agent: sign k1",
    "agent: restart",
    "agent: plant p1",
    "mark",
    "device reboot\n",
    "device unlock\n",
    "device lock\n",
    "clock +11s\n",
    "process q\n",
    "expect usable k1",
    "expect files k1 present",
    "\"a # b\"",
    "k#1",
    "proc=agent",
    "exists=",
    "fault SESign LAErrorUserCancel\n",
    "fault crash agent after SecItemAdd\n",
    "user absent x9\n",
    "cache-ttl=0s",
    "presence=cached",
    "auth=any",
    "handle=plaintext",
    "..",
    "/",
    "*",
    "?",
};

/* One deterministic mutation of `src` into a fresh buffer. */
static char *mutate(const char *src, size_t len, size_t *out_len) {
    size_t cap = len + 256;
    char *b = malloc(cap);
    assert_non_null(b);
    memcpy(b, src, len);
    size_t n = len;
    int rounds = 1 + (int)(rnd() % 4);
    for (int r = 0; r < rounds; r++) {
        size_t at = n > 0 ? (size_t)(rnd() % (n + 1)) : 0;
        switch (rnd() % 6) {
        case 0: /* truncate */
            n = at;
            break;
        case 1: { /* delete a range */
            size_t k = (size_t)(rnd() % 16);
            if (at + k > n)
                k = n - at;
            memmove(b + at, b + at + k, n - at - k);
            n -= k;
            break;
        }
        case 2: /* flip a byte */
            if (at < n)
                b[at] = (char)(rnd() & 0xff);
            break;
        case 3: { /* insert a dictionary word */
            const char *w = dictionary[rnd() % (sizeof dictionary / sizeof dictionary[0])];
            size_t k = strlen(w);
            if (n + k <= cap) {
                memmove(b + at + k, b + at, n - at);
                memcpy(b + at, w, k);
                n += k;
            }
            break;
        }
        case 4: { /* duplicate a stretch */
            size_t k = (size_t)(rnd() % 40);
            if (at + k > n)
                k = n - at;
            if (n + k <= cap) {
                memmove(b + at + k, b + at, n - at);
                n += k;
            }
            break;
        }
        default: /* insert a NUL or a newline */
            if (n + 1 <= cap) {
                memmove(b + at + 1, b + at, n - at);
                b[at] = (rnd() & 1) ? '\0' : '\n';
                n++;
            }
            break;
        }
    }
    *out_len = n;
    return b;
}

/* "file:LINE: message": the exact shape every error must have. */
static void assert_error_shape(const char *err, const char *name) {
    size_t nl = strlen(name);
    if (strncmp(err, name, nl) != 0 || err[nl] != ':')
        fail_msg("error without the file name: \"%s\"", err);
    const char *p = err + nl + 1;
    if (*p < '1' || *p > '9')
        fail_msg("error without a line number: \"%s\"", err);
    while (*p >= '0' && *p <= '9')
        p++;
    if (p[0] != ':' || p[1] != ' ' || p[2] == '\0')
        fail_msg("error without a message: \"%s\"", err);
    if (strchr(err, '\n') != NULL)
        fail_msg("error with a newline: \"%s\"", err);
}

static void check_one(const char *text, size_t len, size_t *parsed, size_t *ran) {
    kcs_file *f = NULL;
    char err[1024];
    int rc = kcs_parse_text("fz.kcs", text, len, &f, err, sizeof err);
    if (rc != 0) {
        assert_int_equal(rc, -1);
        assert_null(f);
        assert_error_shape(err, "fz.kcs");
        return;
    }
    (*parsed)++;
    assert_non_null(f);
    assert_true(kcs_file_scenario_count(f) > 0);
    /* Run what parses (the first scenario): any verdict, never a crash. */
    if ((*parsed % 4) == 0) {
        kcs_result r;
        kcs_run_options o = {.seed = 3, .mutants = REF_MUTANTS_NONE, .trace = false};
        assert_int_equal(kcs_run_scenario(f, 0, &o, &r), 0);
        assert_non_null(r.failure);
        assert_non_null(r.journal);
        if (r.verdict == KCS_FAIL)
            assert_error_shape(r.failure, "fz.kcs");
        kcs_result_free(&r);
        (*ran)++;
    }
    kcs_file_free(f);
}

static void fuzz_truncations_and_mutations(void **state) {
    (void)state;
    static const char *const names[] = {"spec_examples.kcs", "guards.kcs", "statements.kcs"};
    kc_cf_snapshot_t snap;
    kc_cf_snapshot(&snap);
    size_t parsed = 0, ran = 0, total = 0;
    for (size_t k = 0; k < 3; k++) {
        size_t len = 0;
        char *text = read_fixture(names[k], &len);
        /* Every truncation of the first fixture; a stride through the others. */
        size_t stride = k == 0 ? 1 : 7;
        for (size_t cut = 0; cut <= len; cut += stride, total++)
            check_one(text, cut, &parsed, &ran);
        rng_state = 0x9e3779b97f4a7c15ull ^ (k + 1);
        for (int i = 0; i < 1500; i++, total++) {
            size_t ml = 0;
            char *m = mutate(text, len, &ml);
            check_one(m, ml, &parsed, &ran);
            free(m);
        }
        free(text);
    }
    char report[256];
    if (kc_cf_leaks_since(&snap, report, sizeof report) != 0)
        fail_msg("%s", report);
    print_message("fuzz: %zu inputs, %zu parsed, %zu run\n", total, parsed, ran);
    assert_true(parsed > 100);
    assert_true(ran > 20);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_examples_parse),
        cmocka_unit_test(every_statement_parses),
        cmocka_unit_test(several_scenarios_and_edge_layout),
        cmocka_unit_test(error_unknown_statement),
        cmocka_unit_test(error_bad_option_or_value),
        cmocka_unit_test(error_bad_duration),
        cmocka_unit_test(error_unknown_names),
        cmocka_unit_test(error_undeclared_process),
        cmocka_unit_test(error_missing_end),
        cmocka_unit_test(error_statement_before_scenario),
        cmocka_unit_test(error_duplicate_option),
        cmocka_unit_test(error_trailing_garbage),
        cmocka_unit_test(error_bad_repeat_count),
        cmocka_unit_test(error_quoted_text),
        cmocka_unit_test(error_bytes),
        cmocka_unit_test(error_file_and_arguments),
        cmocka_unit_test(fuzz_truncations_and_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
