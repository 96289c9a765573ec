/* LocalAuthentication's LAContext, a C face (domain.md §5).
 *
 * A context is a CF object (type ID 18) owned by the process that was current
 * when it was created. It becomes *authenticated* by an approved
 * LAContextEvaluatePolicy (one prompt, one user answer) and stays so until it
 * is invalidated; whether that authentication can still be *used* without a
 * prompt (its reuse window) is decided by la_context_reusable.
 *
 * Rules beyond Apple's header, all deliberate:
 *  - A context is process memory. Used from another world, from another
 *    process, or after its process restarted (world_process_generation), it
 *    behaves as invalidated (LAErrorInvalidContext, never reusable).
 *  - Passing a non-context, NULL or an unknown policy is a reported CF misuse
 *    (Apple crashes or raises): false, and *error is set to NULL.
 *  - An injected errSecSuccess (a fault with status 0) lets the call run as
 *    usual; any other injected status is returned as the LAError code.
 *  - canEvaluatePolicy for the biometrics policy without enrolled biometry
 *    reports LAErrorPasscodeNotSet (Apple: biometryNotEnrolled, -7, which the
 *    shim's header does not define).
 */
#include <CoreFoundation/CoreFoundation.h>
#include <LocalAuthentication/LocalAuthentication.h>
#include <keyclass/cf_accounting.h>

#include "la_internal.h"
#include "world_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LA_CONTEXT_TYPE_ID 18

struct __LAContext {
    const world *w;            /* world active at creation (compared, never dereferenced) */
    world_pid owner;           /* current process at creation (-1: none) */
    uint64_t owner_generation; /* its restart generation at creation */
    int64_t reuse_ms;          /* touchIDAuthenticationAllowableReuseDuration, capped */
    bool authenticated;
    bool invalidated;
    int64_t auth_ms;     /* world clock of the approval */
    uint64_t auth_epoch; /* world_lock_epoch at the approval */
};

static CFStringRef la_copy_description(CFTypeRef obj) {
    const struct __LAContext *ctx = obj;
    char text[96];
    snprintf(text, sizeof text, "<LAContext reuse=%lldms%s%s>", (long long)ctx->reuse_ms,
             ctx->authenticated ? " authenticated" : "", ctx->invalidated ? " invalidated" : "");
    return CFStringCreateWithCString(NULL, text, kCFStringEncodingUTF8);
}

static const kc_cf_class la_context_class = {
    .type_id = LA_CONTEXT_TYPE_ID,
    .name = "LAContext",
    .copy_description = la_copy_description,
};

CFTypeID LAContextGetTypeID(void) { return LA_CONTEXT_TYPE_ID; }

/* The context behind a reference passed to `function`; NULL (misuse
 * reported) if it is not a live LAContext. */
static struct __LAContext *context_of(LAContextRef ref, const char *function) {
    const void *checked = kc_cf_object_cast(ref, LA_CONTEXT_TYPE_ID, function);
    return (struct __LAContext *)(uintptr_t)checked;
}

static bool policy_known(LAPolicy policy) {
    return policy == kLAPolicyDeviceOwnerAuthenticationWithBiometrics ||
           policy == kLAPolicyDeviceOwnerAuthentication;
}

static const char *policy_name(LAPolicy policy) {
    return policy == kLAPolicyDeviceOwnerAuthenticationWithBiometrics ? "biometrics" : "owner";
}

static void set_error(CFErrorRef *error, CFIndex code) {
    if (error != NULL)
        *error = code != 0 ? CFErrorCreate(NULL, LAErrorDomain, code, NULL) : NULL;
}

static int64_t reuse_cap_ms(const world *w) {
    int64_t cap = w != NULL
                      ? world_knob_value(w, WORLD_KNOB_LA_MAX_REUSE_MS)
                      : (int64_t)(LATouchIDAuthenticationMaximumAllowableReuseDuration * 1000);
    return cap > 0 ? cap : 0;
}

/* Does the context still belong to the process now running in `w`? */
static bool context_is_ours(const struct __LAContext *ctx, const world *w) {
    return w != NULL && ctx->w == w && ctx->owner == world_current(w) &&
           (ctx->owner < 0 || world_process_generation(w, ctx->owner) == ctx->owner_generation);
}

LAContextRef LAContextCreate(void) {
    struct __LAContext *ctx = kc_cf_object_create(&la_context_class, sizeof *ctx);
    if (ctx == NULL)
        return NULL;
    const world *w = world_active();
    ctx->w = w;
    ctx->owner = w != NULL ? world_current(w) : -1;
    ctx->owner_generation = ctx->owner >= 0 ? world_process_generation(w, ctx->owner) : 0;
    return ctx;
}

void LAContextSetTouchIDAuthenticationAllowableReuseDuration(LAContextRef context, double seconds) {
    struct __LAContext *ctx =
        context_of(context, "LAContextSetTouchIDAuthenticationAllowableReuseDuration");
    if (ctx == NULL)
        return;
    int64_t cap = reuse_cap_ms(world_active());
    if (isnan(seconds) || seconds <= 0)
        ctx->reuse_ms = 0;
    else if (seconds * 1000.0 >= (double)cap)
        ctx->reuse_ms = cap;
    else
        ctx->reuse_ms = (int64_t)(seconds * 1000.0);
}

double LAContextGetTouchIDAuthenticationAllowableReuseDuration(LAContextRef context) {
    const struct __LAContext *ctx =
        context_of(context, "LAContextGetTouchIDAuthenticationAllowableReuseDuration");
    return ctx != NULL ? (double)ctx->reuse_ms / 1000.0 : 0.0;
}

/* Why evaluatePolicy could not show its prompt now (0: it could). */
static CFIndex cannot_evaluate(const struct __LAContext *ctx, LAPolicy policy, const world *w) {
    if (w == NULL)
        return LAErrorNotInteractive;
    if (ctx->invalidated || !context_is_ours(ctx, w))
        return LAErrorInvalidContext;
    if (!world_prompt_possible(w, world_current(w)))
        return LAErrorNotInteractive;
    bool biometry = world_device_biometry(w);
    bool can_authenticate = policy == kLAPolicyDeviceOwnerAuthenticationWithBiometrics
                                ? biometry
                                : biometry || world_device_passcode(w);
    if (!can_authenticate)
        return LAErrorPasscodeNotSet;
    return 0;
}

Boolean LAContextCanEvaluatePolicy(LAContextRef context, LAPolicy policy, CFErrorRef *error) {
    const struct __LAContext *ctx = context_of(context, "LAContextCanEvaluatePolicy");
    if (ctx == NULL || !policy_known(policy)) {
        if (ctx != NULL)
            kc_cf_report_misuse("LAContextCanEvaluatePolicy called with an unknown policy %d",
                                (int)policy);
        set_error(error, 0);
        return false;
    }
    CFIndex code = cannot_evaluate(ctx, policy, world_active());
    set_error(error, code);
    return code == 0;
}

/* The localized reason as one journal token: printable ASCII, no spaces, at
 * most 40 characters. */
static void reason_token(CFStringRef reason, char *out, size_t size) {
    snprintf(out, size, "-");
    if (reason == NULL || CFGetTypeID(reason) != CFStringGetTypeID())
        return;
    char text[41];
    if (!CFStringGetCString(reason, text, sizeof text, kCFStringEncodingUTF8)) {
        /* Too long or not representable: keep what fits of the UTF-8 bytes. */
        const char *p = CFStringGetCStringPtr(reason, kCFStringEncodingUTF8);
        snprintf(text, sizeof text, "%s", p != NULL ? p : "");
    }
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && n + 1 < size; p++)
        out[n++] = *p > ' ' && *p < 0x7f ? (char)*p : '_';
    out[n > 0 ? n : 1] = '\0';
}

int32_t la_answer_status(world_answer a) {
    switch (a) {
    case WORLD_ANSWER_APPROVE:
        return 0;
    case WORLD_ANSWER_CANCEL:
        return LAErrorUserCancel;
    case WORLD_ANSWER_FAIL:
        return LAErrorAuthenticationFailed;
    case WORLD_ANSWER_ABSENT:
    default:
        return LAErrorSystemCancel;
    }
}

static int32_t evaluate(struct __LAContext *ctx, LAPolicy policy, CFStringRef reason, world *w) {
    CFIndex refused = cannot_evaluate(ctx, policy, w);
    if (refused != 0)
        return (int32_t)refused; /* no prompt: no answer consumed */
    char about[48];
    reason_token(reason, about, sizeof about);
    world_answer answer = world_prompt_show(w, WORLD_PROMPT_LA_EVALUATE, about);
    if (answer == WORLD_ANSWER_APPROVE) {
        ctx->authenticated = true;
        ctx->auth_ms = world_now_ms(w);
        ctx->auth_epoch = world_lock_epoch(w);
    }
    return la_answer_status(answer);
}

Boolean LAContextEvaluatePolicy(LAContextRef context, LAPolicy policy, CFStringRef localizedReason,
                                CFErrorRef *error) {
    struct __LAContext *ctx = context_of(context, "LAContextEvaluatePolicy");
    if (ctx == NULL || !policy_known(policy)) {
        if (ctx != NULL)
            kc_cf_report_misuse("LAContextEvaluatePolicy called with an unknown policy %d",
                                (int)policy);
        set_error(error, 0);
        return false;
    }
    world *w = world_active();
    if (w == NULL) {
        set_error(error, LAErrorNotInteractive);
        return false;
    }
    world_call call;
    world_call_begin(w, &call, WORLD_API_LA_EVALUATE_POLICY);
    snprintf(call.detail, sizeof call.detail, "policy=%s", policy_name(policy));
    int32_t status;
    if (!world_call_faulted(w, &call, &status) || status == 0)
        status = evaluate(ctx, policy, localizedReason, w);
    status = world_call_end(w, &call, status);
    set_error(error, status);
    return status == 0;
}

void LAContextInvalidate(LAContextRef context) {
    struct __LAContext *ctx = context_of(context, "LAContextInvalidate");
    if (ctx == NULL)
        return;
    ctx->invalidated = true;
    ctx->authenticated = false;
}

bool la_context_reusable(LAContextRef context, const world *w) {
    if (context == NULL)
        return false;
    const struct __LAContext *ctx = context_of(context, "la_context_reusable");
    if (ctx == NULL || !ctx->authenticated || ctx->invalidated || !context_is_ours(ctx, w))
        return false;
    int64_t window = ctx->reuse_ms < reuse_cap_ms(w) ? ctx->reuse_ms : reuse_cap_ms(w);
    if (world_knob_value(w, WORLD_KNOB_LA_REUSE_ENDS_AT_LOCK) &&
        world_lock_epoch(w) != ctx->auth_epoch)
        return false;
    return world_now_ms(w) - ctx->auth_ms <= window;
}

bool la_context_invalidated(LAContextRef context) {
    if (context == NULL)
        return false;
    const struct __LAContext *ctx = context_of(context, "la_context_invalidated");
    return ctx != NULL && ctx->invalidated;
}
