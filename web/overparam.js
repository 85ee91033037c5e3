/* overparam.js: demo 3 of issue 18, "Overparametrization to the rescue" (the notebook's Demo 5):
 * a network of the chosen hidden layers trained by full-batch gradient descent on the first 500
 * training images from several initializations (one base model perturbed by N(0, 0.2^2), or
 * independent draws); one loss curve per initialization, the spread of the final losses, the
 * parameter count, and the train and test accuracy after training; each width trained joins a
 * table, to compare. Every number is a run of `optlab train` in the module (data-runs). */
'use strict';

(function (play) {
  const { el, control, select, logSlider, Chart, COLORS, fmt } = play.ui;
  const WIDTHS = ['2', '10', '20-20', '100-100', '512'], SUBSET = 500, PERTURB = 0.2, BASE_SEED = 1;

  play.panels.overparam = function (node, engine) {
    node.dataset.state = 'loading';
    const hidden = control('hidden layers', select('hidden', WIDTHS, '10'));
    const inits = control('initializations', select('inits', ['5', '6', '7', '8', '9', '10'], '5'));
    const draw = control('initial models', select('draw', ['perturbed', 'independent'], 'perturbed'),
      'perturbed: one base model + N(0, 0.2²)');
    const lrSlider = logSlider('lr', 1e-3, 1, 0.1);
    const lr = control('learning rate', lrSlider.wrap);
    const stepsInput = el('input', { type: 'range', name: 'steps', min: 10, max: 500, step: 10, value: 100 });
    const stepsOut = el('output', { class: 'play-val' }, '100');
    const steps = control('GD steps', el('span', { class: 'play-slider' }, stepsInput, stepsOut));
    const bar = play.trainBar(node, 'Train');
    const chart = new Chart(440, 290, { xlabel: 'gradient descent step', ylabel: 'training loss (500 images)', ylog: true });
    chart.draw([]); /* the axes now: a canvas's first text costs tens of ms, better not during a run */
    const summary = el('p', { class: 'play-result' });
    const table = el('tbody', {});
    node.append(el('div', { class: 'play-row' }, hidden.box, inits.box, draw.box, lr.box, steps.box), bar.box,
      el('div', { class: 'play-stage' }, chart.canvas, el('div', { class: 'play-side' }, summary)),
      el('p', { class: 'play-caption' }, 'Each width trained here (over the initializations of its run: the range)'),
      el('div', { class: 'table-wrap' }, el('table', { class: 'data play-table' },
        el('thead', {}, el('tr', {}, ['hidden layers', 'parameters', 'final training loss', 'spread', 'train accuracy',
          'test accuracy'].map((h, j) => el('th', { scope: 'col', class: j ? 'num' : null }, h)))), table)),
      bar.commands);
    stepsInput.addEventListener('input', () => (stepsOut.textContent = stepsInput.value));
    const history = []; /* one row per finished training: its width and numbers */

    play.dataOn(engine).then(({ info, data }) => {
      const n = Math.min(SUBSET, info.train), inputs = data.rows * data.cols;
      function train() {
        const widths = hidden.input.value, k = Number(inits.input.value), perturbed = draw.input.value === 'perturbed';
        const runs = [];
        for (let s = 1; s <= k; s++)
          runs.push({ flags: play.trainFlagText({ model: 'mlp:' + inputs + '-' + widths + '-' + data.classes, opt: 'sgd',
            lr: lrSlider.text.value.trim(), batch: 'full', epochs: stepsInput.value, seed: s,
            'init-seed': perturbed ? BASE_SEED : null, perturb: perturbed ? PERTURB : null,
            subset: n, 'test-subset': info.test, normalize: true }) });
        runs.forEach((r) => (r.command = play.trainCommandLine(r.flags, info.name)));
        bar.commands.replaceChildren(...runs.map((r) => el('code', { class: 'play-cmd' }, r.command)));
        const curves = runs.map(() => []);
        const series = () => curves.map((points, i) => ({ points, color: COLORS[i % COLORS.length],
          label: i < 8 ? 'init ' + (i + 1) : null }));
        summary.textContent = '';
        bar.start(runs.map((r) => ({ flags: r.flags })), {
          every: 250,
          progress(i, p) {
            curves[i].push(...p.points);
            chart.draw(series());
            bar.say(`initialization ${i + 1} of ${k}: step ${p.step}, loss ${fmt(p.loss)}`);
          },
          result(i, r) {
            curves[i] = [];
            for (let j = 0; j < r.rows; j++) curves[i].push([r.trace[4 * j], r.trace[4 * j + 3]]);
            chart.draw(series());
          },
        }, `training ${k} initializations of hidden layers ${widths}...`).then((out) => {
          const done = out.results.filter(Boolean);
          if (!done.length) return;
          const ok = done.filter((r) => !r.status), finals = ok.map((r) => r.trainLoss);
          const lo = Math.min(...finals), hi = Math.max(...finals);
          const acc = (w) => ok.map((r) => (w ? r.testAcc : r.trainAcc));
          const range = (v) => (v.length ? fmt(100 * Math.min(...v)) + (v.length > 1 ? '-' + fmt(100 * Math.max(...v)) : '') + '%' : '-');
          const failed = done.filter((r) => r.status);
          summary.className = 'play-result' + (failed.length ? ' missed' : '');
          summary.textContent = (ok.length ? `Hidden layers ${widths} (${done[0].nParams} parameters), ${ok.length} ` +
            `initializations: final training loss ${fmt(lo)} to ${fmt(hi)} (spread ${fmt(hi - lo)}); accuracy ` +
            `${range(acc(0))} on the ${n} training images, ${range(acc(1))} on the ${info.test} test images.` : '') +
            (failed.length ? ` ${failed.length} run${failed.length > 1 ? 's' : ''} failed: ${failed[0].message}` : '') +
            (out.stopped ? ' (stopped before the last initialization)' : '');
          if (!out.stopped && ok.length) {
            history.push([widths, String(done[0].nParams), fmt(lo) + ' - ' + fmt(hi), fmt(hi - lo), range(acc(0)), range(acc(1))]);
            table.replaceChildren(...history.map((row) => el('tr', {}, row.map((c, j) => el('td', { class: j ? 'num' : '' }, c)))));
          }
          if (!out.stopped) bar.say(`done: ${done.length} initializations.`);
          node.dataset.version = Number(node.dataset.version || 0) + 1;
          node.dataset.runs = JSON.stringify(done.map((r, i) => ({ flags: runs[i].flags, command: runs[i].command, status: r.status,
            message: r.message, rows: r.rows, csv: r.csv, trainLoss: r.trainLoss, trainAcc: r.trainAcc, testLoss: r.testLoss,
            testAcc: r.testAcc, nParams: r.nParams })));
          node.dataset.summary = JSON.stringify({ hidden: widths, stopped: out.stopped, spread: ok.length ? hi - lo : null,
            nParams: done[0].nParams, rows: history.length });
        });
      }
      bar.train.addEventListener('click', train);
      node.dataset.state = 'ready';
      bar.say('Choose the hidden layers and press Train.');
    }, (e) => {
      node.dataset.state = 'error';
      bar.say('The data set could not be read: ' + e.message);
      console.error(e);
    });
  };
})(OptlabPlay);
