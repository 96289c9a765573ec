/* Shared fixture and helpers of the reference core's CMocka tests against
 * the simulated world (ref/tests/test_core.c, test_cov_core.c). Header-only:
 * every test file is its own binary, so each one gets its own `F`.
 *
 * The fixture: a fresh booted, unlocked world per test (each file picks its
 * seed); teardown frees it and fails the test on a leaked CF object or a CF
 * misuse. Processes are of the app sshenc; cores default to the DP keychain
 * of access group GROUP, signed, without presence.
 */
#ifndef KEYCLASS_CORE_TEST_SUPPORT_H
#define KEYCLASS_CORE_TEST_SUPPORT_H

/* CMocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <CoreFoundation/CoreFoundation.h>
#include <keyclass/cf_accounting.h>
#include <keyclass/world.h>

#include "../../mocks/tests/cf_test_support.h"
#include "ref/core.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define GROUP "TEAM.com.example.sshenc"

typedef struct {
    world *w;
    world_pid agent;
} fx;

static fx F;

/* A new world (seed), activated, booted and unlocked. */
static inline world *core_world(uint64_t seed) {
    world *w = world_new(seed);
    assert_non_null(w);
    world_activate(w);
    assert_int_equal(world_device_boot(w), 0);
    assert_int_equal(world_device_unlock(w), 0);
    return w;
}

/* Replaces the fixture's world by a new one (seed), for a test that runs
 * several cases each on a world of its own. */
static inline void fresh_world(uint64_t seed) {
    world_free(F.w);
    F.w = core_world(seed);
}

static inline int core_fx_setup(void **state, uint64_t seed) {
    memset(&F, 0, sizeof F);
    cf_test_setup(state);
    F.w = core_world(seed);
    *state = &F;
    return 0;
}

static inline int core_fx_teardown(void **state) {
    (void)state;
    world_free(F.w);
    world_activate(NULL);
    cf_assert_no_leaks_or_misuse();
    return 0;
}

/* ---- Processes and cores --------------------------------------------------------- */

/* Adds a process of the app sshenc and makes it the current one;
 * home_override: its HOME is not the user's (no default keychain). */
static inline world_pid add_process(const char *name, bool is_signed, const char *group, bool gui,
                                    bool home_override) {
    world_process_config pc = {.name = name,
                               .app = "sshenc",
                               .is_signed = is_signed,
                               .access_group = group,
                               .gui = gui,
                               .home_override = home_override};
    world_pid pid = world_process_add(F.w, &pc);
    assert_true(pid >= 0);
    world_set_current(F.w, pid);
    return pid;
}

static inline world_pid proc(const char *name, bool is_signed, const char *group, bool gui) {
    return add_process(name, is_signed, group, gui, false);
}

/* A core for the current process: signed, DP keychain, no presence. */
static inline ref_config cfg_default(void) {
    ref_config c;
    ref_config_init(&c);
    c.access_group = GROUP;
    c.wrap_presence = false;
    return c;
}

static inline ref_core *core_with(const ref_config *c) {
    ref_core *core = ref_core_new(c);
    assert_non_null(core);
    return core;
}

/* Adds the process "agent" (signed, GROUP, GUI session) and a core for it. */
static inline ref_core *agent_core_with(const ref_config *c) {
    F.agent = proc("agent", true, GROUP, true);
    return core_with(c);
}

/* The same with the default configuration: the clean core. */
static inline ref_core *agent_core(void) {
    ref_config c = cfg_default();
    return agent_core_with(&c);
}

/* ---- Faults ---------------------------------------------------------------------- */

/* The nth call of `api` from now on whose path matches `match` (NULL: any)
 * answers `status`, `times` times in a row (0: every time from then on). */
static inline void fault_match(world_api api, int32_t status, unsigned nth, unsigned times,
                               const char *match) {
    world_fault f = {
        .api = api, .status = status, .nth = nth, .times = times, .proc = -1, .match = match};
    world_fault_add(F.w, &f);
}

static inline void fault(world_api api, int32_t status, unsigned nth, unsigned times) {
    fault_match(api, status, nth, times, NULL);
}

/* ---- What the world holds --------------------------------------------------------- */

static inline void key_path(const ref_core *core, const char *label, const char *ext, char *path,
                            size_t cap) {
    assert_true(ref_config_key_path(ref_core_config(core), label, ext, path, cap) > 0);
}

static inline bool file_of(const ref_core *core, const char *label, const char *ext) {
    char path[512];
    key_path(core, label, ext, path, sizeof path);
    return world_file_exists(F.w, path);
}

/* How many SE keys exist and are not deleted. */
static inline size_t live_se_keys(void) {
    size_t n = 0;
    for (size_t i = 0; i < world_se_key_count(F.w); i++) {
        world_se_key_view v;
        assert_true(world_se_key_at(F.w, i, &v));
        if (!v.deleted)
            n++;
    }
    return n;
}

#endif
