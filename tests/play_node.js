/* play_node.js: runs the page's engine (web/play.js over build/wasm/optlab.wasm) in node, for the
 * tests (tests/test_play.c) and `make bench`, with no browser.
 *   node tests/play_node.js WASM PLAY_JS OUT_DIR < cases
 * cases: one run a line, as `optlab optimize`'s arguments ("--fn rastrigin --x0 1,2 --opt gd ...").
 * For line N (from 0): OUT_DIR/N.csv, the trace (the command's --trace file), and OUT_DIR/N.txt:
 * "status S" and the message on the next line.
 *   node tests/play_node.js WASM PLAY_JS --gemm < shapes   "m n k ta tb precision seed" a line: the
 *                                                  CRC-32 of each product (ol_play_gemm_digest)
 *   node tests/play_node.js WASM PLAY_JS --gemm-seconds < shapes   "m n k ta tb precision rounds reps" a
 *                                                  line: seconds per product (ol_play_gemm_seconds)
 *   node tests/play_node.js WASM PLAY_JS --train SUBSET RUNS < flags   RUNS runs of the page's training
 *                                                  (Engine.fit) on the subset file: "SECONDS STEPS" a run
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

/* the cases of bench/play_native.c, timed the same way (best of repetitions): "NAME MICROSECONDS" */
function bench(engine) {
  const best = (reps, fn) => {
    fn();
    let b = Infinity;
    for (let i = 0; i < reps; i++) {
      const t0 = process.hrtime.bigint();
      fn();
      b = Math.min(b, Number(process.hrtime.bigint() - t0) / 1e3);
    }
    return b.toFixed(1);
  };
  for (const [name, reps, fn] of play.benchCases(engine)) console.log(name + ' ' + best(reps, fn));
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
  if (outDir === '--gemm-seconds') {
    for (const line of fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim())) {
      const [m, n, k, ta, tb, prec, rounds, reps] = line.trim().split(/\s+/).map(Number);
      console.log(engine.x.ol_play_gemm_seconds(m, n, k, ta, tb, prec, rounds, reps));
    }
    return;
  }
  if (outDir === '--train') {
    const [subset, runs] = process.argv.slice(5), flags = fs.readFileSync(0, 'utf8');
    const data = engine.loadData(fs.readFileSync(subset));
    for (let r = 0; r < Number(runs); r++) {
      const fit = engine.fit(data, flags, { csv: false });
      if (fit.status) throw new Error(fit.message);
      console.log(fit.seconds + ' ' + fit.rows);
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
