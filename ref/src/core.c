/* The core instance: configuration, results and messages, events, counters. */
#include "core_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ref_config_init(ref_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->app = "sshenc";
    cfg->vendor = REF_DEFAULT_VENDOR;
    cfg->is_signed = true;
    cfg->access_group = NULL;
    cfg->wrap_presence = true;
    cfg->cache_ttl_ms = 300000;
    cfg->key_dir = NULL;
    cfg->mutants = REF_MUTANTS_NONE;
}

static size_t put(char *buf, size_t cap, int n) {
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

size_t ref_config_service(const ref_config *cfg, char *buf, size_t cap) {
    if (cfg == NULL || cfg->app == NULL || cap == 0)
        return 0;
    const char *vendor = cfg->vendor != NULL ? cfg->vendor : REF_DEFAULT_VENDOR;
    return put(
        buf, cap,
        snprintf(buf, cap, "com.%s.%s%s", vendor, cfg->app, cfg->is_signed ? "" : "-unsigned"));
}

size_t ref_config_key_dir(const ref_config *cfg, char *buf, size_t cap) {
    if (cfg == NULL || cap == 0)
        return 0;
    if (cfg->key_dir != NULL)
        return put(buf, cap, snprintf(buf, cap, "%s", cfg->key_dir));
    if (cfg->app == NULL)
        return 0;
    return put(buf, cap,
               snprintf(buf, cap, "~/.%s%s/keys/", cfg->app, cfg->is_signed ? "" : "-unsigned"));
}

size_t ref_config_key_path(const ref_config *cfg, const char *label, const char *ext, char *buf,
                           size_t cap) {
    char dir[CORE_DIR_MAX];
    if (label == NULL || ext == NULL || ref_config_key_dir(cfg, dir, sizeof dir) == 0)
        return 0;
    return put(buf, cap, snprintf(buf, cap, "%s%s%s", dir, label, ext));
}

static bool copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

ref_core *ref_core_new(const ref_config *cfg) {
    if (cfg == NULL || cfg->app == NULL || cfg->app[0] == '\0' || cfg->cache_ttl_ms < 0 ||
        cfg->cache_ttl_ms > REF_TTL_MAX_MS)
        return NULL;
    ref_core *core = calloc(1, sizeof *core);
    if (core == NULL)
        return NULL;
    core->cfg = *cfg;
    const char *vendor = cfg->vendor != NULL ? cfg->vendor : REF_DEFAULT_VENDOR;
    bool ok = copy_str(core->app, sizeof core->app, cfg->app) &&
              copy_str(core->vendor, sizeof core->vendor, vendor) &&
              (cfg->access_group == NULL ||
               copy_str(core->group, sizeof core->group, cfg->access_group)) &&
              ref_config_service(cfg, core->service, sizeof core->service) > 0 &&
              ref_config_key_dir(cfg, core->key_dir, sizeof core->key_dir) > 0;
    if (!ok) {
        free(core);
        return NULL;
    }
    core->cfg.app = core->app;
    core->cfg.vendor = core->vendor;
    core->cfg.access_group = cfg->access_group != NULL ? core->group : NULL;
    core->cfg.key_dir = core->key_dir;
    core->last_error = REF_OK;
    core->last_code = REF_BRIDGE_NONE;
    if (!cache_init(core)) {
        free(core);
        return NULL;
    }
    return core;
}

void ref_core_free(ref_core *core) {
    if (core == NULL)
        return;
    cache_free(core);
    la_free_all(core);
    free(core->la);
    free(core->stats);
    free(core);
}

const ref_config *ref_core_config(const ref_core *core) { return &core->cfg; }
const char *ref_core_service(const ref_core *core) { return core->service; }

bool core_mut(const ref_core *core, ref_mutant m) { return ref_mutant_in(core->cfg.mutants, m); }

/* ---- Events and counters ---------------------------------------------------------- */

void core_emit_event(ref_core *core, const ref_event *ev) {
    if (core->cfg.observer != NULL)
        core->cfg.observer(core->cfg.observer_ctx, ev);
}

void core_emit(ref_core *core, ref_event_kind kind, const char *label, const char *detail,
               int32_t status, int code) {
    if (core->cfg.observer == NULL)
        return;
    ref_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.label = label;
    ev.detail = detail;
    ev.status = status;
    ev.code = code;
    core_emit_event(core, &ev);
}

ref_stats *core_stats_for(ref_core *core, const char *label) {
    if (label == NULL || strlen(label) > REF_LABEL_MAX)
        return NULL;
    for (size_t i = 0; i < core->stats_len; i++)
        if (strcmp(core->stats[i].label, label) == 0)
            return &core->stats[i].stats;
    if (core->stats_len == core->stats_cap) {
        size_t cap = core->stats_cap == 0 ? 8 : core->stats_cap * 2;
        label_stats *grown = realloc(core->stats, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        core->stats = grown;
        core->stats_cap = cap;
    }
    label_stats *ls = &core->stats[core->stats_len++];
    memset(ls, 0, sizeof *ls);
    memcpy(ls->label, label, strlen(label) + 1);
    return &ls->stats;
}

void ref_core_stats(const ref_core *core, const char *label, ref_stats *out) {
    memset(out, 0, sizeof *out);
    if (label == NULL) {
        *out = core->totals;
        return;
    }
    for (size_t i = 0; i < core->stats_len; i++)
        if (strcmp(core->stats[i].label, label) == 0)
            *out = core->stats[i].stats;
}

/* ---- Results and messages ----------------------------------------------------------- */

void core_op_begin(ref_core *core, const char *op, const char *label) {
    core->op = op;
    core->op_label = label;
    core->op_code = REF_BRIDGE_NONE;
    core->op_status = 0;
    core->op_has_status = false;
    core->op_detail[0] = '\0';
    core->op_warning[0] = '\0';
    core_emit(core, REF_EV_OP_BEGIN, label, op, 0, 0);
}

static void vdetail(ref_core *core, const char *fmt, va_list ap) {
    if (fmt == NULL) {
        core->op_detail[0] = '\0';
        return;
    }
    int n = vsnprintf(core->op_detail, sizeof core->op_detail, fmt, ap);
    if (n < 0)
        core->op_detail[0] = '\0';
}

ref_error core_fail_code(ref_core *core, int code, const char *fmt, ...) {
    core->op_code = code;
    va_list ap;
    va_start(ap, fmt);
    vdetail(core, fmt, ap);
    va_end(ap);
    return ref_errmap_error(code);
}

ref_error core_fail(ref_core *core, ref_error err, const char *fmt, ...) {
    core->op_code = REF_BRIDGE_NONE;
    va_list ap;
    va_start(ap, fmt);
    vdetail(core, fmt, ap);
    va_end(ap);
    return err;
}

void core_note_status(ref_core *core, int32_t status) {
    core->op_status = status;
    core->op_has_status = true;
}

void core_warn(ref_core *core, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(core->op_warning, sizeof core->op_warning, fmt, ap);
    va_end(ap);
    if (n < 0)
        core->op_warning[0] = '\0';
    core_emit(core, REF_EV_WARNING, core->op_label, core->op_warning, 0, 0);
}

ref_error core_op_end(ref_core *core, ref_error err) {
    core->last_error = err;
    core->last_status = core->op_status;
    core->has_status = core->op_has_status;
    if (err == REF_OK) {
        core->last_code = REF_BRIDGE_OK;
        memcpy(core->warning, core->op_warning, sizeof core->warning);
    } else {
        core->last_code = core->op_code;
        char detail[CORE_DETAIL_MAX + 96];
        const char *code_name = ref_bridge_code_name(core->op_code);
        if (code_name != NULL && core->op_detail[0] != '\0')
            snprintf(detail, sizeof detail, "%s; bridge code %d %s", core->op_detail, core->op_code,
                     code_name);
        else if (code_name != NULL)
            snprintf(detail, sizeof detail, "bridge code %d %s", core->op_code, code_name);
        else
            snprintf(detail, sizeof detail, "%s", core->op_detail);
        ref_policy_message(err, core->op, core->op_label, detail, core->message,
                           sizeof core->message);
    }
    ref_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = REF_EV_OP_END;
    ev.label = core->op_label;
    ev.detail = core->op;
    ev.status = core->op_status;
    ev.code = core->last_code;
    ev.error = err;
    core_emit_event(core, &ev);
    core->op = NULL;
    core->op_label = NULL;
    return err;
}

ref_error ref_core_last_error(const ref_core *core) { return core->last_error; }
int ref_core_last_bridge_code(const ref_core *core) { return core->last_code; }

int32_t ref_core_last_status(const ref_core *core, bool *has_status) {
    if (has_status != NULL)
        *has_status = core->has_status;
    return core->last_status;
}

const char *ref_core_last_message(const ref_core *core) { return core->message; }
const char *ref_core_last_warning(const ref_core *core) { return core->warning; }

bool ref_core_has_cached_key(const ref_core *core, const char *label) {
    return cache_peek(core, label);
}

bool ref_core_has_lacontext(const ref_core *core, const char *label) {
    return la_present(core, label);
}
