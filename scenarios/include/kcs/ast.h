/* The parsed form of a `.kcs` file (scenario-language.md), as the engine uses
 * it inside libkcscenarios. The CLI sees only kcs/engine.h.
 *
 * Ownership: a kcs_file owns its scenarios; a scenario owns its processes and
 * statements; a statement owns its strings (every char * below is owned and
 * NUL-terminated, or NULL where noted). kcs_file_free releases everything.
 *
 * Names are resolved at parse time: processes become indexes into the
 * scenario's process table (in declaration order), APIs, statuses, classes,
 * knobs, mutants and outcomes become the enums of world.h and the ref headers. The
 * interpreter therefore never meets an unknown name.
 */
#ifndef KCS_AST_H
#define KCS_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kcs/engine.h"
#include "keyclass/world.h"
#include "ref/core.h"
#include "ref/meta.h"
#include "ref/mutants.h"
#include "ref/result.h"

/* ---- Processes --------------------------------------------------------------- */

/* One `process` line. Defaults (scenario-language.md): app=sshenc signed=yes
 * group=none gui=yes wrap-presence=yes cache-ttl=300s home-override=no. */
typedef struct {
    char *name;
    char *app;
    bool is_signed;
    char *group; /* NULL: none */
    bool gui;
    bool wrap_presence;
    int64_t cache_ttl_ms;
    bool home_override;
    int line;
} kcs_process_decl;

/* ---- Statements -------------------------------------------------------------- */

typedef enum {
    KCS_ST_KNOB,           /* knob <name>=<value> */
    KCS_ST_DEVICE,         /* device boot|unlock|lock|sleep|wake|reboot, passcode, biometry */
    KCS_ST_CLOCK,          /* clock +<duration> */
    KCS_ST_KEYCHAIN,       /* keychain lock|unlock|lock-on-sleep on|off */
    KCS_ST_USER,           /* user <answer> [x<N>] | user default <answer> */
    KCS_ST_PROCESS,        /* process <name> [options] */
    KCS_ST_FAULT,          /* fault <api> <status> [nth=] [times=] [proc=] [match=] */
    KCS_ST_FAULT_CLASS,    /* fault lose-class-key|destroy-class-key <class> */
    KCS_ST_FAULT_CRASH,    /* fault crash <process> after <api> [nth=] */
    KCS_ST_OP,             /* <process>: <operation> ... [-> <outcome>] */
    KCS_ST_MARK,           /* mark */
    KCS_ST_EXPECT_PROMPTS, /* expect prompts <op> <N> */
    KCS_ST_EXPECT_CALLS,   /* expect calls <api> <op> <N> */
    KCS_ST_EXPECT_ITEM,
    KCS_ST_EXPECT_SEKEY,
    KCS_ST_EXPECT_CACHE,
    KCS_ST_EXPECT_LACONTEXT,
    KCS_ST_EXPECT_LAST_ERROR,
    KCS_ST_EXPECT_WARNING,
    KCS_ST_EXPECT_USABLE,
    KCS_ST_EXPECT_FILES,
    KCS_ST_PARALLEL, /* parallel ... end */
    KCS_ST_SWEEP,    /* sweep crash <process>: <operation> [-> <outcome>] (u.op) */
} kcs_stmt_kind;

typedef enum {
    KCS_DEV_BOOT,
    KCS_DEV_UNLOCK,
    KCS_DEV_LOCK,
    KCS_DEV_SLEEP,
    KCS_DEV_WAKE,
    KCS_DEV_REBOOT,
    KCS_DEV_PASSCODE, /* with `on` */
    KCS_DEV_BIOMETRY, /* with `on` */
} kcs_device_event;

typedef enum {
    KCS_KC_LOCK,
    KCS_KC_UNLOCK,
    KCS_KC_LOCK_ON_SLEEP, /* with `on` */
} kcs_keychain_event;

typedef enum {
    KCS_OP_GENERATE,
    KCS_OP_SIGN,
    KCS_OP_LOAD,
    KCS_OP_PUBKEY,
    KCS_OP_RENAME,
    KCS_OP_DELETE,
    KCS_OP_EVICT,
    KCS_OP_RESTART,
    KCS_OP_REBUILD,
    KCS_OP_PLANT,
} kcs_op_kind;

/* What `-> <outcome>` asks for. */
typedef enum {
    KCS_OUT_SUCCESS, /* no `->`: the operation must succeed */
    KCS_OUT_ANY,     /* -> any */
    KCS_OUT_CRASHED, /* -> crashed */
    KCS_OUT_ERROR,   /* -> ok / a core error name: `error` holds it (REF_OK for ok) */
} kcs_outcome_kind;

typedef enum { KCS_CMP_EQ, KCS_CMP_NE, KCS_CMP_LT, KCS_CMP_LE, KCS_CMP_GT, KCS_CMP_GE } kcs_cmp;

/* An optional yes/no: -1 not given, 0 no, 1 yes. */
typedef int kcs_tristate;
#define KCS_UNSET (-1)

typedef struct {
    kcs_op_kind kind;
    int proc;     /* index into the scenario's processes */
    char *label;  /* NULL for restart / rebuild */
    char *label2; /* rename: the new label; else NULL */
    /* generate / plant */
    ref_auth auth; /* default REF_AUTH_NONE */
    /* generate (default none) / sign (default REF_PRESENCE_KEY_DEFAULT) */
    ref_presence presence;
    /* sign: the LAContext TTL (REF_TTL_DEFAULT: the process's cache-ttl) */
    int64_t ttl_ms;
    /* plant */
    world_class accessible; /* default WhenUnlockedThisDeviceOnly */
    bool plant_presence;    /* presence=yes */
    bool plaintext;         /* handle=plaintext */
    /* outcome */
    kcs_outcome_kind outcome;
    ref_error error;
} kcs_op;

typedef struct kcs_stmt kcs_stmt;

struct kcs_stmt {
    kcs_stmt_kind kind;
    int line;
    char *text; /* the statement as written, comment and outer blanks removed */
    union {
        struct {
            world_knob knob;
            int64_t value;
        } knob;
        struct {
            kcs_device_event event;
            bool on;
        } device;
        struct {
            int64_t ms;
        } clock;
        struct {
            kcs_keychain_event event;
            bool on;
        } keychain;
        struct {
            world_answer answer;
            bool is_default; /* user default <answer> */
            unsigned times;  /* x<N>, default 1 */
        } user;
        struct {
            int proc; /* the declared process */
        } process;
        struct {
            world_api api;
            int32_t status;
            unsigned nth;   /* >= 1 */
            unsigned times; /* 0: always */
            int proc;       /* -1: any */
            char *match;    /* NULL: any */
        } fault;
        struct {
            world_class cls;
            bool destroy;
        } class_fault;
        struct {
            int proc;
            world_api api;
            unsigned nth;
        } crash;
        kcs_op op;
        struct {
            kcs_cmp cmp;
            uint64_t n;
            world_api api; /* calls only */
        } count;
        struct {
            char *label;
            int proc;
            bool exists;
            int accessible;        /* world_class, or -1 when not asked */
            int keychain;          /* world_keychain, or -1 when not asked */
            kcs_tristate presence; /* KCS_UNSET when not asked */
        } item;
        struct {
            char *label;
            int proc;
            world_class accessible;
            kcs_tristate presence;
        } sekey;
        struct {
            int proc;
            char *label;
            bool present;
        } memory; /* cache, lacontext */
        struct {
            int proc;
            char *text; /* unquoted */
        } contains;     /* last-error, warning */
        struct {
            char *label;
            int proc;
            bool present; /* files only */
        } key;            /* usable, files */
        struct {
            kcs_stmt *body; /* KCS_ST_OP statements */
            size_t count;
            size_t cap;
        } parallel;
    } u;
};

/* ---- Scenarios and files ------------------------------------------------------- */

typedef struct {
    char *name;
    int line;
    char *doc; /* doc lines joined with a blank; "" if none */
    char **tags;
    size_t ntags;
    ref_mutant_set guards;
    kcs_process_decl *procs; /* in declaration order */
    size_t nprocs, procs_cap;
    kcs_stmt *stmts; /* executable statements in order */
    size_t nstmts, stmts_cap;
    bool has_parallel;
    bool has_sweep;
    uint64_t explore_bound; /* knob explore_bound=N; 0: the default */
} kcs_scenario;

struct kcs_file {
    char *path;
    kcs_scenario *scenarios;
    size_t count, cap;
};

/* The scenario at `index`, or NULL. */
const kcs_scenario *kcs_file_scenario(const kcs_file *file, size_t index);
/* The name of the file as given to the parser. */
const char *kcs_file_path(const kcs_file *file);

/* Names for messages and traces. */
const char *kcs_op_name(kcs_op_kind kind);
const char *kcs_cmp_name(kcs_cmp cmp);
bool kcs_cmp_holds(kcs_cmp cmp, uint64_t actual, uint64_t expected);

#endif
