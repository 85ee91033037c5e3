/* two.js: issue 18's demos 2 and 4, the computing part (usable alone: node, tests/play_two_node.js;
 * the worker, web/worker.js): every number comes from optlab/play_two.h in the module; this file only
 * moves arrays in and out of the module's memory.
 *   play.two.weights(engine, q)   demo 2: the loss over one weight and one bias of a linear model,
 *                                 Newton's minimum, the map, runs of optimizers on it
 *   play.two.gradientCost(engine, q)  demo 4: the time of one gradient against the examples in it
 *   play.two.smooth(engine, trace, batch, window, goal)  demo 4: a race run's smoothed loss, its goal
 * The panels are in web/twopanels.js. */
'use strict';

(function (play) {
  /* a typed array into the module's memory: its pointer (free with ol_play_free_buffer) */
  function alloc(engine, bytes) {
    const ptr = engine.x.ol_play_alloc(bytes);
    if (!ptr) throw new Error('out of memory in the optlab module');
    return ptr;
  }

  function copyIn(engine, array) {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    const ptr = alloc(engine, bytes.length);
    new Uint8Array(engine.memory.buffer, ptr, bytes.length).set(bytes);
    return ptr;
  }

  const INFO = 22; /* ol_play_two_info's entries */

  /* q = {model: 'mlp:784-10', params (Float32Array), pixels, labels (pointers into the module's
   * memory, n x features bytes and n), n, features, normalize, weight, cls, cells (the map's side;
   * 0: no map), runs: [{opt, lr ('auto': 1 / the Hessian's largest eigenvalue, info 19), steps}], start: [w0, b0] (default: the object's, info 17, 18)}
   * -> {status, message, info (22 numbers, ol_play_two_info), newton (Float64Array, rows x 4: w, b, loss, gradient
   * norm), box [w_lo, w_hi, b_lo, b_hi], map (Float64Array cells x cells, row 0 at b_lo, or null),
   * start, runs: [{opt, lr, steps, status, message, rows, trace (Float64Array rows x 7: step, lr,
   * loss, w, b, log10 |w - w*|, log10 |b - b*|), csv (optimize's --trace text)}]} */
  function weights(engine, q) {
    const x = engine.x, paramsPtr = copyIn(engine, q.params), modelPtr = engine.cString(q.model);
    const t = x.ol_play_two_new(modelPtr, paramsPtr, q.params.length, q.pixels, q.labels, q.n, q.features,
      q.normalize ? 1 : 0, q.weight, q.cls);
    x.ol_play_free_buffer(paramsPtr);
    x.ol_play_free_buffer(modelPtr);
    if (!t) throw new Error('out of memory in the optlab module');
    try {
      const out = { status: x.ol_play_two_status(t), message: engine.jsString(x.ol_play_two_message(t)), info: [] };
      for (let k = 0; k < INFO; k++) out.info.push(x.ol_play_two_info(t, k));
      const nr = Number(x.ol_play_two_newton_rows(t));
      out.newton = nr ? new Float64Array(engine.memory.buffer, x.ol_play_two_newton_trace(t), nr * 4).slice() : new Float64Array(0);
      out.box = out.info.slice(13, 17);
      out.map = null;
      out.runs = [];
      if (out.status) return out;
      if (q.cells) {
        const ptr = x.ol_play_two_map(t, out.box[0], out.box[1], out.box[2], out.box[3], q.cells, q.cells);
        if (!ptr) throw new Error(engine.jsString(x.ol_play_error()));
        out.map = new Float64Array(engine.memory.buffer, ptr, q.cells * q.cells).slice();
        x.ol_play_free_buffer(ptr);
      }
      out.start = q.start || [out.info[17], out.info[18]];
      for (const run of q.runs || []) {
        const optPtr = engine.cString(run.opt);
        const lr = run.lr === 'auto' ? out.info[19] : Number(run.lr); /* auto: 1 / the largest eigenvalue */
        const r = x.ol_play_two_descend(t, optPtr, lr, Number(run.steps), out.start[0], out.start[1]);
        x.ol_play_free_buffer(optPtr);
        if (!r) throw new Error('out of memory in the optlab module');
        const rows = Number(x.ol_play_two_run_rows(r)), csv = x.ol_play_two_run_csv(r);
        out.runs.push({
          opt: run.opt, lr, steps: Number(run.steps),
          status: x.ol_play_two_run_status(r), message: engine.jsString(x.ol_play_two_run_message(r)), rows,
          trace: rows ? new Float64Array(engine.memory.buffer, x.ol_play_two_run_trace(r), rows * 7).slice() : new Float64Array(0),
          csv: csv ? engine.jsString(csv) : null,
        });
        x.ol_play_two_run_free(r);
      }
      return out;
    } finally {
      x.ol_play_two_free(t);
    }
  }

  /* q = {model, pixels, labels (pointers), count, features, ns: [n, ...], repeats, seed} ->
   * [{n, ms, min, max, passes}] (ms: the median of the repeats, each the mean of `passes` passes);
   * throws the module's message */
  function gradientCost(engine, q) {
    const x = engine.x, modelPtr = engine.cString(q.model), out = alloc(engine, 32);
    try {
      return q.ns.map((n) => {
        const rc = x.ol_play_two_gradient_ms(modelPtr, q.pixels, q.labels, q.count, q.features, n, q.repeats, q.seed >>> 0, out);
        if (rc) throw new Error(engine.jsString(x.ol_play_error()));
        const v = new Float64Array(engine.memory.buffer, out, 4);
        return { n, ms: v[0], min: v[1], max: v[2], passes: v[3] };
      });
    } finally {
      x.ol_play_free_buffer(out);
      x.ol_play_free_buffer(modelPtr);
    }
  }

  /* a race run's step log (Float64Array rows x 4) -> {smooth (Float64Array rows), reached (seconds
   * at which the smoothed loss first falls to goal, -1: never)} */
  function smooth(engine, trace, batch, window, goal) {
    const x = engine.x, rows = trace.length / 4;
    const tp = copyIn(engine, trace.length ? trace : new Float64Array(4)), op = alloc(engine, 8 * Math.max(1, rows));
    try {
      const reached = x.ol_play_two_race_smooth(tp, rows, batch, window, goal, op);
      if (Number.isNaN(reached)) throw new Error('the race\'s smoothing takes a batch of 1 example or more, got ' + batch);
      return { smooth: new Float64Array(engine.memory.buffer, op, rows).slice(), reached };
    } finally {
      x.ol_play_free_buffer(tp);
      x.ol_play_free_buffer(op);
    }
  }

  play.two = { weights, gradientCost, smooth, copyIn };
})(typeof window !== 'undefined' ? window.OptlabPlay : globalThis.OptlabPlay);
