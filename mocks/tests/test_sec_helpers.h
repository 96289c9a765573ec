/* Shared fixture and helpers of the Security.framework shim's CMocka tests
 * (mocks/tests/test_sec_*.c). Header-only: every test file is its own
 * binary.
 *
 * The fixture: a booted, unlocked world (seed 1) with one signed GUI process
 * "agent" (app sshenc, access group TEAM.com.example) as the current process.
 * Teardown frees the world and fails the test if a CF object leaked or a CF
 * misuse was reported.
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
#include <string.h>

#define GROUP "TEAM.com.example"
#define SVC "com.example.sshenc"

typedef struct {
    world *w;
    world_pid agent;
    kc_cf_snapshot_t snap;
} fx;

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

static inline int fx_setup(void **state) {
    static fx f;
    memset(&f, 0, sizeof f);
    kc_cf_reset_misuse();
    kc_cf_snapshot(&f.snap);
    f.w = world_new(1);
    assert_non_null(f.w);
    world_activate(f.w);
    assert_int_equal(world_device_boot(f.w), 0);
    assert_int_equal(world_device_unlock(f.w), 0);
    f.agent = add_proc(f.w, "agent", "sshenc", true, GROUP, true, false);
    world_set_current(f.w, f.agent);
    *state = &f;
    return 0;
}

static inline int fx_teardown(void **state) {
    fx *f = *state;
    world_free(f->w);
    char report[256];
    CFIndex leaked = kc_cf_leaks_since(&f->snap, report, sizeof report);
    if (leaked != 0)
        fail_msg("%s", report);
    if (kc_cf_misuse_count() != 0)
        fail_msg("CF misuse: %s", kc_cf_last_misuse());
    return 0;
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

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
