/* Processes and their identities, the user and the prompts shown to them. */
#include "world_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s) { return s != NULL ? strdup(s) : NULL; }

static void new_code_hash(world *w, world_process *p) {
    unsigned char raw[8];
    world_random_bytes(w, raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(p->code_hash + 2 * i, 3, "%02x", raw[i]);
}

/* A signed binary is known by its signing identity, which survives rebuilds;
 * an unsigned (or ad-hoc signed) one only by the hash of its code. */
static void refresh_identity(world_process *p) {
    if (p->cfg.is_signed)
        snprintf(p->identity, sizeof p->identity, "Developer ID Application: %s", p->cfg.app);
    else
        snprintf(p->identity, sizeof p->identity, "cdhash:%s", p->code_hash);
}

world_pid world_process_add(world *w, const world_process_config *cfg) {
    if (cfg == NULL || cfg->name == NULL || world_process_find(w, cfg->name) >= 0)
        return -1;
    if (w->nprocs == w->procs_cap) {
        size_t cap = w->procs_cap ? w->procs_cap * 2 : 4;
        world_process *grown = realloc(w->procs, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        w->procs = grown;
        w->procs_cap = cap;
    }
    world_process *p = &w->procs[w->nprocs];
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    p->cfg.name = dup_or_null(cfg->name);
    p->cfg.app = dup_or_null(cfg->app != NULL ? cfg->app : "sshenc");
    p->cfg.access_group = dup_or_null(cfg->access_group);
    new_code_hash(w, p);
    refresh_identity(p);
    world_journal_event(w, "process %s app=%s signed=%s group=%s gui=%s home-override=%s",
                        p->cfg.name, p->cfg.app, p->cfg.is_signed ? "yes" : "no",
                        p->cfg.access_group ? p->cfg.access_group : "none",
                        p->cfg.gui ? "yes" : "no", p->cfg.home_override ? "yes" : "no");
    return (world_pid)w->nprocs++;
}

world_pid world_process_find(const world *w, const char *name) {
    for (size_t i = 0; name != NULL && i < w->nprocs; i++)
        if (strcmp(w->procs[i].cfg.name, name) == 0)
            return (world_pid)i;
    return -1;
}

size_t world_process_count(const world *w) { return w->nprocs; }

static const world_process *proc_at(const world *w, world_pid pid) {
    return pid >= 0 && (size_t)pid < w->nprocs ? &w->procs[pid] : NULL;
}

const world_process_config *world_process_config_of(const world *w, world_pid pid) {
    const world_process *p = proc_at(w, pid);
    return p ? &p->cfg : NULL;
}

const char *world_process_identity(const world *w, world_pid pid) {
    const world_process *p = proc_at(w, pid);
    return p ? p->identity : NULL;
}

void world_process_reset(world *w, world_pid pid) {
    world_process *p = (world_process *)proc_at(w, pid);
    if (p == NULL)
        return;
    p->crashed = false;
    p->generation++;
    /* The old process is gone, and the kernel with it releases its locks. */
    world_locks_release_all(w, pid, "restarted");
}

void world_process_restart(world *w, world_pid pid) {
    if (proc_at(w, pid) == NULL)
        return;
    world_journal_event(w, "process %s restart", w->procs[pid].cfg.name);
    world_process_reset(w, pid);
}

void world_process_rebuild(world *w, world_pid pid) {
    world_process *p = (world_process *)proc_at(w, pid);
    if (p == NULL)
        return;
    new_code_hash(w, p);
    refresh_identity(p);
    world_journal_event(w, "process %s rebuild", p->cfg.name);
    world_process_reset(w, pid);
}

uint64_t world_process_generation(const world *w, world_pid pid) {
    const world_process *p = proc_at(w, pid);
    return p ? p->generation : 0;
}

void world_set_current(world *w, world_pid pid) { w->current = proc_at(w, pid) ? pid : -1; }

world_pid world_current(const world *w) { return w->current; }

bool world_process_crashed(const world *w, world_pid pid) {
    const world_process *p = proc_at(w, pid);
    return p != NULL && p->crashed;
}

bool world_proc_has_gui(const world *w, world_pid pid) {
    const world_process *p = proc_at(w, pid);
    return p != NULL && p->cfg.gui;
}

/* Only a signed binary carries entitlements; `group=` names its one
 * keychain-access-groups entry. */
bool world_proc_entitled(const world *w, world_pid pid, const char *group) {
    const world_process *p = proc_at(w, pid);
    if (p == NULL || !p->cfg.is_signed || p->cfg.access_group == NULL)
        return false;
    return group == NULL || strcmp(group, p->cfg.access_group) == 0;
}

const char *world_proc_default_group(const world *w, world_pid pid) {
    return world_proc_entitled(w, pid, NULL) ? w->procs[pid].cfg.access_group : NULL;
}

bool world_proc_default_keychain_reachable(const world *w, world_pid pid) {
    const world_process *p = proc_at(w, pid);
    return p != NULL && !p->cfg.home_override;
}

/* ---- User and prompts ---------------------------------------------------------- */

static const char *const answer_names[] = {
    [WORLD_ANSWER_APPROVE] = "approve",
    [WORLD_ANSWER_CANCEL] = "cancel",
    [WORLD_ANSWER_FAIL] = "fail",
    [WORLD_ANSWER_ABSENT] = "absent",
};

const char *world_answer_name(world_answer a) {
    return (unsigned)a <= WORLD_ANSWER_ABSENT ? answer_names[a] : "?";
}

int world_answer_from_name(const char *name) {
    for (int i = 0; name != NULL && i <= WORLD_ANSWER_ABSENT; i++)
        if (strcmp(name, answer_names[i]) == 0)
            return i;
    return -1;
}

void world_user_queue(world *w, world_answer a, unsigned times) {
    if ((unsigned)a > WORLD_ANSWER_ABSENT)
        return;
    for (unsigned i = 0; i < times; i++) {
        if (w->answers_len == w->answers_cap) {
            size_t cap = w->answers_cap ? w->answers_cap * 2 : 8;
            world_answer *grown = malloc(cap * sizeof *grown);
            if (grown == NULL)
                return;
            for (size_t k = 0; k < w->answers_len; k++)
                grown[k] = w->answers[(w->answers_head + k) % w->answers_cap];
            free(w->answers);
            w->answers = grown;
            w->answers_cap = cap;
            w->answers_head = 0;
        }
        w->answers[(w->answers_head + w->answers_len) % w->answers_cap] = a;
        w->answers_len++;
    }
    world_journal_event(w, "user %s x%u", answer_names[a], times);
}

void world_user_set_default(world *w, world_answer a) {
    if ((unsigned)a > WORLD_ANSWER_ABSENT)
        return;
    w->default_answer = a;
    world_journal_event(w, "user default %s", answer_names[a]);
}

static const char *const prompt_kind_names[WORLD_PROMPT_KIND_COUNT] = {
    [WORLD_PROMPT_LA_EVALUATE] = "la-evaluate",
    [WORLD_PROMPT_KEYCHAIN_PRESENCE] = "keychain-presence",
    [WORLD_PROMPT_SE_PRESENCE] = "se-presence",
    [WORLD_PROMPT_FILE_ALWAYS_ALLOW] = "file-always-allow",
    [WORLD_PROMPT_FILE_UNLOCK] = "file-unlock",
};

const char *world_prompt_kind_name(world_prompt_kind k) {
    return (unsigned)k < WORLD_PROMPT_KIND_COUNT ? prompt_kind_names[k] : "?";
}

uint64_t world_prompts_shown(const world *w, world_prompt_kind k) {
    return (unsigned)k < WORLD_PROMPT_KIND_COUNT ? w->prompts[k] : 0;
}

uint64_t world_prompts_total(const world *w) {
    uint64_t total = 0;
    for (int i = 0; i < WORLD_PROMPT_KIND_COUNT; i++)
        total += w->prompts[i];
    return total;
}

bool world_prompt_possible(const world *w, world_pid pid) {
    return world_proc_has_gui(w, pid) && w->device == WORLD_DEVICE_UNLOCKED && !w->asleep;
}

world_answer world_prompt_show(world *w, world_prompt_kind kind, const char *about) {
    world_answer a = w->default_answer;
    if (w->answers_len > 0) {
        a = w->answers[w->answers_head];
        w->answers_head = (w->answers_head + 1) % w->answers_cap;
        w->answers_len--;
    }
    w->prompts[kind]++;
    const world_process *p = proc_at(w, w->current);
    world_journal_event(w, "prompt %s proc=%s about=%s -> %s", prompt_kind_names[kind],
                        p ? p->cfg.name : "-", about ? about : "-", answer_names[a]);
    return a;
}
