"""bench/run.sh, the driver of `make bench`: its output keeps one shape —
the same figure names in the same order, "n/a <reason>" for a figure that
could not be measured — whatever the benchmarks print. Checked with stand-in
benchmark programs (the real ones take minutes and print real time)."""
import os
import re
import stat
import subprocess

from conftest import ROOT

EXPECTED = [
    "secitem.copy_matching_hit", "secitem.add", "secitem.plain_hash_lookup",
    "secitem.hit_over_lookup",
    "core.generate", "core.sign", "core.sign_nocache", "core.load", "core.load_nocache",
    "scenarios.library", "scenarios.statements", "scenarios.with_coverage",
    "explore.schedules",
]
FIGURE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_.]+ ([0-9][0-9.]* \S+|n/a .+)$")


def stand_in(folder, name, text, status=0):
    path = folder / name
    path.write_text("#!/bin/sh\ncat <<'OUT'\n" + text + "OUT\nexit %d\n" % status)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def run(*benches):
    env = dict(os.environ, FUZZ_BENCH="0")
    return subprocess.run(
        ["bash", str(ROOT / "bench" / "run.sh"), "build", *map(str, benches)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )


def figures(stdout):
    head = stdout.split("\n## details\n")[0].splitlines()
    assert head[0].startswith("# keyclass benchmarks")
    lines = head[1:]
    while lines and not lines[-1]:
        lines.pop()
    for line in lines:
        assert FIGURE.match(line), line
    return [line.split(" ", 2) for line in lines]


def test_every_figure_in_a_fixed_order(tmp_path):
    secitem = stand_in(tmp_path, "bench_secitem", (
        "bench_secitem: keychain of 1000 items, best of 7 rounds\n"
        "  SecItemCopyMatching hit     901.5 ns/op\n"
        "  SecItemAdd                 1121.5 ns/op\n"
        "  plain hash lookup            64.2 ns/op\n"
        "  ratio hit/lookup             14.0 x  (target <= 20x: met)\n"))
    core = stand_in(tmp_path, "bench_core", (
        "core.load 5 ops/s\ncore.generate 1 ops/s\ncore.sign 2 ops/s\n"
        "core.sign_nocache 3 ops/s\ncore.load_nocache 6 ops/s\ncore.extra 7 ops/s\n"))
    scen = stand_in(tmp_path, "bench_scenarios", (
        "scenarios.library 600 scenarios/s\nscenarios.statements 9000 statements/s\n"
        "scenarios.with_coverage 590 scenarios/s\n"))
    explore = stand_in(tmp_path, "bench_explore", (
        "bench_explore: schedules per race scenario\n"
        "bench_explore: 55052 schedules in 119.46 s: 461 schedules/s\n"))
    other = stand_in(tmp_path, "bench_zzz", "zzz.speed 42 things/s\nnoise line\n")
    proc = run(secitem, core, explore, other, scen)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = figures(proc.stdout)
    names = [g[0] for g in got]
    # Each benchmark's expected figures in order, then its other figures;
    # then any other benchmark's, then fuzzing.
    assert names == EXPECTED[:9] + ["core.extra"] + EXPECTED[9:] + ["zzz.speed", "fuzz.exec"]
    table = {g[0]: g[1:] for g in got}
    assert table["secitem.copy_matching_hit"] == ["901.5", "ns/op"]
    assert table["secitem.add"] == ["1121.5", "ns/op"]
    assert table["secitem.hit_over_lookup"] == ["14.0", "x"]
    assert table["core.generate"] == ["1", "ops/s"]
    assert table["explore.schedules"] == ["461", "schedules/s"]
    assert table["zzz.speed"] == ["42", "things/s"]
    assert table["fuzz.exec"][0] == "n/a"
    assert "== bench_explore (exit 0)" in proc.stdout


def test_missing_and_failing_benchmarks_read_na(tmp_path):
    broken = stand_in(tmp_path, "bench_core", "core.generate 1 ops/s\n", status=3)
    proc = run(broken)
    assert proc.returncode == 1
    table = {g[0]: g[1:] for g in figures(proc.stdout)}
    assert [g for g in table if g in EXPECTED] == EXPECTED
    assert table["core.generate"][0] == "n/a"
    assert "failed" in table["core.generate"][1]
    assert table["secitem.add"][0] == "n/a"
    assert "absent" in table["explore.schedules"][1]
    assert "== bench_core (exit 3)" in proc.stdout
