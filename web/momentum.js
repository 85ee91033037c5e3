/* momentum.js: panel 2, momentum against gradient descent (the notebook's Demo 4) on the
 * ill-conditioned quadratic: the same lr for both, heavy ball's beta, the steps; both paths on the
 * map, each coordinate's distance to the optimum per iteration (log scale), and the goal "f below
 * 1e-6 of its start within 100 iterations" reached or not. Every number is a run of `optlab
 * optimize` in the module (data-runs: the two runs, as the explorer's). */
'use strict';

(function (play) {
  const { el, control, select, logSlider, MapView, Chart, fmt } = play.ui;
  const GOAL = 1e-6, GOAL_STEPS = 100, GD_COLOR = '#E69F00', HB_COLOR = '#0072B2';

  /* the first iteration k with f_k <= GOAL f_0, or -1 */
  function goalAt(run) {
    const f0 = run.trace[2];
    for (let k = 0; k < run.rows; k++) if (run.trace[k * run.width + 2] <= GOAL * f0) return k;
    return -1;
  }

  play.panels.momentum = function (node, engine) {
    node.dataset.state = 'loading';
    const kappa = control('kappa (condition number)', select('kappa', ['10', '50', '100', '1000'], '50'));
    const stepsInput = el('input', { type: 'range', name: 'steps', min: 50, max: 500, step: 10, value: 150 });
    const stepsOut = el('output', { class: 'play-val' }, '150');
    const steps = control('steps', el('span', { class: 'play-slider' }, stepsInput, stepsOut));
    const lrSlider = logSlider('lr', 1e-3, 5, 0.0392);
    const lr = control('learning rate (both)', lrSlider.wrap);
    lr.input = lrSlider.text;
    const betaInput = el('input', { type: 'range', name: 'beta', min: 0, max: 0.99, step: 0.01, value: 0.8 });
    const betaOut = el('output', { class: 'play-val' }, '0.8');
    const beta = control('beta (heavy ball)', el('span', { class: 'play-slider' }, betaInput, betaOut));
    const view = new MapView(360);
    const chart = new Chart(440, 300, { xlabel: 'iteration', ylabel: '|x_i - x*_i|', ylog: true });
    const goal = el('p', { class: 'play-goal' });
    const general = el('p', { class: 'play-err', role: 'alert' });
    const commands = el('div', {});
    node.append(el('div', { class: 'play-row' }, kappa.box, steps.box, lr.box, beta.box), general,
      el('div', { class: 'play-stage' }, view.canvas, el('div', { class: 'play-side' }, chart.canvas, goal, commands)));

    let mapKappa = null;
    function update() {
      stepsOut.textContent = stepsInput.value;
      betaOut.textContent = betaInput.value;
      [kappa, lr, beta].forEach((c) => (c.error.textContent = ''));
      general.textContent = '';
      const k = Number(kappa.input.value), fn = 'quadratic:kappa=' + kappa.input.value;
      const x0 = [1, 1 / Math.sqrt(k)]; /* each coordinate half of f(x0), as the conditioning lab starts */
      const base = { fn, x0, lr: lr.input.value.trim(), steps: stepsInput.value };
      const settings = [Object.assign({ opt: 'gd' }, base), Object.assign({ opt: 'heavyball:beta=' + Number(betaInput.value) }, base)];
      const refused = settings.map((s) => engine.check(s)).find((r) => r.status);
      if (refused) {
        (/--lr|learning rate/.test(refused.message) ? lr : /beta/.test(refused.message) ? beta : kappa).error.textContent = refused.message;
        node.dataset.state = 'refused';
        return;
      }
      if (mapKappa !== k) {
        view.setMap(engine.map(fn, -1.2, 1.2, -1.2, 1.2, 160, 160), 160, 160, [-1.2, 1.2, -1.2, 1.2]);
        mapKappa = k;
      }
      const runs = settings.map((s) => engine.run(s));
      const names = ['gradient descent', 'heavy ball, beta ' + betaInput.value];
      const colors = [GD_COLOR, HB_COLOR];
      const series = [];
      const words = runs.map((r, i) => {
        r.goal = goalAt(r);
        r.color = colors[i];
        r.label = names[i];
        r.points = [];
        for (let j = 0; j < r.rows; j++) r.points.push([r.trace[j * r.width + 3], r.trace[j * r.width + 4]]);
        for (let c = 0; c < 2; c++)
          series.push({ label: names[i] + ', x' + c, color: colors[i], dash: c ? [6, 4] : [],
            points: r.points.map((p, j) => [j, Math.abs(p[c])]) });
        if (r.status) return `${names[i]}: ${r.message}`;
        return `${names[i]}: ` + (r.goal >= 0 && r.goal <= GOAL_STEPS ? `reached at iteration ${r.goal}` :
          r.goal > 0 ? `not within ${GOAL_STEPS} (at iteration ${r.goal})` : `not within ${r.steps} iterations`);
      });
      view.draw(runs.map((r) => ({ points: r.points, color: r.color, diverged: r.status !== 0 })));
      chart.draw(series);
      const met = runs.map((r) => !r.status && r.goal >= 0 && r.goal <= GOAL_STEPS);
      goal.className = 'play-goal ' + (met.some(Boolean) ? 'met' : 'missed');
      goal.textContent = `Goal, f below ${GOAL.toExponential()} of its start within ${GOAL_STEPS} iterations: ` + words.join('; ') + '.';
      commands.replaceChildren(...runs.map((r) => el('code', { class: 'play-cmd' }, r.command + ' --trace run.csv')));
      node.dataset.version = Number(node.dataset.version || 0) + 1;
      node.dataset.runs = JSON.stringify(runs.map((r) => ({ label: r.label, flags: r.flags, command: r.command, status: r.status,
        message: r.message, steps: r.steps, f: r.f, csv: r.csv, goal: r.goal, met: !r.status && r.goal >= 0 && r.goal <= GOAL_STEPS })));
      node.dataset.state = 'ready';
    }
    let pending = false;
    const soon = () => { /* one update per frame while a slider moves */
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; update(); });
    };
    node.addEventListener('input', soon);
    node.addEventListener('change', soon);
    update();
  };
})(OptlabPlay);
