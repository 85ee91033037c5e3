# fuzz/fuzz.mk: libFuzzer targets (clang), included by the root Makefile.
#
#   make fuzz-build        build every fuzz/fuzz_<name>.c into build-fuzz/fuzz_<name>
#   make fuzz              build, then run each target for FUZZ_SECONDS (default 60); fails if any
#                          target crashes, leaks, times out or breaks an invariant
#   make fuzz-run-<name>   build and run one target (e.g. make fuzz-run-idx FUZZ_SECONDS=600)
#   make -j2 fuzz          two targets at a time (-k: run every target even after one fails)
#   make fuzz-seeds        regenerate the seed corpus in fuzz/corpus/ (uses the normal gcc build)
#   make fuzz-clean        remove build-fuzz/
#
# A target is a file fuzz/fuzz_<name>.c defining `int fuzz_<name>_one(const uint8_t *, size_t)`
# (0 = fine, 1 = an invariant broke) and, unless FUZZ_NO_MAIN is defined, LLVMFuzzerTestOneInput
# calling it; tests/test_fuzz_regressions.c replays fuzz/corpus/<name>/ and fuzz/regressions/<name>/
# through the same function. Adding fuzz/fuzz_checkpoint.c is all a new target needs here.
#
# Each run starts from a scratch corpus, build-fuzz/run/<name>/corpus, seeded with fuzz/corpus/<name>
# and fuzz/regressions/<name> (the committed corpus is never grown in place; the scratch one is kept
# between runs, so repeated runs add up). A crash input lands in build-fuzz/run/<name>/artifacts/:
# copy it to fuzz/regressions/<name>/ to make it a regression test.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build-fuzz
# largest input in bytes; per target FUZZ_MAX_LEN_<name> (IDX: a few 28x28 images, raw or gzip)
FUZZ_MAX_LEN ?= 65536
FUZZ_MAX_LEN_idx ?= 262144
FUZZ_MAX_LEN_cli ?= 4096
# seconds one input may take before it counts as a hang; memory limit of a run
FUZZ_TIMEOUT ?= 30
FUZZ_RSS_MB  ?= 3072
# more libFuzzer flags, e.g. FUZZ_OPTIONS=-seed=1
FUZZ_OPTIONS ?=
FUZZ_TMPDIR  ?= $(if $(wildcard /dev/shm),/dev/shm,/tmp)

FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -g -O1 -D_GNU_SOURCE -fopenmp -Iinclude -Wall -Wextra $(FUZZ_SAN)
FUZZ_LDLIBS  := -lopenblas -lz -lm

FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_RUNS    := $(FUZZ_TARGETS:%=fuzz-run-%)
# the library (every src/*.c) and the CLI's flag parser; never src/cli/main.c
FUZZ_LIB_SRC := $(sort $(wildcard src/*.c)) src/cli/args.c src/cli/train_flags.c
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/liboptlab-fuzz.a
FUZZ_HEADERS := $(wildcard include/optlab/*.h) $(wildcard src/*.h) $(wildcard src/cli/*.h)

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-clean $(FUZZ_RUNS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_RUNS)
	@echo "fuzz: every target ran $(FUZZ_SECONDS) s without a crash: $(FUZZ_TARGETS)"

$(FUZZ_BUILD)/obj/%.o: %.c $(FUZZ_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# an archive, so that a target links only the modules it reaches
$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) -o $@ $(FUZZ_LDLIBS)

# One run: scratch corpus, libFuzzer for FUZZ_SECONDS, a one-line summary; on a crash the tail of
# the log and the artifact's path, and the make fails.
$(FUZZ_RUNS): fuzz-run-%: $(FUZZ_BUILD)/fuzz_%
	@run=$(FUZZ_BUILD)/run/$*; mkdir -p $$run/corpus; rm -rf $$run/artifacts; mkdir -p $$run/artifacts; \
	for d in fuzz/corpus/$* fuzz/regressions/$*; do \
	    if [ -d $$d ] && [ -n "$$(ls -A $$d)" ]; then cp -p $$d/* $$run/corpus/; fi; done; \
	dict=; if [ -f fuzz/$*.dict ]; then dict=-dict=fuzz/$*.dict; fi; \
	maxlen=$(or $(FUZZ_MAX_LEN_$*),$(FUZZ_MAX_LEN)); \
	echo "fuzz $*: $(FUZZ_SECONDS) s, max_len $$maxlen, corpus $$(ls $$run/corpus | wc -l) files, log $$run/log"; \
	OMP_NUM_THREADS=1 TMPDIR=$(FUZZ_TMPDIR) $(FUZZ_BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$$maxlen -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=$(FUZZ_RSS_MB) -print_final_stats=1 \
	    -artifact_prefix=$$run/artifacts/ $$dict $(FUZZ_OPTIONS) $$run/corpus >$$run/log 2>&1; \
	status=$$?; \
	runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$run/log | tail -1); \
	secs=$$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' $$run/log | tail -1); \
	echo "fuzz $*: exit $$status, $${runs:-?} executions in $${secs:-?} s, corpus now $$(ls $$run/corpus | wc -l) files ($$(du -sk $$run/corpus | cut -f1) KiB)"; \
	if [ $$status -ne 0 ]; then \
	    tail -n 60 $$run/log; \
	    echo "fuzz $*: FAILED; input(s): $$(ls $$run/artifacts/* 2>/dev/null | tr '\n' ' ')"; \
	    echo "fuzz $*: reproduce with $(FUZZ_BUILD)/fuzz_$* <input>; keep it in fuzz/regressions/$*/"; \
	    exit 1; fi

# Seeds: small valid or nearly valid inputs for each target, plus a model trained by optlab.
fuzz-seeds: $(BUILD)/liboptlab.a
	@mkdir -p $(FUZZ_BUILD)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $(FUZZ_BUILD)/gen_seeds fuzz/gen_seeds.c $(BUILD)/liboptlab.a $(LDLIBS)
	$(FUZZ_BUILD)/gen_seeds $(FUZZ_BUILD)/seed-data
	@$(MAKE) --no-print-directory $(BUILD)/optlab
	$(BUILD)/optlab train --data $(FUZZ_BUILD)/seed-data --model mlp:16-8-3 --opt adam --lr 0.01 --batch 10 \
	    --epochs 2 --threads 1 --quiet --save $(FUZZ_BUILD)/seed-model.bin
	$(FUZZ_BUILD)/gen_seeds model $(FUZZ_BUILD)/seed-model.bin

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

# The regression test compiles the targets in (#include "../fuzz/fuzz_<name>.c"): rebuild it when
# they change.
$(BUILD)/tests/test_fuzz_regressions.o: $(wildcard fuzz/*.c fuzz/*.h) src/cli/args.c src/cli/train_flags.c
