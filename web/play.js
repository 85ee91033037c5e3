/* play.js: the report's interactive panels (issue 17). optlab's C library, compiled to WebAssembly
 * (build/wasm/optlab.wasm, include/optlab/play.h), runs every number; this script only asks it and
 * draws. No framework, no network: the module comes base64 from the page itself.
 *
 * Two parts: the engine (load the module through a minimal WASI shim, run `optlab optimize` with
 * flags, compute a map, train an MLP: optlab/play_train.h), usable alone (node: tests/play_node.js,
 * tests/play_train_node.js; a Web Worker), and the panels (browser only).
 *
 * Training (issue 18), on an Engine e:
 *   e.loadData(bytes)        the page's subset (Uint8Array: four IDX files one after the other,
 *                            inflated) -> a handle; throws the module's message on bad bytes.
 *   e.dataInfo(h)            {train, test (counts), rows, cols, classes}
 *   e.images(h, which)       {pixels: Uint8Array (count x rows*cols), labels: Uint8Array} copies,
 *                            which 0 training, 1 test
 *   e.freeData(h)
 *   e.fit(h, flags, opts)    `optlab train` on the subset. flags: the text "--name=value" a line, or a
 *                            settings object ({model: 'mlp:784-20-10', opt: 'gd', lr: 0.1, batch:
 *                            'full', epochs: 50, normalize: true, subset: 500, 'test-subset': 500,
 *                            seed: 1, 'max-steps': 100, 'time-budget': 5}; true: a flag without a value,
 *                            false/null/'' left out; keys in the order given). opts.params: copy the
 *                            trained parameters; opts.csv (default true): the step log's text;
 *                            opts.progress: the progress function for this run (else the default).
 *                            -> {status, message, rows, trace (Float64Array, rows x 4: step, seconds,
 *                            lr, loss), csv (the command's --step-log text), trainLoss, trainAcc,
 *                            testLoss, testAcc, seconds, sizes ([784, 20, 10]), nParams, params
 *                            (Float32Array) when opts.params, flags (the text run)}
 *   progress                 every optimizer step calls fn(p) with one reused object p = {step, seconds,
 *                            loss, lr, nParams, params() (a Float32Array copy of the live parameters),
 *                            stop() (the run ends after this step: status OL_ESTOPPED, "stopped at
 *                            step N")}; OptlabPlay.setProgress(fn) sets the default (none: a no-op).
 *                            The module's import "optlab" "progress" is what calls it.
 *   OptlabPlay.trainCommandLine(settings, data, counts)  the same run as a command line:
 *                            `OPTLAB_GEMM=portable optlab train --data D --model ... --subset N
 *                            --test-subset M --step-log steps.csv` (data: the data set's name or
 *                            directory; counts: dataInfo's, for --subset and --test-subset when the
 *                            settings have none); its steps.csv is the run's csv byte for byte. */
'use strict';

(function (root) {
  const WASI_ENOSYS = 52, WASI_EBADF = 8;

  /* The few WASI calls wasi-libc may make, answered in memory: text written to fd 1 and 2 goes to
   * the console line by line; every other import returns ENOSYS (the module never opens a file). */
  function wasiShim(getMemory, log) {
    const pending = { 1: '', 2: '' };
    const decoder = new TextDecoder();
    const view = () => new DataView(getMemory().buffer);
    const shim = {
      fd_write(fd, iovs, iovsLen, nwritten) {
        const dv = view();
        let written = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = dv.getUint32(iovs + 8 * i, true), len = dv.getUint32(iovs + 8 * i + 4, true);
          const text = decoder.decode(new Uint8Array(getMemory().buffer, ptr, len));
          if (fd === 1 || fd === 2) {
            pending[fd] += text;
            let nl;
            while ((nl = pending[fd].indexOf('\n')) !== -1) {
              log(fd, pending[fd].slice(0, nl));
              pending[fd] = pending[fd].slice(nl + 1);
            }
          }
          written += len;
        }
        dv.setUint32(nwritten, written, true);
        return 0;
      },
      fd_close() { return 0; },
      /* no preopened directories (the training code links wasi-libc's file calls, whose start-up
       * asks for them until EBADF; any other answer ends the module with status 71) */
      fd_prestat_get() { return WASI_EBADF; },
      fd_seek() { return WASI_ENOSYS; },
      proc_exit(code) { throw new Error('optlab module exited with status ' + code); },
      clock_time_get(id, precision, out) {
        const ns = BigInt(Math.round((typeof performance !== 'undefined' ? performance.now() : Date.now()) * 1e6));
        view().setBigUint64(out, ns, true);
        return 0;
      },
      environ_sizes_get(count, size) { view().setUint32(count, 0, true); view().setUint32(size, 0, true); return 0; },
      environ_get() { return 0; },
    };
    return new Proxy(shim, {
      get(target, name) { return name in target ? target[name] : () => WASI_ENOSYS; },
    });
  }

  function base64Bytes(text) {
    const bin = atob(text.replace(/\s+/g, ''));
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  /* The flags of `optlab optimize` in the order the page gives them, and the run's flag text. */
  const FLAG_ORDER = ['fn', 'x0', 'opt', 'lr', 'steps', 'schedule', 'warmup', 'clip-norm', 'clip-value', 'diverge-factor', 'seed'];

  function flagText(settings) {
    return FLAG_ORDER.filter((k) => settings[k] !== undefined && settings[k] !== null && settings[k] !== '')
      .map((k) => '--' + k + '=' + (Array.isArray(settings[k]) ? settings[k].map(String).join(',') : String(settings[k])))
      .join('\n');
  }

  const shellQuote = (v) => (/^[\w.,:=/+-]+$/.test(v) ? v : "'" + v.replace(/'/g, "'\\''") + "'");

  /* The command line that makes the same run in a terminal. */
  function commandLine(settings) {
    return 'optlab optimize ' + flagText(settings).split('\n').map((line) => {
      const eq = line.indexOf('=');
      return line.slice(0, eq) + ' ' + shellQuote(line.slice(eq + 1));
    }).join(' ');
  }

  /* `optlab train`'s flags as the page's run takes them: a settings object -> "--name=value" lines
   * (true: "--name" alone; false, null, undefined, '' left out); a text is taken as it is */
  function trainFlagText(settings) {
    if (typeof settings === 'string') return settings;
    return Object.keys(settings).filter((k) => settings[k] !== undefined && settings[k] !== null && settings[k] !== '' &&
      settings[k] !== false).map((k) => '--' + k + (settings[k] === true ? '' : '=' + String(settings[k]))).join('\n');
  }

  /* The command that makes the same run: `OPTLAB_GEMM=portable optlab train --data D ... --step-log
   * steps.csv` (the portable matrix product is the page's). counts ({train, test}: Engine.dataInfo)
   * adds --subset and --test-subset where the settings have none: the page holds the first images
   * of the data set, the command reads them all. */
  function trainCommandLine(settings, data, counts) {
    const words = ['OPTLAB_GEMM=portable', 'optlab', 'train', '--data', shellQuote(String(data || 'fashion-mnist'))];
    const lines = trainFlagText(settings).split('\n').filter((l) => l);
    const has = (name) => lines.some((l) => l === name || l.startsWith(name + '='));
    if (counts && !has('--subset')) lines.push('--subset=' + counts.train);
    if (counts && !has('--test-subset')) lines.push('--test-subset=' + counts.test);
    for (const line of lines) {
      const eq = line.indexOf('=');
      words.push(eq < 0 ? line : line.slice(0, eq));
      if (eq >= 0) words.push(shellQuote(line.slice(eq + 1)));
    }
    return words.concat(['--step-log', 'steps.csv']).join(' ');
  }

  let defaultProgress = null;
  function setProgress(fn) { defaultProgress = fn || null; }

  class Engine {
    constructor(instance, hooks) {
      this.x = instance.exports;
      this.hooks = hooks || { progress: null };
    }
    get memory() { return this.x.memory; }

    /* a JS string into the module's memory (free it with ol_play_free_buffer) */
    cString(text) {
      const bytes = new TextEncoder().encode(text);
      const ptr = this.x.ol_play_alloc(bytes.length + 1);
      if (!ptr) throw new Error('out of memory in the optlab module');
      const mem = new Uint8Array(this.memory.buffer, ptr, bytes.length + 1);
      mem.set(bytes);
      mem[bytes.length] = 0;
      return ptr;
    }
    jsString(ptr) {
      const mem = new Uint8Array(this.memory.buffer);
      let end = ptr;
      while (mem[end]) end++;
      return new TextDecoder().decode(mem.subarray(ptr, end));
    }

    /* `optlab optimize` with these settings ({fn, x0: [...], opt, lr, steps, schedule, warmup,
     * 'clip-norm', 'clip-value', seed}); everything the run gives back, the trace copied out.
     * opts.columns 'all' (default) or 3: only step, lr and f of each row (trace rows are 3 wide);
     * opts.csv false: no CSV text (large runs) */
    run(settings, opts) {
      opts = Object.assign({ columns: 'all', csv: true }, opts);
      const flags = flagText(settings);
      const arg = this.cString(flags);
      const p = this.x.ol_play_run(arg);
      this.x.ol_play_free_buffer(arg);
      if (!p) throw new Error('out of memory in the optlab module');
      try {
        const d = this.x.ol_play_dim(p), rows = Number(this.x.ol_play_rows(p)), full = this.x.ol_play_width(p);
        const all = rows ? new Float64Array(this.memory.buffer, this.x.ol_play_trace(p), rows * full) : new Float64Array(0);
        let trace = all, width = full;
        if (opts.columns === 3) {
          width = 3;
          trace = new Float64Array(rows * 3);
          for (let k = 0; k < rows; k++) trace.set(all.subarray(k * full, k * full + 3), k * 3);
        } else {
          trace = all.slice();
        }
        const last = rows ? Array.from(all.subarray((rows - 1) * full + 3, (rows - 1) * full + 3 + d)) : [];
        const csvPtr = opts.csv ? this.x.ol_play_trace_csv(p) : 0;
        return {
          flags,
          command: commandLine(settings),
          status: this.x.ol_play_status(p),
          message: this.jsString(this.x.ol_play_message(p)),
          outcome: this.x.ol_play_outcome(p),
          steps: Number(this.x.ol_play_steps(p)),
          f: this.x.ol_play_f(p),
          evaluations: Number(this.x.ol_play_evaluations(p)),
          d, rows, width, trace, last,
          csv: csvPtr ? this.jsString(csvPtr) : null,
        };
      } finally {
        this.x.ol_play_free(p);
      }
    }

    /* whether the command takes these settings (nothing run): {status, message} */
    check(settings) {
      const arg = this.cString(flagText(settings));
      const p = this.x.ol_play_check(arg);
      this.x.ol_play_free_buffer(arg);
      if (!p) throw new Error('out of memory in the optlab module');
      const result = { status: this.x.ol_play_status(p), message: this.jsString(this.x.ol_play_message(p)) };
      this.x.ol_play_free(p);
      return result;
    }

    /* ---- training (optlab/play_train.h) ---- */

    loadData(bytes) {
      const ptr = this.x.ol_play_alloc(bytes.length);
      if (!ptr) throw new Error('out of memory in the optlab module');
      new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
      const handle = this.x.ol_play_data_load(ptr, bytes.length);
      this.x.ol_play_free_buffer(ptr);
      if (!handle) throw new Error(this.jsString(this.x.ol_play_error()));
      return handle;
    }
    freeData(handle) { this.x.ol_play_data_free(handle); }
    dataInfo(handle) {
      return { train: Number(this.x.ol_play_data_count(handle, 0)), test: Number(this.x.ol_play_data_count(handle, 1)),
        rows: this.x.ol_play_data_rows(handle), cols: this.x.ol_play_data_cols(handle),
        classes: this.x.ol_play_data_classes(handle) };
    }
    images(handle, which) {
      const info = this.dataInfo(handle), n = which ? info.test : info.train;
      const pixels = new Uint8Array(this.memory.buffer, this.x.ol_play_data_pixels(handle, which), n * info.rows * info.cols);
      const labels = new Uint8Array(this.memory.buffer, this.x.ol_play_data_labels(handle, which), n);
      return { pixels: pixels.slice(), labels: labels.slice() };
    }

    fit(handle, settings, opts) {
      opts = Object.assign({ params: false, csv: true, progress: null }, opts);
      const flags = trainFlagText(settings);
      const fn = opts.progress || defaultProgress, x = this.x, engine = this;
      let n = 0, at = 0;
      const p = {
        step: 0, seconds: 0, loss: NaN, lr: NaN, nParams: 0,
        params() { return new Float32Array(engine.memory.buffer, at, n).slice(); },
        stop() { x.ol_play_fit_stop(); },
      };
      this.hooks.progress = fn ? (step, seconds, loss, lr, paramsPtr, nParams) => {
        p.step = step; p.seconds = seconds; p.loss = loss; p.lr = lr; p.nParams = n = nParams; at = paramsPtr;
        fn(p);
      } : null;
      const arg = this.cString(flags);
      let f = 0;
      try {
        f = x.ol_play_fit_run(handle, arg);
      } finally {
        this.hooks.progress = null;
        x.ol_play_free_buffer(arg);
      }
      if (!f) throw new Error('out of memory in the optlab module');
      try {
        const rows = Number(x.ol_play_fit_rows(f)), layers = x.ol_play_fit_layers(f), nParams = Number(x.ol_play_fit_n_params(f));
        const sizes = [];
        for (let l = 0; l <= layers && layers > 0; l++) sizes.push(x.ol_play_fit_size(f, l));
        const trace = rows ? new Float64Array(this.memory.buffer, x.ol_play_fit_trace(f), rows * 4).slice() : new Float64Array(0);
        const csvPtr = opts.csv ? x.ol_play_fit_log_csv(f) : 0;
        return {
          flags,
          status: x.ol_play_fit_status(f),
          message: this.jsString(x.ol_play_fit_message(f)),
          rows, trace,
          csv: csvPtr ? this.jsString(csvPtr) : null,
          trainLoss: x.ol_play_fit_loss(f, 0), trainAcc: x.ol_play_fit_accuracy(f, 0),
          testLoss: x.ol_play_fit_loss(f, 1), testAcc: x.ol_play_fit_accuracy(f, 1),
          seconds: x.ol_play_fit_seconds(f),
          sizes, nParams,
          params: opts.params && nParams ? new Float32Array(this.memory.buffer, x.ol_play_fit_params(f), nParams).slice() : null,
        };
      } finally {
        x.ol_play_fit_free(f);
      }
    }

    /* f on a w x h grid over [xlo, xhi] x [ylo, yhi], row 0 at ylo; throws the module's message */
    map(fn, xlo, xhi, ylo, yhi, w, h) {
      const arg = this.cString(fn);
      const ptr = this.x.ol_play_map(arg, xlo, xhi, ylo, yhi, w, h);
      this.x.ol_play_free_buffer(arg);
      if (!ptr) throw new Error(this.jsString(this.x.ol_play_error()));
      const values = new Float64Array(this.memory.buffer, ptr, w * h).slice();
      this.x.ol_play_free_buffer(ptr);
      return values;
    }
  }

  /* the module's imports: WASI, and optlab's own (the training's progress report, a no-op unless a
   * run of Engine.fit has a progress function) */
  function imports(getMemory, log, hooks) {
    return {
      wasi_snapshot_preview1: wasiShim(getMemory, log || ((fd, line) => (fd === 2 ? console.error : console.log)(line))),
      optlab: {
        progress(step, seconds, loss, lr, params, nParams) {
          if (hooks.progress) hooks.progress(step, seconds, loss, lr, params, nParams);
        },
      },
    };
  }

  function engineOf(instance, hooks) {
    if (instance.exports._initialize) instance.exports._initialize();
    return new Engine(instance, hooks);
  }

  /* bytes of the module -> a promise of its Engine */
  function load(bytes, log) {
    let memory = null;
    const hooks = { progress: null };
    return WebAssembly.instantiate(bytes, imports(() => memory, log, hooks)).then(({ instance }) => {
      memory = instance.exports.memory;
      return engineOf(instance, hooks);
    });
  }

  /* the same at once (the page: its panels are drawn before the load event); throws where the
   * browser refuses to compile a module this size on the main thread */
  function loadNow(bytes, log) {
    return instantiate(new WebAssembly.Module(bytes), log);
  }

  /* a compiled WebAssembly.Module -> its Engine at once (the training worker: web/worker.js) */
  function instantiate(module, log) {
    let memory = null;
    const hooks = { progress: null };
    const instance = new WebAssembly.Instance(module, imports(() => memory, log, hooks));
    memory = instance.exports.memory;
    return engineOf(instance, hooks);
  }

  /* the work of bench/play_native.c, for the same timings in node and in the browser (make bench-play):
   * [name, repetitions, function] */
  function benchCases(engine) {
    const x64 = new Array(64).fill(0.125);
    return [
      ['map-rastrigin-200x200', 10, () => engine.map('rastrigin', -5.12, 5.12, -5.12, 5.12, 200, 200)],
      ['run-gd-rastrigin-500', 20, () => engine.run({ fn: 'rastrigin', x0: [2.2, -1.3], opt: 'gd', lr: 0.001, steps: 500 })],
      ['run-adam-rosenbrock-500', 20, () => engine.run({ fn: 'rosenbrock', x0: [-1.5, 2], opt: 'adam', lr: 0.01, steps: 500 })],
      ['run-random-quadratic64-2000', 5, () => engine.run({ fn: 'quadratic:kappa=1', x0: x64, opt: 'random:sigma=0.01', lr: 0.1,
        steps: 2000, seed: 1 })],
    ];
  }

  root.OptlabPlay = { load, loadNow, instantiate, base64Bytes, flagText, commandLine, trainFlagText, trainCommandLine, setProgress,
    benchCases, panels: {} };
})(typeof window !== 'undefined' ? window : globalThis);
