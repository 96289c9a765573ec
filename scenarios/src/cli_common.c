/* Small helpers shared by the subcommands. */
#include "kcs/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kcs_cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("keyclass: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n" KCS_USAGE_LINE "\n", stderr);
    return 2;
}

bool kcs_cli_parse_u64(const char *text, uint64_t *out) {
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

int kcs_cli_suite_load(kcs_suite *suite, const char *const *paths, size_t npaths) {
    char err[1024];
    if (kcs_suite_load(suite, paths, npaths, err, sizeof err) != 0) {
        fprintf(stderr, "keyclass: %s\n", err);
        return 2;
    }
    return 0;
}

int kcs_cli_open_suite(const char *cmd, int argc, char **argv, bool allow_list,
                       kcs_cli_suite_args *a, kcs_suite *suite) {
    memset(a, 0, sizeof *a);
    a->seed = 1;
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t npaths = 0;
    if (paths == NULL)
        return 2;
    for (int i = 0; i < argc; i++) {
        if (allow_list && strcmp(argv[i], "--list") == 0) {
            free(paths);
            a->list = true;
            return 0;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            if (!kcs_cli_parse_u64(argv[++i], &a->seed)) {
                free(paths);
                return kcs_cli_usage_error("%s: --seed takes a decimal number, not '%s'", cmd,
                                           argv[i]);
            }
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            a->json_path = argv[++i];
        } else if (argv[i][0] == '-') {
            free(paths);
            return kcs_cli_usage_error("%s: unknown option or missing value: '%s'", cmd, argv[i]);
        } else {
            paths[npaths++] = argv[i];
        }
    }
    if (npaths == 0)
        paths[npaths++] = KCS_DEFAULT_LIBRARY;
    int rc = kcs_cli_suite_load(suite, paths, npaths);
    free(paths);
    if (rc != 0)
        return rc;
    int status = 0;
    for (size_t f = 0; f < suite->nfiles; f++) {
        if (suite->files[f].parse_error) {
            printf("ERROR %s\n", suite->files[f].parse_error);
            status = 1;
        }
    }
    return status;
}
