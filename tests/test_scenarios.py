"""The scenario library as pytest cases: one test per scenario (its name is
the test id), and the mutation matrix as one test.

The library is run once per session with `keyclass run --json`; each test
then asserts its own scenario's verdict, so a failure names the scenario and
shows its `file:line: message`.
"""
import json
import pathlib
import re
import subprocess

import pytest

from conftest import ROOT, build_dir

LIBRARY = ROOT / "scenarios"
SCENARIO_LINE = re.compile(r"^\s*scenario\s+(\S+)", re.M)


def library_scenarios():
    found = []
    for path in sorted(LIBRARY.rglob("*.kcs")):
        for name in SCENARIO_LINE.findall(path.read_text(encoding="utf-8")):
            found.append((name, path))
    return found


SCENARIOS = library_scenarios()


@pytest.fixture(scope="session")
def library_run(keyclass_bin, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    json_path = out / "library.json"
    junit_path = build_dir() / "scenarios-junit.xml"
    proc = subprocess.run(
        [str(keyclass_bin), "run", str(LIBRARY), "--quiet",
         "--json", str(json_path), "--junit", str(junit_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert json_path.exists(), proc.stderr
    data = json.loads(json_path.read_text())
    return proc, {row["name"]: row for row in data["scenarios"]}, data


def test_library_is_not_empty():
    # The library is the product: an empty one must not pass silently.
    assert len(SCENARIOS) >= 50, f"only {len(SCENARIOS)} scenarios in {LIBRARY}"


def test_scenario_names_are_unique():
    names = [name for name, _ in SCENARIOS]
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, f"duplicate scenario names: {dupes}"


@pytest.mark.parametrize("name,path", SCENARIOS, ids=[n for n, _ in SCENARIOS])
def test_scenario(library_run, name, path):
    _, rows, _ = library_run
    row = rows.get(name)
    assert row is not None, f"{path}: scenario {name} was not run"
    assert row["verdict"] == "pass", row["failure"]
    assert row["invariant_checks"] > 0, f"{name}: no invariant was checked"


def test_library_exit_status_matches_verdicts(library_run):
    proc, rows, data = library_run
    failed = [r for r in rows.values() if r["verdict"] != "pass"]
    assert (proc.returncode == 0) == (not failed), proc.stdout[-2000:]
    assert data["summary"]["passed"] == len(rows) - len(failed)


def test_mutation_matrix_kills_every_mutant(keyclass_bin, tmp_path):
    json_path = tmp_path / "mutants.json"
    proc = subprocess.run(
        [str(keyclass_bin), "mutants", str(LIBRARY), "--json", str(json_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    data = json.loads(json_path.read_text())
    survivors = [m["name"] for m in data["mutants"] if not m["killed_by"]]
    assert not survivors, f"mutants survived: {survivors}\n{proc.stdout[-3000:]}"
    assert data["clean_failed"] == 0, proc.stdout[-3000:]
    assert data["guard_misses"] == 0, proc.stdout[-3000:]
    assert proc.returncode == 0, proc.stdout[-3000:]
    listed = subprocess.run([str(keyclass_bin), "mutants", "--list"],
                            capture_output=True, text=True, check=True).stdout
    assert len(data["mutants"]) == len(listed.strip().splitlines())


def test_every_mutant_is_guarded_by_a_scenario(keyclass_bin):
    listed = subprocess.run([str(keyclass_bin), "mutants", "--list"],
                            capture_output=True, text=True, check=True).stdout
    mutants = [line.split()[0] for line in listed.splitlines() if line.strip()]
    guarded = set()
    for path in LIBRARY.rglob("*.kcs"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split("#", 1)[0].split()
            if words[:1] == ["guards"]:
                guarded.update(words[1:])
    assert sorted(set(mutants) - guarded) == []


def test_mutant_catalogue_matches_the_spec(keyclass_bin):
    spec = ROOT.parent / "shared" / "spec" / "regressions.md"
    if not spec.exists():
        pytest.skip(f"{spec} not beside this checkout")
    names = re.findall(r"^\|\s*`([a-z0-9-]+)`\s*\|", spec.read_text(), re.M)
    listed = subprocess.run([str(keyclass_bin), "mutants", "--list"],
                            capture_output=True, text=True, check=True).stdout
    assert sorted(names) == sorted(line.split()[0] for line in listed.splitlines())
