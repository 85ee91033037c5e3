/* optimizers.js: demo 5 of issue 18, "Compare optimizers" (the notebook's Demo 7): SGD, momentum
 * (beta 0.9), RMSprop in the lecture's form (alpha 0.8, eps inside the square root) and Adam train
 * the same network from the same initialization on the same mini-batches (one seed), at the batch
 * size, learning rate and steps chosen; their loss curves side by side; and a robustness strip:
 * each optimizer's final training loss over a grid of learning rates. Every number is a run of
 * `optlab train` in the module (data-runs, data-strip). */
'use strict';

(function (play) {
  const { el, control, select, logSlider, Chart, fmt, viridis } = play.ui;
  const OPTS = [['SGD', 'sgd', '#E69F00'], ['momentum 0.9', 'sgd:momentum=0.9', '#56B4E9'],
    ['RMSprop (lecture)', 'rmsprop:alpha=0.8,eps_inside=1', '#009E73'], ['Adam', 'adam', '#CC79A7']];
  const STRIP_LRS = ['1e-05', '0.0001', '0.001', '0.01', '0.1', '1'];

  play.panels.optimizers = function (node, engine) {
    node.dataset.state = 'loading';
    const hidden = control('hidden layers', select('hidden', ['32', '100', '100-100'], '100'));
    const batchInput = el('input', { type: 'range', name: 'batch', min: 25, max: 250, step: 25, value: 100 });
    const batchOut = el('output', { class: 'play-val' }, '100');
    const batch = control('batch size', el('span', { class: 'play-slider' }, batchInput, batchOut));
    const lrSlider = logSlider('lr', 1e-5, 1, 0.01);
    const lr = control('learning rate (all four)', lrSlider.wrap);
    const stepsInput = el('input', { type: 'range', name: 'steps', min: 50, max: 500, step: 10, value: 100 });
    const stepsOut = el('output', { class: 'play-val' }, '100');
    const steps = control('steps', el('span', { class: 'play-slider' }, stepsInput, stepsOut), ' ');
    const stepsHint = steps.box.querySelector('.play-hint');
    const bar = play.trainBar(node, 'Train the four');
    const strip = el('button', { type: 'button', name: 'strip' }, 'Robustness strip');
    bar.box.insertBefore(strip, bar.stop);
    const chart = new Chart(440, 290, { xlabel: 'step', ylabel: 'mini-batch loss', ylog: true });
    chart.draw([]); /* the axes now: a canvas's first text costs tens of ms, better not during a run */
    const summary = el('ul', { class: 'play-runs' });
    const stripBody = el('tbody', {});
    const stripCommand = el('div', {});
    node.append(el('div', { class: 'play-row' }, hidden.box, batch.box, lr.box, steps.box), bar.box,
      el('div', { class: 'play-stage' }, chart.canvas, el('div', { class: 'play-side' },
        el('p', { class: 'play-caption' }, 'Final training loss (all 2000 images)'), summary)),
      bar.commands,
      el('p', { class: 'play-caption' }, 'Robustness strip: the final training loss of each optimizer at each learning ' +
        'rate, with the network, batch size and steps above (darker: lower)'),
      el('div', { class: 'table-wrap' }, el('table', { class: 'data play-strip' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'learning rate'),
          STRIP_LRS.map((v) => el('th', { scope: 'col', class: 'num' }, v)))),
        stripBody)),
      stripCommand);

    play.dataOn(engine).then(({ info, data }) => {
      const inputs = data.rows * data.cols;
      /* the steps asked for: the epochs that hold them (ceil(n / batch) steps each), cut by --max-steps */
      function epochsFor() {
        const per = Math.ceil(info.train / Number(batchInput.value));
        return Math.max(1, Math.ceil(Number(stepsInput.value) / per));
      }
      function flagsOf(opt, rate) {
        return play.trainFlagText({ model: 'mlp:' + inputs + '-' + hidden.input.value + '-' + data.classes, opt,
          lr: rate, batch: batchInput.value, epochs: epochsFor(), 'max-steps': stepsInput.value, seed: 1,
          subset: info.train, 'test-subset': info.test, normalize: true });
      }
      function showSettings() {
        batchOut.textContent = batchInput.value;
        stepsOut.textContent = stepsInput.value;
        const per = Math.ceil(info.train / Number(batchInput.value));
        stepsHint.textContent = `${(Number(stepsInput.value) / per).toFixed(1)} epochs of ${per} batches`;
      }
      batchInput.addEventListener('input', showSettings);
      stepsInput.addEventListener('input', showSettings);
      showSettings();

      function train() {
        const rate = lrSlider.text.value.trim();
        const runs = OPTS.map(([label, opt, color]) => {
          const flags = flagsOf(opt, rate);
          return { label, color, flags, command: play.trainCommandLine(flags, info.name) };
        });
        bar.commands.replaceChildren(...runs.map((r) => el('code', { class: 'play-cmd' }, r.command)));
        const curves = runs.map(() => []);
        const draw = () => chart.draw(runs.map((r, i) => ({ points: curves[i], color: r.color, label: r.label })));
        summary.replaceChildren();
        bar.start(runs.map((r) => ({ flags: r.flags })), {
          every: 250,
          progress(i, p) {
            curves[i].push(...p.points);
            draw();
            bar.say(`${runs[i].label}: step ${p.step}, loss ${fmt(p.loss)}`);
          },
          result(i, r) {
            curves[i] = [];
            for (let j = 0; j < r.rows; j++) curves[i].push([r.trace[4 * j], r.trace[4 * j + 3]]);
            draw();
          },
        }, 'training four optimizers...').then((out) => {
          const done = out.results.filter(Boolean);
          if (!done.length) return;
          summary.replaceChildren(...done.map((r, i) => el('li', {}, el('span', { class: 'play-swatch', style: 'background:' + runs[i].color }),
            ' ' + runs[i].label + ': ' + (r.status ? r.message : fmt(r.trainLoss) + ', test accuracy ' + fmt(100 * r.testAcc) + '%'))),
            ...(out.stopped ? [el('li', {}, 'stopped')] : []));
          if (!out.stopped) bar.say(`done: ${done[0].rows} steps each.`);
          node.dataset.version = Number(node.dataset.version || 0) + 1;
          node.dataset.runs = JSON.stringify(done.map((r, i) => ({ label: runs[i].label, flags: runs[i].flags,
            command: runs[i].command, status: r.status, message: r.message, rows: r.rows, csv: r.csv, trainLoss: r.trainLoss,
            trainAcc: r.trainAcc, testLoss: r.testLoss, testAcc: r.testAcc })));
        });
      }

      function robustness() {
        const cells = [];
        for (const [label, opt] of OPTS)
          for (const rate of STRIP_LRS) cells.push({ label, opt, rate, flags: flagsOf(opt, rate) });
        const rows = OPTS.map(([label]) => {
          const tds = STRIP_LRS.map(() => el('td', { class: 'num' }, '...'));
          return { tr: el('tr', {}, el('th', { scope: 'row' }, label), tds), tds };
        });
        stripBody.replaceChildren(...rows.map((r) => r.tr));
        stripCommand.replaceChildren(el('code', { class: 'play-cmd' }, play.trainCommandLine(cells[0].flags, info.name) +
          '   (each cell: this with its --opt and --lr)'));
        const results = [];
        bar.start(cells.map((c) => ({ flags: c.flags })), {
          every: 250,
          progress(i, p) { bar.say(`strip: ${cells[i].label} at lr ${cells[i].rate}: step ${p.step}`); },
          result(i, r) {
            results[i] = r;
            const td = rows[Math.floor(i / STRIP_LRS.length)].tds[i % STRIP_LRS.length];
            td.textContent = r.status ? 'diverged' : fmt(r.trainLoss);
            td.title = cells[i].flags.replace(/\n/g, ' ');
            paintCells();
          },
        }, 'the robustness strip...').then((out) => {
          const done = results.map((r, i) => r && ({ label: cells[i].label, lr: cells[i].rate, flags: cells[i].flags,
            status: r.status, message: r.message, trainLoss: r.trainLoss, rows: r.rows }));
          if (!out.stopped) bar.say(`strip done: ${results.filter(Boolean).length} runs.`);
          node.dataset.stripVersion = Number(node.dataset.stripVersion || 0) + 1;
          node.dataset.strip = JSON.stringify(done.filter(Boolean));
        });
        /* colours by log loss over the finished cells: dark is low */
        function paintCells() {
          const losses = results.filter((r) => r && !r.status).map((r) => Math.log(r.trainLoss));
          const lo = Math.min(...losses), hi = Math.max(...losses);
          results.forEach((r, i) => {
            if (!r) return;
            const td = rows[Math.floor(i / STRIP_LRS.length)].tds[i % STRIP_LRS.length];
            if (r.status || !isFinite(r.trainLoss)) { td.style.background = '#f3d6d4'; td.style.color = '#b3261e'; return; }
            const t = hi > lo ? (Math.log(r.trainLoss) - lo) / (hi - lo) : 0, rgb = viridis(t);
            td.style.background = `rgb(${rgb.join(',')})`;
            td.style.color = t < 0.6 ? '#fff' : '#1f2328';
          });
        }
      }
      bar.train.addEventListener('click', train);
      strip.addEventListener('click', robustness);
      node.dataset.state = 'ready';
      bar.say('Set the batch size, learning rate and steps, and press Train.');
    }, (e) => {
      node.dataset.state = 'error';
      bar.say('The data set could not be read: ' + e.message);
      console.error(e);
    });
  };
})(OptlabPlay);
