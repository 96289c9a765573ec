/* libFuzzer target: the `.kcs` scenario parser on arbitrary text.
 *
 * Properties (each violation aborts):
 *  - no crash, no leak: ASan's leak checker at exit, and the CF shim's
 *    live-object accounting per input (nothing the parser creates outlives
 *    kcs_file_free);
 *  - a refused input returns -1 with *out NULL and exactly one message
 *    "<name>:<line>: <text>" whose line is within the input's line count
 *    (1 for an empty input); no newline in it;
 *  - an accepted input returns 0 with a file of at least one scenario whose
 *    accessors all answer (names, lines within the input, docs, tags), and
 *    every statement's text is one line;
 *  - parsing is deterministic: the same bytes give the same verdict and
 *    message a second time.
 */
#include "common.h"

#include "kcs/ast.h"
#include "kcs/engine.h"
#include "keyclass/cf_accounting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz.kcs"
#define ERR_CAP 1024

static int line_count(const uint8_t *data, size_t size) {
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        if (data[i] == '\n')
            lines++;
    if (size == 0 || data[size - 1] != '\n')
        lines++;
    return lines > (size_t)2147483647 ? 2147483647 : (int)lines;
}

static void check_message(const char *err, int lines) {
    size_t nl = strlen(NAME);
    FUZZ_CHECK(strncmp(err, NAME ":", nl + 1) == 0, "message does not start with the name: '%s'",
               err);
    const char *p = err + nl + 1;
    FUZZ_CHECK(*p >= '1' && *p <= '9', "message without a line number: '%s'", err);
    long line = 0;
    while (*p >= '0' && *p <= '9') {
        line = line * 10 + (*p - '0');
        FUZZ_CHECK(line <= 2147483647L, "line number overflows: '%s'", err);
        p++;
    }
    FUZZ_CHECK(p[0] == ':' && p[1] == ' ' && p[2] != '\0',
               "message is not '<name>:<line>: <text>': '%s'", err);
    FUZZ_CHECK(line >= 1 && line <= lines, "message names line %ld of a %d-line input: '%s'", line,
               lines, err);
    FUZZ_CHECK(strchr(err, '\n') == NULL, "message holds a newline: '%s'", err);
}

static void check_file(const kcs_file *file, int lines) {
    size_t n = kcs_file_scenario_count(file);
    FUZZ_CHECK(n >= 1, "an accepted file without a scenario");
    for (size_t i = 0; i < n; i++) {
        const char *name = kcs_scenario_name(file, i);
        FUZZ_CHECK(name != NULL && name[0] != '\0', "scenario %zu has no name", i);
        int line = kcs_scenario_line(file, i);
        FUZZ_CHECK(line >= 1 && line <= lines, "scenario '%s' at line %d of %d", name, line, lines);
        FUZZ_CHECK(kcs_scenario_doc(file, i) != NULL, "scenario '%s' without doc text", name);
        size_t tags = kcs_scenario_tag_count(file, i);
        for (size_t t = 0; t < tags; t++)
            FUZZ_CHECK(kcs_scenario_tag(file, i, t) != NULL, "tag %zu of '%s' is NULL", t, name);
        (void)kcs_scenario_guards(file, i);
        (void)kcs_scenario_has_parallel(file, i);
        const kcs_scenario *sc = kcs_file_scenario(file, i);
        FUZZ_CHECK(sc != NULL, "scenario %zu without its AST", i);
        for (size_t s = 0; s < sc->nstmts; s++) {
            const kcs_stmt *st = &sc->stmts[s];
            FUZZ_CHECK(st->text != NULL && strchr(st->text, '\n') == NULL,
                       "statement %zu of '%s' is not one line", s, name);
            FUZZ_CHECK(st->line >= 1 && st->line <= lines, "statement at line %d of %d", st->line,
                       lines);
        }
        for (size_t pi = 0; pi < sc->nprocs; pi++)
            FUZZ_CHECK(sc->procs[pi].name != NULL && sc->procs[pi].app != NULL,
                       "process %zu of '%s' without a name or app", pi, name);
    }
    FUZZ_CHECK(kcs_file_scenario(file, n) == NULL, "a scenario past the end");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int lines = line_count(data, size);
    CFIndex live_before = kc_cf_live_total();
    char err[ERR_CAP], err2[ERR_CAP];
    kcs_file *file = (kcs_file *)(uintptr_t)1;
    int rc = kcs_parse_text(NAME, (const char *)data, size, &file, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1, "kcs_parse_text returned %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(file != NULL, "success without a file");
        check_file(file, lines);
        kcs_file_free(file);
    } else {
        FUZZ_CHECK(file == NULL, "a failure left *out set");
        check_message(err, lines);
    }
    kcs_file *again = NULL;
    int rc2 = kcs_parse_text(NAME, (const char *)data, size, &again, err2, sizeof err2);
    FUZZ_CHECK(rc2 == rc, "the same text parsed %d then %d", rc, rc2);
    if (rc2 == 0)
        kcs_file_free(again);
    else
        FUZZ_CHECK(strcmp(err, err2) == 0, "the same text gave two messages: '%s' / '%s'", err,
                   err2);
    FUZZ_CHECK(kc_cf_live_total() == live_before, "the parser leaked %ld CF objects",
               (long)(kc_cf_live_total() - live_before));
    kc_cf_quarantine_drain(); /* libFuzzer compares mallocs and frees per input */
    return 0;
}
