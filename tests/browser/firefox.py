#!/usr/bin/env python3
"""firefox.py: the training panels in Firefox ESR (issue 18), run by tests/test_browser.c. Debian ships
Firefox without a WebDriver, so this speaks Firefox's own remote protocol (Marionette: length-prefixed
JSON over a local socket) to headless Firefox: it opens index.html by file://, waits for the templates
panel's run on load (a Web Worker made from the page's script, the data inflated by
DecompressionStream), and compares its step log with `OPTLAB_GEMM=portable optlab train ... --step-log`
byte for byte.

    python3 tests/browser/firefox.py --report DIR/index.html --optlab build/optlab
Prints one line per check; exit 0 when all hold, 1 otherwise, 2 when Firefox cannot start."""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


class Marionette:
    def __init__(self, port):
        self.sock = None
        for _ in range(150):
            try:
                self.sock = socket.create_connection(('127.0.0.1', port), timeout=60)
                break
            except OSError:
                time.sleep(0.2)
        if not self.sock:
            raise RuntimeError('no Marionette on port %d' % port)
        self.f = self.sock.makefile('rb')
        self.id = 0
        self.read()  # the server's greeting

    def read(self):
        n = b''
        while True:
            c = self.f.read(1)
            if not c:
                raise RuntimeError('Firefox closed the connection')
            if c == b':':
                break
            n += c
        return json.loads(self.f.read(int(n)))

    def call(self, name, params):
        self.id += 1
        msg = json.dumps([0, self.id, name, params]).encode()
        self.sock.sendall(str(len(msg)).encode() + b':' + msg)
        reply = self.read()
        if reply[2]:
            raise RuntimeError('%s: %s' % (name, reply[2]))
        return reply[3]

    def js(self, script):
        return self.call('WebDriver:ExecuteScript', {'script': script, 'args': []})['value']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--report', required=True)
    ap.add_argument('--optlab', required=True)
    ap.add_argument('--port', type=int, default=2828 + os.getpid() % 1000)
    args = ap.parse_args()
    profile = tempfile.mkdtemp(prefix='optlab-firefox-')
    with open(os.path.join(profile, 'user.js'), 'w') as f:
        f.write('user_pref("marionette.port", %d);\n' % args.port)
    proc = subprocess.Popen(['firefox-esr', '--headless', '--marionette', '--no-remote', '--profile', profile],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = checks = 0

    def check(ok, what):
        nonlocal failures, checks
        checks += 1
        failures += not ok
        print(('ok   ' if ok else 'FAIL ') + what, flush=True)

    try:
        try:
            m = Marionette(args.port)
            m.call('WebDriver:NewSession', {'capabilities': {}})
        except Exception as e:  # noqa: BLE001 (Firefox's own failure, reported as such)
            print('cannot start Firefox: %s' % e)
            return 2
        m.call('WebDriver:Navigate', {'url': 'file://' + os.path.abspath(args.report)})
        state = None
        for _ in range(240):
            state = m.js('const n = document.querySelector("#play-templates");'
                         'return n ? [n.dataset.state, n.dataset.version || null] : null')
            if state and state[1]:
                break
            time.sleep(0.25)
        check(bool(state and state[1] and state[0] == 'ready'), 'Firefox: the templates panel trained on load (%s)' % state)
        run = json.loads(m.js('return document.querySelector("#play-templates").dataset.runs || "[]"') or '[]')
        data = m.js('return document.getElementById("optlab-data").dataset.name')
        if run:
            run = run[0]
            with tempfile.TemporaryDirectory() as tmp:
                log = os.path.join(tmp, 'steps.csv')
                argv = [args.optlab, 'train', '--data', data] + [x for x in run['flags'].split('\n') if x] + \
                    ['--step-log', log, '--quiet']
                p = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                                   env=dict(os.environ, OPTLAB_GEMM='portable'))
                same = p.returncode == 0 and os.path.exists(log) and open(log).read() == run['csv']
            check(run['status'] == 0 and same and run['snapshots'] >= 1,
                  'Firefox: its step log, %d rows, == `%s`\'s; templates redrawn from %d snapshots'
                  % (run['rows'], run['command'][:120], run['snapshots']))
        m.call('WebDriver:DeleteSession', {})
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print('%d checks, %d failed' % (checks, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
