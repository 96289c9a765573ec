/* The LAContext registry: one authenticated context per label, for the
 * sign's TTL capped at Apple's 300 s reuse maximum (so that a registered
 * context is never older than its own reuse window, P1). Acquiring means
 * evaluatePolicy: one prompt. A failed evaluation registers nothing; the
 * operation goes on without a context. */
#include "core_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ONE_SHOT_REUSE_S 10.0

static int64_t reuse_ms(int64_t ttl_ms) {
    int64_t cap = (int64_t)(LATouchIDAuthenticationMaximumAllowableReuseDuration * 1000.0);
    return ttl_ms < cap ? ttl_ms : cap;
}

static la_entry *find(const ref_core *core, const char *label, size_t *index) {
    if (label == NULL)
        return NULL;
    for (size_t i = 0; i < core->la_len; i++) {
        if (strcmp(core->la[i].label, label) == 0) {
            if (index != NULL)
                *index = i;
            return &core->la[i];
        }
    }
    return NULL;
}

static void remove_at(ref_core *core, size_t i, bool invalidate) {
    if (invalidate)
        LAContextInvalidate(core->la[i].ctx);
    CFRelease(core->la[i].ctx);
    core->la[i] = core->la[core->la_len - 1];
    core->la_len--;
}

/* Evaluates a fresh context (one prompt); NULL on failure. +1. */
static LAContextRef evaluate(ref_core *core, const char *label, double reuse_s) {
    LAContextRef ctx = LAContextCreate();
    if (ctx == NULL)
        return NULL;
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, reuse_s);
    char reason[REF_LABEL_MAX + 64];
    snprintf(reason, sizeof reason, "use the key '%s'", label);
    CFStringRef why = CFStringCreateWithCString(NULL, reason, kCFStringEncodingUTF8);
    CFErrorRef error = NULL;
    Boolean ok = LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, why, &error);
    if (why != NULL)
        CFRelease(why);
    int32_t status = 0;
    if (!ok) {
        status = error != NULL ? (int32_t)CFErrorGetCode(error) : LAErrorAuthenticationFailed;
        if (error != NULL)
            CFRelease(error);
        CFRelease(ctx);
        ctx = NULL;
    } else if (error != NULL) {
        CFRelease(error);
    }
    CORE_COUNT(core, label, la_acquisitions);
    core_emit(core, REF_EV_LA_EVALUATE, label, NULL, status, 0);
    return ctx;
}

LAContextRef la_acquire(ref_core *core, const char *label, int64_t ttl_ms) {
    int64_t now = core_now_ms();
    size_t i = 0;
    la_entry *e = find(core, label, &i);
    if (e != NULL) {
        if (now < e->expires_ms) {
            CORE_COUNT(core, label, la_reuses);
            core_emit(core, REF_EV_LA_REUSE, label, NULL, 0, 0);
            return (LAContextRef)CFRetain(e->ctx);
        }
        remove_at(core, i, true);
        core_emit(core, REF_EV_LA_EXPIRE, label, NULL, 0, 0);
    }
    int64_t window = reuse_ms(ttl_ms > 0 ? ttl_ms : 0);
    LAContextRef ctx =
        evaluate(core, label, window > 0 ? (double)window / 1000.0 : ONE_SHOT_REUSE_S);
    if (ctx == NULL || window <= 0 || strlen(label) > REF_LABEL_MAX)
        return ctx; /* TTL 0: not registered, used by this sign only */
    if (core->la_len == core->la_cap) {
        size_t cap = core->la_cap == 0 ? 4 : core->la_cap * 2;
        la_entry *grown = realloc(core->la, cap * sizeof *grown);
        if (grown == NULL)
            return ctx; /* out of memory: used by this sign only */
        core->la = grown;
        core->la_cap = cap;
    }
    la_entry *n = &core->la[core->la_len++];
    memcpy(n->label, label, strlen(label) + 1);
    n->ctx = (LAContextRef)CFRetain(ctx); /* the registry's reference; ctx goes to the caller */
    n->expires_ms = now + window;
    ref_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = REF_EV_LA_REGISTER;
    ev.label = label;
    ev.ttl_ms = window;
    core_emit_event(core, &ev);
    return ctx;
}

LAContextRef la_one_shot(ref_core *core, const char *label) {
    return evaluate(core, label, ONE_SHOT_REUSE_S);
}

void la_release_one_shot(LAContextRef ctx) {
    if (ctx == NULL)
        return;
    LAContextInvalidate(ctx);
    CFRelease(ctx);
}

bool la_present(const ref_core *core, const char *label) {
    la_entry *e = find(core, label, NULL);
    return e != NULL && core_now_ms() < e->expires_ms;
}

void la_evict(ref_core *core, const char *label) {
    size_t i = 0;
    if (find(core, label, &i) == NULL)
        return;
    remove_at(core, i, true);
    CORE_COUNT(core, label, la_evictions);
    core_emit(core, REF_EV_LA_EVICT, label, NULL, 0, 0);
}

void la_evict_all(ref_core *core) {
    while (core->la_len > 0) {
        char label[REF_LABEL_MAX + 1];
        memcpy(label, core->la[core->la_len - 1].label, sizeof label);
        la_evict(core, label);
    }
}

/* The process's memory goes: its contexts are dropped, not invalidated (a
 * crashed process does not say goodbye either); no Apple call. */
void la_free_all(ref_core *core) {
    while (core->la_len > 0)
        remove_at(core, core->la_len - 1, false);
}
