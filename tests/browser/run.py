#!/usr/bin/env python3
"""run.py: the report's interactive panels in a real browser (issue 17), run by tests/test_browser.c.

Opens index.html of a quick lab run by file:// in headless Chromium (chromedriver, python3-selenium),
and for each panel: clicks on its map at chosen points, sets its controls and moves its sliders,
waits for the result, reads the runs the panel exposes (its data-runs attribute) and compares each
with `optlab optimize --trace` byte for byte (or, for a refused setting, the command's message with
the one shown next to the control); checks that the console has no errors and that no request left
the page; saves a screenshot of each panel under the screenshot directory.

    python3 tests/browser/run.py --report DIR/index.html --optlab build/optlab --shots build/screenshots
Prints one line per check; exit 0 when all hold, 1 otherwise, 2 when the browser cannot start."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

T0 = time.time()
import panels  # the checks of each panel (tests/browser/panels.py)


class Page:
    """The browser on the report, with the few actions the panels' checks need."""

    def __init__(self, args):
        self.args = args
        self.failures = 0
        self.checks = 0
        opts = Options()
        for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1100,1400',
                  '--disable-dev-shm-usage', '--disable-extensions', '--no-first-run'):
            opts.add_argument(a)
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
        self.driver = webdriver.Chrome(service=Service(args.chromedriver), options=opts)
        self.driver.set_page_load_timeout(60)
        self.url = 'file://' + os.path.abspath(args.report)
        self.driver.get(self.url)
        self.tmp = tempfile.mkdtemp(prefix='optlab-browser-')

    def check(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures += 1
        print(('ok   ' if ok else 'FAIL ') + '%5.1f ' % (time.time() - T0) + what, flush=True)
        return ok

    def panel(self, kind, timeout=30):
        node = self.driver.find_element(By.CSS_SELECTOR, '#play-' + kind)
        self.driver.execute_script('arguments[0].scrollIntoView({block: "start"})', node)
        self.wait(lambda: node.get_attribute('data-state') in ('ready', 'refused', 'error'), timeout, kind + ' ready')
        return node

    def wait(self, cond, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return True
            time.sleep(0.05)
        raise TimeoutError('waited %g s for %s' % (timeout, what))

    def field(self, node, name):
        return node.find_element(By.CSS_SELECTOR, '[name="%s"]' % name)

    def set(self, node, name, value):
        """types into a text field (select all, the new text, Tab: a change event, as by hand)"""
        f = self.field(node, name)
        if f.tag_name == 'select':
            self.driver.execute_script(
                'arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event("change", {bubbles: true}))',
                f, value)
        elif f.get_attribute('type') == 'checkbox':
            if f.is_selected() != bool(value):
                f.click()
        else:
            f.send_keys(Keys.CONTROL, 'a')
            f.send_keys(Keys.DELETE, str(value), Keys.TAB)

    def slide(self, node, name, presses):
        """moves a slider with the keyboard, as a user would (arrow keys)"""
        f = self.field(node, name)
        key = Keys.ARROW_RIGHT if presses > 0 else Keys.ARROW_LEFT
        f.send_keys(*([key] * abs(presses)))

    def error_next_to(self, node, name):
        f = self.field(node, name)
        return self.driver.execute_script(
            'const c = arguments[0].closest(".play-ctl"); const e = c && c.querySelector(".play-err");'
            'return e ? e.textContent : null', f)

    def runs(self, node):
        return json.loads(node.get_attribute('data-runs') or '[]')

    def version(self, node):
        """the panel's count of published results (data-version): cheap to poll, unlike data-runs"""
        return node.get_attribute('data-version')

    def wait_new(self, node, before, timeout, what):
        self.wait(lambda: self.version(node) != before, timeout, what)

    def click_map(self, node, fx, fy, canvas_index=0):
        """clicks on a panel's map at a fraction (fx, fy) of its width and height from the top left; waits
        for the panel to publish new runs"""
        canvas = node.find_elements(By.CSS_SELECTOR, 'canvas.play-map')[canvas_index]
        self.driver.execute_script('arguments[0].scrollIntoView({block: "center"})', canvas)  # all of it in view
        before = self.version(node)
        w, h = canvas.size['width'], canvas.size['height']
        ActionChains(self.driver).move_to_element_with_offset(canvas, int(fx * w - w / 2), int(fy * h - h / 2)).click().perform()
        self.wait_new(node, before, 20, 'a run after the click')

    def click(self, node, name, timeout=20):
        before = self.version(node)
        self.field(node, name).click()
        self.wait_new(node, before, timeout, 'a run after ' + name)

    def cli(self, flags, trace=True):
        """optlab optimize with a run's flags ("--fn=...\\n--x0=..."): (status, trace bytes or None,
        the message: its last line without 'optlab: ', stdout)"""
        path = os.path.join(self.tmp, 'trace.csv')
        if os.path.exists(path):
            os.remove(path)
        argv = [self.args.optlab, 'optimize'] + [f for f in flags.split('\n') if f] + (['--trace', path] if trace else [])
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        lines = (p.stderr or p.stdout).strip().split('\n')
        message = lines[-1][len('optlab: '):] if lines and lines[-1].startswith('optlab: ') else ''
        data = open(path, 'rb').read().decode() if os.path.exists(path) else None
        return p.returncode, data, message, p.stdout

    def same_as_cli(self, run, what):
        """a run of the page against the command: the trace byte for byte, or the failure's message"""
        if run['status'] == 0 and run.get('csv') is None:  # a run too large to keep as text: its end, bit for bit
            status, _, message, out = self.cli(run['flags'], trace=False)
            f = x = None
            for line in out.split('\n'):
                if line.startswith('f = '):
                    f = float(line.split()[2])
                if line.startswith('x = '):
                    x = [float(v) for v in line[4:].split(',')]
            return self.check(status == 0 and f == run['f'] and x == run['last'],
                              '%s: %s: the final f and x == the command\'s' % (what, run['command'][:120]))
        status, trace, message, out = self.cli(run['flags'])
        if run['status'] == 0:
            ok = status == 0 and trace == run['csv']
            if ok and run.get('evaluations'):
                ok = '(%d function evaluations)' % run['evaluations'] in out
            return self.check(ok, '%s: %s == the command\'s trace, %d rows' % (what, run['command'],
                                                                             run['csv'].count('\n') - 1))
        # a failure: the command's message (asked without --trace, which a diverged run's message names)
        # and, for a run that diverged, the trace up to it
        status, _, message, _ = self.cli(run['flags'], trace=False)
        ok = status != 0 and message == run['message']
        if ok and trace is not None and run.get('csv') is not None:
            ok = trace == run['csv']
        return self.check(ok, '%s: %s fails as the command does%s: %s' % (
            what, run['command'], ', the trace up to it the same' if trace is not None else '', run['message']))

    def same_error_as_cli(self, node, name, flags, what):
        """the message next to control `name` is the command's for these flags"""
        status, _, message, _ = self.cli(flags, trace=False)
        shown = self.error_next_to(node, name)
        return self.check(status == 2 and shown == message and message != '',
                          '%s: next to %s: "%s" (the command: "%s")' % (what, name, shown, message))

    def data_name(self):
        """the report's data set as its command lines name it (--data)"""
        return self.driver.execute_script('return document.getElementById("optlab-data").dataset.name')

    def train_cli(self, run, what):
        """a training run of the page against `OPTLAB_GEMM=portable optlab train --data D <its flags> --step-log F`:
        the step log byte for byte (a failed run: the command's message, and its log up to there)"""
        path = os.path.join(self.tmp, 'steps.csv')
        if os.path.exists(path):
            os.remove(path)
        argv = [self.args.optlab, 'train', '--data', self.data_name()] + [f for f in run['flags'].split('\n') if f] + \
            ['--step-log', path, '--quiet']
        p = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, OPTLAB_GEMM='portable'))
        log = open(path, 'rb').read().decode() if os.path.exists(path) else None
        rows = (run['csv'] or '').count('\n') - 1
        if run['status'] == 0:
            return self.check(p.returncode == 0 and log == run['csv'] and rows > 0,
                              '%s: the step log, %d rows, == `%s`\'s%s' % (what, rows, run['command'][:150],
                              '' if log == run['csv'] else ' (command: exit %d, %s)' % (p.returncode, (p.stderr or '')[-300:])))
        lines = (p.stderr or p.stdout).strip().split('\n')
        message = lines[-1][len('optlab: '):] if lines and lines[-1].startswith('optlab: ') else ''
        ok = p.returncode != 0 and message == run['message'] and (log is None or log == run['csv'])
        return self.check(ok, '%s: fails as the command does: %s (the command: %s)' % (what, run['message'], message))

    def wait_in_page(self, node, condition, timeout, what):
        """waits inside the page (one command, no polling that would itself run on the page's main thread)
        until condition (JavaScript over `node`, e.g. 'node.dataset.state === "ready"') holds"""
        self.driver.set_script_timeout(timeout + 5)
        ok = self.driver.execute_async_script(
            'const node = arguments[0], done = arguments[arguments.length - 1], test = () => (' + condition + ');'
            'if (test()) return done(true);'
            'const mo = new MutationObserver(() => { if (test()) { mo.disconnect(); clearTimeout(t); done(true); } });'
            'const t = setTimeout(() => { mo.disconnect(); done(false); }, arguments[1] * 1000);'
            'mo.observe(node, {attributes: true, subtree: true, childList: true, characterData: true});', node, timeout)
        if not ok:
            raise TimeoutError('waited %g s for %s' % (timeout, what))

    def watch_main_thread(self):
        """from now on, record the main thread's long tasks (over 50 ms) and the longest gap of a 10 ms
        heartbeat. The first time (call it while the page is quiet), a task blocked on purpose for 150 ms
        shows that the watch sees one. WebDriver's own commands run on the page's main thread too (and on
        this 2-core machine, beside a busy worker, some take over 100 ms): between watch_main_thread and
        main_thread_free the checks send no command but one wait inside the page (wait_in_page)"""
        self.driver.execute_script(
            'if (!window.__observer) { window.__long = []; window.__observer = new PerformanceObserver((l) => '
            '  window.__long.push(...l.getEntries().map((e) => e.duration))); window.__observer.observe({type: "longtask"});'
            '  window.__frames = []; new PerformanceObserver((l) => window.__frames.push(...l.getEntries().map((e) => '
            '    ({ms: Math.round(e.duration), scripts: e.scripts.map((x) => x.invoker + " " + Math.round(x.duration) + " ms")}))))'
            '    .observe({type: "long-animation-frame"}); }')
        if not getattr(self, 'calibrated', False):
            self.calibrated = True
            self.driver.execute_script('setTimeout(() => { const t = performance.now(); while (performance.now() - t < 150); }, 0)')
            time.sleep(0.3)
            seen = self.driver.execute_script('return Math.max(0, ...window.__long)')
            self.check(seen >= 150, 'the long-task watch sees a task blocked on purpose for 150 ms (%.0f ms)' % seen)
        self.driver.execute_script(
            'window.__long = []; window.__frames = []; window.__gap = 0; clearInterval(window.__beat); let last = performance.now();'
            'window.__beat = setInterval(() => { const t = performance.now(); window.__gap = Math.max(window.__gap, t - last);'
            '  last = t; }, 10);')

    def main_thread_free(self, what, limit=100):
        """no long task over `limit` ms since watch_main_thread (what blocks the page is a task); the
        heartbeat's longest gap is shown, not held to a limit: on a loaded 2-core machine (the worker,
        chromedriver, other processes) timers run late while no task blocks (a 227 ms gap was seen with a
        longest task of 65 ms while another test suite ran beside)"""
        longest, gap, frames = self.driver.execute_script(
            'return [Math.max(0, ...window.__long), window.__gap, window.__frames.sort((a, b) => b.ms - a.ms).slice(0, 3)]')
        return self.check(longest <= limit,
                          '%s: the main thread was never blocked over %d ms (longest task %.0f ms, heartbeat gap %.0f ms)%s'
                          % (what, limit, longest, gap, '' if longest <= limit else '; the longest frames: ' + json.dumps(frames)))

    def shot(self, node, name):
        os.makedirs(self.args.shots, exist_ok=True)
        path = os.path.join(self.args.shots, name + '.png')
        self.driver.execute_script('arguments[0].scrollIntoView({block: "start"})', node)
        node.screenshot(path)
        print('     screenshot ' + path, flush=True)

    def console_and_network(self):
        """no console error, and no request but the page itself and data: URLs"""
        errors = [e for e in self.driver.get_log('browser') if e.get('level') in ('SEVERE', 'ERROR')]
        self.check(not errors, 'no console errors%s' % ('' if not errors else ': ' + json.dumps(errors)[:800]))
        urls = []
        for entry in self.driver.get_log('performance'):
            msg = json.loads(entry['message'])['message']
            if msg.get('method') == 'Network.requestWillBeSent':
                urls.append(msg['params']['request']['url'])
        # blob: the training worker's script, made in the page from its own text (web/worker.js)
        away = [u for u in urls if not (u.startswith('data:') or u.startswith('blob:') or u == self.url
                                        or u.startswith(self.url + '#'))]
        self.check(not away and urls, 'no request left the page (%d requests, all the page itself, data: or blob: URLs)%s'
                   % (len(urls), '' if not away else ': ' + ', '.join(away[:5])))

    def close(self):
        self.driver.quit()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--report', required=True)
    ap.add_argument('--optlab', required=True)
    ap.add_argument('--shots', default='build/screenshots')
    ap.add_argument('--chromedriver', default='/usr/bin/chromedriver')
    ap.add_argument('--panels', default='all', help='comma-separated panel kinds, or all')
    ap.add_argument('--export', default=None, help='a directory for the state of panels checked natively (panels_two.py)')
    args = ap.parse_args()
    t0 = time.time()
    try:
        page = Page(args)
    except Exception as e:  # noqa: BLE001 (the browser's own failure, reported as such)
        print('cannot start the browser: %s' % e)
        return 2
    try:
        for kind, check in panels.CHECKS:
            if args.panels == 'all' or kind in args.panels.split(','):
                check(page)
    except Exception as e:  # noqa: BLE001
        page.check(False, 'the checks stopped: %r' % e)
    finally:
        page.console_and_network()
        page.close()
    print('%d checks, %d failed, %.1f s' % (page.checks, page.failures, time.time() - t0))
    return 1 if page.failures else 0


if __name__ == '__main__':
    sys.exit(main())
