"""The keyclass command line: its contract with scripts and CI."""
import re


def test_help_exits_zero_and_lists_run(run_keyclass):
    proc = run_keyclass("--help", check=0)
    assert proc.stdout.startswith("usage: keyclass")
    assert re.search(r"^\s+run \[PATH\.\.\.\]", proc.stdout, re.M)


def test_version_exits_zero(run_keyclass):
    proc = run_keyclass("--version", check=0)
    assert re.fullmatch(r"keyclass \d+\.\d+\.\d+\n", proc.stdout)


def test_unknown_command_prints_usage_and_exits_2(run_keyclass):
    proc = run_keyclass("frobnicate", check=2)
    assert "unknown command 'frobnicate'" in proc.stderr
    assert "usage: keyclass" in proc.stderr
    assert proc.stdout == ""


def test_no_command_is_a_usage_error(run_keyclass):
    proc = run_keyclass(check=2)
    assert "usage: keyclass" in proc.stderr


def test_run_on_empty_folder_says_so_and_succeeds(run_keyclass, tmp_path):
    (tmp_path / "notes.txt").write_text("not a scenario\n")
    proc = run_keyclass("run", tmp_path, check=0)
    assert "no scenario files found" in proc.stdout


def test_run_on_missing_path_fails_with_its_name(run_keyclass, tmp_path):
    missing = tmp_path / "nope"
    proc = run_keyclass("run", missing, check=2)
    assert str(missing) in proc.stderr
