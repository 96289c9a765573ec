"""`keyclass report` and `keyclass coverage`: the HTML page against the JSON.

One report of the whole library is written per session. Every table of the
page is parsed with the standard library's html.parser and compared with
report.json of the same run; each JSON section is compared with the document
the standalone command writes for the same paths and seed (`run --json`,
`mutants --json`, `coverage --json`) and the errmap tables with the text of
`keyclass errmap`. All of it is deterministic, so "the same run" and "the
standalone command" must agree exactly.
"""
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import ROOT

LIBRARY = ROOT / "scenarios"
SMALL = ROOT / "scenarios" / "lifecycle"


def keyclass(binary, *args, timeout=900):
    return subprocess.run(
        [str(binary), *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


def norm(text):
    return " ".join(str(text).split())


class Page(HTMLParser):
    """Tables by id (caption, header rows, body rows of cell texts), images,
    links, scripts and every id of the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.images, self.links, self.ids = {}, [], [], set()
        self.scripts = 0
        self.notes = {}
        self._table = self._part = self._row = self._cell = self._caption = None
        self._note = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids.add(a["id"])
        if tag == "table":
            self._table = {"caption": "", "head": [], "rows": []}
            self.tables[a.get("id")] = self._table
        elif tag in ("thead", "tbody"):
            self._part = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "caption":
            self._caption = []
        elif tag == "img":
            self.images.append(a)
        elif tag == "a":
            self.links.append(a)
        elif tag == "script":
            self.scripts += 1
        elif tag == "p" and "id" in a:
            self._note = (a["id"], [])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(norm("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            where = "head" if self._part == "thead" else "rows"
            self._table[where].append(self._row)
            self._row = None
        elif tag == "caption" and self._caption is not None:
            self._table["caption"] = norm("".join(self._caption))
            self._caption = None
        elif tag == "table":
            self._table = self._part = None
        elif tag == "p" and self._note is not None:
            self.notes[self._note[0]] = norm("".join(self._note[1]))
            self._note = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)
        if self._note is not None:
            self._note[1].append(data)


def parse_page(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def column(table, name):
    return table["head"][0].index(name)


@pytest.fixture(scope="session")
def report(keyclass_bin, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report"
    proc = keyclass(keyclass_bin, "report", LIBRARY, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert f"report written to {out}/index.html" in proc.stdout
    data = json.loads((out / "report.json").read_text())
    return out, parse_page(out / "index.html"), data


@pytest.fixture(scope="session")
def standalone(keyclass_bin, tmp_path_factory):
    """The same data from the standalone commands."""
    tmp = tmp_path_factory.mktemp("standalone")
    keyclass(keyclass_bin, "run", LIBRARY, "--quiet", "--json", tmp / "run.json")
    keyclass(keyclass_bin, "mutants", LIBRARY, "--json", tmp / "mutants.json")
    cov = keyclass(keyclass_bin, "coverage", LIBRARY, "--json", tmp / "coverage.json")
    errmap = keyclass(keyclass_bin, "errmap")
    assert errmap.returncode == 0
    return {
        "run": json.loads((tmp / "run.json").read_text()),
        "mutants": json.loads((tmp / "mutants.json").read_text()),
        "coverage": json.loads((tmp / "coverage.json").read_text()),
        "coverage_proc": cov,
        "errmap": errmap.stdout,
    }


# ---- The page as a whole -------------------------------------------------------------


def test_page_is_static_and_complete(report):
    out, page, data = report
    assert page.scripts == 0
    for table in ("summary-table", "scenario-table", "mutant-table", "clean-fail-table",
                  "guard-miss-table", "errmap-table", "errmap-code-table",
                  "coverage-cell-table", "coverage-missing-table", "coverage-status-table",
                  "coverage-rule-table", "state-table", "transition-table"):
        assert table in page.tables, f"{table} missing"
    for section in ("scenarios", "mutants", "errmap", "coverage", "diagram", "code-coverage"):
        assert section in page.ids


def test_lcov_link_points_to_the_coverage_folder(report):
    out, page, data = report
    hrefs = [a.get("href") for a in page.links]
    assert "../coverage/index.html" in hrefs
    assert data["code_coverage"]["href"] == "../coverage/index.html"
    present = (out.parent / "coverage" / "index.html").exists()
    assert data["code_coverage"]["present"] == present


def test_summary_table(report):
    _, page, data = report
    rows = dict(page.tables["summary-table"]["rows"])
    run, mut, cov = data["run"]["summary"], data["mutants"], data["coverage"]
    assert int(rows["scenarios passed"]) == run["passed"]
    assert int(rows["scenarios failed"]) == run["failed"]
    assert int(rows["files that did not parse"]) == run["errors"]
    assert int(rows["invariant checks"]) == run["invariant_checks"]
    assert int(rows["mutants survived"]) == mut["survivors"]
    assert int(rows["mutants killed"]) == len(mut["mutants"]) - mut["survivors"]
    assert int(rows["guard misses"]) == mut["guard_misses"]
    assert int(rows["state-machine cells reached"]) == cov["reached"]
    assert int(rows["state-machine cells reachable"]) == cov["reachable"]
    assert int(rows["state-machine cells outside the model"]) == cov["outside"]


# ---- Scenario results ----------------------------------------------------------------


def test_scenario_table_matches_json(report):
    _, page, data = report
    table = page.tables["scenario-table"]
    scenarios = data["run"]["scenarios"]
    assert len(table["rows"]) == len(scenarios) > 0
    for row, s in zip(table["rows"], scenarios):
        cells = dict(zip(table["head"][0], row))
        assert cells["scenario"] == s["name"]
        assert cells["file"] == s["file"]
        assert int(cells["line"]) == s["line"]
        assert cells["verdict"] == s["verdict"]
        assert cells["failure"] == norm(s["failure"] or "")
        if s["verdict"] != "error":
            assert cells["invariant"] == (s["invariant"] or "")
            for col, key in (("steps", "steps"), ("invariant checks", "invariant_checks"),
                             ("prompts", "prompts"), ("calls", "calls")):
                assert int(cells[col]) == s[key], (s["name"], col)


def test_run_section_is_the_run_command_json(report, standalone):
    _, _, data = report
    assert data["run"] == standalone["run"]


# ---- Mutation matrix -----------------------------------------------------------------


def test_mutant_table_matches_json(report):
    _, page, data = report
    table = page.tables["mutant-table"]
    mutants = data["mutants"]["mutants"]
    guarded = data["mutants_detail"]["guarded_by"]
    assert len(table["rows"]) == len(mutants) > 0
    for row, m in zip(table["rows"], mutants):
        cells = dict(zip(table["head"][0], row))
        assert cells["mutant"] == m["name"]
        assert cells["what it puts back"] == norm(m["doc"])
        assert int(cells["kills"]) == len(m["killed_by"])
        assert cells["status"] == ("killed" if m["killed_by"] else "SURVIVED")
        assert cells["killed by"].split() == m["killed_by"]
        assert cells["guarded by"].split() == guarded[m["name"]]


def test_clean_failures_and_guard_misses_match_json(report):
    _, page, data = report
    detail = data["mutants_detail"]
    clean = page.tables["clean-fail-table"]["rows"]
    assert clean == [[c["name"], norm(c["failure"])] for c in detail["clean_failures"]]
    assert len(clean) == data["mutants"]["clean_failed"]
    misses = page.tables["guard-miss-table"]["rows"]
    assert misses == [[g["scenario"], g["mutant"]] for g in detail["guard_misses"]]
    assert len(misses) == data["mutants"]["guard_misses"]


def test_clean_column_is_the_scenario_results(report):
    _, _, data = report
    failed = [s["name"] for s in data["run"]["scenarios"] if s["verdict"] == "fail"]
    assert [c["name"] for c in data["mutants_detail"]["clean_failures"]] == failed


def test_mutants_section_is_the_mutants_command_json(report, standalone):
    _, _, data = report
    assert data["mutants"] == standalone["mutants"]


# ---- Errmap -------------------------------------------------------------------------------

ERRMAP_ROW = re.compile(
    r"^(\S+)\s+(.+?)\s+(any|yes|no)\s+(\d+)\s+(\S+)\s+(\S+)\s+(yes|no)$")
CODE_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+(yes|no)$")


def errmap_text(text):
    rows, codes, part = [], [], "before"
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("path "):
            part = "rows"
        elif line.startswith("code "):
            part = "codes"
        elif part == "rows" and line.strip():
            m = ERRMAP_ROW.match(line)
            assert m, line
            rows.append([m[1], m[2], m[3], m[4], m[5], m[6], m[7]])
        elif part == "codes" and line.strip():
            m = CODE_ROW.match(line)
            assert m, line
            codes.append(list(m.groups()))
    return rows, codes


def test_errmap_tables_match_json_and_the_errmap_command(report, standalone):
    _, page, data = report
    want_rows, want_codes = errmap_text(standalone["errmap"])
    json_rows = [[r["path"], r["status"], r["gui"], str(r["code"]), r["bridge"], r["error"],
                  r["evict"]] for r in data["errmap"]["rows"]]
    json_codes = [[str(c["code"]), c["bridge"], c["error"], c["evict"]]
                  for c in data["errmap"]["codes"]]
    assert page.tables["errmap-table"]["rows"] == json_rows == want_rows
    assert page.tables["errmap-code-table"]["rows"] == json_codes == want_codes
    assert len(json_codes) == 17


# ---- State-machine coverage -----------------------------------------------------------------

DIMS = ("device", "keychain", "class_key", "status", "code", "presence")


def test_coverage_cell_table_matches_json(report):
    _, page, data = report
    cov = data["coverage"]
    table = page.tables["coverage-cell-table"]
    assert len(table["rows"]) == len(cov["cells"]) > 0
    for row, cell in zip(table["rows"], cov["cells"]):
        assert row[:6] == [cell[d] for d in DIMS]
        assert int(row[6]) == cell["ops"]
        assert int(row[7]) == cell["scenarios"]
        assert row[8] == cell["first"]
        assert row[9] == ("yes" if cell["reachable"] else f"no: {cell['rule']}")
    assert sum(c["ops"] for c in cov["cells"]) == cov["operations"]
    assert sum(1 for c in cov["cells"] if c["reachable"]) == cov["reached"]


def test_coverage_missing_table_matches_json(report):
    _, page, data = report
    cov = data["coverage"]
    rows = page.tables["coverage-missing-table"]["rows"]
    assert rows == [[m[d] for d in DIMS] + [str(m["cells"])] for m in cov["missing"]]
    assert sum(m["cells"] for m in cov["missing"]) == cov["reachable"] - cov["reached"]


def test_coverage_dimension_tables_match_json(report):
    _, page, data = report
    cov = data["coverage"]
    assert [d["name"] for d in cov["dimensions"]] == list(DIMS)
    for dim in cov["dimensions"]:
        table = page.tables[f"coverage-dim-{dim['name']}"]
        assert table["caption"] == dim["title"]
        want = [[v["name"], norm(v["doc"]), str(v["ops"]), str(v["scenarios"]),
                 str(v["reached"]), str(v["reachable"])] for v in dim["values"]]
        assert table["rows"] == want
        # Every operation has exactly one value per dimension.
        assert sum(v["ops"] for v in dim["values"]) == cov["operations"]
        assert sum(v["reached"] for v in dim["values"]) == cov["reached"]
        assert sum(v["reachable"] for v in dim["values"]) == cov["reachable"]


def test_coverage_pair_grids_match_json_and_cells(report):
    _, page, data = report
    cov = data["coverage"]
    values = {d["name"]: [v["name"] for v in d["values"]] for d in cov["dimensions"]}
    assert len(cov["pairs"]) == 15
    for pair in cov["pairs"]:
        a, b = pair["a"], pair["b"]
        table = page.tables[f"coverage-pair-{a}-{b}"]
        assert table["head"][0] == [""] + values[b]
        reached = 0
        for x, (row, ops) in enumerate(zip(table["rows"], pair["ops"])):
            assert row[0] == values[a][x]
            assert row[1:] == ["" if o is None else str(o) for o in ops]
            for y, o in enumerate(ops):
                want = sum(c["ops"] for c in cov["cells"]
                           if c[a] == values[a][x] and c[b] == values[b][y])
                assert (o or 0) == want, (a, b, x, y)
                reached += o is not None and o > 0
        assert reached == pair["reached"]
        assert table["caption"].endswith(f"{pair['reached']} of {pair['reachable']} pairs")


def test_coverage_status_and_rule_tables_match_json(report):
    _, page, data = report
    cov = data["coverage"]
    assert page.tables["coverage-status-table"]["rows"] == [
        [str(s["status"]), s["name"] or "", s["as"], str(s["ops"])] for s in cov["statuses"]]
    assert page.tables["coverage-rule-table"]["rows"] == [
        [r["id"], norm(r["text"])] for r in cov["rules"]]


def test_coverage_section_is_the_coverage_command_json(report, standalone):
    _, _, data = report
    assert data["coverage"] == standalone["coverage"]


def test_coverage_stays_inside_the_model(standalone):
    """A reached cell the rules forbid means a rule or the core is wrong."""
    cov = standalone["coverage"]
    outside = [c for c in cov["cells"] if not c["reachable"]]
    assert cov["outside"] == len(outside) == 0, outside
    assert 0 < cov["reached"] <= cov["reachable"]
    assert cov["runs"] == len(standalone["run"]["scenarios"])


def test_coverage_exit_status(standalone):
    proc, run = standalone["coverage_proc"], standalone["run"]
    failing = run["summary"]["failed"] + run["summary"]["errors"]
    assert proc.returncode == (1 if failing or standalone["coverage"]["outside"] else 0), \
        proc.stdout[-2000:]
    assert "reachable cells no scenario reaches" in proc.stdout
    assert "value pairs (2-way coverage)" in proc.stdout


def test_coverage_text_lists_every_dimension_value(standalone):
    text = standalone["coverage_proc"].stdout
    for dim in standalone["coverage"]["dimensions"]:
        assert dim["title"] in text
        for value in dim["values"]:
            assert re.search(rf"^\s+{re.escape(value['name'])}\s+\d+", text, re.M), value


# ---- The diagram ------------------------------------------------------------------------------


def test_diagram_tables_match_json(report):
    _, page, data = report
    diagram = data["diagram"]
    assert page.tables["state-table"]["rows"] == [
        [s["name"], s["device"], "yes" if s["asleep"] else "no", s["class_keys"],
         s["login_keychain"]] for s in diagram["states"]]
    assert page.tables["transition-table"]["rows"] == [
        [t["from"], t["event"], t["to"]] for t in diagram["transitions"]]
    names = [s["name"] for s in diagram["states"]]
    assert names[0] == "off" and len(set(names)) == len(names)
    assert {"unlocked", "locked", "locked, asleep", "before-first-unlock"} <= set(names)


def test_diagram_uses_dot_when_installed(report):
    out, page, data = report
    assert (out / "device-keybag.dot").read_text().startswith("digraph")
    srcs = [img.get("src") for img in page.images]
    if shutil.which("dot"):
        assert data["diagram"]["renderer"] == "dot"
        assert "device-keybag.svg" in srcs
        assert (out / "device-keybag.svg").read_text().lstrip().startswith("<?xml")
    else:
        assert data["diagram"]["renderer"] == "table"
        assert "not used" in page.notes["diagram-renderer"]


def test_no_dot_falls_back_to_tables_and_output_is_deterministic(keyclass_bin, tmp_path):
    pages = []
    for name in ("a", "b"):
        out = tmp_path / name
        proc = keyclass(keyclass_bin, "report", SMALL, "--out", out, "--no-dot")
        assert proc.returncode == 0, proc.stderr
        pages.append(((out / "index.html").read_bytes(), (out / "report.json").read_bytes()))
        page = parse_page(out / "index.html")
        assert not page.images
        assert not (out / "device-keybag.svg").exists()
        assert "not used" in page.notes["diagram-renderer"]
        assert json.loads(pages[-1][1])["diagram"]["renderer"] == "table"
    assert pages[0] == pages[1]


def test_report_usage_errors(keyclass_bin, tmp_path):
    assert keyclass(keyclass_bin, "report", "--frob").returncode == 2
    assert keyclass(keyclass_bin, "report", tmp_path / "missing",
                    "--out", tmp_path / "r").returncode == 2
    assert keyclass(keyclass_bin, "coverage", "--seed", "x").returncode == 2
