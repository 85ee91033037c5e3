# optlab: build, test, run.
#   make            build/optlab (CLI), build/liboptlab.a, examples
#   make test       setup + build + every test (closing line "N passed, N failed, N skipped")
#   make run        setup + build + the main job: the five labs into report/index.html
#   make wasm       build/wasm/optlab.wasm, the library for the report's panels (web/web.mk)
#   make CC=clang   the same with clang
#   make SAN=1      build under AddressSanitizer + UndefinedBehaviorSanitizer (into build-san/)
#   make MPI=1      build with MPI (mpicc): `mpirun -np P build/optlab train ...` trains data-parallel;
#                   automatic where mpicc exists (MPI=0 turns it off); see docs/scaling.md

CC      ?= cc
OPT     ?= -O2
BUILD   ?= build
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -Wall -Wextra -D_GNU_SOURCE -fopenmp -fno-math-errno -Iinclude
# Vector instructions: AVX2 + FMA (x86-64-v3) when the building machine has them (the optimizer
# step runs 2.5x faster than with the SSE2 baseline); ARCH= builds for any x86-64. Contraction into
# FMAs stays off for every compiler, so element-wise results are the written formulas' whatever the
# ISA; sums across vector lanes (the gradient norm) follow the vector width, so the bits repeat per
# ISA (at any thread count), not across ISAs.
ARCH    ?= $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo -march=x86-64-v3)
CFLAGS  += $(ARCH) -ffp-contract=off
# OpenBLAS on x86-64 only: elsewhere the matrix product is the portable kernel alone (optlab/gemm.h)
LDLIBS  += $(if $(filter x86_64,$(shell uname -m)),-lopenblas) -lz -lm
LDFLAGS += -fopenmp

# ---- MPI (optional; docs/scaling.md). Default: on when mpicc exists, unless CC was chosen by hand
# or this is a sanitizer build (Open MPI's own allocations would read as leaks). MPI=1 wraps the
# chosen CC in mpicc (OMPI_CC), MPI=0 builds the single-process optlab (src/dist.c becomes no-ops).
ifeq ($(origin MPI),undefined)
MPI := $(if $(and $(filter default,$(origin CC)),$(if $(filter 1,$(SAN)),,no-san),$(shell sh -c 'command -v mpicc' 2>/dev/null)),1,0)
endif
ifeq ($(MPI),1)
ifneq ($(origin CC),default)
export OMPI_CC := $(CC)
endif
override CC := mpicc
CFLAGS  += -DOL_HAVE_MPI
# make test: the MPI tests (tests/test_mpi.c, tests/test_sweep.c) launch optlab with this
MPIRUN  ?= mpirun --allow-run-as-root --oversubscribe
endif

ifeq ($(SAN),1)
BUILD   = build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(sort $(wildcard src/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c)) tests/runner.c tests/fixtures.c tests/lab_fixture.c
EX_SRC   := $(sort $(wildcard examples/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
EX_BIN   := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)

.DEFAULT_GOAL := all
# The report's interactive panels: `make wasm` (build/wasm/optlab.wasm) and the assets the optlab
# binary carries ($(PLAY_ASSETS)); the rules live in web/web.mk.
include web/web.mk

# A change of compiler or flags (MPI=0 after an MPI build) rebuilds every object.
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && (echo '$(CC) $(OMPI_CC) $(CFLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(CC) $(OMPI_CC) $(CFLAGS)' > $(FLAGS_STAMP)))

.PHONY: all setup test test-san valgrind run clean
all: $(BUILD)/optlab $(BUILD)/liboptlab.a $(BUILD)/tests/runner $(BUILD)/tests/make_fixture $(EX_BIN)

$(BUILD)/%.o: %.c $(FLAGS_STAMP) $(wildcard include/optlab/*.h) $(wildcard src/*.h) $(wildcard src/cli/*.h) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/liboptlab.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/optlab: $(CLI_OBJ) $(PLAY_ASSETS) $(BUILD)/liboptlab.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(PLAY_ASSETS) $(BUILD)/liboptlab.a $(LDLIBS)

$(BUILD)/tests/runner: $(TEST_OBJ) $(BUILD)/liboptlab.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/liboptlab.a $(LDLIBS)

$(BUILD)/tests/make_fixture: $(BUILD)/tests/make_fixture.o $(BUILD)/tests/fixtures.o $(BUILD)/liboptlab.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/examples/%: examples/%.c $(BUILD)/liboptlab.a include/optlab/optim.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/liboptlab.a $(LDLIBS)

setup:
	@bash scripts/setup.sh

# The test runner runs every registered C test; tests that drive the CLI find it through OPTLAB_BIN,
# and the MPI tests launch it with OPTLAB_MPIRUN -np 2 (and 4) when MPI is built (else they say so).
test: setup
	@$(MAKE) --no-print-directory all
	OPTLAB_BIN=$(BUILD)/optlab OPTLAB_MPIRUN='$(MPIRUN)' $(BUILD)/tests/runner $(TESTS)

# The same tests built with AddressSanitizer + UndefinedBehaviorSanitizer (CLI included).
test-san: setup
	@$(MAKE) --no-print-directory SAN=1 all
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  OPTLAB_BIN=build-san/optlab build-san/tests/runner $(TESTS)

# The quick training path under valgrind memcheck: zero errors, zero leaks.
valgrind: all
	bash scripts/valgrind.sh

run: setup
	@$(MAKE) --no-print-directory all
	$(BUILD)/optlab lab all --out report

clean:
	rm -rf build build-san build-clang

# Fuzzing (libFuzzer, clang): the rules live in fuzz/fuzz.mk.
-include fuzz/fuzz.mk

# The benchmark against PyTorch and numpy (make bench): the rules live in bench/bench.mk.
-include bench/bench.mk
