/* Machine-readable outputs of `keyclass run`: JSON and JUnit XML. One row per
 * scenario, or per file that did not parse. */
#ifndef KCS_REPORT_H
#define KCS_REPORT_H

#include <stdio.h>

#include "kcs/engine.h"

typedef struct {
    const char *name; /* scenario name; the file path for a parse error */
    const char *file;
    int line;
    const kcs_result *result; /* NULL for a parse error */
    const char *parse_error;  /* "file:line: message", or NULL */
} kcs_report_row;

typedef struct {
    uint64_t seed;
    const char *mutant; /* NULL: the clean core */
    size_t passed, failed, errors;
    uint64_t invariant_checks;
} kcs_report_summary;

/* Write the whole document; return 0, or -1 on a write error. */
int kcs_report_json(FILE *out, const kcs_report_row *rows, size_t n,
                    const kcs_report_summary *summary);
int kcs_report_junit(FILE *out, const kcs_report_row *rows, size_t n,
                     const kcs_report_summary *summary);

/* Writers shared with other JSON outputs (`keyclass mutants --json`). */
void kcs_json_string(FILE *out, const char *s);
void kcs_xml_text(FILE *out, const char *s);
/* kcs_xml_text that also escapes ' (as &#39;), for HTML pages. */
void kcs_html_text(FILE *out, const char *s);

#endif
