/* The keyclass subcommands. Each takes the arguments after its name and
 * returns the process exit status: 0 success, 1 a test failed, 2 a usage or
 * input error. */
#ifndef KCS_CLI_H
#define KCS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kcs/suite.h"

#define KCS_USAGE_LINE "usage: keyclass [--help | --version] <command> [args...]"

int kcs_cli_run(int argc, char **argv);
int kcs_cli_mutants(int argc, char **argv);
int kcs_cli_errmap(int argc, char **argv);
int kcs_cli_coverage(int argc, char **argv);
int kcs_cli_report(int argc, char **argv);
int kcs_cli_explore(int argc, char **argv);
int kcs_cli_replay(int argc, char **argv);

/* Helpers shared by the subcommands. */
/* Prints "keyclass: <message>" and the usage line to stderr; returns 2. */
int kcs_cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Strict decimal uint64 (no sign, no blanks). */
bool kcs_cli_parse_u64(const char *text, uint64_t *out);
/* The default scenario library when no path is given. */
#define KCS_DEFAULT_LIBRARY "scenarios"

/* Loads the suite of `paths`; 0, or 2 after printing why it could not be
 * loaded (nothing to free). */
int kcs_cli_suite_load(kcs_suite *suite, const char *const *paths, size_t npaths);

/* The arguments of the commands that run a suite and take
 * [PATH...] [--seed N] [--json FILE] (coverage, mutants). */
typedef struct {
    uint64_t seed;         /* 1 unless --seed */
    const char *json_path; /* NULL unless --json */
    bool list;             /* --list (where allowed): parsing stopped there */
} kcs_cli_suite_args;

/* Parses argv for the command `cmd` (its name in messages; `allow_list`:
 * --list is an option too, and ends the parsing; every other argument
 * starting with '-' but not one of these is a usage error), then loads the
 * suite of the PATHs (KCS_DEFAULT_LIBRARY without one) and prints
 * "ERROR <message>" on stdout for every file that did not parse. Returns 0;
 * 1 when a file did not parse (the suite is loaded); 2 after a usage error,
 * out of memory, or a suite that could not be loaded (nothing to free). With
 * --list: 0 and a->list, nothing loaded. */
int kcs_cli_open_suite(const char *cmd, int argc, char **argv, bool allow_list,
                       kcs_cli_suite_args *a, kcs_suite *suite);

#endif
