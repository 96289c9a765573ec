/* State-machine coverage: which cells of
 *
 *   device state x keychain kind x class-key availability x OSStatus seen
 *   x result code x presence mode
 *
 * the scenarios exercise, recorded by the engine at the end of every
 * operation that ran the reference core, and which cells the domain model
 * allows that no scenario reaches. The dimensions, the recording and the
 * rules that define "reachable" are documented at the top of
 * scenarios/src/kcs_statecov.c; `keyclass coverage` prints this, `keyclass
 * report` renders it.
 *
 * Use: create an accumulator, set it in kcs_run_options.statecov, call
 * kcs_statecov_begin_run before each kcs_run_scenario, then read it. One
 * accumulator serves one thread, one run at a time.
 */
#ifndef KCS_STATECOV_H
#define KCS_STATECOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct kcs_statecov kcs_statecov;

typedef enum {
    KCS_DIM_DEVICE,    /* off, before-first-unlock, unlocked, locked, asleep */
    KCS_DIM_KEYCHAIN,  /* dp, file, none */
    KCS_DIM_CLASS_KEY, /* available, unavailable, login-unlocked, login-locked */
    KCS_DIM_STATUS,    /* none, 0, -25300, ..., la-cancel, other */
    KCS_DIM_CODE,      /* none, 0 .. 16 */
    KCS_DIM_PRESENCE,  /* none, strict, cached, n/a */
    KCS_DIM_COUNT
} kcs_statecov_dim;

/* One cell: a value index per dimension. In a cube (a group of cells), -1
 * stands for every value the rules allow there. */
typedef struct {
    int v[KCS_DIM_COUNT];
} kcs_statecov_cell;

#define KCS_STATECOV_ANY (-1)

/* Dimensions and their values. Names are short and stable (JSON, tables);
 * docs are one line for legends. */
const char *kcs_statecov_dim_name(int dim); /* "device", "keychain", "class_key", ... */
const char *kcs_statecov_dim_title(int dim);
int kcs_statecov_dim_size(int dim);
const char *kcs_statecov_value_name(int dim, int value);
const char *kcs_statecov_value_doc(int dim, int value);

/* The model's rules: a cell is reachable when every rule allows it. On false,
 * *rule (if not NULL) names the first rule that forbids it ("R1"...). */
bool kcs_statecov_reachable(const kcs_statecov_cell *cell, const char **rule);
size_t kcs_statecov_rule_count(void);
const char *kcs_statecov_rule_id(size_t i);
const char *kcs_statecov_rule_text(size_t i);

kcs_statecov *kcs_statecov_new(void);
void kcs_statecov_free(kcs_statecov *cov);

/* Attributes the cells recorded from now on to a new scenario run (the name
 * is copied). 0, or -1 when out of memory. */
int kcs_statecov_begin_run(kcs_statecov *cov, const char *scenario);

/* ---- Reading ----------------------------------------------------------------------- */

typedef struct {
    kcs_statecov_cell cell;
    bool reachable;
    uint64_t ops;       /* operations that ended in this cell */
    uint64_t scenarios; /* scenario runs that reached it */
    const char *first;  /* the first scenario run that reached it (owned by cov) */
} kcs_statecov_hit;

typedef struct {
    uint64_t runs;
    uint64_t ops;     /* operations recorded (cells) */
    uint64_t crashed; /* operations in which the process crashed: not cells */
    size_t reachable; /* reachable cells */
    size_t reached;   /* reachable cells reached */
    size_t outside;   /* reached cells the rules call unreachable */
} kcs_statecov_summary;

void kcs_statecov_summarize(const kcs_statecov *cov, kcs_statecov_summary *out);

/* Reached cells in dimension order (device first). *n set; free() the array. */
kcs_statecov_hit *kcs_statecov_hits(const kcs_statecov *cov, size_t *n);

/* Per value of one dimension: operations and scenario runs that reached any
 * cell with that value, reached and reachable cells with that value. */
typedef struct {
    uint64_t ops;
    uint64_t scenarios;
    size_t reached;
    size_t reachable;
} kcs_statecov_margin;

void kcs_statecov_margin_of(const kcs_statecov *cov, int dim, int value, kcs_statecov_margin *out);

/* Two-way coverage of dimensions a and b: for each value pair (x, y), at
 * ops[x * size(b) + y] the operations that ended in a cell with both values,
 * at reachable[...] whether some reachable cell has both. Arrays of
 * size(a) * size(b) supplied by the caller. */
void kcs_statecov_pair_grid(const kcs_statecov *cov, int a, int b, uint64_t *ops, bool *reachable);

/* The reachable cells no scenario reaches, merged into cubes (a -1 value: every
 * value the rules allow there), in a stable order; cells[i] says how many
 * reachable cells cube i holds. *n set; free() both arrays. */
kcs_statecov_cell *kcs_statecov_missing(const kcs_statecov *cov, size_t **cells, size_t *n);

/* Exact statuses the recorded operations ended with (the last mapped status),
 * in ascending order. */
typedef struct {
    int32_t status;
    const char *name; /* Apple's name, or NULL */
    int value;        /* its KCS_DIM_STATUS value */
    uint64_t ops;
} kcs_statecov_status;

const kcs_statecov_status *kcs_statecov_statuses(const kcs_statecov *cov, size_t *n);

/* ---- Output -------------------------------------------------------------------------- */

/* The `keyclass coverage` text: summary, one block per dimension, the value
 * pairs no scenario reaches, the reached cells, the missing cubes grouped by
 * status, the exact statuses, the rules. */
void kcs_statecov_print(FILE *out, const kcs_statecov *cov);
/* The same data as one JSON object, from '{' to '}' (no newline after it, so
 * that it nests in another document). 0, or -1 on a write error. */
int kcs_statecov_json(FILE *out, const kcs_statecov *cov);

#endif
