/* The device/keybag state diagram (see kcs/statediagram.h).
 *
 * The world has no copy operation, so each state keeps the shortest event
 * path that reached it; trying an event replays that path on a fresh world
 * (seed 1), then the event. Paths are short (the diagram has under a dozen
 * states), so this costs a few hundred world events. Events the world refuses
 * in a state are not edges; events that change nothing observable (reboot
 * before the first unlock, the clock while unlocked) are left out. */
#include "kcs/statediagram.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STATES 32
#define MAX_PATH 16

typedef enum { EV_BOOT, EV_UNLOCK, EV_LOCK, EV_SLEEP, EV_WAKE, EV_REBOOT, EV_GRACE, EV_N } event;

static const char *const event_names[EV_N] = {"boot", "unlock", "lock", "sleep",
                                              "wake", "reboot", NULL};

static int apply(world *w, event e) {
    switch (e) {
    case EV_BOOT:
        return world_device_boot(w);
    case EV_UNLOCK:
        return world_device_unlock(w);
    case EV_LOCK:
        return world_device_lock(w);
    case EV_SLEEP:
        return world_device_sleep(w);
    case EV_WAKE:
        return world_device_wake(w);
    case EV_REBOOT:
        return world_device_reboot(w);
    case EV_GRACE:
    default:
        world_advance(w, world_knob_value(w, WORLD_KNOB_LOCK_GRACE_MS));
        return 0;
    }
}

static void observe(const world *w, kcs_sd_state *s) {
    memset(s, 0, sizeof *s);
    s->device = world_device_state_now(w);
    s->asleep = world_device_asleep(w);
    s->login_locked = world_login_keychain_locked(w);
    for (int c = 0; c < WORLD_CLASS_COUNT; c++)
        s->available[c] = world_class_key_available(w, (world_class)c);
}

static bool same_state(const kcs_sd_state *a, const kcs_sd_state *b) {
    return a->device == b->device && a->asleep == b->asleep && a->login_locked == b->login_locked &&
           memcmp(a->available, b->available, sizeof a->available) == 0;
}

static void name_state(kcs_sd_state *s) {
    bool grace = s->device == WORLD_DEVICE_LOCKED && s->available[WORLD_CLASS_WHEN_UNLOCKED];
    snprintf(s->name, sizeof s->name, "%s%s%s", world_device_state_name(s->device),
             s->asleep ? ", asleep" : "", grace ? ", in grace" : "");
}

/* Replays path then e on a fresh world; 0 with *out observed, -1 when the
 * world refused e (or could not be made). */
static int try_event(const event *path, size_t len, event e, kcs_sd_state *out) {
    world *w = world_new(1);
    if (w == NULL)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++)
        rc = apply(w, path[i]);
    if (rc == 0)
        rc = apply(w, e);
    if (rc == 0)
        observe(w, out);
    world_free(w);
    return rc == 0 ? 0 : -1;
}

int kcs_state_diagram_build(kcs_state_diagram *d) {
    memset(d, 0, sizeof *d);
    d->states = calloc(MAX_STATES, sizeof *d->states);
    d->edges = calloc(MAX_STATES * EV_N, sizeof *d->edges);
    event(*paths)[MAX_PATH] = calloc(MAX_STATES, sizeof *paths);
    size_t *plen = calloc(MAX_STATES, sizeof *plen);
    world *w0 = world_new(1);
    if (d->states == NULL || d->edges == NULL || paths == NULL || plen == NULL || w0 == NULL) {
        world_free(w0);
        free(paths);
        free(plen);
        kcs_state_diagram_free(d);
        return -1;
    }
    snprintf(d->grace_event, sizeof d->grace_event, "clock +%llds",
             (long long)(world_knob_value(w0, WORLD_KNOB_LOCK_GRACE_MS) / 1000));
    observe(w0, &d->states[0]);
    world_free(w0);
    name_state(&d->states[0]);
    d->nstates = 1;
    for (size_t i = 0; i < d->nstates; i++) {
        for (int e = 0; e < EV_N; e++) {
            kcs_sd_state next;
            if (plen[i] >= MAX_PATH || try_event(paths[i], plen[i], (event)e, &next) != 0)
                continue;
            size_t to = 0;
            while (to < d->nstates && !same_state(&d->states[to], &next))
                to++;
            if (to == d->nstates) {
                if (d->nstates == MAX_STATES)
                    continue;
                name_state(&next);
                d->states[to] = next;
                memcpy(paths[to], paths[i], plen[i] * sizeof paths[i][0]);
                paths[to][plen[i]] = (event)e;
                plen[to] = plen[i] + 1;
                d->nstates++;
            }
            if (to == i)
                continue;
            kcs_sd_edge *edge = &d->edges[d->nedges++];
            edge->from = i;
            edge->to = to;
            edge->event = e == EV_GRACE ? d->grace_event : event_names[e];
        }
    }
    /* Two states with one name (they differ in something the name does not
     * say): number them so that names stay unique. */
    for (size_t i = 0; i < d->nstates; i++)
        for (size_t j = i + 1, k = 2; j < d->nstates; j++)
            if (strcmp(d->states[i].name, d->states[j].name) == 0) {
                size_t len = strlen(d->states[j].name);
                snprintf(d->states[j].name + len, sizeof d->states[j].name - len, " #%zu", k++);
            }
    free(paths);
    free(plen);
    return 0;
}

void kcs_state_diagram_free(kcs_state_diagram *d) {
    free(d->states);
    free(d->edges);
    memset(d, 0, sizeof *d);
}

static const char *const class_short[WORLD_CLASS_COUNT] = {"WhenUnlocked",
                                                           "WhenUnlockedThisDeviceOnly",
                                                           "AfterFirstUnlock",
                                                           "AfterFirstUnlockThisDeviceOnly",
                                                           "WhenPasscodeSetThisDeviceOnly",
                                                           "Always",
                                                           "AlwaysThisDeviceOnly"};

void kcs_sd_classes(const kcs_sd_state *s, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (int c = 0; c < WORLD_CLASS_COUNT; c++) {
        if (!s->available[c])
            continue;
        /* A pair (X, XThisDeviceOnly) that agrees is written once as "X*". */
        bool pair = c == WORLD_CLASS_WHEN_UNLOCKED || c == WORLD_CLASS_AFTER_FIRST_UNLOCK ||
                    c == WORLD_CLASS_ALWAYS;
        bool paired_tail = c == WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY ||
                           c == WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY ||
                           c == WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY;
        if (paired_tail && s->available[c - 1])
            continue;
        bool both = pair && s->available[c + 1];
        int w =
            snprintf(buf + n, cap - n, "%s%s%s", n ? ", " : "", class_short[c], both ? "*" : "");
        if (w < 0 || (size_t)w >= cap - n)
            return;
        n += (size_t)w;
    }
    if (n == 0)
        snprintf(buf, cap, "none");
}

/* A DOT label line per available class key group. */
static void dot_classes(FILE *out, const kcs_sd_state *s) {
    char classes[256];
    kcs_sd_classes(s, classes, sizeof classes);
    for (const char *p = classes; *p; p++) {
        if (p[0] == ',' && p[1] == ' ') {
            fputs("\\n", out);
            p++;
        } else {
            fputc(*p, out);
        }
    }
}

void kcs_state_diagram_dot(FILE *out, const kcs_state_diagram *d) {
    fputs("digraph device_keybag {\n"
          "  rankdir=TB;\n"
          "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6fa\", "
          "fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9];\n",
          out);
    for (size_t i = 0; i < d->nstates; i++) {
        fprintf(out, "  s%zu [label=\"%s\\n\\nclass keys:\\n", i, d->states[i].name);
        dot_classes(out, &d->states[i]);
        fprintf(out, "\\nlogin keychain: %s\"];\n",
                d->states[i].login_locked ? "locked" : "unlocked");
    }
    /* reboot leads back from every booted state: drawn light so that the
     * lock/sleep/wake cycle stays readable. */
    for (size_t i = 0; i < d->nedges; i++)
        fprintf(out, "  s%zu -> s%zu [label=\"%s\"%s];\n", d->edges[i].from, d->edges[i].to,
                d->edges[i].event,
                strcmp(d->edges[i].event, "reboot") == 0
                    ? ", style=dashed, color=\"#9aa0b0\", fontcolor=\"#9aa0b0\""
                    : "");
    fputs("}\n", out);
}
