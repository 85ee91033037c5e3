"""panels.py: the checks of each interactive panel (tests/browser/run.py drives the browser).
Each check takes the Page and records its results with page.check; CHECKS lists them in order."""
import json
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select


def at(box, x, y):
    """the fraction of a map's width and height (from its top left) where the point (x, y) is"""
    xlo, xhi, ylo, yhi = box
    return (x - xlo) / (xhi - xlo), (yhi - y) / (yhi - ylo)


def choose(page, node, name, value):
    Select(page.field(node, name)).select_by_value(value)


def explorer(page):
    node = page.panel('explorer')
    rastrigin = (-5.12, 5.12, -5.12, 5.12)
    page.check(float(node.get_attribute('data-map-ms') or 'nan') > 0, 'explorer: the map is drawn (%s ms)'
               % node.get_attribute('data-map-ms'))
    runs = page.runs(node)
    page.check(len(runs) == 1 and runs[0]['start'] == [2.2, -1.3], 'explorer: one run on load, from (2.2, -1.3)')
    page.same_as_cli(runs[0], 'explorer, the run on load')

    # clicks at chosen points: each run is the command's
    for x, y in ((1.4, 1.9), (-3.3, 0.6), (0.3, -4.2)):
        page.click_map(node, *at(rastrigin, x, y))
        run = page.runs(node)[-1]
        page.check(abs(run['start'][0] - x) < 0.05 and abs(run['start'][1] - y) < 0.05,
                   'explorer: the click at (%g, %g) starts a run at (%g, %g)' % (x, y, *run['start']))
        page.same_as_cli(run, 'explorer, click')
        page.check('minimum' in run['minimum'], 'explorer: the read-out says where it ended: ' + run['minimum'])

    # controls: heavy ball, its beta moved by the slider, lr typed, more steps, a cosine schedule
    choose(page, node, 'opt-kind-A', 'heavyball')
    page.slide(node, 'knob-A', -5)
    page.set(node, 'lr-A', '0.002')
    page.set(node, 'steps', '300')
    choose(page, node, 'schedule-kind', 'cosine')
    page.set(node, 'clip-norm', '5')
    page.click_map(node, *at(rastrigin, 3.1, -2.2))
    run = page.runs(node)[-1]
    page.check('heavyball:beta=0.85' in run['flags'] and 'cosine:t_max=300' in run['flags'] and '--clip-norm=5' in run['flags'],
               'explorer: the controls make the flags: ' + run['command'])
    page.same_as_cli(run, 'explorer, heavy ball + cosine + clip-norm')

    # same start, two optimizers
    page.set(node, 'two', True)
    choose(page, node, 'opt-kind-B', 'adam')
    page.set(node, 'lr-B', '0.05')
    page.click_map(node, *at(rastrigin, -1.6, 2.7))
    a, b = page.runs(node)[-2:]
    page.check(a['start'] == b['start'] and 'adam' in b['flags'] and 'heavyball' in a['flags'],
               'explorer: two optimizers from the same start (%g, %g)' % tuple(a['start']))
    page.same_as_cli(a, 'explorer, two optimizers (A)')
    page.same_as_cli(b, 'explorer, two optimizers (B)')
    page.set(node, 'two', False)

    # random search: its evaluations are the command's too
    choose(page, node, 'opt-kind-A', 'random')
    choose(page, node, 'schedule-kind', 'constant')
    page.set(node, 'clip-norm', '0')
    page.set(node, 'seed', '7')
    page.click_map(node, *at(rastrigin, 4.0, 4.0))
    run = page.runs(node)[-1]
    page.check(run['evaluations'] > 0, 'explorer: random search, %d evaluations' % run['evaluations'])
    page.same_as_cli(run, 'explorer, random search')

    # bad settings: the command's message next to the control, and no run
    choose(page, node, 'opt-kind-A', 'gd')
    before = len(page.runs(node))
    for i, (name, value, flag) in enumerate((('lr-A', 'nan', '--lr=nan'), ('opt-A', 'adamx', '--opt=adamx'),
                                             ('opt-A', 'sgd:momentum=-1', '--opt=sgd:momentum=-1'),
                                             ('schedule', 'foo', '--schedule=foo'), ('clip-norm', '-1', '--clip-norm=-1'),
                                             ('steps', '-5', '--steps=-5'), ('x0', '1,,2', '--x0=1,,2'))):
        good = page.field(node, name).get_attribute('value')
        page.set(node, name, value)
        flags = {'--fn': 'rastrigin', '--x0': '0,0', '--opt': 'gd', '--lr': '0.01', '--steps': '0'}
        key, val = flag.split('=', 1)
        flags[key] = val
        page.same_error_as_cli(node, name, '\n'.join(k + '=' + v for k, v in flags.items()), 'explorer, %s %s' % (name, value))
        if i < 2:  # the run button starts nothing while a setting is refused
            page.field(node, 'run').click()
            page.check(len(page.runs(node)) == before and node.get_attribute('data-state') == 'refused',
                       'explorer: no run with %s = %s' % (name, value))
        page.set(node, name, good)
        page.check(not page.error_next_to(node, name), 'explorer: the message goes when %s is %s again' % (name, good))

    # another function: himmelblau's map, a run into one of its minima
    choose(page, node, 'fn', 'himmelblau')
    page.check(page.runs(node) == [], 'explorer: a new function clears the runs')
    page.click_map(node, *at((-5, 5, -5, 5), 0.5, 0.5))
    run = page.runs(node)[-1]
    page.same_as_cli(run, 'explorer, himmelblau')
    page.check('global minima' in run['minimum'], 'explorer: himmelblau: ' + run['minimum'])
    choose(page, node, 'fn', 'styblinski-tang')
    page.click_map(node, *at((-5, 5, -5, 5), -0.8, -0.6))
    run = page.runs(node)[-1]
    page.same_as_cli(run, 'explorer, styblinski-tang')
    page.check('global minimum' in run['minimum'], 'explorer: styblinski-tang: ' + run['minimum'])
    choose(page, node, 'fn', 'quadratic')
    page.set(node, 'kappa', '0.5')
    page.same_error_as_cli(node, 'kappa', '--fn=quadratic:kappa=0.5\n--x0=0,0\n--opt=gd\n--lr=0.01\n--steps=0',
                           'explorer, kappa 0.5')
    page.set(node, 'kappa', '25')
    page.click_map(node, *at((-2, 2, -2, 2), 1.5, 1.2))
    page.same_as_cli(page.runs(node)[-1], 'explorer, quadratic kappa 25')

    # a diverged run: where and why, as the command says it
    choose(page, node, 'fn', 'rosenbrock')
    page.set(node, 'lr-A', '0.01')
    page.click_map(node, *at((-2, 2, -1, 3), -1.2, 1.0))
    run = page.runs(node)[-1]
    page.check(run['status'] != 0 and 'diverged' in run['message'], 'explorer: rosenbrock at lr 0.01: ' + run['message'])
    page.same_as_cli(run, 'explorer, diverged')

    # the picture: rastrigin, GD and heavy ball from the same starts
    choose(page, node, 'fn', 'rastrigin')
    page.set(node, 'two', True)
    choose(page, node, 'opt-kind-B', 'heavyball')
    page.set(node, 'lr-B', '0.001')
    for x, y in ((2.2, -1.3), (-3.6, 3.4), (-0.4, -3.7)):
        page.click_map(node, *at(rastrigin, x, y))
    for run, (x, y) in zip(page.runs(node)[::2], ((2.2, -1.3), (-3.6, 3.4), (-0.4, -3.7))):
        page.check(abs(run['start'][0] - x) < 0.05 and abs(run['start'][1] - y) < 0.05,
                   'explorer: the click at (%g, %g) starts a run at (%g, %g)' % (x, y, *run['start']))
    page.same_as_cli(page.runs(node)[-1], 'explorer, the screenshot\'s last run')
    page.shot(node, 'explorer')


def first_at_or_below(csv, column, bound_of_first, strict=False):
    """the first row of a trace CSV whose column is <= (or <) bound_of_first(first value), or -1"""
    rows = [line.split(',') for line in csv.strip().split('\n')[1:]]
    bound = bound_of_first(float(rows[0][column]))
    for k, r in enumerate(rows):
        v = float(r[column])
        if v < bound or (not strict and v == bound):
            return k
    return -1


def momentum(page):
    node = page.panel('momentum')
    def check_runs(what):
        runs = page.runs(node)
        page.check(len(runs) == 2 and 'gd' in runs[0]['flags'] and 'heavyball' in runs[1]['flags'], what + ': two runs')
        for r in runs:
            page.same_as_cli(r, what)
            k = first_at_or_below(r['csv'], 2, lambda f0: 1e-6 * f0)
            page.check(k == r['goal'] and r['met'] == (0 <= k <= 100),
                       '%s: %s: the goal, read off the trace: iteration %d (%s)' % (what, r['label'], k, 'met' if r['met'] else 'not met'))
        return runs
    runs = check_runs('momentum, on load')
    page.check(runs[1]['met'] and not runs[0]['met'], 'momentum: on load heavy ball meets the goal and GD does not')
    before = page.version(node)
    page.slide(node, 'beta', -30)          # beta 0.8 -> 0.5 by the keyboard
    page.slide(node, 'steps', 10)          # 150 -> 250
    page.wait_new(node, before, 20, 'the sliders\' runs')
    runs = check_runs('momentum, beta and steps moved')
    page.check('heavyball:beta=0.5' in runs[1]['flags'] and '--steps=250' in runs[1]['flags'],
               'momentum: the sliders make the flags: ' + runs[1]['command'])
    before = page.version(node)
    page.set(node, 'lr', '0.0395')
    page.wait_new(node, before, 20, 'a run at the typed lr')
    check_runs('momentum, lr typed')
    page.set(node, 'lr', 'abc')
    page.same_error_as_cli(node, 'lr', '--fn=quadratic:kappa=50\n--x0=1,1\n--opt=gd\n--lr=abc\n--steps=150', 'momentum, lr abc')
    page.set(node, 'lr', '0.0392')
    page.check(not page.error_next_to(node, 'lr'), 'momentum: the message goes with a good lr')
    page.shot(node, 'momentum')


def dimension(page):
    node = page.panel('dimension', 60)
    def check(entry, what):
        for name in ('random', 'gd'):
            r = entry[name]
            page.same_as_cli(r, '%s, d = %d, %s' % (what, entry['d'], name))
            if r['csv'] is None:
                continue
            k = first_at_or_below(r['csv'], 2, lambda f0: 1e-3, strict=True)
            want = None if k < 0 else (k + 1 if name == 'random' else k)
            page.check(r['count'] == want, 'dimension: d = %d, %s: %s, read off the trace' % (entry['d'], name, want))
    entries = page.runs(node)
    page.check([e['d'] for e in entries] == [1, 4, 16], 'dimension: d = 1, 4, 16 on load')
    for e in entries:
        check(e, 'dimension, on load')
    before = page.version(node)
    page.set(node, 'budget', '1000')      # a new chart (its points share the budget), d = 16 again
    page.wait_new(node, before, 20, 'a new chart at d = 16')
    before = page.version(node)
    page.set(node, 'd', '64')
    page.wait_new(node, before, 20, 'd = 64')
    page.check([e['d'] for e in page.runs(node)] == [16, 64], 'dimension: d = 64 typed joins d = 16')
    check(page.runs(node)[1], 'dimension, d typed')
    before = page.version(node)
    page.slide(node, 'd-slider', -1)       # 64 -> 32 by the keyboard
    page.wait_new(node, before, 20, 'd = 32 from the slider')
    page.check([e['d'] for e in page.runs(node)] == [16, 32, 64], 'dimension: the slider adds d = 32')
    check(page.runs(node)[1], 'dimension, d from the slider')
    page.set(node, 'sigma', '-1')
    page.same_error_as_cli(node, 'sigma', '--fn=quadratic:kappa=1\n--x0=1\n--opt=random:sigma=-1\n--lr=0.1\n--steps=1',
                           'dimension, sigma -1')
    page.set(node, 'sigma', '0.005')
    page.set(node, 'budget', '3000')
    before = page.version(node)
    page.click(node, 'sweep', 120)
    entries = page.runs(node)
    page.check([e['d'] for e in entries] == [1, 2, 4, 8, 16, 32, 64, 128, 256], 'dimension: the sweep runs d = 1 .. 256 (%s ms)'
               % node.get_attribute('data-run-ms'))
    for e in entries:
        check(e, 'dimension, the sweep')
    gd = [e['gd']['count'] for e in entries]
    page.check(len(set(gd)) == 1, 'dimension: gradient descent needs %s steps at every d' % gd[0])
    page.shot(node, 'dimension')


def schedules(page):
    node = page.panel('schedules')
    def check_runs(what):
        runs = page.runs(node)
        for r in runs:
            page.same_as_cli(r, what)
        return runs
    runs = check_runs('schedules, on load (bold)')
    page.check(runs[1]['status'] == 0 and runs[1]['f'] < runs[0]['f'],
               'schedules: the bold driver ends lower than the constant rate (%g < %g)' % (runs[1]['f'], runs[0]['f']))
    for preset, flag in (('cosine', 'cosine:t_max=500'), ('plateau', 'plateau:patience=5,factor=0.5')):
        before = page.version(node)
        choose(page, node, 'preset', preset)
        page.wait_new(node, before, 20, 'the ' + preset + ' runs')
        runs = check_runs('schedules, ' + preset)
        page.check(flag in runs[1]['flags'], 'schedules: the preset writes ' + flag)
    page.set(node, 'warmup', '20')
    before = page.version(node)
    page.set(node, 'clip-norm', '1')
    page.wait_new(node, before, 20, 'warm-up and clipping')
    runs = check_runs('schedules, warm-up and clip-norm')
    page.check('--warmup=20' in runs[1]['flags'] and '--clip-norm=1' not in runs[0]['flags'],
               'schedules: warm-up and clipping apply to the scheduled run only')
    page.set(node, 'schedule', 'onecycle:total_steps=300')
    runs = check_runs('schedules, onecycle shorter than the run')
    page.check(runs[1]['status'] != 0, 'schedules: the command\'s failure is shown: ' + runs[1]['message'])
    page.set(node, 'schedule', 'cosine:t_max=x')
    page.same_error_as_cli(node, 'schedule', '--fn=rosenbrock\n--x0=0,0\n--opt=gd\n--lr=0.01\n--steps=0\n--schedule=cosine:t_max=x',
                           'schedules, t_max x')
    page.set(node, 'warmup', '0')
    page.set(node, 'clip-norm', '0')
    choose(page, node, 'preset', 'bold')
    page.check(page.runs(node)[1]['flags'].endswith('--schedule=bold'), 'schedules: the bold driver again')
    page.shot(node, 'schedules')


def js(attribute):
    """a data attribute's value as JavaScript compares it (an absent one is undefined)"""
    return 'undefined' if attribute is None else json.dumps(attribute)


def trained(page, kind, before=None, timeout=120):
    """the panel once a training job after version `before` has ended (waits for it)"""
    node = page.driver.find_element(By.CSS_SELECTOR, '#play-' + kind)
    page.wait_in_page(node, 'node.dataset.version !== %s && node.dataset.state !== "training"' % js(before),
                      timeout, kind + ': a training job')
    return node


def press_stop_mid_run(page, node, what):
    """presses Stop once the run has shown progress; the run ends at once and the page still responds"""
    page.wait_in_page(node, 'node.dataset.state === "training" && /step/.test(node.querySelector(".play-status").textContent)',
                      60, what + ' progress')
    before = status_of(node)
    t0 = time.time()
    page.field(node, 'stop').click()
    page.wait_in_page(node, 'node.dataset.state !== "training"', 5, what + ': the run ends after Stop')
    stopped_in = time.time() - t0
    page.check(node.get_attribute('data-state') == 'stopped',
               '%s: Stop ended the run (state %s; "done" means it finished before the click)'
               % (what, node.get_attribute('data-state')))
    time.sleep(0.3)
    t1 = time.time()
    alive = page.driver.execute_script('return 1 + 1') == 2
    page.check(alive and stopped_in < 1 and time.time() - t1 < 0.5 and status_of(node) == 'Stopped.' and
               page.field(node, 'stop').get_attribute('disabled') is not None,
               '%s: Stop mid-run (%s) ended it in %.2f s; the page responds' % (what, before, stopped_in))


def status_of(node):
    return node.find_element(By.CSS_SELECTOR, '.play-status').text


def templates(page):
    node = trained(page, 'templates', None, 60)   # it trains once on load
    page.driver.execute_script('arguments[0].scrollIntoView({block: "start"})', node)
    page.watch_main_thread()               # the first time, while the page is quiet: the watch's own check
    run = page.runs(node)[0]
    page.check(run['status'] == 0 and run['rows'] > 0 and run['snapshots'] >= 1 and run['nParams'] == 7850 and
               'mlp:784-10,init=normal:std=0.001' in run['flags'],
               'templates: the linear model trained on load, %d steps, templates redrawn from %d snapshots, %d parameters'
               % (run['rows'], run['snapshots'], run['nParams']))
    page.check(0.5 < run['testAcc'] <= 1, 'templates: test accuracy %.3f' % run['testAcc'])
    page.train_cli(run, 'templates, on load')
    images = node.find_elements(By.CSS_SELECTOR, '.play-images figure')
    page.check(len(images) == 22, 'templates: 12 training images and 10 templates drawn (%d)' % len(images))
    # a long run (batch 10, 100 epochs: 20,000 steps, seconds even on a fast machine, so that Stop
    # lands mid-run however slow the driver is): Stop mid-run, then the slider and a run to the end
    choose(page, node, 'batch', '10')
    page.slide(node, 'epochs', 97)
    before = page.version(node)
    page.field(node, 'train').click()
    press_stop_mid_run(page, node, 'templates')
    page.slide(node, 'epochs', -96)       # 100 -> 4 epochs
    choose(page, node, 'batch', '50')
    page.field(node, 'train').click()
    page.watch_main_thread()               # while it trains
    node = trained(page, 'templates', before, 60)
    page.main_thread_free('templates, a run of 4 epochs')
    run = page.runs(node)[0]
    page.check('--epochs=4' in run['flags'] and '--batch=50' in run['flags'] and run['snapshots'] >= 1,
               'templates: the slider and the batch make the flags: ' + run['command'])
    page.train_cli(run, 'templates, 4 epochs')
    page.shot(node, 'templates')


def overparam(page):
    node = page.panel('overparam', 60)
    # a wide network for long: Stop mid-run
    choose(page, node, 'hidden', '100-100')
    page.slide(node, 'steps', 40)          # 100 -> 500 steps
    page.field(node, 'train').click()
    press_stop_mid_run(page, node, 'overparam')
    # a new run cancels the one running: start one (5 x 500 steps), start another at once
    choose(page, node, 'hidden', '10')
    before = page.version(node)
    page.field(node, 'train').click()
    choose(page, node, 'inits', '6')
    page.slide(node, 'steps', -45)         # 500 -> 50 steps
    page.field(node, 'train').click()
    node = trained(page, 'overparam', before, 120)
    runs, summary = page.runs(node), json.loads(node.get_attribute('data-summary'))
    page.check(len(runs) == 6 and summary['hidden'] == '10' and not summary['stopped'] and summary['rows'] == 1,
               'overparam: the second Train replaced the first: 6 initializations of width 10, one row in the table')
    page.check(all('--init-seed=1' in r['flags'] and '--perturb=0.2' in r['flags'] and '--batch=full' in r['flags'] and
                   '--subset=500' in r['flags'] and '--epochs=50' in r['flags'] for r in runs)
               and len({r['flags'] for r in runs}) == 6,
               'overparam: one base model perturbed, full-batch GD on 500 images, 50 steps: ' + runs[0]['command'])
    for i, r in enumerate(runs):
        page.train_cli(r, 'overparam, width 10, init %d' % (i + 1))
    page.check(summary['nParams'] == 784 * 10 + 10 + 10 * 10 + 10 and
               all(0 < r['trainAcc'] <= 1 and 0 < r['testAcc'] <= 1 for r in runs),
               'overparam: %d parameters; train accuracy %s, test %s' % (summary['nParams'],
               ' '.join('%.3f' % r['trainAcc'] for r in runs), ' '.join('%.3f' % r['testAcc'] for r in runs)))
    # independent draws, a wider network: the table grows
    choose(page, node, 'draw', 'independent')
    choose(page, node, 'hidden', '20-20')
    choose(page, node, 'inits', '5')
    before = page.version(node)
    page.field(node, 'train').click()
    page.watch_main_thread()
    node = trained(page, 'overparam', before, 120)
    page.main_thread_free('overparam, 5 runs of 20-20')
    runs = page.runs(node)
    page.check(len(runs) == 5 and all('perturb' not in r['flags'] and 'mlp:784-20-20-10' in r['flags'] for r in runs)
               and json.loads(node.get_attribute('data-summary'))['rows'] == 2,
               'overparam: independent draws of 20-20, a second row in the table')
    page.train_cli(runs[0], 'overparam, 20-20, independent, init 1')
    page.train_cli(runs[4], 'overparam, 20-20, independent, init 5')
    page.shot(node, 'overparam')


def optimizers(page):
    node = page.panel('optimizers', 60)
    choose(page, node, 'hidden', '32')
    page.slide(node, 'batch', 2)           # 100 -> 150
    page.set(node, 'lr', '0.05')
    page.slide(node, 'steps', -5)          # 100 -> 50 steps
    before = page.version(node)
    page.field(node, 'train').click()
    page.watch_main_thread()
    node = trained(page, 'optimizers', before, 120)
    page.main_thread_free('optimizers, four runs')
    runs = page.runs(node)
    opts = ['--opt=sgd\n', '--opt=sgd:momentum=0.9\n', '--opt=rmsprop:alpha=0.8,eps_inside=1\n', '--opt=adam\n']
    page.check(len(runs) == 4 and all(o in r['flags'] and '--batch=150' in r['flags'] and '--lr=0.05' in r['flags'] and
                                      '--max-steps=50' in r['flags'] and r['rows'] == 50 for o, r in zip(opts, runs)),
               'optimizers: SGD, momentum, RMSprop (lecture) and Adam at batch 150, lr 0.05, 50 steps each (%s)'
               % [r.get('rows') for r in runs])
    for r in runs:
        page.train_cli(r, 'optimizers, ' + r['label'])
    # Stop mid-run: a long one
    page.slide(node, 'steps', 45)          # 50 -> 500
    choose(page, node, 'hidden', '100-100')
    page.field(node, 'train').click()
    press_stop_mid_run(page, node, 'optimizers')
    # the robustness strip, short runs
    choose(page, node, 'hidden', '32')
    page.slide(node, 'steps', -45)
    page.slide(node, 'batch', 4)           # 250
    before = node.get_attribute('data-strip-version')
    page.field(node, 'strip').click()
    page.watch_main_thread()
    page.wait_in_page(node, 'node.dataset.stripVersion !== %s' % js(before), 300, 'the robustness strip')
    page.main_thread_free('optimizers, the robustness strip')
    strip = json.loads(node.get_attribute('data-strip'))
    finite = [c for c in strip if c['status'] == 0]
    page.check(len(strip) == 24 and all(c['trainLoss'] > 0 for c in finite) and len(finite) >= 12,
               'optimizers: the strip: 4 optimizers x 6 learning rates, %d finished, %d finite' % (len(strip), len(finite)))
    page.check(node.find_element(By.CSS_SELECTOR, '.play-strip tbody').text.count('\n') == 3,
               'optimizers: the strip is drawn (4 rows)')
    # the four again at the strip's settings, for the picture
    before = page.version(node)
    page.field(node, 'train').click()
    node = trained(page, 'optimizers', before, 120)
    runs = page.runs(node)
    page.check(len(runs) == 4 and all('--batch=250' in r['flags'] and r['status'] == 0 for r in runs),
               'optimizers: the four at batch 250: final training loss %s' % ', '.join('%.3f' % r['trainLoss'] for r in runs))
    page.train_cli(runs[3], 'optimizers, Adam at batch 250')
    page.shot(node, 'optimizers')


import panels_two  # noqa: E402 (issue 18's demos 2 and 4)

CHECKS = [('explorer', explorer), ('momentum', momentum), ('dimension', dimension), ('schedules', schedules),
          ('templates', templates), ('overparam', overparam), ('optimizers', optimizers)] + panels_two.CHECKS
