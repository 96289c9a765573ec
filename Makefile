# keyclass — the only build entry.
#
#   make            build the three layer libraries and build/keyclass
#   make run        build, then run the scenario library (the main job)
#   make test       unit tests + pytest, then everything again under ASan+UBSan
#   make bench      benchmarks
#   make clean
#
# Variables: CC (gcc or clang), BUILD (output folder, default build),
# SAN=1 (AddressSanitizer + UndefinedBehaviorSanitizer), PYTHON.

BUILD   ?= build
SAN     ?=
PYTHON  ?= /usr/bin/python3
ASAN_BUILD := $(BUILD)/asan

WARNINGS := -std=c11 -Wall -Wextra -Werror -pedantic
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -Imocks/include -Iref/include -Iscenarios/include
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARNINGS) -MMD -MP -pthread
# Header dependencies name the object both as make was given it and as an
# absolute path: BUILD may be relative (make) or absolute (the pytest smoke),
# and a .d written under one spelling must still hold under the other, or a
# changed header leaves objects stale.
DEPTARGETS = -MT $@ -MT $(abspath $@)
LDFLAGS  += -pthread
LDLIBS   += -lcrypto

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS   += $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
endif

# pkg-config finds OpenSSL and CMocka where the platform keeps them (Homebrew on macOS).
PKG_CFLAGS := $(shell pkg-config --cflags openssl cmocka 2>/dev/null)
PKG_LIBDIR := $(shell pkg-config --libs-only-L openssl cmocka 2>/dev/null)
CPPFLAGS += $(PKG_CFLAGS)
LDFLAGS  += $(PKG_LIBDIR)

MOCKS_SRC := $(wildcard mocks/src/*.c)
REF_SRC   := $(wildcard ref/src/*.c)
CLI_MAIN  := scenarios/src/keyclass_main.c
SCEN_SRC  := $(filter-out $(CLI_MAIN),$(wildcard scenarios/src/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_MOCKS := $(BUILD)/lib/libkcmocks.a
LIB_REF   := $(BUILD)/lib/libkcref.a
LIB_SCEN  := $(BUILD)/lib/libkcscenarios.a
KEYCLASS  := $(BUILD)/keyclass

# Unit-test binaries: one per tests/test_*.c of each layer, linked against that
# layer and the layers it depends on (never the other way round).
MOCKS_TESTS := $(patsubst mocks/tests/%.c,$(BUILD)/tests/mocks/%,$(wildcard mocks/tests/test_*.c))
REF_TESTS   := $(patsubst ref/tests/%.c,$(BUILD)/tests/ref/%,$(wildcard ref/tests/test_*.c))
SCEN_TESTS  := $(patsubst scenarios/tests/%.c,$(BUILD)/tests/scenarios/%,$(wildcard scenarios/tests/test_*.c))
UNIT_TESTS  := $(MOCKS_TESTS) $(REF_TESTS) $(SCEN_TESTS)

BENCH_SRC   := $(wildcard bench/bench_*.c)
BENCHES     := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

DEPS_STAMP  := build/.deps-ok

.PHONY: all run test check unit pytest bench clean deps format
# Keep the objects of test and bench binaries (make would delete them as intermediates).
.SECONDARY:
.DEFAULT_GOAL := all

all: $(DEPS_STAMP) $(LIB_MOCKS) $(LIB_REF) $(LIB_SCEN) $(KEYCLASS)

# A fresh machine: install what is missing before the first compile.
# The stamp lives in the top build folder so the sanitizer build shares it.
$(DEPS_STAMP): ci/install-deps.sh
	@bash ci/install-deps.sh
	@mkdir -p $(dir $@) && touch $@

deps:
	@bash ci/install-deps.sh

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPTARGETS) -c $< -o $@

$(LIB_MOCKS): $(call obj,$(MOCKS_SRC))
$(LIB_REF):   $(call obj,$(REF_SRC))
$(LIB_SCEN):  $(call obj,$(SCEN_SRC))
$(LIB_MOCKS) $(LIB_REF) $(LIB_SCEN):
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(KEYCLASS): $(call obj,$(CLI_MAIN)) $(LIB_SCEN) $(LIB_REF) $(LIB_MOCKS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/mocks/%: $(BUILD)/obj/mocks/tests/%.o $(LIB_MOCKS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

$(BUILD)/tests/ref/%: $(BUILD)/obj/ref/tests/%.o $(LIB_REF) $(LIB_MOCKS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

$(BUILD)/tests/scenarios/%: $(BUILD)/obj/scenarios/tests/%.o $(LIB_SCEN) $(LIB_REF) $(LIB_MOCKS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB_SCEN) $(LIB_REF) $(LIB_MOCKS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The main job: run the scenario library, then the mutation matrix. Both run
# even when the first fails; the exit status says whether everything held.
run: all
	@rc=0; \
	$(KEYCLASS) run scenarios --quiet --json $(BUILD)/run.json --junit $(BUILD)/run-junit.xml || rc=1; \
	$(KEYCLASS) mutants scenarios --json $(BUILD)/mutants.json || rc=1; \
	$(KEYCLASS) report scenarios --out $(BUILD)/report || rc=1; \
	exit $$rc

# Every CMocka binary, then the pytest suite against this build's binary.
# pytest exits 5 when it collects nothing; that is a failure here too.
check: all $(UNIT_TESTS)
	@failed=0; for t in $(UNIT_TESTS); do \
	    echo "== $$t"; $$t || { echo "FAILED: $$t"; failed=1; }; \
	done; test $$failed -eq 0
	KEYCLASS_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest tests/ -q \
	    --junitxml=$(BUILD)/pytest-junit.xml

unit: all $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do echo "== $$t"; $$t || exit 1; done

test: $(DEPS_STAMP)
	$(MAKE) check
	$(MAKE) check BUILD=$(ASAN_BUILD) SAN=1
	$(MAKE) coverage-gate

bench: all $(BENCHES)
	@MAKE="$(MAKE)" bash bench/run.sh $(BUILD) $(BENCHES)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

# Layer-specific rules: fuzzing and coverage keep their own make fragments.
-include fuzz/fuzz.mk
-include coverage/coverage.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
