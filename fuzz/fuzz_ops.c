/* libFuzzer target: short programs of world events, faults and operations of
 * one to three processes, run by the scenario engine with the invariant
 * checker after every step (domain.md §7).
 *
 * The input decodes (decode_program) into the text of a `.kcs` scenario:
 *
 *   byte 0     processes (1 + b % 3), world seed (1 + (b >> 2) % 4), bit 4: no
 *              first unlock
 *   bytes 1-3  one configuration byte per process (agent, cli, other):
 *              bit0 unsigned, bits1-2 access group (none, TEAMID...sshenc x2,
 *              TEAMID...other), bit3 no GUI, bit4 wrap-presence=no, bits5-6
 *              cache-ttl (300s, 0s, 1s, 10m), bit7 home-override (agent) or
 *              app=other (cli, other)
 *   byte 4     knobs: bit0 lock_grace=0, bits1+2 se_available=0, bit3
 *              se_reuse_requires_when_unlocked=0, bit4
 *              se_when_unlocked_unusable_while_locked=0, bit5 la_max_reuse=1s
 *   then       statements, one opcode byte each followed by its operands
 *              (decode_statement): device events, clock, keychain, user
 *              answers, faults (any int32 status at any call — but no
 *              errSecSuccess where it would replace the call, see
 *              decode_fault —, lost or destroyed class keys, crashes),
 *              operations, and `parallel`
 *              blocks of two or three operations.
 *
 * Every operation ends `-> any`: only the invariants judge (and the engine's
 * own checks: a signature must verify, a public key must be the SE key's).
 * The decoder keeps the program valid — world events only where the device
 * state allows them, `plant` only on a label nothing has touched — so any
 * failing verdict is a finding. Properties (each violation aborts): the text
 * parses; the run passes; no CF object outlives the run.
 *
 * On a violation the program is written as a `.kcs` scenario — into
 * $KEYCLASS_FUZZ_FOUND (a folder; default: the current one) as
 * ops-<hash>.kcs, with the failure in a comment — and printed on stderr, so
 * that every finding becomes a regression file (fuzz/crash2kcs.sh). With
 * KEYCLASS_FUZZ_EMIT=<path> every input's program is written to <path>.
 */
#include "common.h"

#include "kcs/engine.h"
#include "keyclass/cf_accounting.h"
#include "keyclass/world.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STATEMENTS 32
#define TEXT_CAP 8192

/* ---- The program text ---------------------------------------------------------- */

typedef struct {
    char buf[TEXT_CAP];
    size_t len;
    bool full;
} text;

static void put(text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(text *t, const char *fmt, ...) {
    if (t->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof t->buf - t->len) {
        t->full = true;
        t->buf[t->len] = '\0';
        return;
    }
    t->len += (size_t)n;
}

/* ---- Vocabulary ----------------------------------------------------------------- */

static const char *const proc_names[3] = {"agent", "cli", "other"};
static const char *const groups[4] = {"none", "TEAMID.com.example.sshenc",
                                      "TEAMID.com.example.sshenc", "TEAMID.com.example.other"};
static const char *const ttls[4] = {"300s", "0s", "1s", "10m"};
static const char *const labels[3] = {"k1", "k2", "k3"};
static const char *const plant_labels[2] = {"old1", "old2"};
static const char *const durations[8] = {"1ms", "500ms", "1s", "9s", "11s", "61s", "301s", "2h"};
static const char *const answers[4] = {"approve", "cancel", "fail", "absent"};
/* The statuses domain.md names (OSStatus and LAError); others come raw. */
static const int32_t statuses[24] = {
    0,      -4,     -50,    -108, -128, -25291, -25293, -25299, -25300, -25303, -25307, -25308,
    -25315, -26275, -34018, -1,   -2,   -3,     -5,     -9,     -10,    -1004,  -25308, -25300};
static const char *const auths[4] = {"none", "any", "biometry", "passcode"};
static const char *const presences[3] = {"none", "strict", "cached"};

/* ---- Decoder state ------------------------------------------------------------------ */

enum { DEV_BFU, DEV_UNLOCKED, DEV_LOCKED };

typedef struct {
    fuzz_reader r;
    text *t;
    int nprocs;
    bool signed_[3];
    bool dp[3];          /* routes to the DP keychain (group and signed) */
    int ns[3];           /* key namespace: app x signed */
    unsigned touched[4]; /* per namespace: bit i = labels[i], bit 3+i = plant_labels[i] */
    int device;
    bool asleep;
    int statements;
} decoder;

static unsigned pick(decoder *d, unsigned n) { return fuzz_pick(&d->r, n); }

static void touch(decoder *d, int proc, unsigned bit) { d->touched[d->ns[proc]] |= 1u << bit; }

static void touch_label(decoder *d, int proc, const char *label) {
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(label, labels[i]) == 0)
            touch(d, proc, i);
    for (unsigned i = 0; i < 2; i++)
        if (strcmp(label, plant_labels[i]) == 0)
            touch(d, proc, 3 + i);
}

/* A label for an operation: mostly the three working labels, sometimes a
 * planted one. */
static const char *op_label(decoder *d) {
    unsigned v = pick(d, 8);
    return v < 6 ? labels[v % 3] : plant_labels[v - 6];
}

static int32_t decode_status(decoder *d) {
    uint8_t s = fuzz_u8(&d->r);
    if (s < 200)
        return statuses[s % 24];
    return (int32_t)fuzz_u32(&d->r);
}

/* One operation (after "<proc>: "), without the outcome. Returns false if it
 * cannot be written (plant on a touched label): nothing is written then. */
static bool decode_op(decoder *d, int proc, unsigned kind, text *t) {
    const char *label = op_label(d);
    switch (kind) {
    case 0: { /* generate */
        unsigned a = pick(d, 8);
        put(t, "generate %s auth=%s presence=%s", label, auths[a < 5 ? 0 : a - 4],
            presences[pick(d, 3)]);
        break;
    }
    case 1: { /* sign */
        unsigned p = pick(d, 6);
        put(t, "sign %s", label);
        if (p < 3)
            put(t, " presence=%s", presences[p]);
        if (p == 5)
            put(t, " ttl=%s", durations[pick(d, 8)]);
        break;
    }
    case 2:
        put(t, "load %s", label);
        break;
    case 3:
        put(t, "pubkey %s", label);
        break;
    case 4: {
        const char *to = op_label(d);
        put(t, "rename %s %s", label, to);
        touch_label(d, proc, to);
        break;
    }
    case 5:
        put(t, "delete %s", label);
        break;
    case 6:
        put(t, "evict %s", label);
        break;
    case 7:
        put(t, "restart");
        return true;
    case 8:
        put(t, "rebuild");
        return true;
    default: { /* plant: only a label nothing has touched in this namespace */
        unsigned which = pick(d, 2);
        unsigned bit = 3 + which;
        unsigned cls = pick(d, WORLD_CLASS_COUNT);
        unsigned opts = fuzz_u8(&d->r);
        if (d->touched[d->ns[proc]] & (1u << bit))
            return false;
        label = plant_labels[which];
        if (opts & 1) {
            put(t, "plant %s handle=plaintext auth=%s", label, auths[(opts >> 1) % 4]);
        } else {
            bool presence = (opts & 2) && d->dp[proc];
            put(t, "plant %s accessible=%s presence=%s auth=%s", label,
                world_class_name((world_class)cls), presence ? "yes" : "no",
                auths[(opts >> 2) % 4]);
        }
        break;
    }
    }
    touch_label(d, proc, label);
    return true;
}

static void decode_device(decoder *d) {
    unsigned ev = pick(d, 8);
    switch (ev) {
    case 0: /* boot is never valid after the prelude: a reboot instead */
    case 5:
        put(d->t, "device reboot\n");
        d->device = DEV_BFU;
        d->asleep = false;
        break;
    case 1:
        if ((d->device == DEV_BFU || d->device == DEV_LOCKED) && !d->asleep) {
            put(d->t, "device unlock\n");
            d->device = DEV_UNLOCKED;
        } else if (d->asleep) {
            put(d->t, "device wake\n");
            d->asleep = false;
        }
        break;
    case 2:
        if (d->device == DEV_UNLOCKED) {
            put(d->t, "device lock\n");
            d->device = DEV_LOCKED;
        }
        break;
    case 3:
        if (!d->asleep) {
            put(d->t, "device sleep\n");
            if (d->device == DEV_UNLOCKED)
                d->device = DEV_LOCKED;
            d->asleep = true;
        }
        break;
    case 4:
        if (d->asleep) {
            put(d->t, "device wake\n");
            d->asleep = false;
        }
        break;
    case 6:
        put(d->t, "device passcode %s\n", pick(d, 2) ? "on" : "off");
        break;
    default:
        put(d->t, "device biometry %s\n", pick(d, 2) ? "on" : "off");
        break;
    }
}

/* Does an injected errSecSuccess let the call run (SE calls, LAEvaluatePolicy)?
 * For every other call it replaces the call: the world then reports a
 * success that did not happen (a rename that moved nothing), and the core,
 * rightly trusting it, can be made to break any invariant. Such lies are not
 * a failure mode of the Apple world, so the decoder never plans them: status
 * 0 becomes errSecAllocate there. (Found by the long run: a "successful"
 * FileRename that moved nothing, then a transient failure whose rollback
 * trusted it.) The scenario language still allows them. */
static bool runs_on_injected_success(const char *api) {
    return strcmp(api, "LAEvaluatePolicy") == 0 || strncmp(api, "SE", 2) == 0;
}

static void decode_fault(decoder *d) {
    const char *api = world_api_name((world_api)pick(d, WORLD_API_COUNT));
    int32_t status = decode_status(d);
    if (status == 0 && !runs_on_injected_success(api))
        status = -108; /* errSecAllocate */
    unsigned nth = 1 + pick(d, 3);
    unsigned times = pick(d, 4);
    unsigned proc = pick(d, (unsigned)d->nprocs + 1);
    put(d->t, "fault %s %d nth=%u times=", api, (int)status, nth);
    if (times == 3)
        put(d->t, "always");
    else
        put(d->t, "%u", times == 2 ? 2u : 1u);
    if (proc > 0)
        put(d->t, " proc=%s", proc_names[proc - 1]);
    put(d->t, "\n");
}

static void write_op(decoder *d, int proc, unsigned kind, const char *indent) {
    text op;
    op.len = 0;
    op.full = false;
    op.buf[0] = '\0';
    if (decode_op(d, proc, kind, &op) && !op.full)
        put(d->t, "%s%s: %s -> any\n", indent, proc_names[proc], op.buf);
}

static void decode_statement(decoder *d) {
    unsigned opcode = pick(d, 32);
    int proc = (int)pick(d, (unsigned)d->nprocs);
    switch (opcode) {
    case 0:
    case 1:
        decode_device(d);
        break;
    case 2:
    case 3:
        put(d->t, "clock +%s\n", durations[pick(d, 8)]);
        break;
    case 4: {
        unsigned k = pick(d, 4);
        static const char *const kc[4] = {"lock", "unlock", "lock-on-sleep on",
                                          "lock-on-sleep off"};
        put(d->t, "keychain %s\n", kc[k]);
        break;
    }
    case 5: {
        unsigned a = fuzz_u8(&d->r);
        if (a & 0x80)
            put(d->t, "user default %s\n", answers[a % 4]);
        else
            put(d->t, "user %s x%u\n", answers[a % 4], 1 + (a >> 2) % 3);
        break;
    }
    case 6:
    case 7:
    case 8:
        decode_fault(d);
        break;
    case 9: {
        unsigned v = fuzz_u8(&d->r);
        put(d->t, "fault %s %s\n", v % 8 == 0 ? "destroy-class-key" : "lose-class-key",
            world_class_name((world_class)((v >> 3) % WORLD_CLASS_COUNT)));
        break;
    }
    case 10:
        put(d->t, "fault crash %s after %s nth=%u\n", proc_names[proc],
            world_api_name((world_api)pick(d, WORLD_API_COUNT)), 1 + pick(d, 3));
        break;
    case 11: /* a parallel block: 2-3 operations (when there are two processes) */
        if (d->nprocs >= 2) {
            unsigned n = 2 + pick(d, 2);
            text *outer = d->t;
            put(outer, "parallel\n");
            size_t mark = outer->len;
            for (unsigned i = 0; i < n; i++) {
                static const unsigned kinds[6] = {0, 1, 2, 4, 5, 1};
                write_op(d, (int)pick(d, (unsigned)d->nprocs), kinds[pick(d, 6)], "  ");
            }
            if (outer->len == mark) {
                outer->len -= strlen("parallel\n"); /* nothing got in: no block */
                outer->buf[outer->len] = '\0';
            } else {
                put(outer, "end\n");
            }
        }
        break;
    case 12:
    case 13:
    case 14:
        write_op(d, proc, 0, ""); /* generate */
        break;
    case 15:
    case 16:
    case 17:
    case 18:
        write_op(d, proc, 1, ""); /* sign */
        break;
    case 19:
    case 20:
        write_op(d, proc, 2, ""); /* load */
        break;
    case 21:
        write_op(d, proc, 3, ""); /* pubkey */
        break;
    case 22:
    case 23:
        write_op(d, proc, 4, ""); /* rename */
        break;
    case 24:
    case 25:
        write_op(d, proc, 5, ""); /* delete */
        break;
    case 26:
        write_op(d, proc, 6, ""); /* evict */
        break;
    case 27:
        write_op(d, proc, 7, ""); /* restart */
        break;
    case 28:
        write_op(d, proc, 8, ""); /* rebuild */
        break;
    default:
        write_op(d, proc, 9, ""); /* plant */
        break;
    }
}

/* The whole program. Returns whether it has at least one operation worth
 * running (always true: the prelude generates k1 when asked to). */
static void decode_program(const uint8_t *data, size_t size, text *t, bool *parallel) {
    decoder d;
    memset(&d, 0, sizeof d);
    d.r.p = data;
    d.r.n = size;
    d.t = t;
    uint8_t h0 = fuzz_u8(&d.r);
    uint8_t cfg[3] = {fuzz_u8(&d.r), fuzz_u8(&d.r), fuzz_u8(&d.r)};
    uint8_t knobs = fuzz_u8(&d.r);
    d.nprocs = 1 + h0 % 3;
    put(t, "scenario fuzz-ops\n");
    put(t, "doc Written by fuzz/fuzz_ops.c from a fuzz input; every outcome is `any`:\n");
    put(t, "doc only the invariants judge.\n");
    put(t, "tags fuzz ops\n");
    if (knobs & 0x01)
        put(t, "knob lock_grace=0\n");
    if ((knobs & 0x06) == 0x06)
        put(t, "knob se_available=0\n");
    if (knobs & 0x08)
        put(t, "knob se_reuse_requires_when_unlocked=0\n");
    if (knobs & 0x10)
        put(t, "knob se_when_unlocked_unusable_while_locked=0\n");
    if (knobs & 0x20)
        put(t, "knob la_max_reuse=1s\n");
    put(t, "device boot\n");
    d.device = DEV_BFU;
    if (!(h0 & 0x10)) {
        put(t, "device unlock\n");
        d.device = DEV_UNLOCKED;
    }
    for (int i = 0; i < d.nprocs; i++) {
        uint8_t c = cfg[i];
        bool is_signed = !(c & 0x01);
        unsigned g = (c >> 1) & 3;
        bool other_app = i > 0 && (c & 0x80);
        d.signed_[i] = is_signed;
        d.dp[i] = g != 0 && is_signed;
        d.ns[i] = (other_app ? 2 : 0) + (is_signed ? 0 : 1);
        put(t, "process %s app=%s signed=%s group=%s gui=%s wrap-presence=%s cache-ttl=%s%s\n",
            proc_names[i], other_app ? "other" : "sshenc", is_signed ? "yes" : "no", groups[g],
            c & 0x08 ? "no" : "yes", c & 0x10 ? "no" : "yes", ttls[(c >> 5) & 3],
            i == 0 && (c & 0x80) ? " home-override=yes" : "");
    }
    while (fuzz_more(&d.r) && d.statements < MAX_STATEMENTS && !t->full) {
        decode_statement(&d);
        d.statements++;
    }
    *parallel = strstr(t->buf, "\nparallel\n") != NULL;
}

/* ---- Findings ---------------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void write_file(const char *path, const char *comment, const text *t) {
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    if (comment != NULL) {
        fputs("# Found by fuzz/fuzz_ops.c. The run failed with:\n#   ", f);
        for (const char *c = comment; *c; c++) {
            fputc(*c, f);
            if (*c == '\n' && c[1] != '\0')
                fputs("#   ", f);
        }
        fputc('\n', f);
    }
    fwrite(t->buf, 1, t->len, f);
    fclose(f);
}

_Noreturn static void finding(const text *t, const char *what) {
    const char *dir = getenv("KEYCLASS_FUZZ_FOUND");
    char path[1024];
    snprintf(path, sizeof path, "%s/ops-%016llx.kcs", dir != NULL && dir[0] ? dir : ".",
             (unsigned long long)fnv1a(t->buf, t->len));
    write_file(path, what, t);
    fprintf(stderr, "\n== keyclass fuzz ops: %s\n== the program (written to %s):\n%s\n", what, path,
            t->buf);
    fuzz_violation(__FILE__, __LINE__, "%s", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static text t;
    t.len = 0;
    t.full = false;
    t.buf[0] = '\0';
    bool parallel = false;
    decode_program(data, size, &t, &parallel);
    FUZZ_CHECK(!t.full, "the program does not fit its buffer");
    const char *emit = getenv("KEYCLASS_FUZZ_EMIT");
    if (emit != NULL && emit[0] != '\0')
        write_file(emit, NULL, &t);

    CFIndex live = kc_cf_live_total();
    char err[1024];
    kcs_file *file = NULL;
    if (kcs_parse_text("fuzz-ops.kcs", t.buf, t.len, &file, err, sizeof err) != 0) {
        char what[1200];
        snprintf(what, sizeof what, "the decoder wrote a program the parser refuses: %s", err);
        finding(&t, what);
    }
    kcs_run_options opt;
    memset(&opt, 0, sizeof opt);
    opt.seed = 1 + (size > 0 ? (uint64_t)((data[0] >> 2) % 4) : 0);
    opt.mutants = REF_MUTANTS_NONE;
    kcs_result result;
    int rc;
    if (parallel) {
        /* One random schedule per input (seeded by the input): the fuzzer
         * supplies the variety; the regression file explores them all. */
        /* The block's threads are kept from input to input: starting them
         * under ASan cost more than most programs. */
        static kcs_workers *workers;
        if (workers == NULL)
            workers = kcs_workers_new();
        FUZZ_CHECK(workers != NULL, "kcs_workers_new failed");
        kcs_explore_options ex;
        memset(&ex, 0, sizeof ex);
        ex.workers = workers;
        ex.random = 1;
        ex.random_seed = 1 + (size > 1 ? data[size - 1] : 0);
        rc = kcs_explore_scenario(file, 0, &opt, &ex, &result);
    } else {
        rc = kcs_run_scenario(file, 0, &opt, &result);
    }
    FUZZ_CHECK(rc == 0, "the engine ran out of memory");
    if (result.verdict != KCS_PASS) {
        char what[3000];
        bool sched = result.schedule != NULL && result.schedule[0] != '\0';
        snprintf(what, sizeof what, "%s%s%s", result.failure, sched ? "\nschedule: " : "",
                 sched ? result.schedule : "");
        kcs_result_free(&result);
        kcs_file_free(file);
        finding(&t, what);
    }
    kcs_result_free(&result);
    kcs_file_free(file);
    FUZZ_CHECK(kc_cf_live_total() == live, "the run leaked %ld CF objects",
               (long)(kc_cf_live_total() - live));
    kc_cf_quarantine_drain(); /* libFuzzer compares mallocs and frees per input */
    return 0;
}
