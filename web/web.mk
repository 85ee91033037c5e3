# web/web.mk: the report's interactive panels (issue 17), included by the root Makefile.
#   make wasm      build/wasm/optlab.wasm: the library below `train` for wasm32-wasi (clang, wasm-ld,
#                  wasi-libc; scripts/setup.sh installs them), portable matrix product, no OpenMP
#                  threads, no OpenBLAS, no x86 intrinsics; exports the entry points of optlab/play.h
# The optlab binary carries the module and web/play.js + web/play.css (build/gen/play_assets.c,
# written by web/embed.c); `optlab lab` puts them into index.html beside the figures they extend.
# Without the toolchain the binary carries one line saying so, and the report says it in place of
# the panels.

WASM_CC    ?= clang
WASM_BUILD := build/wasm
# -fopenmp-simd: the `omp simd` loops stay vector loops (SIMD128), every other OpenMP pragma is
# ignored; -ffp-contract=off as natively, so the arithmetic is the native build's, operation by
# operation; -fvisibility=hidden + --export-dynamic: only optlab/play.h's OL_PLAY_EXPORT functions
# (and the memory) are exported.
WASM_CFLAGS := --target=wasm32-wasi -O2 -std=c11 -D_GNU_SOURCE -fno-math-errno -ffp-contract=off \
               -msimd128 -fopenmp-simd -fvisibility=hidden -DOL_NO_ZLIB -Iinclude -Wall -Wextra
WASM_LDFLAGS := --target=wasm32-wasi -mexec-model=reactor -Wl,--export-dynamic -Wl,--strip-all
# The modules below `train` (docs/architecture.md): every one compiles for wasm32-wasi; the module
# links what optlab/play.h reaches. Listed by what they are not (a new module of the library is in
# by default): what drives runs (lrfind, sweep, dist, labs, outdir) and the x86 matrix kernels
# (sgemm). The training loop (train, train_checkpoint, train_settings) is in: the page trains
# (optlab/play_train.h).
WASM_NOT     := lrfind sweep sweep_grid sweep_prune sweep_report dist \
                lab lab_conditioning lab_minibatch lab_nonconvex lab_random_search lab_tuning outdir sgemm
WASM_MODULES := $(filter-out $(WASM_NOT),$(basename $(notdir $(wildcard src/*.c))))
WASM_OBJ   := $(WASM_MODULES:%=$(WASM_BUILD)/%.o)
WASM_OUT   := $(WASM_BUILD)/optlab.wasm
# the toolchain is there when clang links a reactor module against wasi-libc
WASM_OK    := $(shell printf '\043include <stdio.h>\nint f(void) { return puts(""); }\n' | \
                $(WASM_CC) --target=wasm32-wasi -mexec-model=reactor -x c - -o /dev/null 2>/dev/null && echo 1)
WASM_MISSING := The interactive panels are not in this report: optlab was built without the WebAssembly \
toolchain (clang, lld, wasi-libc, libclang-rt-14-dev-wasm32; scripts/setup.sh installs them).

PLAY_ASSETS := $(BUILD)/gen/play_assets.o
# the page's script: the engine, the shared interface and the training worker, one file per panel,
# then the start (the same script runs in the training worker: web/worker.js)
WEB_SCRIPTS := web/play.js web/ui.js web/worker.js web/explorer.js web/momentum.js web/dimension.js web/schedules.js \
               web/templates.js web/overparam.js web/optimizers.js web/two.js web/twopanels.js web/start.js
WEB_FILES   := $(WEB_SCRIPTS) web/play.css

.PHONY: wasm
wasm: $(WASM_OUT)

$(WASM_BUILD)/%.o: src/%.c $(wildcard include/optlab/*.h) $(wildcard src/*.h) web/web.mk
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) -c $< -o $@

$(WASM_OUT): $(WASM_OBJ)
	$(WASM_CC) $(WASM_LDFLAGS) -O2 -o $@ $(WASM_OBJ)

$(BUILD)/tools/embed: web/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c11 -Wall -Wextra -o $@ $<

$(BUILD)/gen/play.js: $(WEB_SCRIPTS)
	@mkdir -p $(dir $@)
	cat $(WEB_SCRIPTS) > $@

# whether the toolchain was there is part of the assets: a stamp that changes with it
WASM_STAMP := $(BUILD)/gen/.wasm-ok
$(shell mkdir -p $(BUILD)/gen && (echo '$(WASM_OK)' | cmp -s - $(WASM_STAMP) || echo '$(WASM_OK)' > $(WASM_STAMP)))

ifeq ($(WASM_OK),1)
$(BUILD)/gen/play_assets.c: $(BUILD)/tools/embed $(BUILD)/gen/play.js web/play.css $(WASM_OUT) $(WASM_STAMP)
	$(BUILD)/tools/embed $@ --script $(BUILD)/gen/play.js --style web/play.css --wasm $(WASM_OUT)
else
$(BUILD)/gen/play_assets.c: $(BUILD)/tools/embed $(BUILD)/gen/play.js web/play.css $(WASM_STAMP)
	@echo "make: no WebAssembly toolchain ($(WASM_CC) --target=wasm32-wasi); the report will say so in place of its panels"
	$(BUILD)/tools/embed $@ --script $(BUILD)/gen/play.js --style web/play.css --missing "$(WASM_MISSING)"
endif

$(PLAY_ASSETS): $(BUILD)/gen/play_assets.c include/optlab/report.h
	$(CC) $(CFLAGS) -c $< -o $@
