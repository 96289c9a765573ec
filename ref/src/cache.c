/* The wrapping-key cache: per core, per label (the core's app is fixed, so
 * (app, label) isolation is per instance and label). Keys live in one
 * page-aligned arena, made on the first put, that is mlock'ed where the
 * platform allows (best effort) and zeroized with OPENSSL_cleanse whenever an
 * entry is dropped.
 *
 * Rules: TTL 0 never stores nor serves (C3); an expired entry is dropped
 * without touching the LAContext; an evicted entry takes the label's
 * LAContext with it (domain.md §6). */
#include "core_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* The arena is mapped and locked on the first put, not when the core is
 * made: a core that never caches (TTL 0, or a process that restarts before
 * using a key) costs no page and no mlock/munlock system calls. */
bool cache_init(ref_core *core) {
    core->arena = NULL;
    core->arena_len = 0;
    core->arena_locked = false;
    for (size_t i = 0; i < CORE_CACHE_SLOTS; i++) {
        core->wk[i].used = false;
        core->wk[i].key = NULL;
    }
    return true;
}

static bool arena_ready(ref_core *core) {
    if (core->arena != NULL)
        return true;
    long page = sysconf(_SC_PAGESIZE);
    size_t align = page > 0 ? (size_t)page : 4096;
    size_t len = CORE_CACHE_SLOTS * CORE_WK_LEN;
    len = (len + align - 1) / align * align;
    void *arena = NULL;
    if (posix_memalign(&arena, align, len) != 0)
        return false;
    memset(arena, 0, len);
    core->arena = arena;
    core->arena_len = len;
    core->arena_locked = mlock(arena, len) == 0; /* best effort (RLIMIT_MEMLOCK) */
    for (size_t i = 0; i < CORE_CACHE_SLOTS; i++)
        core->wk[i].key = core->arena + i * CORE_WK_LEN;
    return true;
}

void cache_free(ref_core *core) {
    if (core->arena == NULL)
        return;
    OPENSSL_cleanse(core->arena, core->arena_len);
    if (core->arena_locked)
        munlock(core->arena, core->arena_len);
    free(core->arena);
    core->arena = NULL;
}

static void drop(wk_entry *e) {
    OPENSSL_cleanse(e->key, CORE_WK_LEN);
    e->used = false;
    e->label[0] = '\0';
}

static wk_entry *find(ref_core *core, const char *label) {
    if (label == NULL)
        return NULL;
    for (size_t i = 0; i < CORE_CACHE_SLOTS; i++)
        if (core->wk[i].used && strcmp(core->wk[i].label, label) == 0)
            return &core->wk[i];
    return NULL;
}

/* Drops the entry if it has expired; true if it is still live. */
static bool live(ref_core *core, wk_entry *e, int64_t now) {
    if (now < e->expires_ms)
        return true;
    char label[REF_LABEL_MAX + 1];
    memcpy(label, e->label, sizeof label);
    drop(e);
    CORE_COUNT(core, label, cache_expiries);
    core_emit(core, REF_EV_CACHE_EXPIRE, label, NULL, 0, 0);
    return false;
}

bool cache_get(ref_core *core, const char *label, unsigned char out[CORE_WK_LEN]) {
    wk_entry *e = core->cfg.cache_ttl_ms > 0 ? find(core, label) : NULL;
    if (e != NULL && live(core, e, core_now_ms())) {
        memcpy(out, e->key, CORE_WK_LEN);
        CORE_COUNT(core, label, cache_hits);
        core_emit(core, REF_EV_CACHE_HIT, label, NULL, 0, 0);
        return true;
    }
    CORE_COUNT(core, label, cache_misses);
    core_emit(core, REF_EV_CACHE_MISS, label, NULL, 0, 0);
    return false;
}

bool cache_peek(const ref_core *core, const char *label) {
    if (label == NULL || core->cfg.cache_ttl_ms <= 0)
        return false;
    int64_t now = core_now_ms();
    for (size_t i = 0; i < CORE_CACHE_SLOTS; i++)
        if (core->wk[i].used && strcmp(core->wk[i].label, label) == 0)
            return now < core->wk[i].expires_ms;
    return false;
}

void cache_put(ref_core *core, const char *label, const unsigned char key[CORE_WK_LEN]) {
    if (core->cfg.cache_ttl_ms <= 0 || label == NULL || strlen(label) > REF_LABEL_MAX ||
        !arena_ready(core))
        return; /* (no arena: out of memory, the key is simply not cached) */
    int64_t now = core_now_ms();
    wk_entry *e = find(core, label);
    if (e == NULL) {
        for (size_t i = 0; i < CORE_CACHE_SLOTS && e == NULL; i++)
            if (!core->wk[i].used)
                e = &core->wk[i];
    }
    if (e == NULL) {
        /* Full: the entry closest to expiry goes, like an expiry. */
        e = &core->wk[0];
        for (size_t i = 1; i < CORE_CACHE_SLOTS; i++)
            if (core->wk[i].expires_ms < e->expires_ms)
                e = &core->wk[i];
        char old[REF_LABEL_MAX + 1];
        memcpy(old, e->label, sizeof old);
        drop(e);
        CORE_COUNT(core, old, cache_expiries);
        core_emit(core, REF_EV_CACHE_EXPIRE, old, "capacity", 0, 0);
    }
    e->used = true;
    memcpy(e->label, label, strlen(label) + 1);
    memcpy(e->key, key, CORE_WK_LEN);
    e->expires_ms = now + core->cfg.cache_ttl_ms;
    CORE_COUNT(core, label, cache_puts);
    ref_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = REF_EV_CACHE_PUT;
    ev.label = label;
    ev.ttl_ms = core->cfg.cache_ttl_ms;
    core_emit_event(core, &ev);
}

void cache_evict(ref_core *core, const char *label) {
    wk_entry *e = find(core, label);
    if (e != NULL) {
        drop(e);
        CORE_COUNT(core, label, cache_evictions);
        core_emit(core, REF_EV_CACHE_EVICT, label, NULL, 0, 0);
    }
    la_evict(core, label);
}

void ref_core_evict_wrapping_key_cache(ref_core *core, const char *label) {
    if (core == NULL || label == NULL)
        return;
    cache_evict(core, label);
}

void ref_core_evict_all(ref_core *core) {
    if (core == NULL)
        return;
    for (size_t i = 0; i < CORE_CACHE_SLOTS; i++) {
        if (!core->wk[i].used)
            continue;
        char label[REF_LABEL_MAX + 1];
        memcpy(label, core->wk[i].label, sizeof label);
        cache_evict(core, label);
    }
    la_evict_all(core);
}
