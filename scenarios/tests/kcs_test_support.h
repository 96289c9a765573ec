/* Small helpers shared by the scenario engine's CMocka tests
 * (scenarios/tests/test_concurrency.c, test_interpreter.c, test_parser.c). Header-only and
 * `static inline`: a file that uses only some of them gets no warning. The
 * per-test CF leak/misuse check is in mocks/tests/cf_test_support.h. */
#ifndef KEYCLASS_KCS_TEST_SUPPORT_H
#define KEYCLASS_KCS_TEST_SUPPORT_H

/* CMocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kcs/engine.h"
#include "ref/mutants.h"

/* The path of fixtures/<name>, next to __FILE__: this header sits in
 * scenarios/tests/ beside fixtures/, as the tests that use it do. */
static inline const char *fixture_path(const char *name) {
    static char path[1024];
    const char *here = __FILE__;
    const char *slash = strrchr(here, '/');
    int dir = slash != NULL ? (int)(slash - here) : 0;
    snprintf(path, sizeof path, "%.*s%sfixtures/%s", dir, here, slash != NULL ? "/" : "", name);
    return path;
}

/* Parses the scenario text `text` (file name "t.kcs"); fails the test on a
 * parse error. */
static inline kcs_file *parse(const char *text) {
    kcs_file *f = NULL;
    char err[1024];
    if (kcs_parse_text("t.kcs", text, strlen(text), &f, err, sizeof err) != 0)
        fail_msg("%s", err);
    return f;
}

/* The mutant set holding only the mutant named `name`. */
static inline ref_mutant_set bit(const char *name) {
    ref_mutant m;
    assert_true(ref_mutant_from_name(name, &m));
    return REF_MUTANT_BIT(m);
}

#endif
