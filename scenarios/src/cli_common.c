/* Small helpers shared by the subcommands. */
#include "kcs/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
