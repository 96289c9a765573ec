/* The keyclass subcommands. Each takes the arguments after its name and
 * returns the process exit status: 0 success, 1 a test failed, 2 a usage or
 * input error. */
#ifndef KCS_CLI_H
#define KCS_CLI_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
