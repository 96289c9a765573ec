/* The `.kcs` parser (scenario-language.md): lexing, statements, names.
 *
 * Every malformed input gets exactly one "file:line: message" and -1; the
 * first error stops the parse and everything built so far is freed. Nothing
 * here trusts the input: lines of any length, any bytes, numbers of any size.
 *
 * Lexical rules (decided here where the language page is silent):
 *  - Lines end with '\n'; one '\r' before it is ignored (CRLF files).
 *  - Words are separated by blanks (space, tab). Any other control byte (and
 *    NUL, and DEL) outside a comment is an error: a label is passed to the
 *    core verbatim, and an invisible byte in a test is never intended.
 *  - `#` starts a comment when it begins a word (at the start of the line or
 *    after a blank), as in a shell: `k#1` is one word, `k1 # note` is `k1`.
 *    Inside quoted text `#` is text.
 *  - Quoted text ("...", with \" and \\ as the only escapes) is allowed only
 *    where the language has it: the text of `expect last-error` and
 *    `expect warning`. It must be followed by a blank, a comment or the end.
 *  - `doc` takes the rest of the line as free text (quotes are plain text
 *    there), up to a comment.
 *
 * Statement rules beyond the page:
 *  - `doc`, `tags`, `guards` may appear anywhere inside a scenario (they are
 *    metadata, not steps); `knob` too, and it takes effect at its position.
 *  - Processes must be declared (`process`) before any statement names them;
 *    `proc=` of an expectation defaults to the first process declared so far.
 *  - Repeated names are errors: a second `process agent`, a second scenario
 *    of the same name in one file.
 *  - `fault`, `expect calls` and `fault crash` accept every API the world
 *    counts (world_api_from_name: also SEDelete, SEPublicKey, SecKeychain,
 *    FileWrite, FileRead, FileRename, FileUnlink, FileLock, FileUnlock), a
 *    superset of the page's list: the language may grow, and file faults are
 *    what "rename and delete with a fault at each step" needs.
 *  - `user <answer> x<N>`: 1 <= N <= 10000 (each answer is queued).
 *    `nth=`/`times=`: 1 .. 4294967295.
 *  - Durations are at most 100000h (a range check, reported "out of range"
 *    like an overflow): the core and the world add them to the clock.
 *  - `knob <name>=<value>`: a non-negative integer (milliseconds for
 *    duration knobs, 0/1 for switches), a duration (`10s`), or
 *    on/off/yes/no/true/false; at most 100000h worth of milliseconds.
 *  - Options that cannot apply are errors: `expect item ... exists=no` with
 *    accessible/keychain/presence, `plant ... handle=plaintext` with
 *    accessible/presence.
 *  - `parallel` holds only operations; an empty block, a nested `parallel`,
 *    an `end` without `parallel` and a block still open at the next
 *    `scenario` or at the end of the file (reported at the `parallel` line)
 *    are errors.
 *  - `sweep crash <process>: <operation> [-> <outcome>]` takes an operation
 *    statement after `sweep crash`: generate, sign, load, pubkey, rename or
 *    delete (the others make no call to crash after). Not inside `parallel`.
 *  - `knob explore_bound=N` (1 .. 100000000) is the explorer's bound for the
 *    scenario (metadata, no step; the last one counts).
 *  - A file without any `scenario` is an error (line 1).
 */
#include "kcs/ast.h"
#include "kcs/engine.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KCS_MAX_FILE_BYTES (64u * 1024u * 1024u)
#define KCS_MAX_USER_TIMES 10000u
/* The longest duration (and largest knob value): 100000 h, about 11 years.
 * The core and the world add durations to the clock in int64 milliseconds;
 * this keeps every such sum far from overflow. */
#define KCS_MAX_DURATION_MS ((int64_t)100000 * 3600 * 1000)

/* ---- Names ------------------------------------------------------------------------- */

static const char *const op_names[] = {
    [KCS_OP_GENERATE] = "generate", [KCS_OP_SIGN] = "sign",       [KCS_OP_LOAD] = "load",
    [KCS_OP_PUBKEY] = "pubkey",     [KCS_OP_RENAME] = "rename",   [KCS_OP_DELETE] = "delete",
    [KCS_OP_EVICT] = "evict",       [KCS_OP_RESTART] = "restart", [KCS_OP_REBUILD] = "rebuild",
    [KCS_OP_PLANT] = "plant",
};

const char *kcs_op_name(kcs_op_kind kind) {
    return (unsigned)kind < sizeof op_names / sizeof op_names[0] ? op_names[kind] : "?";
}

static const char *const cmp_names[] = {"==", "!=", "<", "<=", ">", ">="};

const char *kcs_cmp_name(kcs_cmp cmp) {
    return (unsigned)cmp < sizeof cmp_names / sizeof cmp_names[0] ? cmp_names[cmp] : "?";
}

bool kcs_cmp_holds(kcs_cmp cmp, uint64_t a, uint64_t b) {
    switch (cmp) {
    case KCS_CMP_EQ:
        return a == b;
    case KCS_CMP_NE:
        return a != b;
    case KCS_CMP_LT:
        return a < b;
    case KCS_CMP_LE:
        return a <= b;
    case KCS_CMP_GT:
        return a > b;
    case KCS_CMP_GE:
        return a >= b;
    }
    return false;
}

/* ---- Freeing ------------------------------------------------------------------------- */

static void stmt_free(kcs_stmt *st) {
    if (st == NULL)
        return;
    free(st->text);
    switch (st->kind) {
    case KCS_ST_FAULT:
        free(st->u.fault.match);
        break;
    case KCS_ST_OP:
    case KCS_ST_SWEEP:
        free(st->u.op.label);
        free(st->u.op.label2);
        break;
    case KCS_ST_EXPECT_ITEM:
        free(st->u.item.label);
        break;
    case KCS_ST_EXPECT_SEKEY:
        free(st->u.sekey.label);
        break;
    case KCS_ST_EXPECT_CACHE:
    case KCS_ST_EXPECT_LACONTEXT:
        free(st->u.memory.label);
        break;
    case KCS_ST_EXPECT_LAST_ERROR:
    case KCS_ST_EXPECT_WARNING:
        free(st->u.contains.text);
        break;
    case KCS_ST_EXPECT_USABLE:
    case KCS_ST_EXPECT_FILES:
        free(st->u.key.label);
        break;
    case KCS_ST_PARALLEL:
        for (size_t i = 0; i < st->u.parallel.count; i++)
            stmt_free(&st->u.parallel.body[i]);
        free(st->u.parallel.body);
        break;
    default:
        break;
    }
    memset(st, 0, sizeof *st);
}

static void scenario_free(kcs_scenario *sc) {
    free(sc->name);
    free(sc->doc);
    for (size_t i = 0; i < sc->ntags; i++)
        free(sc->tags[i]);
    free(sc->tags);
    for (size_t i = 0; i < sc->nprocs; i++) {
        free(sc->procs[i].name);
        free(sc->procs[i].app);
        free(sc->procs[i].group);
    }
    free(sc->procs);
    for (size_t i = 0; i < sc->nstmts; i++)
        stmt_free(&sc->stmts[i]);
    free(sc->stmts);
}

void kcs_file_free(kcs_file *file) {
    if (file == NULL)
        return;
    for (size_t i = 0; i < file->count; i++)
        scenario_free(&file->scenarios[i]);
    free(file->scenarios);
    free(file->path);
    free(file);
}

/* ---- Parser state -------------------------------------------------------------------- */

typedef struct {
    char *s;
    bool quoted;
} token;

typedef struct {
    const char *name;
    int line;
    char *err;
    size_t err_size;
    bool failed;

    kcs_file *file;
    kcs_scenario *sc; /* the open scenario, or NULL */
    bool in_parallel;
    size_t par_index; /* index of the open parallel statement in sc->stmts */
    int par_line;

    /* The current line: a mutable copy, its tokens and where its comment starts. */
    const char *raw; /* the line as in the input (not NUL-terminated) */
    size_t raw_len;
    char *buf;
    size_t buf_cap;
    token *toks;
    size_t ntoks, toks_cap;
    size_t text_begin, text_end; /* the statement without comment or outer blanks */
} parser;

static int fail_at(parser *p, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail_at(parser *p, int line, const char *fmt, ...) {
    if (p->failed)
        return -1;
    p->failed = true;
    if (p->err == NULL || p->err_size == 0)
        return -1;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->err_size, "%s:%d: %s", p->name, line, msg);
    return -1;
}

#define FAIL(p, ...) fail_at((p), (p)->line, __VA_ARGS__)

/* Shows a user word in a message: printable ASCII as is, other bytes as \xNN,
 * cut after 48 bytes. */
static const char *shown(const char *word, char *buf, size_t cap) {
    size_t o = 0;
    size_t i = 0;
    for (; word[i] != '\0' && i < 48 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)word[i];
        if (c >= 0x20 && c < 0x7f) {
            buf[o++] = (char)c;
        } else {
            snprintf(buf + o, cap - o, "\\x%02x", c);
            o += 4;
        }
    }
    if (word[i] != '\0' && o + 4 < cap) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

#define SHOW(word) shown((word), (char[240]){0}, 240)

static char *dup_str(parser *p, const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c == NULL) {
        FAIL(p, "out of memory");
        return NULL;
    }
    memcpy(c, s, n);
    return c;
}

static char *dup_mem(parser *p, const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (c == NULL) {
        FAIL(p, "out of memory");
        return NULL;
    }
    if (n > 0)
        memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static int grow(parser *p, void **vec, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 4;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return FAIL(p, "out of memory");
        ncap *= 2;
    }
    void *g = realloc(*vec, ncap * elem);
    if (g == NULL)
        return FAIL(p, "out of memory");
    *vec = g;
    *cap = ncap;
    return 0;
}

/* ---- Lexing ---------------------------------------------------------------------------- */

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static int check_byte(parser *p, unsigned char c) {
    if (c == '\0')
        return FAIL(p, "NUL byte in the line");
    if ((c < 0x20 && c != '\t') || c == 0x7f)
        return FAIL(p, "control character 0x%02x in the line", c);
    return 0;
}

static int push_token(parser *p, char *s, bool quoted) {
    if (grow(p, (void **)&p->toks, &p->toks_cap, p->ntoks + 1, sizeof *p->toks) != 0)
        return -1;
    p->toks[p->ntoks].s = s;
    p->toks[p->ntoks].quoted = quoted;
    p->ntoks++;
    return 0;
}

/* Is the first word of the line `doc`? Then its text is free. */
static bool line_is_doc(const char *s, size_t n, size_t *after) {
    size_t i = 0;
    while (i < n && is_blank(s[i]))
        i++;
    if (n - i >= 3 && memcmp(s + i, "doc", 3) == 0 && (i + 3 == n || is_blank(s[i + 3]))) {
        *after = i + 3;
        return true;
    }
    return false;
}

/* Splits the current line into tokens (in p->buf). */
static int lex(parser *p) {
    size_t n = p->raw_len;
    if (n > 0 && p->raw[n - 1] == '\r')
        n--;
    if (grow(p, (void **)&p->buf, &p->buf_cap, n + 1, 1) != 0)
        return -1;
    memcpy(p->buf, p->raw, n);
    p->buf[n] = '\0';
    p->ntoks = 0;
    char *b = p->buf;

    size_t first = 0;
    while (first < n && is_blank(b[first]))
        first++;
    p->text_begin = first;

    size_t after = 0;
    if (line_is_doc(b, n, &after)) {
        /* doc: the keyword, then the rest of the line as one free-text token. */
        size_t i = after;
        while (i < n && is_blank(b[i]))
            i++;
        size_t start = i;
        size_t end = i;
        for (; i < n; i++) {
            if (b[i] == '#' && (i == 0 || is_blank(b[i - 1])))
                break;
            if (check_byte(p, (unsigned char)b[i]) != 0)
                return -1;
            if (!is_blank(b[i]))
                end = i + 1;
        }
        p->text_end = end;
        b[after] = '\0';
        if (push_token(p, b + first, false) != 0)
            return -1;
        b[end] = '\0';
        if (end > start && push_token(p, b + start, false) != 0)
            return -1;
        return 0;
    }

    size_t i = 0;
    size_t text_end = first;
    while (i < n) {
        while (i < n && is_blank(b[i]))
            i++;
        if (i >= n)
            break;
        if (b[i] == '#')
            break; /* a comment: it begins a word */
        if (b[i] == '"') {
            size_t w = i, j = i + 1;
            for (;;) {
                if (j >= n)
                    return FAIL(p, "unterminated quoted text");
                char c = b[j];
                if (c == '\\') {
                    if (j + 1 < n && (b[j + 1] == '"' || b[j + 1] == '\\')) {
                        b[w++] = b[j + 1];
                        j += 2;
                        continue;
                    }
                    return FAIL(p, "bad escape in quoted text (only \\\" and \\\\)");
                }
                if (c == '"') {
                    j++;
                    break;
                }
                if (check_byte(p, (unsigned char)c) != 0)
                    return -1;
                b[w++] = c;
                j++;
            }
            if (j < n && !is_blank(b[j]))
                return FAIL(p, "unexpected text right after quoted text");
            b[w] = '\0';
            if (push_token(p, b + i, true) != 0)
                return -1;
            text_end = j;
            i = j;
            continue;
        }
        size_t start = i;
        while (i < n && !is_blank(b[i])) {
            if (check_byte(p, (unsigned char)b[i]) != 0)
                return -1;
            i++;
        }
        text_end = i;
        b[i] = '\0'; /* a blank or the terminator */
        if (i < n)
            i++;
        if (push_token(p, b + start, false) != 0)
            return -1;
    }
    p->text_end = text_end;
    return 0;
}

/* The statement's text as written (comment removed). */
static char *stmt_text(parser *p) {
    size_t b = p->text_begin, e = p->text_end;
    if (e < b)
        e = b;
    if (e > p->raw_len)
        e = p->raw_len;
    return dup_mem(p, p->raw + b, e - b);
}

/* ---- Small value parsers ---------------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *out) {
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (*s != '\0')
        return false;
    *out = v;
    return true;
}

/* An integer with ms, s, m or h: milliseconds in *out. 1 on success, 0 on a
 * malformed duration, -1 on overflow. */
static int parse_duration(const char *s, int64_t *out) {
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    const char *u = s;
    while (*u >= '0' && *u <= '9')
        u++;
    int64_t factor;
    if (strcmp(u, "ms") == 0)
        factor = 1;
    else if (strcmp(u, "s") == 0)
        factor = 1000;
    else if (strcmp(u, "m") == 0)
        factor = 60 * 1000;
    else if (strcmp(u, "h") == 0)
        factor = 60 * 60 * 1000;
    else
        return 0;
    int64_t v = 0;
    for (const char *d = s; d < u; d++) {
        int64_t digit = *d - '0';
        if (v > (INT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    if (v > KCS_MAX_DURATION_MS / factor)
        return -1;
    *out = v * factor;
    return 1;
}

static int want_duration(parser *p, const char *what, const char *value, int64_t *out) {
    int r = parse_duration(value, out);
    if (r > 0)
        return 0;
    if (r < 0)
        return FAIL(p, "bad duration '%s' for %s: out of range (at most 100000h)", SHOW(value),
                    what);
    return FAIL(p, "bad duration '%s' for %s (expected an integer with ms, s, m or h)", SHOW(value),
                what);
}

static int want_yesno(parser *p, const char *key, const char *value, bool *out) {
    if (strcmp(value, "yes") == 0)
        *out = true;
    else if (strcmp(value, "no") == 0)
        *out = false;
    else
        return FAIL(p, "bad value '%s' for %s (expected yes or no)", SHOW(value), key);
    return 0;
}

static int want_onoff(parser *p, const char *what, const char *value, bool *out) {
    if (strcmp(value, "on") == 0)
        *out = true;
    else if (strcmp(value, "off") == 0)
        *out = false;
    else
        return FAIL(p, "bad value '%s' for %s (expected on or off)", SHOW(value), what);
    return 0;
}

static int want_count(parser *p, const char *key, const char *value, unsigned *out) {
    uint64_t v = 0;
    if (!parse_u64(value, &v) || v == 0 || v > UINT_MAX)
        return FAIL(p, "bad value '%s' for %s (expected an integer from 1 to %u)", SHOW(value), key,
                    UINT_MAX);
    *out = (unsigned)v;
    return 0;
}

static int want_class(parser *p, const char *value, world_class *out) {
    int c = world_class_from_name(value);
    if (c < 0)
        return FAIL(p,
                    "unknown protection class '%s' (expected a kSecAttrAccessible name without "
                    "the prefix, e.g. AfterFirstUnlockThisDeviceOnly)",
                    SHOW(value));
    *out = (world_class)c;
    return 0;
}

static int want_api(parser *p, const char *value, world_api *out) {
    int a = world_api_from_name(value);
    if (a < 0)
        return FAIL(p, "unknown api '%s'", SHOW(value));
    *out = (world_api)a;
    return 0;
}

static int want_auth(parser *p, const char *value, ref_auth *out) {
    if (!ref_auth_from_name(value, out))
        return FAIL(p, "bad value '%s' for auth (expected none, any, biometry or passcode)",
                    SHOW(value));
    return 0;
}

static int want_presence_mode(parser *p, const char *value, ref_presence *out) {
    if (!ref_presence_from_name(value, out))
        return FAIL(p, "bad value '%s' for presence (expected none, strict or cached)",
                    SHOW(value));
    return 0;
}

static int want_cmp(parser *p, const char *value, kcs_cmp *out) {
    for (size_t i = 0; i < sizeof cmp_names / sizeof cmp_names[0]; i++) {
        if (strcmp(value, cmp_names[i]) == 0) {
            *out = (kcs_cmp)i;
            return 0;
        }
    }
    return FAIL(p, "bad comparison '%s' (expected ==, !=, <, <=, > or >=)", SHOW(value));
}

static int want_number(parser *p, const char *value, uint64_t *out) {
    if (!parse_u64(value, out))
        return FAIL(p, "bad number '%s' (expected a non-negative integer)", SHOW(value));
    return 0;
}

static bool valid_name(const char *s) {
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* ---- Token helpers ------------------------------------------------------------------------ */

/* No quoted token from index `from` on. */
static int no_quoted(parser *p, size_t from) {
    for (size_t i = from; i < p->ntoks; i++)
        if (p->toks[i].quoted)
            return FAIL(p, "unexpected quoted text \"%s\"", SHOW(p->toks[i].s));
    return 0;
}

/* Exactly `n` tokens; `what` describes the statement for messages. */
static int want_tokens(parser *p, size_t n, const char *usage) {
    if (p->ntoks < n)
        return FAIL(p, "incomplete statement (usage: %s)", usage);
    if (p->ntoks > n)
        return FAIL(p, "unexpected '%s' at the end of the statement (usage: %s)",
                    SHOW(p->toks[n].s), usage);
    return 0;
}

static int need_tokens(parser *p, size_t n, const char *usage) {
    if (p->ntoks < n)
        return FAIL(p, "incomplete statement (usage: %s)", usage);
    return 0;
}

/* Options key=value from token `from` to `to` (exclusive), keys from `keys`,
 * values into `values` (NULL when absent). */
static int parse_options(parser *p, size_t from, size_t to, const char *const *keys, size_t nkeys,
                         const char **values, const char *stmt) {
    for (size_t k = 0; k < nkeys; k++)
        values[k] = NULL;
    for (size_t i = from; i < to; i++) {
        token *t = &p->toks[i];
        if (t->quoted)
            return FAIL(p, "unexpected quoted text \"%s\"", SHOW(t->s));
        char *eq = strchr(t->s, '=');
        if (eq == NULL)
            return FAIL(p, "unexpected '%s' (expected an option key=value of %s)", SHOW(t->s),
                        stmt);
        if (eq == t->s)
            return FAIL(p, "bad option '%s' (no key before '=')", SHOW(t->s));
        *eq = '\0';
        const char *key = t->s;
        const char *value = eq + 1;
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k], key) != 0)
            k++;
        if (k == nkeys)
            return FAIL(p, "unknown option '%s' for %s", SHOW(key), stmt);
        if (values[k] != NULL)
            return FAIL(p, "duplicate option '%s'", SHOW(key));
        if (*value == '\0')
            return FAIL(p, "empty value for option '%s'", SHOW(key));
        values[k] = value;
    }
    return 0;
}

/* A process named in a statement: declared earlier in this scenario. */
static int want_process(parser *p, const char *name, int *out) {
    for (size_t i = 0; i < p->sc->nprocs; i++) {
        if (strcmp(p->sc->procs[i].name, name) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return FAIL(p, "undeclared process '%s' (declare it with `process %s` first)", SHOW(name),
                SHOW(name));
}

/* proc= of an expectation, or the first process declared. */
static int default_process(parser *p, const char *value, int *out) {
    if (value != NULL)
        return want_process(p, value, out);
    if (p->sc->nprocs == 0)
        return FAIL(p, "no process declared yet (an expectation about a key needs one, or proc=)");
    *out = 0;
    return 0;
}

/* ---- Statements ---------------------------------------------------------------------------- */

static kcs_stmt *new_stmt(parser *p, kcs_stmt *st, kcs_stmt_kind kind) {
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->line = p->line;
    st->text = stmt_text(p);
    return st->text != NULL ? st : NULL;
}

/* Appends a finished statement to the scenario (or frees it on failure). */
static int push_stmt(parser *p, kcs_stmt *st) {
    kcs_scenario *sc = p->sc;
    if (grow(p, (void **)&sc->stmts, &sc->stmts_cap, sc->nstmts + 1, sizeof *sc->stmts) != 0) {
        stmt_free(st);
        return -1;
    }
    sc->stmts[sc->nstmts++] = *st;
    return 0;
}

static int parse_scenario(parser *p) {
    if (want_tokens(p, 2, "scenario <name>") != 0 || no_quoted(p, 1) != 0)
        return -1;
    const char *name = p->toks[1].s;
    if (!valid_name(name))
        return FAIL(p, "bad scenario name '%s' (letters, digits, '-', '_', '.')", SHOW(name));
    for (size_t i = 0; i < p->file->count; i++)
        if (strcmp(p->file->scenarios[i].name, name) == 0)
            return FAIL(p, "duplicate scenario name '%s' (first at line %d)", SHOW(name),
                        p->file->scenarios[i].line);
    kcs_file *f = p->file;
    if (grow(p, (void **)&f->scenarios, &f->cap, f->count + 1, sizeof *f->scenarios) != 0)
        return -1;
    kcs_scenario *sc = &f->scenarios[f->count];
    memset(sc, 0, sizeof *sc);
    sc->line = p->line;
    sc->name = dup_str(p, name);
    sc->doc = dup_str(p, "");
    if (sc->name == NULL || sc->doc == NULL) {
        free(sc->name);
        free(sc->doc);
        return -1;
    }
    f->count++;
    p->sc = sc;
    return 0;
}

static int parse_doc(parser *p) {
    if (p->ntoks < 2)
        return FAIL(p, "doc needs text (usage: doc <free text>)");
    const char *text = p->toks[1].s;
    kcs_scenario *sc = p->sc;
    size_t old = strlen(sc->doc), add = strlen(text);
    char *joined = realloc(sc->doc, old + (old ? 1 : 0) + add + 1);
    if (joined == NULL)
        return FAIL(p, "out of memory");
    if (old)
        joined[old++] = ' ';
    memcpy(joined + old, text, add + 1);
    sc->doc = joined;
    return 0;
}

static int parse_tags(parser *p) {
    if (need_tokens(p, 2, "tags <word>...") != 0 || no_quoted(p, 1) != 0)
        return -1;
    kcs_scenario *sc = p->sc;
    for (size_t i = 1; i < p->ntoks; i++) {
        size_t cap = sc->ntags;
        char **g = realloc(sc->tags, (cap + 1) * sizeof *g);
        if (g == NULL)
            return FAIL(p, "out of memory");
        sc->tags = g;
        char *t = dup_str(p, p->toks[i].s);
        if (t == NULL)
            return -1;
        sc->tags[sc->ntags++] = t;
    }
    return 0;
}

static int parse_guards(parser *p) {
    if (need_tokens(p, 2, "guards <mutant>...") != 0 || no_quoted(p, 1) != 0)
        return -1;
    for (size_t i = 1; i < p->ntoks; i++) {
        ref_mutant m = REF_MUT_COUNT;
        if (!ref_mutant_from_name(p->toks[i].s, &m))
            return FAIL(p, "unknown mutant '%s'", SHOW(p->toks[i].s));
        p->sc->guards |= REF_MUTANT_BIT(m);
    }
    return 0;
}

static int parse_knob(parser *p) {
    if (want_tokens(p, 2, "knob <name>=<value>") != 0 || no_quoted(p, 1) != 0)
        return -1;
    char *arg = p->toks[1].s;
    char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return FAIL(p, "bad knob '%s' (usage: knob <name>=<value>)", SHOW(arg));
    *eq = '\0';
    const char *value = eq + 1;
    if (strcmp(arg, "explore_bound") == 0) {
        /* The explorer's bound: scenario metadata, not a world knob. */
        uint64_t b = 0;
        if (!parse_u64(value, &b) || b == 0 || b > 100000000)
            return FAIL(p, "bad value '%s' for knob explore_bound (expected 1 .. 100000000)",
                        SHOW(value));
        p->sc->explore_bound = b;
        return 0;
    }
    int k = world_knob_from_name(arg);
    if (k < 0)
        return FAIL(p, "unknown knob '%s'", SHOW(arg));
    int64_t v = 0;
    uint64_t u = 0;
    if (strcmp(value, "on") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "true") == 0) {
        v = 1;
    } else if (strcmp(value, "off") == 0 || strcmp(value, "no") == 0 ||
               strcmp(value, "false") == 0) {
        v = 0;
    } else if (parse_u64(value, &u)) {
        if (u > (uint64_t)KCS_MAX_DURATION_MS)
            return FAIL(p, "bad value '%s' for knob %s: out of range", SHOW(value), arg);
        v = (int64_t)u;
    } else {
        int r = parse_duration(value, &v);
        if (r < 0)
            return FAIL(p, "bad duration '%s' for knob %s: out of range", SHOW(value), arg);
        if (r == 0)
            return FAIL(p, "bad value '%s' for knob %s (expected an integer, a duration or on/off)",
                        SHOW(value), arg);
    }
    kcs_stmt st;
    if (new_stmt(p, &st, KCS_ST_KNOB) == NULL)
        return -1;
    st.u.knob.knob = (world_knob)k;
    st.u.knob.value = v;
    return push_stmt(p, &st);
}

static int parse_device(parser *p) {
    static const char usage[] =
        "device boot|unlock|lock|sleep|wake|reboot, device passcode on|off, "
        "device biometry on|off";
    if (need_tokens(p, 2, usage) != 0 || no_quoted(p, 1) != 0)
        return -1;
    static const struct {
        const char *word;
        kcs_device_event ev;
    } simple[] = {{"boot", KCS_DEV_BOOT},   {"unlock", KCS_DEV_UNLOCK}, {"lock", KCS_DEV_LOCK},
                  {"sleep", KCS_DEV_SLEEP}, {"wake", KCS_DEV_WAKE},     {"reboot", KCS_DEV_REBOOT}};
    const char *w = p->toks[1].s;
    kcs_stmt st;
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        if (strcmp(w, simple[i].word) == 0) {
            if (want_tokens(p, 2, usage) != 0 || new_stmt(p, &st, KCS_ST_DEVICE) == NULL)
                return -1;
            st.u.device.event = simple[i].ev;
            return push_stmt(p, &st);
        }
    }
    kcs_device_event ev = KCS_DEV_BOOT;
    if (strcmp(w, "passcode") == 0)
        ev = KCS_DEV_PASSCODE;
    else if (strcmp(w, "biometry") == 0)
        ev = KCS_DEV_BIOMETRY;
    else
        return FAIL(p, "unknown device event '%s' (usage: %s)", SHOW(w), usage);
    bool on = false;
    if (want_tokens(p, 3, usage) != 0 || want_onoff(p, w, p->toks[2].s, &on) != 0 ||
        new_stmt(p, &st, KCS_ST_DEVICE) == NULL)
        return -1;
    st.u.device.event = ev;
    st.u.device.on = on;
    return push_stmt(p, &st);
}

static int parse_clock(parser *p) {
    if (want_tokens(p, 2, "clock +<duration>") != 0 || no_quoted(p, 1) != 0)
        return -1;
    const char *d = p->toks[1].s;
    if (d[0] != '+')
        return FAIL(p, "bad duration '%s' for clock (usage: clock +<duration>, e.g. clock +2h)",
                    SHOW(d));
    int64_t ms = 0;
    kcs_stmt st;
    if (want_duration(p, "clock", d + 1, &ms) != 0 || new_stmt(p, &st, KCS_ST_CLOCK) == NULL)
        return -1;
    st.u.clock.ms = ms;
    return push_stmt(p, &st);
}

static int parse_keychain(parser *p) {
    static const char usage[] = "keychain lock|unlock, keychain lock-on-sleep on|off";
    if (need_tokens(p, 2, usage) != 0 || no_quoted(p, 1) != 0)
        return -1;
    const char *w = p->toks[1].s;
    kcs_stmt st;
    if (strcmp(w, "lock") == 0 || strcmp(w, "unlock") == 0) {
        if (want_tokens(p, 2, usage) != 0 || new_stmt(p, &st, KCS_ST_KEYCHAIN) == NULL)
            return -1;
        st.u.keychain.event = w[0] == 'l' ? KCS_KC_LOCK : KCS_KC_UNLOCK;
        return push_stmt(p, &st);
    }
    if (strcmp(w, "lock-on-sleep") != 0)
        return FAIL(p, "unknown keychain event '%s' (usage: %s)", SHOW(w), usage);
    bool on = false;
    if (want_tokens(p, 3, usage) != 0 || want_onoff(p, "lock-on-sleep", p->toks[2].s, &on) != 0 ||
        new_stmt(p, &st, KCS_ST_KEYCHAIN) == NULL)
        return -1;
    st.u.keychain.event = KCS_KC_LOCK_ON_SLEEP;
    st.u.keychain.on = on;
    return push_stmt(p, &st);
}

static int want_answer(parser *p, const char *w, world_answer *out) {
    int a = world_answer_from_name(w);
    if (a < 0)
        return FAIL(p, "unknown answer '%s' (expected approve, cancel, fail or absent)", SHOW(w));
    *out = (world_answer)a;
    return 0;
}

static int parse_user(parser *p) {
    static const char usage[] =
        "user approve|cancel|fail|absent [x<N>], user default approve|cancel|fail|absent";
    if (need_tokens(p, 2, usage) != 0 || no_quoted(p, 1) != 0)
        return -1;
    kcs_stmt st;
    world_answer a = WORLD_ANSWER_APPROVE;
    if (strcmp(p->toks[1].s, "default") == 0) {
        if (want_tokens(p, 3, usage) != 0 || want_answer(p, p->toks[2].s, &a) != 0 ||
            new_stmt(p, &st, KCS_ST_USER) == NULL)
            return -1;
        st.u.user.answer = a;
        st.u.user.is_default = true;
        return push_stmt(p, &st);
    }
    if (want_answer(p, p->toks[1].s, &a) != 0)
        return -1;
    unsigned times = 1;
    if (p->ntoks > 2) {
        const char *x = p->toks[2].s;
        uint64_t n = 0;
        if (x[0] != 'x' || !parse_u64(x + 1, &n) || n == 0 || n > KCS_MAX_USER_TIMES)
            return FAIL(p, "bad repeat count '%s' (expected x<N> with N from 1 to %u)", SHOW(x),
                        KCS_MAX_USER_TIMES);
        times = (unsigned)n;
    }
    if (want_tokens(p, p->ntoks > 2 ? 3 : 2, usage) != 0 || new_stmt(p, &st, KCS_ST_USER) == NULL)
        return -1;
    st.u.user.answer = a;
    st.u.user.times = times;
    return push_stmt(p, &st);
}

static int parse_process(parser *p) {
    static const char usage[] =
        "process <name> [app=<app>] [signed=yes|no] [group=<access-group>|none] [gui=yes|no] "
        "[wrap-presence=yes|no] [cache-ttl=<duration>] [home-override=yes|no]";
    if (need_tokens(p, 2, usage) != 0 || no_quoted(p, 1) != 0)
        return -1;
    const char *name = p->toks[1].s;
    if (!valid_name(name))
        return FAIL(p, "bad process name '%s' (letters, digits, '-', '_', '.')", SHOW(name));
    for (size_t i = 0; i < p->sc->nprocs; i++)
        if (strcmp(p->sc->procs[i].name, name) == 0)
            return FAIL(p, "process '%s' is already declared (line %d)", SHOW(name),
                        p->sc->procs[i].line);
    static const char *const keys[] = {"app",           "signed",    "group",        "gui",
                                       "wrap-presence", "cache-ttl", "home-override"};
    const char *v[7];
    if (parse_options(p, 2, p->ntoks, keys, 7, v, "process") != 0)
        return -1;
    kcs_process_decl d = {0};
    d.is_signed = true;
    d.gui = true;
    d.wrap_presence = true;
    d.cache_ttl_ms = 300000;
    d.home_override = false;
    d.line = p->line;
    const char *app = v[0] != NULL ? v[0] : "sshenc";
    if (!valid_name(app) || strlen(app) > 64)
        return FAIL(p, "bad value '%s' for app (letters, digits, '-', '_', '.'; at most 64)",
                    SHOW(app));
    if (v[1] != NULL && want_yesno(p, "signed", v[1], &d.is_signed) != 0)
        return -1;
    if (v[2] != NULL && strlen(v[2]) > 128)
        return FAIL(p, "bad value for group: longer than 128 bytes");
    if (v[3] != NULL && want_yesno(p, "gui", v[3], &d.gui) != 0)
        return -1;
    if (v[4] != NULL && want_yesno(p, "wrap-presence", v[4], &d.wrap_presence) != 0)
        return -1;
    if (v[5] != NULL && want_duration(p, "cache-ttl", v[5], &d.cache_ttl_ms) != 0)
        return -1;
    if (v[6] != NULL && want_yesno(p, "home-override", v[6], &d.home_override) != 0)
        return -1;
    kcs_scenario *sc = p->sc;
    if (grow(p, (void **)&sc->procs, &sc->procs_cap, sc->nprocs + 1, sizeof *sc->procs) != 0)
        return -1;
    bool want_group = v[2] != NULL && strcmp(v[2], "none") != 0;
    d.name = dup_str(p, name);
    d.app = dup_str(p, app);
    d.group = want_group ? dup_str(p, v[2]) : NULL;
    if (d.name == NULL || d.app == NULL || (want_group && d.group == NULL)) {
        free(d.name);
        free(d.app);
        free(d.group);
        return -1;
    }
    kcs_stmt st;
    if (new_stmt(p, &st, KCS_ST_PROCESS) == NULL) {
        free(d.name);
        free(d.app);
        free(d.group);
        return -1;
    }
    sc->procs[sc->nprocs] = d;
    st.u.process.proc = (int)sc->nprocs;
    sc->nprocs++;
    return push_stmt(p, &st);
}

static int parse_fault(parser *p) {
    static const char usage[] =
        "fault <api> <status> [nth=<N>] [times=<N>|always] [proc=<name>] [match=<glob>], "
        "fault lose-class-key|destroy-class-key <class>, fault crash <process> after <api> "
        "[nth=<N>]";
    if (need_tokens(p, 2, usage) != 0 || no_quoted(p, 1) != 0)
        return -1;
    const char *w = p->toks[1].s;
    kcs_stmt st;
    if (strcmp(w, "lose-class-key") == 0 || strcmp(w, "destroy-class-key") == 0) {
        world_class cls = WORLD_CLASS_WHEN_UNLOCKED;
        if (want_tokens(p, 3, usage) != 0 || want_class(p, p->toks[2].s, &cls) != 0 ||
            new_stmt(p, &st, KCS_ST_FAULT_CLASS) == NULL)
            return -1;
        st.u.class_fault.cls = cls;
        st.u.class_fault.destroy = w[0] == 'd';
        return push_stmt(p, &st);
    }
    if (strcmp(w, "crash") == 0) {
        if (need_tokens(p, 5, "fault crash <process> after <api> [nth=<N>]") != 0)
            return -1;
        int proc = -1;
        world_api api = WORLD_API_SEC_ITEM_ADD;
        if (want_process(p, p->toks[2].s, &proc) != 0)
            return -1;
        if (strcmp(p->toks[3].s, "after") != 0)
            return FAIL(p,
                        "expected 'after' instead of '%s' (usage: fault crash <process> after "
                        "<api> [nth=<N>])",
                        SHOW(p->toks[3].s));
        if (want_api(p, p->toks[4].s, &api) != 0)
            return -1;
        static const char *const keys[] = {"nth"};
        const char *v[1];
        unsigned nth = 1;
        if (parse_options(p, 5, p->ntoks, keys, 1, v, "fault crash") != 0 ||
            (v[0] != NULL && want_count(p, "nth", v[0], &nth) != 0) ||
            new_stmt(p, &st, KCS_ST_FAULT_CRASH) == NULL)
            return -1;
        st.u.crash.proc = proc;
        st.u.crash.api = api;
        st.u.crash.nth = nth;
        return push_stmt(p, &st);
    }
    world_api api = WORLD_API_SEC_ITEM_ADD;
    if (want_api(p, w, &api) != 0 || need_tokens(p, 3, usage) != 0)
        return -1;
    int32_t status = 0;
    if (p->toks[2].quoted || !world_status_parse(p->toks[2].s, &status))
        return FAIL(p,
                    "unknown status '%s' (an Apple name such as errSecInteractionNotAllowed, "
                    "or an int32)",
                    SHOW(p->toks[2].s));
    static const char *const keys[] = {"nth", "times", "proc", "match"};
    const char *v[4];
    if (parse_options(p, 3, p->ntoks, keys, 4, v, "fault") != 0)
        return -1;
    unsigned nth = 1, times = 1;
    int proc = -1;
    if (v[0] != NULL && want_count(p, "nth", v[0], &nth) != 0)
        return -1;
    if (v[1] != NULL) {
        if (strcmp(v[1], "always") == 0)
            times = 0;
        else if (want_count(p, "times", v[1], &times) != 0)
            return -1;
    }
    if (v[2] != NULL && want_process(p, v[2], &proc) != 0)
        return -1;
    if (v[3] != NULL && strlen(v[3]) > 190)
        return FAIL(p, "bad value for match: longer than 190 bytes");
    if (new_stmt(p, &st, KCS_ST_FAULT) == NULL)
        return -1;
    st.u.fault.api = api;
    st.u.fault.status = status;
    st.u.fault.nth = nth;
    st.u.fault.times = times;
    st.u.fault.proc = proc;
    if (v[3] != NULL && (st.u.fault.match = dup_str(p, v[3])) == NULL) {
        stmt_free(&st);
        return -1;
    }
    return push_stmt(p, &st);
}

/* ---- Operations ------------------------------------------------------------------------------ */

static int parse_outcome(parser *p, size_t *end, kcs_op *op) {
    op->outcome = KCS_OUT_SUCCESS;
    op->error = REF_OK;
    size_t arrow = p->ntoks;
    for (size_t i = 1; i < p->ntoks; i++) {
        if (!p->toks[i].quoted && strcmp(p->toks[i].s, "->") == 0) {
            arrow = i;
            break;
        }
    }
    *end = arrow;
    if (arrow == p->ntoks)
        return 0;
    if (arrow + 1 >= p->ntoks)
        return FAIL(p, "missing outcome after '->'");
    if (arrow + 2 < p->ntoks)
        return FAIL(p, "unexpected '%s' after the outcome", SHOW(p->toks[arrow + 2].s));
    token *t = &p->toks[arrow + 1];
    if (t->quoted)
        return FAIL(p, "unexpected quoted text \"%s\"", SHOW(t->s));
    if (strcmp(t->s, "any") == 0) {
        op->outcome = KCS_OUT_ANY;
    } else if (strcmp(t->s, "crashed") == 0) {
        op->outcome = KCS_OUT_CRASHED;
    } else if (ref_error_from_name(t->s, &op->error)) {
        op->outcome = KCS_OUT_ERROR;
    } else {
        return FAIL(p, "unknown outcome '%s'", SHOW(t->s));
    }
    return 0;
}

static int parse_op(parser *p, kcs_stmt *out) {
    char *kw = p->toks[0].s;
    size_t kl = strlen(kw);
    kw[kl - 1] = '\0'; /* drop the ':' */
    kcs_op op;
    memset(&op, 0, sizeof op);
    op.auth = REF_AUTH_NONE;
    op.presence = REF_PRESENCE_NONE;
    op.ttl_ms = REF_TTL_DEFAULT;
    op.accessible = WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY;
    if (want_process(p, kw, &op.proc) != 0)
        return -1;
    if (p->ntoks < 2)
        return FAIL(p, "missing operation after '%s:'", SHOW(kw));
    if (p->toks[1].quoted)
        return FAIL(p, "unexpected quoted text \"%s\"", SHOW(p->toks[1].s));
    const char *name = p->toks[1].s;
    size_t k = 0;
    const size_t nops = sizeof op_names / sizeof op_names[0];
    while (k < nops && strcmp(op_names[k], name) != 0)
        k++;
    if (k == nops)
        return FAIL(p,
                    "unknown operation '%s' (generate, sign, load, pubkey, rename, delete, "
                    "evict, restart, rebuild, plant)",
                    SHOW(name));
    op.kind = (kcs_op_kind)k;
    size_t end = 0;
    if (parse_outcome(p, &end, &op) != 0 || no_quoted(p, 2) != 0)
        return -1;

    /* Positional arguments, then options. */
    size_t npos = op.kind == KCS_OP_RESTART || op.kind == KCS_OP_REBUILD ? 0
                  : op.kind == KCS_OP_RENAME                             ? 2
                                                                         : 1;
    static const char *const usages[] = {
        [KCS_OP_GENERATE] = "<process>: generate <label> [auth=none|any|biometry|passcode] "
                            "[presence=none|strict|cached]",
        [KCS_OP_SIGN] = "<process>: sign <label> [presence=none|strict|cached] [ttl=<duration>]",
        [KCS_OP_LOAD] = "<process>: load <label>",
        [KCS_OP_PUBKEY] = "<process>: pubkey <label>",
        [KCS_OP_RENAME] = "<process>: rename <old> <new>",
        [KCS_OP_DELETE] = "<process>: delete <label>",
        [KCS_OP_EVICT] = "<process>: evict <label>",
        [KCS_OP_RESTART] = "<process>: restart",
        [KCS_OP_REBUILD] = "<process>: rebuild",
        [KCS_OP_PLANT] = "<process>: plant <label> [accessible=<class>] [presence=yes|no] "
                         "[auth=none|any|biometry|passcode] [handle=wrapped|plaintext]",
    };
    const char *usage = usages[op.kind];
    if (end < 2 + npos)
        return FAIL(p, "incomplete operation (usage: %s)", usage);
    if (npos >= 1) {
        /* A label may hold '=' (the core decides), but "generate auth=any" without a
         * label is the likelier mistake: name it. */
        const char *t = p->toks[2].s;
        const char *eq = strchr(t, '=');
        static const char *const optnames[] = {"auth", "presence", "ttl", "accessible", "handle"};
        for (size_t o = 0; eq != NULL && o < sizeof optnames / sizeof optnames[0]; o++)
            if ((size_t)(eq - t) == strlen(optnames[o]) &&
                strncmp(t, optnames[o], strlen(optnames[o])) == 0)
                return FAIL(p, "missing label before option '%s' (usage: %s)", SHOW(t), usage);
    }
    const char *v[4] = {NULL, NULL, NULL, NULL};
    size_t from = 2 + npos;
    switch (op.kind) {
    case KCS_OP_GENERATE: {
        static const char *const keys[] = {"auth", "presence"};
        if (parse_options(p, from, end, keys, 2, v, "generate") != 0 ||
            (v[0] != NULL && want_auth(p, v[0], &op.auth) != 0) ||
            (v[1] != NULL && want_presence_mode(p, v[1], &op.presence) != 0))
            return -1;
        break;
    }
    case KCS_OP_SIGN: {
        static const char *const keys[] = {"presence", "ttl"};
        op.presence = REF_PRESENCE_KEY_DEFAULT;
        if (parse_options(p, from, end, keys, 2, v, "sign") != 0 ||
            (v[0] != NULL && want_presence_mode(p, v[0], &op.presence) != 0) ||
            (v[1] != NULL && want_duration(p, "ttl", v[1], &op.ttl_ms) != 0))
            return -1;
        break;
    }
    case KCS_OP_PLANT: {
        static const char *const keys[] = {"accessible", "presence", "auth", "handle"};
        if (parse_options(p, from, end, keys, 4, v, "plant") != 0 ||
            (v[0] != NULL && want_class(p, v[0], &op.accessible) != 0) ||
            (v[1] != NULL && want_yesno(p, "presence", v[1], &op.plant_presence) != 0) ||
            (v[2] != NULL && want_auth(p, v[2], &op.auth) != 0))
            return -1;
        if (v[3] != NULL) {
            if (strcmp(v[3], "plaintext") == 0)
                op.plaintext = true;
            else if (strcmp(v[3], "wrapped") != 0)
                return FAIL(p, "bad value '%s' for handle (expected wrapped or plaintext)",
                            SHOW(v[3]));
        }
        if (op.plaintext && (v[0] != NULL || v[1] != NULL))
            return FAIL(p,
                        "%s= applies to the wrapping-key item, which a plaintext handle does "
                        "not have",
                        v[0] != NULL ? "accessible" : "presence");
        break;
    }
    default:
        if (end > from)
            return FAIL(p, "unexpected '%s' (usage: %s)", SHOW(p->toks[from].s), usage);
        break;
    }
    if (new_stmt(p, out, KCS_ST_OP) == NULL)
        return -1;
    if (npos >= 1 && (op.label = dup_str(p, p->toks[2].s)) == NULL) {
        stmt_free(out);
        return -1;
    }
    if (npos >= 2 && (op.label2 = dup_str(p, p->toks[3].s)) == NULL) {
        free(op.label);
        stmt_free(out);
        return -1;
    }
    out->u.op = op;
    return 0;
}

/* ---- Expectations -----------------------------------------------------------------------------
 */

static int parse_expect(parser *p) {
    static const char usage[] =
        "expect prompts|calls|item|sekey|cache|lacontext|last-error|warning|usable|files ...";
    if (need_tokens(p, 2, usage) != 0)
        return -1;
    if (p->toks[1].quoted)
        return FAIL(p, "unexpected quoted text \"%s\"", SHOW(p->toks[1].s));
    const char *what = p->toks[1].s;
    kcs_stmt st;

    if (strcmp(what, "prompts") == 0) {
        kcs_cmp cmp = KCS_CMP_EQ;
        uint64_t n = 0;
        if (want_tokens(p, 4, "expect prompts <op> <N>") != 0 || no_quoted(p, 2) != 0 ||
            want_cmp(p, p->toks[2].s, &cmp) != 0 || want_number(p, p->toks[3].s, &n) != 0 ||
            new_stmt(p, &st, KCS_ST_EXPECT_PROMPTS) == NULL)
            return -1;
        st.u.count.cmp = cmp;
        st.u.count.n = n;
        return push_stmt(p, &st);
    }
    if (strcmp(what, "calls") == 0) {
        kcs_cmp cmp = KCS_CMP_EQ;
        uint64_t n = 0;
        world_api api = WORLD_API_SEC_ITEM_ADD;
        if (want_tokens(p, 5, "expect calls <api> <op> <N>") != 0 || no_quoted(p, 2) != 0 ||
            want_api(p, p->toks[2].s, &api) != 0 || want_cmp(p, p->toks[3].s, &cmp) != 0 ||
            want_number(p, p->toks[4].s, &n) != 0 || new_stmt(p, &st, KCS_ST_EXPECT_CALLS) == NULL)
            return -1;
        st.u.count.cmp = cmp;
        st.u.count.n = n;
        st.u.count.api = api;
        return push_stmt(p, &st);
    }
    if (strcmp(what, "item") == 0) {
        static const char u[] = "expect item <label> [proc=<process>] exists=yes|no "
                                "[accessible=<class>] [keychain=dp|file] [presence=yes|no]";
        static const char *const keys[] = {"proc", "exists", "accessible", "keychain", "presence"};
        const char *v[5];
        if (need_tokens(p, 3, u) != 0 || no_quoted(p, 2) != 0 ||
            parse_options(p, 3, p->ntoks, keys, 5, v, "expect item") != 0)
            return -1;
        int proc = 0;
        bool exists = false;
        world_class cls = WORLD_CLASS_WHEN_UNLOCKED;
        bool pres = false;
        int kc = -1;
        if (default_process(p, v[0], &proc) != 0)
            return -1;
        if (v[1] == NULL)
            return FAIL(p, "expect item needs exists=yes|no (usage: %s)", u);
        if (want_yesno(p, "exists", v[1], &exists) != 0 ||
            (v[2] != NULL && want_class(p, v[2], &cls) != 0) ||
            (v[4] != NULL && want_yesno(p, "presence", v[4], &pres) != 0))
            return -1;
        if (v[3] != NULL) {
            if (strcmp(v[3], "dp") == 0)
                kc = WORLD_KEYCHAIN_DP;
            else if (strcmp(v[3], "file") == 0)
                kc = WORLD_KEYCHAIN_FILE;
            else
                return FAIL(p, "bad value '%s' for keychain (expected dp or file)", SHOW(v[3]));
        }
        if (!exists && (v[2] != NULL || v[3] != NULL || v[4] != NULL))
            return FAIL(p, "%s= needs exists=yes",
                        v[2] != NULL   ? "accessible"
                        : v[3] != NULL ? "keychain"
                                       : "presence");
        if (new_stmt(p, &st, KCS_ST_EXPECT_ITEM) == NULL)
            return -1;
        st.u.item.proc = proc;
        st.u.item.exists = exists;
        st.u.item.accessible = v[2] != NULL ? (int)cls : -1;
        st.u.item.keychain = kc;
        st.u.item.presence = v[4] != NULL ? (pres ? 1 : 0) : KCS_UNSET;
        if ((st.u.item.label = dup_str(p, p->toks[2].s)) == NULL) {
            stmt_free(&st);
            return -1;
        }
        return push_stmt(p, &st);
    }
    if (strcmp(what, "sekey") == 0) {
        static const char u[] =
            "expect sekey <label> [proc=<process>] accessible=<class> [presence=yes|no]";
        static const char *const keys[] = {"proc", "accessible", "presence"};
        const char *v[3];
        int proc = 0;
        world_class cls = WORLD_CLASS_WHEN_UNLOCKED;
        bool pres = false;
        if (need_tokens(p, 3, u) != 0 || no_quoted(p, 2) != 0 ||
            parse_options(p, 3, p->ntoks, keys, 3, v, "expect sekey") != 0 ||
            default_process(p, v[0], &proc) != 0)
            return -1;
        if (v[1] == NULL)
            return FAIL(p, "expect sekey needs accessible=<class> (usage: %s)", u);
        if (want_class(p, v[1], &cls) != 0 ||
            (v[2] != NULL && want_yesno(p, "presence", v[2], &pres) != 0) ||
            new_stmt(p, &st, KCS_ST_EXPECT_SEKEY) == NULL)
            return -1;
        st.u.sekey.proc = proc;
        st.u.sekey.accessible = cls;
        st.u.sekey.presence = v[2] != NULL ? (pres ? 1 : 0) : KCS_UNSET;
        if ((st.u.sekey.label = dup_str(p, p->toks[2].s)) == NULL) {
            stmt_free(&st);
            return -1;
        }
        return push_stmt(p, &st);
    }
    if (strcmp(what, "cache") == 0 || strcmp(what, "lacontext") == 0) {
        bool cache = what[0] == 'c';
        const char *u = cache ? "expect cache <process> <label> present|absent"
                              : "expect lacontext <process> <label> present|absent";
        int proc = 0;
        if (want_tokens(p, 5, u) != 0 || no_quoted(p, 2) != 0 ||
            want_process(p, p->toks[2].s, &proc) != 0)
            return -1;
        const char *pa = p->toks[4].s;
        if (strcmp(pa, "present") != 0 && strcmp(pa, "absent") != 0)
            return FAIL(p, "bad value '%s' (expected present or absent)", SHOW(pa));
        if (new_stmt(p, &st, cache ? KCS_ST_EXPECT_CACHE : KCS_ST_EXPECT_LACONTEXT) == NULL)
            return -1;
        st.u.memory.proc = proc;
        st.u.memory.present = pa[0] == 'p';
        if ((st.u.memory.label = dup_str(p, p->toks[3].s)) == NULL) {
            stmt_free(&st);
            return -1;
        }
        return push_stmt(p, &st);
    }
    if (strcmp(what, "last-error") == 0 || strcmp(what, "warning") == 0) {
        bool err = what[0] == 'l';
        const char *u = err ? "expect last-error <process> contains \"<text>\""
                            : "expect warning <process> contains \"<text>\"";
        int proc = 0;
        if (p->ntoks < 5)
            return FAIL(p, "incomplete statement (usage: %s)", u);
        if (p->toks[2].quoted || p->toks[3].quoted)
            return FAIL(p, "unexpected quoted text (usage: %s)", u);
        if (want_process(p, p->toks[2].s, &proc) != 0)
            return -1;
        if (strcmp(p->toks[3].s, "contains") != 0)
            return FAIL(p, "expected 'contains' instead of '%s' (usage: %s)", SHOW(p->toks[3].s),
                        u);
        if (!p->toks[4].quoted)
            return FAIL(p, "the text must be quoted: \"%s\" (usage: %s)", SHOW(p->toks[4].s), u);
        if (p->ntoks > 5)
            return FAIL(p, "unexpected '%s' after the quoted text", SHOW(p->toks[5].s));
        if (new_stmt(p, &st, err ? KCS_ST_EXPECT_LAST_ERROR : KCS_ST_EXPECT_WARNING) == NULL)
            return -1;
        st.u.contains.proc = proc;
        if ((st.u.contains.text = dup_str(p, p->toks[4].s)) == NULL) {
            stmt_free(&st);
            return -1;
        }
        return push_stmt(p, &st);
    }
    if (strcmp(what, "usable") == 0 || strcmp(what, "files") == 0) {
        bool files = what[0] == 'f';
        const char *u = files ? "expect files <label> [proc=<process>] present|absent"
                              : "expect usable <label> [proc=<process>]";
        if (need_tokens(p, 3, u) != 0 || no_quoted(p, 2) != 0)
            return -1;
        size_t opt_end = p->ntoks;
        bool present = false;
        if (files) {
            /* present|absent is a positional word; proc= may stand before or after it. */
            size_t at = p->ntoks;
            for (size_t i = 3; i < p->ntoks; i++)
                if (strchr(p->toks[i].s, '=') == NULL) {
                    at = i;
                    break;
                }
            if (at == p->ntoks)
                return FAIL(p, "expect files needs present or absent (usage: %s)", u);
            const char *pa = p->toks[at].s;
            if (strcmp(pa, "present") != 0 && strcmp(pa, "absent") != 0)
                return FAIL(p, "bad value '%s' (expected present or absent)", SHOW(pa));
            present = pa[0] == 'p';
            /* Remove it from the option range by swapping it to the end. */
            token t = p->toks[at];
            memmove(&p->toks[at], &p->toks[at + 1], (p->ntoks - at - 1) * sizeof t);
            p->toks[p->ntoks - 1] = t;
            opt_end = p->ntoks - 1;
        }
        static const char *const keys[] = {"proc"};
        const char *v[1];
        int proc = 0;
        if (parse_options(p, 3, opt_end, keys, 1, v, files ? "expect files" : "expect usable") !=
                0 ||
            default_process(p, v[0], &proc) != 0 ||
            new_stmt(p, &st, files ? KCS_ST_EXPECT_FILES : KCS_ST_EXPECT_USABLE) == NULL)
            return -1;
        st.u.key.proc = proc;
        st.u.key.present = present;
        if ((st.u.key.label = dup_str(p, p->toks[2].s)) == NULL) {
            stmt_free(&st);
            return -1;
        }
        return push_stmt(p, &st);
    }
    return FAIL(p, "unknown expectation '%s' (%s)", SHOW(what), usage);
}

/* ---- Lines ------------------------------------------------------------------------------------
 */

static bool is_op_word(const token *t) {
    size_t n = strlen(t->s);
    return !t->quoted && n >= 2 && t->s[n - 1] == ':';
}

static const char *const keywords[] = {"scenario", "doc",      "tags", "guards",  "knob",  "device",
                                       "clock",    "keychain", "user", "process", "fault", "mark",
                                       "expect",   "parallel", "end",  "sweep"};

/* sweep crash <process>: <operation> [options] [-> <outcome>] */
static int parse_sweep(parser *p) {
    static const char usage[] = "sweep crash <process>: <operation> [-> <outcome>]";
    if (need_tokens(p, 4, usage) != 0)
        return -1;
    if (p->toks[1].quoted || strcmp(p->toks[1].s, "crash") != 0)
        return FAIL(p, "unknown sweep '%s' (usage: %s)", SHOW(p->toks[1].s), usage);
    if (!is_op_word(&p->toks[2]))
        return FAIL(p, "expected '<process>:' after 'sweep crash' (usage: %s)", usage);
    /* The rest is an operation statement. */
    token *toks = p->toks;
    size_t ntoks = p->ntoks;
    p->toks += 2;
    p->ntoks -= 2;
    kcs_stmt st;
    int rc = parse_op(p, &st);
    p->toks = toks;
    p->ntoks = ntoks;
    if (rc != 0)
        return -1;
    kcs_op_kind k = st.u.op.kind;
    if (k != KCS_OP_GENERATE && k != KCS_OP_SIGN && k != KCS_OP_LOAD && k != KCS_OP_PUBKEY &&
        k != KCS_OP_RENAME && k != KCS_OP_DELETE) {
        stmt_free(&st);
        return FAIL(p,
                    "sweep crash: only generate, sign, load, pubkey, rename and delete make calls "
                    "to crash after, not '%s'",
                    kcs_op_name(k));
    }
    st.kind = KCS_ST_SWEEP;
    p->sc->has_sweep = true;
    return push_stmt(p, &st);
}

static bool is_keyword(const char *w) {
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(w, keywords[i]) == 0)
            return true;
    return false;
}

static int close_check(parser *p) {
    if (p->in_parallel)
        return fail_at(p, p->par_line, "`parallel` block has no `end`");
    return 0;
}

static int parse_line(parser *p) {
    if (lex(p) != 0)
        return -1;
    if (p->ntoks == 0)
        return 0;
    token *t0 = &p->toks[0];
    if (t0->quoted)
        return FAIL(p, "unexpected quoted text \"%s\" at the start of a statement", SHOW(t0->s));
    bool op = is_op_word(t0);
    if (!op && !is_keyword(t0->s)) {
        if (strcmp(t0->s, ":") == 0 || (p->ntoks > 1 && strcmp(p->toks[1].s, ":") == 0))
            return FAIL(p, "bad operation: write '<process>: <operation>' with the ':' right "
                           "after the process name");
        return FAIL(p, "unknown statement '%s'", SHOW(t0->s));
    }
    const char *kw = t0->s;
    if (!op && strcmp(kw, "scenario") == 0) {
        if (close_check(p) != 0)
            return -1;
        return parse_scenario(p);
    }
    if (p->sc == NULL)
        return FAIL(p, "statement before `scenario` (a file starts with `scenario <name>`)");

    if (p->in_parallel) {
        if (!op && strcmp(kw, "end") == 0) {
            if (want_tokens(p, 1, "end") != 0)
                return -1;
            kcs_stmt *par = &p->sc->stmts[p->par_index];
            if (par->u.parallel.count == 0)
                return fail_at(p, p->par_line, "empty `parallel` block");
            p->in_parallel = false;
            return 0;
        }
        if (!op)
            return FAIL(p,
                        "only operations may appear inside `parallel` (opened at line %d), "
                        "not '%s'",
                        p->par_line, SHOW(kw));
        kcs_stmt st;
        if (parse_op(p, &st) != 0)
            return -1;
        kcs_stmt *par = &p->sc->stmts[p->par_index];
        if (grow(p, (void **)&par->u.parallel.body, &par->u.parallel.cap, par->u.parallel.count + 1,
                 sizeof st) != 0) {
            stmt_free(&st);
            return -1;
        }
        par->u.parallel.body[par->u.parallel.count++] = st;
        return 0;
    }

    if (op) {
        kcs_stmt st;
        if (parse_op(p, &st) != 0)
            return -1;
        return push_stmt(p, &st);
    }
    if (strcmp(kw, "doc") == 0)
        return parse_doc(p);
    if (strcmp(kw, "tags") == 0)
        return parse_tags(p);
    if (strcmp(kw, "guards") == 0)
        return parse_guards(p);
    if (strcmp(kw, "knob") == 0)
        return parse_knob(p);
    if (strcmp(kw, "device") == 0)
        return parse_device(p);
    if (strcmp(kw, "clock") == 0)
        return parse_clock(p);
    if (strcmp(kw, "keychain") == 0)
        return parse_keychain(p);
    if (strcmp(kw, "user") == 0)
        return parse_user(p);
    if (strcmp(kw, "process") == 0)
        return parse_process(p);
    if (strcmp(kw, "fault") == 0)
        return parse_fault(p);
    if (strcmp(kw, "expect") == 0)
        return parse_expect(p);
    if (strcmp(kw, "sweep") == 0)
        return parse_sweep(p);
    if (strcmp(kw, "mark") == 0) {
        kcs_stmt st;
        if (want_tokens(p, 1, "mark") != 0 || new_stmt(p, &st, KCS_ST_MARK) == NULL)
            return -1;
        return push_stmt(p, &st);
    }
    if (strcmp(kw, "parallel") == 0) {
        kcs_stmt st;
        if (want_tokens(p, 1, "parallel ... end") != 0 || new_stmt(p, &st, KCS_ST_PARALLEL) == NULL)
            return -1;
        if (push_stmt(p, &st) != 0)
            return -1;
        p->in_parallel = true;
        p->par_index = p->sc->nstmts - 1;
        p->par_line = p->line;
        p->sc->has_parallel = true;
        return 0;
    }
    /* "end" outside a block. */
    return FAIL(p, "`end` without `parallel`");
}

int kcs_parse_text(const char *name, const char *text, size_t len, kcs_file **out, char *err,
                   size_t err_size) {
    if (out != NULL)
        *out = NULL;
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    parser p;
    memset(&p, 0, sizeof p);
    p.name = name != NULL ? name : "<input>";
    p.err = err;
    p.err_size = err_size;
    p.line = 1;
    if (out == NULL || (text == NULL && len > 0)) {
        fail_at(&p, 1, "bad arguments to the parser");
        return -1;
    }
    p.file = calloc(1, sizeof *p.file);
    if (p.file == NULL || (p.file->path = dup_str(&p, p.name)) == NULL) {
        if (p.file != NULL)
            free(p.file);
        fail_at(&p, 1, "out of memory");
        return -1;
    }
    size_t pos = 0;
    int rc = 0;
    p.line = 0;
    while (pos < len && rc == 0) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        if (p.line == INT_MAX) {
            rc = fail_at(&p, INT_MAX, "too many lines");
            break;
        }
        p.line++;
        p.raw = text + pos;
        p.raw_len = end - pos;
        rc = parse_line(&p);
        pos = nl != NULL ? end + 1 : len;
    }
    if (rc == 0)
        rc = close_check(&p);
    if (rc == 0 && p.file->count == 0)
        rc = fail_at(&p, 1, "no scenario in the file (a file starts with `scenario <name>`)");
    free(p.buf);
    free(p.toks);
    if (rc != 0) {
        kcs_file_free(p.file);
        return -1;
    }
    *out = p.file;
    return 0;
}

int kcs_parse_file(const char *path, kcs_file **out, char *err, size_t err_size) {
    if (out != NULL)
        *out = NULL;
    const char *name = path != NULL ? path : "<null>";
    if (path == NULL || out == NULL) {
        if (err != NULL && err_size > 0)
            snprintf(err, err_size, "%s:1: bad arguments to the parser", name);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (err != NULL && err_size > 0)
            snprintf(err, err_size, "%s:1: cannot open the file: %s", name, strerror(errno));
        return -1;
    }
    char *data = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > KCS_MAX_FILE_BYTES + 1)
                ncap = KCS_MAX_FILE_BYTES + 1;
            if (ncap == cap) {
                if (err != NULL && err_size > 0)
                    snprintf(err, err_size, "%s:1: file too large (more than %u bytes)", name,
                             KCS_MAX_FILE_BYTES);
                rc = -1;
                break;
            }
            char *g = realloc(data, ncap);
            if (g == NULL) {
                if (err != NULL && err_size > 0)
                    snprintf(err, err_size, "%s:1: out of memory", name);
                rc = -1;
                break;
            }
            data = g;
            cap = ncap;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                if (err != NULL && err_size > 0)
                    snprintf(err, err_size, "%s:1: cannot read the file", name);
                rc = -1;
            }
            break;
        }
    }
    fclose(f);
    if (rc == 0)
        rc = kcs_parse_text(name, data, len, out, err, err_size);
    free(data);
    return rc;
}

/* ---- Accessors ---------------------------------------------------------------------------------
 */

const kcs_scenario *kcs_file_scenario(const kcs_file *file, size_t index) {
    return file != NULL && index < file->count ? &file->scenarios[index] : NULL;
}

const char *kcs_file_path(const kcs_file *file) { return file != NULL ? file->path : ""; }

size_t kcs_file_scenario_count(const kcs_file *file) { return file != NULL ? file->count : 0; }

const char *kcs_scenario_name(const kcs_file *file, size_t index) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    return sc != NULL ? sc->name : NULL;
}

int kcs_scenario_line(const kcs_file *file, size_t index) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    return sc != NULL ? sc->line : 0;
}

ref_mutant_set kcs_scenario_guards(const kcs_file *file, size_t index) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    return sc != NULL ? sc->guards : REF_MUTANTS_NONE;
}

const char *kcs_scenario_doc(const kcs_file *file, size_t index) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    return sc != NULL ? sc->doc : "";
}

bool kcs_scenario_has_parallel(const kcs_file *file, size_t index) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    return sc != NULL && sc->has_parallel;
}

bool kcs_scenario_has_sweep(const kcs_file *file, size_t index) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    return sc != NULL && sc->has_sweep;
}

size_t kcs_scenario_tag_count(const kcs_file *file, size_t index) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    return sc != NULL ? sc->ntags : 0;
}

const char *kcs_scenario_tag(const kcs_file *file, size_t index, size_t tag) {
    const kcs_scenario *sc = kcs_file_scenario(file, index);
    return sc != NULL && tag < sc->ntags ? sc->tags[tag] : NULL;
}
