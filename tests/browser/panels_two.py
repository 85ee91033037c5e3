"""panels_two.py: the checks of issue 18's demos 2 and 4 (tests/browser/run.py drives the browser;
panels.py lists them in CHECKS).

twoweights: driven through its controls (the beta and steps sliders moved with the keyboard, the
learning rate typed, a pixel typed, a click on the map); the linear model's training run against
`optlab train`'s step log; the panel's last state exported (--export DIR: two.txt, params.f32,
run<K>.csv) for tests/test_browser.c, which recomputes Newton's minimum and the runs natively from the
same parameters and images and compares them bit for bit. gradcost and race are timed: their numbers
are checked against sanity bounds (positive times in order, runs that stop at their budget, smaller
batches taking more steps), the race is stopped mid-run, and bad batch sizes get the command's
message next to the control."""
import base64
import json
import os
import subprocess
import time

from selenium.webdriver.common.by import By


def runs_of(page, node):
    return json.loads(node.get_attribute('data-runs') or 'null')


def wait_version(page, node, before, timeout, what):
    page.wait(lambda: page.version(node) not in (None, before) and node.get_attribute('data-state') != 'training',
              timeout, what)


def cli_message(page, args):
    """the last line of `optlab train --data D ARGS` without 'optlab: ' (a refused setting)"""
    p = subprocess.run([page.args.optlab, 'train', '--data', page.data_name()] + args, capture_output=True, text=True,
                       timeout=60)
    lines = (p.stderr or p.stdout).strip().split('\n')
    return p.returncode, lines[-1][len('optlab: '):] if lines and lines[-1].startswith('optlab: ') else ''


def export_two(page, state):
    """the panel's state for tests/test_browser.c's native recomputation"""
    if not page.args.export:
        return
    d = page.args.export
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'params.f32'), 'wb') as f:
        f.write(base64.b64decode(state['params']))
    lines = ['data ' + page.data_name(), 'model ' + state['model'], 'n %d' % state['n'], 'normalize %d' % state['normalize'],
             'weight %d' % state['weight'], 'cls %d' % state['cls'], 'start ' + ' '.join(state['start']),
             'info ' + ' '.join(state['info'])]
    for k, r in enumerate(state['runs']):
        lines.append('run %s %s %s %d' % (r['opt'], r['lr'], r['steps'], r['status']))
        with open(os.path.join(d, 'run%d.csv' % k), 'w') as f:
            f.write(r['csv'] or '')
    with open(os.path.join(d, 'two.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('     exported the panel\'s state to ' + d, flush=True)


def twoweights(page):
    node = page.panel('twoweights', 120)
    page.wait(lambda: page.version(node) is not None and node.get_attribute('data-state') == 'ready', 120,
              'the linear model trained and its two weights computed')
    s = runs_of(page, node)
    info = [float(v) for v in s['info']]
    page.check(s['fit']['status'] == 0 and s['model'].endswith('-10') and s['weight'] == 365 and s['cls'] == 0,
               'twoweights: the linear model %s trained in the page (loss %s), pixel 365, class 0' % (s['model'], s['fit']['loss']))
    page.train_cli(dict(s['fit'], command='optlab train ' + s['fit']['flags'].replace('\n', ' ')), 'twoweights, the model')
    page.check(info[5] <= 1e-10 and 0 < info[10] <= info[11] and 1 <= info[12] <= 50,
               'twoweights: Newton: minimum (%g, %g) in %d iterations, gradient %g, eigenvalues %g, %g' %
               (info[2], info[3], info[12], info[5], info[10], info[11]))
    gd, hb = s['runs']
    page.check(gd['opt'] == 'gd' and hb['opt'] == 'heavyball:beta=0.9' and gd['lr'] == hb['lr'] and gd['status'] == 0 and
               hb['status'] == 0 and gd['rows'] == 151, 'twoweights: gd and heavy ball at lr %s, 150 steps' % gd['lr'])
    page.check(float(hb['dist'][0]) < float(gd['dist'][0]) - 1,
               'twoweights: heavy ball ends nearer w* (10^%s) than gradient descent (10^%s)' % (hb['dist'][0], gd['dist'][0]))

    before = page.version(node)
    page.slide(node, 'beta', -10)          # 0.9 -> 0.8
    page.slide(node, 'steps', 5)           # 150 -> 200
    wait_version(page, node, before, 30, 'the sliders\' runs')
    page.wait(lambda: runs_of(page, node)['runs'][0]['steps'] == 200 and 'beta=0.8' in runs_of(page, node)['runs'][1]['opt'],
              30, 'the runs of beta 0.8, 200 steps')
    s = runs_of(page, node)
    page.check(s['runs'][1]['opt'] == 'heavyball:beta=0.8' and s['runs'][0]['rows'] == 201 and s['runs'][1]['rows'] == 201,
               'twoweights: the sliders make the runs: %s, %s steps' % (s['runs'][1]['opt'], s['runs'][1]['steps']))
    before = page.version(node)
    page.set(node, 'lr', '5')
    wait_version(page, node, before, 30, 'a run at the typed lr')
    page.check(all(r['lr'] == '5' and r['status'] == 0 for r in runs_of(page, node)['runs']), 'twoweights: lr 5 typed')

    # the module's messages next to the controls
    before = page.version(node)
    page.set(node, 'lr', 'abc')
    page.wait(lambda: node.get_attribute('data-state') == 'refused', 30, 'lr abc refused')
    shown = page.error_next_to(node, 'lr')
    page.check(shown == 'gd: invalid learning rate nan (must be >= 0)', 'twoweights: next to lr: "%s"' % shown)
    page.set(node, 'lr', '-1')
    page.wait(lambda: page.error_next_to(node, 'lr') == 'gd: invalid learning rate -1 (must be >= 0)', 30, 'lr -1 refused')
    page.check(True, 'twoweights: next to lr: "%s"' % page.error_next_to(node, 'lr'))
    page.set(node, 'pixel', '0')
    page.wait(lambda: bool(page.error_next_to(node, 'pixel')), 60, 'pixel 0 refused')
    shown = page.error_next_to(node, 'pixel')
    page.check(shown.startswith('pixel 0 has the same value in all %d examples' % s['n']), 'twoweights: next to pixel: "%s"' % shown)
    page.set(node, 'pixel', '784')
    page.wait(lambda: 'out of range' in (page.error_next_to(node, 'pixel') or ''), 60, 'pixel 784 refused')
    page.check(page.error_next_to(node, 'pixel') == 'weight index 784 is out of range: the model\'s inputs are pixels 0 to 783',
               'twoweights: next to pixel: "%s"' % page.error_next_to(node, 'pixel'))

    # back to a pixel at the edge (ill-conditioned), a good lr, then a start clicked on the map
    page.set(node, 'lr', '10')
    before = page.version(node)
    page.set(node, 'pixel', '365')
    wait_version(page, node, before, 60, 'pixel 365 again')
    page.check(not page.error_next_to(node, 'pixel') and not page.error_next_to(node, 'lr'),
               'twoweights: the messages go with good settings')
    s = runs_of(page, node)
    box = [float(v) for v in s['info'][13:17]]
    canvas = node.find_elements(By.CSS_SELECTOR, 'canvas.play-map')[0]
    page.driver.execute_script('arguments[0].scrollIntoView({block: "center"})', canvas)
    before = page.version(node)
    from selenium.webdriver.common.action_chains import ActionChains
    w, h = canvas.size['width'], canvas.size['height']
    ActionChains(page.driver).move_to_element_with_offset(canvas, int(0.15 * w - w / 2), int(0.8 * h - h / 2)).click().perform()
    wait_version(page, node, before, 30, 'the runs from the clicked start')
    s = runs_of(page, node)
    start = [float(v) for v in s['start']]
    want = (box[0] + 0.15 * (box[1] - box[0]), box[3] - 0.8 * (box[3] - box[2]))
    page.check(abs(start[0] - want[0]) < 0.03 * (box[1] - box[0]) and abs(start[1] - want[1]) < 0.03 * (box[3] - box[2]),
               'twoweights: the click starts the runs at (%.4g, %.4g)' % tuple(start))
    export_two(page, s)
    page.shot(node, 'twoweights')


def gradcost(page):
    node = page.panel('gradcost', 60)
    page.set(node, 'model', 'mlp:784-10')
    page.set(node, 'repeats', '3')
    before = page.version(node)
    page.field(node, 'train').click()
    wait_version(page, node, before, 120, 'the gradient timings')
    r = runs_of(page, node)
    pts = r['points']
    ns = [p['n'] for p in pts]
    page.check(ns == sorted(ns) and ns[0] == 1 and ns[-1] >= 2000 and r['model'] == 'mlp:784-10',
               'gradcost: %d sizes timed, N = %s' % (len(ns), ns))
    page.check(all(0 <= p['min'] <= p['ms'] <= p['max'] < 5000 and p['ms'] > 0 and 1 <= p['passes'] <= 1000 for p in pts),
               'gradcost: every median between its fastest and slowest, medians over 0, all under 5 s (%s)'
               % ', '.join('N %d: %.3g [%.3g, %.3g] ms, %d passes' % (p['n'], p['ms'], p['min'], p['max'], p['passes'])
                           for p in pts))
    page.check(pts[-1]['ms'] > pts[0]['ms'], 'gradcost: N = %d costs more than N = 1 (%.3g ms > %.3g ms)' %
               (ns[-1], pts[-1]['ms'], pts[0]['ms']))
    page.shot(node, 'gradcost')


def race(page):
    node = page.panel('race', 60)
    page.set(node, 'batches', '20, 250')
    page.set(node, 'lrs', '5e-3')
    page.set(node, 'budget', '2.5')
    before = page.version(node)
    page.field(node, 'train').click()
    page.watch_main_thread()               # while it races: the page only draws
    page.wait_in_page(node, 'node.dataset.version !== %s && node.dataset.state !== "training"'
                      % ('undefined' if before is None else json.dumps(before)), 60, 'the race')
    page.main_thread_free('race, batch sizes 20 and 250 for 2.5 s each')
    runs = runs_of(page, node)
    page.check([r['batch'] for r in runs] == [20, 250] and all('--time-budget=2.5' in r['flags'] for r in runs),
               'race: batch sizes 20 and 250, 2.5 s each')
    for r in runs:
        page.check(r.get('status') == 0 and 2.5 <= r['lastSeconds'] <= 4 and r['rows'] > 0 and 0 < r['last'] < 2.6 and
                   r['loss'] > 0 and (r['reached'] == -1 or 0 < r['reached'] <= r['lastSeconds']),
                   'race: batch %d: %d steps in %.3g s, smoothed loss %.3g, goal at %s s' %
                   (r['batch'], r['rows'], r['lastSeconds'], r['last'], r['reached']))
    page.check(runs[0]['rows'] > runs[1]['rows'], 'race: batch 20 takes more steps than batch 250 in the same time (%d > %d)'
               % (runs[0]['rows'], runs[1]['rows']))
    page.shot(node, 'race')

    # Stop mid-race: the runs so far, the panel stopped
    page.set(node, 'budget', '5')
    before = page.version(node)
    page.field(node, 'train').click()
    page.wait(lambda: node.get_attribute('data-state') == 'training', 20, 'the race to start')
    time.sleep(2)
    page.field(node, 'stop').click()
    page.wait(lambda: page.version(node) != before, 20, 'the stopped race')
    runs = runs_of(page, node)
    page.check(node.get_attribute('data-state') == 'stopped' and any(r.get('missing') for r in runs),
               'race: Stop ends the race at once (%s)' % ', '.join('batch %d %s' % (r['batch'], 'not run' if r.get('missing')
                                                                                     else 'done') for r in runs))

    # a bad batch size: the command's message next to the control
    page.set(node, 'budget', '2.5')
    page.set(node, 'batches', '0, 250')
    before = page.version(node)
    page.field(node, 'train').click()
    page.wait(lambda: page.version(node) != before and node.get_attribute('data-state') != 'training', 30, 'the refused race')
    status, message = cli_message(page, ['--batch', '0'])
    shown = page.error_next_to(node, 'batches')
    page.check(status == 2 and shown == message, 'race: next to the batch sizes: "%s" (the command: "%s")' % (shown, message))
    page.set(node, 'batches', '20, 250, 1000')
    page.set(node, 'lrs', '5e-3, 1e-2')
    page.field(node, 'train').click()
    shown = page.error_next_to(node, 'lrs')
    page.check(shown == '2 learning rates for 3 batch sizes: type one, or one per batch size', 'race: next to lrs: "%s"' % shown)
    page.set(node, 'lrs', '5e-3, 5e-3, 5e-3')


CHECKS = [('twoweights', twoweights), ('gradcost', gradcost), ('race', race)]
