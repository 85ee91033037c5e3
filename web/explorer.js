/* explorer.js: panel 1, the landscape explorer (the lecture's interactive break). The map of f is
 * computed by the module (ol_play_map); a click runs `optlab optimize` there (ol_play_run) with the
 * panel's settings, one optimizer or two from the same start; each run is drawn, read out, and kept
 * in the panel's data-runs attribute (JSON: flags, command, status, message, steps, f, trace CSV...)
 * for the tests. A setting the command refuses shows its message next to the control. */
'use strict';

(function (play) {
  const { el, control, select, logSlider, MapView, COLORS, fmt } = play.ui;

  const ST_LO = -2.903534, ST_HI = 2.746803; /* styblinski-tang's two minima per coordinate */
  /* each function's box on the map, its minima ([x, y, what]) or a rule for them */
  const FUNCTIONS = {
    rastrigin: { box: [-5.12, 5.12, -5.12, 5.12], lr: 0.001 },
    himmelblau: { box: [-5, 5, -5, 5], lr: 0.01, minima: [[3, 2], [-2.805118, 3.131312], [-3.77931, -3.283186],
      [3.584428, -1.848126]].map(([x, y]) => [x, y, 'one of its four global minima']) },
    'styblinski-tang': { box: [-5, 5, -5, 5], lr: 0.01, minima: [[ST_LO, ST_LO, 'the global minimum'],
      [ST_LO, ST_HI, 'a local minimum'], [ST_HI, ST_LO, 'a local minimum'], [ST_HI, ST_HI, 'the shallowest local minimum']] },
    rosenbrock: { box: [-2, 2, -1, 3], lr: 0.001, minima: [[1, 1, 'the global minimum']] },
    quadratic: { box: [-2, 2, -2, 2], lr: 0.05, minima: [[0, 0, 'the global minimum']] },
  };
  /* each optimizer's second knob: its spec key and range (the "beta/momentum" slider) */
  const KNOBS = {
    gd: null, sgd: ['momentum', 0, 0.99, 0.9], heavyball: ['beta', 0, 0.99, 0.9], adagrad: null,
    rmsprop: ['alpha', 0, 0.999, 0.99], adam: ['beta1', 0, 0.99, 0.9], adamw: ['beta1', 0, 0.99, 0.9],
    nadam: ['beta1', 0, 0.99, 0.9], radam: ['beta1', 0, 0.99, 0.9], random: ['sigma', 0.01, 2, 0.3],
    adadelta: ['rho', 0, 0.99, 0.9], adamax: ['beta1', 0, 0.99, 0.9], asgd: null, rprop: null, lbfgs: null,
    lion: ['beta1', 0, 0.99, 0.9], 'sf-sgd': ['momentum', 0, 0.99, 0.9], 'sf-adamw': ['beta1', 0, 0.99, 0.9],
    lamb: ['beta1', 0, 0.99, 0.9], lars: ['momentum', 0, 0.99, 0.9], adafactor: null, muon: ['momentum', 0, 0.99, 0.95],
  };
  const SCHEDULES = {
    constant: () => '', step: () => 'step:step_size=50,gamma=0.5', exponential: () => 'exponential:gamma=0.99',
    cosine: (s) => 'cosine:t_max=' + s, 'cosine-restarts': () => 'cosine-restarts:t_0=50',
    cyclic: (s, lr) => 'cyclic:max_lr=' + Number((lr * 10).toPrecision(3)) + ',step_size_up=25',
    onecycle: (s) => 'onecycle:total_steps=' + s, linear: () => 'linear:start_factor=0.1,total_iters=50',
    poly: (s) => 'poly:total_iters=' + s + ',power=2', inverse: () => 'inverse:c=10', 'inverse-sqrt': () => 'inverse-sqrt:c=1',
    plateau: () => 'plateau:patience=10,factor=0.5', bold: () => 'bold',
    'constant-factor': () => 'constant-factor:factor=0.5,total_iters=50', multiplicative: () => 'multiplicative:factor=0.99',
    sequential: (s) => 'sequential:schedules=[linear:start_factor=0.1,total_iters=20]/[cosine:t_max=' + Math.max(1, s - 20) +
      '],milestones=20',
    chain: () => 'chain:schedules=[exponential:gamma=0.995]/[step:step_size=50,gamma=0.5]',
  };
  const MAX_RUNS = 8, GRID = 200, SIZE = 440;

  /* where a run ended, in words: the minimum it is at, or that it is not at one */
  function whichMinimum(fn, x, y, f) {
    if (fn === 'rastrigin') {
      const i = Math.round(x), j = Math.round(y);
      if (Math.hypot(x - 0.995 * i, y - 0.995 * j) < 0.15)
        return i === 0 && j === 0 ? 'the global minimum (0, 0)' : `the local minimum near (${i}, ${j})`;
    } else {
      for (const [mx, my, what] of FUNCTIONS[fn].minima)
        if (Math.hypot(x - mx, y - my) < 0.15 * Math.max(1, Math.hypot(mx, my) / 3))
          return `${what} (${fmt(mx)}, ${fmt(my)})`;
    }
    return `no minimum yet (f = ${fmt(f)} there)`;
  }

  function optimizerRow(name, kind, lr) {
    const r = {};
    r.kind = control('optimizer ' + name, select('opt-kind-' + name, Object.keys(KNOBS), kind));
    r.knobInput = el('input', { type: 'range', name: 'knob-' + name, min: 0, max: 0.99, step: 0.01, value: 0.9 });
    r.knobText = el('output', { class: 'play-val' });
    r.knob = control('momentum', el('span', { class: 'play-slider' }, r.knobInput, r.knobText));
    r.spec = control('spec (--opt)', el('input', { type: 'text', name: 'opt-' + name, size: 26 }));
    r.lrSlider = logSlider('lr-' + name, 1e-4, 3, lr);
    r.lr = control('learning rate (--lr)', r.lrSlider.wrap);
    r.lr.input = r.lrSlider.text;
    r.row = el('div', { class: 'play-row' }, r.kind.box, r.knob.box, r.spec.box, r.lr.box);
    /* the select and the knob write the spec; the spec can be edited freely */
    const writeSpec = () => {
      const k = KNOBS[r.kind.input.value];
      r.knob.box.hidden = !k;
      if (k) {
        r.knob.box.querySelector('.play-lab').textContent = k[0];
        r.knobText.textContent = r.knobInput.value;
      }
      r.spec.input.value = r.kind.input.value + (k ? ':' + k[0] + '=' + Number(r.knobInput.value) : '');
    };
    r.kind.input.addEventListener('change', () => {
      const k = KNOBS[r.kind.input.value];
      if (k) Object.assign(r.knobInput, { min: k[1], max: k[2], step: 0.01 }), r.knobInput.value = k[3];
      writeSpec();
    });
    r.knobInput.addEventListener('input', () => { writeSpec(); r.spec.input.dispatchEvent(new Event('change', { bubbles: true })); });
    r.kind.input.dispatchEvent(new Event('change'));
    return r;
  }

  play.panels.explorer = function (node, engine) {
    node.dataset.state = 'loading';
    const ui = {};
    ui.fn = control('function (--fn)', select('fn', Object.keys(FUNCTIONS), 'rastrigin'));
    ui.kappa = control('kappa', el('input', { type: 'text', name: 'kappa', value: '10', size: 5 }));
    ui.steps = control('steps', el('input', { type: 'number', name: 'steps', value: 200, min: 0, max: 100000, step: 1 }));
    ui.schedKind = control('schedule', select('schedule-kind', Object.keys(SCHEDULES), 'constant'));
    ui.schedule = control('spec (--schedule)', el('input', { type: 'text', name: 'schedule', size: 24 }));
    ui.warmup = control('warm-up', el('input', { type: 'text', name: 'warmup', value: '0', size: 5 }));
    ui.clipNorm = control('clip-norm', el('input', { type: 'text', name: 'clip-norm', value: '0', size: 5 }));
    ui.clipValue = control('clip-value', el('input', { type: 'text', name: 'clip-value', value: '0', size: 5 }));
    ui.seed = control('seed', el('input', { type: 'text', name: 'seed', value: '0', size: 5 }));
    ui.start = control('start (--x0)', el('input', { type: 'text', name: 'x0', value: '2.2,-1.3', size: 14 }));
    ui.runButton = el('button', { type: 'button', name: 'run' }, 'Run from the start');
    ui.clear = el('button', { type: 'button', name: 'clear' }, 'Clear runs');
    ui.two = el('input', { type: 'checkbox', name: 'two' });
    const A = optimizerRow('A', 'gd', FUNCTIONS.rastrigin.lr), B = optimizerRow('B', 'heavyball', FUNCTIONS.rastrigin.lr);
    B.row.hidden = true;
    const view = new MapView(SIZE);
    view.canvas.setAttribute('aria-label', 'the map of f; click to start a run there');
    const hover = el('p', { class: 'play-hover' }, '\u00a0');
    const general = el('p', { class: 'play-err', role: 'alert' });
    const readout = el('ol', { class: 'play-runs' });
    node.append(
      el('div', { class: 'play-row' }, ui.fn.box, ui.kappa.box, ui.steps.box, ui.start.box, ui.runButton, ui.clear),
      A.row,
      el('div', { class: 'play-row' }, el('label', { class: 'play-ctl play-check' }, ui.two, ' same start, two optimizers')),
      B.row,
      el('div', { class: 'play-row' }, ui.schedKind.box, ui.schedule.box, ui.warmup.box, ui.clipNorm.box, ui.clipValue.box,
        ui.seed.box),
      el('div', { class: 'play-stage' }, view.canvas, el('div', { class: 'play-side' }, hover, general, readout)));

    let runs = [], nextColor = 0, lastChanged = null;

    const fnSpec = () => (ui.fn.input.value === 'quadratic' ? 'quadratic:kappa=' + ui.kappa.input.value.trim() : ui.fn.input.value);
    /* the command's flags; the optional ones left out at their defaults (as one would type them) */
    const optional = (c) => (c.input.value.trim() === '0' ? undefined : c.input.value.trim());
    const settingsFor = (row, x0) => ({
      fn: fnSpec(), x0, opt: row.spec.input.value.trim(), lr: row.lr.input.value.trim(), steps: ui.steps.input.value.trim(),
      schedule: ui.schedule.input.value.trim(), warmup: optional(ui.warmup), 'clip-norm': optional(ui.clipNorm),
      'clip-value': optional(ui.clipValue), seed: optional(ui.seed),
    });

    /* Each control's setting, tried alone on known-good ones (ol_play_check: nothing runs): a
     * refusal is that control's message; then the whole set, whose refusal goes to the control
     * changed last. */
    function validate() {
      const all = [ui.fn, ui.kappa, ui.steps, ui.schedule, ui.warmup, ui.clipNorm, ui.clipValue, ui.seed, ui.start,
        A.spec, A.lr, B.spec, B.lr];
      all.forEach((c) => (c.error.textContent = ''));
      general.textContent = '';
      const base = { fn: fnSpec(), x0: '0,0', opt: 'gd', lr: '0.01', steps: '0' };
      const fnCheck = engine.check(base);
      if (fnCheck.status) {
        (ui.fn.input.value === 'quadratic' ? ui.kappa : ui.fn).error.textContent = fnCheck.message;
        return false;
      }
      const alone = [[ui.steps, { steps: ui.steps.input.value.trim() }],
        [ui.schedule, { schedule: ui.schedule.input.value.trim() }], [ui.warmup, { warmup: ui.warmup.input.value.trim() }],
        [ui.clipNorm, { 'clip-norm': ui.clipNorm.input.value.trim() }], [ui.clipValue, { 'clip-value': ui.clipValue.input.value.trim() }],
        [ui.seed, { seed: ui.seed.input.value.trim() }], [ui.start, { x0: ui.start.input.value.trim() }],
        [A.spec, { opt: A.spec.input.value.trim() }], [A.lr, { lr: A.lr.input.value.trim() }]];
      if (ui.two.checked) alone.push([B.spec, { opt: B.spec.input.value.trim() }], [B.lr, { lr: B.lr.input.value.trim() }]);
      let ok = true;
      for (const [c, part] of alone) {
        const r = engine.check(Object.assign({}, base, part));
        if (r.status) c.error.textContent = r.message, ok = false;
      }
      if (!ok) return false;
      for (const row of ui.two.checked ? [A, B] : [A]) {
        const r = engine.check(settingsFor(row, ui.start.input.value.trim()));
        if (r.status) {
          (lastChanged || general).textContent = r.message;
          return false;
        }
      }
      return true;
    }

    function redraw() {
      view.draw(runs.map((r) => ({ points: r.points, color: r.color, diverged: r.outcome === 2 })));
    }

    function publish() {
      node.dataset.version = Number(node.dataset.version || 0) + 1;
      node.dataset.runs = JSON.stringify(runs.map((r) => ({
        label: r.label, flags: r.flags, command: r.command, status: r.status, message: r.message, outcome: r.outcome,
        steps: r.steps, f: r.f, evaluations: r.evaluations, csv: r.csv, start: r.points[0] || null,
        end: r.points[r.points.length - 1] || null, minimum: r.minimum, color: r.color,
      })));
    }

    function describe(r) {
      const item = el('li', {}, el('span', { class: 'play-swatch', style: 'background:' + r.color }), ' ',
        el('strong', {}, r.label), ': ');
      if (r.status && r.outcome !== 2) {
        item.append(el('span', { class: 'play-err' }, r.message));
      } else if (r.status) {
        const last = r.points[r.points.length - 1];
        item.append(`diverged after (${fmt(last[0])}, ${fmt(last[1])}): `, el('span', { class: 'play-err' }, r.message));
      } else {
        item.append(`${r.steps} steps, f = ${fmt(r.f)}` + (r.evaluations ? ` (${r.evaluations} evaluations of f)` : '') +
          `; ends at ${r.minimum}`);
      }
      item.append(el('code', { class: 'play-cmd' }, r.command + ' --trace run.csv'));
      return item;
    }

    /* runs from x0 (an array of two numbers): A, and B in two-optimizer mode */
    function runFrom(x0) {
      if (!validate()) {
        node.dataset.state = 'refused';
        return;
      }
      const t0 = performance.now();
      for (const row of ui.two.checked ? [A, B] : [A]) {
        const r = engine.run(settingsFor(row, x0));
        r.color = COLORS[nextColor++ % COLORS.length];
        r.label = `${row.spec.input.value.trim()}, lr ${row.lr.input.value.trim()}`;
        r.points = [];
        for (let k = 0; k < r.rows; k++) r.points.push([r.trace[k * r.width + 3], r.trace[k * r.width + 4]]);
        const last = r.points[r.points.length - 1];
        r.minimum = !r.status && last ? whichMinimum(ui.fn.input.value, last[0], last[1], r.f) : null;
        delete r.trace;
        runs.push(r);
      }
      runs = runs.slice(-MAX_RUNS);
      redraw();
      readout.replaceChildren(...runs.map(describe).reverse());
      publish();
      node.dataset.runMs = (performance.now() - t0).toFixed(2);
      node.dataset.state = 'ready';
    }

    function newMap() {
      const fn = ui.fn.input.value, box = FUNCTIONS[fn].box;
      ui.kappa.box.hidden = fn !== 'quadratic';
      validate();
      const t0 = performance.now();
      let values;
      try {
        values = engine.map(fnSpec(), box[0], box[1], box[2], box[3], GRID, GRID);
      } catch (e) {
        return; /* the function's message is next to it (validate) */
      }
      view.setMap(values, GRID, GRID, box);
      runs = [];
      readout.replaceChildren();
      redraw();
      publish();
      node.dataset.mapMs = (performance.now() - t0).toFixed(2);
    }

    node.addEventListener('change', (e) => {
      const owner = [ui.fn, ui.kappa, ui.steps, ui.schedule, ui.warmup, ui.clipNorm, ui.clipValue, ui.seed, ui.start,
        A.spec, A.lr, B.spec, B.lr, A.kind, B.kind].find((c) => c.box.contains(e.target));
      lastChanged = owner ? owner.error : null;
      if (e.target === ui.fn.input || e.target === ui.kappa.input) {
        const lr = FUNCTIONS[ui.fn.input.value].lr;
        for (const row of [A, B]) row.lr.input.value = String(lr), row.lr.input.dispatchEvent(new Event('change'));
        newMap();
      } else {
        validate();
      }
    });
    ui.schedKind.input.addEventListener('change', () => {
      ui.schedule.input.value = SCHEDULES[ui.schedKind.input.value](ui.steps.input.value.trim(), Number(A.lr.input.value));
    });
    ui.two.addEventListener('change', () => { B.row.hidden = !ui.two.checked; });
    ui.clear.addEventListener('click', () => {
      runs = [];
      readout.replaceChildren();
      redraw();
      publish();
    });
    ui.runButton.addEventListener('click', () => {
      const x0 = ui.start.input.value.trim().split(',').map(Number);
      runFrom(x0.length === 2 && x0.every(isFinite) ? x0 : ui.start.input.value.trim());
    });
    view.canvas.addEventListener('click', (e) => {
      const rect = view.canvas.getBoundingClientRect();
      const [x, y] = view.toPoint((e.clientX - rect.left) / rect.width * SIZE, (e.clientY - rect.top) / rect.height * SIZE);
      const x0 = [Number(x.toPrecision(4)), Number(y.toPrecision(4))];
      ui.start.input.value = x0.join(',');
      runFrom(x0);
    });
    view.canvas.addEventListener('mousemove', (e) => {
      const rect = view.canvas.getBoundingClientRect();
      const [x, y] = view.toPoint((e.clientX - rect.left) / rect.width * SIZE, (e.clientY - rect.top) / rect.height * SIZE);
      hover.textContent = `(${fmt(x)}, ${fmt(y)}): f = ${fmt(view.fAt(x, y))}`;
    });
    newMap();
    runFrom(ui.start.input.value.trim().split(',').map(Number)); /* one run to begin with */
  };
})(OptlabPlay);
