/* The one entry hook every Apple-shaped call passes through (fault plan, then
 * the call, then the journal), the fault plan itself, and the names of APIs
 * and statuses. */
#include "world_state.h"

#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const api_names[WORLD_API_COUNT] = {
    [WORLD_API_SEC_ITEM_ADD] = "SecItemAdd",
    [WORLD_API_SEC_ITEM_COPY_MATCHING] = "SecItemCopyMatching",
    [WORLD_API_SEC_ITEM_UPDATE] = "SecItemUpdate",
    [WORLD_API_SEC_ITEM_DELETE] = "SecItemDelete",
    [WORLD_API_SEC_ACCESS_CONTROL_CREATE] = "SecAccessControlCreateWithFlags",
    [WORLD_API_LA_EVALUATE_POLICY] = "LAEvaluatePolicy",
    [WORLD_API_SE_GENERATE] = "SEGenerate",
    [WORLD_API_SE_SIGN] = "SESign",
    [WORLD_API_SE_DELETE] = "SEDelete",
    [WORLD_API_SE_PUBLIC_KEY] = "SEPublicKey",
    [WORLD_API_SEC_KEYCHAIN] = "SecKeychain",
    [WORLD_API_FILE_WRITE] = "FileWrite",
    [WORLD_API_FILE_READ] = "FileRead",
    [WORLD_API_FILE_RENAME] = "FileRename",
    [WORLD_API_FILE_UNLINK] = "FileUnlink",
    [WORLD_API_FILE_LOCK] = "FileLock",
    [WORLD_API_FILE_UNLOCK] = "FileUnlock",
};

const char *world_api_name(world_api api) {
    return (unsigned)api < WORLD_API_COUNT ? api_names[api] : NULL;
}

int world_api_from_name(const char *name) {
    for (int i = 0; name != NULL && i < WORLD_API_COUNT; i++)
        if (strcmp(name, api_names[i]) == 0)
            return i;
    return -1;
}

uint64_t world_calls_made(const world *w, world_api api) {
    return (unsigned)api < WORLD_API_COUNT ? w->calls[api] : 0;
}

uint64_t world_calls_total(const world *w) {
    uint64_t total = 0;
    for (int i = 0; i < WORLD_API_COUNT; i++)
        total += w->calls[i];
    return total;
}

/* ---- Status names ----------------------------------------------------------------- */

typedef struct {
    const char *name;
    int32_t value;
} status_name;

static const status_name sec_statuses[] = {
    {"errSecSuccess", errSecSuccess},
    {"errSecUnimplemented", errSecUnimplemented},
    {"errSecParam", errSecParam},
    {"errSecAllocate", errSecAllocate},
    {"errSecUserCanceled", errSecUserCanceled},
    {"errSecNotAvailable", errSecNotAvailable},
    {"errSecAuthFailed", errSecAuthFailed},
    {"errSecDuplicateItem", errSecDuplicateItem},
    {"errSecItemNotFound", errSecItemNotFound},
    {"errSecNoSuchAttr", errSecNoSuchAttr},
    {"errSecNoDefaultKeychain", errSecNoDefaultKeychain},
    {"errSecInteractionNotAllowed", errSecInteractionNotAllowed},
    {"errSecInteractionRequired", errSecInteractionRequired},
    {"errSecDecode", errSecDecode},
    {"errSecMissingEntitlement", errSecMissingEntitlement},
};

static const status_name la_statuses[] = {
    {"LAErrorAuthenticationFailed", LAErrorAuthenticationFailed},
    {"LAErrorUserCancel", LAErrorUserCancel},
    {"LAErrorUserFallback", LAErrorUserFallback},
    {"LAErrorSystemCancel", LAErrorSystemCancel},
    {"LAErrorPasscodeNotSet", LAErrorPasscodeNotSet},
    {"LAErrorAppCancel", LAErrorAppCancel},
    {"LAErrorInvalidContext", LAErrorInvalidContext},
    {"LAErrorNotInteractive", LAErrorNotInteractive},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *lookup(const status_name *table, size_t n, int32_t value) {
    for (size_t i = 0; i < n; i++)
        if (table[i].value == value)
            return table[i].name;
    return NULL;
}

/* LAContext and SE calls report authentication failures as LAError codes,
 * which overlap OSStatus values (-4): the api decides how to read a code. */
const char *world_status_name(world_api api, int32_t status) {
    if (api >= WORLD_API_FILE_LOCK && api <= WORLD_API_FILE_UNLOCK && status != 0)
        return status == -EWOULDBLOCK ? "EWOULDBLOCK" : status == -ENOLCK ? "ENOLCK" : NULL;
    if (api >= WORLD_API_FILE_WRITE && api <= WORLD_API_FILE_UNLOCK)
        return status == 0 ? "ok" : NULL;
    if (api == WORLD_API_LA_EVALUATE_POLICY || api == WORLD_API_SE_SIGN) {
        const char *la = status != 0 ? lookup(la_statuses, COUNT(la_statuses), status) : NULL;
        if (la != NULL)
            return la;
    }
    return lookup(sec_statuses, COUNT(sec_statuses), status);
}

bool world_status_parse(const char *text, int32_t *out) {
    if (text == NULL || *text == '\0')
        return false;
    for (size_t i = 0; i < COUNT(sec_statuses); i++)
        if (strcmp(text, sec_statuses[i].name) == 0)
            return *out = sec_statuses[i].value, true;
    for (size_t i = 0; i < COUNT(la_statuses); i++)
        if (strcmp(text, la_statuses[i].name) == 0)
            return *out = la_statuses[i].value, true;
    /* A decimal int32 and nothing else: strtoll alone would also accept
     * leading blanks and a '+'. */
    if (*text != '-' && (*text < '0' || *text > '9'))
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

/* ---- Fault plan ----------------------------------------------------------------- */

void world_fault_add(world *w, const world_fault *f) {
    /* A process filter must name a declared process (or be -1, any): an
     * unknown pid would silently match nothing. */
    if (f == NULL || (unsigned)f->api >= WORLD_API_COUNT || f->proc < -1 ||
        (f->proc >= 0 && (size_t)f->proc >= w->nprocs))
        return;
    if (w->nfaults == w->faults_cap) {
        size_t cap = w->faults_cap ? w->faults_cap * 2 : 8;
        world_fault_entry *grown = realloc(w->faults, cap * sizeof *grown);
        if (grown == NULL)
            return;
        w->faults = grown;
        w->faults_cap = cap;
    }
    world_fault_entry *e = &w->faults[w->nfaults++];
    e->f = *f;
    e->f.nth = f->nth ? f->nth : 1;
    e->f.match = f->match ? strdup(f->match) : NULL;
    e->seen = e->fired = 0;
    char times[24];
    if (e->f.times == 0)
        snprintf(times, sizeof times, "always");
    else
        snprintf(times, sizeof times, "%u", e->f.times);
    world_journal_event(w, "fault %s %d nth=%u times=%s proc=%s match=%s", api_names[f->api],
                        (int)f->status, e->f.nth, times,
                        f->proc >= 0 ? w->procs[f->proc].cfg.name : "*",
                        e->f.match ? e->f.match : "*");
}

void world_fault_crash(world *w, world_pid proc, world_api api, unsigned nth) {
    if ((unsigned)api >= WORLD_API_COUNT || proc < 0 || (size_t)proc >= w->nprocs)
        return;
    if (w->ncrashes == w->crashes_cap) {
        size_t cap = w->crashes_cap ? w->crashes_cap * 2 : 4;
        world_crash_entry *grown = realloc(w->crashes, cap * sizeof *grown);
        if (grown == NULL)
            return;
        w->crashes = grown;
        w->crashes_cap = cap;
    }
    w->crashes[w->ncrashes++] = (world_crash_entry){proc, api, nth ? nth : 1, 0, false};
    world_journal_event(w, "fault crash %s after %s nth=%u", w->procs[proc].cfg.name,
                        api_names[api], nth ? nth : 1);
}

void world_fault_crash_after_calls(world *w, world_pid proc, unsigned nth) {
    if (proc < 0 || (size_t)proc >= w->nprocs)
        return;
    if (w->ncrashes == w->crashes_cap) {
        size_t cap = w->crashes_cap ? w->crashes_cap * 2 : 4;
        world_crash_entry *grown = realloc(w->crashes, cap * sizeof *grown);
        if (grown == NULL)
            return;
        w->crashes = grown;
        w->crashes_cap = cap;
    }
    w->crashes[w->ncrashes++] = (world_crash_entry){proc, WORLD_API_COUNT, nth ? nth : 1, 0, false};
    world_journal_event(w, "fault crash %s after any call nth=%u", w->procs[proc].cfg.name,
                        nth ? nth : 1);
}

void world_faults_free(world *w) {
    for (size_t i = 0; i < w->nfaults; i++)
        free((char *)w->faults[i].f.match);
    free(w->faults);
    free(w->crashes);
    w->faults = NULL;
    w->crashes = NULL;
    w->nfaults = w->ncrashes = 0;
}

/* ---- The hook -------------------------------------------------------------------- */

void world_call_begin(world *w, world_call *call, world_api api) {
    /* Field by field rather than a memset of the whole struct: this runs
     * once per Apple call. */
    call->api = api;
    call->pid = w->current;
    call->keychain = NULL;
    call->service[0] = '\0';
    call->account[0] = '\0';
    call->cls = -1;
    call->flags = 0;
    call->in_size = 0;
    call->path[0] = '\0';
    call->detail[0] = '\0';
    call->account2[0] = '\0';
    call->service2[0] = '\0';
    call->path2[0] = '\0';
    call->se_key = 0;
    call->returns_data = false;
    call->prefix = false;
    call->injected = false;
    call->injected_status = 0;
}

/* What match= globs are tested against. */
static void match_subject(const world_call *call, char *out, size_t size) {
    if (call->service[0] != '\0' || call->account[0] != '\0')
        snprintf(out, size, "%s/%s", call->service, call->account);
    else
        snprintf(out, size, "%s", call->path);
}

static bool crashed(const world *w, world_pid pid) {
    return pid >= 0 && (size_t)pid < w->nprocs && w->procs[pid].crashed;
}

/* Will a planned crash fire right after this call returns (world_call_end)? */
static bool crash_follows(const world *w, const world_call *call) {
    for (size_t i = 0; i < w->ncrashes; i++) {
        const world_crash_entry *c = &w->crashes[i];
        if (!c->done && c->proc == call->pid &&
            (c->api == WORLD_API_COUNT || c->api == call->api) && c->seen + 1 == c->nth)
            return true;
    }
    return false;
}

/* ---- The scheduler hook ----------------------------------------------------------- */

void world_set_scheduler(world *w, world_yield_fn yield, world_done_fn done, void *ctx) {
    w->sched_yield = yield;
    w->sched_done = yield != NULL || done != NULL ? done : NULL;
    w->sched_ctx = yield != NULL || done != NULL ? ctx : NULL;
}

size_t world_user_answers_pending(const world *w) { return w->answers_len; }

static void copy_text(char *dst, size_t cap, const char *src) {
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A planned fault for any process that still counts calls of `api`: the order
 * of two processes' calls decides which one it hits. A fault whose window
 * has passed can never fire again. */
static bool shared_fault(const world *w, world_api api) {
    for (size_t i = 0; i < w->nfaults; i++) {
        const world_fault_entry *e = &w->faults[i];
        if (e->f.api != api || e->f.proc >= 0)
            continue;
        if (e->f.times != 0 && e->seen >= (uint64_t)e->f.nth - 1 + e->f.times)
            continue;
        return true;
    }
    return false;
}

/* What a scheduler needs to know about a pending call: what it names, whether
 * it writes, whether it may prompt. Decided conservatively from the call's
 * arguments and the parts of the world a parallel block cannot change (GUI
 * sessions, device state) or can change only one way (the login keychain is
 * only ever unlocked inside a block). */
static void call_info(const world *w, const world_call *call, world_call_info *info) {
    info->api = call->api;
    info->pid = call->pid;
    copy_text(info->keychain, sizeof info->keychain, call->keychain);
    copy_text(info->service, sizeof info->service, call->service);
    copy_text(info->account, sizeof info->account, call->account);
    copy_text(info->service2, sizeof info->service2, call->service2);
    copy_text(info->account2, sizeof info->account2, call->account2);
    copy_text(info->path, sizeof info->path, call->path);
    copy_text(info->path2, sizeof info->path2, call->path2);
    info->se_key = call->se_key;
    info->flags = call->flags;
    info->prefix = call->prefix;
    info->status = 0;
    info->no_effect = crashed(w, call->pid);
    /* An injected status replaces the call, except an injected success of an
     * SE call or LAEvaluatePolicy, which run as usual (se_keys.c, la_context.c). */
    bool runs_on_success = call->api == WORLD_API_LA_EVALUATE_POLICY ||
                           call->api == WORLD_API_SE_GENERATE || call->api == WORLD_API_SE_SIGN ||
                           call->api == WORLD_API_SE_DELETE || call->api == WORLD_API_SE_PUBLIC_KEY;
    info->injected_no_effect = call->injected && !(call->injected_status == 0 && runs_on_success);
    info->shared_fault = shared_fault(w, call->api);
    /* The crash that follows this call releases the process's file locks: a
     * change to a lock the call does not name. Only this process's own calls
     * move its crash counters and its locks, so this stays true while the
     * call waits for its turn. */
    info->global = !info->no_effect && crash_follows(w, call) && world_locks_held_by(w, call->pid);

    bool prompt_ok = call->pid >= 0 && world_prompt_possible(w, call->pid);
    bool file_kc = call->keychain != NULL && strcmp(call->keychain, "file") == 0;
    bool login_locked = w->login_locked;
    bool writes = false, may_prompt = false;
    switch (call->api) {
    case WORLD_API_SEC_ITEM_ADD:
    case WORLD_API_SEC_ITEM_UPDATE:
    case WORLD_API_SEC_ITEM_DELETE:
        writes = true;
        may_prompt = prompt_ok && file_kc && login_locked; /* the unlock prompt */
        break;
    case WORLD_API_SEC_ITEM_COPY_MATCHING:
        /* DP: a data read of a presence item prompts. File-based: the unlock
         * prompt, and the "Always Allow / Deny" dialog, whose answer is
         * remembered on the item (a write). */
        may_prompt = prompt_ok && (call->returns_data || (file_kc && login_locked));
        writes = prompt_ok && file_kc && call->returns_data;
        break;
    case WORLD_API_LA_EVALUATE_POLICY:
        may_prompt = prompt_ok;
        break;
    case WORLD_API_SE_SIGN:
        may_prompt = prompt_ok && (call->flags & WORLD_AC_PRESENCE_MASK) != 0;
        break;
    case WORLD_API_SE_GENERATE:
    case WORLD_API_SE_DELETE:
    case WORLD_API_FILE_WRITE:
    case WORLD_API_FILE_RENAME:
    case WORLD_API_FILE_UNLINK:
    case WORLD_API_FILE_LOCK:
    case WORLD_API_FILE_UNLOCK:
        writes = true;
        break;
    case WORLD_API_SEC_KEYCHAIN:
        file_kc = true;
        may_prompt = prompt_ok && login_locked && strcmp(call->detail, "Unlock") == 0;
        break;
    default:
        break;
    }
    info->writes = writes;
    info->may_prompt = may_prompt;
    info->login_read = file_kc;
    info->login_write = file_kc && login_locked && may_prompt;
}

static bool same_or_any(const char *a, const char *b) {
    return a[0] == '\0' || b[0] == '\0' || strcmp(a, b) == 0;
}

static bool is_item_api(world_api api) {
    return api == WORLD_API_SEC_ITEM_ADD || api == WORLD_API_SEC_ITEM_COPY_MATCHING ||
           api == WORLD_API_SEC_ITEM_UPDATE || api == WORLD_API_SEC_ITEM_DELETE;
}

static bool is_file_api(world_api api) {
    return api >= WORLD_API_FILE_WRITE && api <= WORLD_API_FILE_UNLINK;
}

static bool items_overlap(const world_call_info *a, const world_call_info *b) {
    if (!same_or_any(a->keychain, b->keychain))
        return false;
    /* An update names two primary keys: the one it matches, the one it makes. */
    const char *asvc[2] = {a->service, a->service2[0] ? a->service2 : a->service};
    const char *aacct[2] = {a->account, a->account2[0] ? a->account2 : a->account};
    const char *bsvc[2] = {b->service, b->service2[0] ? b->service2 : b->service};
    const char *bacct[2] = {b->account, b->account2[0] ? b->account2 : b->account};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (same_or_any(asvc[i], bsvc[j]) && same_or_any(aacct[i], bacct[j]))
                return true;
    return false;
}

static bool path_hits(const world_call_info *a, const char *path) {
    if (path[0] == '\0')
        return false;
    if (a->prefix)
        return strncmp(path, a->path, strlen(a->path)) == 0;
    return strcmp(a->path, path) == 0 || (a->path2[0] != '\0' && strcmp(a->path2, path) == 0);
}

static bool files_overlap(const world_call_info *a, const world_call_info *b) {
    if (a->prefix && b->prefix)
        return true;
    if (b->prefix)
        return files_overlap(b, a);
    return path_hits(a, b->path) || path_hits(a, b->path2);
}

static bool is_lock_api(world_api api) {
    return api == WORLD_API_FILE_LOCK || api == WORLD_API_FILE_UNLOCK;
}

static bool se_api(world_api api) {
    return api == WORLD_API_SE_GENERATE || api == WORLD_API_SE_SIGN ||
           api == WORLD_API_SE_PUBLIC_KEY || api == WORLD_API_SE_DELETE;
}

static bool names_overlap(const world_call_info *a, const world_call_info *b) {
    if (is_item_api(a->api) && is_item_api(b->api))
        return items_overlap(a, b);
    if (is_file_api(a->api) && is_file_api(b->api))
        return files_overlap(a, b);
    /* Locks are a store of their own: only lock calls on one path meet. */
    if (is_lock_api(a->api) && is_lock_api(b->api))
        return strcmp(a->path, b->path) == 0;
    if (se_api(a->api) && se_api(b->api)) {
        /* Generating allocates the next key id (and draws from the seeded
         * generator): two generates do not commute. */
        if (a->api == WORLD_API_SE_GENERATE || b->api == WORLD_API_SE_GENERATE)
            return a->api == b->api;
        return a->se_key != 0 && a->se_key == b->se_key;
    }
    return false; /* different stores, or calls that name nothing */
}

bool world_calls_commute(const world_call_info *a, const world_call_info *b, bool answers_queued) {
    if (a->pid == b->pid || a->global || b->global)
        return false;
    if (a->no_effect || b->no_effect)
        return true;
    if (answers_queued && a->may_prompt && b->may_prompt)
        return false;
    if (a->shared_fault && b->shared_fault && a->api == b->api)
        return false;
    if ((a->login_write && (b->login_read || b->login_write)) ||
        (b->login_write && (a->login_read || a->login_write)))
        return false;
    if (!a->writes && !b->writes)
        return true;
    return !names_overlap(a, b);
}

bool world_call_faulted(world *w, world_call *call, int32_t *status) {
    if (w->sched_yield != NULL) {
        world_call_info info;
        call_info(w, call, &info);
        if (!w->sched_yield(w->sched_ctx, &info)) {
            /* Abandoned by the scheduler: no effect, like a crashed process. */
            *status = errSecNotAvailable;
            return true;
        }
    }
    if (crashed(w, call->pid)) {
        /* A crashed process is gone: nothing it "does" has an effect. */
        *status = errSecNotAvailable;
        return true;
    }
    if (w->nfaults == 0)
        return false;
    char subject[sizeof call->service + sizeof call->account + sizeof call->path + 2];
    subject[0] = '\0';
    bool have_subject = false;
    bool faulted = false;
    for (size_t i = 0; i < w->nfaults; i++) {
        world_fault_entry *e = &w->faults[i];
        if (e->f.api != call->api || (e->f.proc >= 0 && e->f.proc != call->pid))
            continue;
        if (e->f.match != NULL && !have_subject) {
            match_subject(call, subject, sizeof subject);
            have_subject = true;
        }
        if (e->f.match != NULL && fnmatch(e->f.match, subject, 0) != 0)
            continue;
        /* Every matching fault counts the call, whichever fires. A fault's
         * window is fixed by its own count: matching calls nth .. nth+times-1
         * (times 0: from nth on). When two windows claim one call the fault
         * planned first decides it; the other's window still passes, so its
         * failures stay consecutive. */
        e->seen++;
        bool in_window =
            e->seen >= e->f.nth && (e->f.times == 0 || e->seen - e->f.nth < (uint64_t)e->f.times);
        if (!faulted && in_window) {
            e->fired++;
            *status = e->f.status;
            faulted = true;
            call->injected = true;
            call->injected_status = e->f.status;
            snprintf(call->detail + strlen(call->detail),
                     sizeof call->detail - strlen(call->detail), "%sinjected",
                     call->detail[0] ? " " : "");
        }
    }
    return faulted;
}

enum { LINE_MAX_BYTES = 600, BODY_MAX_BYTES = 512 };

/* Writes one call line at `at` (room for LINE_MAX_BYTES + 1) and commits it. */
static void journal_call_line(world *w, char *at, const world_call *call, const char *proc,
                              int32_t status) {
    jbuf line = jbuf_of(at, LINE_MAX_BYTES);
    jput_n(&line, "#", 1);
    jput_u64(&line, w->step);
    jput_n(&line, " t=", 3);
    jput_i64(&line, w->now_ms);
    jput_n(&line, " call ", 6);
    size_t room = LINE_MAX_BYTES - line.len;
    jbuf b = jbuf_of(at + line.len, room < BODY_MAX_BYTES ? room : BODY_MAX_BYTES);
    jput(&b, proc);
    jput(&b, " ");
    jput(&b, api_names[call->api]);
    if (call->keychain) {
        jput(&b, " kc=");
        jput(&b, call->keychain);
    }
    if (call->service[0]) {
        jput(&b, " svc=");
        jput(&b, call->service);
    }
    if (call->account[0]) {
        jput(&b, " acct=");
        jput(&b, call->account);
    }
    if (call->path[0]) {
        jput(&b, " path=");
        jput(&b, call->path);
    }
    if (call->cls >= 0) {
        jput(&b, " class=");
        jput(&b, world_class_name((world_class)call->cls));
    }
    if (call->flags) {
        jput(&b, " flags=0x");
        jput_hex(&b, call->flags);
    }
    if (call->in_size) {
        jput(&b, " size=");
        jput_u64(&b, call->in_size);
    }
    if (call->detail[0]) {
        jput(&b, " ");
        jput(&b, call->detail);
    }
    const char *name = world_status_name(call->api, status);
    jput(&b, " -> ");
    jput_i64(&b, status);
    if (name != NULL) {
        jput(&b, " ");
        jput(&b, name);
    }
    line.len += b.len;
    jput_n(&line, "\n", 1);
    world_journal_commit(w, line.len);
}

static void sched_done(world *w, const world_call *call, int32_t status, bool no_effect) {
    world_call_info info;
    call_info(w, call, &info);
    info.status = status;
    info.no_effect = no_effect; /* as it ran, not after a crash it armed */
    w->sched_done(w->sched_ctx, &info);
}

int32_t world_call_end(world *w, world_call *call, int32_t status) {
    const char *proc =
        call->pid >= 0 && (size_t)call->pid < w->nprocs ? w->procs[call->pid].cfg.name : "-";
    if (crashed(w, call->pid) && status == errSecNotAvailable) {
        world_journal_call(w, "%s %s (crashed: no effect)", proc, api_names[call->api]);
        if (w->sched_done != NULL)
            sched_done(w, call, status, true);
        return status;
    }
    w->calls[call->api]++;

    /* Written by hand straight into the journal: this runs once per Apple
     * call (the hot path of every benchmark). The bytes are exactly those of
     * world_journal_call(w, "%s %s%s -> %d%s%s", proc, api, args, status, " ",
     * name) with args = " kc=%s svc=%s acct=%s path=%s class=%s flags=0x%x
     * size=%zu %s", including vline's truncation: the body at 511 bytes, the
     * line at 599 (then without its newline). */
    w->step++;
    char *at = world_journal_reserve(w, LINE_MAX_BYTES);
    if (at != NULL) /* else the line is lost: the journal is a diagnostic */
        journal_call_line(w, at, call, proc, status);

    for (size_t i = 0; i < w->ncrashes; i++) {
        world_crash_entry *c = &w->crashes[i];
        if (c->done || c->proc != call->pid || (c->api != WORLD_API_COUNT && c->api != call->api))
            continue;
        if (++c->seen == c->nth) {
            c->done = true;
            w->procs[call->pid].crashed = true;
            world_journal_event(w, "crash %s after %s", proc, api_names[call->api]);
            /* A dead process holds no lock (the kernel releases flock locks). */
            world_locks_release_all(w, call->pid, "crashed");
        }
    }
    if (w->sched_done != NULL)
        sched_done(w, call, status, false);
    return status;
}
