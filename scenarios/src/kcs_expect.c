/* The expectations of scenario-language.md, checked on the world directly
 * (inspection API and the cores' observation functions): no prompt, no
 * counted call, no journal entry.
 *
 * Decisions:
 *  - `expect files <label> present` means all three files (.handle, .pub,
 *    .meta); `absent` means none of them. Anything in between fails and the
 *    message lists which exist.
 *  - `expect item` finds the item as the core's load order does (the DP
 *    keychain with the process's access group first, then the file-based
 *    keychain); `accessible=` compares the stored class (for an item with an
 *    access control, the access control's protection class).
 *  - `expect sekey` follows the label's handle to its SE key (decrypting a
 *    wrapped handle with the keychain's stored bytes); a deleted key fails.
 *  - `expect cache|lacontext` of a crashed, not yet restarted process: its
 *    memory is gone, so both are absent. Its `last-error`/`warning` are "".
 *  - `contains` is a case-sensitive substring test; "" always holds.
 */
#include "kcs_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *yesno(bool b) { return b ? "yes" : "no"; }

static const char *kc_name(world_keychain kc) { return kc == WORLD_KEYCHAIN_DP ? "dp" : "file"; }

static bool has_presence(bool has_ac, uint32_t flags) {
    return has_ac && (flags & WORLD_AC_PRESENCE_MASK) != 0;
}

static int expect_count(kcs_run *run, const kcs_stmt *st) {
    uint64_t actual = 0;
    char detail[256] = "";
    if (st->kind == KCS_ST_EXPECT_PROMPTS) {
        actual = world_prompts_total(run->w) - run->mark_prompts;
        size_t o = 0;
        for (int k = 0; k < WORLD_PROMPT_KIND_COUNT && o < sizeof detail; k++) {
            uint64_t n =
                world_prompts_shown(run->w, (world_prompt_kind)k) - run->mark_prompt_kinds[k];
            if (n == 0)
                continue;
            int w = snprintf(detail + o, sizeof detail - o, "%s%s %" PRIu64, o ? ", " : " (",
                             world_prompt_kind_name((world_prompt_kind)k), n);
            if (w > 0)
                o += (size_t)w;
        }
        if (o > 0 && o + 1 < sizeof detail)
            memcpy(detail + o, ")", 2);
    } else {
        actual = world_calls_made(run->w, st->u.count.api) - run->mark_calls[st->u.count.api];
    }
    if (kcs_cmp_holds(st->u.count.cmp, actual, st->u.count.n))
        return 0;
    return kcs_fail(run, st->line, "%s: got %" PRIu64 " since %s%s", st->text, actual,
                    run->marked ? "mark" : "the start", detail);
}

static int expect_item(kcs_run *run, const kcs_stmt *st) {
    const kcs_proc *p = &run->procs[st->u.item.proc];
    const char *label = st->u.item.label;
    if (!p->declared)
        return kcs_fail(run, st->line, "%s: process '%s' has not been declared yet", st->text,
                        p->decl->name);
    world_item_view v;
    bool found = kcs_find_item(run, p, label, &v);
    if (!st->u.item.exists) {
        if (!found)
            return 0;
        return kcs_fail(run, st->line, "%s: an item %s/%s exists on the %s keychain (class %s)",
                        st->text, p->service, label, kc_name(v.keychain),
                        world_class_name(v.accessible));
    }
    if (!found)
        return kcs_fail(run, st->line, "%s: no item %s/%s in %s", st->text, p->service, label,
                        p->cfg.access_group != NULL
                            ? "the DP keychain (its access group) nor the file-based keychain"
                            : "the file-based keychain");
    bool pres = has_presence(v.has_access_control, v.ac_flags);
    bool ok = (st->u.item.keychain < 0 || (int)v.keychain == st->u.item.keychain) &&
              (st->u.item.accessible < 0 || (int)v.accessible == st->u.item.accessible) &&
              (st->u.item.presence == KCS_UNSET || pres == (st->u.item.presence == 1));
    if (ok)
        return 0;
    return kcs_fail(run, st->line, "%s: the item is on the %s keychain, class %s, presence %s",
                    st->text, kc_name(v.keychain), world_class_name(v.accessible), yesno(pres));
}

static int expect_sekey(kcs_run *run, const kcs_stmt *st) {
    const kcs_proc *p = &run->procs[st->u.sekey.proc];
    if (!p->declared)
        return kcs_fail(run, st->line, "%s: process '%s' has not been declared yet", st->text,
                        p->decl->name);
    world_se_key_view k;
    const char *why = "";
    if (kcs_se_key_of(run, p, st->u.sekey.label, &k, &why) != 0)
        return kcs_fail(run, st->line, "%s: %s", st->text, why);
    bool pres = has_presence(k.has_access_control, k.ac_flags);
    if (k.accessible == st->u.sekey.accessible &&
        (st->u.sekey.presence == KCS_UNSET || pres == (st->u.sekey.presence == 1)))
        return 0;
    return kcs_fail(run, st->line, "%s: the SE key has class %s%s, presence %s", st->text,
                    world_class_name(k.accessible),
                    k.has_access_control ? "" : " (CryptoKit default, no access control)",
                    yesno(pres));
}

static int expect_memory(kcs_run *run, const kcs_stmt *st) {
    const kcs_proc *p = &run->procs[st->u.memory.proc];
    bool cache = st->kind == KCS_ST_EXPECT_CACHE;
    bool present = false;
    if (p->core != NULL)
        present = cache ? ref_core_has_cached_key(p->core, st->u.memory.label)
                        : ref_core_has_lacontext(p->core, st->u.memory.label);
    if (present == st->u.memory.present)
        return 0;
    return kcs_fail(run, st->line, "%s: the %s is %s%s", st->text,
                    cache ? "wrapping-key cache entry" : "LAContext",
                    present ? "present" : "absent",
                    p->core == NULL && p->declared ? " (the process crashed: memory gone)" : "");
}

static int expect_contains(kcs_run *run, const kcs_stmt *st) {
    const kcs_proc *p = &run->procs[st->u.contains.proc];
    bool err = st->kind == KCS_ST_EXPECT_LAST_ERROR;
    const char *text = "";
    if (p->core != NULL)
        text = err ? ref_core_last_message(p->core) : ref_core_last_warning(p->core);
    if (strstr(text, st->u.contains.text) != NULL)
        return 0;
    return kcs_fail(run, st->line, "%s: the %s of '%s' is \"%s\"", st->text,
                    err ? "last error" : "warning", p->decl->name, text);
}

static int expect_usable(kcs_run *run, const kcs_stmt *st) {
    const kcs_proc *p = &run->procs[st->u.key.proc];
    if (!p->declared)
        return kcs_fail(run, st->line, "%s: process '%s' has not been declared yet", st->text,
                        p->decl->name);
    world_se_key_view k;
    const char *why = "";
    if (kcs_se_key_of(run, p, st->u.key.label, &k, &why) == 0)
        return 0;
    return kcs_fail(run, st->line, "%s: key '%s' is not usable: %s", st->text, st->u.key.label,
                    why);
}

static int expect_files(kcs_run *run, const kcs_stmt *st) {
    const kcs_proc *p = &run->procs[st->u.key.proc];
    if (!p->declared)
        return kcs_fail(run, st->line, "%s: process '%s' has not been declared yet", st->text,
                        p->decl->name);
    static const char *const exts[] = {".handle", ".pub", ".meta"};
    char path[KCS_PATH_MAX];
    char have[64] = "";
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        if (kcs_key_path(p, st->u.key.label, exts[i], path, sizeof path) &&
            world_file_exists(run->w, path)) {
            n++;
            strncat(have, exts[i], sizeof have - strlen(have) - 1);
            strncat(have, " ", sizeof have - strlen(have) - 1);
        }
    }
    if ((st->u.key.present && n == 3) || (!st->u.key.present && n == 0))
        return 0;
    return kcs_fail(run, st->line, "%s: %s", st->text,
                    n == 0   ? "no key file exists"
                    : n == 3 ? "all three key files exist"
                             : have);
}

int kcs_expect(kcs_run *run, const kcs_stmt *st) {
    switch (st->kind) {
    case KCS_ST_MARK:
        run->marked = true;
        run->mark_prompts = world_prompts_total(run->w);
        for (int k = 0; k < WORLD_PROMPT_KIND_COUNT; k++)
            run->mark_prompt_kinds[k] = world_prompts_shown(run->w, (world_prompt_kind)k);
        for (int a = 0; a < WORLD_API_COUNT; a++)
            run->mark_calls[a] = world_calls_made(run->w, (world_api)a);
        return 0;
    case KCS_ST_EXPECT_PROMPTS:
    case KCS_ST_EXPECT_CALLS:
        return expect_count(run, st);
    case KCS_ST_EXPECT_ITEM:
        return expect_item(run, st);
    case KCS_ST_EXPECT_SEKEY:
        return expect_sekey(run, st);
    case KCS_ST_EXPECT_CACHE:
    case KCS_ST_EXPECT_LACONTEXT:
        return expect_memory(run, st);
    case KCS_ST_EXPECT_LAST_ERROR:
    case KCS_ST_EXPECT_WARNING:
        return expect_contains(run, st);
    case KCS_ST_EXPECT_USABLE:
        return expect_usable(run, st);
    case KCS_ST_EXPECT_FILES:
        return expect_files(run, st);
    default:
        return kcs_fail(run, st->line, "internal error: statement kind %d is not an expectation",
                        (int)st->kind);
    }
}
