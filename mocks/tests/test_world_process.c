/* Processes and their identities, the user's answers and the prompts shown
 * (domain.md §2, §4 "File-based ACL", §5 "User answers"). */
#include "test_sec_helpers.h"

#include "../src/world_internal.h"

static int setup(void **state) { return world_fx_setup(state, 7); }

static world *W(void **state) { return ((world_fx *)*state)->w; }

static void copy_identity(const world *w, world_pid pid, char out[160]) {
    const char *id = world_process_identity(w, pid);
    assert_non_null(id);
    snprintf(out, 160, "%s", id);
}

/* ---- Processes ---------------------------------------------------------------- */

static void test_process_add_find_config(void **state) {
    world *w = W(state);
    char name[] = "agent";
    char group[] = "TEAMID.com.example.sshenc";
    world_process_config cfg = {.name = name,
                                .app = "sshenc",
                                .is_signed = true,
                                .access_group = group,
                                .gui = true,
                                .home_override = false};
    world_pid pid = world_process_add(w, &cfg);
    assert_int_equal(pid, 0);
    /* The configuration is copied: changing the caller's strings changes nothing. */
    name[0] = 'X';
    group[0] = 'X';
    assert_int_equal(world_process_find(w, "agent"), pid);
    assert_int_equal(world_process_find(w, "Xgent"), -1);
    assert_int_equal(world_process_find(w, NULL), -1);
    const world_process_config *c = world_process_config_of(w, pid);
    assert_non_null(c);
    assert_string_equal(c->name, "agent");
    assert_string_equal(c->app, "sshenc");
    assert_string_equal(c->access_group, "TEAMID.com.example.sshenc");
    assert_true(c->is_signed);
    assert_true(c->gui);
    assert_int_equal(world_process_count(w), 1);
    assert_null(world_process_config_of(w, 1));
    assert_null(world_process_config_of(w, -1));
    assert_null(world_process_identity(w, 5));

    /* The default app is sshenc. */
    world_process_config noapp = {.name = "other"};
    world_pid p2 = world_process_add(w, &noapp);
    assert_int_equal(p2, 1);
    assert_string_equal(world_process_config_of(w, p2)->app, "sshenc");
    assert_null(world_process_config_of(w, p2)->access_group);
    assert_non_null(strstr(world_journal(w), "process agent app=sshenc signed=yes "
                                             "group=TEAMID.com.example.sshenc gui=yes "
                                             "home-override=no"));
}

static void test_process_duplicate_name_rejected(void **state) {
    world *w = W(state);
    world_process_config cfg = {.name = "agent", .is_signed = true};
    assert_int_equal(world_process_add(w, &cfg), 0);
    world_process_config again = {.name = "agent", .is_signed = false, .app = "other"};
    size_t journal = world_journal_length(w);
    assert_int_equal(world_process_add(w, &again), -1);
    assert_int_equal(world_process_count(w), 1);
    assert_true(world_process_config_of(w, 0)->is_signed);
    assert_int_equal(world_journal_length(w), journal);
    world_process_config noname = {.name = NULL};
    assert_int_equal(world_process_add(w, &noname), -1);
    assert_int_equal(world_process_add(w, NULL), -1);
    assert_int_equal(world_process_count(w), 1);
}

/* Many processes: the table grows and keeps every entry. */
static void test_process_table_grows(void **state) {
    world *w = W(state);
    char name[16];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "p%d", i);
        world_process_config cfg = {.name = name, .is_signed = (i % 2) == 0};
        assert_int_equal(world_process_add(w, &cfg), i);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(world_process_find(w, name), i);
        assert_string_equal(world_process_config_of(w, i)->name, name);
    }
}

/* A signed binary's identity is its signing identity: stable across rebuilds. */
static void test_signed_identity_stable_across_rebuild(void **state) {
    world *w = W(state);
    world_process_config cfg = {.name = "agent", .app = "sshenc", .is_signed = true};
    world_pid pid = world_process_add(w, &cfg);
    char before[160];
    copy_identity(w, pid, before);
    uint64_t gen = world_process_generation(w, pid);
    world_process_rebuild(w, pid);
    assert_string_equal(world_process_identity(w, pid), before);
    assert_int_equal(world_process_generation(w, pid), gen + 1);
    world_process_restart(w, pid);
    assert_string_equal(world_process_identity(w, pid), before);
    assert_int_equal(world_process_generation(w, pid), gen + 2);
    assert_non_null(strstr(world_journal(w), "process agent rebuild"));
    assert_non_null(strstr(world_journal(w), "process agent restart"));
}

/* An unsigned binary's identity is its code hash: every rebuild is a
 * stranger; a restart keeps it. */
static void test_unsigned_identity_changes_on_rebuild(void **state) {
    world *w = W(state);
    world_process_config cfg = {.name = "dev", .app = "sshenc", .is_signed = false};
    world_pid pid = world_process_add(w, &cfg);
    char first[160], second[160];
    copy_identity(w, pid, first);
    world_process_restart(w, pid);
    assert_string_equal(world_process_identity(w, pid), first);
    world_process_rebuild(w, pid);
    copy_identity(w, pid, second);
    assert_string_not_equal(second, first);
    world_process_rebuild(w, pid);
    assert_string_not_equal(world_process_identity(w, pid), second);
    assert_string_not_equal(world_process_identity(w, pid), first);

    /* Two unsigned processes of the same app are different builds. */
    world_process_config twin = {.name = "dev2", .app = "sshenc", .is_signed = false};
    world_pid p2 = world_process_add(w, &twin);
    assert_string_not_equal(world_process_identity(w, p2), world_process_identity(w, pid));
    /* A signed and an unsigned build of the same app never share an identity. */
    world_process_config sig = {.name = "rel", .app = "sshenc", .is_signed = true};
    world_pid p3 = world_process_add(w, &sig);
    assert_string_not_equal(world_process_identity(w, p3), world_process_identity(w, pid));
}

/* Signed processes of different apps have different identities. */
static void test_signed_identity_per_app(void **state) {
    world *w = W(state);
    world_process_config a = {.name = "a", .app = "sshenc", .is_signed = true};
    world_process_config b = {.name = "b", .app = "gitenc", .is_signed = true};
    world_pid pa = world_process_add(w, &a);
    world_pid pb = world_process_add(w, &b);
    assert_string_not_equal(world_process_identity(w, pa), world_process_identity(w, pb));
}

/* Only a signed process with a group carries the entitlement. */
static void test_entitlement_only_signed_with_group(void **state) {
    world *w = W(state);
    const char *g = "TEAMID.com.example.sshenc";
    world_process_config s = {.name = "signed", .is_signed = true, .access_group = g};
    world_process_config u = {.name = "unsigned", .is_signed = false, .access_group = g};
    world_process_config n = {.name = "nogroup", .is_signed = true};
    world_pid ps = world_process_add(w, &s);
    world_pid pu = world_process_add(w, &u);
    world_pid pn = world_process_add(w, &n);

    assert_true(world_proc_entitled(w, ps, g));
    assert_true(world_proc_entitled(w, ps, NULL));
    assert_false(world_proc_entitled(w, ps, "TEAMID.com.example.other"));
    assert_string_equal(world_proc_default_group(w, ps), g);

    assert_false(world_proc_entitled(w, pu, g));
    assert_false(world_proc_entitled(w, pu, NULL));
    assert_null(world_proc_default_group(w, pu));

    assert_false(world_proc_entitled(w, pn, g));
    assert_false(world_proc_entitled(w, pn, NULL));
    assert_null(world_proc_default_group(w, pn));

    assert_false(world_proc_entitled(w, -1, NULL));
    assert_false(world_proc_entitled(w, 99, g));
}

/* A process whose HOME is overridden finds no default keychain. */
static void test_home_override_no_default_keychain(void **state) {
    world *w = W(state);
    world_process_config normal = {.name = "normal", .is_signed = true};
    world_process_config over = {.name = "over", .is_signed = true, .home_override = true};
    world_pid pn = world_process_add(w, &normal);
    world_pid po = world_process_add(w, &over);
    assert_true(world_proc_default_keychain_reachable(w, pn));
    assert_false(world_proc_default_keychain_reachable(w, po));
    assert_false(world_proc_default_keychain_reachable(w, -1));
}

static void test_gui_and_prompt_possible(void **state) {
    world *w = W(state);
    world_process_config gui = {.name = "gui", .gui = true};
    world_process_config daemon = {.name = "daemon", .gui = false};
    world_pid pg = world_process_add(w, &gui);
    world_pid pd = world_process_add(w, &daemon);
    assert_true(world_proc_has_gui(w, pg));
    assert_false(world_proc_has_gui(w, pd));
    assert_false(world_proc_has_gui(w, -1));

    /* Prompts need a GUI session and an unlocked, awake device. */
    assert_false(world_prompt_possible(w, pg)); /* off */
    world_device_boot(w);
    assert_false(world_prompt_possible(w, pg)); /* before first unlock */
    world_device_unlock(w);
    assert_true(world_prompt_possible(w, pg));
    assert_false(world_prompt_possible(w, pd));
    world_device_lock(w);
    assert_false(world_prompt_possible(w, pg));
    world_device_unlock(w);
    world_device_sleep(w);
    assert_false(world_prompt_possible(w, pg));
}

static void test_current_process(void **state) {
    world *w = W(state);
    world_process_config cfg = {.name = "agent"};
    world_pid pid = world_process_add(w, &cfg);
    assert_int_equal(world_current(w), -1);
    world_set_current(w, pid);
    assert_int_equal(world_current(w), pid);
    world_set_current(w, 12); /* unknown: none */
    assert_int_equal(world_current(w), -1);
    world_call call;
    world_set_current(w, pid);
    world_call_begin(w, &call, WORLD_API_SEC_ITEM_ADD);
    assert_int_equal(call.pid, pid);
    assert_int_equal(call.api, WORLD_API_SEC_ITEM_ADD);
    assert_int_equal(call.cls, -1);
}

/* ---- User answers and prompts --------------------------------------------------- */

static void test_answer_names(void **state) {
    (void)state;
    static const char *const names[] = {"approve", "cancel", "fail", "absent"};
    for (int a = WORLD_ANSWER_APPROVE; a <= WORLD_ANSWER_ABSENT; a++) {
        assert_string_equal(world_answer_name((world_answer)a), names[a]);
        assert_int_equal(world_answer_from_name(names[a]), a);
    }
    assert_int_equal(world_answer_from_name("Approve"), -1);
    assert_int_equal(world_answer_from_name("deny"), -1);
    assert_int_equal(world_answer_from_name(NULL), -1);
    static const char *const kinds[WORLD_PROMPT_KIND_COUNT] = {
        "la-evaluate", "keychain-presence", "se-presence", "file-always-allow", "file-unlock"};
    for (int k = 0; k < WORLD_PROMPT_KIND_COUNT; k++)
        assert_string_equal(world_prompt_kind_name((world_prompt_kind)k), kinds[k]);
}

/* Queued answers are consumed first-in first-out, then the default; each
 * prompt is counted by kind and journaled with its answer. */
static void test_user_queue_fifo_then_default(void **state) {
    world *w = W(state);
    world_process_config cfg = {.name = "agent", .gui = true};
    world_set_current(w, world_process_add(w, &cfg));
    world_user_queue(w, WORLD_ANSWER_CANCEL, 1);
    world_user_queue(w, WORLD_ANSWER_FAIL, 1);
    world_user_queue(w, WORLD_ANSWER_ABSENT, 1);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "sign k1"),
                     WORLD_ANSWER_CANCEL);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_SE_PRESENCE, "sign k1"), WORLD_ANSWER_FAIL);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_SE_PRESENCE, NULL), WORLD_ANSWER_ABSENT);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_FILE_UNLOCK, "login"), WORLD_ANSWER_APPROVE);

    world_user_set_default(w, WORLD_ANSWER_CANCEL);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_FILE_ALWAYS_ALLOW, "k1"),
                     WORLD_ANSWER_CANCEL);
    /* A queued answer still beats the default. */
    world_user_queue(w, WORLD_ANSWER_APPROVE, 1);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_KEYCHAIN_PRESENCE, "k1"),
                     WORLD_ANSWER_APPROVE);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_KEYCHAIN_PRESENCE, "k1"),
                     WORLD_ANSWER_CANCEL);

    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_LA_EVALUATE), 1);
    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_SE_PRESENCE), 2);
    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_FILE_UNLOCK), 1);
    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_FILE_ALWAYS_ALLOW), 1);
    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_KEYCHAIN_PRESENCE), 2);
    assert_int_equal(world_prompts_total(w), 7);

    const char *j = world_journal(w);
    assert_non_null(strstr(j, "prompt la-evaluate proc=agent about=sign k1 -> cancel"));
    assert_non_null(strstr(j, "prompt se-presence proc=agent about=- -> absent"));
    assert_non_null(strstr(j, "user default cancel"));
    /* Prompts are not Apple calls. */
    assert_int_equal(world_calls_total(w), 0);
}

/* `user <answer> xN` queues N answers; the queue grows and stays FIFO across
 * its ring buffer's wrap-around. */
static void test_user_queue_times_and_growth(void **state) {
    world *w = W(state);
    world_user_queue(w, WORLD_ANSWER_FAIL, 3);
    assert_non_null(strstr(world_journal(w), "user fail x3"));
    world_user_queue(w, WORLD_ANSWER_CANCEL, 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "x"), WORLD_ANSWER_FAIL);
    /* The head is now mid-buffer; growing must keep the order. */
    world_user_queue(w, WORLD_ANSWER_ABSENT, 10);
    world_user_queue(w, WORLD_ANSWER_FAIL, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "x"), WORLD_ANSWER_CANCEL);
    for (int i = 0; i < 10; i++)
        assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "x"), WORLD_ANSWER_ABSENT);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "x"), WORLD_ANSWER_FAIL);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "x"), WORLD_ANSWER_APPROVE);
    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_LA_EVALUATE), 19);
    /* x0 queues nothing. */
    world_user_queue(w, WORLD_ANSWER_CANCEL, 0);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "x"), WORLD_ANSWER_APPROVE);
}

/* Values outside the enum are ignored, not read out of bounds. */
static void test_invalid_answers_ignored(void **state) {
    world *w = W(state);
    size_t journal = world_journal_length(w);
    world_user_queue(w, (world_answer)9, 2);
    world_user_set_default(w, (world_answer)-1);
    assert_int_equal(world_journal_length(w), journal);
    assert_int_equal(world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, "x"), WORLD_ANSWER_APPROVE);
    assert_string_equal(world_answer_name((world_answer)9), "?");
    assert_string_equal(world_prompt_kind_name(WORLD_PROMPT_KIND_COUNT), "?");
    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_KIND_COUNT), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_process_add_find_config, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_process_duplicate_name_rejected, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_process_table_grows, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_signed_identity_stable_across_rebuild, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_unsigned_identity_changes_on_rebuild, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_signed_identity_per_app, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_entitlement_only_signed_with_group, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_home_override_no_default_keychain, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_gui_and_prompt_possible, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_current_process, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_answer_names, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_user_queue_fifo_then_default, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_user_queue_times_and_growth, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_answers_ignored, setup, world_fx_teardown),
    };
    return cmocka_run_group_tests_name("world_process", tests, NULL, NULL);
}
