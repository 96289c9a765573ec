/* `keyclass report [PATH...] [--out DIR] [--seed N] [--no-dot]`: one static
 * HTML page (no script) and the JSON of every table on it.
 *
 *   DIR/index.html        the page
 *   DIR/report.json       every table's data
 *   DIR/device-keybag.dot the state diagram's source
 *   DIR/device-keybag.svg the diagram, when graphviz `dot` is on the PATH
 *
 * Decision: everything is computed in this one process, from one seed and one
 * binary — the scenarios run once on the clean core with state-machine
 * coverage recorded in the same pass (their verdicts are also the matrix's
 * clean column), then every mutant, then the errmap table and the state
 * diagram. Nothing is read back from files another command wrote, so the
 * page cannot mix two runs. The JSON sections use the writers of `keyclass
 * run --json`, `keyclass mutants --json` and `keyclass coverage --json`, so
 * each section is byte-for-byte the document that command writes for the same
 * paths and seed (tests/test_report.py checks it).
 *
 * The code-coverage link is ../coverage/index.html (the lcov report that
 * `make coverage` writes into build/coverage/, beside build/report/); the page
 * says whether it existed when the report was written.
 *
 * Exit status: 0 when the page is written — failing scenarios and surviving
 * mutants are the page's content, not errors; 2 for a usage error, an
 * unreadable path, or a file that cannot be written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kcs/cli.h"
#include "kcs/errmaptable.h"
#include "kcs/matrix.h"
#include "kcs/report.h"
#include "kcs/statecov.h"
#include "kcs/statediagram.h"
#include "kcs/suite.h"
#include "kcs/version.h"

#define DEFAULT_OUT "build/report"
#define LCOV_HREF "../coverage/index.html"
#define DOT_FILE "device-keybag.dot"
#define SVG_FILE "device-keybag.svg"

typedef struct {
    const char **paths;
    size_t npaths;
    const char *out;
    uint64_t seed;
    bool no_dot;
} report_args;

/* Everything the page shows. */
typedef struct {
    report_args *args;
    kcs_suite suite;
    kcs_matrix mx;
    kcs_result *results;  /* [s] */
    kcs_report_row *rows; /* parse errors first, then the scenarios (as `run --json`) */
    size_t nrows;
    kcs_report_summary summary;
    kcs_statecov *cov;
    kcs_errmap_table errmap;
    kcs_state_diagram diagram;
    bool svg;          /* the diagram was rendered */
    bool lcov_present; /* ../coverage/index.html existed */
} report;

/* ---- Files and processes ------------------------------------------------------------- */

static int mkdir_p(const char *dir) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static void join(char *buf, size_t cap, const char *dir, const char *name) {
    snprintf(buf, cap, "%s/%s", dir, name);
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The first executable `dot` on the PATH. */
static bool find_dot(char *buf, size_t cap) {
    const char *path = getenv("PATH");
    if (path == NULL)
        return false;
    while (*path != '\0') {
        size_t len = strcspn(path, ":");
        if (len > 0 && (size_t)snprintf(buf, cap, "%.*s/dot", (int)len, path) < cap &&
            access(buf, X_OK) == 0)
            return true;
        path += len;
        if (*path == ':')
            path++;
    }
    return false;
}

/* dot -Tsvg -o svg dotfile; true when it exited 0 and wrote the file. */
static bool render_svg(const char *dot, const char *dotfile, const char *svg) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        char *argv[] = {(char *)"dot", (char *)"-Tsvg", (char *)"-o",
                        (char *)svg,   (char *)dotfile, NULL};
        execv(dot, argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && file_exists(svg);
}

/* ---- Running ------------------------------------------------------------------------------ */

static int run_everything(report *r) {
    r->cov = kcs_statecov_new();
    if (r->cov == NULL || kcs_matrix_init(&r->mx, &r->suite, r->args->seed) != 0)
        return -1;
    size_t n = r->mx.n;
    r->results = calloc(n ? n : 1, sizeof *r->results);
    r->rows = calloc(n + r->suite.nparse_errors + 1, sizeof *r->rows);
    if (r->results == NULL || r->rows == NULL)
        return -1;
    r->summary.seed = r->args->seed;
    for (size_t f = 0; f < r->suite.nfiles; f++) {
        const kcs_suite_file *sf = &r->suite.files[f];
        if (sf->parse_error == NULL)
            continue;
        r->rows[r->nrows++] =
            (kcs_report_row){.name = sf->path, .file = sf->path, .parse_error = sf->parse_error};
        r->summary.errors++;
    }
    kcs_run_options opt = {.seed = r->args->seed, .mutants = REF_MUTANTS_NONE, .statecov = r->cov};
    for (size_t s = 0; s < n; s++) {
        kcs_suite_entry e = r->mx.entries[s];
        const kcs_suite_file *sf = &r->suite.files[e.file];
        const char *name = kcs_scenario_name(sf->file, e.index);
        kcs_result *res = &r->results[s];
        if (kcs_statecov_begin_run(r->cov, name) != 0 ||
            kcs_run_scenario(sf->file, e.index, &opt, res) != 0)
            return -1;
        bool pass = res->verdict == KCS_PASS;
        if (kcs_matrix_set_clean(&r->mx, s, pass, res->failure) != 0)
            return -1;
        r->summary.invariant_checks += res->invariant_checks;
        if (pass)
            r->summary.passed++;
        else
            r->summary.failed++;
        r->rows[r->nrows++] = (kcs_report_row){.name = name,
                                               .file = sf->path,
                                               .line = kcs_scenario_line(sf->file, e.index),
                                               .result = res};
    }
    for (int m = 0; m < REF_MUT_COUNT; m++)
        kcs_matrix_run_mutant(&r->mx, (ref_mutant)m);
    if (kcs_errmap_table_load(&r->errmap, REF_MUTANTS_NONE) != 0)
        return -1;
    if (kcs_state_diagram_build(&r->diagram) != 0)
        return -1;
    return 0;
}

/* The scenarios a mutant's row lists: those that kill it, or those whose
 * guards line names it. */
typedef enum { KILLED_BY, GUARDED_BY } scenario_list;

static bool listed(const report *r, scenario_list which, ref_mutant m, size_t s) {
    if (which == KILLED_BY)
        return kcs_matrix_killed(&r->mx, m, s);
    kcs_suite_entry e = r->mx.entries[s];
    return ref_mutant_in(kcs_scenario_guards(r->suite.files[e.file].file, e.index), m);
}

/* Writes the names of the scenarios `which` of mutant m, in matrix order,
 * each through `write`, separated by `sep`. */
static void write_scenarios(FILE *out, const report *r, scenario_list which, ref_mutant m,
                            const char *sep, void (*write)(FILE *, const char *)) {
    for (size_t s = 0, k = 0; s < r->mx.n; s++) {
        if (!listed(r, which, m, s))
            continue;
        fputs(k++ ? sep : "", out);
        write(out, kcs_matrix_name(&r->mx, s));
    }
}

static void report_free(report *r) {
    if (r->results != NULL)
        for (size_t s = 0; s < r->mx.n; s++)
            kcs_result_free(&r->results[s]);
    free(r->results);
    free(r->rows);
    kcs_statecov_free(r->cov);
    kcs_errmap_table_free(&r->errmap);
    kcs_state_diagram_free(&r->diagram);
    kcs_matrix_free(&r->mx);
    kcs_suite_free(&r->suite);
}

/* ---- HTML ---------------------------------------------------------------------------------- */

static void td(FILE *out, const char *text) {
    fputs("<td>", out);
    kcs_html_text(out, text);
    fputs("</td>", out);
}

static void td_class(FILE *out, const char *cls, const char *text) {
    fprintf(out, "<td class=\"%s\">", cls);
    kcs_html_text(out, text);
    fputs("</td>", out);
}

static void td_u64(FILE *out, uint64_t v) { fprintf(out, "<td class=\"num\">%" PRIu64 "</td>", v); }

static void th_row(FILE *out, const char *const *heads, size_t n) {
    fputs("<thead><tr>", out);
    for (size_t i = 0; i < n; i++) {
        fputs("<th>", out);
        kcs_html_text(out, heads[i]);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
}

static double pct(size_t part, size_t whole) {
    return whole == 0 ? 0.0 : 100.0 * (double)part / (double)whole;
}

static const char *const css =
    "body{font-family:-apple-system,Helvetica,Arial,sans-serif;margin:2em;color:#1d2330;"
    "max-width:110em}\n"
    "h1{margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ccd;padding-bottom:.2em}\n"
    "p.meta,p.note{color:#556}\n"
    "nav a{margin-right:1em}\n"
    "table{border-collapse:collapse;margin:.8em 0;font-size:13px}\n"
    "th,td{border:1px solid #ccd;padding:3px 7px;text-align:left;vertical-align:top}\n"
    "th{background:#eef0f5}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.pass{background:#e3f4e3}td.fail,td.error,td.survived,td.miss{background:#fbe3e3}\n"
    "td.killed{background:#e3f4e3}td.na{background:#f4f4f6}\n"
    "caption{text-align:left;font-weight:bold;padding:.3em 0}\n"
    "td.list{max-width:60em;font-family:monospace;font-size:12px}\n"
    "code{font-size:12px}\n"
    "details{margin:.5em 0}\n";

static void html_summary(FILE *out, const report *r) {
    kcs_statecov_summary cs;
    kcs_statecov_summarize(r->cov, &cs);
    size_t survivors = kcs_matrix_survivors(&r->mx);
    fputs("<table id=\"summary-table\">\n", out);
    static const char *const heads[] = {"what", "value"};
    th_row(out, heads, 2);
    fprintf(out, "<tr><td>scenarios passed</td><td class=\"num\">%zu</td></tr>\n",
            r->summary.passed);
    fprintf(out, "<tr><td>scenarios failed</td><td class=\"num\">%zu</td></tr>\n",
            r->summary.failed);
    fprintf(out, "<tr><td>files that did not parse</td><td class=\"num\">%zu</td></tr>\n",
            r->summary.errors);
    fprintf(out, "<tr><td>invariant checks</td><td class=\"num\">%" PRIu64 "</td></tr>\n",
            r->summary.invariant_checks);
    fprintf(out, "<tr><td>mutants killed</td><td class=\"num\">%d</td></tr>\n",
            REF_MUT_COUNT - (int)survivors);
    fprintf(out, "<tr><td>mutants survived</td><td class=\"num\">%zu</td></tr>\n", survivors);
    fprintf(out, "<tr><td>guard misses</td><td class=\"num\">%zu</td></tr>\n",
            kcs_matrix_guard_misses(&r->mx));
    fprintf(out, "<tr><td>state-machine cells reached</td><td class=\"num\">%zu</td></tr>\n",
            cs.reached);
    fprintf(out, "<tr><td>state-machine cells reachable</td><td class=\"num\">%zu</td></tr>\n",
            cs.reachable);
    fprintf(out,
            "<tr><td>state-machine cells outside the model</td><td class=\"num\">%zu</td></tr>\n",
            cs.outside);
    fputs("</tbody></table>\n", out);
}

static void html_scenarios(FILE *out, const report *r) {
    fputs("<h2 id=\"scenarios\">Scenario results</h2>\n"
          "<p>Every scenario on the clean reference core, in suite order (files sorted, "
          "scenarios in file order); a file that did not parse is one <em>error</em> row. "
          "<em>steps</em>: statements run; <em>invariant checks</em>: invariant evaluations "
          "after the steps; <em>prompts</em> and <em>calls</em>: prompts shown and Apple API "
          "calls made in the whole run; <em>failure</em>: the step that failed "
          "(<code>file:line: message</code>).</p>\n"
          "<table id=\"scenario-table\">\n",
          out);
    static const char *const heads[] = {
        "scenario",         "file",    "line",  "verdict",   "steps",
        "invariant checks", "prompts", "calls", "invariant", "failure"};
    th_row(out, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i < r->nrows; i++) {
        const kcs_report_row *row = &r->rows[i];
        fputs("<tr>", out);
        td(out, row->name);
        td(out, row->file);
        fprintf(out, "<td class=\"num\">%d</td>", row->line);
        if (row->parse_error != NULL) {
            td_class(out, "error", "error");
            fputs("<td></td><td></td><td></td><td></td><td></td>", out);
            td(out, row->parse_error);
        } else {
            const kcs_result *res = row->result;
            bool pass = res->verdict == KCS_PASS;
            td_class(out, pass ? "pass" : "fail", pass ? "pass" : "fail");
            td_u64(out, res->steps);
            td_u64(out, res->invariant_checks);
            td_u64(out, res->prompts);
            td_u64(out, res->calls);
            td(out, res->invariant ? res->invariant : "");
            td(out, pass ? "" : res->failure);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void html_mutants(FILE *out, const report *r) {
    const kcs_matrix *mx = &r->mx;
    fputs("<h2 id=\"mutants\">Mutation matrix</h2>\n"
          "<p>Each mutant puts one regression of <code>regressions.md</code> back into the "
          "reference core. A scenario <em>kills</em> a mutant when it passes on the clean core "
          "and fails under the mutant; a mutant no scenario kills <em>survived</em>. "
          "<em>guarded by</em>: the scenarios whose <code>guards</code> line names it; a guard "
          "that does not kill it is a <em>guard miss</em>. Same data as "
          "<code>keyclass mutants --json</code>.</p>\n"
          "<table id=\"mutant-table\">\n",
          out);
    static const char *const heads[] = {"mutant", "what it puts back", "kills",
                                        "status", "killed by",         "guarded by"};
    th_row(out, heads, sizeof heads / sizeof heads[0]);
    for (int m = 0; m < REF_MUT_COUNT; m++) {
        size_t kills = mx->kills[m];
        fputs("<tr>", out);
        fputs("<td><code>", out);
        kcs_html_text(out, ref_mutant_name((ref_mutant)m));
        fputs("</code></td>", out);
        td(out, ref_mutant_doc((ref_mutant)m));
        fprintf(out, "<td class=\"num\">%zu</td>", kills);
        td_class(out, kills ? "killed" : "survived", kills ? "killed" : "SURVIVED");
        fputs("<td class=\"list\">", out);
        write_scenarios(out, r, KILLED_BY, (ref_mutant)m, " ", kcs_html_text);
        fputs("</td><td class=\"list\">", out);
        write_scenarios(out, r, GUARDED_BY, (ref_mutant)m, " ", kcs_html_text);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);

    fputs("<h3>Clean failures</h3>\n<p>Scenarios that fail on the clean core: they kill "
          "nothing.</p>\n<table id=\"clean-fail-table\">\n",
          out);
    static const char *const cheads[] = {"scenario", "failure"};
    th_row(out, cheads, 2);
    for (size_t s = 0; s < mx->n; s++) {
        if (mx->clean_pass[s])
            continue;
        fputs("<tr>", out);
        td(out, kcs_matrix_name(mx, s));
        td(out, mx->clean_failure[s]);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);

    fputs("<h3>Guard misses</h3>\n<table id=\"guard-miss-table\">\n", out);
    static const char *const gheads[] = {"scenario", "guards mutant"};
    th_row(out, gheads, 2);
    for (size_t s = 0; s < mx->n; s++)
        for (int m = 0; m < REF_MUT_COUNT; m++) {
            if (!kcs_matrix_guard_miss(mx, s, (ref_mutant)m))
                continue;
            fputs("<tr>", out);
            td(out, kcs_matrix_name(mx, s));
            td(out, ref_mutant_name((ref_mutant)m));
            fputs("</tr>\n", out);
        }
    fputs("</tbody></table>\n", out);
}

static void html_errmap(FILE *out, const report *r) {
    fputs("<h2 id=\"errmap\">OSStatus mapping (errmap)</h2>\n"
          "<p>The reference core's table (domain.md section 6), read back from "
          "<code>keyclass errmap</code>: for each mapped call (<em>path</em>), the status it "
          "returned and whether the process has a GUI session give the bridge code; the code "
          "gives the core error (the scenario outcome) and whether a <code>sign</code> failing "
          "with it evicts its cached LAContext (L1).</p>\n"
          "<table id=\"errmap-table\">\n",
          out);
    static const char *const heads[] = {
        "path", "status", "gui", "code", "bridge code", "core error", "evict LAContext"};
    th_row(out, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i < r->errmap.nrows; i++) {
        const kcs_errmap_row *row = &r->errmap.rows[i];
        fputs("<tr>", out);
        td(out, row->path);
        td(out, row->status);
        td(out, row->gui);
        fprintf(out, "<td class=\"num\">%d</td>", row->code);
        td(out, row->bridge);
        td(out, row->error);
        td(out, row->evict);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n<h3>Bridge codes</h3>\n<table id=\"errmap-code-table\">\n", out);
    static const char *const cheads[] = {"code", "bridge code", "core error", "evict LAContext"};
    th_row(out, cheads, 4);
    for (size_t i = 0; i < r->errmap.ncodes; i++) {
        const kcs_errmap_code_row *row = &r->errmap.codes[i];
        fprintf(out, "<tr><td class=\"num\">%d</td>", row->code);
        td(out, row->bridge);
        td(out, row->error);
        td(out, row->evict);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void html_cell_tds(FILE *out, const int v[KCS_DIM_COUNT]) {
    for (int d = 0; d < KCS_DIM_COUNT; d++) {
        fputs("<td title=\"", out);
        kcs_html_text(out, kcs_statecov_value_doc(d, v[d]));
        fputs("\">", out);
        kcs_html_text(out, kcs_statecov_value_name(d, v[d]));
        fputs("</td>", out);
    }
}

static void html_coverage(FILE *out, const report *r) {
    kcs_statecov_summary cs;
    kcs_statecov_summarize(r->cov, &cs);
    fprintf(out,
            "<h2 id=\"coverage\">State-machine coverage</h2>\n"
            "<p>At the end of every operation that ran the core (generate, sign, load, pubkey, "
            "rename, delete) the engine records one <em>cell</em>: device state &times; keychain "
            "kind &times; class key &times; OSStatus seen &times; result code &times; presence "
            "mode. A cell is <em>reachable</em> when the domain model's rules R1-R6 (below; "
            "<code>scenarios/src/kcs_statecov.c</code>) allow it. %" PRIu64
            " scenario runs, %" PRIu64 " operations recorded (%" PRIu64
            " crashed, not cells): <strong>%zu of %zu reachable cells reached (%.1f %%)</strong>, "
            "%zu reached cells outside the model. Same data as <code>keyclass coverage "
            "--json</code>.</p>\n",
            cs.runs, cs.ops, cs.crashed, cs.reached, cs.reachable, pct(cs.reached, cs.reachable),
            cs.outside);

    fputs("<h3>By dimension</h3>\n<p><em>ops</em>: operations that ended in a cell with the "
          "value; <em>scenarios</em>: scenario runs that did; <em>cells</em>: reached cells with "
          "the value; <em>reachable</em>: cells with the value the rules allow.</p>\n",
          out);
    for (int d = 0; d < KCS_DIM_COUNT; d++) {
        fprintf(out, "<table id=\"coverage-dim-%s\">\n<caption>", kcs_statecov_dim_name(d));
        kcs_html_text(out, kcs_statecov_dim_title(d));
        fputs("</caption>\n", out);
        static const char *const heads[] = {"value",     "meaning", "ops",
                                            "scenarios", "cells",   "reachable"};
        th_row(out, heads, sizeof heads / sizeof heads[0]);
        for (int x = 0; x < kcs_statecov_dim_size(d); x++) {
            kcs_statecov_margin m;
            kcs_statecov_margin_of(r->cov, d, x, &m);
            fputs("<tr>", out);
            td(out, kcs_statecov_value_name(d, x));
            td(out, kcs_statecov_value_doc(d, x));
            td_u64(out, m.ops);
            td_u64(out, m.scenarios);
            fprintf(out, "<td class=\"num%s\">%zu</td><td class=\"num\">%zu</td></tr>\n",
                    m.reached == 0 && m.reachable > 0 ? " miss" : "", m.reached, m.reachable);
        }
        fputs("</tbody></table>\n", out);
    }

    fputs("<h3>Value pairs (2-way coverage)</h3>\n<p>For each pair of dimensions, the "
          "operations that ended with both values; <em>0</em> (red): the model allows the pair "
          "but no scenario reaches it; empty: no reachable cell has the pair.</p>\n",
          out);
    uint64_t grid_ops[32 * 32];
    bool grid_reach[32 * 32];
    for (int a = 0; a < KCS_DIM_COUNT; a++)
        for (int b = a + 1; b < KCS_DIM_COUNT; b++) {
            int na = kcs_statecov_dim_size(a), nb = kcs_statecov_dim_size(b);
            if (na * nb > 32 * 32)
                continue;
            kcs_statecov_pair_grid(r->cov, a, b, grid_ops, grid_reach);
            size_t t = 0, hit = 0;
            for (int k = 0; k < na * nb; k++) {
                t += grid_reach[k];
                hit += grid_reach[k] && grid_ops[k] > 0;
            }
            fprintf(out, "<table id=\"coverage-pair-%s-%s\">\n<caption>", kcs_statecov_dim_name(a),
                    kcs_statecov_dim_name(b));
            kcs_html_text(out, kcs_statecov_dim_title(a));
            fputs(" &times; ", out);
            kcs_html_text(out, kcs_statecov_dim_title(b));
            fprintf(out, ": %zu of %zu pairs</caption>\n<thead><tr><th></th>", hit, t);
            for (int y = 0; y < nb; y++) {
                fputs("<th>", out);
                kcs_html_text(out, kcs_statecov_value_name(b, y));
                fputs("</th>", out);
            }
            fputs("</tr></thead>\n<tbody>\n", out);
            for (int x = 0; x < na; x++) {
                fputs("<tr><th>", out);
                kcs_html_text(out, kcs_statecov_value_name(a, x));
                fputs("</th>", out);
                for (int y = 0; y < nb; y++) {
                    size_t k = (size_t)x * (size_t)nb + (size_t)y;
                    if (!grid_reach[k] && grid_ops[k] == 0)
                        fputs("<td class=\"na\"></td>", out);
                    else
                        fprintf(out, "<td class=\"num%s\">%" PRIu64 "</td>",
                                grid_ops[k] == 0 ? " miss" : "", grid_ops[k]);
                }
                fputs("</tr>\n", out);
            }
            fputs("</tbody></table>\n", out);
        }

    static const char *const cell_heads[] = {
        "device",   "keychain", "class key", "status",         "code",
        "presence", "ops",      "scenarios", "first scenario", "in the model"};
    fputs("<h3>Reached cells</h3>\n<table id=\"coverage-cell-table\">\n", out);
    th_row(out, cell_heads, sizeof cell_heads / sizeof cell_heads[0]);
    size_t nhits = 0;
    kcs_statecov_hit *hits = kcs_statecov_hits(r->cov, &nhits);
    for (size_t i = 0; hits != NULL && i < nhits; i++) {
        fputs("<tr>", out);
        html_cell_tds(out, hits[i].cell.v);
        td_u64(out, hits[i].ops);
        td_u64(out, hits[i].scenarios);
        td(out, hits[i].first);
        if (hits[i].reachable) {
            td(out, "yes");
        } else {
            const char *rule = NULL;
            kcs_statecov_reachable(&hits[i].cell, &rule);
            char text[64];
            snprintf(text, sizeof text, "no: %s", rule ? rule : "?");
            td_class(out, "fail", text);
        }
        fputs("</tr>\n", out);
    }
    free(hits);
    fputs("</tbody></table>\n", out);

    size_t *sizes = NULL, ncubes = 0;
    kcs_statecov_cell *cubes = kcs_statecov_missing(r->cov, &sizes, &ncubes);
    fprintf(out,
            "<h3>Reachable cells no scenario reaches</h3>\n<p>%zu cells, merged into %zu groups "
            "(<code>*</code>: every value the rules allow there), ordered by status and code. "
            "Each is a scenario to write, or a sign that a rule allows too much.</p>\n"
            "<details><summary>the %zu groups</summary>\n<table id=\"coverage-missing-table\">\n",
            cs.reachable - cs.reached, ncubes, ncubes);
    static const char *const miss_heads[] = {"device", "keychain", "class key", "status",
                                             "code",   "presence", "cells"};
    th_row(out, miss_heads, sizeof miss_heads / sizeof miss_heads[0]);
    for (size_t i = 0; cubes != NULL && i < ncubes; i++) {
        fputs("<tr>", out);
        html_cell_tds(out, cubes[i].v);
        fprintf(out, "<td class=\"num\">%zu</td></tr>\n", sizes[i]);
    }
    fputs("</tbody></table>\n</details>\n", out);
    free(cubes);
    free(sizes);

    fputs("<h3>Exact statuses seen</h3>\n<table id=\"coverage-status-table\">\n", out);
    static const char *const st_heads[] = {"status", "name", "as", "ops"};
    th_row(out, st_heads, 4);
    size_t nst = 0;
    const kcs_statecov_status *sts = kcs_statecov_statuses(r->cov, &nst);
    for (size_t i = 0; i < nst; i++) {
        fprintf(out, "<tr><td class=\"num\">%" PRId32 "</td>", sts[i].status);
        td(out, sts[i].name ? sts[i].name : "");
        td(out, kcs_statecov_value_name(KCS_DIM_STATUS, sts[i].value));
        td_u64(out, sts[i].ops);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n<h3>Rules</h3>\n<table id=\"coverage-rule-table\">\n", out);
    static const char *const rule_heads[] = {"rule", "a cell is reachable only if"};
    th_row(out, rule_heads, 2);
    for (size_t i = 0; i < kcs_statecov_rule_count(); i++) {
        fputs("<tr>", out);
        td(out, kcs_statecov_rule_id(i));
        td(out, kcs_statecov_rule_text(i));
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void html_diagram(FILE *out, const report *r) {
    const kcs_state_diagram *d = &r->diagram;
    fputs("<h2 id=\"diagram\">Device and keybag</h2>\n"
          "<p>Generated by driving the simulated world itself: from a fresh world (device off, "
          "passcode on, no fault) every device event and the end of the lock grace period is "
          "tried in every state found. A state is what can be observed: device state, asleep or "
          "not, which class keys are available (<code>X*</code>: X and XThisDeviceOnly), the "
          "login keychain's lock. Refused events and events that change nothing are not "
          "drawn.</p>\n",
          out);
    if (r->svg)
        fputs("<p><img src=\"" SVG_FILE "\" alt=\"state diagram of the device and keybag\"></p>\n"
              "<p class=\"note\" id=\"diagram-renderer\">Rendered with graphviz <code>dot</code> "
              "from <a href=\"" DOT_FILE "\">" DOT_FILE "</a>; the same diagram as tables:</p>\n",
              out);
    else
        fputs("<p class=\"note\" id=\"diagram-renderer\">graphviz <code>dot</code> was not used "
              "(not on the PATH, or <code>--no-dot</code>): the diagram is shown as tables only. "
              "Install graphviz (<code>ci/install-deps.sh</code> does) and run the report again "
              "for the picture; its source is <a href=\"" DOT_FILE "\">" DOT_FILE "</a>.</p>\n",
              out);
    fputs("<table id=\"state-table\">\n", out);
    static const char *const heads[] = {"state", "device", "asleep", "class keys available",
                                        "login keychain"};
    th_row(out, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i < d->nstates; i++) {
        const kcs_sd_state *s = &d->states[i];
        char classes[256];
        kcs_sd_classes(s, classes, sizeof classes);
        fputs("<tr>", out);
        td(out, s->name);
        td(out, world_device_state_name(s->device));
        td(out, s->asleep ? "yes" : "no");
        td(out, classes);
        td(out, s->login_locked ? "locked" : "unlocked");
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n<table id=\"transition-table\">\n", out);
    static const char *const theads[] = {"from", "event", "to"};
    th_row(out, theads, 3);
    for (size_t i = 0; i < d->nedges; i++) {
        fputs("<tr>", out);
        td(out, d->states[d->edges[i].from].name);
        td(out, d->edges[i].event);
        td(out, d->states[d->edges[i].to].name);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static int write_html(FILE *out, const report *r) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>keyclass report</title>\n<style>\n",
          out);
    fputs(css, out);
    fputs("</style>\n</head>\n<body>\n<h1>keyclass report</h1>\n<p "
          "class=\"meta\">keyclass " KEYCLASS_VERSION " &middot; seed ",
          out);
    fprintf(out, "%" PRIu64 " &middot; paths:", r->args->seed);
    for (size_t i = 0; i < r->args->npaths; i++) {
        fputs(" <code>", out);
        kcs_html_text(out, r->args->paths[i]);
        fputs("</code>", out);
    }
    fprintf(out, " &middot; %zu scenarios, %d mutants</p>\n", r->mx.n, REF_MUT_COUNT);
    fputs("<nav><a href=\"#scenarios\">Scenario results</a><a href=\"#mutants\">Mutation "
          "matrix</a><a href=\"#errmap\">Errmap</a><a href=\"#coverage\">State-machine "
          "coverage</a><a href=\"#diagram\">Device and keybag</a><a href=\"#code-coverage\">Code "
          "coverage</a><a href=\"report.json\">report.json</a></nav>\n",
          out);
    html_summary(out, r);
    html_scenarios(out, r);
    html_mutants(out, r);
    html_errmap(out, r);
    html_coverage(out, r);
    html_diagram(out, r);
    fprintf(out,
            "<h2 id=\"code-coverage\">Code coverage</h2>\n<p>Line and branch coverage of "
            "<code>ref/</code> and <code>mocks/</code> (lcov, <code>make coverage</code>): "
            "<a id=\"lcov-link\" href=\"" LCOV_HREF "\">" LCOV_HREF "</a> &mdash; %s</p>\n",
            r->lcov_present ? "present when this report was written"
                            : "not there when this report was written: run <code>make "
                              "coverage</code> to create it");
    fputs("</body>\n</html>\n", out);
    return ferror(out) ? -1 : 0;
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static int write_json(FILE *out, const report *r) {
    fputs("{\n\"keyclass\": \"" KEYCLASS_VERSION "\",\n", out);
    fprintf(out, "\"seed\": %" PRIu64 ",\n\"paths\": [", r->args->seed);
    for (size_t i = 0; i < r->args->npaths; i++) {
        fputs(i ? ", " : "", out);
        kcs_json_string(out, r->args->paths[i]);
    }
    fputs("],\n\"run\": ", out);
    kcs_report_json(out, r->rows, r->nrows, &r->summary);
    fputs(",\n\"mutants\": ", out);
    kcs_matrix_json(out, &r->mx);
    fputs(",\n\"mutants_detail\": {\"clean_failures\": [", out);
    const kcs_matrix *mx = &r->mx;
    for (size_t s = 0, k = 0; s < mx->n; s++) {
        if (mx->clean_pass[s])
            continue;
        fputs(k++ ? ",\n  {\"name\": " : "\n  {\"name\": ", out);
        kcs_json_string(out, kcs_matrix_name(mx, s));
        fputs(", \"failure\": ", out);
        kcs_json_string(out, mx->clean_failure[s]);
        fputc('}', out);
    }
    fputs("],\n  \"guard_misses\": [", out);
    for (size_t s = 0, k = 0; s < mx->n; s++)
        for (int m = 0; m < REF_MUT_COUNT; m++) {
            if (!kcs_matrix_guard_miss(mx, s, (ref_mutant)m))
                continue;
            fputs(k++ ? ",\n  {\"scenario\": " : "\n  {\"scenario\": ", out);
            kcs_json_string(out, kcs_matrix_name(mx, s));
            fputs(", \"mutant\": ", out);
            kcs_json_string(out, ref_mutant_name((ref_mutant)m));
            fputc('}', out);
        }
    fputs("],\n  \"guarded_by\": {", out);
    for (int m = 0; m < REF_MUT_COUNT; m++) {
        fputs(m ? ",\n  " : "\n  ", out);
        kcs_json_string(out, ref_mutant_name((ref_mutant)m));
        fputs(": [", out);
        write_scenarios(out, r, GUARDED_BY, (ref_mutant)m, ", ", kcs_json_string);
        fputc(']', out);
    }
    fputs("}},\n\"errmap\": {\"rows\": [", out);
    for (size_t i = 0; i < r->errmap.nrows; i++) {
        const kcs_errmap_row *row = &r->errmap.rows[i];
        fputs(i ? ",\n  {\"path\": " : "\n  {\"path\": ", out);
        kcs_json_string(out, row->path);
        fputs(", \"status\": ", out);
        kcs_json_string(out, row->status);
        fputs(", \"gui\": ", out);
        kcs_json_string(out, row->gui);
        fprintf(out, ", \"code\": %d, \"bridge\": ", row->code);
        kcs_json_string(out, row->bridge);
        fputs(", \"error\": ", out);
        kcs_json_string(out, row->error);
        fputs(", \"evict\": ", out);
        kcs_json_string(out, row->evict);
        fputc('}', out);
    }
    fputs("],\n  \"codes\": [", out);
    for (size_t i = 0; i < r->errmap.ncodes; i++) {
        const kcs_errmap_code_row *row = &r->errmap.codes[i];
        fprintf(out, "%s{\"code\": %d, \"bridge\": ", i ? ",\n  " : "\n  ", row->code);
        kcs_json_string(out, row->bridge);
        fputs(", \"error\": ", out);
        kcs_json_string(out, row->error);
        fputs(", \"evict\": ", out);
        kcs_json_string(out, row->evict);
        fputc('}', out);
    }
    fputs("]},\n\"coverage\": ", out);
    kcs_statecov_json(out, r->cov);
    fprintf(out,
            ",\n\"diagram\": {\"renderer\": \"%s\", \"dot\": \"" DOT_FILE "\", \"svg\": %s,"
            "\n  \"states\": [",
            r->svg ? "dot" : "table", r->svg ? "\"" SVG_FILE "\"" : "null");
    const kcs_state_diagram *d = &r->diagram;
    for (size_t i = 0; i < d->nstates; i++) {
        const kcs_sd_state *s = &d->states[i];
        char classes[256];
        kcs_sd_classes(s, classes, sizeof classes);
        fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", out);
        kcs_json_string(out, s->name);
        fputs(", \"device\": ", out);
        kcs_json_string(out, world_device_state_name(s->device));
        fprintf(out, ", \"asleep\": %s, \"class_keys\": ", s->asleep ? "true" : "false");
        kcs_json_string(out, classes);
        fprintf(out, ", \"login_keychain\": \"%s\"}", s->login_locked ? "locked" : "unlocked");
    }
    fputs("],\n  \"transitions\": [", out);
    for (size_t i = 0; i < d->nedges; i++) {
        fputs(i ? ",\n  {\"from\": " : "\n  {\"from\": ", out);
        kcs_json_string(out, d->states[d->edges[i].from].name);
        fputs(", \"event\": ", out);
        kcs_json_string(out, d->edges[i].event);
        fputs(", \"to\": ", out);
        kcs_json_string(out, d->states[d->edges[i].to].name);
        fputc('}', out);
    }
    fprintf(out, "]},\n\"code_coverage\": {\"href\": \"" LCOV_HREF "\", \"present\": %s}\n}\n",
            r->lcov_present ? "true" : "false");
    return ferror(out) ? -1 : 0;
}

typedef int (*writer)(FILE *out, const report *r);

static int write_file(const char *dir, const char *name, writer fn, const report *r) {
    char path[1200];
    join(path, sizeof path, dir, name);
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "keyclass: cannot write %s\n", path);
        return -1;
    }
    int rc = fn(out, r);
    if (fclose(out) != 0 || rc != 0) {
        fprintf(stderr, "keyclass: error writing %s\n", path);
        return -1;
    }
    return 0;
}

static int write_dot(FILE *out, const report *r) {
    kcs_state_diagram_dot(out, &r->diagram);
    return ferror(out) ? -1 : 0;
}

/* ---- The command -------------------------------------------------------------------------------
 */

static int parse_args(int argc, char **argv, report_args *a) {
    a->seed = 1;
    a->out = DEFAULT_OUT;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "--out") == 0 && has_value) {
            a->out = argv[++i];
        } else if (strcmp(arg, "--seed") == 0 && has_value) {
            if (!kcs_cli_parse_u64(argv[++i], &a->seed))
                return kcs_cli_usage_error("report: --seed takes a decimal number, not '%s'",
                                           argv[i]);
        } else if (strcmp(arg, "--no-dot") == 0) {
            a->no_dot = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return kcs_cli_usage_error("report: unknown option or missing value: '%s'", arg);
        } else {
            a->paths[a->npaths++] = arg;
        }
    }
    if (a->npaths == 0)
        a->paths[a->npaths++] = KCS_DEFAULT_LIBRARY;
    if (a->out[0] == '\0')
        return kcs_cli_usage_error("report: --out needs a folder");
    return 0;
}

int kcs_cli_report(int argc, char **argv) {
    report_args a = {0};
    a.paths = calloc((size_t)argc + 1, sizeof *a.paths);
    if (a.paths == NULL)
        return 2;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        free(a.paths);
        return rc;
    }
    report r;
    memset(&r, 0, sizeof r);
    r.args = &a;
    if (kcs_cli_suite_load(&r.suite, a.paths, a.npaths) != 0) {
        free(a.paths);
        return 2;
    }
    if (mkdir_p(a.out) != 0) {
        fprintf(stderr, "keyclass: cannot create the folder %s\n", a.out);
        report_free(&r);
        free(a.paths);
        return 2;
    }
    if (run_everything(&r) != 0) {
        fprintf(stderr, "keyclass: out of memory\n");
        report_free(&r);
        free(a.paths);
        return 2;
    }

    char path[1200];
    rc = write_file(a.out, DOT_FILE, write_dot, &r);
    char svg[1200], dot[1024];
    join(svg, sizeof svg, a.out, SVG_FILE);
    remove(svg); /* never show a diagram from an earlier report */
    if (rc == 0 && !a.no_dot && find_dot(dot, sizeof dot)) {
        join(path, sizeof path, a.out, DOT_FILE);
        r.svg = render_svg(dot, path, svg);
    }
    join(path, sizeof path, a.out, LCOV_HREF);
    r.lcov_present = file_exists(path);
    if (rc == 0)
        rc = write_file(a.out, "report.json", write_json, &r);
    if (rc == 0)
        rc = write_file(a.out, "index.html", write_html, &r);

    if (rc == 0) {
        kcs_statecov_summary cs;
        kcs_statecov_summarize(r.cov, &cs);
        printf("keyclass: report: %zu/%zu scenarios passed, %d/%d mutants killed, %zu/%zu "
               "state-machine cells reached; diagram: %s\n",
               r.summary.passed, r.mx.n, REF_MUT_COUNT - (int)kcs_matrix_survivors(&r.mx),
               REF_MUT_COUNT, cs.reached, cs.reachable, r.svg ? "svg (dot)" : "tables (no dot)");
        printf("keyclass: report written to %s/index.html\n", a.out);
    }
    report_free(&r);
    free(a.paths);
    return rc == 0 ? 0 : 2;
}
