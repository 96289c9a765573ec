/* The .meta file: a flat JSON object of strings, booleans and integers. */
#include "ref/meta.h"

#include <stdio.h>
#include <string.h>

static const char *const auth_names[] = {"none", "any", "biometry", "passcode"};
static const char *const presence_names[] = {"none", "strict", "cached"};

const char *ref_auth_name(ref_auth a) {
    if ((int)a < 0 || (int)a > REF_AUTH_PASSCODE)
        return NULL;
    return auth_names[a];
}

bool ref_auth_from_name(const char *name, ref_auth *out) {
    for (int i = 0; name != NULL && i <= REF_AUTH_PASSCODE; i++) {
        if (strcmp(name, auth_names[i]) == 0) {
            *out = (ref_auth)i;
            return true;
        }
    }
    return false;
}

const char *ref_presence_name(ref_presence p) {
    if ((int)p < 0 || (int)p > REF_PRESENCE_CACHED)
        return NULL;
    return presence_names[p];
}

bool ref_presence_from_name(const char *name, ref_presence *out) {
    for (int i = 0; name != NULL && i <= REF_PRESENCE_CACHED; i++) {
        if (strcmp(name, presence_names[i]) == 0) {
            *out = (ref_presence)i;
            return true;
        }
    }
    return false;
}

size_t ref_meta_format(const ref_meta *meta, char *buf, size_t cap) {
    const char *auth = ref_auth_name(meta->auth);
    const char *presence = ref_presence_name(meta->presence);
    if (auth == NULL || presence == NULL || cap == 0)
        return 0;
    int n = snprintf(buf, cap,
                     "{\"version\":1,\"type\":\"signing\",\"auth\":\"%s\",\"presence\":\"%s\","
                     "\"wrapping_presence\":%s}\n",
                     auth, presence, meta->wrapping_presence ? "true" : "false");
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* ---- A small parser for one flat object -------------------------------------- */

typedef struct {
    const char *p;
    const char *end;
} cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool take(cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A string without escapes (our values never need them), into buf. */
static bool read_string(cursor *c, char *buf, size_t cap) {
    if (!take(c, '"'))
        return false;
    size_t n = 0;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\' || n + 1 >= cap)
            return false;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return false;
    c->p++;
    buf[n] = '\0';
    return true;
}

static bool read_word(cursor *c, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    c->p += n;
    return true;
}

bool ref_meta_parse(const char *data, size_t len, ref_meta *out) {
    if (data == NULL)
        return false;
    cursor c = {data, data + len};
    ref_meta m = {REF_AUTH_NONE, REF_PRESENCE_NONE, false};
    bool have_auth = false, have_presence = false;
    if (!take(&c, '{'))
        return false;
    if (take(&c, '}'))
        return false;
    for (;;) {
        char key[32], sval[32];
        if (!read_string(&c, key, sizeof key) || !take(&c, ':'))
            return false;
        skip_ws(&c);
        if (c.p >= c.end)
            return false;
        if (*c.p == '"') {
            if (!read_string(&c, sval, sizeof sval))
                return false;
            if (strcmp(key, "auth") == 0) {
                if (!ref_auth_from_name(sval, &m.auth))
                    return false;
                have_auth = true;
            } else if (strcmp(key, "presence") == 0) {
                if (!ref_presence_from_name(sval, &m.presence))
                    return false;
                have_presence = true;
            } else if (strcmp(key, "type") == 0 && strcmp(sval, "signing") != 0) {
                return false; /* signing keys only, for now */
            }
        } else if (read_word(&c, "true") || read_word(&c, "false")) {
            if (strcmp(key, "wrapping_presence") == 0)
                m.wrapping_presence = c.p[-1] == 'e' && c.p[-2] == 'u';
        } else {
            bool digits = false;
            while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
                c.p++;
                digits = true;
            }
            if (!digits)
                return false;
        }
        if (take(&c, ','))
            continue;
        if (take(&c, '}'))
            break;
        return false;
    }
    skip_ws(&c);
    if (c.p != c.end || !have_auth || !have_presence)
        return false;
    *out = m;
    return true;
}
