/* schedules.js: panel 4, schedules, clipping and the bold driver. A schedule (a preset writes its
 * spec, which can be edited), warm-up and clipping; the learning rate it gives at each step (the
 * trace's lr column) and its effect on a run of the explorer's function, against the same run at a
 * constant rate: both paths on the map, f per step. Both are runs of `optlab optimize` in the module
 * (data-runs: flags, status, message, trace CSV, as the explorer's). */
'use strict';

(function (play) {
  const { el, control, select, logSlider, MapView, Chart, fmt } = play.ui;
  const PRESETS = {
    bold: 'bold', 'bold (window 5, tol 0.1)': 'bold:window=5,tol=0.1', step: 'step:step_size=50,gamma=0.5',
    exponential: 'exponential:gamma=0.995', cosine: 'cosine:t_max=500', 'cosine-restarts': 'cosine-restarts:t_0=40,t_mult=2',
    cyclic: 'cyclic:max_lr=0.002,step_size_up=25', onecycle: 'onecycle:total_steps=500', 'inverse (alpha/(c+t))': 'inverse:c=20',
    'inverse-sqrt': 'inverse-sqrt:c=1', plateau: 'plateau:patience=5,factor=0.5', poly: 'poly:total_iters=500,power=2',
  };
  const FN_BOX = { rastrigin: [-5.12, 5.12, -5.12, 5.12], himmelblau: [-5, 5, -5, 5], rosenbrock: [-2, 2, -1, 3] };
  const BASE_COLOR = '#8c959f', SCHED_COLOR = '#D55E00';

  play.panels.schedules = function (node, engine) {
    node.dataset.state = 'loading';
    const fn = control('function (--fn)', select('fn', Object.keys(FN_BOX), 'rosenbrock'));
    const opt = control('optimizer (--opt)', el('input', { type: 'text', name: 'opt', value: 'gd', size: 16 }));
    const lrSlider = logSlider('lr', 1e-4, 1, 0.0005);
    const lr = control('learning rate (--lr)', lrSlider.wrap);
    lr.input = lrSlider.text;
    const steps = control('steps', el('input', { type: 'text', name: 'steps', value: '500', size: 5 }));
    const x0 = control('start (--x0)', el('input', { type: 'text', name: 'x0', value: '-1.2,1', size: 12 }));
    const preset = control('schedule', select('preset', Object.keys(PRESETS), 'bold'));
    const schedule = control('spec (--schedule)', el('input', { type: 'text', name: 'schedule', value: 'bold', size: 26 }));
    const warmup = control('warm-up', el('input', { type: 'text', name: 'warmup', value: '0', size: 4 }));
    const clipNorm = control('clip-norm', el('input', { type: 'text', name: 'clip-norm', value: '0', size: 5 }));
    const clipValue = control('clip-value', el('input', { type: 'text', name: 'clip-value', value: '0', size: 5 }));
    const controls = [fn, opt, lr, steps, x0, schedule, warmup, clipNorm, clipValue];
    const view = new MapView(300);
    const lrChart = new Chart(440, 220, { xlabel: 'step', ylabel: 'learning rate', ylog: true });
    const fChart = new Chart(440, 220, { xlabel: 'step', ylabel: 'f' }); /* log scale when f > 0 throughout */
    const readout = el('ul', { class: 'play-runs' });
    node.append(el('div', { class: 'play-row' }, fn.box, opt.box, lr.box, steps.box, x0.box),
      el('div', { class: 'play-row' }, preset.box, schedule.box, warmup.box, clipNorm.box, clipValue.box),
      el('div', { class: 'play-stage' }, view.canvas, el('div', { class: 'play-side' }, lrChart.canvas, fChart.canvas)), readout);

    let mapFn = null, lastChanged = null;
    const optional = (c) => (c.input.value.trim() === '0' ? undefined : c.input.value.trim());
    function update() {
      controls.forEach((c) => (c.error.textContent = ''));
      const base = { fn: fn.input.value, x0: x0.input.value.trim(), opt: opt.input.value.trim(), lr: lr.input.value.trim(),
        steps: steps.input.value.trim() };
      const scheduled = Object.assign({ schedule: schedule.input.value.trim(), warmup: optional(warmup),
        'clip-norm': optional(clipNorm), 'clip-value': optional(clipValue) }, base);
      /* each setting alone on the constant run, then all: a refusal goes next to its control */
      const alone = [[x0, { x0: base.x0 }], [opt, { opt: base.opt }], [lr, { lr: base.lr }], [steps, { steps: base.steps }],
        [schedule, { schedule: scheduled.schedule }], [warmup, { warmup: scheduled.warmup }],
        [clipNorm, { 'clip-norm': scheduled['clip-norm'] }], [clipValue, { 'clip-value': scheduled['clip-value'] }]];
      const probe = { fn: base.fn, x0: '0,0', opt: 'gd', lr: '0.01', steps: '0' };
      let bad = false;
      for (const [c, part] of alone) {
        const r = engine.check(Object.assign({}, probe, part));
        if (r.status) c.error.textContent = r.message, bad = true;
      }
      const whole = bad ? null : engine.check(scheduled);
      if (whole && whole.status) (lastChanged || schedule).error.textContent = whole.message, bad = true;
      if (bad) {
        node.dataset.state = 'refused';
        return;
      }
      const box = FN_BOX[base.fn];
      if (mapFn !== base.fn) view.setMap(engine.map(base.fn, box[0], box[1], box[2], box[3], 160, 160), 160, 160, box), mapFn = base.fn;
      const runs = [engine.run(base), engine.run(scheduled)];
      const labels = ['constant lr ' + base.lr, scheduled.schedule || 'constant'];
      runs.forEach((r, i) => {
        r.label = labels[i];
        r.color = i ? SCHED_COLOR : BASE_COLOR;
        r.points = [];
        for (let k = 0; k < r.rows; k++) r.points.push([r.trace[k * r.width + 3], r.trace[k * r.width + 4]]);
      });
      const column = (r, c) => Array.from({ length: r.rows }, (_, k) => [k, r.trace[k * r.width + c]]);
      view.draw(runs.map((r) => ({ points: r.points, color: r.color, diverged: r.status !== 0 })));
      lrChart.draw(runs.map((r) => ({ label: r.label, color: r.color, points: column(r, 1) })));
      fChart.opts.ylog = runs.every((r) => column(r, 2).every(([, f]) => f > 0));
      fChart.draw(runs.map((r) => ({ label: r.label, color: r.color, points: column(r, 2) })));
      readout.replaceChildren(...runs.map((r) => el('li', {}, el('span', { class: 'play-swatch', style: 'background:' + r.color }),
        ' ', el('strong', {}, r.label), ': ', r.status ? el('span', { class: 'play-err' }, r.message)
          : `${r.steps} steps, f = ${fmt(r.f)}, last lr ${fmt(r.trace[(r.rows - 1) * r.width + 1])}`,
        el('code', { class: 'play-cmd' }, r.command + ' --trace run.csv'))));
      node.dataset.version = Number(node.dataset.version || 0) + 1;
      node.dataset.runs = JSON.stringify(runs.map((r) => ({ label: r.label, flags: r.flags, command: r.command, status: r.status,
        message: r.message, steps: r.steps, f: r.f, csv: r.csv })));
      node.dataset.state = 'ready';
    }
    preset.input.addEventListener('change', () => { schedule.input.value = PRESETS[preset.input.value]; });
    node.addEventListener('change', (e) => {
      const owner = controls.find((c) => c.box.contains(e.target));
      lastChanged = owner ? owner.error : null;
      update();
    });
    update();
  };
})(OptlabPlay);
