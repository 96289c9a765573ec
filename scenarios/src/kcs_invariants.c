/* The invariant checker (domain.md §7): evaluated after every step of a
 * scenario, from three sources only — the events the reference cores report
 * to their observer (ref_event), the world's inspection API (items, files, SE
 * keys: no prompt, no counted call, no journal entry) and the journal lines
 * the step appended. A violation fails the scenario with
 * "file:line: invariant XX violated: <detail>" at the step's line.
 *
 * What each rule checks, and the rules the spec leaves open (decided here):
 *
 * PC1  Every wrapping-key item written in the step has class
 *      AfterFirstUnlockThisDeviceOnly. "Written" = an item of a declared
 *      process's service that is new or whose write count changed in the step,
 *      *and* for whose account the step reported a STORE or a successful
 *      MIGRATION_WRITE event. So planted old-class items pass until a store
 *      path rewrites them,
 *      and an in-place rename (a write that is not a store path) of a planted
 *      WhenUnlocked item is not a PC1 violation.
 * PC2  Every SE key created in the step with a user-presence flag
 *      (.userPresence, .biometryAny, .devicePasscode) has class
 *      WhenUnlockedThisDeviceOnly — also when a rollback deleted it again.
 *      Keys created by `plant` (the engine, not the core) are not judged.
 * PC3  No add sets both kSecAttrAccessible and kSecAttrAccessControl. The
 *      world marks such an add "accessible+ac" in its journal line (whatever
 *      it answered, on either keychain); the checker reads the step's lines.
 * EM1  Every MAPPED event: the code equals the clean table of ref/errmap.h
 *      for (status, gui) on keychain_load, keychain_store, se_sign and
 *      se_generate; keychain_delete gives 0 or 11; and -25308/-25315 never
 *      give 9 or 10 on any path.
 * C1   Between a MIGRATION_CHECK and the end of that migration (its
 *      MIGRATION_WRITE, the next check, or the end of the operation) no
 *      CACHE_EVICT or LA_EVICT of that label.
 * C2   When a STORE completes, the storing core holds neither a cached
 *      wrapping key nor a LAContext for the label (checked in the observer,
 *      at the event). Other processes' memories are theirs: C4 covers them.
 * C3   No CACHE_HIT from a core whose cache TTL is 0.
 * C4   The checker keeps a shadow of each core's cache from PUT, EVICT and
 *      EXPIRE events. A CACHE_HIT must be for a label that this core put and
 *      has not evicted or expired, before its TTL ran out, and for the label
 *      of the running operation. (A hit whose bytes went stale because another
 *      process re-created the label is allowed: the core must then evict and
 *      re-read, which is D1's business.)
 * L1   Only for `sign`. An LA_EVICT that directly follows a CACHE_EVICT of
 *      the same label is the cache eviction's (domain.md: evicting the
 *      wrapping key evicts the context) and is not judged here. Any other
 *      LA_EVICT in a sign that ended auth_denied, interaction_required,
 *      no_window_server or user_cancelled is a violation; after a sign that
 *      failed with any other error, the core must hold no LAContext for the
 *      label.
 * L2   Before each operation the checker decides from the world whether the
 *      key needs presence: its item (as the core's load order finds it) has
 *      a user-auth flag, or the SE key its handle names has one, or its
 *      .meta records an auth policy or a presence-protected item. If none
 *      does, any LA_EVALUATE in the operation is a violation.
 * D2   An operation that failed with bridge code 13-16, or failed because a
 *      class key was lost or destroyed by a `fault` statement (lost: until
 *      the next `device unlock`; "because": its last mapped status is
 *      -25308/-25315), must not have removed any item or file that existed
 *      before it. Crashed operations are not judged. Debris (no handle
 *      needs it: kcs_item_is_debris, kcs_file_is_debris) does not count:
 *      the spec's upsert deletes an item before its add, a rename or
 *      generate replaces moved-ahead files.
 * S1   The checker collects the secrets it can see: the 32 bytes of every
 *      item of a declared process's service and the plaintext of every
 *      handle file in a declared process's key directory (decrypted with the
 *      stored wrapping key). None may appear in the journal, nor in any
 *      core's last message or warning: neither raw, nor as hex (lower or
 *      upper case) of its last 8 bytes (which also covers the full hex and
 *      any hex print that includes the end). Secrets are remembered for the
 *      whole run, so a deleted key's bytes must not surface later either.
 *
 * P1 and D1 are checked through the expectations (`expect prompts`,
 * `expect usable`).
 *
 * Counting: result->invariant_checks grows by one for each invariant
 * evaluated after a step — PC1, PC2, PC3, EM1, C1, C2, C3, C4 and S1 after
 * every step; L2 and D2 after every operation that ran the core; L1 after
 * every sign. (PC2 in a plant step is not evaluated, so not counted.)
 */
#include "kcs_grow.h"
#include "kcs_internal.h"

#include "ref/errmap.h"

#include <Security/Security.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(kcs_run *run, const char *s) {
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c == NULL) {
        run->oom = true;
        return NULL;
    }
    memcpy(c, s, n);
    return c;
}

static bool same(const char *a, const char *b) {
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static bool same_or_null(const char *a, const char *b) {
    return (a == NULL && b == NULL) || same(a, b);
}

/* ---- The observer -------------------------------------------------------------------- */

/* A zeroed event at the end of run->events, not counted yet (run->nevents);
 * NULL and run->oom when out of memory. */
static kcs_event *event_slot(kcs_run *run) {
    kcs_event *g = kcs_grow(run->events, run->nevents, &run->events_cap, sizeof *g, 64);
    if (g == NULL) {
        run->oom = true;
        return NULL;
    }
    run->events = g;
    kcs_event *e = &run->events[run->nevents];
    memset(e, 0, sizeof *e);
    return e;
}

void kcs_observe(void *ctx, const ref_event *ev) {
    kcs_proc *p = ctx;
    kcs_run *run = p->run;
    if (run->oom || ev == NULL)
        return;
    kcs_event *e = event_slot(run);
    if (e == NULL)
        return;
    e->kind = ev->kind;
    e->proc = p->index;
    e->label = dup_or_null(run, ev->label);
    e->detail = dup_or_null(run, ev->detail);
    e->status = ev->status;
    e->code = ev->code;
    e->error = ev->error;
    e->gui = ev->gui;
    e->presence = ev->presence;
    e->ttl_ms = ev->ttl_ms;
    e->op = p->cur_op;
    if (ev->kind == REF_EV_STORE && p->core != NULL && ev->label != NULL) {
        e->cache_present = ref_core_has_cached_key(p->core, ev->label);
        e->la_present = ref_core_has_lacontext(p->core, ev->label);
    }
    run->nevents++;
}

static void events_clear(kcs_run *run) {
    for (size_t i = 0; i < run->nevents; i++) {
        free(run->events[i].label);
        free(run->events[i].detail);
    }
    run->nevents = 0;
}

/* ---- Snapshots ------------------------------------------------------------------------ */

static void items_clear(kcs_run *run) {
    for (size_t i = 0; i < run->nbefore_items; i++) {
        free(run->before_items[i].service);
        free(run->before_items[i].account);
        free(run->before_items[i].group);
    }
    run->nbefore_items = 0;
}

static void files_clear(kcs_run *run) {
    for (size_t i = 0; i < run->nbefore_files; i++)
        free(run->before_files[i]);
    run->nbefore_files = 0;
}

static void shadow_clear(kcs_proc *p);
static void shadow_remove(kcs_proc *p, const char *label);
static int shadow_put(kcs_run *run, kcs_proc *p, const char *label, int64_t expires);

/* Events that no C4 pass has seen (recorded between steps, or a step that
 * failed before C4): their effect on the shadow caches still counts. */
static int shadow_catch_up(kcs_run *run) {
    int64_t now = world_now_ms(run->w);
    for (size_t i = run->c4_processed; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        kcs_proc *p = &run->procs[e->proc];
        if (e->kind == KCS_EV_FORGET)
            shadow_clear(p);
        else if (e->kind == REF_EV_CACHE_PUT && e->label != NULL &&
                 shadow_put(run, p, e->label, now + e->ttl_ms) != 0)
            return -1;
        else if ((e->kind == REF_EV_CACHE_EVICT || e->kind == REF_EV_CACHE_EXPIRE) &&
                 e->label != NULL)
            shadow_remove(p, e->label);
    }
    run->c4_processed = 0;
    return 0;
}

/* The declared processes: a declaration changes whose service is the core's
 * (S1's secrets, debris) without touching the store. */
static size_t declared_count(const kcs_run *run) {
    size_t n = 0;
    for (size_t i = 0; i < run->sc->nprocs; i++)
        n += run->procs[i].declared ? 1 : 0;
    return n;
}

int kcs_inv_step_begin(kcs_run *run) {
    if (shadow_catch_up(run) != 0)
        return -1;
    events_clear(run);
    world *w = run->w;
    run->before_se_count = world_se_key_count(w);
    run->before_journal_len = world_journal_length(w);
    uint64_t version = world_store_version(w);
    size_t declared = declared_count(run);
    if (run->before_valid && run->before_version == version && run->before_declared == declared)
        return 0;
    items_clear(run);
    files_clear(run);
    size_t n = world_item_count(w);
    if (n > run->before_items_cap) {
        kcs_item_snap *g = realloc(run->before_items, n * sizeof *g);
        if (g == NULL)
            return run->oom = true, -1;
        run->before_items = g;
        run->before_items_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        world_item_view v;
        if (!world_item_at(w, i, &v))
            continue;
        kcs_item_snap *s = &run->before_items[run->nbefore_items++];
        s->kc = v.keychain;
        s->writes = v.writes;
        s->service = dup_or_null(run, v.service);
        s->account = dup_or_null(run, v.account);
        s->group = dup_or_null(run, v.access_group);
        s->debris = kcs_item_is_debris(run, v.service, v.account, v.data, v.data_len);
    }
    size_t nf = world_file_count(w);
    if (nf > run->before_files_cap) {
        char **g = realloc(run->before_files, nf * sizeof *g);
        if (g == NULL)
            return run->oom = true, -1;
        run->before_files = g;
        bool *d = realloc(run->before_files_debris, nf * sizeof *d);
        if (d == NULL)
            return run->oom = true, -1;
        run->before_files_debris = d;
        run->before_files_cap = nf;
    }
    for (size_t i = 0; i < nf; i++) {
        const char *path = world_file_path_at(w, i);
        if (path == NULL)
            continue;
        run->before_files_debris[run->nbefore_files] = kcs_file_is_debris(run, path);
        run->before_files[run->nbefore_files++] = dup_or_null(run, path);
    }
    run->before_valid = !run->oom;
    run->before_version = version;
    run->before_declared = declared;
    return run->oom ? -1 : 0;
}

static const kcs_item_snap *before_item(const kcs_run *run, const world_item_view *v) {
    for (size_t i = 0; i < run->nbefore_items; i++) {
        const kcs_item_snap *s = &run->before_items[i];
        if (s->kc == v->keychain && same(s->service, v->service) && same(s->account, v->account) &&
            same_or_null(s->group, v->access_group))
            return s;
    }
    return NULL;
}

/* ---- Shadow caches (C4) ------------------------------------------------------------------- */

static void shadow_clear(kcs_proc *p) {
    for (size_t i = 0; i < p->nshadow; i++)
        free(p->shadow[i].label);
    p->nshadow = 0;
}

/* The core's memory is gone. C4 reads the step's events after the step, so
 * the shadow is emptied at this point of the event sequence (a marker event),
 * not at once: the events before it still belong to the old memory. */
void kcs_inv_forget_core(kcs_proc *p) {
    kcs_run *run = p->run;
    if (run == NULL || run->oom) {
        shadow_clear(p);
        return;
    }
    kcs_event *e = event_slot(run);
    if (e == NULL) {
        shadow_clear(p);
        return;
    }
    run->nevents++;
    e->kind = KCS_EV_FORGET;
    e->proc = p->index;
}

void kcs_inv_item_moved(kcs_proc *p, const char *account) {
    kcs_run *run = p->run;
    if (run == NULL || run->oom)
        return;
    kcs_event *e = event_slot(run);
    if (e == NULL)
        return;
    e->label = dup_or_null(run, account);
    run->nevents++;
    e->kind = KCS_EV_MOVED_IN;
    e->proc = p->index;
}

static kcs_shadow_entry *shadow_find(kcs_proc *p, const char *label) {
    for (size_t i = 0; i < p->nshadow; i++)
        if (same(p->shadow[i].label, label))
            return &p->shadow[i];
    return NULL;
}

static void shadow_remove(kcs_proc *p, const char *label) {
    kcs_shadow_entry *e = shadow_find(p, label);
    if (e == NULL)
        return;
    free(e->label);
    *e = p->shadow[--p->nshadow];
}

static int shadow_put(kcs_run *run, kcs_proc *p, const char *label, int64_t expires) {
    kcs_shadow_entry *e = shadow_find(p, label);
    if (e != NULL) {
        e->expires_ms = expires;
        return 0;
    }
    kcs_shadow_entry *g = kcs_grow(p->shadow, p->nshadow, &p->shadow_cap, sizeof *g, 8);
    if (g == NULL)
        return run->oom = true, -1;
    p->shadow = g;
    char *l = dup_or_null(run, label);
    if (l == NULL)
        return -1;
    p->shadow[p->nshadow].label = l;
    p->shadow[p->nshadow].expires_ms = expires;
    p->nshadow++;
    return 0;
}

/* ---- The rules ------------------------------------------------------------------------------ */

#define VIOLATION(name, ...) kcs_fail_invariant(run, run->step->line, (name), __VA_ARGS__)

static const char *label_of(const kcs_event *e) { return e->label != NULL ? e->label : "?"; }

static const char *status_text(int32_t st) {
    const char *n = ref_status_name(st);
    return n != NULL ? n : "unknown status";
}

/* Did the step report a store-path write (STORE, MIGRATION_WRITE) of this
 * account by a core of this service? */
static bool step_wrote(const kcs_run *run, const char *service, const char *account) {
    bool wrote_last = false;
    for (size_t i = 0; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        /* In a block, a rename that moved another item here after the store
         * leaves the moved item, class as it was (fuzz finding,
         * scenarios/found/pc1-rename-after-store-in-block.kcs). */
        if (e->kind == KCS_EV_MOVED_IN && same(e->label, account) &&
            same(run->procs[e->proc].service, service)) {
            wrote_last = false;
            continue;
        }
        /* A migration write that failed wrote nothing: in a `parallel` block
         * another write of the item in the same step (a rename) must not be
         * taken for it (fuzz finding, scenarios/found/pc1-failed-migration-in-
         * block.kcs). STORE is reported only for a successful add. */
        bool wrote = e->kind == REF_EV_STORE ||
                     (e->kind == REF_EV_MIGRATION_WRITE && e->status == errSecSuccess);
        if (wrote && same(e->label, account) && same(run->procs[e->proc].service, service))
            wrote_last = true;
    }
    return wrote_last;
}

static int check_pc1(kcs_run *run) {
    size_t n = world_item_count(run->w);
    for (size_t i = 0; i < n; i++) {
        world_item_view v;
        if (!world_item_at(run->w, i, &v) || !kcs_is_core_service(run, v.service))
            continue;
        const kcs_item_snap *b = before_item(run, &v);
        if (b != NULL && b->writes == v.writes)
            continue;
        if (!step_wrote(run, v.service, v.account))
            continue;
        if (v.accessible != WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY)
            return VIOLATION("PC1",
                             "the wrapping-key item %s/%s was written to the %s keychain with "
                             "class %s, not AfterFirstUnlockThisDeviceOnly",
                             v.service, v.account, v.keychain == WORLD_KEYCHAIN_DP ? "dp" : "file",
                             world_class_name(v.accessible));
    }
    return 0;
}

static int check_pc2(kcs_run *run) {
    size_t n = world_se_key_count(run->w);
    for (size_t i = run->before_se_count; i < n; i++) {
        world_se_key_view k;
        if (!world_se_key_at(run->w, i, &k))
            continue;
        if (k.has_access_control && (k.ac_flags & WORLD_AC_PRESENCE_MASK) != 0 &&
            k.accessible != WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY)
            return VIOLATION("PC2",
                             "SE key %" PRIu64 " was created with an auth policy (flags 0x%x) and "
                             "class %s, not WhenUnlockedThisDeviceOnly",
                             k.id, (unsigned)k.ac_flags, world_class_name(k.accessible));
    }
    return 0;
}

static bool contains_bytes(const char *hay, size_t n, const void *needle, size_t m) {
    if (m == 0 || m > n)
        return false;
    const unsigned char *nd = needle;
    const char *end = hay + (n - m) + 1;
    for (const char *h = hay; h < end;) {
        const char *c = memchr(h, nd[0], (size_t)(end - h));
        if (c == NULL)
            return false;
        if (memcmp(c, nd, m) == 0)
            return true;
        h = c + 1;
    }
    return false;
}

static bool line_has(const char *line, size_t n, const char *needle) {
    return contains_bytes(line, n, needle, strlen(needle));
}

static int check_pc3(kcs_run *run) {
    const char *j = world_journal(run->w);
    size_t n = world_journal_length(run->w);
    size_t pos = run->before_journal_len <= n ? run->before_journal_len : n;
    if (!line_has(j + pos, n - pos, " accessible+ac"))
        return 0; /* the usual step: no line to look at */
    while (pos < n) {
        const char *nl = memchr(j + pos, '\n', n - pos);
        size_t end = nl != NULL ? (size_t)(nl - j) : n;
        const char *line = j + pos;
        size_t len = end - pos;
        pos = end + 1;
        /* The world journals every add that set both as "accessible+ac",
         * whatever it answered and on either keychain. */
        if (line_has(line, len, " call ") && line_has(line, len, " SecItemAdd ") &&
            line_has(line, len, " accessible+ac"))
            return VIOLATION("PC3",
                             "an add set both kSecAttrAccessible and kSecAttrAccessControl: %.*s",
                             (int)(len < 300 ? len : 300), line);
    }
    return 0;
}

static int check_em1(kcs_run *run) {
    for (size_t i = 0; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        if (e->kind != REF_EV_MAPPED)
            continue;
        const char *path = e->detail != NULL ? e->detail : "?";
        bool interaction =
            e->status == errSecInteractionNotAllowed || e->status == errSecInteractionRequired;
        if (interaction &&
            (e->code == REF_BRIDGE_KEYCHAIN_LOAD || e->code == REF_BRIDGE_KEYCHAIN_STORE))
            return VIOLATION("EM1", "%s of '%s': status %d (%s) surfaced as code %d (%s)", path,
                             label_of(e), (int)e->status, status_text(e->status), e->code,
                             ref_bridge_code_name(e->code));
        int expected = -1;
        if (strcmp(path, "keychain_load") == 0)
            expected = ref_errmap_load(e->status, e->gui, REF_MUTANTS_NONE);
        else if (strcmp(path, "keychain_store") == 0)
            expected = ref_errmap_store(e->status, e->gui, REF_MUTANTS_NONE);
        else if (strcmp(path, "se_sign") == 0)
            expected = ref_errmap_sign(e->status);
        else if (strcmp(path, "se_generate") == 0)
            expected = ref_errmap_generate(e->status);
        else if (strcmp(path, "keychain_delete") == 0) {
            if (e->code != REF_BRIDGE_OK && e->code != REF_BRIDGE_KEYCHAIN_DELETE)
                return VIOLATION("EM1",
                                 "keychain_delete of '%s' mapped status %d (%s) to code %d (%s), "
                                 "not 0 or 11",
                                 label_of(e), (int)e->status, status_text(e->status), e->code,
                                 ref_bridge_code_name(e->code));
            continue;
        }
        if (expected >= 0 && e->code != expected)
            return VIOLATION("EM1",
                             "%s of '%s' mapped status %d (%s) with GUI %s to code %d (%s); the "
                             "table gives %d (%s)",
                             path, label_of(e), (int)e->status, status_text(e->status),
                             e->gui ? "yes" : "no", e->code, ref_bridge_code_name(e->code),
                             expected, ref_bridge_code_name(expected));
    }
    return 0;
}

static int check_c1(kcs_run *run) {
    for (size_t p = 0; p < run->sc->nprocs; p++) {
        const char *mig = NULL, *plan = NULL;
        for (size_t i = 0; i < run->nevents; i++) {
            const kcs_event *e = &run->events[i];
            if (e->proc != (int)p)
                continue;
            switch (e->kind) {
            case REF_EV_MIGRATION_CHECK:
                /* A plan that writes nothing ends the migration at its
                 * check: later evictions belong to the rest of the op. */
                plan = e->detail;
                mig = plan != NULL && (strcmp(plan, "none") == 0 ||
                                       strcmp(plan, "skip-access-control") == 0)
                          ? NULL
                          : e->label;
                break;
            case REF_EV_MIGRATION_WRITE:
            case REF_EV_OP_END:
                mig = NULL;
                break;
            case REF_EV_CACHE_EVICT:
            case REF_EV_LA_EVICT:
                if (mig != NULL && same(mig, e->label))
                    return VIOLATION("C1",
                                     "the protection-class migration of '%s' (plan %s) evicted "
                                     "the %s",
                                     mig, plan != NULL ? plan : "?",
                                     e->kind == REF_EV_CACHE_EVICT ? "wrapping-key cache"
                                                                   : "LAContext");
                break;
            default:
                break;
            }
        }
    }
    return 0;
}

static int check_c2(kcs_run *run) {
    for (size_t i = 0; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        if (e->kind == REF_EV_STORE && (e->cache_present || e->la_present))
            return VIOLATION("C2", "process '%s' stored new key bytes for '%s' but kept its %s",
                             run->procs[e->proc].decl->name, label_of(e),
                             e->cache_present ? "cached wrapping key" : "LAContext");
    }
    return 0;
}

static int check_c3(kcs_run *run) {
    for (size_t i = 0; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        if (e->kind == REF_EV_CACHE_HIT && run->procs[e->proc].cfg.cache_ttl_ms == 0)
            return VIOLATION("C3", "process '%s' has cache-ttl 0 but served '%s' from the cache",
                             run->procs[e->proc].decl->name, label_of(e));
    }
    return 0;
}

static int check_c4(kcs_run *run) {
    int64_t now = world_now_ms(run->w);
    run->c4_processed = run->nevents;
    for (size_t i = 0; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        kcs_proc *p = &run->procs[e->proc];
        if (e->kind == KCS_EV_FORGET) {
            shadow_clear(p);
            continue;
        }
        switch (e->kind) {
        case REF_EV_CACHE_PUT:
            if (e->label != NULL && shadow_put(run, p, e->label, now + e->ttl_ms) != 0)
                return -1;
            break;
        case REF_EV_CACHE_EVICT:
        case REF_EV_CACHE_EXPIRE:
            if (e->label != NULL)
                shadow_remove(p, e->label);
            break;
        case REF_EV_CACHE_HIT: {
            const kcs_shadow_entry *s = e->label != NULL ? shadow_find(p, e->label) : NULL;
            if (s == NULL)
                return VIOLATION("C4",
                                 "process '%s' served '%s' from its cache, but never cached it "
                                 "(or evicted it since)",
                                 p->decl->name, label_of(e));
            if (now >= s->expires_ms)
                return VIOLATION("C4",
                                 "process '%s' served '%s' from its cache %" PRId64
                                 " ms after its TTL ran out",
                                 p->decl->name, label_of(e), now - s->expires_ms);
            /* The operation the process was running when it hit its cache
             * (recorded with the event; else the step's operation). */
            const char *ol = NULL, *ol2 = NULL;
            kcs_op_kind ok = KCS_OP_LOAD;
            if (e->op != NULL) {
                ol = e->op->u.op.label;
                ol2 = e->op->u.op.label2;
                ok = e->op->u.op.kind;
            } else if (run->op.ran && run->op.proc == e->proc) {
                ol = run->op.label;
                ok = run->op.kind;
                ol2 = run->step != NULL &&
                              (run->step->kind == KCS_ST_OP || run->step->kind == KCS_ST_SWEEP)
                          ? run->step->u.op.label2
                          : NULL;
            }
            if (ol != NULL && !same(ol, e->label) && !(ok == KCS_OP_RENAME && same(ol2, e->label)))
                return VIOLATION("C4", "process '%s' served '%s' from its cache during %s of '%s'",
                                 p->decl->name, label_of(e), kcs_op_name(ok), ol);
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

static bool excluded_from_eviction(ref_error err) {
    return err == REF_ERR_AUTH_DENIED || err == REF_ERR_INTERACTION_REQUIRED ||
           err == REF_ERR_NO_WINDOW_SERVER || err == REF_ERR_USER_CANCELLED;
}

static int l1_of(kcs_run *run, const kcs_op_ctx *op, size_t from, int line) {
    const kcs_event *prev = NULL;
    bool excluded = excluded_from_eviction(op->err);
    for (size_t i = from; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        if (e->proc != op->proc || e->kind == KCS_EV_MOVED_IN)
            continue;
        if (e->kind == REF_EV_LA_EVICT && excluded &&
            !(prev != NULL && prev->kind == REF_EV_CACHE_EVICT && same(prev->label, e->label)))
            return kcs_fail_invariant(
                run, line, "L1", "sign of '%s' ended with %s and evicted the LAContext of '%s'",
                op->label, ref_error_name(op->err), label_of(e));
        prev = e;
    }
    const kcs_proc *p = &run->procs[op->proc];
    if (!excluded && op->err != REF_OK && p->core != NULL &&
        ref_core_has_lacontext(p->core, op->label))
        return kcs_fail_invariant(run, line, "L1",
                                  "sign of '%s' failed with %s but kept its LAContext", op->label,
                                  ref_error_name(op->err));
    return 0;
}

static int check_l1(kcs_run *run) { return l1_of(run, &run->op, 0, run->step->line); }

static int l2_of(kcs_run *run, const kcs_op_ctx *op, size_t from, int line) {
    if (op->presence)
        return 0;
    for (size_t i = from; i < run->nevents; i++) {
        const kcs_event *e = &run->events[i];
        if (e->proc == op->proc && e->kind == REF_EV_LA_EVALUATE)
            return kcs_fail_invariant(run, line, "L2",
                                      "%s of '%s' evaluated a LAContext (a prompt), but neither "
                                      "its wrapping-key item nor its SE key needs presence",
                                      kcs_op_name(op->kind), op->label);
    }
    return 0;
}

static int check_l2(kcs_run *run) { return l2_of(run, &run->op, 0, run->step->line); }

/* The class-key clause of D2 judges failures a lost or destroyed class key
 * caused: the operation's last mapped status is the keychain's answer for an
 * unavailable class key (-25308, or its twin -25315), whatever code it was
 * mapped to. A failure with another cause while some class key happens to be
 * lost (an injected file error in a delete that needs no class key) is not
 * transient (fuzz finding, scenarios/found/d2-unrelated-failure-while-class-
 * key-lost.kcs). */
static bool class_key_failure(const kcs_op_ctx *op, const kcs_proc *p) {
    if (!op->class_key_lost || p == NULL || p->core == NULL)
        return false;
    bool has = false;
    int32_t st = ref_core_last_status(p->core, &has);
    return has && (st == errSecInteractionNotAllowed || st == errSecInteractionRequired);
}

static int check_d2(kcs_run *run) {
    const kcs_op_ctx *op = &run->op;
    if (op->crashed || op->err == REF_OK)
        return 0;
    bool transient = ref_errmap_is_transient(op->code);
    if (!transient && !class_key_failure(op, &run->procs[op->proc]))
        return 0;
    const char *why = transient ? ref_error_name(op->err) : "a lost class key";
    for (size_t i = 0; i < run->nbefore_items; i++) {
        const kcs_item_snap *s = &run->before_items[i];
        world_item_view v;
        if (!s->debris && !world_item_find(run->w, s->kc, s->service, s->account, s->group, &v))
            return VIOLATION("D2",
                             "%s of '%s' failed (%s, code %d) and deleted the item %s/%s on the "
                             "%s keychain",
                             kcs_op_name(op->kind), op->label, why, op->code,
                             s->service != NULL ? s->service : "", s->account ? s->account : "",
                             s->kc == WORLD_KEYCHAIN_DP ? "dp" : "file");
    }
    for (size_t i = 0; i < run->nbefore_files; i++) {
        if (run->before_files[i] != NULL && !run->before_files_debris[i] &&
            !world_file_exists(run->w, run->before_files[i]))
            return VIOLATION("D2", "%s of '%s' failed (%s, code %d) and deleted the file %s",
                             kcs_op_name(op->kind), op->label, why, op->code, run->before_files[i]);
    }
    return 0;
}

/* D2 inside a parallel block: what this operation's own successful calls
 * removed (and did not restore), whatever other processes did meanwhile. */
static int d2_par(kcs_run *run, const kcs_proc *p, int line) {
    const kcs_op_ctx *op = &p->par.op;
    if (op->crashed || op->err == REF_OK)
        return 0;
    bool transient = ref_errmap_is_transient(op->code);
    if (!transient && !class_key_failure(op, p))
        return 0;
    if (p->par.nremoved == 0)
        return 0;
    return kcs_fail_invariant(run, line, "D2", "%s of '%s' failed (%s, code %d) and deleted the %s",
                              kcs_op_name(op->kind), op->label,
                              transient ? ref_error_name(op->err) : "a lost class key", op->code,
                              p->par.removed[0]);
}

int kcs_inv_par_op_end(kcs_run *run, kcs_proc *p, const kcs_stmt *st) {
    if (run->oom)
        return -1;
    const kcs_op_ctx *op = &p->par.op;
    int line = st->line;
    int rc = 0;
    if (op->kind == KCS_OP_SIGN && !op->crashed) {
        run->result->invariant_checks++;
        rc = l1_of(run, op, p->par.events_from, line);
    }
    if (rc == 0) {
        run->result->invariant_checks++;
        rc = l2_of(run, op, p->par.events_from, line);
    }
    if (rc == 0) {
        run->result->invariant_checks++;
        rc = d2_par(run, p, line);
    }
    return run->oom ? -1 : rc;
}

/* ---- S1 ------------------------------------------------------------------------------------ */

/* What a text can hold, taken once per text: the byte values in it and its
 * longest run of hex digits. A secret whose bytes are not all there, or a
 * hex tail longer than every run, cannot be in it: most steps exclude every
 * secret without one search (S1 runs after every step). */
typedef struct {
    uint64_t byte_set[4];
    size_t hex_run;
} text_profile;

static bool is_hex_digit(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void profile_text(const char *text, size_t n, text_profile *out) {
    memset(out, 0, sizeof *out);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        out->byte_set[c >> 6] |= (uint64_t)1 << (c & 63);
        run = is_hex_digit(c) ? run + 1 : 0;
        if (run > out->hex_run)
            out->hex_run = run;
    }
}

static bool secret_in(const kcs_secret *s, const char *text, size_t n, const text_profile *prof) {
    bool raw_possible = true;
    for (size_t i = 0; i < 4; i++)
        if ((s->byte_set[i] & ~prof->byte_set[i]) != 0)
            raw_possible = false;
    if (raw_possible && contains_bytes(text, n, s->bytes, s->len))
        return true;
    return prof->hex_run >= 16 && (contains_bytes(text, n, s->tail_hex_lower, 16) ||
                                   contains_bytes(text, n, s->tail_hex_upper, 16));
}

static int add_secret(kcs_run *run, const unsigned char *bytes, size_t len) {
    if (len < 8 || len > KCS_SECRET_MAX)
        return 0;
    for (size_t i = 0; i < run->nsecrets; i++)
        if (run->secrets[i].len == len && memcmp(run->secrets[i].bytes, bytes, len) == 0)
            return 0;
    kcs_secret *g = kcs_grow(run->secrets, run->nsecrets, &run->secrets_cap, sizeof *g, 16);
    if (g == NULL)
        return run->oom = true, -1;
    run->secrets = g;
    kcs_secret *s = &run->secrets[run->nsecrets++];
    memset(s, 0, sizeof *s);
    memcpy(s->bytes, bytes, len);
    s->len = len;
    for (size_t i = 0; i < len; i++)
        s->byte_set[bytes[i] >> 6] |= (uint64_t)1 << (bytes[i] & 63);
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    for (size_t i = 0; i < 8; i++) {
        unsigned char b = bytes[len - 8 + i];
        s->tail_hex_lower[2 * i] = lo[b >> 4];
        s->tail_hex_lower[2 * i + 1] = lo[b & 15];
        s->tail_hex_upper[2 * i] = up[b >> 4];
        s->tail_hex_upper[2 * i + 1] = up[b & 15];
    }
    return 0;
}

static int harvest_secrets(kcs_run *run) {
    uint64_t version = world_store_version(run->w);
    size_t declared = declared_count(run);
    if (run->harvest_valid && run->harvest_version == version && run->harvest_declared == declared)
        return 0; /* nothing new to see */
    run->harvest_valid = false;
    size_t n = world_item_count(run->w);
    for (size_t i = 0; i < n; i++) {
        world_item_view v;
        if (world_item_at(run->w, i, &v) && v.data != NULL && v.data_len == 32 &&
            kcs_is_core_service(run, v.service) && add_secret(run, v.data, v.data_len) != 0)
            return -1;
    }
    size_t nf = world_file_count(run->w);
    for (size_t pi = 0; pi < run->sc->nprocs; pi++) {
        const kcs_proc *p = &run->procs[pi];
        if (!p->declared)
            continue;
        char dir[KCS_PATH_MAX];
        size_t dl = ref_config_key_dir(&p->cfg, dir, sizeof dir);
        if (dl == 0)
            continue;
        for (size_t i = 0; i < nf; i++) {
            const char *path = world_file_path_at(run->w, i);
            size_t pl = path != NULL ? strlen(path) : 0;
            if (pl <= dl + 7 || strncmp(path, dir, dl) != 0 ||
                strcmp(path + pl - 7, ".handle") != 0)
                continue;
            char label[KCS_PATH_MAX];
            size_t ll = pl - dl - 7;
            if (ll >= sizeof label)
                continue;
            memcpy(label, path + dl, ll);
            label[ll] = '\0';
            unsigned char blob[KCS_BLOB_MAX];
            size_t bl = 0;
            const char *why = NULL;
            int rc = 0;
            if (kcs_handle_blob(run, p, label, blob, sizeof blob, &bl, &why) == 0)
                rc = add_secret(run, blob, bl);
            memset(blob, 0, sizeof blob);
            if (rc != 0)
                return -1;
        }
    }
    run->harvest_valid = true;
    run->harvest_version = version;
    run->harvest_declared = declared;
    return 0;
}

static int check_s1(kcs_run *run) {
    size_t known = run->nsecrets;
    if (harvest_secrets(run) != 0)
        return -1;
    const char *j = world_journal(run->w);
    size_t n = world_journal_length(run->w);
    size_t from = run->journal_checked > KCS_SECRET_MAX ? run->journal_checked - KCS_SECRET_MAX : 0;
    text_profile recent = {{0}, 0}, whole = {{0}, 0};
    bool have_whole = false;
    if (from < n)
        profile_text(j + from, n - from, &recent);
    for (size_t i = 0; i < run->nsecrets; i++) {
        const kcs_secret *s = &run->secrets[i];
        size_t start = i < known ? from : 0;
        if (start == 0 && from != 0 && !have_whole) {
            profile_text(j, n, &whole); /* a new secret: the whole journal */
            have_whole = true;
        }
        const text_profile *prof = start == from ? &recent : &whole;
        if (start < n && secret_in(s, j + start, n - start, prof))
            return VIOLATION("S1", "a secret (%s, %zu bytes) appears in the journal",
                             s->len == 32 ? "a wrapping key" : "a handle plaintext", s->len);
    }
    run->journal_checked = n;
    for (size_t pi = 0; pi < run->sc->nprocs; pi++) {
        const kcs_proc *p = &run->procs[pi];
        if (p->core == NULL)
            continue;
        const char *texts[2] = {ref_core_last_message(p->core), ref_core_last_warning(p->core)};
        for (size_t t = 0; t < 2; t++) {
            size_t tl = strlen(texts[t]);
            text_profile prof;
            profile_text(texts[t], tl, &prof);
            for (size_t i = 0; i < run->nsecrets; i++)
                if (secret_in(&run->secrets[i], texts[t], tl, &prof))
                    return VIOLATION("S1", "a secret (%zu bytes) appears in the %s of process '%s'",
                                     run->secrets[i].len, t == 0 ? "last message" : "warning",
                                     p->decl->name);
        }
    }
    return 0;
}

/* ---- The step ----------------------------------------------------------------------------------
 */

typedef int (*rule_fn)(kcs_run *run);

int kcs_inv_step_end(kcs_run *run) {
    if (run->oom)
        return -1;
    bool plant = run->step->kind == KCS_ST_OP && run->step->u.op.kind == KCS_OP_PLANT;
    struct {
        rule_fn fn;
        bool applies;
    } rules[] = {
        {check_pc1, true},
        {check_pc2, !plant},
        {check_pc3, true},
        {check_em1, true},
        {check_c1, true},
        {check_c2, true},
        {check_c3, true},
        {check_c4, true},
        {check_l1, run->op.ran && !run->op.crashed && run->op.kind == KCS_OP_SIGN},
        {check_l2, run->op.ran},
        {check_d2, run->op.ran},
        {check_s1, true},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (!rules[i].applies)
            continue;
        run->result->invariant_checks++;
        int rc = rules[i].fn(run);
        if (rc != 0)
            return rc;
        if (run->oom)
            return -1;
    }
    return 0;
}

void kcs_inv_free(kcs_run *run) {
    events_clear(run);
    free(run->events);
    run->events = NULL;
    items_clear(run);
    free(run->before_items);
    run->before_items = NULL;
    files_clear(run);
    free(run->before_files);
    run->before_files = NULL;
    free(run->before_files_debris);
    run->before_files_debris = NULL;
    if (run->secrets != NULL)
        memset(run->secrets, 0, run->secrets_cap * sizeof *run->secrets);
    free(run->secrets);
    run->secrets = NULL;
    if (run->procs != NULL)
        for (size_t i = 0; i < run->sc->nprocs; i++) {
            shadow_clear(&run->procs[i]);
            free(run->procs[i].shadow);
            run->procs[i].shadow = NULL;
        }
}
