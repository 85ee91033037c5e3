#!/usr/bin/env python3
"""play_bench.py: the speed of the report's interactive panels (issue 17, section 5), for `make bench`
(target bench-play). Measures, on this machine:
  - the same work natively (bench/play_native.c, with the portable matrix product and the default
    one), in WebAssembly under node (tests/play_node.js --bench) and in headless Chromium (the page's
    own module): a 200 x 200 map of rastrigin, 500-step optimize runs, a 2000-step random search in
    d = 64 (each the best of several repetitions);
  - in Chromium, the explorer as a user sees it: a map redrawn after a change of function (computed
    by the module, coloured, drawn) and a 500-step run after a click (checked, run, drawn, read out).
  - the matrix products of training the 784-100-100-10 MLP (batch 128, and 500 for full-batch GD),
    the portable product alone (ol_play_gemm_seconds: one product untimed, then the best of rounds
    of repetitions): GFLOP/s natively (portable and default products, one thread, as the page has),
    under node and in Chromium (the page's main thread);
  - training the 784-100-100-10 MLP in the page (optlab/play_train.h: ol_play_fit_run, Engine.fit):
    SGD at batch 128 for a few epochs on the page's subset (2000 training images of --data),
    examples per second of training (the run's own seconds, evaluation excluded), in Chromium in a
    Web Worker (as the page trains: the engine script web/play.js and the page's module) and on the
    main thread, under node, and natively with the portable and the default product (one thread);
Writes Markdown tables to stdout and to bench/play-results.md (committed, like bench/results.md). It reports; it never fails on
a speed (the targets: map under 300 ms, a 500-step run under 50 ms)."""
import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select


def lines_to_dict(text):
    out = {}
    for line in text.strip().split('\n'):
        name, value = line.split()
        out[name] = float(value)
    return out


# the products of one training step of 784-100-100-10 (src/autodiff_kernels.h, op_linear: forward
# x W; backward d W^T for the layer's input, x^T d for its weight; the first layer's input needs no
# gradient): name, m, n, k, trans_a, trans_b
GEMM_SHAPES = [('layer 1 forward, x W', 128, 100, 784, 0, 0), ('layer 1 weight grad, x^T d', 784, 100, 128, 1, 0),
               ('layer 2 forward', 128, 100, 100, 0, 0), ('layer 2 input grad, d W^T', 128, 100, 100, 0, 1),
               ('layer 2 weight grad', 100, 100, 128, 1, 0), ('layer 3 forward', 128, 10, 100, 0, 0),
               ('layer 3 input grad', 128, 100, 10, 0, 1), ('layer 3 weight grad', 100, 10, 128, 1, 0),
               ('layer 1 forward, batch 500', 500, 100, 784, 0, 0), ('layer 1 weight grad, batch 500', 784, 100, 500, 1, 0)]
GEMM_ROUNDS = 7


def gemm_lines():
    """one line per shape for ol_play_gemm_seconds: m n k ta tb precision rounds reps (a round of
    about 40 MFLOP: milliseconds, well above the browser's coarse clock)"""
    out = []
    for _, m, n, k, ta, tb in GEMM_SHAPES:
        reps = max(1, min(2000, round(4e7 / (2 * m * n * k))))
        out.append('%d %d %d %d %d 32 %d %d' % (m, n, k, ta, tb, GEMM_ROUNDS, reps))
    return out


def gflops(lines, seconds):
    return [2 * int(l.split()[0]) * int(l.split()[1]) * int(l.split()[2]) / s / 1e9 for l, s in zip(lines, seconds)]


# the training case: the page's subset, SGD at batch 128, a few epochs
TRAIN_N, TEST_N, TRAIN_EPOCHS, TRAIN_RUNS = 2000, 500, 5, 5
TRAIN_FLAGS = ('--model=mlp:784-100-100-10\n--opt=sgd\n--lr=0.05\n--batch=128\n--epochs=%d\n--normalize\n--seed=1\n'
               % TRAIN_EPOCHS)

# in Chromium: a Web Worker made of the engine script and the page's module, as the page trains
TRAIN_WORKER = '''
self.onmessage = (ev) => {
  const { wasm, subset, flags, runs } = ev.data;
  OptlabPlay.load(wasm).then((e) => {
    const h = e.loadData(subset), out = [];
    for (let r = 0; r < runs; r++) {
      const fit = e.fit(h, flags, { csv: false });
      if (fit.status) throw new Error(fit.message);
      out.push([fit.seconds, fit.rows]);
    }
    self.postMessage({ out });
  }).catch((err) => self.postMessage({ error: String(err) }));
};
'''


def chromium_training(d, subset):
    """(worker, main thread): [seconds, steps] per run"""
    with open(subset, 'rb') as f:
        data = base64.b64encode(f.read()).decode()
    with open('web/play.js') as f:
        engine_src = f.read()
    d.set_script_timeout(600)
    worker = d.execute_async_script('''
        const [src, data, flags, runs, done] = arguments;
        const wasm = OptlabPlay.base64Bytes(document.getElementById('optlab-wasm').textContent);
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
        w.onmessage = (ev) => { w.terminate(); done(ev.data); };
        w.onerror = (ev) => done({ error: ev.message });
        w.postMessage({ wasm, subset: OptlabPlay.base64Bytes(data), flags, runs });''',
        engine_src + TRAIN_WORKER, data, TRAIN_FLAGS, TRAIN_RUNS)
    main = d.execute_script('''
        const [data, flags, runs] = arguments;
        const e = OptlabPlay.loadNow(OptlabPlay.base64Bytes(document.getElementById('optlab-wasm').textContent));
        const h = e.loadData(OptlabPlay.base64Bytes(data)), out = [];
        for (let r = 0; r < runs; r++) {
          const fit = e.fit(h, flags, { csv: false });
          if (fit.status) return { error: fit.message };
          out.push([fit.seconds, fit.rows]);
        }
        return { out };''', data, TRAIN_FLAGS, TRAIN_RUNS)
    for r in (worker, main):
        if 'error' in r:
            raise RuntimeError('training in Chromium: ' + r['error'])
    return worker['out'], main['out']


def runs_of(text):
    return [[float(x) for x in line.split()] for line in text.strip().split('\n')]


def chromium(report, subset):
    opts = Options()
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1100,1400', '--disable-dev-shm-usage'):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=opts)
    try:
        d.get('file://' + os.path.abspath(report))
        node = d.find_element(By.CSS_SELECTOR, '#play-explorer')
        first_map = float(node.get_attribute('data-map-ms'))
        # training first, as a user who opens the page and trains: the module compiled by the page, its
        # training code not yet run (V8 compiles it and tiers it up during the first run's first steps)
        train = chromium_training(d, subset)
        # the engine alone: the cases of play_native.c, best of repetitions, in the page
        engine = d.execute_script('''
            const e = OptlabPlay.loadNow(OptlabPlay.base64Bytes(document.getElementById('optlab-wasm').textContent));
            const out = {};
            for (const [name, reps, fn] of OptlabPlay.benchCases(e)) {
              fn();
              let best = Infinity;
              for (let i = 0; i < reps; i++) { const t0 = performance.now(); fn(); best = Math.min(best, performance.now() - t0); }
              out[name] = best * 1000;
            }
            return out;''')
        # the products alone
        lines = gemm_lines()
        gemm = d.execute_script('''
            const e = OptlabPlay.loadNow(OptlabPlay.base64Bytes(document.getElementById('optlab-wasm').textContent));
            return arguments[0].map((l) => e.x.ol_play_gemm_seconds(...l.split(' ').map(Number)));''', lines)
        # the panel: maps after a change of function, 500-step runs after clicks
        d.execute_script('arguments[0].scrollIntoView({block: "center"})', node.find_element(By.CSS_SELECTOR, 'canvas'))
        maps = []
        for fn in ['himmelblau', 'styblinski-tang', 'rosenbrock', 'rastrigin'] * 3:
            before = node.get_attribute('data-version')
            Select(node.find_element(By.CSS_SELECTOR, '[name="fn"]')).select_by_value(fn)
            while node.get_attribute('data-version') == before:
                time.sleep(0.02)
            maps.append(float(node.get_attribute('data-map-ms')))
        steps = node.find_element(By.CSS_SELECTOR, '[name="steps"]')
        steps.clear()
        steps.send_keys('500\t')
        canvas = node.find_element(By.CSS_SELECTOR, 'canvas.play-map')
        runs = []
        for i in range(12):
            before = node.get_attribute('data-version')
            ActionChains(d).move_to_element_with_offset(canvas, -150 + 25 * i, 100 - 17 * i).click().perform()
            while node.get_attribute('data-version') == before:
                time.sleep(0.02)
            runs.append(float(node.get_attribute('data-run-ms')))
        version = d.capabilities.get('browserVersion', '?')
        return first_map, engine, gemm, train, maps, runs, version
    finally:
        d.quit()


def cpu():
    """the CPU as /proc/cpuinfo names it: model name (vendor, family, model, stepping; logical CPUs)"""
    fields, count = {}, 0
    with open('/proc/cpuinfo') as f:
        for line in f:
            key, _, value = line.partition(':')
            key = key.strip()
            count += key == 'processor'
            fields.setdefault(key, value.strip())
    return '%s (%s, family %s, model %s, stepping %s; %d logical CPUs)' % (
        fields.get('model name', '?'), fields.get('vendor_id', '?'), fields.get('cpu family', '?'), fields.get('model', '?'),
        fields.get('stepping', '?'), count)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default='build')
    ap.add_argument('--data', default='fashion-mnist', help='the data set of the training case (optlab train --data)')
    args = ap.parse_args()
    b = args.build
    report_dir = os.path.join(b, 'bench', 'play-report')
    subprocess.run([os.path.join(b, 'optlab'), 'lab', 'all', '--quick', '--out', report_dir], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    native = lines_to_dict(subprocess.run([os.path.join(b, 'bench', 'play_native'), 'portable'], check=True,
                                          capture_output=True, text=True).stdout)
    native_default = lines_to_dict(subprocess.run([os.path.join(b, 'bench', 'play_native'), 'auto'], check=True,
                                                  capture_output=True, text=True).stdout)
    node = lines_to_dict(subprocess.run(['node', 'tests/play_node.js', 'build/wasm/optlab.wasm', 'web/play.js', '--bench'],
                                        check=True, capture_output=True, text=True).stdout)
    lines = gemm_lines()
    stdin = '\n'.join(lines) + '\n'
    native_env = dict(os.environ, OMP_NUM_THREADS='1')
    gemm = {
        'native, portable': [float(x) for x in subprocess.run([os.path.join(b, 'bench', 'play_native'), 'portable', '--gemm-seconds'],
                                                              input=stdin, env=native_env, check=True, capture_output=True, text=True).stdout.split()],
        'native, default': [float(x) for x in subprocess.run([os.path.join(b, 'bench', 'play_native'), 'auto', '--gemm-seconds'],
                                                             input=stdin, env=native_env, check=True, capture_output=True, text=True).stdout.split()],
        'WebAssembly, node': [float(x) for x in subprocess.run(['node', 'tests/play_node.js', 'build/wasm/optlab.wasm', 'web/play.js', '--gemm-seconds'],
                                                               input=stdin, check=True, capture_output=True, text=True).stdout.split()]}
    # training: the page's subset made natively (ol_data_subset_bytes), then the same runs everywhere
    subset = os.path.join(b, 'bench', 'play-subset.bin')
    play_native = os.path.join(b, 'bench', 'play_native')
    subprocess.run([play_native, 'portable', '--subset', args.data, str(TRAIN_N), str(TEST_N), subset], check=True)
    train = {}
    for where, kernel in (('native, portable product', 'portable'), ('native, default product', 'auto')):
        train[where] = runs_of(subprocess.run([play_native, kernel, '--train', subset, str(TRAIN_RUNS)], input=TRAIN_FLAGS,
                                              env=native_env, check=True, capture_output=True, text=True).stdout)
    train['WebAssembly, node'] = runs_of(subprocess.run(['node', 'tests/play_node.js', 'build/wasm/optlab.wasm', 'web/play.js', '--train',
                                                         subset, str(TRAIN_RUNS)], input=TRAIN_FLAGS, check=True,
                                                        capture_output=True, text=True).stdout)
    first_map, engine, gemm['WebAssembly, Chromium'], (worker, main_thread), maps, runs, version = chromium(
        os.path.join(report_dir, 'index.html'), subset)
    train['WebAssembly, Chromium (Web Worker)'] = worker
    train['WebAssembly, Chromium (main thread)'] = main_thread
    ms = lambda us: '%.2f' % (us / 1000)
    out = ['# The panels\' speed (make bench-play)', '',
           'Machine: %s; Chromium %s, node %s; %s. Best of repetitions, in milliseconds.' % (cpu(), version,
               subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip(),
               time.strftime('%Y-%m-%d %H:%M')), '',
           '| work | native, portable product | native, default product | WebAssembly, node | WebAssembly, Chromium | Chromium / native portable |',
           '|---|---|---|---|---|---|']
    for name in native:
        out.append('| %s | %s | %s | %s | %s | %.2fx |' % (name, ms(native[name]), ms(native_default[name]), ms(node[name]),
                                                           ms(engine[name]), engine[name] / native[name]))
    out += ['', 'The explorer in Chromium, as a user sees it (the panel\'s own timings: data-map-ms, data-run-ms):', '',
            '| what | median | worst | target |', '|---|---|---|---|',
            '| the first map, at page load (module just compiled) | %.1f | %.1f | 300 |' % (first_map, first_map),
            '| a map after a change of function (200 x 200: computed, coloured, drawn), %d times | %.1f | %.1f | 300 |' % (
                len(maps), statistics.median(maps), max(maps)),
            '| a 500-step run after a click (checked, run, drawn, read out), %d times | %.1f | %.1f | 50 |' % (
                len(runs), statistics.median(runs), max(runs))]
    out += ['', 'The portable product alone, float32, on the products of a training step of the 784-100-100-10 MLP '
            '(ol_play_gemm_seconds: the best of %d rounds; natively on one thread, OMP_NUM_THREADS=1, as the page has one), '
            'in GFLOP/s:' % GEMM_ROUNDS, '',
            '| product | m x n x k | ' + ' | '.join(gemm) + ' | Chromium / native portable |', '|---|---|' + '---|' * (len(gemm) + 1)]
    rates = {where: gflops(lines, secs) for where, secs in gemm.items()}
    for i, (name, m, n, k, ta, tb) in enumerate(GEMM_SHAPES):
        out.append('| %s | %d x %d x %d%s | %s | %.2fx |' % (
            name, m, n, k, ' (A^T)' if ta else ' (B^T)' if tb else '', ' | '.join('%.1f' % rates[w][i] for w in gemm),
            rates['WebAssembly, Chromium'][i] / rates['native, portable'][i]))
    rate = {where: [TRAIN_EPOCHS * TRAIN_N / secs for secs, _ in rs] for where, rs in train.items()}
    base = max(rate['native, portable product'])
    out += ['', 'Training the 784-100-100-10 MLP as the page does (ol_play_fit_run / Engine.fit: `%s`; %d runs of %d epochs '
            'on the first %d training images of %s; %d steps a run), examples per second of training (the run\'s own '
            'seconds, evaluation excluded); natively on one thread (OMP_NUM_THREADS=1), as the page has one. First run: '
            'the first in that place, with code not yet run (WebAssembly: V8 compiles and optimizes it during the first '
            'steps; in Chromium the Worker runs first, right after the page has loaded). Target in the page: 20,000.' % (TRAIN_FLAGS.strip().replace('\n', ' '), TRAIN_RUNS, TRAIN_EPOCHS, TRAIN_N, args.data,
                              train['native, portable product'][0][1]), '',
            '| where | best | median | first run | / native portable (best) |', '|---|---|---|---|---|']
    for where, r in rate.items():
        out.append('| %s | %.0f | %.0f | %.0f | %.2fx |' % (where, max(r), statistics.median(r), r[0], max(r) / base))
    text = '\n'.join(out) + '\n'
    print(text)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'play-results.md')  # bench/, committed
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.replace(path + '.tmp', path)
    print('written to ' + path, file=sys.stderr)


if __name__ == '__main__':
    main()
