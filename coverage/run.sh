#!/usr/bin/env bash
# Runs the test suite against the instrumented build (coverage/coverage.mk).
#   COV_BUILD=build/cov COV_JOBS=2 [COV_TESTS='bin...'] bash coverage/run.sh [--mutants]
# Zeroes the counters first, so a report always describes one run. Failures
# are warnings (make check fails on them); the exit status is 0 unless the
# instrumented build itself is missing.
set -uo pipefail
cd "$(dirname "$0")/.."

COV_BUILD=${COV_BUILD:-build/cov}
COV_JOBS=${COV_JOBS:-2}
mutants=0
[ "${1:-}" = "--mutants" ] && mutants=1

if [ ! -x "$COV_BUILD/keyclass" ]; then
    echo "coverage: $COV_BUILD/keyclass is missing (make coverage-build)" >&2
    exit 2
fi

find "$COV_BUILD/obj" -name '*.gcda' -delete
mkdir -p "$COV_BUILD/logs"

log="$COV_BUILD/logs/keyclass.log"
: >"$log"
warn=0
start=$(date +%s)

# Every unit binary, COV_JOBS at a time. Each prints only on failure.
# COV_TESTS (from coverage.mk) names them; without it, whatever is built.
if [ -n "${COV_TESTS:-}" ]; then
    read -r -a bins <<<"$COV_TESTS"
else
    mapfile -t bins < <(find "$COV_BUILD/tests" -type f -perm -u+x -name 'test_*' | sort)
fi
printf '%s\n' "${bins[@]}" |
    xargs -P "$COV_JOBS" -I{} sh -c \
        'l=${1%/*}; "$1" >"$2/logs/${l##*/}-${1##*/}.log" 2>&1 || echo "$1"' _ {} "$COV_BUILD" \
        >"$COV_BUILD/logs/failed.txt"
if [ -s "$COV_BUILD/logs/failed.txt" ]; then
    warn=1
    while read -r t; do
        l=${t%/*}
        echo "coverage: warning: unit test failed: $t (log: $COV_BUILD/logs/${l##*/}-${t##*/}.log)"
    done <"$COV_BUILD/logs/failed.txt"
fi

# The scenario library once.
if ! "$COV_BUILD/keyclass" run scenarios --quiet >>"$log" 2>&1; then
    warn=1
    echo "coverage: warning: the scenario library has failures (see $log)"
fi

if [ $mutants -eq 1 ]; then
    if ! "$COV_BUILD/keyclass" mutants scenarios >>"$log" 2>&1; then
        warn=1
        echo "coverage: warning: the mutation matrix is not clean (see $log)"
    fi
fi

echo "coverage: ran ${#bins[@]} unit binaries, the scenario library$([ $mutants -eq 1 ] && echo ' and the mutation matrix') in $(( $(date +%s) - start )) s$([ $warn -eq 1 ] && echo ' (with failures)')"
exit 0
