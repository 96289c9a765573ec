#!/usr/bin/python3
"""The coverage gate (issue 8).

Reads an lcov tracefile (lcov 1.16, branch counters on), computes line and
branch coverage for each gated layer (the first path component below the
repository root: ref/, mocks/) and compares them with coverage/thresholds.txt.

    gate.py [--report-only] [--details] [--thresholds FILE] [TRACEFILE]

Prints one line per layer. When a layer is under a threshold it lists that
layer's uncovered functions (name, file:line, hit count 0) and its files
furthest below, and exits 1. --report-only prints the same but exits 0;
--details lists uncovered functions and the weakest files even when every
layer passes. Exit 2: unreadable tracefile or thresholds, or a gated layer
with no instrumented line at all (the build or the extract went wrong).

Counting follows lcov/genhtml: a line is covered when its DA count is > 0; a
branch is covered when its BRDA taken count is a number > 0 ("-" means the
block holding the branch never ran). Records of one file that occur several
times (a header seen from several objects) are merged, as lcov does.
"""
import argparse
import os
import signal
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_INFO = os.path.join(ROOT, "build", "coverage", "coverage.info")
DEFAULT_THRESHOLDS = os.path.join(ROOT, "coverage", "thresholds.txt")
METRICS = ("line", "branch")
LABELS = {"line": "lines", "branch": "branches"}
WORST_FILES = 8


class FileCov:
    def __init__(self, path):
        self.path = path
        self.lines = defaultdict(int)       # line -> count
        self.branches = defaultdict(int)    # (line, block, branch) -> taken
        self.fn_line = {}                   # name -> first line
        self.fn_hits = defaultdict(int)     # name -> count

    def line_counts(self):
        return sum(1 for c in self.lines.values() if c > 0), len(self.lines)

    def branch_counts(self):
        return sum(1 for c in self.branches.values() if c > 0), len(self.branches)

    def counts(self, metric):
        return self.line_counts() if metric == "line" else self.branch_counts()


def parse_tracefile(path):
    files = {}
    cur = None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            tag, _, val = line.partition(":")
            if tag == "SF":
                cur = files.setdefault(val, FileCov(val))
            elif cur is None:
                continue
            elif tag == "DA":
                parts = val.split(",")
                cur.lines[int(parts[0])] += int(parts[1])
            elif tag == "BRDA":
                ln, block, branch, taken = val.split(",", 3)
                key = (int(ln), block, branch)
                cur.branches[key] += 0 if taken == "-" else int(taken)
            elif tag == "FN":
                ln, name = val.split(",", 1)
                cur.fn_line.setdefault(name, int(ln))
            elif tag == "FNDA":
                count, name = val.split(",", 1)
                cur.fn_hits[name] += int(count)
            elif tag == "end_of_record":
                cur = None
    return files


def parse_thresholds(path):
    thresholds = {}
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            words = raw.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) != 3 or words[1] not in METRICS:
                raise ValueError(f"{path}:{n}: expected 'LAYER line|branch PERCENT'")
            thresholds[(words[0], words[1])] = float(words[2])
    return thresholds


def rel(path):
    """The path relative to the repository when it lies inside it."""
    full = os.path.abspath(path)
    if full == ROOT or full.startswith(ROOT + os.sep):
        return os.path.relpath(full, ROOT)
    return path


def layer_of(path):
    return rel(path).split(os.sep, 1)[0]


def pct(hit, total):
    return 100.0 * hit / total if total else 100.0


def fmt(hit, total):
    return f"{pct(hit, total):6.2f}% ({hit}/{total})"


def uncovered_functions(files):
    out = []
    for f in files:
        for name, ln in f.fn_line.items():
            if f.fn_hits.get(name, 0) == 0:
                out.append((rel(f.path), ln, name))
    return sorted(out)


def report_details(layer, files, thresholds, out):
    funcs = uncovered_functions(files)
    print(f"\n{layer}/: {len(funcs) or 'no'} uncovered function(s) (hit count 0)"
          f"{':' if funcs else ''}", file=out)
    for path, ln, name in funcs:
        print(f"    {name:<40} {path}:{ln}  hits 0", file=out)
    # Furthest below: most lines plus branches missing to reach the layer's
    # thresholds, file by file; the figures show where the misses are.
    def shortfall(f):
        miss = 0.0
        for metric in METRICS:
            hit, total = f.counts(metric)
            need = thresholds.get((layer, metric), 0.0) / 100.0 * total
            miss += max(0.0, need - hit)
        return miss
    ranked = sorted(files, key=lambda f: (-shortfall(f), rel(f.path)))
    ranked = [f for f in ranked if shortfall(f) > 0][:WORST_FILES]
    if ranked:
        print(f"{layer}/: files furthest below the thresholds:", file=out)
        for f in ranked:
            lh, lt = f.line_counts()
            bh, bt = f.branch_counts()
            print(f"    {rel(f.path):<36} lines {fmt(lh, lt)}  branches {fmt(bh, bt)}"
                  f"  ({lt - lh} lines, {bt - bh} branches uncovered)", file=out)


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `gate.sh | head` ends quietly
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tracefile", nargs="?", default=DEFAULT_INFO)
    ap.add_argument("--thresholds", default=DEFAULT_THRESHOLDS)
    ap.add_argument("--report-only", action="store_true",
                    help="print everything, exit 0 even when under a threshold")
    ap.add_argument("--details", action="store_true",
                    help="list uncovered functions and weakest files for every layer")
    args = ap.parse_args(argv)

    try:
        thresholds = parse_thresholds(args.thresholds)
        files = parse_tracefile(args.tracefile)
    except (OSError, ValueError) as e:
        print(f"coverage gate: {e}", file=sys.stderr)
        return 2

    layers = sorted({layer for layer, _ in thresholds})
    by_layer = defaultdict(list)
    for f in files.values():
        by_layer[layer_of(f.path)].append(f)

    print(f"coverage gate: {rel(args.tracefile)} against {rel(args.thresholds)}")
    failed, broken = [], []
    for layer in layers:
        fs = by_layer.get(layer, [])
        verdicts = []
        figures = []
        for metric in METRICS:
            hit = sum(f.counts(metric)[0] for f in fs)
            total = sum(f.counts(metric)[1] for f in fs)
            want = thresholds.get((layer, metric))
            figures.append(f"{LABELS[metric]:<8} {fmt(hit, total)}")
            if metric == "line" and total == 0:
                broken.append(layer)
            if want is not None and pct(hit, total) < want:
                verdicts.append(f"{metric} < {want:g}%")
        status = "UNDER: " + ", ".join(verdicts) if verdicts else "ok"
        print(f"  {layer + '/':<8} {len(fs):3d} files  {'  '.join(figures)}  {status}")
        if verdicts:
            failed.append(layer)

    for layer in broken:
        print(f"coverage gate: no instrumented line of {layer}/ in the tracefile", file=sys.stderr)
    for layer in layers:
        if layer in failed or args.details:
            report_details(layer, by_layer.get(layer, []), thresholds, sys.stdout)

    if broken:
        return 2
    if failed and not args.report_only:
        print(f"\ncoverage gate: FAILED ({', '.join(l + '/' for l in failed)} under threshold;"
              f" report: build/coverage/index.html)")
        return 1
    print("coverage gate: " + ("passed" if not failed else "under threshold (report only)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
