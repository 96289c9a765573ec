/* The errmap table as data, for `keyclass report`: read back from exactly
 * what `keyclass errmap` prints (ref_errmap_print), so the page and the
 * command can never disagree. */
#ifndef KCS_ERRMAPTABLE_H
#define KCS_ERRMAPTABLE_H

#include <stddef.h>

#include "ref/mutants.h"

typedef struct {
    char path[24];   /* keychain_load, keychain_store, keychain_delete, se_sign, se_generate */
    char status[64]; /* "-25308 errSecInteractionNotAllowed", "any other status", ... */
    char gui[8];     /* any, yes, no */
    int code;        /* bridge code */
    char bridge[40]; /* its name */
    char error[32];  /* core error */
    char evict[8];   /* yes/no: a sign failing so evicts its LAContext */
} kcs_errmap_row;

typedef struct {
    int code;
    char bridge[40];
    char error[32];
    char evict[8];
} kcs_errmap_code_row;

typedef struct {
    kcs_errmap_row *rows;
    size_t nrows;
    kcs_errmap_code_row *codes;
    size_t ncodes;
} kcs_errmap_table;

/* 0, or -1 (no temporary file, out of memory, or output it cannot read). */
int kcs_errmap_table_load(kcs_errmap_table *t, ref_mutant_set mutants);
void kcs_errmap_table_free(kcs_errmap_table *t);

#endif
