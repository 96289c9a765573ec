"""Shared fixtures: where the build under test lives.

`make check` sets KEYCLASS_BUILD to the build folder it just built (build/ or
build/asan/), so the same suite runs against the plain and the sanitizer build.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def build_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("KEYCLASS_BUILD", ROOT / "build"))


@pytest.fixture(scope="session")
def keyclass_bin() -> pathlib.Path:
    path = build_dir() / "keyclass"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make` first")
    return path


@pytest.fixture
def run_keyclass(keyclass_bin):
    def run(*args, cwd=ROOT, check=None):
        proc = subprocess.run(
            [str(keyclass_bin), *map(str, args)],
            cwd=cwd, capture_output=True, text=True, timeout=300,
        )
        if check is not None:
            assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
        return proc
    return run
