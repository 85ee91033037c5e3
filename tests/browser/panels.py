"""panels.py: the checks of each interactive panel (tests/browser/run.py drives the browser).
Each check takes the Page and records its results with page.check; CHECKS lists them in order."""
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
    for name, value, flag in (('lr-A', 'nan', '--lr=nan'), ('opt-A', 'adamx', '--opt=adamx'),
                              ('opt-A', 'sgd:momentum=-1', '--opt=sgd:momentum=-1'), ('schedule', 'foo', '--schedule=foo'),
                              ('clip-norm', '-1', '--clip-norm=-1'), ('steps', '-5', '--steps=-5'),
                              ('warmup', '1.5', '--warmup=1.5'), ('x0', '1,,2', '--x0=1,,2')):
        good = page.field(node, name).get_attribute('value')
        page.set(node, name, value)
        flags = {'--fn': 'rastrigin', '--x0': '0,0', '--opt': 'gd', '--lr': '0.01', '--steps': '0'}
        key, val = flag.split('=', 1)
        flags[key] = val
        page.same_error_as_cli(node, name, '\n'.join(k + '=' + v for k, v in flags.items()), 'explorer, %s %s' % (name, value))
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
    for run in page.runs(node):
        page.same_as_cli(run, 'explorer, the screenshot\'s runs')
    page.shot(node, 'explorer')


CHECKS = [('explorer', explorer)]
