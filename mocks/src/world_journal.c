/* The journal: one line per Apple API call or world event, in order. It holds
 * no secret bytes and nothing that varies between runs of the same seed. */
#include "world_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "#<step> t=<ms> <kind> " then the body, formatted straight into the
 * journal (one pass: the journal is written at every call). */
static void vline(world *w, const char *kind, const char *fmt, va_list ap) {
    char head[96];
    int hn = snprintf(head, sizeof head, "#%llu t=%lld %s ", (unsigned long long)++w->step,
                      (long long)w->now_ms, kind);
    if (hn < 0 || (size_t)hn >= sizeof head)
        return;
    enum { BODY_MAX = 511 }; /* a longer body is cut, as before */
    char *at = world_journal_reserve(w, (size_t)hn + BODY_MAX + 1);
    if (at == NULL)
        return; /* the journal is a diagnostic: losing a line beats crashing */
    memcpy(at, head, (size_t)hn);
    int bn = vsnprintf(at + hn, BODY_MAX + 1, fmt, ap);
    if (bn < 0)
        return;
    size_t len = (size_t)hn + ((size_t)bn < BODY_MAX ? (size_t)bn : BODY_MAX);
    at[len] = '\n';
    world_journal_commit(w, len + 1);
}

void world_journal_event(world *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vline(w, "event", fmt, ap);
    va_end(ap);
}

void world_journal_note(world *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vline(w, "note", fmt, ap);
    va_end(ap);
}

void world_journal_call(world *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vline(w, "call", fmt, ap);
    va_end(ap);
}

char *world_journal_reserve(world *w, size_t len) {
    if (w->journal_len + len + 1 > w->journal_cap) {
        size_t cap = w->journal_cap ? w->journal_cap : 4096;
        while (cap < w->journal_len + len + 1)
            cap *= 2;
        char *grown = realloc(w->journal, cap);
        if (grown == NULL)
            return NULL;
        w->journal = grown;
        w->journal_cap = cap;
    }
    return w->journal + w->journal_len;
}

void world_journal_commit(world *w, size_t len) {
    w->journal_len += len;
    w->journal[w->journal_len] = '\0';
}

const char *world_journal(const world *w) { return w->journal ? w->journal : ""; }
size_t world_journal_length(const world *w) { return w->journal_len; }
uint64_t world_step(const world *w) { return w->step; }
