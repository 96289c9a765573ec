/* The world's lifecycle, its one accessor, the fidelity knobs and the clock. */
#include "world_state.h"

#include <CoreFoundation/CoreFoundation.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The world the Apple-shaped API acts on. The only mutable global of the
 * world layer: Apple's functions take no context argument, so this is the one
 * accessor through which they reach the explicit world value. */
static world *active_world;

void world_activate(world *w) { active_world = w; }

world *world_active(void) { return active_world; }

/* ---- Knobs ----------------------------------------------------------------- */

typedef struct {
    const char *name;
    int64_t default_value;
    const char *doc;
} knob_info;

static const knob_info knob_table[WORLD_KNOB_COUNT] = {
    [WORLD_KNOB_LOCK_GRACE_MS] = {"lock_grace", 10000,
                                  "ms after a lock before WhenUnlocked class keys are discarded; "
                                  "Apple documents a short grace period without a number (10 s "
                                  "is the commonly observed value)"},
    [WORLD_KNOB_SE_REUSE_REQUIRES_WHEN_UNLOCKED] =
        {"se_reuse_requires_when_unlocked", 1,
         "an authenticated LAContext makes an SE sign silent only when the SE key's class is "
         "WhenUnlocked(ThisDeviceOnly); with AfterFirstUnlock the SE prompts on every sign "
         "(observed upstream, not documented by Apple)"},
    [WORLD_KNOB_SE_WHEN_UNLOCKED_UNUSABLE_LOCKED] =
        {"se_when_unlocked_unusable_while_locked", 1,
         "an SE key whose class is WhenUnlocked* cannot sign while the device is locked (follows "
         "the class semantics; not verified on hardware for SE keys)"},
    [WORLD_KNOB_SE_AVAILABLE] = {"se_available", 1,
                                 "the Secure Enclave exists (0 models a Mac without one: "
                                 "SEIsAvailable false, every SE call errSecNotAvailable)"},
    [WORLD_KNOB_LA_MAX_REUSE_MS] =
        {"la_max_reuse", 300000,
         "cap on an LAContext's reuse duration "
         "(LATouchIDAuthenticationMaximumAllowableReuseDuration, 300 s)"},
    [WORLD_KNOB_LA_REUSE_ENDS_AT_LOCK] =
        {"la_reuse_ends_at_lock", 1,
         "a device lock ends every LAContext's reuse window (the authentication it carries was "
         "given to an unlocked session; undocumented by Apple, so the conservative choice): a "
         "context registered before the lock makes every later presence step prompt until it "
         "expires"},
};

int world_knob_from_name(const char *name) {
    for (int i = 0; i < WORLD_KNOB_COUNT; i++)
        if (name != NULL && strcmp(name, knob_table[i].name) == 0)
            return i;
    return -1;
}

const char *world_knob_name(world_knob knob) {
    return (unsigned)knob < WORLD_KNOB_COUNT ? knob_table[knob].name : NULL;
}

const char *world_knob_doc(world_knob knob) {
    return (unsigned)knob < WORLD_KNOB_COUNT ? knob_table[knob].doc : NULL;
}

int64_t world_knob_default(world_knob knob) {
    return (unsigned)knob < WORLD_KNOB_COUNT ? knob_table[knob].default_value : 0;
}

void world_set_knob(world *w, world_knob knob, int64_t value) {
    if ((unsigned)knob >= WORLD_KNOB_COUNT)
        return;
    w->knobs[knob] = value;
    world_journal_event(w, "knob %s=%lld", knob_table[knob].name, (long long)value);
}

int64_t world_knob_value(const world *w, world_knob knob) {
    return (unsigned)knob < WORLD_KNOB_COUNT ? w->knobs[knob] : 0;
}

/* ---- Lifecycle --------------------------------------------------------------- */

world *world_new(uint64_t seed) {
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->seed = seed;
    for (int i = 0; i < WORLD_KNOB_COUNT; i++)
        w->knobs[i] = knob_table[i].default_value;
    /* domain.md §2 defaults: off until booted, passcode and biometry on,
     * the user approves, lock-on-sleep off. */
    w->device = WORLD_DEVICE_OFF;
    w->passcode = true;
    w->biometry = true;
    w->login_locked = true;
    w->login_lock_on_sleep = false;
    w->default_answer = WORLD_ANSWER_APPROVE;
    w->current = -1;
    w->items = world_item_store_new();
    w->se = world_se_store_new();
    if (world_rng_init(w) != 0 || w->items == NULL || w->se == NULL) {
        world_free(w);
        return NULL;
    }
    world_random_bytes(w, w->device_secret, sizeof w->device_secret);
    world_journal_event(w, "world seed=%llu", (unsigned long long)seed);
    return w;
}

void world_free(world *w) {
    if (w == NULL)
        return;
    if (active_world == w)
        active_world = NULL;
    world_item_store_free(w->items);
    world_se_store_free(w->se);
    world_files_free(w);
    world_faults_free(w);
    for (size_t i = 0; i < w->nprocs; i++) {
        free((char *)w->procs[i].cfg.name);
        free((char *)w->procs[i].cfg.app);
        free((char *)w->procs[i].cfg.access_group);
    }
    free(w->procs);
    free(w->answers);
    free(w->journal);
    world_rng_free(w);
    memset(w->device_secret, 0, sizeof w->device_secret);
    free(w);
}

void world_set_error(world *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->last_error, sizeof w->last_error, fmt, ap);
    va_end(ap);
}

const char *world_last_error(const world *w) { return w->last_error; }

world_item_store *world_item_store_of(world *w) { return w->items; }
const world_item_store *world_item_store_of_const(const world *w) { return w->items; }
world_se_store *world_se_store_of(world *w) { return w->se; }
const world_se_store *world_se_store_of_const(const world *w) { return w->se; }
const unsigned char *world_device_secret(const world *w) { return w->device_secret; }

/* ---- Clock ------------------------------------------------------------------- */

/* 2026-01-01T00:00:00Z in CFAbsoluteTime (seconds since 2001-01-01): the
 * moment every world's clock starts. Fixed, so runs are reproducible. */
#define WORLD_EPOCH_ABSOLUTE_TIME 788918400.0

int64_t world_now_ms(const world *w) { return w->now_ms; }

void world_advance(world *w, int64_t ms) {
    if (ms < 0) {
        world_set_error(w, "the clock cannot go back (%lld ms)", (long long)ms);
        return;
    }
    if (ms > WORLD_CLOCK_HORIZON_MS - w->now_ms) {
        world_set_error(w, "the clock cannot pass %lld ms", (long long)WORLD_CLOCK_HORIZON_MS);
        return;
    }
    w->now_ms += ms;
    world_journal_event(w, "clock +%lldms", (long long)ms);
}

double world_absolute_time(const world *w) {
    return WORLD_EPOCH_ABSOLUTE_TIME + (double)w->now_ms / 1000.0;
}

CFAbsoluteTime CFAbsoluteTimeGetCurrent(void) {
    world *w = world_active();
    return w != NULL ? world_absolute_time(w) : WORLD_EPOCH_ABSOLUTE_TIME;
}
