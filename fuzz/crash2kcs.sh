#!/usr/bin/env bash
# Turns a fuzz input (a crash, a timeout, any corpus file) into a regression:
#
#   fuzz/crash2kcs.sh TARGET INPUT [NAME]
#
#   ops, errmap  the input's program as a `.kcs` scenario under scenarios/found/
#                (NAME.kcs; default <target>-<sha1 of the input, 12 hex>.kcs),
#                with its scenario renamed to found-<name> and the verdict of
#                the current core in a comment. The scenario runs with the
#                library (`make run`, pytest) from then on: it must pass once
#                the finding is fixed (every outcome is `-> any`, so only the
#                invariants judge).
#   kcs, ehw1    these inputs are not scenarios (parser text, EHW1 bytes): the
#                input is copied into the seed corpus fuzz/corpus/<target>/,
#                which `make test` replays (tests/test_fuzz_smoke.py).
#
# Builds the fuzz target first when it is missing (make fuzz-build). Exit 0
# when the regression was written; the last line names it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: fuzz/crash2kcs.sh TARGET INPUT [NAME]   (TARGET: ops errmap kcs ehw1)" >&2
    exit 2
fi
target="$1"
input="$2"
if [ ! -f "$input" ]; then
    echo "crash2kcs: no such input: $input" >&2
    exit 2
fi
hash="$(sha1sum "$input" | cut -c1-12)"
name="${3:-$target-$hash}"
if ! [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "crash2kcs: NAME must be letters, digits, '.', '_', '-': $name" >&2
    exit 2
fi
fuzz_dir="${FUZZ_DIR:-$root/build/fuzz}"

case "$target" in
ops | errmap) ;;
kcs | ehw1)
    dest="$root/fuzz/corpus/$target/found-$hash"
    cp "$input" "$dest"
    echo "crash2kcs: a $target input is no scenario; kept as a seed that make test replays:"
    echo "$dest"
    exit 0
    ;;
*)
    echo "crash2kcs: unknown target '$target' (ops errmap kcs ehw1)" >&2
    exit 2
    ;;
esac

bin="$fuzz_dir/fuzz_$target"
if [ ! -x "$bin" ]; then
    make -C "$root" --no-print-directory fuzz-build >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The target writes the program for the input; it may abort (that is the
# finding), so its exit status is not ours.
KEYCLASS_FUZZ_EMIT="$tmp/program.kcs" KEYCLASS_FUZZ_FOUND="$tmp" \
    "$bin" -runs=1 "$input" >"$tmp/run.log" 2>&1 || true
if [ ! -s "$tmp/program.kcs" ]; then
    echo "crash2kcs: $bin wrote no program for $input; its output:" >&2
    tail -20 "$tmp/run.log" >&2
    exit 1
fi

mkdir -p "$root/scenarios/found"
dest="$root/scenarios/found/$name.kcs"
# Rename the scenario after the file (scenario names are unique across the
# library) and drop the emitter's own header comment.
sed -e "s/^scenario .*/scenario found-$name/" -e '/^# Written by /d' "$tmp/program.kcs" \
    >"$tmp/scenario.kcs"

keyclass="${KEYCLASS:-$root/build/keyclass}"
verdict="(not run: $keyclass is missing)"
if [ -x "$keyclass" ]; then
    if "$keyclass" run "$tmp/scenario.kcs" --quiet >"$tmp/verdict.txt" 2>&1; then
        verdict="passes on the current core"
    else
        verdict="FAILS on the current core: $(grep -m1 -v '^\[' "$tmp/verdict.txt" || true)"
    fi
fi

{
    echo "# Regression from a finding of the fuzz target $target (fuzz/crash2kcs.sh $target <input sha1 $hash>)."
    echo "# When written: $verdict"
    echo "# Every outcome is \`-> any\`: the invariant checker judges; a fixed core passes."
    cat "$tmp/scenario.kcs"
} >"$dest"
echo "crash2kcs: $verdict"
echo "$dest"
