/* dimension.js: panel 3, random search against dimension. On f(x) = 1/2 ||x||^2 in d dimensions
 * from distance 1 (the random-search lab's setting), random search (`random:sigma=S`, one candidate
 * a step) and gradient descent each run as `optlab optimize` in the module; the panel reads off the
 * evaluations random search needed to get f below 1e-3, and gradient descent's steps, and plots them
 * against d for every d tried (data-runs: each d's two runs: flags, status, message, the count). */
'use strict';

(function (play) {
  const { el, control, logSlider, Chart, fmt } = play.ui;
  const EPS = 1e-3, MAX_CSV = 2e5, GD_STEPS = 1000; /* numbers of a trace kept as CSV text (tests); GD's steps */

  /* the first step k with f_k < EPS, or -1 */
  function firstBelow(run) {
    for (let k = 0; k < run.rows; k++) if (run.trace[k * run.width + 2] < EPS) return k;
    return -1;
  }

  play.panels.dimension = function (node, engine) {
    node.dataset.state = 'loading';
    const dInput = el('input', { type: 'number', name: 'd', min: 1, max: 256, step: 1, value: 16 });
    const dSlider = el('input', { type: 'range', name: 'd-slider', min: 0, max: 8, step: 1, value: 4 });
    const d = control('dimension d', el('span', { class: 'play-slider' }, dSlider, dInput));
    d.input = dInput;
    const sigmaSlider = logSlider('sigma', 1e-3, 1, 0.005);
    const sigma = control('sigma (random search)', sigmaSlider.wrap);
    sigma.input = sigmaSlider.text;
    const lrSlider = logSlider('lr', 1e-3, 1.5, 0.1);
    const lr = control('learning rate (gradient descent)', lrSlider.wrap);
    lr.input = lrSlider.text;
    const budget = control('steps at most', el('input', { type: 'text', name: 'budget', value: '10000', size: 7 }));
    const seed = control('seed', el('input', { type: 'text', name: 'seed', value: '1', size: 4 }));
    const sweep = el('button', { type: 'button', name: 'sweep' }, 'Run d = 1, 2, 4, ..., 256');
    const clear = el('button', { type: 'button', name: 'clear' }, 'Clear');
    const chart = new Chart(560, 320, { xlabel: 'dimension d', ylabel: 'evaluations / steps to f < 0.001', xlog: true, ylog: true,
      legend: 'left' });
    chart.canvas.style.maxWidth = '560px';
    const readout = el('p', {});
    const general = el('p', { class: 'play-err', role: 'alert' });
    const commands = el('div', {});
    const details = el('details', {}, el('summary', {}, 'the commands of these two runs'), commands);
    node.append(el('div', { class: 'play-row' }, d.box, sigma.box, lr.box, budget.box, seed.box, sweep, clear), general,
      chart.canvas, readout, details);

    let results = new Map(); /* d -> {random, gd} */
    function runAt(dim) {
      const x0 = new Array(dim).fill(1 / Math.sqrt(dim)); /* ||x0|| = 1: f(x0) = 1/2 */
      const base = { fn: 'quadratic:kappa=1', x0, lr: lr.input.value.trim(), steps: budget.input.value.trim() };
      const rs = Object.assign({ opt: 'random:sigma=' + sigma.input.value.trim(), seed: seed.input.value.trim() }, base);
      const gd = Object.assign({}, base, { opt: 'gd', steps: String(Math.min(GD_STEPS, Number(base.steps) || 0)) });
      for (const [s, c] of [[rs, sigma], [gd, lr]]) {
        const r = engine.check(s);
        if (r.status) {
          (/--steps/.test(r.message) ? budget : /--seed/.test(r.message) ? seed : /--lr|learning rate/.test(r.message) ? lr : c)
            .error.textContent = r.message;
          return null;
        }
      }
      const out = {};
      for (const [name, s] of [['random', rs], ['gd', gd]]) {
        const r = engine.run(s, { columns: 3, csv: Number(s.steps) * (3 + dim) <= MAX_CSV });
        const k = r.status ? -1 : firstBelow(r);
        out[name] = { flags: r.flags, command: r.command, status: r.status, message: r.message, csv: r.csv, steps: r.steps, f: r.f,
          evaluations: r.evaluations, last: r.last, reached: k >= 0,
          count: k < 0 ? null : name === 'random' ? k + 1 : k }; /* one candidate a step, and f(x0) */
      }
      return out;
    }

    function show() {
      const ds = [...results.keys()].sort((a, b) => a - b);
      const series = [
        { label: 'random search: evaluations', color: '#D55E00', dots: true,
          points: ds.filter((k) => results.get(k).random.reached).map((k) => [k, results.get(k).random.count]) },
        { label: 'gradient descent: steps', color: '#0072B2', dots: true,
          points: ds.filter((k) => results.get(k).gd.reached).map((k) => [k, Math.max(1, results.get(k).gd.count)]) },
        { label: 'random search: not within the budget', color: '#E69F00', dots: true, line: false,
          points: ds.filter((k) => !results.get(k).random.reached && !results.get(k).random.status)
            .map((k) => [k, Number(budget.input.value)]) },
      ];
      chart.draw(series, [{ y: Number(budget.input.value), label: 'the step budget', color: '#8c959f' }]);
      const now = results.get(Number(dInput.value));
      if (now) {
        const say = (r, what) => (r.status ? r.message : r.reached ? `${r.count} ${what}` : `not below ${EPS} within ${r.steps} steps`);
        readout.textContent = `d = ${dInput.value}: random search (sigma ${sigma.input.value}) ${say(now.random, 'evaluations')}; ` +
          `gradient descent (lr ${lr.input.value}) ${say(now.gd, 'steps')}.`;
        commands.replaceChildren(...[now.random, now.gd].map((r) => el('code', { class: 'play-cmd' }, r.command + ' --trace run.csv')));
      }
      node.dataset.version = Number(node.dataset.version || 0) + 1;
      node.dataset.runs = JSON.stringify(ds.map((k) => Object.assign({ d: k }, results.get(k))));
    }

    function update(dims) {
      [d, sigma, lr, budget, seed].forEach((c) => (c.error.textContent = ''));
      const dim = Math.round(Number(dInput.value));
      if (!(dim >= 1 && dim <= 256)) {
        d.error.textContent = 'd from 1 to 256';
        node.dataset.state = 'refused';
        return;
      }
      node.dataset.state = 'running';
      const t0 = performance.now();
      for (const k of dims || [dim]) {
        const r = runAt(k);
        if (!r) {
          node.dataset.state = 'refused';
          return;
        }
        results.set(k, r);
      }
      node.dataset.runMs = (performance.now() - t0).toFixed(1);
      show();
      node.dataset.state = 'ready';
    }
    /* settings other than d start a new chart: its points must share sigma, lr and the budget */
    node.addEventListener('change', (e) => {
      if (e.target === dSlider) dInput.value = String(Math.pow(2, Number(dSlider.value)));
      else if (e.target === dInput) dSlider.value = String(Math.round(Math.log2(Math.max(1, Number(dInput.value)))));
      else if (e.target.type !== 'button') results = new Map();
      update();
    });
    sweep.addEventListener('click', () => update([1, 2, 4, 8, 16, 32, 64, 128, 256]));
    clear.addEventListener('click', () => { results = new Map(); show(); });
    update([1, 4, 16]);
  };
})(OptlabPlay);
