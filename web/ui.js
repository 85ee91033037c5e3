/* ui.js: what the report's panels share (web/play.js is the engine): building controls, the
 * coloured map of a function, paths on it, messages next to controls, and the start of the page:
 * the module is decoded from the page, loaded once, and each <div class="play" data-panel=KIND>
 * is handed to OptlabPlay.panels[KIND]. */
'use strict';

(function (play) {
  /* Okabe-Ito: distinct for colour-blind readers; the runs take them in turn */
  const COLORS = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#000000'];
  /* viridis, 9 stops, for the maps (low f dark, high f light) */
  const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129],
    [92, 200, 99], [170, 220, 50], [253, 231, 37]];

  /* el('div', {class: 'x', onclick: f}, child, 'text', ...) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  /* a labelled control with a place for its message: {box, input, error} */
  function control(label, input, hint) {
    const error = el('span', { class: 'play-err', role: 'alert' });
    const box = el('label', { class: 'play-ctl' }, el('span', { class: 'play-lab' }, label), input,
      hint ? el('span', { class: 'play-hint' }, hint) : null, error);
    return { box, input, error };
  }

  function select(name, options, value) {
    return el('select', { name }, options.map((o) => el('option', { value: o, selected: o === value }, o)));
  }

  /* a slider on a log scale: value = 10^position; its text box shows (and takes) the number itself */
  function logSlider(name, lo, hi, value) {
    const range = el('input', { type: 'range', name: name + '-slider', min: Math.log10(lo), max: Math.log10(hi),
      step: 0.01, value: Math.log10(value) });
    const text = el('input', { type: 'text', name, value: String(value), size: 9, inputmode: 'decimal' });
    range.addEventListener('input', () => {
      text.value = String(Number(Math.pow(10, Number(range.value)).toPrecision(3)));
      text.dispatchEvent(new Event('change', { bubbles: true }));
    });
    text.addEventListener('change', () => {
      const v = Number(text.value);
      if (v > 0 && isFinite(v)) range.value = Math.log10(v);
    });
    return { range, text, wrap: el('span', { class: 'play-slider' }, range, text) };
  }

  function viridis(t) {
    const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1), i = Math.min(VIRIDIS.length - 2, Math.floor(x)), f = x - i;
    return VIRIDIS[i].map((c, k) => Math.round(c + (VIRIDIS[i + 1][k] - c) * f));
  }

  /* A square canvas showing f over box = [xlo, xhi, ylo, yhi] (values from the module, w x h, row 0
   * at ylo), coloured by log(1 + f - min) in bands, with paths drawn over it. */
  class MapView {
    constructor(size) {
      this.size = size;
      this.canvas = el('canvas', { class: 'play-map', width: size, height: size, role: 'img' });
      this.ctx = this.canvas.getContext('2d');
      this.image = document.createElement('canvas');
    }
    setMap(values, w, h, box) {
      this.box = box;
      this.values = values;
      this.w = w;
      this.h = h;
      let lo = Infinity, hi = -Infinity;
      for (const v of values) if (isFinite(v)) lo = Math.min(lo, v), hi = Math.max(hi, v);
      const span = Math.log1p(hi - lo) || 1;
      this.image.width = w;
      this.image.height = h;
      const ictx = this.image.getContext('2d'), img = ictx.createImageData(w, h), data = img.data;
      const BANDS = 24, palette = [];                     /* bands of equal log(1 + f - min): contours */
      for (let b = 0; b <= BANDS; b++) palette.push(viridis(b / BANDS));
      for (let r = 0; r < h; r++)
        for (let c = 0; c < w; c++) {
          const v = values[r * w + c];
          const rgb = palette[isFinite(v) ? Math.min(BANDS, Math.floor(BANDS * Math.log1p(v - lo) / span)) : BANDS];
          const o = 4 * ((h - 1 - r) * w + c);
          data[o] = rgb[0], data[o + 1] = rgb[1], data[o + 2] = rgb[2], data[o + 3] = 255;
        }
      ictx.putImageData(img, 0, 0);
    }
    /* canvas pixel <-> point */
    toPixel(x, y) {
      const [xlo, xhi, ylo, yhi] = this.box;
      return [(x - xlo) / (xhi - xlo) * this.size, (yhi - y) / (yhi - ylo) * this.size];
    }
    toPoint(px, py) {
      const [xlo, xhi, ylo, yhi] = this.box;
      return [xlo + px / this.size * (xhi - xlo), yhi - py / this.size * (yhi - ylo)];
    }
    /* f on the grid nearest to a point (for the hover read-out) */
    fAt(x, y) {
      const [xlo, xhi, ylo, yhi] = this.box;
      const c = Math.round((x - xlo) / (xhi - xlo) * (this.w - 1)), r = Math.round((y - ylo) / (yhi - ylo) * (this.h - 1));
      return c >= 0 && r >= 0 && c < this.w && r < this.h ? this.values[r * this.w + c] : NaN;
    }
    /* the map, then each path: [{points: [[x, y], ...], color, diverged, marks}] */
    draw(paths, extra) {
      const g = this.ctx;
      g.imageSmoothingEnabled = true;
      g.drawImage(this.image, 0, 0, this.size, this.size);
      for (const p of paths) {
        if (!p.points.length) continue;
        g.save();
        g.beginPath();
        g.rect(0, 0, this.size, this.size);
        g.clip();
        g.strokeStyle = p.color;
        g.lineWidth = 2;
        g.lineJoin = 'round';
        g.beginPath();
        p.points.forEach(([x, y], i) => {
          const [px, py] = this.toPixel(x, y);
          if (i) g.lineTo(px, py); else g.moveTo(px, py);
        });
        g.stroke();
        const [sx, sy] = this.toPixel(...p.points[0]), [ex, ey] = this.toPixel(...p.points[p.points.length - 1]);
        g.fillStyle = p.color; /* start: a dot ringed in white */
        g.strokeStyle = '#fff';
        g.lineWidth = 2;
        g.beginPath();
        g.arc(sx, sy, 5, 0, 2 * Math.PI);
        g.fill();
        g.stroke();
        g.strokeStyle = p.diverged ? '#ff2020' : '#fff'; /* end: a cross (red: diverged after it) */
        g.lineWidth = 4;
        for (const pass of [0, 1]) {
          g.beginPath();
          g.moveTo(ex - 6, ey - 6); g.lineTo(ex + 6, ey + 6);
          g.moveTo(ex + 6, ey - 6); g.lineTo(ex - 6, ey + 6);
          g.stroke();
          g.strokeStyle = p.diverged ? '#ff2020' : p.color;
          g.lineWidth = 2;
          if (pass) break;
        }
        g.restore();
      }
      this.axes(g);
      if (extra) extra(g);
    }
    /* the box's ends on the edges: x along the bottom, y up the left */
    axes(g) {
      const [xlo, xhi, ylo, yhi] = this.box, s = this.size;
      g.save();
      g.font = '12px system-ui, sans-serif';
      g.lineWidth = 3;
      g.strokeStyle = 'rgba(255,255,255,0.85)';
      g.fillStyle = '#1f2328';
      const label = (text, x, y, align, base) => {
        g.textAlign = align;
        g.textBaseline = base;
        g.strokeText(text, x, y);
        g.fillText(text, x, y);
      };
      label('x0 = ' + fmt(xlo), 4, s - 4, 'left', 'bottom');
      label(fmt(xhi), s - 4, s - 4, 'right', 'bottom');
      label('x1 = ' + fmt(yhi), 4, 4, 'left', 'top');
      label(fmt(ylo), 4, s - 20, 'left', 'bottom');
      g.restore();
    }
  }

  /* "nice" ticks over [lo, hi]: about n of them at 1, 2 or 5 times a power of ten */
  function ticks(lo, hi, n) {
    const span = hi - lo, raw = span / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag, out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
    return out;
  }

  /* A line chart on a canvas: x linear, y linear or log10 (then values <= 0 are left out); series
   * [{points: [[x, y], ...], color, label, dash, dots, line}], a legend in the top right corner
   * (opts.legend 'left': top left); marks [{y, label, color}]: dashed horizontal lines. */
  class Chart {
    constructor(width, height, opts) {
      this.w = width;
      this.h = height;
      this.opts = Object.assign({ xlabel: '', ylabel: '', ylog: false, xlog: false, legend: 'right' }, opts);
      this.canvas = el('canvas', { class: 'play-chart', width, height, role: 'img' });
      this.g = this.canvas.getContext('2d');
    }
    draw(series, marks) {
      const g = this.g, o = this.opts, L = 58, R = 10, T = 10, B = 38, W = this.w - L - R, H = this.h - T - B;
      const fy = (v) => (o.ylog ? (v > 0 ? Math.log10(v) : NaN) : v), fx = (v) => (o.xlog ? (v > 0 ? Math.log10(v) : NaN) : v);
      let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
      for (const s of series)
        for (const [x, y] of s.points) {
          const X = fx(x), Y = fy(y);
          if (isFinite(X)) xlo = Math.min(xlo, X), xhi = Math.max(xhi, X);
          if (isFinite(Y)) ylo = Math.min(ylo, Y), yhi = Math.max(yhi, Y);
        }
      for (const m of marks || []) if (m.y !== undefined && isFinite(fy(m.y))) ylo = Math.min(ylo, fy(m.y)), yhi = Math.max(yhi, fy(m.y));
      if (!isFinite(xlo)) xlo = 0, xhi = 1;
      if (!isFinite(ylo)) ylo = 0, yhi = 1;
      if (xhi === xlo) xhi = xlo + 1;
      if (yhi === ylo) yhi = ylo + (o.ylog ? 1 : Math.abs(ylo) || 1);
      const pad = (yhi - ylo) * 0.04;
      ylo -= pad, yhi += pad;
      const px = (x) => L + (fx(x) - xlo) / (xhi - xlo) * W, py = (y) => T + H - (fy(y) - ylo) / (yhi - ylo) * H;
      g.clearRect(0, 0, this.w, this.h);
      g.fillStyle = '#fff';
      g.fillRect(0, 0, this.w, this.h);
      g.font = '11px system-ui, sans-serif';
      g.strokeStyle = '#e4e7eb';
      g.fillStyle = '#57606a';
      g.lineWidth = 1;
      const xt = o.xlog ? ticks(Math.ceil(xlo), Math.floor(xhi), 6).filter(Number.isInteger) : ticks(xlo, xhi, 6);
      for (const t of xt) {
        const X = o.xlog ? L + (t - xlo) / (xhi - xlo) * W : px(t);
        g.beginPath(); g.moveTo(X, T); g.lineTo(X, T + H); g.stroke();
        g.textAlign = 'center'; g.textBaseline = 'top';
        g.fillText(o.xlog ? fmt(Math.pow(10, t)) : fmt(t), X, T + H + 4);
      }
      /* log scale: powers of ten, or where the range holds fewer than two, plain ticks of the values */
      let yt = o.ylog ? ticks(Math.ceil(ylo), Math.floor(yhi), 6).filter(Number.isInteger).map((t) => [t, '1e' + t])
        : ticks(ylo, yhi, 5).map((t) => [t, fmt(t)]);
      if (o.ylog && yt.length < 2)
        yt = ticks(Math.pow(10, ylo), Math.pow(10, yhi), 4).filter((v) => v > 0).map((v) => [Math.log10(v), fmt(v)]);
      for (const [t, text] of yt) {
        const Y = T + H - (t - ylo) / (yhi - ylo) * H;
        g.beginPath(); g.moveTo(L, Y); g.lineTo(L + W, Y); g.stroke();
        g.textAlign = 'right'; g.textBaseline = 'middle';
        g.fillText(text, L - 4, Y);
      }
      g.strokeStyle = '#8c959f';
      g.strokeRect(L, T, W, H);
      g.textAlign = 'center'; g.textBaseline = 'bottom';
      g.fillText(o.xlabel, L + W / 2, this.h - 2);
      g.save(); g.translate(12, T + H / 2); g.rotate(-Math.PI / 2); g.textBaseline = 'middle'; g.fillText(o.ylabel, 0, 0); g.restore();
      g.save();
      g.beginPath(); g.rect(L, T, W, H); g.clip();
      for (const m of marks || []) { /* horizontal lines: goals, budgets */
        if (m.y === undefined || !isFinite(fy(m.y))) continue;
        g.strokeStyle = m.color || '#57606a'; g.setLineDash([5, 4]); g.lineWidth = 1;
        g.beginPath(); g.moveTo(L, py(m.y)); g.lineTo(L + W, py(m.y)); g.stroke();
        g.setLineDash([]); g.fillStyle = m.color || '#57606a'; g.textBaseline = 'bottom';
        g.textAlign = o.legend === 'left' ? 'right' : 'left'; /* away from the legend */
        g.fillText(m.label || '', o.legend === 'left' ? L + W - 4 : L + 4, py(m.y) - 2);
      }
      for (const s of series) { /* s.line false: dots only */
        g.strokeStyle = s.color; g.fillStyle = s.color; g.lineWidth = 2; g.setLineDash(s.dash || []);
        g.beginPath();
        let pen = false;
        for (const [x, y] of s.points) {
          const X = px(x), Y = py(y);
          if (!isFinite(X) || !isFinite(Y)) { pen = false; continue; }
          if (pen && s.line !== false) g.lineTo(X, Y); else g.moveTo(X, Y);
          pen = true;
          if (s.dots) g.fillRect(X - 3, Y - 3, 6, 6);
        }
        if (s.line !== false) g.stroke();
      }
      g.restore();
      g.setLineDash([]);
      const named = series.filter((s) => s.label); /* the legend, in a top corner */
      const lx = o.legend === 'left' ? L + 8 : L + W - 26 - Math.max(0, ...named.map((s) => g.measureText(s.label).width));
      named.forEach((s, i) => {
        const ly = T + 10 + 15 * i;
        g.fillStyle = 'rgba(255,255,255,0.85)'; g.fillRect(lx - 4, ly - 7, 22 + g.measureText(s.label).width, 15);
        g.fillStyle = s.color;
        if (s.line === false) g.fillRect(lx + 4, ly - 3, 6, 6); else g.fillRect(lx, ly - 2, 14, 4);
        g.fillStyle = '#1f2328'; g.textAlign = 'left'; g.textBaseline = 'middle';
        g.fillText(s.label, lx + 18, ly);
      });
    }
  }

  function fmt(v) {
    if (!isFinite(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
  }

  /* the module from the page: compiled at once where the browser allows it, else asynchronously */
  function loadEngine() {
    const holder = document.getElementById('optlab-wasm');
    if (!holder) return Promise.reject(new Error('no module in the page'));
    const bytes = play.moduleBytes = play.base64Bytes(holder.textContent); /* kept for the workers (web/worker.js) */
    try {
      return Promise.resolve(play.loadNow(bytes));
    } catch (e) {
      return play.load(bytes);
    }
  }

  function startPanel(node, eng) {
    const make = play.panels[node.dataset.panel];
    if (!make) return;
    node.classList.add('play-on');
    try {
      make(node, eng);
    } catch (e) {
      node.dataset.state = 'error';
      node.append(el('p', { class: 'play-err' }, 'This panel failed: ' + e.message));
      console.error(e);
    }
  }

  function start() {
    const panels = document.querySelectorAll('.play[data-panel]');
    if (!panels.length) return;
    loadEngine().then((eng) => {
      panels.forEach((node) => startPanel(node, eng));
      /* index.html?panel=KIND (or KIND,KIND or all) puts those panels at the top of the page (to show
       * them in class; the Firefox check screenshots them so); a link to a panel (#play-KIND) scrolls to it, now that it
       * has its full height */
      const only = new URLSearchParams(location.search).get('panel');
      if (only) { /* one kind, several (a,b) or all, in the page's order */
        const wanted = [...panels].filter((n) => only === 'all' || only.split(',').includes(n.dataset.panel));
        document.querySelector('main').prepend(...wanted);
      }
      const target = location.hash.length > 1 && document.getElementById(location.hash.slice(1));
      if (target) target.scrollIntoView();
    }, (e) => {
      panels.forEach((node) => {
        node.dataset.state = 'error';
        node.append(el('p', { class: 'play-err' }, 'The panels could not start: ' + e.message));
      });
      console.error(e);
    });
  }

  /* called last (web/start.js), once every panel kind has registered */
  function startWhenReady() {
    if (typeof document === 'undefined') return;
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
  }

  play.ui = { el, control, select, logSlider, MapView, Chart, COLORS, fmt, viridis, start: startWhenReady };
})(typeof window !== 'undefined' ? window.OptlabPlay : globalThis.OptlabPlay);
