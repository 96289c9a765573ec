/* Parallel blocks: the baton scheduler (exactly one simulated process runs at
 * a time, one process's calls keep their order, the same schedule gives a
 * byte-identical journal), the reduction (independent calls: fewer
 * schedules; dependent calls: every order; the 2x2 counts), the explorer on
 * scenarios (the migration races under their mutants, the explore -> replay
 * round trip, the random sample, the bound, generate vs generate with the
 * label's lock taken away by a fault) and crash-point sweeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <keyclass/cf_accounting.h>
#include <keyclass/files.h>
#include <keyclass/world.h>

#include "../../mocks/tests/cf_test_support.h"
#include "../src/kcs_internal.h"
#include "../src/kcs_sched.h"
#include "kcs_test_support.h"

static int teardown(void **state) {
    (void)state;
    cf_assert_no_leaks();
    if (world_active() != NULL)
        fail_msg("a world is still active");
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, cf_test_setup, teardown)

/* ---- Synthetic blocks: processes that only make kc_file_* calls -------------------- */

#define MAXOPS 4

typedef struct {
    /* per process: the calls it makes, in order ('w' write, 'r' read) on paths */
    size_t nprocs;
    char kind[3][MAXOPS];
    const char *path[3][MAXOPS];
    size_t nops[3];
    /* what the bodies observed */
    int inside; /* bodies running right now (must never exceed 1) */
    int max_inside;
    int order[3][MAXOPS]; /* sequence number at which each call ran */
    int seq;
    world *w;
} synth;

static void synth_body(void *ctx, size_t proc) {
    synth *s = ctx;
    for (size_t i = 0; i < s->nops[proc]; i++) {
        s->inside++;
        if (s->inside > s->max_inside)
            s->max_inside = s->inside;
        s->inside--;
        if (s->kind[proc][i] == 'w') {
            char data[48];
            snprintf(data, sizeof data, "%zu:%zu", proc, i);
            (void)kc_file_write_atomic(s->path[proc][i], data, strlen(data));
        } else {
            CFDataRef d = NULL;
            (void)kc_file_read(s->path[proc][i], &d);
            if (d != NULL)
                CFRelease(d);
        }
        s->inside++;
        if (s->inside > s->max_inside)
            s->max_inside = s->inside;
        s->order[proc][i] = s->seq++;
        s->inside--;
    }
}

typedef struct {
    synth spec;
    uint64_t runs;
    char last_journal[8192];
} synth_exec;

static kcs_exec_verdict synth_run(void *ctx, kcs_sched *sched) {
    synth_exec *x = ctx;
    synth *s = &x->spec;
    s->inside = s->max_inside = s->seq = 0;
    memset(s->order, -1, sizeof s->order);
    world *w = world_new(3);
    assert_non_null(w);
    world *prev = world_active();
    world_activate(w);
    world_device_boot(w);
    world_device_unlock(w);
    world_pid pids[3];
    static const char *const names[3] = {"a", "b", "c"};
    for (size_t i = 0; i < s->nprocs; i++) {
        world_process_config cfg = {.name = names[i], .app = "sshenc", .is_signed = true};
        pids[i] = world_process_add(w, &cfg);
    }
    (void)world_file_put(w, "x", "0", 1);
    (void)world_file_put(w, "y", "0", 1);
    kcs_block_fns fns = {synth_body, NULL, s};
    int rc = kcs_sched_block(sched, w, s->nprocs, pids, names, &fns);
    snprintf(x->last_journal, sizeof x->last_journal, "%s", world_journal(w));
    world_free(w);
    world_activate(prev);
    x->runs++;
    if (rc < 0)
        return KCS_EXEC_ERROR;
    if (rc == 1)
        return KCS_EXEC_PRUNED;
    assert_int_equal(s->max_inside, 1); /* the baton: never two bodies at once */
    /* One process's calls keep their order. */
    for (size_t p = 0; p < s->nprocs; p++)
        for (size_t i = 1; i < s->nops[p]; i++)
            assert_true(s->order[p][i - 1] < s->order[p][i]);
    return KCS_EXEC_PASS;
}

static void keep_nothing(void *ctx) { (void)ctx; }

static kcs_explore_stats explore_synth(synth_exec *x, bool reduce) {
    kcs_explore_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = KCS_MODE_SYSTEMATIC;
    cfg.bound = 100000;
    cfg.no_reduction = !reduce;
    kcs_exec_fns fns = {synth_run, keep_nothing, x};
    kcs_explore_stats st;
    assert_int_equal(kcs_explore(&cfg, &fns, &st), 0);
    assert_true(st.exhaustive);
    assert_false(st.failed);
    free(st.schedule);
    return st;
}

static void two_by_two(synth_exec *x, char ka, const char *pa0, const char *pa1, char kb,
                       const char *pb0, const char *pb1) {
    memset(x, 0, sizeof *x);
    x->spec.nprocs = 2;
    x->spec.nops[0] = x->spec.nops[1] = 2;
    x->spec.kind[0][0] = x->spec.kind[0][1] = ka;
    x->spec.kind[1][0] = x->spec.kind[1][1] = kb;
    x->spec.path[0][0] = pa0;
    x->spec.path[0][1] = pa1;
    x->spec.path[1][0] = pb0;
    x->spec.path[1][1] = pb1;
}

static void baton_exactly_one_runs_and_order_is_kept(void **state) {
    (void)state;
    synth_exec x;
    memset(&x, 0, sizeof x);
    x.spec.nprocs = 3;
    for (size_t p = 0; p < 3; p++) {
        x.spec.nops[p] = 3;
        for (size_t i = 0; i < 3; i++) {
            x.spec.kind[p][i] = 'w';
            x.spec.path[p][i] = "x";
        }
    }
    /* Every interleaving of 3 x 3 dependent writes: 9!/(3!3!3!) = 1680. */
    kcs_explore_stats st = explore_synth(&x, false);
    assert_int_equal(st.complete, 1680);
    assert_int_equal(x.runs, 1680);
}

static void two_by_two_counts(void **state) {
    (void)state;
    synth_exec x;
    /* Independent: writes to different paths. 4!/(2!2!) = 6 orders, 1 trace. */
    two_by_two(&x, 'w', "a0", "a1", 'w', "b0", "b1");
    assert_int_equal(explore_synth(&x, false).complete, 6);
    two_by_two(&x, 'w', "a0", "a1", 'w', "b0", "b1");
    kcs_explore_stats st = explore_synth(&x, true);
    assert_int_equal(st.complete, 1);
    /* Reads of one path commute too. */
    two_by_two(&x, 'r', "x", "x", 'r', "x", "x");
    assert_int_equal(explore_synth(&x, true).complete, 1);
    /* Dependent: every write on one path; all 6 orders give different
     * journals' end states, and all are explored. */
    two_by_two(&x, 'w', "x", "x", 'w', "x", "x");
    assert_int_equal(explore_synth(&x, true).complete, 6);
    /* Mixed: only a's second and b's first call touch one path (y): two
     * classes (a1 before b0, or after). */
    two_by_two(&x, 'w', "x", "y", 'w', "y", "z");
    assert_int_equal(explore_synth(&x, true).complete, 2);
    /* A read and a write of one path do not commute. */
    two_by_two(&x, 'r', "x", "q", 'w', "x", "r");
    assert_int_equal(explore_synth(&x, true).complete, 2);
}

/* Replays of one schedule give byte-identical journals. */
static int replay_synth(synth_exec *x, const char *schedule, char *journal, size_t cap) {
    kcs_explore_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = KCS_MODE_REPLAY;
    cfg.schedule = schedule;
    kcs_exec_fns fns = {synth_run, keep_nothing, x};
    kcs_explore_stats st;
    int rc = kcs_explore(&cfg, &fns, &st);
    free(st.schedule);
    snprintf(journal, cap, "%s", x->last_journal);
    return rc;
}

static void same_schedule_same_journal(void **state) {
    (void)state;
    synth_exec x;
    two_by_two(&x, 'w', "x", "y", 'w', "y", "x");
    char j1[8192], j2[8192], j3[8192];
    assert_int_equal(replay_synth(&x, "a,b,b", j1, sizeof j1), 0);
    assert_int_equal(replay_synth(&x, "a,b,b", j2, sizeof j2), 0);
    assert_string_equal(j1, j2);
    assert_int_equal(replay_synth(&x, "b", j3, sizeof j3), 0);
    assert_string_not_equal(j1, j3);
    /* The journal shows the chosen order: a's first write, then b's two. */
    const char *a0 = strstr(j1, "call a FileWrite path=x");
    const char *b0 = strstr(j1, "call b FileWrite path=y");
    const char *a1 = strstr(j1, "call a FileWrite path=y");
    assert_non_null(a0);
    assert_non_null(b0);
    assert_non_null(a1);
    assert_true(a0 < b0 && b0 < a1);
    /* A name that cannot run there is an error that says so. */
    kcs_explore_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = KCS_MODE_REPLAY;
    cfg.schedule = "zz";
    kcs_exec_fns fns = {synth_run, keep_nothing, &x};
    kcs_explore_stats st;
    assert_int_equal(kcs_explore(&cfg, &fns, &st), -1);
    assert_non_null(strstr(st.error, "'zz'"));
    free(st.schedule);
}

static void schedule_text(void **state) {
    (void)state;
    char **names = NULL;
    char err[128];
    int n = kcs_schedule_parse("a*3,b, a", &names, err, sizeof err);
    assert_int_equal(n, 5);
    assert_string_equal(names[0], "a");
    assert_string_equal(names[2], "a");
    assert_string_equal(names[3], "b");
    assert_string_equal(names[4], "a");
    kcs_schedule_names_free(names, n);
    assert_int_equal(kcs_schedule_parse("a,,b", &names, err, sizeof err), -1);
    assert_int_equal(kcs_schedule_parse("a*0", &names, err, sizeof err), -1);
    assert_int_equal(kcs_schedule_parse("", &names, err, sizeof err), 0);
}

/* ---- Scenarios --------------------------------------------------------------------------- */

#define RACE_HEAD                                                                                  \
    "scenario race\n"                                                                              \
    "device boot\n"                                                                                \
    "device unlock\n"                                                                              \
    "process a group=TEAMID.com.example.sshenc wrap-presence=no\n"                                 \
    "process b group=TEAMID.com.example.sshenc wrap-presence=no\n"                                 \
    "a: plant k1 accessible=WhenUnlockedThisDeviceOnly\n"

static const char lost_update[] = RACE_HEAD "parallel\n"
                                            "  a: load k1 -> any\n"
                                            "  b: delete k1\n"
                                            "  b: generate k1\n"
                                            "end\n"
                                            "expect usable k1\n";

static const char window[] = RACE_HEAD "parallel\n"
                                       "  a: load k1\n"
                                       "  b: sign k1\n"
                                       "end\n"
                                       "expect usable k1\n";

static kcs_result explore(const kcs_file *f, ref_mutant_set m, const kcs_explore_options *x) {
    kcs_run_options o = {.seed = 1, .mutants = m, .trace = false};
    kcs_result r;
    assert_int_equal(kcs_explore_scenario(f, 0, &o, x, &r), 0);
    return r;
}

static void clean_core_passes_every_schedule(void **state) {
    (void)state;
    const char *texts[] = {lost_update, window};
    for (size_t i = 0; i < 2; i++) {
        kcs_file *f = parse(texts[i]);
        kcs_result r = explore(f, REF_MUTANTS_NONE, NULL);
        assert_int_equal(r.verdict, KCS_PASS);
        assert_true(r.explored);
        assert_true(r.exhaustive);
        assert_true(r.systematic > 1);
        assert_null(r.schedule);
        kcs_result_free(&r);
        /* kcs_run_scenario explores too. */
        kcs_run_options o = {.seed = 1};
        assert_int_equal(kcs_run_scenario(f, 0, &o, &r), 0);
        assert_int_equal(r.verdict, KCS_PASS);
        assert_true(r.exhaustive);
        kcs_result_free(&r);
        kcs_file_free(f);
    }
}

/* Under each migration mutant the explorer finds the violation, prints a
 * schedule, and replaying that schedule reproduces the failure with the
 * whole journal; the default schedule alone passes. */
static void explore_replay_round_trip(void **state) {
    (void)state;
    const struct {
        const char *text;
        const char *mutant;
    } cases[] = {{lost_update, "latent-migration-lost-update"},
                 {window, "latent-migration-window"},
                 {lost_update, "latent-migration-window"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kcs_file *f = parse(cases[i].text);
        ref_mutant_set m = bit(cases[i].mutant);
        kcs_explore_options def = {.schedule = ""};
        kcs_result d = explore(f, m, &def);
        assert_int_equal(d.verdict, KCS_PASS); /* sequentially the mutant hides */
        kcs_result_free(&d);

        kcs_result r = explore(f, m, NULL);
        assert_int_equal(r.verdict, KCS_FAIL);
        assert_non_null(r.schedule);
        assert_true(r.schedule[0] != '\0');
        char *failure = strdup(r.failure);
        char *schedule = strdup(r.schedule);
        kcs_result_free(&r);

        kcs_explore_options again = {.schedule = schedule};
        kcs_run_options o = {.seed = 1, .mutants = m, .trace = true};
        kcs_result p;
        assert_int_equal(kcs_explore_scenario(f, 0, &o, &again, &p), 0);
        assert_int_equal(p.verdict, KCS_FAIL);
        assert_string_equal(p.failure, failure);
        assert_non_null(strstr(p.journal, "event world seed=1"));
        /* A full trace: the block's interleaved calls are all there. */
        assert_non_null(strstr(p.journal, "call b "));
        assert_non_null(strstr(p.journal, "call a "));
        kcs_result_free(&p);
        free(failure);
        free(schedule);
        kcs_file_free(f);
    }
}

static void random_sample_and_bound(void **state) {
    (void)state;
    kcs_file *f = parse(lost_update);
    /* A bound below the reduced space: the rest is a seeded random sample. */
    kcs_explore_options x = {.bound = 3, .random_seed = 7};
    kcs_result r = explore(f, REF_MUTANTS_NONE, &x);
    assert_int_equal(r.verdict, KCS_PASS);
    assert_false(r.exhaustive);
    assert_int_equal(r.systematic, 3);
    assert_int_equal(r.sampled, 3);
    char how[400];
    kcs_result_exploration(&r, how, sizeof how);
    assert_non_null(strstr(how, "random sample of 3 (seed 7)"));
    kcs_result_free(&r);
    /* --random N: a sample only, reproducible with its seed. */
    kcs_explore_options rnd = {.random = 400, .random_seed = 5};
    r = explore(f, bit("latent-migration-lost-update"), &rnd);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_int_equal(r.systematic, 0);
    char *first = strdup(r.schedule);
    kcs_result_free(&r);
    r = explore(f, bit("latent-migration-lost-update"), &rnd);
    assert_string_equal(r.schedule, first);
    kcs_result_free(&r);
    free(first);
    kcs_file_free(f);
}

static void reduction_on_a_race(void **state) {
    (void)state;
    kcs_file *f = parse(window);
    kcs_explore_options plain = {.no_reduction = true, .bound = 100000};
    kcs_result all = explore(f, REF_MUTANTS_NONE, &plain);
    kcs_result red = explore(f, REF_MUTANTS_NONE, NULL);
    assert_true(all.exhaustive);
    assert_true(red.exhaustive);
    assert_true(red.systematic < all.systematic);
    kcs_result_free(&all);
    kcs_result_free(&red);
    kcs_file_free(f);
}

static void sweep_crash_points(void **state) {
    (void)state;
    kcs_file *f = parse("scenario s\n"
                        "device boot\n"
                        "device unlock\n"
                        "process agent group=TEAMID.com.example.sshenc wrap-presence=no\n"
                        "agent: plant k1 accessible=WhenUnlockedThisDeviceOnly\n"
                        "sweep crash agent: load k1\n"
                        "expect usable k1\n"
                        "expect item k1 exists=yes accessible=AfterFirstUnlockThisDeviceOnly\n");
    assert_true(kcs_scenario_has_sweep(f, 0));
    kcs_run_options o = {.seed = 1};
    kcs_result r;
    assert_int_equal(kcs_run_scenario(f, 0, &o, &r), 0);
    assert_int_equal(r.verdict, KCS_PASS);
    /* load of a planted key: the handle read, the keychain read, the update. */
    assert_int_equal(r.crash_points, 3);
    kcs_result_free(&r);
    o.mutants = bit("latent-migration-window");
    assert_int_equal(kcs_run_scenario(f, 0, &o, &r), 0);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_string_equal(r.invariant, "D1");
    assert_non_null(strstr(r.failure, "after call 3, SecItemDelete"));
    kcs_result_free(&r);
    kcs_file_free(f);
}

/* Two generates of one label: every schedule holds on the clean core (the
 * label's lock serialises them). Take the lock away without a mutant - a
 * fault answering 0 to every FileLock, so the core believes it holds a lock
 * nobody holds - and the explorer finds the lost key again, and the schedule
 * it prints replays to the same failure. */
#define GEN_VS_GEN(extra)                                                                          \
    "scenario race\n"                                                                              \
    "device boot\n"                                                                                \
    "device unlock\n"                                                                              \
    "process a group=TEAMID.com.example.sshenc wrap-presence=no\n"                                 \
    "process b group=TEAMID.com.example.sshenc wrap-presence=no\n" extra "parallel\n"              \
    "  a: generate k1 -> any\n"                                                                    \
    "  b: generate k1 -> any\n"                                                                    \
    "end\n"                                                                                        \
    "expect usable k1\n"                                                                           \
    "a: sign k1\n"                                                                                 \
    "b: sign k1\n"

static void generate_vs_generate_needs_the_lock(void **state) {
    (void)state;
    kcs_file *f = parse(GEN_VS_GEN(""));
    kcs_result r = explore(f, REF_MUTANTS_NONE, NULL);
    assert_int_equal(r.verdict, KCS_PASS);
    assert_true(r.exhaustive);
    assert_true(r.systematic > 1);
    kcs_result_free(&r);
    kcs_file_free(f);

    f = parse(GEN_VS_GEN("fault FileLock 0 times=always\n"));
    r = explore(f, REF_MUTANTS_NONE, NULL);
    assert_int_equal(r.verdict, KCS_FAIL);
    assert_non_null(strstr(r.failure, "expect usable k1"));
    assert_non_null(strstr(r.failure, "does not decrypt with the keychain's wrapping key"));
    assert_non_null(r.schedule);
    char *failure = strdup(r.failure);
    kcs_explore_options again = {.schedule = r.schedule};
    kcs_run_options o = {.seed = 1, .trace = true};
    kcs_result p;
    assert_int_equal(kcs_explore_scenario(f, 0, &o, &again, &p), 0);
    assert_int_equal(p.verdict, KCS_FAIL);
    assert_string_equal(p.failure, failure);
    /* Both processes "took" the lock: the fault answered for it. */
    assert_non_null(strstr(p.journal, "call a FileLock"));
    assert_non_null(strstr(p.journal, "call b FileLock"));
    assert_non_null(strstr(p.journal, "injected -> 0 ok"));
    kcs_result_free(&p);
    kcs_result_free(&r);
    free(failure);
    kcs_file_free(f);
}

static void parallel_statements_parse(void **state) {
    (void)state;
    kcs_file *f = NULL;
    char err[512];
    const char *bad[] = {
        "scenario s\nprocess a\nsweep crash a: restart\n",
        "scenario s\nprocess a\nsweep a: load k1\n",
        "scenario s\nprocess a\nsweep crash load k1\n",
        "scenario s\nprocess a\nparallel\nsweep crash a: load k1\nend\n",
        "scenario s\nknob explore_bound=0\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(kcs_parse_text("t.kcs", bad[i], strlen(bad[i]), &f, err, sizeof err), -1);
        assert_null(f);
    }
    const char *good = "scenario s\nknob explore_bound=7\nprocess a\n"
                       "sweep crash a: generate k1 auth=any -> any\n";
    assert_int_equal(kcs_parse_text("t.kcs", good, strlen(good), &f, err, sizeof err), 0);
    const kcs_scenario *sc = kcs_file_scenario(f, 0);
    assert_int_equal(sc->explore_bound, 7);
    assert_int_equal(sc->stmts[1].kind, KCS_ST_SWEEP);
    assert_int_equal(sc->stmts[1].u.op.auth, REF_AUTH_ANY);
    assert_int_equal(sc->stmts[1].u.op.outcome, KCS_OUT_ANY);
    kcs_file_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(baton_exactly_one_runs_and_order_is_kept),
        T(two_by_two_counts),
        T(same_schedule_same_journal),
        T(schedule_text),
        T(clean_core_passes_every_schedule),
        T(explore_replay_round_trip),
        T(random_sample_and_bound),
        T(reduction_on_a_race),
        T(sweep_crash_points),
        T(generate_vs_generate_needs_the_lock),
        T(parallel_statements_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
