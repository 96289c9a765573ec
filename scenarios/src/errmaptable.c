/* Reads the `keyclass errmap` text back into rows (see kcs/errmaptable.h).
 *
 * The printed table has fixed columns but a status column that holds blanks
 * ("0 errSecSuccess, not 32 bytes"), so a mapping row is split on runs of
 * blanks and read from both ends: the path is the first field; evict, core
 * error, bridge name, code and GUI are the last five; the status is what lies
 * between. The code table that follows a blank line has four fields. */
#include "kcs/errmaptable.h"
#include "kcs_grow.h"

#include "ref/errmap.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 16

static size_t split(char *line, char **fields) {
    size_t n = 0;
    char *p = line;
    while (*p != '\0' && n < MAX_FIELDS) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        fields[n++] = p;
        while (*p != '\0' && *p != ' ')
            p++;
        if (*p == ' ')
            *p++ = '\0';
    }
    return n;
}

static void copy(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src); }

static bool to_int(const char *s, int *out) {
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0')
        return false;
    *out = (int)v;
    return true;
}

static int parse_row(char *line, kcs_errmap_row *r) {
    char *f[MAX_FIELDS];
    size_t n = split(line, f);
    if (n < 7)
        return -1;
    memset(r, 0, sizeof *r);
    copy(r->path, sizeof r->path, f[0]);
    copy(r->evict, sizeof r->evict, f[n - 1]);
    copy(r->error, sizeof r->error, f[n - 2]);
    copy(r->bridge, sizeof r->bridge, f[n - 3]);
    if (!to_int(f[n - 4], &r->code))
        return -1;
    copy(r->gui, sizeof r->gui, f[n - 5]);
    size_t len = 0;
    for (size_t i = 1; i < n - 5; i++) {
        int w = snprintf(r->status + len, sizeof r->status - len, "%s%s", i > 1 ? " " : "", f[i]);
        if (w < 0 || (size_t)w >= sizeof r->status - len)
            return -1;
        len += (size_t)w;
    }
    return 0;
}

static int parse_code(char *line, kcs_errmap_code_row *r) {
    char *f[MAX_FIELDS];
    if (split(line, f) != 4)
        return -1;
    memset(r, 0, sizeof *r);
    if (!to_int(f[0], &r->code))
        return -1;
    copy(r->bridge, sizeof r->bridge, f[1]);
    copy(r->error, sizeof r->error, f[2]);
    copy(r->evict, sizeof r->evict, f[3]);
    return 0;
}

int kcs_errmap_table_load(kcs_errmap_table *t, ref_mutant_set mutants) {
    memset(t, 0, sizeof *t);
    FILE *tmp = tmpfile();
    if (tmp == NULL)
        return -1;
    ref_errmap_print(tmp, mutants);
    rewind(tmp);
    size_t rows_cap = 0, codes_cap = 0;
    enum { BEFORE, ROWS, BETWEEN, CODES } state = BEFORE;
    char line[512];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, tmp) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#')
            continue;
        if (state == BEFORE) {
            if (strncmp(line, "path ", 5) == 0)
                state = ROWS;
            continue;
        }
        if (state == ROWS && line[0] == '\0') {
            state = BETWEEN;
            continue;
        }
        if (state == BETWEEN) {
            if (strncmp(line, "code ", 5) == 0)
                state = CODES;
            continue;
        }
        if (state == ROWS) {
            kcs_errmap_row *g = kcs_grow(t->rows, t->nrows, &rows_cap, sizeof *g, 32);
            if (g == NULL) {
                rc = -1;
                break;
            }
            t->rows = g;
            if (parse_row(line, &t->rows[t->nrows]) != 0)
                rc = -1;
            else
                t->nrows++;
        } else if (line[0] != '\0') {
            kcs_errmap_code_row *g = kcs_grow(t->codes, t->ncodes, &codes_cap, sizeof *g, 32);
            if (g == NULL) {
                rc = -1;
                break;
            }
            t->codes = g;
            if (parse_code(line, &t->codes[t->ncodes]) != 0)
                rc = -1;
            else
                t->ncodes++;
        }
    }
    fclose(tmp);
    if (rc != 0 || t->nrows == 0 || t->ncodes == 0) {
        kcs_errmap_table_free(t);
        return -1;
    }
    return 0;
}

void kcs_errmap_table_free(kcs_errmap_table *t) {
    free(t->rows);
    free(t->codes);
    memset(t, 0, sizeof *t);
}
