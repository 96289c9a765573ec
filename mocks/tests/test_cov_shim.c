/* The Apple API shim at its edges (issue 8, coverage): every call made with
 * no active world, arguments of the wrong type, SecItem query forms the
 * other suites do not use (runtime key strings, numeric limits, label
 * filters, many matches, updates that collide among their own matches or
 * move an item's group), LAContext and SecureEnclave argument checks, the
 * login keychain by path, and the window-server session.
 *
 * Fixture: test_sec_helpers.h (booted, unlocked world, signed GUI "agent"). */
#include "test_sec_helpers.h"

#include <CoreGraphics/CoreGraphics.h>
#include <CryptoKit/SecureEnclave.h>
#include <math.h>

#define W(state) (((fx *)*(state))->w)

/* ---- No active world --------------------------------------------------------------------- */

/* Outside a world every Apple-shaped call fails cleanly, touches no
 * out-parameter beyond resetting it, and records nothing. */
static void every_call_without_a_world_is_not_available(void **state) {
    world *w = W(state);
    uint64_t calls = world_calls_total(w);
    CFMutableDictionaryRef q = gp(true, SVC, "a");
    set_data(q, kSecValueData, "secret");
    CFDataRef blob = CFDataCreate(NULL, (const UInt8 *)"blob", 4);
    LAContextRef ctx = LAContextCreate(); /* created inside: owned by the agent */
    world_activate(NULL);

    CFTypeRef out = (CFTypeRef)(uintptr_t)1;
    assert_int_equal(SecItemAdd(q, &out), errSecNotAvailable);
    assert_null(out);
    out = (CFTypeRef)(uintptr_t)1;
    assert_int_equal(SecItemCopyMatching(q, &out), errSecNotAvailable);
    assert_null(out);
    assert_int_equal(SecItemUpdate(q, q), errSecNotAvailable);
    assert_int_equal(SecItemDelete(q), errSecNotAvailable);
    SecKeychainRef kc = (SecKeychainRef)(uintptr_t)1;
    assert_int_equal(SecKeychainCopyDefault(&kc), errSecNotAvailable);
    assert_null(kc);
    assert_int_equal(SecKeychainOpen(SEC_LOGIN_KEYCHAIN_PATH, &kc), errSecNotAvailable);
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecNotAvailable);
    assert_false(SEIsAvailable());
    CFDataRef made = (CFDataRef)(uintptr_t)1;
    assert_int_equal(SEKeyGenerate(NULL, &made), errSecNotAvailable);
    assert_null(made);
    assert_int_equal(SEKeyCopyPublicKey(blob, &made), errSecNotAvailable);
    assert_int_equal(SEKeySign(blob, blob, NULL, &made), errSecNotAvailable);
    assert_int_equal(SEKeyDelete(blob), errSecNotAvailable);
    assert_null(CGSessionCopyCurrentDictionary());
    CFErrorRef err = NULL;
    assert_false(
        LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, CFSTR("r"), &err));
    assert_non_null(err);
    assert_int_equal(CFErrorGetCode(err), LAErrorNotInteractive);
    CFRelease(err);
    err = NULL;
    assert_false(LAContextCanEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, &err));
    if (err != NULL)
        CFRelease(err);
    /* A context created outside any world has no owner. */
    LAContextRef orphan = LAContextCreate();
    assert_non_null(orphan);

    world_activate(w);
    assert_int_equal(world_calls_total(w), calls);
    assert_int_equal(world_item_count(w), 0);
    /* A context made outside any world belongs to no process: it cannot be
     * evaluated for one (no prompt). */
    uint64_t prompts = world_prompts_total(w);
    err = NULL;
    assert_false(
        LAContextEvaluatePolicy(orphan, kLAPolicyDeviceOwnerAuthentication, CFSTR("r"), &err));
    assert_non_null(err);
    assert_int_equal(CFErrorGetCode(err), LAErrorInvalidContext);
    CFRelease(err);
    assert_int_equal(world_prompts_total(w), prompts);
    CFRelease(orphan);
    CFRelease(ctx);
    CFRelease(blob);
    CFRelease(q);
}

/* ---- SecItem query forms -------------------------------------------------------------------- */

/* A key spelled as a runtime-created string with the constant's text names
 * the same attribute. */
static void runtime_key_strings_name_attributes(void **state) {
    world *w = W(state);
    assert_int_equal(add_item(true, "rt", "secret", NULL), errSecSuccess);
    CFMutableDictionaryRef q = dict_new();
    CFDictionarySetValue(q, kSecClass, kSecClassGenericPassword);
    char text[64];
    assert_true(CFStringGetCString(kSecAttrService, text, sizeof text, kCFStringEncodingUTF8));
    CFStringRef svc_key = CFStringCreateWithCString(NULL, text, kCFStringEncodingUTF8);
    assert_ptr_not_equal(svc_key, kSecAttrService);
    set_str(q, svc_key, SVC);
    set_str(q, kSecAttrAccount, "rt");
    CFDictionarySetValue(q, kSecUseDataProtectionKeychain, kCFBooleanTrue);
    assert_int_equal(SecItemCopyMatching(q, NULL), errSecSuccess);
    /* An unknown key, even as a string, is a parameter error. */
    set_str(q, CFSTR("no-such-attribute"), "x");
    assert_int_equal(SecItemCopyMatching(q, NULL), errSecParam);
    CFRelease(svc_key);
    CFRelease(q);
    (void)w;
}

static OSStatus count_with_limit(CFTypeRef limit, CFIndex *count) {
    CFMutableDictionaryRef q = gp(true, SVC, NULL);
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFDictionarySetValue(q, kSecMatchLimit, limit);
    CFTypeRef out = NULL;
    OSStatus st = SecItemCopyMatching(q, &out);
    CFRelease(q);
    *count = -1;
    if (st == errSecSuccess) {
        assert_int_equal(CFGetTypeID(out), CFArrayGetTypeID());
        *count = CFArrayGetCount(out);
        CFRelease(out);
    }
    return st;
}

/* More matches than fit inline; a numeric limit stops at its count; "all"
 * as a runtime string; a float, zero or negative limit is refused. */
static void match_limits_and_many_matches(void **state) {
    (void)state;
    char account[16];
    for (int i = 0; i < 20; i++) {
        snprintf(account, sizeof account, "acct-%02d", i);
        assert_int_equal(add_item(true, account, "s", NULL), errSecSuccess);
    }
    CFIndex n = 0;
    assert_int_equal(count_with_limit(kSecMatchLimitAll, &n), errSecSuccess);
    assert_int_equal(n, 20);
    char text[32];
    assert_true(CFStringGetCString(kSecMatchLimitAll, text, sizeof text, kCFStringEncodingUTF8));
    CFStringRef all = CFStringCreateWithCString(NULL, text, kCFStringEncodingUTF8);
    assert_int_equal(count_with_limit(all, &n), errSecSuccess);
    assert_int_equal(n, 20);
    CFRelease(all);
    int five = 5, zero = 0, minus = -3;
    double half = 2.5;
    CFNumberRef lim = CFNumberCreate(NULL, kCFNumberIntType, &five);
    assert_int_equal(count_with_limit(lim, &n), errSecSuccess);
    assert_int_equal(n, 5);
    CFRelease(lim);
    lim = CFNumberCreate(NULL, kCFNumberIntType, &zero);
    assert_int_equal(count_with_limit(lim, &n), errSecParam);
    CFRelease(lim);
    lim = CFNumberCreate(NULL, kCFNumberIntType, &minus);
    assert_int_equal(count_with_limit(lim, &n), errSecParam);
    CFRelease(lim);
    lim = CFNumberCreate(NULL, kCFNumberDoubleType, &half);
    assert_int_equal(count_with_limit(lim, &n), errSecParam);
    CFRelease(lim);
    /* The first item comes first: insertion order. */
    CFMutableDictionaryRef q = gp(true, SVC, NULL);
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFTypeRef one = NULL;
    assert_int_equal(SecItemCopyMatching(q, &one), errSecSuccess);
    assert_int_equal(CFGetTypeID(one), CFDictionaryGetTypeID());
    CFStringRef acct = CFDictionaryGetValue(one, kSecAttrAccount);
    assert_true(CFStringGetCString(acct, text, sizeof text, kCFStringEncodingUTF8));
    assert_string_equal(text, "acct-00");
    CFRelease(one);
    CFRelease(q);
    /* Deleting by service alone removes them all. */
    q = gp(true, SVC, NULL);
    assert_int_equal(SecItemDelete(q), errSecSuccess);
    assert_int_equal(SecItemCopyMatching(q, NULL), errSecItemNotFound);
    CFRelease(q);
}

/* kSecAttrLabel filters; it is returned with the attributes. Searching by
 * account alone (no service) finds across services. */
static void labels_filter_and_are_returned(void **state) {
    world *w = W(state);
    CFMutableDictionaryRef a = gp(true, SVC, "lab");
    set_data(a, kSecValueData, "s");
    set_str(a, kSecAttrLabel, "my label");
    assert_int_equal(SecItemAdd(a, NULL), errSecSuccess);
    CFRelease(a);
    assert_int_equal(add_item(true, "nolab", "s", NULL), errSecSuccess);
    CFMutableDictionaryRef other_svc = gp(true, "com.example.other", "lab");
    set_data(other_svc, kSecValueData, "t");
    assert_int_equal(SecItemAdd(other_svc, NULL), errSecSuccess);
    CFRelease(other_svc);

    CFMutableDictionaryRef q = gp(true, SVC, NULL);
    set_str(q, kSecAttrLabel, "my label");
    CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
    CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitAll);
    CFTypeRef out = NULL;
    assert_int_equal(SecItemCopyMatching(q, &out), errSecSuccess);
    assert_int_equal(CFArrayGetCount(out), 1);
    CFDictionaryRef attrs = CFArrayGetValueAtIndex(out, 0);
    CFStringRef label = CFDictionaryGetValue(attrs, kSecAttrLabel);
    assert_non_null(label);
    char text[32];
    assert_true(CFStringGetCString(label, text, sizeof text, kCFStringEncodingUTF8));
    assert_string_equal(text, "my label");
    CFRelease(out);
    set_str(q, kSecAttrLabel, "other label");
    assert_int_equal(SecItemCopyMatching(q, NULL), errSecItemNotFound);
    CFRelease(q);

    CFMutableDictionaryRef by_account = gp(true, NULL, "lab");
    CFDictionarySetValue(by_account, kSecMatchLimit, kSecMatchLimitAll);
    CFDictionarySetValue(by_account, kSecReturnAttributes, kCFBooleanTrue);
    assert_int_equal(SecItemCopyMatching(by_account, &out), errSecSuccess);
    assert_int_equal(CFArrayGetCount(out), 2);
    CFRelease(out);
    CFRelease(by_account);
    (void)w;
}

static OSStatus update(CFMutableDictionaryRef q, const char *key_kind, const char *value) {
    CFMutableDictionaryRef attrs = dict_new();
    if (strcmp(key_kind, "account") == 0)
        set_str(attrs, kSecAttrAccount, value);
    else if (strcmp(key_kind, "service") == 0)
        set_str(attrs, kSecAttrService, value);
    else
        set_str(attrs, kSecAttrAccessGroup, value);
    OSStatus st = SecItemUpdate(q, attrs);
    CFRelease(attrs);
    return st;
}

/* An update whose matches would all get the same primary key is refused as
 * a whole; renaming the service alone moves the item; a group the caller is
 * not entitled to is refused; its own group is accepted. */
static void updates_that_collide_or_move(void **state) {
    world *w = W(state);
    assert_int_equal(add_item(true, "u1", "one", NULL), errSecSuccess);
    assert_int_equal(add_item(true, "u2", "two", NULL), errSecSuccess);
    uint64_t mutations = world_item_mutations(w);
    CFMutableDictionaryRef both = gp(true, SVC, NULL);
    assert_int_equal(update(both, "account", "same"), errSecDuplicateItem);
    assert_int_equal(world_item_mutations(w), mutations);
    assert_int_equal(read_data(true, "u1", "one"), errSecSuccess);
    assert_int_equal(read_data(true, "u2", "two"), errSecSuccess);
    CFRelease(both);

    CFMutableDictionaryRef one = gp(true, SVC, "u1");
    assert_int_equal(update(one, "service", "com.example.moved"), errSecSuccess);
    world_item_view v;
    assert_true(world_item_find(w, WORLD_KEYCHAIN_DP, "com.example.moved", "u1", GROUP, &v));
    assert_false(world_item_find(w, WORLD_KEYCHAIN_DP, SVC, "u1", GROUP, &v));
    CFRelease(one);

    CFMutableDictionaryRef two = gp(true, SVC, "u2");
    assert_int_equal(update(two, "group", "OTHER.team"), errSecMissingEntitlement);
    assert_int_equal(update(two, "group", GROUP), errSecSuccess);
    assert_true(world_item_find(w, WORLD_KEYCHAIN_DP, SVC, "u2", GROUP, &v));
    assert_int_equal(v.writes, 2); /* the add and this update */
    CFRelease(two);
}

/* Values of the wrong type for accessibility or the keychain are refused. */
static void wrong_value_types_are_parameter_errors(void **state) {
    (void)state;
    int n = 1;
    CFNumberRef num = CFNumberCreate(NULL, kCFNumberIntType, &n);
    CFMutableDictionaryRef a = gp(true, SVC, "wt");
    set_data(a, kSecValueData, "s");
    CFDictionarySetValue(a, kSecAttrAccessible, num);
    assert_int_equal(SecItemAdd(a, NULL), errSecParam);
    CFRelease(a);
    CFMutableDictionaryRef f = gp(false, SVC, "wt");
    set_data(f, kSecValueData, "s");
    CFDictionarySetValue(f, kSecUseKeychain, num);
    assert_int_equal(SecItemAdd(f, NULL), errSecParam);
    CFRelease(f);
    assert_null(SecAccessControlGetProtection((SecAccessControlRef)num));
    assert_int_equal(kc_cf_misuse_count(), 1);
    assert_non_null(strstr(kc_cf_last_misuse(), "SecAccessControlGetProtection"));
    kc_cf_reset_misuse();
    CFRelease(num);
}

/* Two access controls are equal when class and flags are. */
static void access_controls_compare_by_content(void **state) {
    (void)state;
    SecAccessControlRef a = SecAccessControlCreateWithFlags(NULL, kSecAttrAccessibleWhenUnlocked,
                                                            kSecAccessControlUserPresence, NULL);
    SecAccessControlRef b = SecAccessControlCreateWithFlags(NULL, kSecAttrAccessibleWhenUnlocked,
                                                            kSecAccessControlUserPresence, NULL);
    SecAccessControlRef c = SecAccessControlCreateWithFlags(NULL, kSecAttrAccessibleWhenUnlocked,
                                                            kSecAccessControlBiometryAny, NULL);
    SecAccessControlRef d = SecAccessControlCreateWithFlags(
        NULL, kSecAttrAccessibleAfterFirstUnlock, kSecAccessControlUserPresence, NULL);
    assert_true(CFEqual(a, b));
    assert_false(CFEqual(a, c));
    assert_false(CFEqual(a, d));
    CFRelease(a);
    CFRelease(b);
    CFRelease(c);
    CFRelease(d);
}

/* ---- The login keychain by path -------------------------------------------------------------- */

static void login_keychain_paths_and_unlock(void **state) {
    world *w = W(state);
    SecKeychainRef kc = NULL;
    assert_int_equal(SecKeychainOpen("/Users/someone/Library/Keychains/login.keychain-db", &kc),
                     errSecSuccess);
    assert_non_null(kc);
    assert_int_equal(CFGetTypeID(kc), SecKeychainGetTypeID());
    CFRelease(kc);
    assert_int_equal(SecKeychainOpen("Library/Keychains/login.keychain-db", &kc), errSecParam);
    assert_int_equal(SecKeychainOpen("/login.keychain-db", &kc), errSecParam);
    assert_int_equal(SecKeychainOpen(NULL, &kc), errSecParam);
    assert_int_equal(SecKeychainOpen(SEC_LOGIN_KEYCHAIN_PATH, NULL), errSecParam);
    assert_int_equal(world_login_keychain_lock(w), 0);
    assert_true(world_login_keychain_locked(w));
    /* A password length without a password is a parameter error. */
    assert_int_equal(SecKeychainUnlock(NULL, 4, NULL, true), errSecParam);
    assert_true(world_login_keychain_locked(w));
    /* Unlocking interactively prompts once; unlocked, it is a no-op. */
    uint64_t prompts = world_prompts_shown(w, WORLD_PROMPT_FILE_UNLOCK);
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecSuccess);
    assert_false(world_login_keychain_locked(w));
    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_FILE_UNLOCK), prompts + 1);
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecSuccess);
    assert_int_equal(world_prompts_shown(w, WORLD_PROMPT_FILE_UNLOCK), prompts + 1);
    /* A fault answers the call instead. */
    world_fault f = {.api = WORLD_API_SEC_KEYCHAIN,
                     .status = errSecAuthFailed,
                     .nth = 1,
                     .times = 1,
                     .proc = -1,
                     .match = NULL};
    world_fault_add(w, &f);
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecAuthFailed);
    /* Without a home, there is no default keychain to unlock. */
    world_pid cron = add_proc(w, "cron", "sshenc", true, NULL, true, true);
    world_set_current(w, cron);
    assert_int_equal(SecKeychainUnlock(NULL, 0, NULL, false), errSecNoDefaultKeychain);
}

/* ---- The window-server session --------------------------------------------------------------- */

static bool screen_locked(void) {
    CFDictionaryRef s = CGSessionCopyCurrentDictionary();
    assert_non_null(s);
    bool locked = CFDictionaryGetValue(s, CFSTR("CGSSessionScreenIsLocked")) == kCFBooleanTrue;
    assert_ptr_equal(CFDictionaryGetValue(s, kCGSessionOnConsoleKey), kCFBooleanTrue);
    CFRelease(s);
    return locked;
}

/* A GUI process has a session; the screen counts as locked while the device
 * is locked or asleep. A process without GUI has none. */
static void window_server_session_reports_the_screen(void **state) {
    world *w = W(state);
    assert_false(screen_locked());
    assert_int_equal(world_device_sleep(w), 0);
    assert_true(screen_locked());
    assert_int_equal(world_device_wake(w), 0);
    assert_true(screen_locked()); /* awake, still locked */
    assert_int_equal(world_device_unlock(w), 0);
    assert_false(screen_locked());
    world_pid daemon = add_proc(w, "daemon", "sshenc", true, GROUP, false, false);
    world_set_current(w, daemon);
    assert_null(CGSessionCopyCurrentDictionary());
}

/* ---- LAContext ------------------------------------------------------------------------------- */

static bool described_as(CFTypeRef obj, const char *text) {
    CFStringRef d = CFCopyDescription(obj);
    char buf[128];
    bool ok = d != NULL && CFStringGetCString(d, buf, sizeof buf, kCFStringEncodingUTF8) &&
              strcmp(buf, text) == 0;
    if (d != NULL)
        CFRelease(d);
    return ok;
}

static void lacontext_description_reuse_and_policies(void **state) {
    world *w = W(state);
    LAContextRef ctx = LAContextCreate();
    assert_true(described_as(ctx, "<LAContext reuse=0ms>"));
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 30.0);
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx) == 30.0);
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, NAN);
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx) == 0.0);
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, 1e9); /* capped at 300 s */
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(ctx) == 300.0);
    /* The biometrics policy is named so in the journal. */
    assert_true(LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthenticationWithBiometrics,
                                        CFSTR("x"), NULL));
    assert_true(journal_has(w, "biometrics"));
    assert_true(described_as(ctx, "<LAContext reuse=300000ms authenticated>"));
    LAContextInvalidate(ctx);
    assert_true(described_as(ctx, "<LAContext reuse=300000ms invalidated>"));
    /* An unknown policy is a misuse and fails. */
    CFErrorRef err = NULL;
    assert_false(LAContextEvaluatePolicy(ctx, (LAPolicy)77, CFSTR("x"), &err));
    assert_int_equal(kc_cf_misuse_count(), 1);
    assert_non_null(strstr(kc_cf_last_misuse(), "unknown policy 77"));
    kc_cf_reset_misuse();
    if (err != NULL)
        CFRelease(err);
    assert_false(LAContextCanEvaluatePolicy(ctx, (LAPolicy)77, NULL));
    kc_cf_reset_misuse();
    /* NULL contexts are misuses, reported by name, and change nothing. */
    LAContextInvalidate(NULL);
    assert_non_null(strstr(kc_cf_last_misuse(), "LAContextInvalidate called with NULL"));
    assert_true(LAContextGetTouchIDAuthenticationAllowableReuseDuration(NULL) == 0.0);
    assert_int_equal(kc_cf_misuse_count(), 2);
    kc_cf_reset_misuse();
    CFRelease(ctx);
}

/* The reason shown with a prompt: control characters and spaces become '_'
 * in the journal; a reason holding U+0000 or not a string is shown empty. */
static void lacontext_reasons_in_the_journal(void **state) {
    world *w = W(state);
    LAContextRef ctx = LAContextCreate();
    assert_true(LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication,
                                        CFSTR("use key\tnow"), NULL));
    assert_true(journal_has(w, "use_key_now"));
    const UInt8 with_nul[] = {'a', 0, 'b'};
    CFStringRef nul = CFStringCreateWithBytes(NULL, with_nul, 3, kCFStringEncodingUTF8, false);
    size_t before = world_journal_length(w);
    assert_true(LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, nul, NULL));
    assert_true(world_journal_length(w) > before);
    assert_null(strstr(world_journal(w) + before, "a_b"));
    CFRelease(nul);
    CFNumberRef not_text = CFNumberCreate(NULL, kCFNumberIntType, &(int){4});
    assert_true(LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication,
                                        (CFStringRef)not_text, NULL));
    CFRelease(not_text);
    CFRelease(ctx);
}

/* ---- SecureEnclave arguments ----------------------------------------------------------------- */

static void secure_enclave_argument_checks(void **state) {
    world *w = W(state);
    CFDataRef blob = NULL;
    assert_int_equal(SEKeyGenerate(NULL, NULL), errSecParam);
    CFStringRef not_ac = CFSTR("not an access control");
    assert_int_equal(SEKeyGenerate((SecAccessControlRef)not_ac, &blob), errSecParam);
    assert_null(blob);
    assert_int_equal(SEKeyGenerate(NULL, &blob), errSecSuccess);
    CFDataRef msg = CFDataCreate(NULL, (const UInt8 *)"m", 1);
    CFDataRef sig = NULL;
    assert_int_equal(SEKeyCopyPublicKey(blob, NULL), errSecParam);
    assert_int_equal(SEKeyCopyPublicKey((CFDataRef)not_ac, &sig), errSecParam);
    assert_int_equal(SEKeySign(blob, (CFDataRef)not_ac, NULL, &sig), errSecParam);
    assert_null(sig);
    assert_int_equal(SEKeySign(blob, msg, NULL, NULL), errSecParam);
    assert_int_equal(SEKeySign(blob, msg, (LAContextRef)not_ac, &sig), errSecParam);
    assert_null(sig);
    /* A blob of the right shape that this device never issued. */
    size_t n = (size_t)CFDataGetLength(blob);
    UInt8 forged[256];
    assert_true(n <= sizeof forged);
    memcpy(forged, CFDataGetBytePtr(blob), n);
    forged[n - 1] ^= 1;
    CFDataRef bad = CFDataCreate(NULL, forged, (CFIndex)n);
    assert_int_equal(SEKeySign(bad, msg, NULL, &sig), errSecDecode);
    assert_false(world_se_key_for_blob(w, forged, n, NULL));
    assert_true(world_se_key_for_blob(w, CFDataGetBytePtr(blob), n, NULL));
    CFRelease(bad);
    assert_int_equal(SEKeySign(blob, msg, NULL, &sig), errSecSuccess);
    CFRelease(sig);
    /* Inspection bounds. */
    world_se_key_view v;
    assert_false(world_se_key_at(w, world_se_key_count(w), &v));
    assert_false(world_se_key_at(w, 0, NULL));
    unsigned char out[256];
    size_t len = 0;
    assert_int_equal(world_se_key_plant(w, false, WORLD_CLASS_ALWAYS, 0, NULL, sizeof out, &len),
                     -1);
    assert_int_equal(world_se_key_plant(w, false, WORLD_CLASS_ALWAYS, 0, out, 4, &len), -1);
    assert_int_equal(world_se_key_plant(w, true, (world_class)42, 0, out, sizeof out, &len), -1);
    assert_int_equal(world_se_key_plant(w, false, (world_class)42, 0, out, sizeof out, NULL), 0);
    CFRelease(msg);
    CFRelease(blob);
}

int main(void) {
    kc_cf_set_misuse_handler(quiet_misuse, NULL); /* counted and checked, not printed */
    const struct CMUnitTest tests[] = {
        FX_TEST(every_call_without_a_world_is_not_available),
        FX_TEST(runtime_key_strings_name_attributes),
        FX_TEST(match_limits_and_many_matches),
        FX_TEST(labels_filter_and_are_returned),
        FX_TEST(updates_that_collide_or_move),
        FX_TEST(wrong_value_types_are_parameter_errors),
        FX_TEST(access_controls_compare_by_content),
        FX_TEST(login_keychain_paths_and_unlock),
        FX_TEST(window_server_session_reports_the_screen),
        FX_TEST(lacontext_description_reuse_and_policies),
        FX_TEST(lacontext_reasons_in_the_journal),
        FX_TEST(secure_enclave_argument_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
