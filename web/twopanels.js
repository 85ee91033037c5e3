/* twopanels.js: issue 18's demos 2 and 4, the panels. Every number they show is the module's
 * (optlab/play_two.h through web/two.js, optlab/play_train.h through the worker); this file draws.
 *   twoweights  "Two weights of a real model": a linear softmax model trained in the page, frozen
 *               but for one weight W[i][c] and the bias b[c]; the loss over the two, Newton's
 *               minimum, gradient descent against heavy ball, each coordinate's log distance to it
 *   gradcost    "The price of a gradient": forward + backward time against the examples in it
 *   race        "The mini-batch race": loss against wall-clock seconds, one curve per batch size,
 *               each a run of `optlab train --time-budget S`, one after another
 * The work runs in the page's worker (web/worker.js) as tasks: play.tasks.two and .gradientCost. */
'use strict';

(function (play) {
  play.tasks = play.tasks || {};

  /* ---- the worker's side: tasks on the page's data (its training images) ---- */

  function onTrain(engine, data) {
    const info = engine.dataInfo(data);
    return { pixels: engine.x.ol_play_data_pixels(data, 0), labels: engine.x.ol_play_data_labels(data, 0),
      count: info.train, features: info.rows * info.cols };
  }

  /* run = {task: 'two', fit: flags (when no params), params, q: play.two.weights' query without the
   * data} -> {fit (the training run, without its parameters), params, two} */
  play.tasks.two = function (engine, data, run) {
    let params = run.params, fit = null;
    if (!params) {
      fit = engine.fit(data, run.fit, { params: true });
      params = fit.params;
      fit.params = null;
      if (fit.status || !params) return { fit, params: null, two: null };
    }
    const d = onTrain(engine, data);
    const two = play.two.weights(engine, Object.assign({}, run.q, { params, pixels: d.pixels, labels: d.labels,
      features: d.features }));
    return { fit, params, two };
  };

  /* run = {task: 'gradientCost', q: {model, n, repeats, seed}} -> {n, ms, min, max} */
  play.tasks.gradientCost = function (engine, data, run) {
    const d = onTrain(engine, data);
    return play.two.gradientCost(engine, Object.assign({}, run.q, d, { ns: [run.q.n] }))[0];
  };

  if (typeof document === 'undefined') return; /* the worker, or node: no panels */

  const { el, control, select, logSlider, MapView, Chart, fmt } = play.ui;
  const GD_COLOR = '#E69F00', HB_COLOR = '#0072B2', NEWTON_COLOR = '#ffffff';

  function slider(name, label, min, max, step, value) {
    const input = el('input', { type: 'range', name, min, max, step, value });
    const out = el('output', { class: 'play-val' }, String(value));
    input.addEventListener('input', () => (out.textContent = input.value));
    return Object.assign(control(label, el('span', { class: 'play-slider' }, input, out)), { input });
  }

  function base64Of(floats) {
    const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
    let s = '';
    for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return btoa(s);
  }

  /* the data set's facts on the main thread: {info (name, train, test), rows, cols, classes} */
  function pageFacts(engine) {
    return play.dataOn(engine).then(({ info, data }) => ({ info, rows: data.rows, cols: data.cols, classes: data.classes }));
  }

  /* ==== demo 2: two weights of a real model ==== */

  play.panels.twoweights = function (node, engine) {
    node.dataset.state = 'loading';
    const pixelInput = el('input', { type: 'number', name: 'pixel', min: 0, step: 1, value: 365, size: 5 });
    const pixel = control('pixel i', pixelInput, 'row x 28 + column');
    const cls = control('class c', select('class', ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], '0'));
    const lrSlider = logSlider('lr', 1e-2, 1e3, 10);
    lrSlider.text.value = 'auto';
    const lr = control('learning rate (both)', lrSlider.wrap);
    lr.input = lrSlider.text;
    const beta = slider('beta', 'beta (heavy ball)', 0, 0.99, 0.01, 0.9);
    const steps = slider('steps', 'steps', 10, 500, 10, 150);
    const bar = play.trainBar(node, 'Train the model');
    const view = new MapView(360);
    const chart = new Chart(440, 300, { xlabel: 'step', ylabel: 'log10 |coordinate - its optimum|' });
    const summary = el('p', { class: 'play-caption' });
    const goal = el('p', { class: 'play-caption play-ends' });
    const general = el('p', { class: 'play-err', role: 'alert' });
    node.append(el('div', { class: 'play-row' }, pixel.box, cls.box, lr.box, beta.box, steps.box), bar.box, general,
      el('div', { class: 'play-stage' }, view.canvas, el('div', { class: 'play-side' }, chart.canvas, goal, summary, bar.commands)));

    let facts = null, fitFlags = null, fitDone = null, params = null, current = null, start = null, wanted = 0, running = false;
    const FIT = 3, MAP = 2, RUNS = 1; /* what a change asks to redo, most first */

    let lrAuto = true; /* until the learning rate is touched: 1 / the largest eigenvalue, from the module */
    function runSpecs() {
      const l = lrAuto ? 'auto' : lrSlider.text.value.trim();
      return [{ opt: 'gd', lr: l, steps: steps.input.value }, { opt: 'heavyball:beta=' + Number(beta.input.value), lr: l, steps: steps.input.value }];
    }

    function request(what) {
      wanted = Math.max(wanted, what);
      if (!running) go();
    }

    function go() {
      if (!facts || !wanted) return;
      const what = wanted;
      wanted = 0;
      [pixel, cls, lr, beta].forEach((c) => (c.error.textContent = ''));
      general.textContent = '';
      const q = { model: fitModel(), n: facts.info.train, normalize: true, weight: Number(pixelInput.value),
        cls: Number(cls.input.value), cells: what >= MAP ? 72 : 0, runs: runSpecs(), start: what >= MAP ? null : start };
      const job = { task: 'two', q, fit: fitFlags, params: what >= FIT ? null : params };
      running = true;
      bar.start([job], {}, what >= FIT ? 'training the linear model...' : 'computing...').then((out) => {
        running = false;
        const r = out.results && out.results[0];
        if (r) show(r, what);
        if (wanted) go();
      });
    }

    function fitModel() { return 'mlp:' + facts.rows * facts.cols + '-' + facts.classes; }

    function show(r, what) {
      if (r.fit) {
        fitDone = r.fit;
        if (r.fit.status) {
          general.textContent = r.fit.message;
          node.dataset.state = 'error';
          return;
        }
      }
      if (r.params) params = r.params;
      const two = r.two;
      if (two.status) {
        (/weight index|pixel/.test(two.message) ? pixel : /class/.test(two.message) ? cls : { error: general }).error.textContent = two.message;
        node.dataset.state = 'refused';
        return;
      }
      if (what >= MAP || !current) {
        current = two;
        start = two.start;
        const cells = Math.round(Math.sqrt(two.map.length));
        view.setMap(two.map, cells, cells, two.box);
        if (lrAuto) { /* the rate the runs used: 1 / the largest eigenvalue */
          lrSlider.text.value = String(two.runs[0].lr);
          lrSlider.range.value = Math.log10(two.runs[0].lr);
        }
      } else {
        current = Object.assign({}, current, { runs: two.runs, start: two.start });
      }
      draw(current);
    }

    function draw(two) {
      const info = two.info, names = ['gradient descent', 'heavy ball, beta ' + beta.input.value], colors = [GD_COLOR, HB_COLOR];
      const newton = [];
      for (let k = 0; k < two.newton.length / 4; k++) newton.push([two.newton[4 * k], two.newton[4 * k + 1]]);
      const paths = two.runs.map((run, i) => {
        const points = [];
        for (let k = 0; k < run.rows; k++) points.push([run.trace[7 * k + 3], run.trace[7 * k + 4]]);
        return { points, color: colors[i], diverged: run.status !== 0 };
      });
      view.draw(paths.concat([{ points: newton, color: NEWTON_COLOR }]), (g) => {
        const [px, py] = view.toPixel(info[2], info[3]); /* the minimum: a ringed star */
        g.save();
        g.fillStyle = '#ff2020';
        g.strokeStyle = '#fff';
        g.lineWidth = 2;
        g.beginPath();
        for (let k = 0; k < 10; k++) {
          const a = -Math.PI / 2 + k * Math.PI / 5, rr = k % 2 ? 4 : 10;
          g.lineTo(px + rr * Math.cos(a), py + rr * Math.sin(a));
        }
        g.closePath();
        g.fill();
        g.stroke();
        g.restore();
      });
      const series = [];
      two.runs.forEach((run, i) => {
        for (let c = 0; c < 2; c++) {
          const points = [];
          for (let k = 0; k < run.rows; k++) points.push([run.trace[7 * k], run.trace[7 * k + 5 + c]]);
          series.push({ label: names[i] + (c ? ', b' : ', w'), color: colors[i], dash: c ? [6, 4] : [], points });
        }
      });
      chart.draw(series);
      const refused = two.runs.find((run) => run.status === 1); /* OL_EARG: a setting the module refused: next to it */
      if (refused) (/beta/.test(refused.message) ? beta : lr).error.textContent = refused.message;
      const words = two.runs.map((run, i) => {
        if (run.status) return names[i] + ': ' + run.message;
        const last = 7 * (run.rows - 1);
        return `${names[i]}: after ${run.rows - 1} steps 10^${fmt(run.trace[last + 5])} from w*, 10^${fmt(run.trace[last + 6])} from b*`;
      });
      goal.textContent = words.join('; ') + '.';
      summary.textContent = `x0 is w = W[${pixelInput.value}][${cls.input.value}], x1 is b = b[${cls.input.value}]; every other ` +
        `parameter of the trained model is frozen. Newton's method (white) went from the model's own (${fmt(info[0])}, ${fmt(info[1])}) ` +
        `to the minimum (red star) w* = ${fmt(info[2])}, b* = ${fmt(info[3])}, loss ${fmt(info[4])}, in ${info[12]} iterations ` +
        `(gradient ${fmt(info[5])} there). The Hessian there has eigenvalues ${fmt(info[10])} and ${fmt(info[11])} (condition ` +
        `number ${fmt(info[21])}): gradient descent converges for lr below ${fmt(info[20])}, and 1/L = ${fmt(info[19])} is its best ` +
        'single rate on the steep direction.';
      const fit = fitDone || {};
      bar.commands.replaceChildren(el('code', { class: 'play-cmd' }, play.trainCommand(fitFlags, facts.info.name)));
      bar.say(`the model: training loss ${fmt(fit.trainLoss)} after ${fit.rows} steps`);
      node.dataset.version = Number(node.dataset.version || 0) + 1;
      node.dataset.runs = JSON.stringify({
        fit: { flags: fitFlags, status: fit.status, message: fit.message, rows: fit.rows, csv: fit.csv, loss: fit.trainLoss },
        model: fitModel(), n: facts.info.train, normalize: 1, weight: Number(pixelInput.value), cls: Number(cls.input.value),
        params: base64Of(params), info: two.info.map(String), newtonRows: two.newton.length / 4, start: two.start.map(String),
        runs: two.runs.map((run) => ({ opt: run.opt, lr: String(run.lr), steps: run.steps, status: run.status, message: run.message,
          rows: run.rows, csv: run.csv, dist: run.rows ? [run.trace[7 * run.rows - 2], run.trace[7 * run.rows - 1]].map(String) : [] })),
      });
      node.dataset.state = refused ? 'refused' : 'ready';
    }

    view.canvas.addEventListener('click', (e) => { /* a click on the map: the runs start there */
      if (!current) return;
      const rect = view.canvas.getBoundingClientRect();
      start = view.toPoint((e.clientX - rect.left) * view.size / rect.width, (e.clientY - rect.top) * view.size / rect.height);
      request(RUNS);
    });
    pixelInput.addEventListener('change', () => request(MAP));
    cls.input.addEventListener('change', () => request(MAP));
    [beta.input, steps.input].forEach((i) => i.addEventListener('input', () => request(RUNS)));
    lrSlider.text.addEventListener('change', () => { lrAuto = false; request(RUNS); }); /* the slider writes the text */
    bar.train.addEventListener('click', () => request(FIT));

    pageFacts(engine).then((f) => {
      facts = f;
      pixelInput.max = f.rows * f.cols - 1;
      fitFlags = play.trainFlagText({ model: fitModel(), opt: 'sgd', lr: 0.05, batch: 50, epochs: 3, seed: 1, subset: f.info.train,
        'test-subset': f.info.test, normalize: true });
      node.dataset.state = 'ready';
      request(FIT);
    }, (e) => {
      node.dataset.state = 'error';
      bar.say('The data set could not be read: ' + e.message);
      console.error(e);
    });
  };

  /* ==== demo 4, first part: the price of a gradient ==== */

  play.panels.gradcost = function (node, engine) {
    node.dataset.state = 'loading';
    const model = control('model', select('model', ['mlp:784-10', 'mlp:784-64-10', 'mlp:784-100-100-10'], 'mlp:784-64-10'));
    const repeats = control('repeats', select('repeats', ['3', '5', '9'], '5'));
    const bar = play.trainBar(node, 'Measure');
    const chart = new Chart(520, 300, { xlabel: 'examples in the gradient N (log scale)', ylabel: 'milliseconds (log scale)',
      xlog: true, ylog: true, legend: 'left' });
    const summary = el('p', { class: 'play-caption play-ends' });
    node.append(el('div', { class: 'play-row' }, model.box, repeats.box), bar.box,
      el('div', { class: 'play-stage' }, chart.canvas, el('div', { class: 'play-side' }, summary)));
    let facts = null;
    function measure() {
      const ns = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].filter((n) => n <= facts.info.train);
      if (ns[ns.length - 1] !== facts.info.train) ns.push(facts.info.train);
      const spec = model.input.value.replace('784', String(facts.rows * facts.cols)).replace(/-10$/, '-' + facts.classes);
      const got = [];
      summary.textContent = '';
      const drawn = () => {
        chart.draw([{ label: 'forward + backward, median', color: HB_COLOR, dots: true, points: got.map((r) => [r.n, r.ms]) },
          { label: 'fastest and slowest', color: '#8c959f', line: false, dots: true, points: got.flatMap((r) => [[r.n, r.min], [r.n, r.max]]) }]);
      };
      bar.start(ns.map((n) => ({ task: 'gradientCost', q: { model: spec, n, repeats: Number(repeats.input.value), seed: 1 } })), {
        result(i, r) {
          got.push(r);
          drawn();
          bar.say(`N = ${r.n}: ${fmt(r.ms)} ms`);
        },
      }, 'measuring...').then((out) => {
        if (out.error || !got.length) return;
        const first = got[0], last = got[got.length - 1];
        summary.textContent = `${spec}: one gradient over ${last.n} examples took ${fmt(last.ms)} ms, over ${first.n} ` +
          `${first.n === 1 ? 'example' : 'examples'} ${fmt(first.ms)} ms (medians of ${repeats.input.value} timings after a warm-up, ` +
          `each the mean of ${first.passes} passes at N = ${first.n}, ${last.passes} at N = ${last.n}` +
          `${out.stopped ? '; stopped' : ''}). The cost grows with N, but far from in proportion at small N: small mini-batches ` +
          'buy many more steps for the same time.';
        node.dataset.version = Number(node.dataset.version || 0) + 1;
        node.dataset.runs = JSON.stringify({ model: spec, repeats: Number(repeats.input.value), stopped: out.stopped, points: got });
      });
    }
    pageFacts(engine).then((f) => {
      facts = f;
      bar.train.addEventListener('click', measure);
      bar.say('Press Measure: each size is timed in the worker.');
      node.dataset.state = 'ready';
    }, (e) => {
      node.dataset.state = 'error';
      bar.say('The data set could not be read: ' + e.message);
    });
  };

  /* ==== demo 4, second part: the mini-batch race ==== */

  const GOAL_LOSS = 0.5, GOAL_SECONDS = 5, WINDOW = 1000; /* the notebook's goal; smoothing over 1000 examples */

  play.panels.race = function (node, engine) {
    node.dataset.state = 'loading';
    const batches = control('batch sizes', el('input', { type: 'text', name: 'batches', value: '20, 250, 1000', size: 16 }));
    const lrs = control('learning rates', el('input', { type: 'text', name: 'lrs', value: '5e-3, 5e-3, 5e-3', size: 18 }),
      'one, or one per batch size');
    const budget = control('time budget (s)', select('budget', ['2.5', '5', '10'], '5'));
    const bar = play.trainBar(node, 'Race');
    const chart = new Chart(560, 320, { xlabel: 'training wall-clock time (s)', ylabel: 'training loss (mean over the last 1000 examples)' });
    const goal = el('p', { class: 'play-goal' });
    node.append(el('div', { class: 'play-row' }, batches.box, lrs.box, budget.box), bar.box,
      el('div', { class: 'play-stage' }, chart.canvas, el('div', { class: 'play-side' }, goal, bar.commands)));
    const colors = play.ui.COLORS;
    let facts = null;

    function race() {
      [batches, lrs, budget].forEach((c) => (c.error.textContent = ''));
      const bs = batches.input.value.split(',').map((s) => s.trim()).filter(Boolean);
      let ls = lrs.input.value.split(',').map((s) => s.trim()).filter(Boolean);
      if (!bs.length) { batches.error.textContent = 'type one batch size or more, separated by commas'; return; }
      if (ls.length === 1) ls = bs.map(() => ls[0]);
      if (ls.length !== bs.length) {
        lrs.error.textContent = `${ls.length} learning rates for ${bs.length} batch sizes: type one, or one per batch size`;
        return;
      }
      const spec = 'mlp:' + facts.rows * facts.cols + '-64-' + facts.classes, seconds = budget.input.value;
      const runs = bs.map((b, i) => ({ batch: b, lr: ls[i], flags: play.trainFlagText({ model: spec, opt: 'sgd', lr: ls[i],
        batch: b, epochs: 100000, seed: 1, subset: facts.info.train, 'test-subset': facts.info.test, normalize: true,
        'time-budget': seconds }) }));
      bar.commands.replaceChildren(...runs.map((r) => el('code', { class: 'play-cmd' },
        play.trainCommand(r.flags, facts.info.name))));
      const live = runs.map(() => []), done = [];
      const draw = () => {
        const series = runs.map((r, i) => ({ label: 'batch ' + r.batch + ', lr ' + r.lr, color: colors[i % colors.length],
          points: done[i] ? done[i].curve : live[i] }));
        series.push({ label: 'goal: ' + GOAL_SECONDS + ' s', color: '#cf222e', dash: [4, 4], points: [[GOAL_SECONDS, 0], [GOAL_SECONDS, GOAL_LOSS]] });
        chart.draw(series, [{ y: GOAL_LOSS, label: 'goal: loss ' + GOAL_LOSS, color: '#cf222e' }]);
      };
      goal.textContent = '';
      /* no step log text (a race of small batches takes many thousands of steps): the trace is enough */
      bar.start(runs.map((r) => ({ flags: r.flags, csv: false })), {
        every: 150,
        progress(i, p) {
          live[i].push([p.seconds, p.loss]);
          draw();
          bar.say(`batch ${runs[i].batch}: ${fmt(p.seconds)} s, step ${p.step}, mini-batch loss ${fmt(p.loss)}`);
        },
        result(i, r) {
          const entry = { status: r.status, message: r.message, rows: r.rows, seconds: r.seconds, loss: r.trainLoss, curve: [] };
          if (r.rows) {
            const s = play.two.smooth(engine, r.trace, runs[i].batch === 'full' ? facts.info.train : Number(runs[i].batch), WINDOW, GOAL_LOSS);
            /* drawn: about one point a pixel of the chart (the curve is smoothed already), and the last */
            const every = Math.max(1, Math.ceil(r.rows / 1000));
            for (let k = 0; k < r.rows; k += every) entry.curve.push([r.trace[4 * k + 1], s.smooth[k]]);
            if ((r.rows - 1) % every) entry.curve.push([r.trace[4 * r.rows - 3], s.smooth[r.rows - 1]]);
            entry.reached = s.reached;
            entry.last = s.smooth[r.rows - 1];
            entry.lastSeconds = r.trace[4 * r.rows - 3];
          }
          done[i] = entry;
          draw();
        },
      }, 'racing...').then((out) => {
        const words = runs.map((r, i) => {
          const d = done[i];
          if (!d) return `batch ${r.batch}: not run`;
          if (d.status) return `batch ${r.batch}: ${d.message}`;
          const met = d.reached >= 0 && d.reached <= GOAL_SECONDS;
          return `batch ${r.batch}: ${d.rows} steps in ${fmt(d.lastSeconds)} s, loss ${fmt(d.last)} at the end (${fmt(d.loss)} over ` +
            `all ${facts.info.train} training images); ` + (met ? `below ${GOAL_LOSS} at ${fmt(d.reached)} s` :
            d.reached >= 0 ? `below ${GOAL_LOSS} only at ${fmt(d.reached)} s` : `never below ${GOAL_LOSS}`);
        });
        const anyMet = done.some((d) => d && !d.status && d.reached >= 0 && d.reached <= GOAL_SECONDS);
        goal.className = 'play-goal ' + (anyMet ? 'met' : 'missed');
        goal.textContent = `Goal, loss below ${GOAL_LOSS} within ${GOAL_SECONDS} s: ` + words.join('; ') + (out.stopped ? ' (stopped)' : '') + '.';
        node.dataset.version = Number(node.dataset.version || 0) + 1;
        node.dataset.runs = JSON.stringify(runs.map((r, i) => Object.assign({ batch: Number(r.batch), lr: r.lr, flags: r.flags,
          budget: Number(seconds) }, done[i] ? Object.assign({}, done[i], { curve: undefined,
          met: !done[i].status && done[i].reached >= 0 && done[i].reached <= GOAL_SECONDS }) : { missing: true })));
        if (out.error) {
          const m = out.error;
          (/--batch/.test(m) ? batches : /--lr|learning rate/.test(m) ? lrs : budget).error.textContent = m;
        }
        const refused = done.find((d) => d && d.status === 1);
        if (refused) (/--batch/.test(refused.message) ? batches : /--lr|learning rate/.test(refused.message) ? lrs : budget)
          .error.textContent = refused.message;
      });
    }
    pageFacts(engine).then((f) => {
      facts = f;
      bar.train.addEventListener('click', race);
      bar.say('Press Race: the batch sizes train one after another, each for the time budget.');
      node.dataset.state = 'ready';
    }, (e) => {
      node.dataset.state = 'error';
      bar.say('The data set could not be read: ' + e.message);
    });
  };
})(typeof window !== 'undefined' ? window.OptlabPlay : globalThis.OptlabPlay);
