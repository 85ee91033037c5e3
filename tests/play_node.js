/* play_node.js: runs the page's engine (web/play.js over build/wasm/optlab.wasm) in node, for the
 * tests (tests/test_play.c) and `make bench`, with no browser.
 *   node tests/play_node.js WASM PLAY_JS OUT_DIR < cases
 * cases: one run a line, as `optlab optimize`'s arguments ("--fn rastrigin --x0 1,2 --opt gd ...").
 * For line N (from 0): OUT_DIR/N.csv, the trace (the command's --trace file), and OUT_DIR/N.txt:
 * "status S" and the message on the next line.
 *   node tests/play_node.js WASM PLAY_JS --gemm < shapes   "m n k ta tb precision seed" a line: the
 *                                                  CRC-32 of each product (ol_play_gemm_digest)
 *   node tests/play_node.js WASM PLAY_JS --bench   timings of the module (make bench) */
'use strict';
const fs = require('fs');
const vm = require('vm');
const path = require('path');

const [wasmPath, scriptPath, outDir] = process.argv.slice(2);
vm.runInThisContext(fs.readFileSync(scriptPath, 'utf8'), { filename: scriptPath });
const play = globalThis.OptlabPlay;

/* "--fn rastrigin --x0 1,2 ..." -> settings */
function parseArgs(line) {
  const words = line.trim().split(/\s+/), settings = {};
  for (let i = 0; i < words.length; i++) {
    if (!words[i].startsWith('--')) throw new Error('bad case: ' + line);
    const eq = words[i].indexOf('=');
    if (eq > 0) settings[words[i].slice(2, eq)] = words[i].slice(eq + 1);
    else settings[words[i].slice(2)] = words[++i];
  }
  return settings;
}

function bench(engine) {
  const time = (what, reps, fn) => {
    fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    const us = Number(process.hrtime.bigint() - t0) / 1e3 / reps;
    console.log(`${what}: ${us.toFixed(1)} us`);
  };
  time('map rastrigin 200x200', 5, () => engine.map('rastrigin', -5.12, 5.12, -5.12, 5.12, 200, 200));
  time('run gd 500 steps rastrigin', 20, () => engine.run({ fn: 'rastrigin', x0: [2.2, -1.3], opt: 'gd', lr: 0.001, steps: 500 }));
  time('run adam 500 steps rosenbrock', 20, () => engine.run({ fn: 'rosenbrock', x0: [-1.5, 2], opt: 'adam', lr: 0.01, steps: 500 }));
}

play.load(fs.readFileSync(wasmPath)).then((engine) => {
  if (outDir === '--bench') return bench(engine);
  if (outDir === '--gemm') {
    for (const line of fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim())) {
      const [m, n, k, ta, tb, prec, seed] = line.trim().split(/\s+/).map(Number);
      console.log(engine.x.ol_play_gemm_digest(m, n, k, ta, tb, prec, seed) >>> 0);
    }
    return;
  }
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  lines.forEach((line, n) => {
    const r = engine.run(parseArgs(line));
    fs.writeFileSync(path.join(outDir, n + '.csv'), r.csv || '');
    fs.writeFileSync(path.join(outDir, n + '.txt'), `status ${r.status}\n${r.message}\n`);
  });
}).catch((e) => {
  console.error('play_node: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
