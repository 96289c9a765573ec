/* The interleaving explorer (see kcs_sched.h).
 *
 * Systematic mode is stateless source-DPOR with sleep sets (Abdulla, Aronis,
 * Jonsson, Sagonas: "Optimal dynamic partial order reduction", POPL 2014,
 * Algorithm 1), over re-executions from scratch:
 *
 *  - An execution is a sequence of events; event k is the pending call that
 *    the process chosen at node k runs (with the code after it, up to its
 *    next call). Two events of different processes are *dependent* unless
 *    world_calls_commute says their calls commute (different items or paths,
 *    two reads, ... — conservative where unsure). Events of different blocks
 *    are ordered by the statements between the blocks.
 *  - The explorer keeps the nodes of the current execution on a stack, each
 *    with its backtrack set (processes to try there), done set and sleep set.
 *    An execution replays the stack's choices and then extends it with the
 *    default policy among the processes that are not asleep. A node where
 *    every runnable process is asleep ends the execution early (pruned: an
 *    equivalent one is explored elsewhere).
 *  - After each execution, every race (two dependent events of different
 *    processes, not ordered through a third) adds, at the node before the
 *    first event, one of the processes that can start the reversed order
 *    (the initials of notdep(e).e'), unless one of them is already there.
 *  - The next execution backtracks to the deepest node with an untried
 *    process of its backtrack set that is neither done nor asleep.
 *  Without reduction (no_reduction) the backtrack set of every node is every
 *  runnable process and there are no sleep sets: every interleaving.
 *
 * The bound caps the systematic executions; when it is reached before the
 * search is complete, a random sample follows: PCT schedules (random
 * priorities, up to two random priority drops; see choose_random), drawn
 * from the generator of a world created for it with the sample's seed
 * (world_random_bytes: AES-256-CTR keyed by the seed), so that a sample is
 * reproducible.
 *
 * A failure stops the search (unless keep_going). Its schedule is then
 * shortened greedily: each decision that deviates from the default policy is
 * in turn replaced by the default (later choices kept where they still
 * apply); a variant that still fails and has fewer deviations (or as many and
 * a shorter schedule) is kept. The shortest failing schedule found is the
 * result.
 */
#include "kcs_grow.h"
#include "kcs_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINIMISE_BUDGET 400

/* ---- Schedules as text -------------------------------------------------------------------- */

void kcs_schedule_names_free(char **names, int n) {
    for (int i = 0; names != NULL && i < n; i++)
        free(names[i]);
    free(names);
}

int kcs_schedule_parse(const char *text, char ***out, char *err, size_t err_size) {
    *out = NULL;
    int n = 0, cap = 0;
    char **names = NULL;
    const char *p = text;
    while (*p == ' ')
        p++;
    if (*p == '\0') {
        *out = NULL;
        return 0;
    }
    for (;;) {
        const char *start = p;
        while (*p != '\0' && *p != ',' && *p != '*' && *p != ' ')
            p++;
        size_t len = (size_t)(p - start);
        unsigned long times = 1;
        if (*p == '*') {
            char *end = NULL;
            times = strtoul(p + 1, &end, 10);
            if (end == p + 1 || times == 0 || times > 100000) {
                snprintf(err, err_size, "bad repeat count after '%.*s*'", (int)len, start);
                kcs_schedule_names_free(names, n);
                return -1;
            }
            p = end;
        }
        while (*p == ' ')
            p++;
        if (len == 0 || (*p != ',' && *p != '\0')) {
            snprintf(err, err_size, "bad schedule near '%s' (expected names separated by commas)",
                     start);
            kcs_schedule_names_free(names, n);
            return -1;
        }
        for (unsigned long t = 0; t < times; t++) {
            if (n == cap) {
                int c = cap ? cap * 2 : 16;
                char **g = realloc(names, (size_t)c * sizeof *g);
                if (g == NULL) {
                    snprintf(err, err_size, "out of memory");
                    kcs_schedule_names_free(names, n);
                    return -1;
                }
                names = g;
                cap = c;
            }
            names[n] = malloc(len + 1);
            if (names[n] == NULL) {
                snprintf(err, err_size, "out of memory");
                kcs_schedule_names_free(names, n);
                return -1;
            }
            memcpy(names[n], start, len);
            names[n][len] = '\0';
            n++;
        }
        if (*p == '\0')
            break;
        p++;
        while (*p == ' ')
            p++;
    }
    *out = names;
    return n;
}

/* ---- The explorer's stack --------------------------------------------------------------- */

typedef struct {
    kcs_node node; /* owns node.pending */
    uint32_t backtrack, done, sleep;
} xnode;

typedef enum { CH_DFS, CH_RANDOM, CH_NAMES } chooser_kind;

typedef struct {
    const kcs_explore_config *cfg;
    chooser_kind kind;
    /* DFS */
    xnode *stack;
    size_t n, cap;
    bool blocked;
    bool diverged;
    bool oom;
    /* random (PCT) */
    world *rng;
    uint32_t prio[KCS_SCHED_MAX_PROCS];
    uint64_t change[2];
    int nchange;
    uint64_t step;
    int block;
    uint64_t horizon; /* the most nodes an execution had */
    /* names */
    char **names;
    int nnames;
    int next_name;
    bool strict;
    char error[256];
} explorer;

static uint32_t bit(int i) { return 1u << i; }

static bool commute(const kcs_node *n, int p, int q) {
    return world_calls_commute(&n->pending[p], &n->pending[q], n->answers_queued);
}

/* The sleep set of a node created right after stack[k-1]. */
static uint32_t child_sleep(const xnode *parent, const kcs_node *child) {
    if (parent->node.block != child->block)
        return 0;
    uint32_t cand = (parent->sleep | parent->done) & ~bit(parent->node.chosen);
    uint32_t out = 0;
    for (int q = 0; q < parent->node.nprocs; q++)
        if ((cand & bit(q)) && (child->enabled & bit(q)) &&
            commute(&parent->node, q, parent->node.chosen))
            out |= bit(q);
    return out;
}

static int pick_default(const kcs_node *node, uint32_t avail) {
    if (node->prev >= 0 && (avail & bit(node->prev)))
        return node->prev;
    for (int i = 0; i < node->nprocs; i++)
        if (avail & bit(i))
            return i;
    return -1;
}

static bool same_call(const world_call_info *a, const world_call_info *b) {
    return a->api == b->api && a->pid == b->pid && strcmp(a->service, b->service) == 0 &&
           strcmp(a->account, b->account) == 0 && strcmp(a->path, b->path) == 0 &&
           a->se_key == b->se_key && a->global == b->global;
}

static int push_node(explorer *x, const kcs_node *node, uint32_t sleep, int chosen) {
    xnode *g = kcs_grow(x->stack, x->n, &x->cap, sizeof *g, 64);
    if (g == NULL)
        return -1;
    x->stack = g;
    xnode *xn = &x->stack[x->n];
    xn->node = *node;
    xn->node.pending = malloc(node->nprocs * sizeof *node->pending);
    if (xn->node.pending == NULL)
        return -1;
    memcpy(xn->node.pending, node->pending, node->nprocs * sizeof *node->pending);
    xn->node.chosen = (uint8_t)chosen;
    xn->sleep = sleep;
    xn->done = 0;
    xn->backtrack = x->cfg->no_reduction ? node->enabled : bit(chosen);
    x->n++;
    return 0;
}

static void pop_to(explorer *x, size_t n) {
    while (x->n > n)
        free(x->stack[--x->n].node.pending);
}

static int choose_dfs(explorer *x, size_t index, const kcs_node *node) {
    if (index < x->n) {
        const xnode *xn = &x->stack[index];
        int c = xn->node.chosen;
        if (xn->node.enabled != node->enabled || xn->node.block != node->block ||
            !same_call(&xn->node.pending[c], &node->pending[c])) {
            x->diverged = true; /* the test is not deterministic */
            return -1;
        }
        return c;
    }
    uint32_t sleep = 0;
    if (!x->cfg->no_reduction && index > 0)
        sleep = child_sleep(&x->stack[index - 1], node);
    uint32_t avail = node->enabled & ~sleep;
    if (avail == 0) {
        x->blocked = true;
        return -1;
    }
    int c = pick_default(node, avail);
    if (push_node(x, node, sleep, c) != 0) {
        x->oom = true;
        return -1;
    }
    return c;
}

static uint64_t draw(explorer *x) {
    unsigned char b[8];
    world_random_bytes(x->rng, b, sizeof b);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* A PCT schedule (Burckhardt et al., "A randomized scheduler with
 * probabilistic guarantees of finding bugs", ASPLOS 2010): random distinct
 * priorities per block, the highest runnable one runs; at 0-2 random steps
 * the running process drops below all others. A bug that needs d ordering
 * constraints is found with probability >= 1/(n k^(d-1)) per execution. */
static void pct_block(explorer *x, const kcs_node *node) {
    x->block = node->block;
    int n = node->nprocs;
    for (int i = 0; i < n; i++)
        x->prio[i] = (uint32_t)(3 + i);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(draw(x) % (uint64_t)(i + 1));
        uint32_t t = x->prio[i];
        x->prio[i] = x->prio[j];
        x->prio[j] = t;
    }
}

static void pct_execution(explorer *x) {
    x->step = 0;
    x->block = -1;
    uint64_t k = x->horizon > 2 ? x->horizon : 2;
    x->nchange = (int)(draw(x) % 3);
    for (int j = 0; j < x->nchange; j++)
        x->change[j] = 1 + draw(x) % k;
}

static int pct_best(const explorer *x, const kcs_node *node) {
    int best = -1;
    for (int i = 0; i < node->nprocs; i++)
        if ((node->enabled & bit(i)) && (best < 0 || x->prio[i] > x->prio[best]))
            best = i;
    return best;
}

static int choose_random(explorer *x, const kcs_node *node) {
    if (node->block != x->block)
        pct_block(x, node);
    x->step++;
    int best = pct_best(x, node);
    for (int j = 0; j < x->nchange; j++)
        if (x->change[j] == x->step) {
            x->prio[best] = (uint32_t)(2 - j); /* below every initial priority */
            best = pct_best(x, node);
        }
    return best;
}

static int choose_names(explorer *x, const kcs_sched *s, const kcs_node *node) {
    if (!kcs_node_is_decision(node) || x->next_name >= x->nnames)
        return kcs_node_default(node);
    const char *want = x->names[x->next_name++];
    for (int i = 0; i < node->nprocs; i++) {
        if (strcmp(kcs_sched_name(s, node->block, (size_t)i), want) != 0)
            continue;
        if (node->enabled & bit(i))
            return i;
        break;
    }
    if (!x->strict)
        return kcs_node_default(node);
    char running[160] = "";
    for (int i = 0; i < node->nprocs; i++)
        if (node->enabled & bit(i)) {
            size_t l = strlen(running);
            snprintf(running + l, sizeof running - l, "%s%s", l ? ", " : "",
                     kcs_sched_name(s, node->block, (size_t)i));
        }
    snprintf(x->error, sizeof x->error,
             "schedule step %d names '%s', which has no pending call there (can run: %s)",
             x->next_name, want, running);
    return -1;
}

static int choose(void *ctx, const kcs_sched *s, size_t index, const kcs_node *node) {
    explorer *x = ctx;
    switch (x->kind) {
    case CH_DFS:
        return choose_dfs(x, index, node);
    case CH_RANDOM:
        return choose_random(x, node);
    case CH_NAMES:
        return choose_names(x, s, node);
    }
    return -1;
}

/* ---- Race detection (source-DPOR) ------------------------------------------------------------ */

/* happens-before as bit rows: hb[j] holds every i < j with e_i -> e_j. */
typedef struct {
    size_t words;
    uint64_t *rows;
} hb_matrix;

static bool hb_get(const hb_matrix *m, size_t i, size_t j) {
    return (m->rows[j * m->words + i / 64] >> (i % 64)) & 1u;
}

static void hb_set(hb_matrix *m, size_t i, size_t j) {
    m->rows[j * m->words + i / 64] |= (uint64_t)1 << (i % 64);
}

static bool event_dep(const explorer *x, size_t i, size_t j) {
    const kcs_node *a = &x->stack[i].node, *b = &x->stack[j].node;
    if (a->block != b->block || a->chosen == b->chosen)
        return true;
    return !world_calls_commute(&a->pending[a->chosen], &b->pending[b->chosen], a->answers_queued);
}

static int detect_races(explorer *x) {
    size_t n = x->n;
    if (n < 2)
        return 0;
    hb_matrix m = {(n + 63) / 64, NULL};
    m.rows = calloc(n * m.words, sizeof *m.rows);
    bool *dep = calloc(n * n, sizeof *dep);
    if (m.rows == NULL || dep == NULL) {
        free(m.rows);
        free(dep);
        return -1;
    }
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < j; i++)
            dep[i * n + j] = event_dep(x, i, j);
    for (size_t j = 0; j < n; j++) {
        uint64_t *row = &m.rows[j * m.words];
        for (size_t k = 0; k < j; k++) {
            if (!dep[k * n + j])
                continue;
            hb_set(&m, k, j);
            const uint64_t *rk = &m.rows[k * m.words];
            for (size_t w = 0; w < m.words; w++)
                row[w] |= rk[w];
        }
    }
    /* succ[i]: every k > i with e_i -> e_k (the transposed rows). */
    uint64_t *succ = calloc(n * m.words, sizeof *succ);
    if (succ == NULL) {
        free(m.rows);
        free(dep);
        return -1;
    }
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < j; i++)
            if (hb_get(&m, i, j))
                succ[i * m.words + j / 64] |= (uint64_t)1 << (j % 64);
    for (size_t j = 1; j < n; j++) {
        const kcs_node *ej = &x->stack[j].node;
        for (size_t i = j; i-- > 0;) {
            const kcs_node *ei = &x->stack[i].node;
            if (ei->block != ej->block || ei->chosen == ej->chosen || !dep[i * n + j])
                continue;
            /* A race unless ordered through an event in between. */
            bool through = false;
            for (size_t w = 0; w < m.words && !through; w++)
                through = (succ[i * m.words + w] & m.rows[j * m.words + w]) != 0;
            if (through)
                continue;
            /* v = the events after e_i, before e_j, not after e_i; then e_j.
             * Its initials: events of v with no predecessor in v. */
            xnode *at = &x->stack[i];
            uint32_t initials = 0;
            size_t vbuf_n = 0;
            size_t *vbuf = malloc((j - i) * sizeof *vbuf);
            if (vbuf == NULL) {
                free(succ);
                free(m.rows);
                free(dep);
                return -1;
            }
            for (size_t k = i + 1; k <= j; k++) {
                if (k < j && hb_get(&m, i, k))
                    continue;
                bool initial = true;
                for (size_t t = 0; t < vbuf_n && initial; t++)
                    if (hb_get(&m, vbuf[t], k))
                        initial = false;
                vbuf[vbuf_n++] = k;
                if (initial)
                    initials |= bit(x->stack[k].node.chosen);
            }
            free(vbuf);
            initials &= at->node.enabled;
            if (initials == 0 || (initials & at->backtrack) != 0)
                continue;
            int q = (initials & bit(ej->chosen)) ? ej->chosen : pick_default(&at->node, initials);
            at->backtrack |= bit(q);
        }
    }
    free(succ);
    free(m.rows);
    free(dep);
    return 0;
}

/* Backtracks to the next node with an untried process. False when done. */
static bool next_branch(explorer *x) {
    while (x->n > 0) {
        xnode *xn = &x->stack[x->n - 1];
        xn->done |= bit(xn->node.chosen);
        uint32_t cand = xn->backtrack & ~xn->done & ~xn->sleep & xn->node.enabled;
        if (cand != 0) {
            xn->node.chosen = (uint8_t)pick_default(&xn->node, cand);
            return true;
        }
        pop_to(x, x->n - 1);
    }
    return false;
}

/* ---- One execution --------------------------------------------------------------------------- */

typedef struct {
    kcs_exec_verdict verdict;
    char *schedule;
    size_t deviations;
    size_t decisions;
} exec_out;

static int run_one(explorer *x, const kcs_exec_fns *fns, exec_out *out) {
    memset(out, 0, sizeof *out);
    kcs_sched *s = kcs_sched_new(choose, x);
    if (s == NULL)
        return -1;
    if (x->cfg->workers != NULL)
        kcs_sched_use_workers(s, x->cfg->workers);
    if (x->kind == CH_RANDOM)
        pct_execution(x);
    out->verdict = fns->exec(fns->ctx, s);
    if (kcs_sched_node_count(s) > x->horizon)
        x->horizon = kcs_sched_node_count(s);
    out->schedule = kcs_sched_schedule(s);
    out->deviations = kcs_sched_deviations(s);
    for (size_t i = 0; i < kcs_sched_node_count(s); i++)
        out->decisions += kcs_node_is_decision(kcs_sched_node(s, i));
    kcs_sched_free(s);
    if (out->schedule == NULL || x->oom)
        return -1;
    return 0;
}

static bool better(const exec_out *a, size_t dev, const char *sched) {
    if (a->deviations != dev)
        return a->deviations < dev;
    return strlen(a->schedule) < strlen(sched);
}

/* A failing execution `o` becomes the best one so far (*best, with
 * *best_dev deviations) when it is the first failure or a better one: the
 * executor keeps its state and o's schedule moves to *best (o->schedule is
 * then NULL). Returns whether it did. */
static bool keep_if_better(const kcs_exec_fns *fns, exec_out *o, bool first, char **best,
                           size_t *best_dev) {
    if (o->verdict != KCS_EXEC_FAIL || !(first || better(o, *best_dev, *best)))
        return false;
    fns->keep(fns->ctx);
    free(*best);
    *best = o->schedule;
    *best_dev = o->deviations;
    o->schedule = NULL;
    return true;
}

/* Greedy shortening of a failing schedule (see the top of the file). */
static int minimise(explorer *x, const kcs_exec_fns *fns, kcs_explore_stats *st, char **best,
                    size_t *best_dev) {
    uint64_t budget = MINIMISE_BUDGET;
    bool improved = true;
    while (improved && budget > 0) {
        improved = false;
        char **names = NULL;
        char err[64];
        int n = kcs_schedule_parse(*best, &names, err, sizeof err);
        if (n < 0)
            return -1;
        for (int d = n - 1; d >= 0 && !improved && budget > 0; d--) {
            /* Replay with decision d left to the default policy. */
            char *saved = names[d];
            names[d] = (char *)"";
            x->kind = CH_NAMES;
            x->names = names;
            x->nnames = n;
            x->next_name = 0;
            x->strict = false;
            exec_out o;
            int rc = run_one(x, fns, &o);
            names[d] = saved;
            budget--;
            st->executions++;
            st->minimise++;
            if (rc != 0) {
                kcs_schedule_names_free(names, n);
                free(o.schedule);
                return -1;
            }
            improved = keep_if_better(fns, &o, false, best, best_dev);
            free(o.schedule);
        }
        kcs_schedule_names_free(names, n);
    }
    x->names = NULL;
    x->nnames = 0;
    return 0;
}

static int fail_with(kcs_explore_stats *st, const char *msg) {
    snprintf(st->error, sizeof st->error, "%s", msg);
    return -1;
}

/* Runs one execution of the systematic search or the sample and counts it:
 * in st and in *phase (st->systematic or st->sampled). -1 when out of memory
 * (o->schedule freed, st->error set). */
static int run_counted(explorer *x, const kcs_exec_fns *fns, exec_out *o, kcs_explore_stats *st,
                       uint64_t *phase) {
    if (run_one(x, fns, o) != 0) {
        free(o->schedule);
        return fail_with(st, "out of memory");
    }
    st->executions++;
    (*phase)++;
    if (o->decisions > st->decisions)
        st->decisions = o->decisions;
    return 0;
}

int kcs_explore(const kcs_explore_config *cfg, const kcs_exec_fns *fns, kcs_explore_stats *st) {
    memset(st, 0, sizeof *st);
    explorer x;
    memset(&x, 0, sizeof x);
    x.cfg = cfg;
    uint64_t bound = cfg->bound ? cfg->bound : KCS_DEFAULT_BOUND;
    char *best = NULL;
    size_t best_dev = 0;
    int rc = 0;

    if (cfg->mode == KCS_MODE_REPLAY) {
        x.kind = CH_NAMES;
        char err[200];
        x.nnames =
            kcs_schedule_parse(cfg->schedule ? cfg->schedule : "", &x.names, err, sizeof err);
        if (x.nnames < 0)
            return fail_with(st, err);
        x.strict = true;
        exec_out o;
        rc = run_one(&x, fns, &o);
        st->executions = 1;
        kcs_schedule_names_free(x.names, x.nnames);
        if (rc != 0) {
            free(o.schedule);
            return fail_with(st, "out of memory");
        }
        if (x.error[0] != '\0') {
            free(o.schedule);
            return fail_with(st, x.error);
        }
        if (o.verdict == KCS_EXEC_ERROR) {
            free(o.schedule);
            return fail_with(st, "the execution failed to run (out of memory)");
        }
        st->decisions = o.decisions;
        st->complete = 1;
        st->exhaustive = false;
        if (o.verdict == KCS_EXEC_FAIL) {
            fns->keep(fns->ctx);
            st->failed = true;
        }
        st->schedule = o.schedule;
        return 0;
    }

    bool failed = false;
    if (cfg->mode == KCS_MODE_SYSTEMATIC) {
        x.kind = CH_DFS;
        for (;;) {
            x.blocked = false;
            exec_out o;
            if ((rc = run_counted(&x, fns, &o, st, &st->systematic)) != 0)
                break;
            if (x.diverged) {
                free(o.schedule);
                rc = fail_with(st, "a replayed schedule took another path: the test is not "
                                   "deterministic");
                break;
            }
            if (o.verdict == KCS_EXEC_ERROR) {
                free(o.schedule);
                rc = fail_with(st, "an execution failed to run (out of memory)");
                break;
            }
            if (x.blocked || o.verdict == KCS_EXEC_PRUNED)
                st->pruned++;
            else
                st->complete++;
            if (keep_if_better(fns, &o, !failed, &best, &best_dev))
                failed = true;
            free(o.schedule);
            if (failed && !cfg->keep_going)
                break;
            if (!cfg->no_reduction && detect_races(&x) != 0) {
                rc = fail_with(st, "out of memory");
                break;
            }
            if (!next_branch(&x)) {
                st->exhaustive = true;
                break;
            }
            if (st->systematic >= bound)
                break;
        }
        pop_to(&x, 0);
        free(x.stack);
        x.stack = NULL;
    }

    uint64_t sample = cfg->mode == KCS_MODE_RANDOM ? cfg->sample
                      : cfg->sample                ? cfg->sample
                                                   : bound;
    bool want_sample = rc == 0 && (!failed || cfg->keep_going) && !st->exhaustive &&
                       (cfg->mode == KCS_MODE_RANDOM || cfg->mode == KCS_MODE_SYSTEMATIC);
    if (want_sample && sample > 0) {
        x.rng = world_new(cfg->seed);
        if (x.rng == NULL) {
            rc = fail_with(st, "out of memory");
        } else {
            x.kind = CH_RANDOM;
            for (uint64_t i = 0; i < sample; i++) {
                exec_out o;
                if ((rc = run_counted(&x, fns, &o, st, &st->sampled)) != 0)
                    break;
                if (o.verdict == KCS_EXEC_ERROR) {
                    free(o.schedule);
                    rc = fail_with(st, "an execution failed to run (out of memory)");
                    break;
                }
                if (keep_if_better(fns, &o, !failed, &best, &best_dev))
                    failed = true;
                free(o.schedule);
                if (failed && !cfg->keep_going)
                    break;
            }
            world_free(x.rng);
            x.rng = NULL;
        }
    }

    if (rc == 0 && failed && !cfg->no_minimize && minimise(&x, fns, st, &best, &best_dev) != 0)
        rc = fail_with(st, "out of memory");
    st->failed = failed;
    st->schedule = best;
    return rc;
}
