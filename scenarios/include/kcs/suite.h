/* A suite: every scenario of a set of files and folders, parsed once, in a
 * stable order, and the results of running them. Used by `keyclass run` and
 * `keyclass mutants`. */
#ifndef KCS_SUITE_H
#define KCS_SUITE_H

#include <stdio.h>

#include "kcs/engine.h"

typedef struct {
    char *path;
    kcs_file *file;    /* NULL when it did not parse */
    char *parse_error; /* "file:line: message" when it did not parse */
} kcs_suite_file;

typedef struct {
    kcs_suite_file *files;
    size_t nfiles;
    size_t nscenarios; /* over the files that parsed */
    size_t nparse_errors;
} kcs_suite;

/* Collects and parses. Returns 0, or -1 with a message in err when a path
 * does not exist (parse errors are not load errors: they are kept per file). */
int kcs_suite_load(kcs_suite *suite, const char *const *paths, size_t npaths, char *err,
                   size_t err_size);
void kcs_suite_free(kcs_suite *suite);

/* One scenario of the suite: file index and scenario index within it. */
typedef struct {
    size_t file;
    size_t index;
} kcs_suite_entry;

/* The scenarios in suite order; *count set. Free with free(). */
kcs_suite_entry *kcs_suite_entries(const kcs_suite *suite, size_t *count);

#endif
