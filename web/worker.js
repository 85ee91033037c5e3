/* worker.js: training in a Web Worker (issue 18). The page's own script (a Blob URL of its text, no
 * network) runs in the worker; the page posts it the compiled WebAssembly.Module and the bytes of
 * the embedded data set, and then jobs: runs of `optlab train` (optlab/play_train.h, Engine.fit).
 * While a run trains, the module's "optlab" "progress" import reports every optimizer step; the
 * worker sends the page the new (step, loss) points at most every `every` ms, with a copy of the
 * parameters when the job asks for them. The page's main thread only draws.
 *
 * Page side: play.pageData() (the embedded subset, inflated by the browser's
 * DecompressionStream('gzip')), and new play.Trainer(): trainer.run(runs, handlers) starts a job
 * (and cancels the one running), trainer.stop() ends it at once (worker.terminate(); the next job
 * gets a fresh worker). */
'use strict';

(function (play) {
  const inWorker = typeof document === 'undefined' && typeof importScripts === 'function';
  /* the page's script as text: the data: URL it was loaded from (captured while it runs) */
  const selfSrc = !inWorker && typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : null;

  /* ---- page side ---- */

  let dataPromise = null, modulePromise = null;

  /* the embedded subset: {bytes (Uint8Array, four IDX files), name, train, test} */
  function pageData() {
    if (dataPromise) return dataPromise;
    const holder = document.getElementById('optlab-data');
    if (!holder) return (dataPromise = Promise.reject(new Error('this page holds no data set (optlab lab writes it)')));
    const gz = play.base64Bytes(holder.textContent);
    const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'));
    dataPromise = new Response(stream).arrayBuffer().then((buf) => {
      const bytes = new Uint8Array(buf);
      if (bytes.length !== Number(holder.dataset.bytes))
        throw new Error('the page\'s data inflated to ' + bytes.length + ' bytes, not ' + holder.dataset.bytes);
      return { bytes, name: holder.dataset.name, train: Number(holder.dataset.train), test: Number(holder.dataset.test) };
    });
    return dataPromise;
  }

  /* the module, compiled off the main thread, for the workers (its bytes as web/ui.js decoded them) */
  function compiledModule() {
    if (!modulePromise) {
      const holder = document.getElementById('optlab-wasm');
      modulePromise = (play.moduleBytes || holder) ? WebAssembly.compile(play.moduleBytes || play.base64Bytes(holder.textContent))
        : Promise.reject(new Error('no module in the page'));
      modulePromise.catch(() => {}); /* reported by the run that needs it */
    }
    return modulePromise;
  }

  let workerUrl = null;
  function workerScript() {
    if (!workerUrl) {
      if (!selfSrc || !selfSrc.startsWith('data:')) throw new Error('the page\'s script is not where a worker can find it');
      const text = atob(selfSrc.slice(selfSrc.indexOf(',') + 1));
      workerUrl = URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
    }
    return workerUrl;
  }
  function newWorker() { return new Worker(workerScript()); }

  /* what the first run would otherwise do on the main thread (decode the script, inflate the data,
   * compile the module: about 100 ms in all), done once the page is idle */
  let warmed = false;
  function warm() {
    if (warmed) return;
    warmed = true;
    const later = typeof requestIdleCallback === 'function' ? requestIdleCallback : (f) => setTimeout(f, 200);
    later(() => {
      try { workerScript(); } catch (e) { /* reported by the first run */ }
      compiledModule();
      pageData().catch(() => {});
    });
  }

  /* One panel's trainer: one job at a time in its own worker.
   * run(runs, handlers): runs = [{flags: '--model=...\n--lr=...', snapshot: bool}, or {task: NAME, ...}: the
   *   worker's play.tasks[NAME](engine, data handle, run), whose value is the run's result], handlers =
   *   {every: ms between progress messages (default 100), progress(index, p), result(index, r)}:
   *   p = {points: [[step, loss], ...] since the last, step, seconds, loss, lr, params (Float32Array,
   *   only for a run with snapshot)}, r = Engine.fit's result (web/play.js; its params with snapshot
   *   or params set). Resolves {stopped: false, results}
   *   when every run is done, {stopped: true, results so far} when stopped or replaced. */
  class Trainer {
    constructor() {
      this.worker = null;
      this.job = null;
      this.jobs = 0;
    }
    get busy() { return this.job !== null; }

    run(runs, handlers) {
      this.stop();
      const id = ++this.jobs, h = Object.assign({ every: 100, progress() {}, result() {} }, handlers || {});
      return Promise.all([compiledModule(), pageData()]).then(([module, data]) => new Promise((resolve) => {
        if (id !== this.jobs) { resolve({ stopped: true, results: [] }); return; } /* replaced while loading */
        const results = [];
        this.job = { id, resolve, results };
        if (!this.worker) {
          this.worker = newWorker();
          this.worker.postMessage({ type: 'init', module, data: data.bytes });
        }
        const w = this.worker;
        w.onmessage = (e) => {
          const m = e.data;
          if (!this.job || m.id !== id) return;
          if (m.type === 'progress') h.progress(m.index, m);
          else if (m.type === 'result') { results[m.index] = m.result; h.result(m.index, m.result); }
          else if (m.type === 'done') { this.job = null; resolve({ stopped: false, results }); }
          else if (m.type === 'error') { this.job = null; this.drop(); resolve({ stopped: false, error: m.message, results }); }
        };
        w.onerror = (e) => {
          e.preventDefault();
          if (this.job && this.job.id === id) { this.job = null; this.drop(); resolve({ stopped: false, error: e.message, results }); }
        };
        w.postMessage({ type: 'run', id, runs, every: h.every });
      }));
    }

    /* ends the running job at once */
    stop() {
      this.jobs++;
      if (!this.job) return false;
      const job = this.job;
      this.job = null;
      this.drop();
      job.resolve({ stopped: true, results: job.results });
      return true;
    }

    drop() {
      if (this.worker) this.worker.terminate();
      this.worker = null;
    }
  }

  /* What a training panel shares: its Train and Stop buttons, the line saying how the run goes, the
   * command lines of its runs, and its trainer. bar.start(runs, handlers, what) runs a job (the panel's
   * data-state is 'training' meanwhile; then 'ready', 'stopped' or 'error') and resolves as
   * Trainer.run does, except for a job replaced by a newer one: it never resolves (the newer reports);
   * bar.say(text) the line. */
  function trainBar(node, trainLabel) {
    const { el } = play.ui;
    const train = el('button', { type: 'button', name: 'train', class: 'play-train' }, trainLabel || 'Train');
    const stop = el('button', { type: 'button', name: 'stop', class: 'play-stop', disabled: true }, 'Stop');
    const status = el('span', { class: 'play-status', role: 'status' });
    const commands = el('div', { class: 'play-cmds' });
    const trainer = new Trainer();
    warm();
    const bar = {
      box: el('div', { class: 'play-row play-bar' }, train, stop, status), train, stop, status, commands, trainer,
      say(text) { status.textContent = text; },
      jobs: 0,
      start(runs, handlers, what) {
        const mine = ++bar.jobs;
        node.dataset.state = 'training';
        stop.disabled = false;
        bar.say(what || 'training...');
        return trainer.run(runs, handlers).then((out) => {
          if (mine !== bar.jobs) return new Promise(() => {});  /* replaced by a newer job: it reports */
          stop.disabled = true;
          node.dataset.state = out.error ? 'error' : out.stopped ? 'stopped' : 'ready';
          if (out.error) bar.say('The run failed: ' + out.error);
          else if (out.stopped) bar.say('Stopped.');
          return out;
        }, (e) => {
          if (mine !== bar.jobs) return new Promise(() => {});
          stop.disabled = true;
          node.dataset.state = 'error';
          bar.say('The run could not start: ' + e.message);
          console.error(e);
          return { stopped: false, error: e.message, results: [] };
        });
      },
    };
    stop.addEventListener('click', () => trainer.stop());
    return bar;
  }

  /* ---- worker side ---- */

  function serve() {
    let engine = null, data = null, failed = null;
    self.onmessage = (e) => {
      const m = e.data;
      try {
        if (m.type === 'init') {
          try {
            engine = play.instantiate(m.module);
            data = engine.loadData(m.data);
          } catch (err) {
            failed = err;
          }
          return;
        }
        if (m.type !== 'run') return;
        if (failed) throw failed;
        m.runs.forEach((run, index) => {
          let points = [], last = 0;
          const progress = (p) => {
            points.push([p.step, p.loss]);
            const now = performance.now();
            if (now - last < m.every) return;
            last = now;
            const msg = { type: 'progress', id: m.id, index, points, step: p.step, seconds: p.seconds, loss: p.loss, lr: p.lr };
            if (run.snapshot) msg.params = p.params();
            points = [];
            self.postMessage(msg, msg.params ? [msg.params.buffer] : []);
          };
          if (run.task) { /* a computation of another panel on the data (play.tasks: web/twopanels.js) */
            self.postMessage({ type: 'result', id: m.id, index, result: play.tasks[run.task](engine, data, run) });
            return;
          }
          const result = engine.fit(data, run.flags, { params: run.snapshot || run.params, progress, csv: run.csv !== false });
          self.postMessage({ type: 'result', id: m.id, index, result }, [result.trace.buffer].concat(result.params ? [result.params.buffer] : []));
        });
        self.postMessage({ type: 'done', id: m.id });
      } catch (err) {
        self.postMessage({ type: 'error', id: m.id, message: String(err && err.message || err) });
      }
    };
  }

  play.pageData = pageData;
  play.Trainer = Trainer;
  play.trainBar = trainBar;
  /* the command line of a run: web/play.js's trainCommandLine (which now starts with OPTLAB_GEMM=portable),
   * under the name the first panels on this worker used */
  play.trainCommand = (flags, dataName) => play.trainCommandLine(flags, dataName);
  if (inWorker) serve();
})(typeof window !== 'undefined' ? window.OptlabPlay : globalThis.OptlabPlay);
