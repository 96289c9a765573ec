/* Key attributes and the `<label>.meta` file (domain.md §1).
 *
 * The meta file is a one-line JSON object, written by generate (and by the
 * scenario engine's `plant`, which must use ref_meta_format so both agree):
 *
 *   {"version":1,"type":"signing","auth":"none","presence":"none",
 *    "wrapping_presence":false}
 *
 * `wrapping_presence` records whether the wrapping-key item ended up
 * presence-protected (after store fallbacks); sign decides from it whether a
 * LAContext is needed. Pure functions.
 */
#ifndef REF_META_H
#define REF_META_H

#include <stdbool.h>
#include <stddef.h>

/* The SE key's auth policy (the flag added to .privateKeyUsage). */
typedef enum {
    REF_AUTH_NONE,     /* CryptoKit's default access control */
    REF_AUTH_ANY,      /* .userPresence */
    REF_AUTH_BIOMETRY, /* .biometryAny */
    REF_AUTH_PASSCODE, /* .devicePasscode */
} ref_auth;

/* How a sign uses LAContexts. */
typedef enum {
    REF_PRESENCE_NONE,             /* a one-shot context, only when one is needed */
    REF_PRESENCE_STRICT,           /* a one-shot context per sign */
    REF_PRESENCE_CACHED,           /* the registry's context, for the sign's TTL */
    REF_PRESENCE_KEY_DEFAULT = -1, /* sign: the mode recorded in the key's .meta */
} ref_presence;

const char *ref_auth_name(ref_auth a); /* "none", "any", ... or NULL */
bool ref_auth_from_name(const char *name, ref_auth *out);
const char *ref_presence_name(ref_presence p); /* "none", "strict", "cached" or NULL */
bool ref_presence_from_name(const char *name, ref_presence *out);

typedef struct {
    ref_auth auth;
    ref_presence presence;  /* the key's default sign mode */
    bool wrapping_presence; /* the wrapping-key item is presence-protected */
} ref_meta;

#define REF_META_MAX 256

/* Writes the JSON form (NUL-terminated). Returns its length, or 0 if cap is
 * too small. */
size_t ref_meta_format(const ref_meta *meta, char *buf, size_t cap);

/* Parses a meta file (not NUL-terminated). Accepts any key order and
 * whitespace, ignores unknown keys; requires "auth" and "presence". */
bool ref_meta_parse(const char *data, size_t len, ref_meta *out);

#endif
