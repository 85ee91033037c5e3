/* templates.js: demo 1 of issue 18, "A model the eye can read" (the notebook's section 2): a few
 * training images of the page's data set with their labels, and the class templates of a linear
 * softmax model (mlp:784-10, one weight column per class, drawn as an image) trained in the page:
 * they are redrawn from the parameters the worker sends while it trains, so they sharpen from the
 * initial noise. Every number is the module's (a run of `optlab train`, Engine.fit; data-runs). The
 * page's data set as the main thread's module reads it (play.dataOn) is here too: the other
 * training panels size their models with it. */
'use strict';

(function (play) {
  const { el, control, select, logSlider, Chart, fmt } = play.ui;
  const FASHION = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot'];
  /* the weights start near zero, so that what the templates show is what training put there */
  const SHOWN = 12, INIT_STD = 0.001;

  /* the data set's class names: Fashion-MNIST's, else the labels as numbers */
  function classNames(name, classes) {
    const names = [];
    for (let c = 0; c < classes; c++) names.push(name === 'fashion-mnist' && classes === 10 ? FASHION[c] : String(c));
    return names;
  }

  /* a rows x cols canvas from values in [0, 1] (grey) or [-1, 1] (blue, white, red) */
  function imageCanvas(rows, cols, cls) {
    return el('canvas', { class: cls, width: cols, height: rows, role: 'img' });
  }
  function paint(canvas, rows, cols, value, diverging) {
    const g = canvas.getContext('2d'), img = g.createImageData(cols, rows), d = img.data;
    for (let i = 0; i < rows * cols; i++) {
      const v = value(i);
      let r, gr, b;
      if (diverging) { /* negative weights blue, positive red, zero white */
        const t = Math.min(1, Math.abs(v));
        if (v >= 0) r = 255, gr = b = Math.round(255 * (1 - t));
        else b = 255, r = gr = Math.round(255 * (1 - t));
      } else {
        r = gr = b = Math.round(255 * (1 - v)); /* ink dark on white */
      }
      d[4 * i] = r, d[4 * i + 1] = gr, d[4 * i + 2] = b, d[4 * i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
  }

  /* the page's data set as the module reads it, on the main thread (for drawing the images and
   * sizing the models): {info: play.pageData()'s, data: {train, test, rows, cols, classes, pixels,
   * labels (of the training images)}} */
  let mainData = null;
  function dataOn(engine) {
    if (!mainData)
      mainData = play.pageData().then((info) => {
        const h = engine.loadData(info.bytes);
        try {
          return { info, data: Object.assign(engine.dataInfo(h), engine.images(h, 0)) };
        } finally {
          engine.freeData(h);
        }
      });
    return mainData;
  }
  play.dataOn = dataOn;

  play.panels.templates = function (node, engine) {
    node.dataset.state = 'loading';
    const lrSlider = logSlider('lr', 1e-3, 1, 0.05);
    const lr = control('learning rate', lrSlider.wrap);
    const batch = control('batch', select('batch', ['10', '50', '200', 'full'], '50'));
    const epochsInput = el('input', { type: 'range', name: 'epochs', min: 1, max: 100, step: 1, value: 3 });
    const epochsOut = el('output', { class: 'play-val' }, '3');
    const epochs = control('epochs', el('span', { class: 'play-slider' }, epochsInput, epochsOut));
    const bar = play.trainBar(node, 'Train');
    const samples = el('div', { class: 'play-images' });
    const templates = el('div', { class: 'play-images play-templates' });
    const chart = new Chart(440, 220, { xlabel: 'step', ylabel: 'mini-batch loss', ylog: true });
    chart.draw([]); /* the axes now: a canvas's first text costs tens of ms, better not during a run */
    const summary = el('p', { class: 'play-result' });
    node.append(el('div', { class: 'play-row' }, lr.box, batch.box, epochs.box), bar.box,
      el('div', { class: 'play-stage' },
        el('div', { class: 'play-side' }, el('p', { class: 'play-caption' }, 'Training images and their labels'), samples),
        el('div', { class: 'play-side' }, el('p', { class: 'play-caption' },
          'Class templates: each class\'s weights as an image (red: positive, blue: negative)'), templates)),
      el('div', { class: 'play-stage' }, chart.canvas, el('div', { class: 'play-side' }, summary, bar.commands)));
    epochsInput.addEventListener('input', () => (epochsOut.textContent = epochsInput.value));

    dataOn(engine).then(({ info, data }) => {
      const names = classNames(info.name, data.classes), px = data.rows * data.cols;
      const pixels = data.pixels, labels = data.labels;
      for (let k = 0; k < Math.min(SHOWN, data.train); k++) {
        const c = imageCanvas(data.rows, data.cols, 'play-digit');
        paint(c, data.rows, data.cols, (i) => pixels[k * px + i] / 255, false);
        samples.append(el('figure', { class: 'play-img' }, c, el('figcaption', {}, names[labels[k]])));
      }
      const tiles = names.map((name) => {
        const c = imageCanvas(data.rows, data.cols, 'play-digit');
        templates.append(el('figure', { class: 'play-img' }, c, el('figcaption', {}, name)));
        return c;
      });
      let snapshots = 0;
      /* the weights of class c are column c of the 784 x classes weight matrix (nn.h's layout) */
      function drawTemplates(params) {
        const k = data.classes;
        tiles.forEach((canvas, c) => {
          let top = 0;
          for (let i = 0; i < px; i++) top = Math.max(top, Math.abs(params[i * k + c]));
          paint(canvas, data.rows, data.cols, (i) => (top > 0 ? params[i * k + c] / top : 0), true);
        });
        node.dataset.snapshots = ++snapshots;
      }

      function train() {
        const flags = play.trainFlagText({ model: 'mlp:' + data.rows * data.cols + '-' + data.classes + ',init=normal:std=' + INIT_STD, opt: 'sgd',
          lr: lrSlider.text.value.trim(), batch: batch.input.value, epochs: epochsInput.value, seed: 1,
          subset: info.train, 'test-subset': info.test, normalize: true });
        const command = play.trainCommandLine(flags, info.name);
        bar.commands.replaceChildren(el('code', { class: 'play-cmd' }, command));
        const points = [];
        snapshots = 0;
        summary.textContent = '';
        const t0 = performance.now();
        bar.start([{ flags, snapshot: true }], {
          every: 150,
          progress(_, p) {
            points.push(...p.points);
            drawTemplates(p.params);
            chart.draw([{ points, color: '#0072B2', label: 'linear softmax' }]);
            bar.say(`step ${p.step}, mini-batch loss ${fmt(p.loss)}, ${fmt(p.seconds)} s`);
          },
        }, 'training the linear model...').then((out) => {
          const r = out.results[0];
          if (!r) return;
          const curve = [];
          for (let j = 0; j < r.rows; j++) curve.push([r.trace[4 * j], r.trace[4 * j + 3]]);
          chart.draw([{ points: curve, color: '#0072B2', label: 'linear softmax' }]);
          if (r.params) drawTemplates(r.params);
          if (r.status) {
            summary.className = 'play-result missed';
            summary.textContent = r.message;
          } else {
            summary.className = 'play-result';
            summary.textContent = `After ${r.rows} steps: training loss ${fmt(r.trainLoss)}, accuracy ${fmt(100 * r.trainAcc)}% ` +
              `on the ${info.train} training images, ${fmt(100 * r.testAcc)}% on the ${info.test} test images.`;
            bar.say(`done in ${fmt(r.seconds)} s of training (${fmt((performance.now() - t0) / 1000)} s in all).`);
          }
          node.dataset.version = Number(node.dataset.version || 0) + 1;
          node.dataset.runs = JSON.stringify([{ flags, command, status: r.status, message: r.message, rows: r.rows, csv: r.csv,
            trainLoss: r.trainLoss, trainAcc: r.trainAcc, testLoss: r.testLoss, testAcc: r.testAcc, nParams: r.nParams, snapshots }]);
        });
      }
      bar.train.addEventListener('click', train);
      node.dataset.state = 'ready';
      train();
    }, (e) => {
      node.dataset.state = 'error';
      bar.say('The data set could not be read: ' + e.message);
      console.error(e);
    });
  };
})(OptlabPlay);
