/* The simulated Secure Enclave (domain.md §5): CryptoKit's default access
 * control, real ECDSA P-256 signatures, data representations bound to the
 * device, deletion, user presence with and without a reusable LAContext, the
 * two SE knobs, availability, faults, determinism and the inspection API.
 * Every test ends by asserting that it leaked no CF object and misused none. */
#include "test_sec_helpers.h"

#include <CryptoKit/SecureEnclave.h>

/* ---- Helpers ---------------------------------------------------------------------- */

static SecAccessControlRef access_control(CFStringRef protection,
                                          SecAccessControlCreateFlags flags) {
    CFErrorRef error = NULL;
    SecAccessControlRef ac = SecAccessControlCreateWithFlags(NULL, protection, flags, &error);
    assert_null(error);
    assert_non_null(ac);
    return ac;
}

/* A new key (+1 data representation); protection NULL: no access control. */
static CFDataRef generate(CFStringRef protection, SecAccessControlCreateFlags flags) {
    SecAccessControlRef ac = protection != NULL ? access_control(protection, flags) : NULL;
    CFDataRef blob = NULL;
    assert_int_equal(SEKeyGenerate(ac, &blob), errSecSuccess);
    assert_non_null(blob);
    if (ac != NULL)
        CFRelease(ac);
    return blob;
}

static CFDataRef bytes(const char *text) {
    return CFDataCreate(NULL, (const UInt8 *)text, (CFIndex)strlen(text));
}

/* Signs `text`; returns the status, and the signature (+1) in *out if given
 * (released otherwise). */
static OSStatus sign_text(CFDataRef blob, const char *text, LAContextRef ctx, CFDataRef *out) {
    CFDataRef msg = bytes(text);
    CFDataRef sig = (CFDataRef)(uintptr_t)1; /* must be overwritten */
    OSStatus st = SEKeySign(blob, msg, ctx, &sig);
    CFRelease(msg);
    if (st != errSecSuccess) {
        assert_null(sig);
    } else {
        assert_non_null(sig);
    }
    if (out != NULL)
        *out = sig;
    else if (sig != NULL)
        CFRelease(sig);
    return st;
}

static void public_key(CFDataRef blob, unsigned char out[65]) {
    CFDataRef pub = NULL;
    assert_int_equal(SEKeyCopyPublicKey(blob, &pub), errSecSuccess);
    assert_int_equal(CFDataGetLength(pub), 65);
    memcpy(out, CFDataGetBytePtr(pub), 65);
    CFRelease(pub);
}

static bool verifies(CFDataRef blob, const char *text, CFDataRef sig) {
    unsigned char pub[65];
    public_key(blob, pub);
    return world_verify_signature(pub, (const unsigned char *)text, strlen(text),
                                  CFDataGetBytePtr(sig), (size_t)CFDataGetLength(sig));
}

static LAContextRef authenticated_context(double reuse_seconds) {
    LAContextRef ctx = LAContextCreate();
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(ctx, reuse_seconds);
    assert_true(LAContextEvaluatePolicy(ctx, kLAPolicyDeviceOwnerAuthentication, NULL, NULL));
    return ctx;
}

static world_se_key_view view_of(const world *w, CFDataRef blob) {
    world_se_key_view view;
    memset(&view, 0, sizeof view);
    assert_true(
        world_se_key_for_blob(w, CFDataGetBytePtr(blob), (size_t)CFDataGetLength(blob), &view));
    return view;
}

/* ---- Access control ----------------------------------------------------------------- */

static void no_access_control_gets_cryptokits_default(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(NULL, 0);
    world_se_key_view v = view_of(f->w, blob);
    assert_false(v.has_access_control);
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    assert_int_equal(v.ac_flags, 0);
    assert_false(v.deleted);
    assert_non_null(strstr(world_journal(f->w),
                           "agent SEGenerate class=AfterFirstUnlockThisDeviceOnly ac=default "
                           "key=1 -> 0 errSecSuccess"));
    /* No prompt, and usable while locked, past the grace period. */
    assert_int_equal(world_device_lock(f->w), 0);
    world_advance(f->w, 60000);
    assert_int_equal(sign_text(blob, "locked", NULL, NULL), errSecSuccess);
    assert_int_equal(world_prompts_total(f->w), 0);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void access_control_is_fixed_at_creation(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                              kSecAccessControlPrivateKeyUsage | kSecAccessControlBiometryAny);
    world_se_key_view v = view_of(f->w, blob);
    assert_true(v.has_access_control);
    assert_int_equal(v.accessible, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY);
    assert_int_equal(v.ac_flags, WORLD_AC_PRIVATE_KEY_USAGE | WORLD_AC_BIOMETRY_ANY);
    /* A wrong object as access control is errSecParam and creates nothing. */
    CFDataRef out = NULL;
    assert_int_equal(SEKeyGenerate((SecAccessControlRef)(uintptr_t)CFSTR("cku"), &out),
                     errSecParam);
    assert_null(out);
    assert_int_equal(SEKeyGenerate(NULL, NULL), errSecParam);
    assert_int_equal(world_se_key_count(f->w), 1);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

/* ---- Signatures ------------------------------------------------------------------------ */

static void a_signature_verifies_with_the_public_key(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(NULL, 0);
    unsigned char pub[65];
    public_key(blob, pub);
    assert_int_equal(pub[0], 0x04); /* uncompressed point */
    world_se_key_view v = view_of(f->w, blob);
    assert_memory_equal(v.public_key, pub, 65);

    CFDataRef sig = NULL;
    assert_int_equal(sign_text(blob, "ssh challenge", NULL, &sig), errSecSuccess);
    const UInt8 *der = CFDataGetBytePtr(sig);
    assert_int_equal(der[0], 0x30); /* DER SEQUENCE */
    assert_true(verifies(blob, "ssh challenge", sig));
    assert_false(verifies(blob, "ssh challengf", sig)); /* one flipped bit */
    assert_false(verifies(blob, "", sig));
    /* Another key's public key does not verify it. */
    CFDataRef other = generate(NULL, 0);
    assert_false(verifies(other, "ssh challenge", sig));
    /* A signature over the empty message works too. */
    CFDataRef empty_sig = NULL;
    assert_int_equal(sign_text(blob, "", NULL, &empty_sig), errSecSuccess);
    assert_true(verifies(blob, "", empty_sig));
    CFRelease(empty_sig);
    CFRelease(sig);
    CFRelease(other);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void the_journal_holds_sizes_never_signatures(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(NULL, 0);
    assert_int_equal(sign_text(blob, "12345", NULL, NULL), errSecSuccess);
    /* The whole line: key arguments, message size and status, nothing else. */
    const char *line = strstr(world_journal(f->w), " call agent SESign");
    assert_non_null(line);
    const char *end = strchr(line, '\n');
    assert_non_null(end);
    static const char expected[] =
        " call agent SESign class=AfterFirstUnlockThisDeviceOnly size=5 key=1 -> 0 errSecSuccess";
    assert_int_equal((size_t)(end - line), strlen(expected));
    assert_memory_equal(line, expected, strlen(expected));
    assert_int_equal(world_calls_made(f->w, WORLD_API_SE_SIGN), 1);
    assert_int_equal(world_calls_made(f->w, WORLD_API_SE_GENERATE), 1);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

/* ---- Data representations ---------------------------------------------------------------- */

static OSStatus sign_with_bytes(const UInt8 *raw, CFIndex len) {
    CFDataRef blob = CFDataCreate(NULL, raw, len);
    OSStatus st = sign_text(blob, "m", NULL, NULL);
    CFDataRef pub = NULL;
    OSStatus pub_st = SEKeyCopyPublicKey(blob, &pub);
    assert_null(pub);
    assert_int_equal(pub_st, st);
    CFRelease(blob);
    return st;
}

static void a_tampered_blob_is_rejected(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(NULL, 0);
    CFIndex len = CFDataGetLength(blob);
    UInt8 raw[128];
    assert_true(len <= (CFIndex)sizeof raw);
    for (CFIndex i = 0; i < len; i++) {
        memcpy(raw, CFDataGetBytePtr(blob), (size_t)len);
        raw[i] ^= 0x01;
        assert_int_equal(sign_with_bytes(raw, len), errSecDecode);
    }
    memcpy(raw, CFDataGetBytePtr(blob), (size_t)len);
    assert_int_equal(sign_with_bytes(raw, len - 1), errSecDecode);
    raw[len] = 0;
    assert_int_equal(sign_with_bytes(raw, len + 1), errSecDecode);
    assert_int_equal(sign_with_bytes(raw, 0), errSecDecode);
    assert_int_equal(SEKeyDelete((CFDataRef)(uintptr_t)CFSTR("not data")), errSecParam);
    assert_false(world_se_key_for_blob(f->w, raw, (size_t)len - 1, NULL));
    /* The original still works. */
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecSuccess);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void a_blob_of_another_device_is_rejected(void **state) {
    session_fx *f = *state;
    /* The same calls on a world with another seed: another device. */
    world *foreign = session_world(2, NULL, NULL);
    CFDataRef foreign_blob = generate(NULL, 0);
    world_free(foreign);
    world_activate(f->w);
    CFDataRef own = generate(NULL, 0); /* the same key id exists here */
    assert_int_equal(CFDataGetLength(own), CFDataGetLength(foreign_blob));
    assert_int_equal(sign_text(foreign_blob, "m", NULL, NULL), errSecDecode);
    assert_int_equal(SEKeyDelete(foreign_blob), errSecDecode);
    assert_false(world_se_key_for_blob(f->w, CFDataGetBytePtr(foreign_blob),
                                       (size_t)CFDataGetLength(foreign_blob), NULL));
    assert_int_equal(sign_text(own, "m", NULL, NULL), errSecSuccess);
    CFRelease(foreign_blob);
    CFRelease(own);
    assert_no_cf_leak(f);
}

static void a_deleted_key_is_not_found(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(NULL, 0);
    CFDataRef keep = generate(NULL, 0);
    assert_int_equal(SEKeyDelete(blob), errSecSuccess);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecItemNotFound);
    CFDataRef pub = NULL;
    assert_int_equal(SEKeyCopyPublicKey(blob, &pub), errSecItemNotFound);
    assert_null(pub);
    assert_int_equal(SEKeyDelete(blob), errSecItemNotFound);
    assert_true(view_of(f->w, blob).deleted);
    assert_false(view_of(f->w, keep).deleted);
    assert_int_equal(sign_text(keep, "m", NULL, NULL), errSecSuccess);
    assert_int_equal(world_se_key_count(f->w), 2);
    CFRelease(blob);
    CFRelease(keep);
    assert_no_cf_leak(f);
}

/* ---- User presence and LAContext reuse ---------------------------------------------------- */

static void presence_prompts_and_maps_each_answer(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                              kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence);
    static const struct {
        world_answer answer;
        OSStatus status;
    } cases[] = {
        {WORLD_ANSWER_APPROVE, errSecSuccess},
        {WORLD_ANSWER_CANCEL, LAErrorUserCancel},
        {WORLD_ANSWER_FAIL, LAErrorAuthenticationFailed},
        {WORLD_ANSWER_ABSENT, LAErrorSystemCancel},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        world_user_queue(f->w, cases[i].answer, 1);
        CFDataRef sig = NULL;
        assert_int_equal(sign_text(blob, "m", NULL, &sig), cases[i].status);
        if (sig != NULL) {
            assert_true(verifies(blob, "m", sig));
            CFRelease(sig);
        }
        assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), i + 1);
    }
    assert_non_null(strstr(world_journal(f->w), "prompt se-presence proc=agent about=key=1 -> "
                                                "cancel"));
    assert_non_null(strstr(world_journal(f->w), "-> -2 LAErrorUserCancel"));
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void when_unlocked_key_reuses_an_authenticated_context(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                              kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence);
    LAContextRef ctx = authenticated_context(300);
    assert_int_equal(world_prompts_total(f->w), 1);
    world_user_set_default(f->w, WORLD_ANSWER_CANCEL); /* any further prompt would fail */
    for (int i = 0; i < 3; i++) {
        world_advance(f->w, 60000);
        CFDataRef sig = NULL;
        assert_int_equal(sign_text(blob, "m", ctx, &sig), errSecSuccess);
        assert_true(verifies(blob, "m", sig));
        CFRelease(sig);
    }
    assert_int_equal(world_prompts_total(f->w), 1);
    assert_non_null(strstr(world_journal(f->w), "key=1 ctx=reused -> 0"));
    /* Once the window closes, the sign prompts again. */
    world_advance(f->w, 120001);
    assert_int_equal(sign_text(blob, "m", ctx, NULL), LAErrorUserCancel);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), 1);
    /* So does a sign without a context, or with an unauthenticated one. */
    LAContextRef fresh = LAContextCreate();
    LAContextSetTouchIDAuthenticationAllowableReuseDuration(fresh, 300);
    assert_int_equal(sign_text(blob, "m", fresh, NULL), LAErrorUserCancel);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), LAErrorUserCancel);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), 3);
    CFRelease(fresh);
    CFRelease(ctx);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void a_lock_ends_reuse_for_the_enclave(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                              kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence);
    LAContextRef ctx = authenticated_context(300);
    assert_int_equal(world_device_lock(f->w), 0);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(sign_text(blob, "m", ctx, NULL), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), 1);
    CFRelease(ctx);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void after_first_unlock_key_prompts_every_time(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                              kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence);
    LAContextRef ctx = authenticated_context(300);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sign_text(blob, "m", ctx, NULL), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), 3);

    /* With the knob off, the authenticated context is honoured. */
    world_set_knob(f->w, WORLD_KNOB_SE_REUSE_REQUIRES_WHEN_UNLOCKED, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sign_text(blob, "m", ctx, NULL), errSecSuccess);
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), 3);
    CFRelease(ctx);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void presence_without_a_gui_session_consumes_no_answer(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                              kSecAccessControlPrivateKeyUsage | kSecAccessControlBiometryAny);
    world_user_queue(f->w, WORLD_ANSWER_CANCEL, 1);
    world_set_current(f->w, f->daemon);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecInteractionNotAllowed);
    assert_int_equal(world_prompts_total(f->w), 0);
    world_set_current(f->w, f->agent);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), LAErrorUserCancel);
    assert_int_equal(world_prompts_total(f->w), 1);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void an_invalidated_context_fails_without_a_prompt(void **state) {
    session_fx *f = *state;
    CFDataRef presence =
        generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                 kSecAccessControlPrivateKeyUsage | kSecAccessControlDevicePasscode);
    CFDataRef plain =
        generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly, kSecAccessControlPrivateKeyUsage);
    LAContextRef ctx = authenticated_context(300);
    LAContextInvalidate(ctx);
    assert_int_equal(sign_text(presence, "m", ctx, NULL), LAErrorInvalidContext);
    assert_int_equal(sign_text(plain, "m", ctx, NULL), errSecSuccess); /* no presence: ignored */
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), 0);
    /* Not a context at all: errSecParam. */
    assert_int_equal(sign_text(plain, "m", (LAContextRef)(uintptr_t)CFSTR("ctx"), NULL),
                     errSecParam);
    CFRelease(ctx);
    CFRelease(presence);
    CFRelease(plain);
    assert_no_cf_leak(f);
}

/* ---- The keybag and the lock ------------------------------------------------------------- */

static void when_unlocked_key_is_unusable_while_locked(void **state) {
    session_fx *f = *state;
    CFDataRef wu =
        generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly, kSecAccessControlPrivateKeyUsage);
    CFDataRef afu = generate(kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                             kSecAccessControlPrivateKeyUsage);
    assert_int_equal(world_device_lock(f->w), 0);
    /* Inside the grace period the class key is still there, yet the SE
     * refuses (knob on, the default). */
    assert_int_equal(sign_text(wu, "m", NULL, NULL), errSecInteractionNotAllowed);
    assert_int_equal(sign_text(afu, "m", NULL, NULL), errSecSuccess);
    /* Knob off: the class key alone decides. */
    world_set_knob(f->w, WORLD_KNOB_SE_WHEN_UNLOCKED_UNUSABLE_LOCKED, 0);
    assert_int_equal(sign_text(wu, "m", NULL, NULL), errSecSuccess);
    world_advance(f->w, 10000); /* grace over: the class key is gone */
    assert_int_equal(sign_text(wu, "m", NULL, NULL), errSecInteractionNotAllowed);
    assert_int_equal(sign_text(afu, "m", NULL, NULL), errSecSuccess);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(sign_text(wu, "m", NULL, NULL), errSecSuccess);
    CFRelease(wu);
    CFRelease(afu);
    assert_no_cf_leak(f);
}

static void an_unavailable_class_key_refuses_the_sign(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(NULL, 0);
    assert_int_equal(world_device_reboot(f->w), 0); /* before first unlock */
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecInteractionNotAllowed);
    /* Generating needs no class key (a later store decides). */
    CFDataRef early = generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly, 0);
    assert_int_equal(world_device_unlock(f->w), 0);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecSuccess);
    assert_int_equal(sign_text(early, "m", NULL, NULL), errSecSuccess);
    world_fault_destroy_class_key(f->w, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecInteractionNotAllowed);
    assert_int_equal(world_prompts_total(f->w), 0);
    CFRelease(blob);
    CFRelease(early);
    assert_no_cf_leak(f);
}

/* ---- Availability, faults ---------------------------------------------------------------- */

static void an_unavailable_enclave_refuses_every_call(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(NULL, 0);
    assert_true(SEIsAvailable());
    world_set_knob(f->w, WORLD_KNOB_SE_AVAILABLE, 0);
    assert_false(SEIsAvailable());
    CFDataRef out = NULL;
    assert_int_equal(SEKeyGenerate(NULL, &out), errSecNotAvailable);
    assert_null(out);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecNotAvailable);
    assert_int_equal(SEKeyCopyPublicKey(blob, &out), errSecNotAvailable);
    assert_null(out);
    assert_int_equal(SEKeyDelete(blob), errSecNotAvailable);
    assert_int_equal(world_se_key_count(f->w), 1);
    assert_false(view_of(f->w, blob).deleted);
    assert_non_null(strstr(world_journal(f->w), "-> -25291 errSecNotAvailable"));
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void faults_are_injected_on_sign(void **state) {
    session_fx *f = *state;
    CFDataRef blob = generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                              kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence);
    world_fault_add(f->w, &(world_fault){.api = WORLD_API_SE_SIGN,
                                         .status = errSecInteractionNotAllowed,
                                         .nth = 2,
                                         .times = 2,
                                         .proc = -1});
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecSuccess);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecInteractionNotAllowed);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecInteractionNotAllowed);
    assert_int_equal(sign_text(blob, "m", NULL, NULL), errSecSuccess);
    /* Faulted calls show no prompt, yet count as calls. */
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), 2);
    assert_int_equal(world_calls_made(f->w, WORLD_API_SE_SIGN), 4);
    assert_non_null(strstr(world_journal(f->w), "key=1 injected -> -25308 "
                                                "errSecInteractionNotAllowed"));
    /* An LAError can be injected too. */
    world_fault_add(f->w, &(world_fault){.api = WORLD_API_SE_SIGN,
                                         .status = LAErrorUserCancel,
                                         .times = 1,
                                         .proc = f->agent});
    assert_int_equal(sign_text(blob, "m", NULL, NULL), LAErrorUserCancel);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void faults_are_injected_on_generate(void **state) {
    session_fx *f = *state;
    world_fault_add(
        f->w, &(world_fault){
                  .api = WORLD_API_SE_GENERATE, .status = errSecAllocate, .times = 1, .proc = -1});
    CFDataRef out = NULL;
    assert_int_equal(SEKeyGenerate(NULL, &out), errSecAllocate);
    assert_null(out);
    assert_int_equal(world_se_key_count(f->w), 0);
    CFDataRef blob = generate(NULL, 0);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

/* ---- Determinism ---------------------------------------------------------------------------- */

typedef struct {
    char *journal;
    unsigned char pub[2][65];
} run_result;

static run_result scripted_run(uint64_t seed) {
    run_result r;
    world *w = session_world(seed, NULL, NULL);
    CFDataRef a = generate(NULL, 0);
    CFDataRef b = generate(kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                           kSecAccessControlPrivateKeyUsage | kSecAccessControlUserPresence);
    public_key(a, r.pub[0]);
    public_key(b, r.pub[1]);
    LAContextRef ctx = authenticated_context(300);
    assert_int_equal(sign_text(a, "hello", NULL, NULL), errSecSuccess);
    assert_int_equal(sign_text(b, "hello world", ctx, NULL), errSecSuccess);
    world_user_queue(w, WORLD_ANSWER_CANCEL, 1);
    assert_int_equal(sign_text(b, "x", NULL, NULL), LAErrorUserCancel);
    assert_int_equal(SEKeyDelete(a), errSecSuccess);
    assert_int_equal(sign_text(a, "x", NULL, NULL), errSecItemNotFound);
    CFRelease(ctx);
    CFRelease(a);
    CFRelease(b);
    r.journal = strdup(world_journal(w));
    world_free(w);
    return r;
}

static void same_seed_same_keys_and_journal(void **state) {
    session_fx *f = *state;
    run_result one = scripted_run(42), two = scripted_run(42), other = scripted_run(43);
    assert_memory_equal(one.pub, two.pub, sizeof one.pub);
    assert_string_equal(one.journal, two.journal);
    assert_memory_not_equal(one.pub[0], other.pub[0], 65);
    assert_memory_not_equal(one.pub[0], one.pub[1], 65);
    free(one.journal);
    free(two.journal);
    free(other.journal);
    world_activate(f->w);
    assert_no_cf_leak(f);
}

/* ---- Inspection and planting ---------------------------------------------------------------- */

static void a_planted_key_is_usable_and_unjournaled(void **state) {
    session_fx *f = *state;
    size_t journal_before = world_journal_length(f->w);
    uint64_t calls_before = world_calls_total(f->w);
    unsigned char raw[128];
    size_t len = 0;
    assert_int_equal(world_se_key_plant(f->w, true, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY,
                                        WORLD_AC_PRIVATE_KEY_USAGE | WORLD_AC_USER_PRESENCE, raw,
                                        sizeof raw, &len),
                     0);
    assert_int_equal(
        world_se_key_plant(f->w, false, WORLD_CLASS_ALWAYS, 0xff, raw + 64, sizeof raw - 64, NULL),
        0);
    assert_int_equal(world_se_key_plant(f->w, false, 0, 0, raw, 8, &len), -1); /* too small */
    assert_int_equal(world_journal_length(f->w), journal_before);
    assert_int_equal(world_calls_total(f->w), calls_before);
    assert_int_equal(world_se_key_count(f->w), 2);

    world_se_key_view v;
    assert_true(world_se_key_at(f->w, 0, &v));
    assert_int_equal(v.id, 1);
    assert_true(v.has_access_control);
    assert_int_equal(v.accessible, WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY);
    assert_int_equal(v.ac_flags, WORLD_AC_PRIVATE_KEY_USAGE | WORLD_AC_USER_PRESENCE);
    assert_true(world_se_key_at(f->w, 1, &v));
    assert_false(v.has_access_control); /* CryptoKit's default, whatever was passed */
    assert_int_equal(v.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    assert_int_equal(v.ac_flags, 0);
    assert_false(world_se_key_at(f->w, 2, &v));

    CFDataRef blob = CFDataCreate(NULL, raw, (CFIndex)len);
    CFDataRef sig = NULL;
    assert_int_equal(sign_text(blob, "planted", NULL, &sig), errSecSuccess); /* prompts */
    assert_true(world_verify_signature(view_of(f->w, blob).public_key,
                                       (const unsigned char *)"planted", 7, CFDataGetBytePtr(sig),
                                       (size_t)CFDataGetLength(sig)));
    assert_int_equal(world_prompts_shown(f->w, WORLD_PROMPT_SE_PRESENCE), 1);
    CFRelease(sig);
    CFRelease(blob);
    assert_no_cf_leak(f);
}

static void verify_rejects_garbage(void **state) {
    session_fx *f = *state;
    unsigned char pub[65] = {0x04};
    const unsigned char sig[8] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    assert_false(world_verify_signature(pub, (const unsigned char *)"m", 1, sig, sizeof sig));
    assert_false(world_verify_signature(pub, (const unsigned char *)"m", 1, NULL, 0));
    CFDataRef blob = generate(NULL, 0);
    public_key(blob, pub);
    assert_false(world_verify_signature(pub, (const unsigned char *)"m", 1, sig, sizeof sig));
    CFRelease(blob);
    assert_no_cf_leak(f);
}

#define T(name) SESSION_TEST(name)

int main(void) {
    kc_cf_set_misuse_handler(quiet_misuse, NULL);
    const struct CMUnitTest tests[] = {
        T(no_access_control_gets_cryptokits_default),
        T(access_control_is_fixed_at_creation),
        T(a_signature_verifies_with_the_public_key),
        T(the_journal_holds_sizes_never_signatures),
        T(a_tampered_blob_is_rejected),
        T(a_blob_of_another_device_is_rejected),
        T(a_deleted_key_is_not_found),
        T(presence_prompts_and_maps_each_answer),
        T(when_unlocked_key_reuses_an_authenticated_context),
        T(a_lock_ends_reuse_for_the_enclave),
        T(after_first_unlock_key_prompts_every_time),
        T(presence_without_a_gui_session_consumes_no_answer),
        T(an_invalidated_context_fails_without_a_prompt),
        T(when_unlocked_key_is_unusable_while_locked),
        T(an_unavailable_class_key_refuses_the_sign),
        T(an_unavailable_enclave_refuses_every_call),
        T(faults_are_injected_on_sign),
        T(faults_are_injected_on_generate),
        T(same_seed_same_keys_and_journal),
        T(a_planted_key_is_usable_and_unjournaled),
        T(verify_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
