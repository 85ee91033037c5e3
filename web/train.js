/* train.js: the engine's side of training in the page (issue 18; optlab/play_train.h): the
 * embedded data set in the module's memory, a run of `optlab train` from its flags with everything
 * it gives back, and the command line that makes the same run in a terminal. Runs happen in a
 * worker (web/worker.js); the panels only draw what comes back. */
'use strict';

(function (play) {
  const E = play.Engine.prototype;

  /* the subset's bytes (four IDX files) -> {ptr, train, test, rows, cols, classes, pixels(which),
   * labels(which)}; throws the module's message on bad bytes. The bytes stay in the module's
   * memory as long as the data does. */
  E.data = function (bytes) {
    const buf = this.x.ol_play_alloc(bytes.length);
    if (!buf) throw new Error('out of memory in the optlab module');
    new Uint8Array(this.memory.buffer, buf, bytes.length).set(bytes);
    const ptr = this.x.ol_play_data_load(buf, bytes.length);
    if (!ptr) {
      this.x.ol_play_free_buffer(buf);
      throw new Error(this.jsString(this.x.ol_play_error()));
    }
    const x = this.x, eng = this;
    const rows = x.ol_play_data_rows(ptr), cols = x.ol_play_data_cols(ptr);
    return {
      ptr, rows, cols,
      train: Number(x.ol_play_data_count(ptr, 0)),
      test: Number(x.ol_play_data_count(ptr, 1)),
      classes: x.ol_play_data_classes(ptr),
      /* views into the module's memory: copy what is kept */
      pixels(which) { return new Uint8Array(eng.memory.buffer, x.ol_play_data_pixels(ptr, which), this.count(which) * rows * cols); },
      labels(which) { return new Uint8Array(eng.memory.buffer, x.ol_play_data_labels(ptr, which), this.count(which)); },
      count(which) { return Number(x.ol_play_data_count(ptr, which)); },
    };
  };

  /* n floats at ptr, copied out */
  E.floats = function (ptr, n) {
    return new Float32Array(this.memory.buffer, ptr, n).slice();
  };

  /* `optlab train` on data with flags ("--model=...\n--lr=..."): {flags, status, message, rows,
   * trace (Float64Array, rows x 4: step, seconds, lr, loss), csv (the --step-log text), loss and
   * accuracy ([training examples used, test set]; NaN when the run failed), seconds, nParams,
   * sizes (layer sizes, inputs first), params (Float32Array, with opts.params)} */
  E.fit = function (data, flags, opts) {
    const arg = this.cString(flags);
    const f = this.x.ol_play_fit_run(data.ptr, arg);
    this.x.ol_play_free_buffer(arg);
    if (!f) throw new Error('out of memory in the optlab module');
    const x = this.x;
    try {
      const rows = Number(x.ol_play_fit_rows(f)), n = Number(x.ol_play_fit_n_params(f)), layers = x.ol_play_fit_layers(f);
      const trace = rows ? new Float64Array(this.memory.buffer, x.ol_play_fit_trace(f), rows * 4).slice() : new Float64Array(0);
      const csv = x.ol_play_fit_log_csv(f);
      const sizes = [];
      for (let l = 0; l <= layers && layers > 0; l++) sizes.push(x.ol_play_fit_size(f, l));
      return {
        flags,
        status: x.ol_play_fit_status(f),
        message: this.jsString(x.ol_play_fit_message(f)),
        rows, trace,
        csv: csv ? this.jsString(csv) : null,
        loss: [x.ol_play_fit_loss(f, 0), x.ol_play_fit_loss(f, 1)],
        accuracy: [x.ol_play_fit_accuracy(f, 0), x.ol_play_fit_accuracy(f, 1)],
        seconds: x.ol_play_fit_seconds(f),
        nParams: n, sizes,
        params: opts && opts.params && n ? this.floats(x.ol_play_fit_params(f), n) : null,
      };
    } finally {
      x.ol_play_fit_free(f);
    }
  };

  /* flags text from [[name, value], ...] (value true: a boolean flag alone), in that order */
  function trainFlags(pairs) {
    return pairs.filter(([, v]) => v !== undefined && v !== null && v !== false && v !== '')
      .map(([k, v]) => (v === true ? '--' + k : '--' + k + '=' + String(v))).join('\n');
  }

  /* the command line of the same run, on the report's data set (dataName: its --data) */
  function trainCommand(dataName, flags, stepLog) {
    const quote = (v) => (/^[\w.,:=/+-]+$/.test(v) ? v : "'" + v.replace(/'/g, "'\\''") + "'");
    const args = flags.split('\n').filter(Boolean).map((line) => {
      const eq = line.indexOf('=');
      return eq < 0 ? line : line.slice(0, eq) + ' ' + quote(line.slice(eq + 1));
    });
    return 'OPTLAB_GEMM=portable optlab train --data ' + quote(dataName) + ' ' + args.join(' ') +
      ' --step-log ' + (stepLog || 'run.csv');
  }

  play.trainFlags = trainFlags;
  play.trainCommand = trainCommand;
})(typeof window !== 'undefined' ? window.OptlabPlay : globalThis.OptlabPlay);
