# Code coverage (issue 8): a gcc --coverage -O0 build in build/cov/, the test
# suite run against it, lcov + genhtml into build/coverage/, and a gate that
# holds ref/ and mocks/ to the thresholds in coverage/thresholds.txt.
#
#   make coverage        instrumented build, every CMocka binary, the scenario
#                        library, the mutation matrix; HTML report in
#                        build/coverage/index.html; prints the per-layer
#                        figures (does not fail on them)
#   make coverage-gate   the lean run (CMocka binaries + the library once),
#                        report, then coverage/gate.sh: exits non-zero and
#                        lists the uncovered functions when a layer is under
#                        its threshold (the hook for `make test`)
#   make coverage-clean  remove build/cov/ and build/coverage/
#
# Variables: COV_CC (default gcc: the figures and thresholds are gcc's gcov)
# and COV_GCOV (default gcov, the matching gcov), COV_JOBS (parallel compilers
# and test binaries, default: the number of cores).
#
# On macOS (where gcc is Apple's clang) coverage and coverage-gate print that
# they are skipped and succeed: the gate is measured on Linux with GNU gcc.
#
# A failing test or scenario is reported as a warning here and does not fail
# the gate: `make check` is where failures fail. A test binary that crashes
# loses its counters, which then shows up as missing coverage.
#
# The instrumented build is a sub-make of the top Makefile with BUILD=build/cov,
# so it compiles exactly the sources and test binaries `make check` does.
# CFLAGS/LDFLAGS are passed on its command line, derived from the flags the
# top Makefile computed (so its warnings and options stay in force) with
# optimisation and sanitizers taken out: SAN=1 on the caller's side changes
# nothing here.

COV_CC      ?= gcc
COV_GCOV    ?= gcov
COV_BUILD   := build/cov
COV_OUT     := build/coverage
COV_INFO    := $(COV_OUT)/coverage.info
COV_RAW     := $(COV_OUT)/raw.info
ifndef COV_JOBS
COV_JOBS    := $(shell nproc 2>/dev/null || echo 2)
endif
# The top Makefile's own flags (warnings, -MMD, -pthread, ... whatever it adds
# now or later), minus optimisation and sanitizers, plus --coverage -O0.
COV_NOT     := -O% -g -fsanitize=% -fno-sanitize-recover=% -fno-omit-frame-pointer
COV_CFLAGS   = -O0 -g --coverage $(filter-out $(COV_NOT),$(CFLAGS))
COV_LDFLAGS  = --coverage $(filter-out $(COV_NOT),$(LDFLAGS))
COV_TESTS   := $(foreach l,mocks ref scenarios,\
                 $(patsubst $(l)/tests/%.c,$(COV_BUILD)/tests/$(l)/%,$(wildcard $(l)/tests/test_*.c)))
# The instrumented build runs COV_JOBS compilers unless the caller's make
# already shares a jobserver with this one (make -jN ...).
COV_PARALLEL = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(COV_JOBS))
LCOV_RC     := --rc lcov_branch_coverage=1
LCOV        := lcov $(LCOV_RC) --quiet --gcov-tool $(COV_GCOV)
COV_LAYERS  := ref mocks

.PHONY: coverage coverage-gate coverage-build coverage-bins coverage-run \
        coverage-run-full coverage-report coverage-clean

# Target of the sub-make (BUILD=build/cov): the libraries, the CLI and every
# unit-test binary, without running them.
coverage-bins: all $(UNIT_TESTS)

# Objects built with other flags (the top Makefile changed them, or COV_CC
# changed) are thrown away first: make itself does not track flags.
coverage-build: $(DEPS_STAMP)
	@mkdir -p $(COV_BUILD)
	@echo '$(COV_CC) $(COV_CFLAGS) | $(COV_LDFLAGS)' >$(COV_BUILD)/flags.new
	@cmp -s $(COV_BUILD)/flags.new $(COV_BUILD)/flags || \
	    rm -rf $(COV_BUILD)/obj $(COV_BUILD)/lib $(COV_BUILD)/tests $(COV_BUILD)/keyclass
	@mv $(COV_BUILD)/flags.new $(COV_BUILD)/flags
	@$(MAKE) --no-print-directory $(COV_PARALLEL) BUILD=$(COV_BUILD) SAN= CC=$(COV_CC) \
	    CFLAGS='$(COV_CFLAGS)' LDFLAGS='$(COV_LDFLAGS)' coverage-bins

# Zero the counters, then run every unit binary (COV_JOBS at a time; libgcov
# locks each .gcda while it merges) and the scenario library once.
coverage-run: coverage-build
	@COV_BUILD=$(COV_BUILD) COV_JOBS=$(COV_JOBS) COV_TESTS='$(COV_TESTS)' bash coverage/run.sh

# The same plus the mutation matrix (every mutant's code paths in ref/).
coverage-run-full: coverage-build
	@COV_BUILD=$(COV_BUILD) COV_JOBS=$(COV_JOBS) COV_TESTS='$(COV_TESTS)' bash coverage/run.sh --mutants

# Tracefile of ref/ and mocks/ (sources and headers, not their tests/), then
# the HTML report. Only the objects of those layers are read: every run of
# their code (from any test binary or the CLI) lands in their own .gcda, and
# a scenarios/ file that does not compile cannot break the capture.
# Depends on nothing so that both runs can feed it.
coverage-report:
	@mkdir -p $(COV_OUT)
	@$(LCOV) --capture $(foreach l,$(COV_LAYERS),--directory $(COV_BUILD)/obj/$(l)) \
	    --base-directory $(CURDIR) \
	    --output-file $(COV_RAW) 2>$(COV_OUT)/lcov.log || { cat $(COV_OUT)/lcov.log; exit 1; }
	@$(LCOV) --extract $(COV_RAW) $(foreach l,$(COV_LAYERS),'$(CURDIR)/$(l)/*') \
	    --output-file $(COV_INFO).tmp 2>>$(COV_OUT)/lcov.log
	@$(LCOV) --remove $(COV_INFO).tmp '*/tests/*' --output-file $(COV_INFO) 2>>$(COV_OUT)/lcov.log
	@rm -f $(COV_INFO).tmp
	@genhtml $(LCOV_RC) --quiet --branch-coverage --legend --prefix $(CURDIR) \
	    --title 'keyclass: ref/ and mocks/' --output-directory $(COV_OUT) $(COV_INFO) \
	    >>$(COV_OUT)/lcov.log 2>&1 || { cat $(COV_OUT)/lcov.log; exit 1; }
	@echo "coverage: report in $(COV_OUT)/index.html, tracefile $(COV_INFO)"

ifeq ($(shell uname -s),Darwin)
coverage coverage-gate:
	@echo "coverage: skipped on macOS (measured with GNU gcc and gcov on Linux)"
else
coverage: coverage-run-full
	@$(MAKE) --no-print-directory coverage-report
	@PYTHON=$(PYTHON) bash coverage/gate.sh --report-only $(COV_INFO)

coverage-gate: coverage-run
	@$(MAKE) --no-print-directory coverage-report
	@PYTHON=$(PYTHON) bash coverage/gate.sh $(COV_INFO)
endif

coverage-clean:
	rm -rf $(COV_BUILD) $(COV_OUT)
