"""Parallel blocks through the command line: `keyclass explore` finds the
migration races under their mutants and prints a schedule that `keyclass
replay --schedule` reproduces with a full journal; with the clean core every
schedule passes. The label-lock races pass every schedule on the clean core,
and with the locks taken away (a fault, no mutant) the explorer finds the
lost key of generate vs generate again."""
import re

import pytest

from conftest import ROOT

RACES = ROOT / "scenarios" / "races"
MIGRATION = {
    "latent-migration-lost-update": RACES / "migration-lost-update.kcs",
    "latent-migration-window": RACES / "migration-window.kcs",
}
LOCK_RACES = [RACES / "generate-vs-generate.kcs", RACES / "label-locks.kcs"]
SCHEDULE = re.compile(r"^\s+schedule: (\S+)$", re.M)
REPLAY = re.compile(r"^\s+replay:\s+keyclass (replay .+)$", re.M)


@pytest.mark.parametrize("mutant", sorted(MIGRATION))
def test_explore_finds_the_race_and_replay_reproduces_it(run_keyclass, mutant):
    path = MIGRATION[mutant]
    proc = run_keyclass("explore", path, "--mutant", mutant)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"^FAIL \S+ \(", proc.stdout, re.M), proc.stdout
    schedule = SCHEDULE.search(proc.stdout)
    assert schedule, proc.stdout
    assert re.fullmatch(r"[a-z]+(\*\d+)?(,[a-z]+(\*\d+)?)*", schedule.group(1))
    failure = proc.stdout.split("\n")[1].strip()

    # The printed replay command, as printed, reproduces it with a full trace.
    replay = REPLAY.search(proc.stdout).group(1).split()
    again = run_keyclass(*replay, "--mutant", mutant, cwd=ROOT)
    assert again.returncode == 1, again.stdout + again.stderr
    assert failure in again.stdout
    assert "journal:" in again.stdout
    assert re.search(r"call a ", again.stdout) and re.search(r"call b ", again.stdout)

    # The same schedule against the clean core holds.
    clean = run_keyclass(*replay, cwd=ROOT)
    assert clean.returncode == 0, clean.stdout
    assert re.search(r"^PASS ", clean.stdout, re.M)


@pytest.mark.parametrize("path", sorted(set(MIGRATION.values())), ids=lambda p: p.name)
def test_explore_clean_core_passes_every_schedule(run_keyclass, path):
    proc = run_keyclass("explore", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    assert lines and all(l.startswith("PASS ") for l in lines), proc.stdout
    assert all("all of them" in l for l in lines), proc.stdout


def test_replay_is_deterministic(run_keyclass):
    path = MIGRATION["latent-migration-lost-update"]
    args = ("replay", path, "--scenario",
            "latent-migration-lost-update.regenerate-during-load", "--schedule", "a,a,b")
    first = run_keyclass(*args)
    second = run_keyclass(*args)
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


def test_random_sample_is_announced_and_seeded(run_keyclass):
    path = MIGRATION["latent-migration-lost-update"]
    mutant = "latent-migration-lost-update"
    one = run_keyclass("explore", path, "--mutant", mutant, "--random", "400", "--seed", "3")
    two = run_keyclass("explore", path, "--mutant", mutant, "--random", "400", "--seed", "3")
    assert one.returncode == 1, one.stdout
    assert "random sample of" in one.stdout and "(seed 3)" in one.stdout
    assert one.stdout == two.stdout
    bounded = run_keyclass("explore", path, "--bound", "2")
    assert bounded.returncode == 0, bounded.stdout
    assert "bound 2 reached: not all" in bounded.stdout


def test_replay_rejects_a_schedule_that_does_not_fit(run_keyclass):
    path = MIGRATION["latent-migration-lost-update"]
    proc = run_keyclass("replay", path, "--scenario",
                        "latent-migration-lost-update.regenerate-during-load",
                        "--schedule", "a,zz")
    assert proc.returncode == 1
    assert "'zz'" in proc.stdout


def test_explore_and_replay_usage_errors(run_keyclass, tmp_path):
    assert run_keyclass("explore").returncode == 2
    assert run_keyclass("replay", MIGRATION["latent-migration-window"]).returncode == 2
    multi = run_keyclass("replay", MIGRATION["latent-migration-window"], "--schedule", "a")
    assert multi.returncode == 2 and "--scenario" in multi.stderr
    assert run_keyclass("explore", tmp_path / "missing.kcs").returncode == 2


@pytest.mark.parametrize("path", LOCK_RACES, ids=lambda p: p.name)
def test_label_lock_races_pass_every_schedule(run_keyclass, path):
    proc = run_keyclass("explore", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    assert lines and all(l.startswith("PASS ") for l in lines), proc.stdout
    assert all("all of them" in l for l in lines if "schedules" in l), proc.stdout


def test_generate_vs_generate_without_the_lock_loses_a_key(run_keyclass, tmp_path):
    """`fault FileLock 0 times=always` answers every lock call with success
    without taking the lock: the core as it was before the locks. The
    explorer finds the lost key (D1) and its replay reproduces it."""
    text = (RACES / "generate-vs-generate.kcs").read_text()
    head, sep, tail = text.partition("\nparallel\n")
    assert sep
    unlocked = tmp_path / "unlocked.kcs"
    unlocked.write_text(head + "\nfault FileLock 0 times=always" + sep + tail)
    name = "race-generate-vs-generate"
    proc = run_keyclass("explore", unlocked, "--keep-going")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(rf"^FAIL {name} \(", proc.stdout, re.M), proc.stdout
    assert "does not decrypt with the keychain's wrapping key" in proc.stdout
    replay = [m.group(1).split() for m in REPLAY.finditer(proc.stdout)]
    first = next(r for r in replay if name in r and r[r.index("--scenario") + 1] == name)
    again = run_keyclass(*first)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "does not decrypt with the keychain's wrapping key" in again.stdout
    assert re.search(r"call b FileLock .*injected -> 0 ok", again.stdout)
