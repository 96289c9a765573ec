#!/usr/bin/env bash
# Every keyclass benchmark in one stable text output (`make bench`).
#
#   bash bench/run.sh BUILD BENCH...     BUILD: the build folder; BENCH: the
#                                        benchmark binaries (build/bench/bench_*)
#
# The output has two parts:
#   1. the figures, one per line, always the same names in the same order:
#          <name> <value> <unit>
#      a figure that could not be measured reads "<name> n/a <reason>";
#   2. "## details": each benchmark's own output, verbatim, in the same order.
#
# Sources of the figures:
#   secitem.*    bench_secitem (SecItem costs; parsed from its table)
#   core.*       bench_core (reference core operations per second)
#   scenarios.*  bench_scenarios (the scenario library per second)
#   explore.*    bench_explore (schedules per second), when it exists
#   fuzz.*       `make fuzz-bench` (executions per second per libFuzzer target),
#                when fuzz/fuzz.mk has the target and bench/bench_fuzz.sh
#                exists; FUZZ_BENCH=0 skips it (it builds the fuzz targets)
#   any other    a bench_* binary that prints "<name> <value> <unit>" lines
#
# Figures are real time (best of several rounds inside each benchmark): they
# vary between machines and runs; names, order and format do not.
# Exit status: 1 when a benchmark failed (its figures read n/a), else 0.
set -u

build=${1:-build}
shift || true
benches=("$@")
make_cmd=${MAKE:-make}
details=$(mktemp)
failed=$(mktemp) # non-empty when a benchmark failed (run_bench runs in subshells)
trap 'rm -f "$details" "$failed"' EXIT

figure_re='^[a-z][a-z0-9_]*\.[a-z0-9_.]+ [0-9][0-9.]* [^ ]+$'

# Runs one benchmark; its output goes to the details, its figures to stdout
# through the adapter named in $2 (or the generic "<name> <value> <unit>").
run_bench() {
    local bin=$1 adapter=$2 out rc
    out=$("$bin" 2>&1)
    rc=$?
    {
        echo "== $(basename "$bin") (exit $rc)"
        printf '%s\n' "$out"
    } >>"$details"
    if [ $rc -ne 0 ]; then
        echo "$bin" >>"$failed"
        return 1
    fi
    case $adapter in
    secitem)
        printf '%s\n' "$out" | awk '
            /SecItemCopyMatching hit/ { print "secitem.copy_matching_hit", $3, "ns/op" }
            /SecItemAdd/              { print "secitem.add", $2, "ns/op" }
            /plain hash lookup/       { print "secitem.plain_hash_lookup", $4, "ns/op" }
            /ratio hit\/lookup/       { print "secitem.hit_over_lookup", $3, "x" }'
        ;;
    explore)
        printf '%s\n' "$out" |
            sed -n 's/^bench_explore: \([0-9]*\) schedules in .*: \([0-9.]*\) schedules\/s$/explore.schedules \2 schedules\/s/p'
        ;;
    *)
        printf '%s\n' "$out" | grep -E "$figure_re" || true
        ;;
    esac
}

bench_path() {
    local name=$1 b
    for b in "${benches[@]}"; do
        [ "$(basename "$b")" = "$name" ] && { echo "$b"; return 0; }
    done
    return 1
}

# The expected figures in their order ("n/a <reason>" for one the benchmark
# did not give), then any other figure it gave.
expect() {
    local figures reason=$2 name line
    figures=$(printf '%s\n' "$1" | grep -E "$figure_re")
    shift 2
    for name in "$@"; do
        line=$(printf '%s\n' "$figures" | grep -m1 "^$name " || true)
        echo "${line:-$name n/a $reason}"
    done
    printf '%s\n' "$figures" | while read -r line; do
        [ -n "$line" ] || continue
        case " $* " in *" ${line%% *} "*) ;; *) echo "$line" ;; esac
    done
}

section() { # bench-name adapter reason-if-absent figure-names...
    local name=$1 adapter=$2 absent=$3 bin figures
    shift 3
    if bin=$(bench_path "$name"); then
        if figures=$(run_bench "$bin" "$adapter"); then
            expect "$figures" "(no figure in its output)" "$@"
        else
            expect "" "(the benchmark failed: see details)" "$@"
        fi
    else
        expect "" "$absent" "$@"
    fi
}

{
    echo "# keyclass benchmarks: <name> <value> <unit>; real time, best of several rounds"
    section bench_secitem secitem "(bench/bench_secitem.c absent)" \
        secitem.copy_matching_hit secitem.add secitem.plain_hash_lookup secitem.hit_over_lookup
    section bench_core generic "(bench/bench_core.c absent)" \
        core.generate core.sign core.sign_nocache core.load core.load_nocache
    section bench_scenarios generic "(bench/bench_scenarios.c absent)" \
        scenarios.library scenarios.statements scenarios.with_coverage
    section bench_explore explore "(bench/bench_explore.c absent)" explore.schedules

    # Any other benchmark binary: generic figures, in name order.
    for b in "${benches[@]}"; do
        case $(basename "$b") in
        bench_secitem | bench_core | bench_scenarios | bench_explore) continue ;;
        esac
        figures=$(run_bench "$b" generic) || true
        printf '%s\n' "$figures" | grep -E "$figure_re" || true
    done

    # Fuzzing: executions per second per target.
    if [ "${FUZZ_BENCH:-1}" = "0" ]; then
        echo "fuzz.exec n/a (FUZZ_BENCH=0)"
    elif [ ! -f bench/bench_fuzz.sh ] || ! "$make_cmd" -n fuzz-bench BUILD="$build" >/dev/null 2>&1; then
        echo "fuzz.exec n/a (no make fuzz-bench / bench/bench_fuzz.sh)"
    else
        out=$("$make_cmd" --no-print-directory fuzz-bench BUILD="$build" 2>&1)
        rc=$?
        {
            echo "== make fuzz-bench (exit $rc)"
            printf '%s\n' "$out"
        } >>"$details"
        if [ $rc -ne 0 ]; then
            echo "make fuzz-bench" >>"$failed"
            echo "fuzz.exec n/a (make fuzz-bench failed: see details)"
        else
            # "fuzz.<target> <n> exec/s" lines as they are; otherwise the
            # first word and the number before "exec/s" of any other line.
            figures=$(printf '%s\n' "$out" | grep -E '^fuzz\.[A-Za-z0-9_]+ [0-9][0-9.]* exec/s$')
            if [ -z "$figures" ]; then
                figures=$(printf '%s\n' "$out" | sed -n \
                    's/^\(fuzz_\)\{0,1\}\([A-Za-z0-9_]*\)[^0-9]*[^0-9A-Za-z_]\([0-9][0-9.]*\) *exec\/s.*$/fuzz.\2 \3 exec\/s/p')
            fi
            if [ -n "$figures" ]; then
                printf '%s\n' "$figures"
            else
                echo "fuzz.exec n/a (no exec/s in its output: see details)"
            fi
        fi
    fi

    echo
    echo "## details"
    cat "$details"
} 2>&1

[ -s "$failed" ] && exit 1
exit 0
