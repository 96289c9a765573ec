/* The one entry hook every Apple-shaped call passes through (fault plan, then
 * the call, then the journal), the fault plan itself, and the names of APIs
 * and statuses. */
#include "world_state.h"

#include <Security/Security.h>
#include <LocalAuthentication/LocalAuthentication.h>
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
    if (api >= WORLD_API_FILE_WRITE && api <= WORLD_API_FILE_UNLINK)
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
    /* The scheduler of parallel blocks yields here (a later layer). */
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

bool world_call_faulted(world *w, world_call *call, int32_t *status) {
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

int32_t world_call_end(world *w, world_call *call, int32_t status) {
    const char *proc = call->pid >= 0 && (size_t)call->pid < w->nprocs
                           ? w->procs[call->pid].cfg.name
                           : "-";
    if (crashed(w, call->pid) && status == errSecNotAvailable) {
        world_journal_call(w, "%s %s (crashed: no effect)", proc, api_names[call->api]);
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
        if (c->done || c->proc != call->pid || c->api != call->api)
            continue;
        if (++c->seen == c->nth) {
            c->done = true;
            w->procs[call->pid].crashed = true;
            world_journal_event(w, "crash %s after %s", proc, api_names[call->api]);
        }
    }
    return status;
}
