/* play_two_node.js: issue 18's demos 2 and 4 in the WebAssembly build (web/play.js + web/two.js over
 * build/wasm/optlab.wasm) in node, for tests/test_play_two.c, which compares them with the native
 * library's numbers.
 *   node tests/play_two_node.js WASM PLAY_JS TWO_JS IN.json OUT_DIR
 * IN.json: play.two.weights' query with params, pixels and labels as arrays of numbers, and
 * "smooth": [trace, batch, window, goal] for play.two.smooth. OUT_DIR/: info.txt (the 22 numbers,
 * one a line), newton.txt and map.txt (the numbers one a line), run<K>.csv (run K's trace text) and
 * run<K>.txt ("status S", its message, then its log10 distances, one row a line), smooth.txt (the
 * reached time, then the smoothed losses), cost.txt (the gradient's median, min and max ms for
 * n = 1 and n = all). Numbers as JavaScript's String(): the shortest text that reads back to the
 * same double. */
'use strict';
const fs = require('fs');
const vm = require('vm');
const path = require('path');

const [wasmPath, playPath, twoPath, inPath, outDir] = process.argv.slice(2);
for (const p of [playPath, twoPath]) vm.runInThisContext(fs.readFileSync(p, 'utf8'), { filename: p });
const play = globalThis.OptlabPlay;
const lines = (values) => Array.from(values, String).join('\n') + '\n';

play.load(fs.readFileSync(wasmPath)).then((engine) => {
  const q = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const pixels = play.two.copyIn(engine, Uint8Array.from(q.pixels)), labels = play.two.copyIn(engine, Uint8Array.from(q.labels));
  const r = play.two.weights(engine, Object.assign({}, q, { params: Float32Array.from(q.params), pixels, labels }));
  fs.writeFileSync(path.join(outDir, 'info.txt'), `status ${r.status}\n${r.message}\n` + lines(r.info));
  fs.writeFileSync(path.join(outDir, 'newton.txt'), lines(r.newton));
  fs.writeFileSync(path.join(outDir, 'map.txt'), lines(r.map || []));
  r.runs.forEach((run, k) => {
    fs.writeFileSync(path.join(outDir, `run${k}.csv`), run.csv || '');
    const dist = [];
    for (let i = 0; i < run.rows; i++) dist.push(run.trace[7 * i + 5] + ' ' + run.trace[7 * i + 6]);
    fs.writeFileSync(path.join(outDir, `run${k}.txt`), `status ${run.status}\n${run.message}\n` + dist.join('\n') + '\n');
  });
  const [trace, batch, window, goal] = q.smooth;
  const s = play.two.smooth(engine, Float64Array.from(trace), batch, window, goal);
  fs.writeFileSync(path.join(outDir, 'smooth.txt'), lines([s.reached, ...s.smooth]));
  const cost = play.two.gradientCost(engine, { model: q.costModel, pixels, labels, count: q.n, features: q.features,
    ns: [1, q.n], repeats: 3, seed: 1 });
  fs.writeFileSync(path.join(outDir, 'cost.txt'), lines(cost.flatMap((c) => [c.ms, c.min, c.max])));
}).catch((e) => {
  console.error('play_two_node: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
