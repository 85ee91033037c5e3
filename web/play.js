/* play.js: the report's interactive panels (issue 17). optlab's C library, compiled to WebAssembly
 * (build/wasm/optlab.wasm, include/optlab/play.h), runs every number; this script only asks it and
 * draws. No framework, no network: the module comes base64 from the page itself.
 *
 * Two parts: the engine (load the module through a minimal WASI shim, run `optlab optimize` with
 * flags, compute a map), usable alone (node: tests/play_node.js), and the panels (browser only). */
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
      /* no preopened directories (wasi-libc asks at start once the module links file functions) */
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

  /* The command line that makes the same run in a terminal. */
  function commandLine(settings) {
    const quote = (v) => (/^[\w.,:=/+-]+$/.test(v) ? v : "'" + v.replace(/'/g, "'\\''") + "'");
    return 'optlab optimize ' + flagText(settings).split('\n').map((line) => {
      const eq = line.indexOf('=');
      return line.slice(0, eq) + ' ' + quote(line.slice(eq + 1));
    }).join(' ');
  }

  class Engine {
    constructor(instance) {
      this.x = instance.exports;
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

  /* progress(step, seconds, loss, lr, params, n_params): the module's "optlab" "progress" import,
   * called at every optimizer step of a training run (optlab/play_train.h); nobody by default */
  function imports(getMemory, log, progress) {
    return { wasi_snapshot_preview1: wasiShim(getMemory, log || ((fd, line) => (fd === 2 ? console.error : console.log)(line))),
      optlab: { progress: progress || (() => {}) } };
  }

  function engineOf(instance) {
    if (instance.exports._initialize) instance.exports._initialize();
    return new Engine(instance);
  }

  /* bytes of the module -> a promise of its Engine */
  function load(bytes, log) {
    let memory = null;
    return WebAssembly.instantiate(bytes, imports(() => memory, log)).then(({ instance }) => {
      memory = instance.exports.memory;
      return engineOf(instance);
    });
  }

  /* the same at once (the page: its panels are drawn before the load event); throws where the
   * browser refuses to compile a module this size on the main thread */
  function loadNow(bytes, log) {
    let memory = null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports(() => memory, log));
    memory = instance.exports.memory;
    return engineOf(instance);
  }

  /* a compiled WebAssembly.Module -> its Engine at once (a worker: web/worker.js), with the
   * progress import of `imports` */
  function instantiate(module, progress, log) {
    let memory = null;
    const instance = new WebAssembly.Instance(module, imports(() => memory, log, progress));
    memory = instance.exports.memory;
    return engineOf(instance);
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

  root.OptlabPlay = { load, loadNow, instantiate, base64Bytes, flagText, commandLine, benchCases, Engine, panels: {} };
})(typeof window !== 'undefined' ? window : globalThis);
