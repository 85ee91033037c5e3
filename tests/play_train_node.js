/* play_train_node.js: training in the page's engine (web/play.js over build/wasm/optlab.wasm) in
 * node, for tests/test_play_train.c: the runs of the page, no browser.
 *   node tests/play_train_node.js WASM PLAY_JS SUBSET OUT_DIR DATA < cases
 * SUBSET: the page's data (four IDX files one after the other, ol_data_subset_bytes); cases: one run
 * a line, its flags as "--name=value" words ("--model=mlp:784-20-10 --opt=gd --normalize ...").
 * For line N (from 0): OUT_DIR/N.csv, the run's step log (the command's --step-log file), and
 * OUT_DIR/N.txt: "status S" and the message on the next line, and OUT_DIR/N.cmd, the command line
 * the page shows for it (OptlabPlay.trainCommandLine, data DATA). Every run also checks that the
 * progress import saw every step, with the live parameters. */
'use strict';
const fs = require('fs');
const vm = require('vm');
const path = require('path');

const [wasmPath, scriptPath, subsetPath, outDir, dataDir] = process.argv.slice(2);
vm.runInThisContext(fs.readFileSync(scriptPath, 'utf8'), { filename: scriptPath });
const play = globalThis.OptlabPlay;

play.load(fs.readFileSync(wasmPath)).then((engine) => {
  const data = engine.loadData(new Uint8Array(fs.readFileSync(subsetPath)));
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  lines.forEach((line, n) => {
    let steps = 0, lastParam = NaN;
    const r = engine.fit(data, line.trim().split(/\s+/).join('\n'), {
      params: true,
      progress(p) {
        steps++;
        if (p.step !== steps) throw new Error(`progress: step ${p.step} reported as the ${steps}th`);
        if (p.step === 1 || p.step % 50 === 0) lastParam = p.params()[0];
        else lastParam = NaN;
      },
    });
    if (steps !== r.rows) throw new Error(`${line}: ${steps} progress reports for ${r.rows} steps`);
    if (r.status === 0 && r.rows % 50 !== 1 && r.rows % 50 !== 0 && r.params[0] === undefined)
      throw new Error(`${line}: no parameters`);
    if (r.status === 0 && !Number.isNaN(lastParam) && lastParam !== r.params[0])
      throw new Error(`${line}: the last progress report's parameters are not the run's`);
    fs.writeFileSync(path.join(outDir, n + '.csv'), r.csv || '');
    fs.writeFileSync(path.join(outDir, n + '.txt'), `status ${r.status}\n${r.message}\n`);
    fs.writeFileSync(path.join(outDir, n + '.cmd'), play.trainCommandLine(r.flags, dataDir, engine.dataInfo(data)) + '\n');
  });
  engine.freeData(data);
}).catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
