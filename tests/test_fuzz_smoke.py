"""Fuzz smoke (issue 7): builds the libFuzzer targets (`make fuzz-build`),
replays every checked-in seed corpus (fuzz/corpus/<target>/, `-runs=0`) and
fuzzes each target for a few seconds (about 20 s in all). Every target asserts
its properties with abort(), so a zero exit means: no crash, no sanitizer
report, no violated property, no leak.

Runs once per `make test`: the fuzz build is already ASan + UBSan, so the
second pass over build/asan/ skips it. Long runs: `make fuzz FUZZ_SECONDS=3600`.
"""
import os
import pathlib
import platform
import shutil
import subprocess

import pytest

from conftest import ROOT, build_dir

TARGETS = ["errmap", "ops", "ehw1", "kcs"]
SECONDS = {"errmap": 4, "ops": 6, "ehw1": 3, "kcs": 4}  # about 20 s in all

if str(build_dir()).rstrip("/").endswith("/asan"):
    pytestmark = pytest.mark.skip(
        reason="the fuzz smoke runs once, with the plain pass: the fuzz targets are "
               "already built with ASan + UBSan (build/fuzz/)")
elif platform.system() == "Darwin":
    pytestmark = pytest.mark.skip(
        reason="Apple's clang ships no libFuzzer runtime (-fsanitize=fuzzer); "
               "the fuzz targets build on Linux (make fuzz-build)")


def fuzz_dir() -> pathlib.Path:
    return build_dir() / "fuzz"


def make_env():
    # A clean recursive make: not the calling make's flags (jobserver, BUILD=...).
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    return env


@pytest.fixture(scope="module")
def fuzz_bins():
    if shutil.which("clang") is None:
        pytest.fail("clang is missing: run ci/install-deps.sh (the fuzz targets need it)")
    proc = subprocess.run(
        ["make", "-C", str(ROOT), "--no-print-directory", "-j2", "fuzz-build",
         f"BUILD={build_dir()}"],
        capture_output=True, text=True, timeout=1200, env=make_env())
    assert proc.returncode == 0, "make fuzz-build failed:\n" + (proc.stdout + proc.stderr)[-4000:]
    bins = {t: fuzz_dir() / f"fuzz_{t}" for t in TARGETS}
    for t, b in bins.items():
        assert b.exists(), f"{b} was not built"
    return bins


def options(target):
    """fuzz/options/fuzz_<target>.options (OSS-Fuzz's format) as flags, but the dict."""
    text = (ROOT / "fuzz" / "options" / f"fuzz_{target}.options").read_text()
    flags = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#") and key.strip() != "dict":
            flags.append(f"-{key.strip()}={value.strip()}")
    return flags


def run_fuzzer(binary, args, tmp_path, timeout):
    env = dict(os.environ)
    env["KEYCLASS_FUZZ_FOUND"] = str(tmp_path)  # an ops finding writes its .kcs here
    proc = subprocess.run([str(binary), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=tmp_path, env=env)
    found = sorted(tmp_path.glob("*.kcs"))
    detail = "".join(f"\n--- {p.name}:\n{p.read_text()}" for p in found)
    assert proc.returncode == 0, (
        f"{binary.name} {' '.join(args)} exited {proc.returncode}:\n"
        f"{proc.stderr[-6000:]}{detail}\n(turn the input into a regression with "
        f"fuzz/crash2kcs.sh)")
    return proc


@pytest.mark.parametrize("target", TARGETS)
def test_seed_corpus_replays(fuzz_bins, target, tmp_path):
    corpus = ROOT / "fuzz" / "corpus" / target
    files = [p for p in corpus.iterdir() if p.is_file()]
    assert files, f"{corpus} is empty: run `make fuzz-corpus`"
    proc = run_fuzzer(fuzz_bins[target], ["-runs=0", str(corpus)], tmp_path, timeout=300)
    assert "INITED" in proc.stderr or "Done" in proc.stderr, proc.stderr[-2000:]


@pytest.mark.parametrize("target", TARGETS)
def test_short_fuzz_run(fuzz_bins, target, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "fuzz" / "corpus" / target, corpus)
    run_fuzzer(fuzz_bins[target],
               [str(corpus), f"-dict={ROOT / 'fuzz' / 'dict' / (target + '.dict')}",
                *options(target), f"-max_total_time={SECONDS[target]}", "-seed=1",
                "-timeout=20", "-print_final_stats=1"],
               tmp_path, timeout=SECONDS[target] + 120)
