/* Shared fixtures and helpers of the shim's CMocka tests that run against a
 * world (mocks/tests/test_sec_*.c, test_cov_shim.c, test_cov_world.c,
 * test_world_*.c, test_cg_session.c, test_la_context.c, test_se_keys.c).
 * Header-only: every test file is its own binary.
 *
 * Three fixtures, each a world plus the CF accounting around it:
 * - fx (FX_TEST), the Security tests': a booted, unlocked world (seed 1)
 *   with one signed GUI process "agent" (app sshenc, access group
 *   TEAM.com.example) as the current process. Teardown frees the world and
 *   fails the test if a CF object leaked or a CF misuse was reported.
 * - session_fx (SESSION_TEST), the other shims' tests (CoreGraphics,
 *   LocalAuthentication, the Secure Enclave): a booted, unlocked world
 *   (seed 1) with two signed sshenc processes, "agent" in the GUI session
 *   (current) and "daemon" outside it. The snapshot is taken once the world
 *   stands; every test ends with assert_no_cf_leak(f).
 * - world_fx (world_fx_setup), the world's own tests: a fresh world per test,
 *   activated but not booted, with the snapshot taken before it. Teardown
 *   frees the world and fails the test on a CF leak or misuse.
 */
#ifndef KEYCLASS_TEST_SEC_HELPERS_H
#define KEYCLASS_TEST_SEC_HELPERS_H

/* CMocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <CoreFoundation/CoreFoundation.h>
#include <LocalAuthentication/LocalAuthentication.h>
#include <Security/Security.h>
#include <keyclass/cf_accounting.h>
#include <keyclass/world.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP "TEAM.com.example"
#define SVC "com.example.sshenc"

/* ---- CF accounting ---------------------------------------------------------------- */

/* Misuse is captured silently; tests assert on kc_cf_misuse_count(). */
static inline void quiet_misuse(const char *message, void *context) {
    (void)message;
    (void)context;
}

/* Fails the running test if a CF object leaked since `snap` or a CF misuse was
 * reported. */
static inline void assert_cf_clean_since(const kc_cf_snapshot_t *snap) {
    char report[256];
    CFIndex leaked = kc_cf_leaks_since(snap, report, sizeof report);
    if (leaked != 0)
        fail_msg("%s", report);
    if (kc_cf_misuse_count() != 0)
        fail_msg("CF misuse: %s", kc_cf_last_misuse());
}

/* The same check for a teardown: prints what went wrong and returns -1, or
 * returns 0. */
static inline int cf_clean_since(const kc_cf_snapshot_t *snap) {
    char report[256];
    if (kc_cf_leaks_since(snap, report, sizeof report) != 0) {
        print_error("%s\n", report);
        return -1;
    }
    if (kc_cf_misuse_count() != 0) {
        print_error("%s\n", kc_cf_last_misuse());
        return -1;
    }
    return 0;
}

/* ---- Worlds and processes ------------------------------------------------------------ */

/* A new world (seed), activated, booted and unlocked. */
static inline world *booted_world(uint64_t seed) {
    world *w = world_new(seed);
    assert_non_null(w);
    world_activate(w);
    assert_int_equal(world_device_boot(w), 0);
    assert_int_equal(world_device_unlock(w), 0);
    return w;
}

static inline world_pid add_proc(world *w, const char *name, const char *app, bool is_signed,
                                 const char *group, bool gui, bool home_override) {
    world_process_config cfg = {.name = name,
                                .app = app,
                                .is_signed = is_signed,
                                .access_group = group,
                                .gui = gui,
                                .home_override = home_override};
    world_pid pid = world_process_add(w, &cfg);
    assert_true(pid >= 0);
    return pid;
}

/* ---- The Security tests' fixture ------------------------------------------------------ */

typedef struct {
    world *w;
    world_pid agent;
    kc_cf_snapshot_t snap;
} fx;

static inline int fx_setup(void **state) {
    static fx f;
    memset(&f, 0, sizeof f);
    kc_cf_reset_misuse();
    kc_cf_snapshot(&f.snap);
    f.w = booted_world(1);
    f.agent = add_proc(f.w, "agent", "sshenc", true, GROUP, true, false);
    world_set_current(f.w, f.agent);
    *state = &f;
    return 0;
}

static inline int fx_teardown(void **state) {
    fx *f = *state;
    world_free(f->w);
    assert_cf_clean_since(&f->snap);
    return 0;
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

/* ---- The other shims' fixture: a GUI agent and a daemon ------------------------------- */

typedef struct {
    world *w;
    world_pid agent;  /* GUI session */
    world_pid daemon; /* launchd agent outside the GUI session */
    kc_cf_snapshot_t cf;
} session_fx;

/* A booted, unlocked world (seed) with the signed sshenc processes "agent" (GUI
 * session, current) and "daemon" (no GUI session); either pid may be NULL. */
static inline world *session_world(uint64_t seed, world_pid *agent, world_pid *daemon) {
    world *w = booted_world(seed);
    world_pid a = world_process_add(
        w,
        &(world_process_config){.name = "agent", .app = "sshenc", .is_signed = true, .gui = true});
    world_pid d = world_process_add(
        w, &(world_process_config){
               .name = "daemon", .app = "sshenc", .is_signed = true, .gui = false});
    world_set_current(w, a);
    if (agent != NULL)
        *agent = a;
    if (daemon != NULL)
        *daemon = d;
    return w;
}

static inline int session_setup(void **state) {
    session_fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->w = session_world(1, &f->agent, &f->daemon);
    kc_cf_reset_misuse();
    kc_cf_snapshot(&f->cf);
    *state = f;
    return 0;
}

static inline int session_teardown(void **state) {
    session_fx *f = *state;
    world_free(f->w);
    free(f);
    return 0;
}

/* The closing assertion of every session test. */
static inline void assert_no_cf_leak(session_fx *f) { assert_cf_clean_since(&f->cf); }

#define SESSION_TEST(fn) cmocka_unit_test_setup_teardown(fn, session_setup, session_teardown)

/* ---- The world tests' fixture: a fresh world, not booted ------------------------------ */

typedef struct {
    world *w;
    world_pid p0, p1; /* the processes a test file's setup adds, if any */
    kc_cf_snapshot_t cf;
} world_fx;

/* Takes the CF snapshot, then makes a new world (seed) and activates it. */
static inline int world_fx_setup(void **state, uint64_t seed) {
    static world_fx f;
    memset(&f, 0, sizeof f);
    kc_cf_reset_misuse();
    kc_cf_snapshot(&f.cf);
    f.w = world_new(seed);
    if (f.w == NULL)
        return -1;
    world_activate(f.w);
    *state = &f;
    return 0;
}

static inline int world_fx_teardown(void **state) {
    world_fx *f = *state;
    world_free(f->w);
    return cf_clean_since(&f->cf);
}

/* ---- Dictionaries ---------------------------------------------------------------- */

static inline CFMutableDictionaryRef dict_new(void) {
    CFMutableDictionaryRef d = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    assert_non_null(d);
    return d;
}

static inline void set_str(CFMutableDictionaryRef d, CFStringRef key, const char *text) {
    CFStringRef s = CFStringCreateWithCString(NULL, text, kCFStringEncodingUTF8);
    assert_non_null(s);
    CFDictionarySetValue(d, key, s);
    CFRelease(s);
}

static inline void set_data(CFMutableDictionaryRef d, CFStringRef key, const char *bytes) {
    CFDataRef data = CFDataCreate(NULL, (const UInt8 *)bytes, (CFIndex)strlen(bytes));
    assert_non_null(data);
    CFDictionarySetValue(d, key, data);
    CFRelease(data);
}

/* A genp query for (service, account) on the DP or the file-based keychain. */
static inline CFMutableDictionaryRef gp(bool dp, const char *service, const char *account) {
    CFMutableDictionaryRef d = dict_new();
    CFDictionarySetValue(d, kSecClass, kSecClassGenericPassword);
    if (service != NULL)
        set_str(d, kSecAttrService, service);
    if (account != NULL)
        set_str(d, kSecAttrAccount, account);
    if (dp)
        CFDictionarySetValue(d, kSecUseDataProtectionKeychain, kCFBooleanTrue);
    return d;
}

/* A view to seed with world_item_plant: service SVC, WhenUnlocked, one byte
 * of data; the DP keychain gets GROUP. */
static inline world_item_view plant_view(world_keychain kc, const char *account, const char *data) {
    world_item_view v;
    memset(&v, 0, sizeof v);
    v.keychain = kc;
    v.service = SVC;
    v.account = account;
    v.access_group = kc == WORLD_KEYCHAIN_DP ? GROUP : NULL;
    v.accessible = WORLD_CLASS_WHEN_UNLOCKED;
    v.data = (const unsigned char *)data;
    v.data_len = strlen(data);
    return v;
}

/* Adds an item with `secret` as data; `accessible` NULL: not set. */
static inline OSStatus add_item(bool dp, const char *account, const char *secret,
                                CFStringRef accessible) {
    CFMutableDictionaryRef d = gp(dp, SVC, account);
    set_data(d, kSecValueData, secret);
    if (accessible != NULL)
        CFDictionarySetValue(d, kSecAttrAccessible, accessible);
    OSStatus st = SecItemAdd(d, NULL);
    CFRelease(d);
    return st;
}

/* Adds an item protected by an access control (class, flags). */
static inline OSStatus add_item_ac(bool dp, const char *account, const char *secret,
                                   CFStringRef protection, SecAccessControlCreateFlags flags) {
    SecAccessControlRef ac = SecAccessControlCreateWithFlags(NULL, protection, flags, NULL);
    assert_non_null(ac);
    CFMutableDictionaryRef d = gp(dp, SVC, account);
    set_data(d, kSecValueData, secret);
    CFDictionarySetValue(d, kSecAttrAccessControl, ac);
    OSStatus st = SecItemAdd(d, NULL);
    CFRelease(d);
    CFRelease(ac);
    return st;
}

/* Reads an item's data; on success checks it equals `expect` (if given). */
static inline OSStatus read_data_ctx(bool dp, const char *account, const char *expect,
                                     LAContextRef ctx) {
    CFMutableDictionaryRef d = gp(dp, SVC, account);
    CFDictionarySetValue(d, kSecReturnData, kCFBooleanTrue);
    if (ctx != NULL)
        CFDictionarySetValue(d, kSecUseAuthenticationContext, ctx);
    CFTypeRef out = (CFTypeRef)(uintptr_t)1; /* must be reset */
    OSStatus st = SecItemCopyMatching(d, &out);
    CFRelease(d);
    if (st != errSecSuccess) {
        assert_null(out);
        return st;
    }
    assert_non_null(out);
    assert_int_equal(CFGetTypeID(out), CFDataGetTypeID());
    if (expect != NULL) {
        assert_int_equal(CFDataGetLength(out), (CFIndex)strlen(expect));
        assert_memory_equal(CFDataGetBytePtr(out), expect, strlen(expect));
    }
    CFRelease(out);
    return st;
}

static inline OSStatus read_data(bool dp, const char *account, const char *expect) {
    return read_data_ctx(dp, account, expect, NULL);
}

/* Reads attributes only (no data). */
static inline OSStatus read_attrs(bool dp, const char *account) {
    CFMutableDictionaryRef d = gp(dp, SVC, account);
    CFDictionarySetValue(d, kSecReturnAttributes, kCFBooleanTrue);
    CFTypeRef out = NULL;
    OSStatus st = SecItemCopyMatching(d, &out);
    CFRelease(d);
    if (st == errSecSuccess) {
        assert_non_null(out);
        assert_int_equal(CFGetTypeID(out), CFDictionaryGetTypeID());
        CFRelease(out);
    } else {
        assert_null(out);
    }
    return st;
}

static inline OSStatus delete_item(bool dp, const char *account) {
    CFMutableDictionaryRef d = gp(dp, SVC, account);
    OSStatus st = SecItemDelete(d);
    CFRelease(d);
    return st;
}

/* Does the journal contain `needle`? */
static inline bool journal_has(const world *w, const char *needle) {
    return strstr(world_journal(w), needle) != NULL;
}

/* The last journal line containing `needle` (copied into out), or false. */
static inline bool journal_last_line(const world *w, const char *needle, char *out, size_t cap) {
    const char *j = world_journal(w), *found = NULL;
    for (const char *p = strstr(j, needle); p != NULL; p = strstr(p + 1, needle))
        found = p;
    if (found == NULL)
        return false;
    const char *start = found;
    while (start > j && start[-1] != '\n')
        start--;
    const char *end = strchr(found, '\n');
    size_t n = end != NULL ? (size_t)(end - start) : strlen(start);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, start, n);
    out[n] = '\0';
    return true;
}

#endif
