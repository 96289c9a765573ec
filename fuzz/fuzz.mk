# Fuzzing (issue 7): libFuzzer targets built with clang
# -fsanitize=fuzzer,address,undefined into build/fuzz/, from the same sources
# as the layer libraries but compiled separately (own object folder, own flags:
# the libraries under build/ are built without -fsanitize=fuzzer).
#
#   make fuzz-build      build every target (build/fuzz/fuzz_<target>)
#   make fuzz            run every target for FUZZ_SECONDS (default 60) each,
#                        one after the other, with its dictionary and corpus
#   make fuzz-smoke      a few seconds per target plus a replay of the seed corpora
#   make fuzz-bench      executions per second per target (bench/bench_fuzz.sh)
#   make fuzz-corpus     regenerate the checked-in seed corpora from the scenario library
#
# Variables: FUZZ_CC (default clang), FUZZ_SECONDS, FUZZ_TARGETS (default: errmap ops ehw1 kcs).
# Per-target libFuzzer options (max_len, entropic) come from fuzz/options/fuzz_<target>.options.
# A crash input becomes a scenario with fuzz/crash2kcs.sh TARGET INPUT.

FUZZ_CC      ?= clang
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= errmap ops ehw1 kcs
FUZZ_SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -pthread
FUZZ_CFLAGS  := -O2 -g $(WARNINGS) -MMD -MP $(FUZZ_SANFLAGS)
# Coverage instrumentation per layer: the core (ref/), the scenario parser
# (the kcs target's subject) and the targets get libFuzzer's full
# instrumentation (edge counters and comparison tracing); the rest of the
# engine (interpreter, invariant checker, scheduler) and the simulated world
# (mocks/) edge counters only; the CoreFoundation subset (mocks/src/cf_*.c:
# hash sets, refcounts) none. Comparison tracing in those inner loops (the
# checker's scans of every step's journal, the world's and CF's lookups) cost
# half of every execution and guides no input (profiled with perf).
FUZZ_COV_FULL  := -fsanitize=fuzzer-no-link
FUZZ_COV_EDGES := -fsanitize-coverage=inline-8bit-counters,pc-table
FUZZ_COV_NONE  :=
FUZZ_COV_FULL_SRC := ref/% fuzz/% scenarios/src/kcs_parse.c
fuzz_cov = $(if $(filter mocks/src/cf_%,$(1)),$(FUZZ_COV_NONE),$(if $(filter $(FUZZ_COV_FULL_SRC),$(1)),$(FUZZ_COV_FULL),$(FUZZ_COV_EDGES)))
FUZZ_LDFLAGS := $(FUZZ_SANFLAGS) -fsanitize=fuzzer $(PKG_LIBDIR)
FUZZ_CPPFLAGS := -D_POSIX_C_SOURCE=200809L -Imocks/include -Iref/include -Iscenarios/include \
                 -Iscenarios/src -Ifuzz $(PKG_CFLAGS)

FUZZ_LIB_SRC := $(MOCKS_SRC) $(REF_SRC) $(SCEN_SRC)
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRC))
FUZZ_COMMON  := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(filter-out fuzz/fuzz_%.c,$(wildcard fuzz/*.c)))
FUZZ_LIB     := $(FUZZ_DIR)/lib/libkcfuzz.a
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-bench fuzz-corpus

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) $(DEPTARGETS) $(call fuzz_cov,$<) -c $< -o $@

# One archive of the three layers (fuzz flags): each target links what it uses.
$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $(FUZZ_COMMON) $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $^ $(LDLIBS) -o $@

# Every target for FUZZ_SECONDS, with its dictionary, growing a copy of its
# seed corpus under build/fuzz/corpus/ (the checked-in seeds stay small).
fuzz: fuzz-build
	@rc=0; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t; \
	    echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	    opts=$$(sed -n 's/^\([a-z_]*\) = \(.*\)$$/-\1=\2/p' fuzz/options/fuzz_$$t.options | grep -v '^-dict='); \
	    KEYCLASS_FUZZ_FOUND=$(FUZZ_DIR)/artifacts/$$t \
	    $(FUZZ_DIR)/fuzz_$$t $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t $$opts \
	        -dict=fuzz/dict/$$t.dict -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ || { echo "FAILED: fuzz $$t"; rc=1; }; \
	done; exit $$rc

fuzz-smoke: fuzz-build
	KEYCLASS_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest tests/test_fuzz_smoke.py -q

fuzz-bench: fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) bash bench/bench_fuzz.sh $(FUZZ_TARGETS)

fuzz-corpus: $(KEYCLASS)
	$(PYTHON) fuzz/make_corpus.py

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
