/* JSON and JUnit XML writers (see kcs/report.h). Hand-written because both
 * formats are tiny here; the escaping is the only subtle part and is tested
 * through pytest, which parses both documents with the standard library. */
#include "kcs/report.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

void kcs_json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* The escape of XML and HTML text and attribute values; `apos`: ' too. */
static void markup_text(FILE *out, const char *s, bool apos) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            if (apos)
                fputs("&#39;", out);
            else
                fputc(*p, out);
            break;
        default:
            /* XML 1.0 forbids most control characters even as references. */
            if (*p < 0x20 && *p != '\n' && *p != '\t')
                fputc('?', out);
            else
                fputc(*p, out);
        }
    }
}

void kcs_xml_text(FILE *out, const char *s) { markup_text(out, s, false); }

void kcs_html_text(FILE *out, const char *s) { markup_text(out, s, true); }

static const char *verdict_of(const kcs_report_row *row) {
    if (row->parse_error)
        return "error";
    return row->result->verdict == KCS_PASS ? "pass" : "fail";
}

int kcs_report_json(FILE *out, const kcs_report_row *rows, size_t n,
                    const kcs_report_summary *summary) {
    fprintf(out, "{\n  \"seed\": %" PRIu64 ",\n  \"mutant\": ", summary->seed);
    if (summary->mutant)
        kcs_json_string(out, summary->mutant);
    else
        fputs("null", out);
    fputs(",\n  \"scenarios\": [", out);
    for (size_t i = 0; i < n; i++) {
        const kcs_report_row *r = &rows[i];
        fputs(i ? ",\n    {" : "\n    {", out);
        fputs("\"name\": ", out);
        kcs_json_string(out, r->name);
        fputs(", \"file\": ", out);
        kcs_json_string(out, r->file);
        fprintf(out, ", \"line\": %d, \"verdict\": \"%s\"", r->line, verdict_of(r));
        if (r->parse_error) {
            fputs(", \"failure\": ", out);
            kcs_json_string(out, r->parse_error);
            fputs(", \"invariant\": null", out);
        } else {
            const kcs_result *res = r->result;
            fputs(", \"failure\": ", out);
            if (res->verdict == KCS_PASS)
                fputs("null", out);
            else
                kcs_json_string(out, res->failure);
            fputs(", \"invariant\": ", out);
            if (res->invariant)
                kcs_json_string(out, res->invariant);
            else
                fputs("null", out);
            fprintf(out,
                    ", \"steps\": %" PRIu64 ", \"invariant_checks\": %" PRIu64
                    ", \"prompts\": %" PRIu64 ", \"calls\": %" PRIu64,
                    res->steps, res->invariant_checks, res->prompts, res->calls);
        }
        fputc('}', out);
    }
    fprintf(out,
            "\n  ],\n  \"summary\": {\"passed\": %zu, \"failed\": %zu, \"errors\": %zu, "
            "\"invariant_checks\": %" PRIu64 "}\n}\n",
            summary->passed, summary->failed, summary->errors, summary->invariant_checks);
    return ferror(out) ? -1 : 0;
}

int kcs_report_junit(FILE *out, const kcs_report_row *rows, size_t n,
                     const kcs_report_summary *summary) {
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out, "<testsuites>\n  <testsuite name=\"keyclass%s", summary->mutant ? " mutant " : "");
    if (summary->mutant)
        kcs_xml_text(out, summary->mutant);
    fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", n, summary->failed,
            summary->errors);
    for (size_t i = 0; i < n; i++) {
        const kcs_report_row *r = &rows[i];
        fputs("    <testcase classname=\"", out);
        kcs_xml_text(out, r->file);
        fputs("\" name=\"", out);
        kcs_xml_text(out, r->name);
        fputs("\"", out);
        if (r->parse_error) {
            fputs(">\n      <error message=\"", out);
            kcs_xml_text(out, r->parse_error);
            fputs("\"/>\n    </testcase>\n", out);
        } else if (r->result->verdict != KCS_PASS) {
            fputs(">\n      <failure message=\"", out);
            kcs_xml_text(out, r->result->failure);
            fputs("\">", out);
            kcs_xml_text(out, r->result->journal);
            fputs("</failure>\n    </testcase>\n", out);
        } else {
            fputs("/>\n", out);
        }
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
    return ferror(out) ? -1 : 0;
}
