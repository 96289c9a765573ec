/* Running a scenario that has `parallel` blocks or `sweep` statements: once
 * per crash point of each sweep (kcs_sweep.c), then once per schedule of its
 * blocks (kcs_explore.c), every execution from a fresh world.
 *
 * Decisions:
 *  - Sweeps first, in the order of the file, each under the default schedule
 *    of any block before it; a failing crash point ends the scenario.
 *  - Then the scenario itself (sweeps without a crash): without blocks once,
 *    with blocks through the explorer: every schedule up to the bound
 *    (reduced: orders of independent calls are explored once), above it a
 *    seeded random sample of as many. The bound is the caller's (--bound),
 *    else the scenario's `knob explore_bound=N`, else KCS_DEFAULT_BOUND.
 *  - The explorer stops at the first failing schedule and shortens it; the
 *    result is that execution's, with its schedule. With options.trace the
 *    failing schedule is replayed once more to keep its whole journal.
 */
#include "kcs_internal.h"
#include "kcs_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const kcs_file *file;
    size_t index;
    kcs_run_options opt;
    const kcs_stmt *sweep;
    unsigned point;
    kcs_result last, best;
    bool have_last, have_best;
    bool fired;
    char crash_call[160];
    kcs_workers *workers;
} drive_ctx;

static kcs_exec_verdict drive_exec(void *vctx, kcs_sched *s) {
    drive_ctx *c = vctx;
    if (c->have_last) {
        kcs_result_free(&c->last);
        c->have_last = false;
    }
    kcs_run run;
    if (kcs_run_init(&run, c->file, c->index, &c->opt, &c->last) != 0)
        return KCS_EXEC_ERROR;
    run.sched = s;
    run.sweep_stmt = c->sweep;
    run.crash_point = c->point;
    int rc = 0;
    for (size_t i = 0; i < run.sc->nstmts && rc == 0; i++)
        rc = kcs_run_step(&run, i);
    bool failed = run.failed;
    bool pruned = rc == KCS_STEP_STOP && s != NULL && kcs_sched_abandoned(s);
    c->fired = run.crash_fired;
    snprintf(c->crash_call, sizeof c->crash_call, "%s", run.crash_call);
    if (kcs_run_finish(&run, rc) != 0)
        return KCS_EXEC_ERROR;
    c->have_last = true;
    if (failed)
        return KCS_EXEC_FAIL;
    return pruned ? KCS_EXEC_PRUNED : KCS_EXEC_PASS;
}

static void drive_keep(void *vctx) {
    drive_ctx *c = vctx;
    if (!c->have_last)
        return;
    if (c->have_best)
        kcs_result_free(&c->best);
    c->best = c->last;
    c->have_best = true;
    memset(&c->last, 0, sizeof c->last);
    c->have_last = false;
}

static void drive_free(drive_ctx *c) {
    if (c->have_last)
        kcs_result_free(&c->last);
    if (c->have_best)
        kcs_result_free(&c->best);
    c->have_last = c->have_best = false;
}

/* One execution under the default schedule. */
static kcs_exec_verdict exec_default(drive_ctx *c) {
    kcs_sched *s = kcs_sched_new(NULL, NULL);
    if (s == NULL)
        return KCS_EXEC_ERROR;
    kcs_sched_use_workers(s, c->workers);
    kcs_exec_verdict v = drive_exec(c, s);
    kcs_sched_free(s);
    return v;
}

/* Moves a kept execution's result to the caller. */
static void take(kcs_result *dst, kcs_result *src) {
    *dst = *src;
    memset(src, 0, sizeof *src);
}

static int run_sweeps(drive_ctx *c, const kcs_scenario *sc, kcs_result *result, uint64_t *points,
                      bool *failed) {
    *failed = false;
    for (size_t i = 0; i < sc->nstmts; i++) {
        const kcs_stmt *st = &sc->stmts[i];
        if (st->kind != KCS_ST_SWEEP)
            continue;
        for (unsigned point = 1; point <= 100000; point++) {
            c->sweep = st;
            c->point = point;
            kcs_exec_verdict v = exec_default(c);
            if (v == KCS_EXEC_ERROR)
                return -1;
            if (!c->fired && v != KCS_EXEC_FAIL)
                break;
            (*points)++;
            if (v == KCS_EXEC_FAIL) {
                take(result, &c->last);
                c->have_last = false;
                /* Name the crash point when the message does not. */
                if (result->failure != NULL && strstr(result->failure, "crash point") == NULL) {
                    size_t n = strlen(result->failure) + sizeof c->crash_call + 64;
                    char *f = malloc(n);
                    if (f != NULL) {
                        snprintf(f, n, "%s (sweep crash point %u, after %s)", result->failure,
                                 point, c->crash_call[0] ? c->crash_call : "its last call");
                        free(result->failure);
                        result->failure = f;
                    }
                }
                *failed = true;
                return 0;
            }
        }
    }
    c->sweep = NULL;
    c->point = 0;
    return 0;
}

static int explore_scenario(const kcs_file *file, size_t index, const kcs_run_options *options,
                            const kcs_explore_options *explore, kcs_result *result) {
    const kcs_scenario *sc = kcs_run_begin_result(file, index, result);
    if (sc == NULL)
        return -1;
    kcs_explore_options xo;
    memset(&xo, 0, sizeof xo);
    if (explore != NULL)
        xo = *explore;
    drive_ctx c;
    memset(&c, 0, sizeof c);
    c.file = file;
    c.index = index;
    c.workers = xo.workers;
    if (options != NULL) {
        c.opt = *options;
    } else {
        c.opt.seed = 1;
        c.opt.mutants = REF_MUTANTS_NONE;
    }
    bool trace = c.opt.trace;
    uint64_t bound = xo.bound            ? xo.bound
                     : sc->explore_bound ? sc->explore_bound
                                         : KCS_DEFAULT_BOUND;
    uint64_t seed = xo.random_seed ? xo.random_seed : 1;

    /* 1. Sweeps (not when replaying one schedule). */
    uint64_t points = 0;
    if (sc->has_sweep && xo.schedule == NULL) {
        bool failed = false;
        c.opt.trace = trace;
        if (run_sweeps(&c, sc, result, &points, &failed) != 0) {
            drive_free(&c);
            kcs_result_free(result);
            return -1;
        }
        if (failed) {
            drive_free(&c);
            result->crash_points = points;
            result->bound = bound;
            result->sample_seed = seed;
            return 0;
        }
    }

    /* 2. The scenario, every schedule. */
    kcs_explore_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bound = bound;
    cfg.sample = xo.random ? xo.random : 0;
    cfg.seed = seed;
    cfg.no_reduction = xo.no_reduction;
    cfg.keep_going = xo.keep_going;
    cfg.workers = xo.workers;
    if (xo.schedule != NULL) {
        cfg.mode = KCS_MODE_REPLAY;
        cfg.schedule = xo.schedule;
    } else if (!sc->has_parallel) {
        cfg.mode = KCS_MODE_REPLAY;
        cfg.schedule = "";
    } else {
        cfg.mode = xo.random ? KCS_MODE_RANDOM : KCS_MODE_SYSTEMATIC;
        c.opt.trace = false; /* the failing schedule is replayed with a trace below */
    }
    kcs_exec_fns fns = {drive_exec, drive_keep, &c};
    kcs_explore_stats st;
    if (kcs_explore(&cfg, &fns, &st) != 0) {
        drive_free(&c);
        if (st.error[0] == '\0' || strcmp(st.error, "out of memory") == 0) {
            free(st.schedule);
            return -1;
        }
        /* A schedule that does not fit the scenario: a failure saying so. */
        size_t n = strlen(kcs_file_path(file)) + strlen(st.error) + 64;
        result->failure = malloc(n);
        result->journal = malloc(1);
        if (result->failure == NULL || result->journal == NULL) {
            free(st.schedule);
            kcs_result_free(result);
            return -1;
        }
        snprintf(result->failure, n, "%s:%d: replay: %s", kcs_file_path(file), sc->line, st.error);
        result->journal[0] = '\0';
        result->verdict = KCS_FAIL;
        free(st.schedule);
        return 0;
    }
    if (st.failed && trace && cfg.mode != KCS_MODE_REPLAY && st.schedule != NULL) {
        /* The whole journal of the failing schedule. */
        kcs_explore_config again = cfg;
        again.mode = KCS_MODE_REPLAY;
        again.schedule = st.schedule;
        c.opt.trace = true;
        kcs_explore_stats st2;
        (void)kcs_explore(&again, &fns, &st2); /* keeps the traced run when it fails again */
        free(st2.schedule);
    }
    if (st.failed && c.have_best)
        take(result, &c.best);
    else if (c.have_last)
        take(result, &c.last);
    else if (c.have_best)
        take(result, &c.best);
    drive_free(&c);
    if (result->failure == NULL) {
        free(st.schedule);
        return -1;
    }
    result->explored = sc->has_parallel;
    result->exhaustive = st.exhaustive || (!sc->has_parallel && xo.schedule == NULL);
    result->schedules = st.systematic + st.sampled + (cfg.mode == KCS_MODE_REPLAY ? 1 : 0);
    result->systematic = st.systematic;
    result->pruned = st.pruned;
    result->sampled = st.sampled;
    result->bound = bound;
    result->sample_seed = seed;
    result->crash_points = points;
    if (st.failed && sc->has_parallel) {
        result->schedule = st.schedule;
        st.schedule = NULL;
    }
    free(st.schedule);
    return 0;
}

static void append(char *buf, size_t cap, const char *text) {
    size_t o = strlen(buf), n = strlen(text);
    if (o + 1 >= cap)
        return;
    if (n > cap - o - 1)
        n = cap - o - 1;
    memcpy(buf + o, text, n);
    buf[o + n] = '\0';
}

void kcs_result_exploration(const kcs_result *r, char *buf, size_t cap) {
    if (cap == 0)
        return;
    buf[0] = '\0';
    char t[300];
    unsigned long long sys = r->systematic, smp = r->sampled;
    if (r->explored) {
        if (sys > 0 && r->exhaustive)
            snprintf(t, sizeof t, "%llu schedules, all of them up to reordering independent calls",
                     sys);
        else if (sys > 0 && smp > 0)
            snprintf(t, sizeof t,
                     "%llu schedules in depth-first order (bound %llu reached: not all), then a "
                     "random sample of %llu (seed %llu)",
                     sys, (unsigned long long)r->bound, smp, (unsigned long long)r->sample_seed);
        else if (sys > 0)
            snprintf(t, sizeof t, "%llu schedules in depth-first order", sys);
        else if (smp > 0)
            snprintf(t, sizeof t, "a random sample of %llu schedules (seed %llu)", smp,
                     (unsigned long long)r->sample_seed);
        else
            snprintf(t, sizeof t, "1 schedule");
        append(buf, cap, t);
        if (r->pruned > 0) {
            snprintf(t, sizeof t, " (%llu cut short as redundant)", (unsigned long long)r->pruned);
            append(buf, cap, t);
        }
    }
    if (r->crash_points > 0) {
        snprintf(t, sizeof t, "%s%llu crash points", buf[0] ? ", " : "",
                 (unsigned long long)r->crash_points);
        append(buf, cap, t);
    }
}

/* Every execution of the call runs its blocks on one set of threads: the
 * caller's, or one made for the call. */
int kcs_explore_scenario(const kcs_file *file, size_t index, const kcs_run_options *options,
                         const kcs_explore_options *explore, kcs_result *result) {
    if (explore != NULL && explore->workers != NULL)
        return explore_scenario(file, index, options, explore, result);
    kcs_explore_options xo;
    memset(&xo, 0, sizeof xo);
    if (explore != NULL)
        xo = *explore;
    xo.workers = kcs_workers_new();
    if (xo.workers == NULL)
        return -1;
    int rc = explore_scenario(file, index, options, &xo, result);
    kcs_workers_free(xo.workers);
    return rc;
}
