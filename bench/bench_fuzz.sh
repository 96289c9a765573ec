#!/usr/bin/env bash
# Executions per second of each libFuzzer target (`make fuzz-bench`; bench/run.sh
# takes its "fuzz.<target> <n> exec/s" lines into `make bench`).
#
#   FUZZ_DIR=build/fuzz bash bench/bench_fuzz.sh [TARGET...]   (default: errmap ops ehw1 kcs)
#
# Each target fuzzes a scratch copy of its seed corpus, with its dictionary,
# for FUZZ_BENCH_SECONDS (default 10) on one core, seed 1. The figure is
# executions per second of CPU time (user + system, the target and libFuzzer
# together): unlike libFuzzer's own exec/s (wall time, also printed) it does
# not drop when other processes share the machine. Targets (issue 7): errmap
# and ehw1 >= 20000, ops >= 2000; a target below prints "BELOW TARGET", and
# FUZZ_BENCH_STRICT=1 makes that exit 1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="${FUZZ_DIR:-$root/build/fuzz}"
case "$fuzz_dir" in /*) ;; *) fuzz_dir="$root/$fuzz_dir" ;; esac
seconds="${FUZZ_BENCH_SECONDS:-10}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(errmap ops ehw1 kcs)

python3 - "$root" "$fuzz_dir" "$seconds" "${targets[@]}" <<'EOF'
import os, re, resource, shutil, subprocess, sys, tempfile

root, fuzz_dir, seconds, targets = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
goal = {"errmap": 20000, "ehw1": 20000, "ops": 2000}
below = []
for t in targets:
    binary = os.path.join(fuzz_dir, f"fuzz_{t}")
    if not os.access(binary, os.X_OK):
        print(f"bench_fuzz: {binary} is missing (make fuzz-build)", file=sys.stderr)
        sys.exit(2)
    flags = []  # fuzz/options/fuzz_<t>.options as flags, but the dict
    for line in open(os.path.join(root, "fuzz", "options", f"fuzz_{t}.options")):
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#") and key.strip() != "dict":
            flags.append(f"-{key.strip()}={value.strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus")
        shutil.copytree(os.path.join(root, "fuzz", "corpus", t), corpus)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [binary, corpus, f"-dict={os.path.join(root, 'fuzz', 'dict', t + '.dict')}",
             *flags, f"-max_total_time={seconds}", "-seed=1",
             "-print_final_stats=1"],
            capture_output=True, text=True, cwd=tmp,
            env=dict(os.environ, KEYCLASS_FUZZ_FOUND=tmp))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    units = re.search(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr)
    wall = re.search(r"stat::average_exec_per_sec:\s*(\d+)", proc.stderr)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", proc.stderr)
    if proc.returncode != 0 or units is None:
        print(f"bench_fuzz: fuzz_{t} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}",
              file=sys.stderr)
        sys.exit(1)
    rate = int(units.group(1)) / cpu if cpu > 0 else 0.0
    status = ""
    if t in goal:
        status = f"target >= {goal[t]}: " + ("ok" if rate >= goal[t] else "BELOW TARGET")
        if rate < goal[t]:
            below.append(t)
    print(f"# fuzz_{t}: {units.group(1)} executions in {cpu:.1f} s CPU ({seconds} s run); "
          f"libFuzzer (wall) {wall.group(1) if wall else '?'} exec/s; "
          f"cov {cov[-1][0] if cov else '?'} ft {cov[-1][1] if cov else '?'}; {status}")
    print(f"fuzz.{t} {rate:.0f} exec/s", flush=True)
if below and os.environ.get("FUZZ_BENCH_STRICT") == "1":
    sys.exit(1)
EOF
