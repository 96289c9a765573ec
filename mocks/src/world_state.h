/* The layout of a world, shared by the world_*.c files only. The Apple API
 * shim does not include this: it goes through world_internal.h. */
#ifndef KEYCLASS_WORLD_STATE_H
#define KEYCLASS_WORLD_STATE_H

#include "world_internal.h"

#include <openssl/evp.h>
#include <string.h>

typedef struct {
    world_process_config cfg; /* strings owned */
    char code_hash[17];       /* hex; changes on rebuild */
    char identity[160];       /* what ACLs see */
    bool crashed;
    uint64_t generation;
} world_process;

typedef struct {
    world_fault f; /* match owned */
    uint64_t seen; /* matching calls since the fault was planned */
    uint64_t fired;
} world_fault_entry;

typedef struct {
    world_pid proc;
    world_api api; /* WORLD_API_COUNT: any API (world_fault_crash_after_calls) */
    unsigned nth;
    uint64_t seen;
    bool done;
} world_crash_entry;

typedef struct {
    char *path;
    unsigned char *data;
    size_t len;
} world_file;

/* An advisory lock (kc_file_trylock): held by one process in one generation.
 * The world drops a process's locks when it crashes or is reset (restart,
 * rebuild, reboot), so every entry names a live holder. */
typedef struct {
    char *path;
    world_pid holder;
    uint64_t generation;
} world_lock;

struct world {
    uint64_t seed;

    /* Seeded generator: AES-256-CTR keystream (libcrypto). */
    EVP_CIPHER_CTX *rng;
    unsigned char rng_buf[256];
    size_t rng_avail;

    int64_t now_ms;
    int64_t knobs[WORLD_KNOB_COUNT];

    /* Device and keybag. */
    world_device_state device;
    bool asleep;
    bool passcode;
    bool biometry;
    bool first_unlock_done; /* since the last boot */
    int64_t locked_at_ms;
    uint64_t lock_epoch;
    bool class_lost[WORLD_CLASS_COUNT];
    bool class_destroyed[WORLD_CLASS_COUNT];
    unsigned char device_secret[32];

    /* File-based login keychain. */
    bool login_locked;
    bool login_lock_on_sleep;

    world_process *procs;
    size_t nprocs, procs_cap;
    world_pid current;

    /* User answers: a FIFO queue, then the default. */
    world_answer *answers;
    size_t answers_head, answers_len, answers_cap;
    world_answer default_answer;
    uint64_t prompts[WORLD_PROMPT_KIND_COUNT];

    uint64_t calls[WORLD_API_COUNT];

    world_fault_entry *faults;
    size_t nfaults, faults_cap;
    world_crash_entry *crashes;
    size_t ncrashes, crashes_cap;

    /* The scheduler of parallel blocks (world_set_scheduler), or NULL. */
    world_yield_fn sched_yield;
    world_done_fn sched_done;
    void *sched_ctx;

    char *journal;
    size_t journal_len, journal_cap;
    uint64_t step;

    world_file *files; /* sorted by path */
    size_t nfiles, files_cap;
    uint64_t files_version; /* every put and remove (world_store_version) */
    world_lock *locks; /* unordered: a handful at most */
    size_t nlocks, locks_cap;

    world_item_store *items;
    world_se_store *se;

    char last_error[256];
};

/* Helpers shared by world_*.c. */
void world_set_error(world *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void world_journal_event(world *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A call line; written by world_call_end only. */
void world_journal_call(world *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Direct writing for the per-call hot path (world_call_end): room for len
 * more bytes at the end of the journal (NULL when out of memory: the line is
 * lost), then commit the bytes written there. */
char *world_journal_reserve(world *w, size_t len);
void world_journal_commit(world *w, size_t len);

/* Hand-made formatting for the per-call hot path, byte-identical to the
 * printf formats it replaces: like snprintf, a jbuf keeps at most cap - 1
 * bytes and is always NUL-terminated. */
typedef struct {
    char *buf;
    size_t len;
    size_t cap; /* > 0, including the NUL */
} jbuf;

static inline jbuf jbuf_of(char *buf, size_t cap) {
    buf[0] = '\0';
    jbuf b = {buf, 0, cap};
    return b;
}

static inline void jput_n(jbuf *b, const char *s, size_t n) {
    size_t room = b->cap - 1 - b->len;
    if (n > room)
        n = room;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

/* "%s" (NULL prints "(null)", as glibc's printf). */
static inline void jput(jbuf *b, const char *s) {
    if (s == NULL)
        s = "(null)";
    jput_n(b, s, strlen(s));
}

/* "%llu" */
static inline void jput_u64(jbuf *b, uint64_t v) {
    char t[20];
    size_t i = sizeof t;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    jput_n(b, t + i, sizeof t - i);
}

/* "%lld" */
static inline void jput_i64(jbuf *b, int64_t v) {
    if (v < 0) {
        jput_n(b, "-", 1);
        jput_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        jput_u64(b, (uint64_t)v);
    }
}

/* "%x" */
static inline void jput_hex(jbuf *b, uint32_t v) {
    char t[8];
    size_t i = sizeof t;
    do {
        t[--i] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v != 0);
    jput_n(b, t + i, sizeof t - i);
}
int world_rng_init(world *w);
void world_rng_free(world *w);
void world_files_free(world *w);
void world_faults_free(world *w);
/* Restarts one process's memory (generation++, crash cleared, its file
 * locks released). */
void world_process_reset(world *w, world_pid pid);
/* Releases every file lock `pid` holds (its process died: `why` is journaled
 * with each release). */
void world_locks_release_all(world *w, world_pid pid, const char *why);
/* Does `pid` hold any file lock? */
bool world_locks_held_by(const world *w, world_pid pid);

#endif
