/* The signer: sign with presence none / strict / cached (domain.md §6).
 *
 * A context is needed only when something needs presence (ours): the SE key
 * has an auth policy, or the wrapping key must be read from the keychain and
 * its item is presence-protected (as the key's .meta records). Cached mode
 * uses the registry's context for the sign's TTL and passes it to both the
 * keychain load and the SE sign; strict and none use a one-shot context. */
#include "core_internal.h"

#include <CryptoKit/SecureEnclave.h>

#include <string.h>

/* The one place that decides whether a sign acquires a LAContext (L2). */
static bool needs_context(const ref_core *core, const ref_meta *meta, bool wrapped,
                          bool key_cached) {
    if (core_mut(core, REF_MUT_PR171_LACONTEXT_WITHOUT_PRESENCE))
        return true; /* the bug: decided by configuration, not by need */
    if (meta->auth != REF_AUTH_NONE)
        return true;
    return wrapped && !key_cached && meta->wrapping_presence;
}

/* The context given to the keychain load. */
static LAContextRef context_for_load(const ref_core *core, LAContextRef ctx) {
    if (core_mut(core, REF_MUT_PR118_TWO_PROMPTS))
        return NULL; /* the bug: the keychain read prompts on its own */
    return ctx;
}

ref_error ref_core_sign(ref_core *core, const char *label, const void *msg, size_t len,
                        ref_presence presence, int64_t ttl_ms, CFDataRef *signature) {
    if (signature != NULL)
        *signature = NULL;
    core_op_begin(core, "sign", label);
    if (!ref_label_valid(label))
        return core_op_end(core, core_fail(core, REF_ERR_INVALID_LABEL, NULL));
    if (signature == NULL)
        return core_op_end(core, core_fail_code(core, REF_BRIDGE_BUFFER_TOO_SMALL,
                                                "sign: no signature out-parameter"));
    if ((msg == NULL && len > 0) ||
        (presence != REF_PRESENCE_KEY_DEFAULT && ref_presence_name(presence) == NULL) ||
        (ttl_ms < 0 && ttl_ms != REF_TTL_DEFAULT))
        return core_op_end(core, core_fail(core, REF_ERR_KEY_OPERATION,
                                           "sign: bad argument (message, presence mode or TTL)"));
    CFDataRef handle = NULL;
    int frc = kf_read(core, label, KF_HANDLE, &handle);
    if (frc != 0 || handle == NULL) {
        if (handle != NULL)
            CFRelease(handle);
        ref_error err = kf_absent(frc) ? core_fail(core, REF_ERR_KEY_NOT_FOUND, NULL)
                                       : core_fail_code(core, REF_BRIDGE_LOAD,
                                                        "reading the handle file failed (%d)", frc);
        if (ref_errmap_evicts_lacontext(err, core->cfg.mutants))
            la_evict(core, label);
        return core_op_end(core, err);
    }
    ref_meta meta = kf_meta(core, label);
    if (presence == REF_PRESENCE_KEY_DEFAULT)
        presence = meta.presence;
    if (ttl_ms < 0)
        ttl_ms = core->cfg.cache_ttl_ms;

    bool wrapped = ref_ehw1_is_wrapped(CFDataGetBytePtr(handle), (size_t)CFDataGetLength(handle));
    bool cached = wrapped && cache_peek(core, label);
    LAContextRef ctx = NULL;
    if (needs_context(core, &meta, wrapped, cached)) {
        if (presence == REF_PRESENCE_CACHED)
            ctx = la_acquire(core, label, ttl_ms);
        else
            ctx = la_one_shot(core, label);
    }

    unwrap_opts opts = {context_for_load(core, ctx), true, true};
    plain_handle plain;
    ref_error err = unwrap_handle(core, label, handle, &opts, &plain);
    CFRelease(handle);
    if (err == REF_OK) {
        CFDataRef blob = CFDataCreate(NULL, plain.bytes, (CFIndex)plain.len);
        CFDataRef message = CFDataCreate(NULL, msg != NULL ? msg : (const void *)"", (CFIndex)len);
        plain_free(&plain);
        CFDataRef sig = NULL;
        OSStatus st =
            blob != NULL && message != NULL ? SEKeySign(blob, message, ctx, &sig) : errSecAllocate;
        if (blob != NULL)
            CFRelease(blob);
        if (message != NULL)
            CFRelease(message);
        core_note_status(core, st);
        int code = ref_errmap_sign(st);
        core_emit(core, REF_EV_MAPPED, label, "se_sign", st, code);
        if (code == REF_BRIDGE_OK && sig != NULL) {
            *signature = sig;
        } else {
            if (sig != NULL)
                CFRelease(sig);
            if (code == REF_BRIDGE_OK)
                code = REF_BRIDGE_SIGN;
            const char *name = ref_status_name(st);
            err = core_fail_code(core, code, "SE sign returned %d (%s)", (int)st,
                                 name != NULL ? name : "unknown status");
        }
    }
    if (ctx != NULL) {
        if (presence == REF_PRESENCE_CACHED)
            CFRelease(ctx); /* the registry keeps its own reference */
        else
            la_release_one_shot(ctx);
    }
    if (err != REF_OK && ref_errmap_evicts_lacontext(err, core->cfg.mutants))
        la_evict(core, label);
    return core_op_end(core, err);
}
