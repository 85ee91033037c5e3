# bench/bench.mk: `make bench`, optlab against PyTorch (and numpy) on the same work, in one run.
# Included by the root Makefile (-include bench/bench.mk); uses its BUILD, CC, CFLAGS, LDFLAGS, LDLIBS.
#   make bench                  the full benchmark (about 15-20 minutes on 2 cores), writes bench/results.md
#   BENCH_QUICK=1 make bench    a smoke run of the harness (tiny subsets, one repetition, ~1-2 minutes)
#   make bench BENCH_ARGS='--cases sgd-1t,optim-adam --reps 5'   any run.py options (run.py --help)
#   make bench-play             the report panels' speed alone (native, node, Chromium; about a minute)
# PyTorch and numpy come from bench/setup.sh (Debian packages for /usr/bin/python3), never from
# the product's own build or tests.

BENCH_PYTHON ?= /usr/bin/python3
BENCH_TOOLS  := $(addprefix $(BUILD)/bench/,sgemm_rate copy_bw optim_step eval_time step_time fma_peak)

.PHONY: bench bench-tools bench-setup bench-play

bench-tools: $(BENCH_TOOLS)

$(BENCH_TOOLS): $(BUILD)/bench/%: bench/%.c bench/bench_util.h $(BUILD)/liboptlab.a $(wildcard include/optlab/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/liboptlab.a $(LDLIBS)

bench-setup:
	@bash bench/setup.sh

bench: all $(BENCH_TOOLS) bench-setup bench-play
	BENCH_QUICK=$(BENCH_QUICK) $(BENCH_PYTHON) bench/run.py --build $(BUILD) $(BENCH_ARGS)

# The report's interactive panels (issue 17): the same work natively (portable and default
# products), in WebAssembly under node and in headless Chromium, and the explorer's redraws as a
# user sees them; about a minute; writes bench/play-results.md (bench/play_bench.py).
$(BUILD)/bench/play_native: bench/play_native.c $(BUILD)/liboptlab.a $(wildcard include/optlab/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/liboptlab.a $(LDLIBS)

bench-play: all $(BUILD)/bench/play_native
	$(BENCH_PYTHON) bench/play_bench.py --build $(BUILD)
