/* The baton scheduler of parallel blocks (see kcs_sched.h).
 *
 * One thread per simulated process of a block, from a set of workers kept
 * between blocks (kcs_workers; worker i runs the block's process i). The
 * baton is `running`: the
 * block-local index of the one thread allowed to run, or CONTROLLER (the
 * thread that called kcs_sched_block, which waits meanwhile). Every change of
 * `running` happens under the mutex and is broadcast on the condition
 * variable; a thread runs only while `running` names it, so exactly one
 * thread touches the world, the cores and the engine at any time, and the
 * mutex orders their memory accesses (no data race, nothing for a sanitizer
 * to see).
 *
 * A block goes in two phases. Start-up: each process in turn runs until its
 * first pending call (or its end); the code before a process's first call
 * makes no hooked call, so this order decides nothing. Then the scheduled
 * phase: at every yield point the thread holding the baton records a node and
 * asks the chooser who runs next; when that is itself it just goes on,
 * otherwise it hands the baton over and waits for it to come back. When a
 * process ends, it chooses the next one the same way; after the last one the
 * baton returns to the controller, and the workers wait for the next block.
 *
 * Threads are created with an explicit 8 MiB stack (macOS gives secondary
 * threads 512 KiB by default; the core keeps a few KiB on the stack, more
 * under AddressSanitizer).
 */
#include "kcs_sched.h"
#include "kcs_grow.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROLLER (-1)
#define THREAD_STACK (8u * 1024u * 1024u)

typedef struct {
    const char *names[KCS_SCHED_MAX_PROCS];
    size_t nprocs;
} block_info;

typedef struct {
    kcs_workers *pool;
    size_t index;
} slot;

/* The threads, kept from block to block: a block hands worker i the
 * block-local process i. `mu`/`cv` carry the baton of whichever scheduler
 * runs a block on them (`sched`, NULL between blocks). */
struct kcs_workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct kcs_sched *sched;
    bool shutdown;
    size_t nthreads;
    pthread_t threads[KCS_SCHED_MAX_PROCS];
    slot slots[KCS_SCHED_MAX_PROCS];
};

struct kcs_sched {
    kcs_workers *pool;
    bool own_pool; /* made at the first block, freed with the scheduler */
    kcs_choose_fn choose;
    void *choose_ctx;

    /* The block being run. */
    world *w;
    size_t nprocs;
    world_pid pids[KCS_SCHED_MAX_PROCS];
    kcs_block_fns fns;
    int running;
    bool startup;
    bool aborted;
    bool oom;
    bool thread_error;
    bool answers_queued;
    int prev;
    bool finished[KCS_SCHED_MAX_PROCS];
    bool has_pending[KCS_SCHED_MAX_PROCS];
    world_call_info pending[KCS_SCHED_MAX_PROCS];

    block_info *blocks;
    size_t nblocks, blocks_cap;
    kcs_node *nodes;
    size_t nnodes, nodes_cap;
};

static int popcount32(uint32_t v) {
    int n = 0;
    for (; v != 0; v &= v - 1)
        n++;
    return n;
}

int kcs_node_default(const kcs_node *node) {
    if (node->prev >= 0 && (node->enabled & (1u << node->prev)) != 0)
        return node->prev;
    for (int i = 0; i < node->nprocs; i++)
        if (node->enabled & (1u << i))
            return i;
    return -1;
}

bool kcs_node_is_decision(const kcs_node *node) { return popcount32(node->enabled) >= 2; }

kcs_workers *kcs_workers_new(void) {
    kcs_workers *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void kcs_workers_free(kcs_workers *p) {
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->shutdown = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

kcs_sched *kcs_sched_new(kcs_choose_fn choose, void *ctx) {
    kcs_sched *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->choose = choose;
    s->choose_ctx = ctx;
    s->running = CONTROLLER;
    return s;
}

void kcs_sched_use_workers(kcs_sched *s, kcs_workers *pool) {
    if (s->pool == NULL)
        s->pool = pool;
}

void kcs_sched_free(kcs_sched *s) {
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        free(s->nodes[i].pending);
    free(s->nodes);
    free(s->blocks);
    if (s->own_pool)
        kcs_workers_free(s->pool);
    free(s);
}

bool kcs_sched_abandoned(const kcs_sched *s) { return s->aborted; }
size_t kcs_sched_node_count(const kcs_sched *s) { return s->nnodes; }
const kcs_node *kcs_sched_node(const kcs_sched *s, size_t index) {
    return index < s->nnodes ? &s->nodes[index] : NULL;
}

const char *kcs_sched_name(const kcs_sched *s, size_t block, size_t proc) {
    if (block >= s->nblocks || proc >= s->blocks[block].nprocs)
        return "?";
    return s->blocks[block].names[proc];
}

/* ---- Decisions (called with the mutex held, by the thread with the baton) ---- */

static int lowest(uint32_t mask) {
    for (int i = 0; i < KCS_SCHED_MAX_PROCS; i++)
        if (mask & (1u << i))
            return i;
    return -1;
}

/* Who runs next: records a node and asks the chooser. CONTROLLER when every
 * process has finished. */
static int decide_locked(kcs_sched *s) {
    uint32_t enabled = 0;
    for (size_t i = 0; i < s->nprocs; i++)
        if (s->has_pending[i] && !s->finished[i])
            enabled |= 1u << i;
    if (enabled == 0)
        return CONTROLLER;
    if (s->aborted)
        return lowest(enabled);
    kcs_node *g = kcs_grow(s->nodes, s->nnodes, &s->nodes_cap, sizeof *g, 64);
    if (g == NULL) {
        s->oom = s->aborted = true;
        return lowest(enabled);
    }
    s->nodes = g;
    kcs_node *n = &s->nodes[s->nnodes];
    memset(n, 0, sizeof *n);
    n->pending = malloc(s->nprocs * sizeof *n->pending);
    if (n->pending == NULL) {
        s->oom = s->aborted = true;
        return lowest(enabled);
    }
    n->block = (uint16_t)(s->nblocks - 1);
    n->nprocs = (uint8_t)s->nprocs;
    n->prev = (int8_t)s->prev;
    n->answers_queued = s->answers_queued;
    n->enabled = enabled;
    for (size_t i = 0; i < s->nprocs; i++) {
        if (enabled & (1u << i))
            n->pending[i] = s->pending[i];
        else
            memset(&n->pending[i], 0, sizeof n->pending[i]);
    }
    int c = s->choose != NULL ? s->choose(s->choose_ctx, s, s->nnodes, n) : kcs_node_default(n);
    if (c < 0 || c >= (int)s->nprocs || (enabled & (1u << c)) == 0) {
        /* Abandoned (or a chooser that named nobody runnable). */
        free(n->pending);
        s->aborted = true;
        return lowest(enabled);
    }
    n->chosen = (uint8_t)c;
    s->nnodes++;
    s->prev = c;
    return c;
}

static void hand_to_locked(kcs_sched *s, int next) {
    s->running = next;
    pthread_cond_broadcast(&s->pool->cv);
}

static void wait_for_locked(kcs_sched *s, int me) {
    while (s->running != me)
        pthread_cond_wait(&s->pool->cv, &s->pool->mu);
}

static int local_of(const kcs_sched *s, world_pid pid) {
    for (size_t i = 0; i < s->nprocs; i++)
        if (s->pids[i] == pid)
            return (int)i;
    return -1;
}

static bool yield_as(kcs_sched *s, int me, const world_call_info *call) {
    if (s->aborted)
        return false;
    s->pending[me] = *call;
    s->has_pending[me] = true;
    pthread_mutex_lock(&s->pool->mu);
    int next = s->startup ? CONTROLLER : decide_locked(s);
    if (next != me) {
        hand_to_locked(s, next);
        wait_for_locked(s, me);
    }
    pthread_mutex_unlock(&s->pool->mu);
    s->has_pending[me] = false;
    world_set_current(s->w, s->pids[me]);
    return !s->aborted;
}

static bool baton_yield(void *ctx, const world_call_info *call) {
    kcs_sched *s = ctx;
    int me = local_of(s, call->pid);
    if (me < 0)
        return true; /* not a process of the block: cannot happen while one runs */
    return yield_as(s, me, call);
}

static void baton_done(void *ctx, const world_call_info *call) {
    kcs_sched *s = ctx;
    int me = local_of(s, call->pid);
    if (me >= 0 && s->fns.done != NULL)
        s->fns.done(s->fns.ctx, (size_t)me, call);
}

bool kcs_sched_yield_global(kcs_sched *s, size_t proc) {
    world_call_info info;
    memset(&info, 0, sizeof info);
    info.api = WORLD_API_COUNT;
    info.pid = s->pids[proc];
    info.global = true;
    info.writes = true;
    return yield_as(s, (int)proc, &info);
}

/* A worker: waits until a block's baton names its index, runs that process
 * to its end, hands the baton on, and waits for the next block. */
static bool my_turn_locked(const kcs_workers *p, int me) {
    const kcs_sched *s = p->sched;
    return s != NULL && s->running == me && !s->finished[me];
}

static void *worker_main(void *arg) {
    slot *sl = arg;
    kcs_workers *p = sl->pool;
    int me = (int)sl->index;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->shutdown && !my_turn_locked(p, me))
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->shutdown)
            break;
        kcs_sched *s = p->sched;
        pthread_mutex_unlock(&p->mu);
        world_set_current(s->w, s->pids[me]);
        s->fns.body(s->fns.ctx, (size_t)me);
        pthread_mutex_lock(&p->mu);
        s->finished[me] = true;
        s->has_pending[me] = false;
        hand_to_locked(s, s->startup ? CONTROLLER : decide_locked(s));
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Workers 0..n-1 exist (started with an explicit stack, see the top). Returns
 * how many do: fewer when a thread could not be started. */
static size_t ensure_workers(kcs_workers *p, size_t n) {
    if (p->nthreads >= n)
        return p->nthreads;
    pthread_attr_t attr;
    bool have_attr = pthread_attr_init(&attr) == 0;
    if (have_attr)
        (void)pthread_attr_setstacksize(&attr, THREAD_STACK);
    while (p->nthreads < n) {
        size_t i = p->nthreads;
        p->slots[i] = (slot){p, i};
        if (pthread_create(&p->threads[i], have_attr ? &attr : NULL, worker_main, &p->slots[i]) !=
            0)
            break;
        p->nthreads++;
    }
    if (have_attr)
        pthread_attr_destroy(&attr);
    return p->nthreads;
}

/* ---- Running a block ------------------------------------------------------------------ */

int kcs_sched_block(kcs_sched *s, world *w, size_t nprocs, const world_pid *pids,
                    const char *const *names, const kcs_block_fns *fns) {
    if (nprocs == 0)
        return 0;
    if (nprocs > KCS_SCHED_MAX_PROCS)
        return -1;
    block_info *g = kcs_grow(s->blocks, s->nblocks, &s->blocks_cap, sizeof *g, 4);
    if (g == NULL)
        return -1;
    s->blocks = g;
    block_info *b = &s->blocks[s->nblocks++];
    b->nprocs = nprocs;
    for (size_t i = 0; i < nprocs; i++)
        b->names[i] = names[i];

    s->w = w;
    s->nprocs = nprocs;
    s->fns = *fns;
    s->prev = -1;
    s->startup = true;
    s->running = CONTROLLER;
    s->answers_queued = world_user_answers_pending(w) > 0;
    for (size_t i = 0; i < nprocs; i++) {
        s->pids[i] = pids[i];
        s->finished[i] = false;
        s->has_pending[i] = false;
    }
    if (s->pool == NULL) {
        s->pool = kcs_workers_new();
        if (s->pool == NULL)
            return -1;
        s->own_pool = true;
    }
    kcs_workers *p = s->pool;
    size_t nthreads = ensure_workers(p, nprocs);
    world_set_scheduler(w, baton_yield, baton_done, s);

    pthread_mutex_lock(&p->mu);
    for (size_t i = nthreads; i < nprocs; i++) {
        s->aborted = true; /* the started ones run to their end without effect */
        s->thread_error = true;
        s->finished[i] = true;
    }
    p->sched = s;
    /* Start-up: each process up to its first pending call. */
    for (size_t i = 0; i < nprocs; i++) {
        if (s->finished[i])
            continue;
        hand_to_locked(s, (int)i);
        wait_for_locked(s, CONTROLLER);
    }
    s->startup = false;
    int next = decide_locked(s);
    if (next != CONTROLLER) {
        hand_to_locked(s, next);
        wait_for_locked(s, CONTROLLER);
    }
    p->sched = NULL;
    pthread_mutex_unlock(&p->mu);

    world_set_scheduler(w, NULL, NULL, NULL);
    world_set_current(w, -1);
    s->nprocs = 0;
    if (s->oom || s->thread_error)
        return -1;
    return s->aborted ? 1 : 0;
}

/* ---- The schedule ------------------------------------------------------------------ */

size_t kcs_sched_deviations(const kcs_sched *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->nnodes; i++)
        if (kcs_node_is_decision(&s->nodes[i]) &&
            s->nodes[i].chosen != kcs_node_default(&s->nodes[i]))
            n++;
    return n;
}

char *kcs_sched_schedule(const kcs_sched *s) {
    /* The last decision that is not the default one (at least the first). */
    size_t last = 0;
    bool any = false;
    for (size_t i = 0; i < s->nnodes; i++) {
        const kcs_node *n = &s->nodes[i];
        if (!kcs_node_is_decision(n))
            continue;
        if (!any)
            last = i;
        any = true;
        if (n->chosen != kcs_node_default(n))
            last = i;
    }
    /* Names, with runs of three or more written name*N. */
    size_t len = 1;
    for (size_t i = 0; any && i <= last; i++)
        if (kcs_node_is_decision(&s->nodes[i]))
            len += strlen(kcs_sched_name(s, s->nodes[i].block, s->nodes[i].chosen)) + 1;
    char *out = malloc(len + 16);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    size_t o = 0;
    const char *run_name = NULL;
    size_t run_len = 0;
    for (size_t i = 0; any && i <= last + 1; i++) {
        const char *name = NULL;
        if (i <= last) {
            const kcs_node *n = &s->nodes[i];
            if (!kcs_node_is_decision(n))
                continue;
            name = kcs_sched_name(s, n->block, n->chosen);
            if (run_name != NULL && strcmp(name, run_name) == 0) {
                run_len++;
                continue;
            }
        }
        if (run_name != NULL) {
            size_t l = strlen(run_name);
            size_t reps = run_len >= 3 ? 1 : run_len;
            for (size_t r = 0; r < reps; r++) {
                if (o > 0)
                    out[o++] = ',';
                memcpy(out + o, run_name, l);
                o += l;
            }
            if (run_len >= 3)
                o += (size_t)snprintf(out + o, len + 16 - o, "*%zu", run_len);
            out[o] = '\0';
        }
        run_name = name;
        run_len = 1;
    }
    return out;
}
