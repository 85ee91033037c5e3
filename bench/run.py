#!/usr/bin/python3
"""run.py: the driver of `make bench`: optlab against PyTorch (and numpy) on the same work.

For every case it runs each implementation as a child process, interleaved (A B A B ..., one round
per repetition, with the case's BLAS ceiling (sgemm) or memory ceiling (copy bandwidth) measured in
the same round), takes medians, and prints one markdown report that it also writes to
bench/results.md (raw per-run data: BUILD/bench/results.json). Peak RSS is each child's own
ru_maxrss from os.wait4. A child that fails, times out or prints garbage becomes a FAILED cell with
its reason; the run goes on. Standard library only; see bench/README.md for how to read the table.

  run.py [--build build] [--quick] [--reps R] [--epochs E] [--cases a,b,..] [--list]
  BENCH_QUICK=1 in the environment is --quick.

Deliberately not: assertions on speed (the report states the targets, it never fails on them),
or any tuning of optlab itself."""
import argparse
import csv
import datetime
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"   # Debian's, where python3-torch lives (not a pyenv on PATH)
DATA_DIR = os.environ.get("OPTLAB_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
N_TRAIN_FULL, N_TEST = 60000, 10000
NUMPY_EPOCHS = 3        # numpy's runs stop here (a reference column; the long runs are optlab's and PyTorch's)
DRIFT_LIMIT = 1.10      # a training run whose last epochs are this much slower than its first ones is flagged


# ---------------------------------------------------------------------------------------------
# Work counts
# ---------------------------------------------------------------------------------------------
def train_flops_per_example(sizes):
    """FLOPs of one training example of an MLP with layer sizes s_0..s_L (matrix products only):
    forward           2 * sum_{l=0}^{L-1} s_l s_{l+1}
    weight gradients  2 * sum_{l=0}^{L-1} s_l s_{l+1}          (dW_l = a_l^T . d_{l+1})
    input gradients   2 * sum_{l=1}^{L-1} s_l s_{l+1}          (d_l = d_{l+1} . W_l^T; none for the
                                                                 data layer, l = 0)
    Biases, activations, the loss and the optimizer are O(sum s_l) and left out.
    784-256-10: 406,528 + 406,528 + 5,120 = 818,176, about 0.82 MFLOP."""
    products = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * sum(products) + 2 * sum(products) + 2 * sum(products[1:])


def forward_flops_per_example(sizes):
    """FLOPs of evaluating one example: the forward matrix products, 2 * sum s_l s_{l+1}."""
    return 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


OPTIM_BYTES_PER_PARAM = {
    # Bytes each step reads and writes per float32 parameter.
    "adam": 7 * 4,   # reads x, g, m, v; writes x, m, v
    "sgd": 5 * 4,    # reads x, g, b; writes x, b
}


# ---------------------------------------------------------------------------------------------
# Child processes
# ---------------------------------------------------------------------------------------------
class Child:
    """What one child process left: rc, stdout, stderr, wall seconds, peak RSS (KiB), error."""

    def __init__(self, rc, out, err, wall, rss_kib, error=None):
        self.rc, self.out, self.err, self.wall, self.rss_kib, self.error = rc, out, err, wall, rss_kib, error

    def json(self):
        """The last JSON object line of stdout."""
        for line in reversed(self.out.strip().splitlines()):
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)
        raise ValueError("no JSON line in its output")


def run_child(cmd, threads, timeout, extra_env=None):
    """Runs cmd with the thread count pinned for every runtime (OpenMP, OpenBLAS, MKL) and returns a
    Child; never raises. rusage comes from os.wait4 on this very child, so ru_maxrss is its own.
    extra_env: more variables (PyTorch's OMP_WAIT_POLICY=PASSIVE setting)."""
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
                "MKL_NUM_THREADS": str(threads), "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra_env or {})
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
        except OSError as e:
            return Child(None, "", "", 0.0, 0, f"cannot start: {e}")
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                proc.kill()
            except OSError:
                pass
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:   # SIGTERM / Ctrl-C of the driver: take the child down with it
            proc.kill()
            os.wait4(proc.pid, 0)
            raise
        finally:
            timer.cancel()
        proc.returncode = rc = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    error = None
    if timed_out.is_set():
        error = f"timed out after {timeout:.0f} s"
    elif rc != 0:
        last = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        error = f"exit {rc}" + (f": {last[-1].strip()[:160]}" if last else "")
    return Child(rc, stdout, stderr, wall, usage.ru_maxrss, error)


# ---------------------------------------------------------------------------------------------
# Cases and implementations
# ---------------------------------------------------------------------------------------------
class Run:
    """One measured run: `unit_seconds` (per epoch / per step / per evaluation), accuracy, RSS."""

    def __init__(self, impl, rep, child, unit_seconds=None, test_acc=None, test_loss=None, error=None, extra=None):
        self.impl, self.rep, self.child = impl, rep, child
        self.unit_seconds = unit_seconds or []
        self.test_acc, self.test_loss = test_acc, test_loss
        self.error = error or (child.error if child else None)
        self.extra = extra or {}

    def ok(self):
        return self.error is None and bool(self.unit_seconds)

    def record(self):
        return {"impl": self.impl, "rep": self.rep, "unit_seconds": self.unit_seconds, "test_acc": self.test_acc,
                "test_loss": self.test_loss, "error": self.error, "extra": self.extra,
                "rss_kib": self.child.rss_kib if self.child else None,
                "wall": self.child.wall if self.child else None}


class Case:
    """kind: train (seconds per epoch), fullbatch (seconds per step), eval (seconds per pass over
    the test set), optim (seconds per optimizer step)."""

    def __init__(self, name, title, kind, impls, threads, **kw):
        self.name, self.title, self.kind, self.impls, self.threads = name, title, kind, impls, threads
        self.sizes = kw.get("sizes", [784, 256, 10])
        self.batch = kw.get("batch", 128)
        self.opt = kw.get("opt")          # "sgd" (momentum 0.9), "adam", "gd"
        self.lr = kw.get("lr")
        self.epochs = kw.get("epochs", 1)
        self.subset = kw.get("subset", 0)
        self.n_params = kw.get("n_params", 0)
        self.steps = kw.get("steps", 0)
        self.compare_acc = kw.get("compare_acc", kind == "train")
        self.runs = []
        self.ceiling = []                 # sgemm GFLOP/s or copy GB/s, one per round
        self.ceiling_error = None
        self.breakdown = []               # bench/step_time's phases of optlab's step, one per round
        self.breakdown_error = None

    @property
    def n_train(self):
        return self.subset or N_TRAIN_FULL

    def sgemm_shape(self):
        """(M, K, N) of the case's first and largest matrix product: (batch x s0) . (s0 x s1)."""
        rows = {"train": self.batch, "fullbatch": self.n_train, "eval": 1000}[self.kind]
        return rows, self.sizes[0], self.sizes[1]


def optlab_opt_spec(opt):
    return {"sgd": "sgd:momentum=0.9", "adam": "adam", "gd": "gd"}[opt]


class Bench:
    TOOLS = ("sgemm_rate", "copy_bw", "optim_step", "eval_time", "step_time")

    def __init__(self, args):
        self.a = args
        self.build = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build
        # Private copies of the binaries, taken once at the start: the build directory is shared,
        # and a rebuild or `make clean` during the run must not change (or remove) what is measured.
        self.tmp = tempfile.mkdtemp(prefix="optlab-bench-")
        self.tools = os.path.join(self.tmp, "bin")
        os.mkdir(self.tools)
        self.binaries = {}
        self.missing = []
        for name, src in [("optlab", os.path.join(self.build, "optlab"))] + \
                         [(t, os.path.join(self.build, "bench", t)) for t in self.TOOLS]:
            dst = os.path.join(self.tools, name)
            try:
                shutil.copy2(src, dst)
                with open(dst, "rb") as f:
                    self.binaries[name] = hashlib.sha256(f.read()).hexdigest()[:12]
            except OSError:
                self.missing.append(src)
        self.optlab = os.path.join(self.tools, "optlab")
        self.model_file = os.path.join(self.tmp, "model-784-256-10.bin")
        self.timeout = 300 if args.quick else 900
        self.log = sys.stderr

    # -- one implementation's run of a case ---------------------------------------------------
    def run_optlab_train(self, case, rep, impl="optlab"):
        """impl "optlab" runs with --threads T; "optlab-default" without it (optlab times the counts
        and picks the faster: its choice is read from the line it prints, so not --quiet)."""
        log = os.path.join(self.tmp, f"{case.name}-{impl}-{rep}.csv")
        batch = "full" if case.kind == "fullbatch" else str(case.batch)
        cmd = [self.optlab, "train", "--data", DATA_DIR, "--model", "mlp:" + "-".join(map(str, case.sizes)),
               "--opt", optlab_opt_spec(case.opt), "--lr", repr(case.lr), "--batch", batch,
               "--epochs", str(case.epochs), "--seed", str(rep + 1), "--log", log]
        cmd += ["--threads", str(case.threads), "--quiet"] if impl == "optlab" else []
        if case.subset:
            cmd += ["--subset", str(case.subset)]
        if case.name == "sgd-1t" and rep == 0:
            cmd += ["--save", self.model_file]   # the model the eval case evaluates
        child = run_child(cmd, case.threads, self.timeout)
        if child.error:
            return Run(impl, rep, child)
        try:
            with open(log, newline="") as f:
                rows = list(csv.DictReader(f))
            seconds = [float(r["seconds"]) for r in rows]
            extra = {}
            for line in child.out.splitlines():
                if line.startswith("threads: "):
                    extra["threads_chosen"] = int(line.split()[1])
            return Run(impl, rep, child, seconds, float(rows[-1]["test_acc"]), float(rows[-1]["test_loss"]),
                       extra=extra)
        except (OSError, KeyError, ValueError, IndexError) as e:
            return Run(impl, rep, child, error=f"bad log {os.path.basename(log)}: {e}")

    def run_python_train(self, impl, case, rep):
        """pytorch: its default OpenMP settings; pytorch-passive: OMP_WAIT_POLICY=PASSIVE (often its
        best at 2 threads on a 2-core machine); numpy: at most NUMPY_EPOCHS epochs (a reference
        column, not a target: its time per epoch does not drift)."""
        batch = "full" if case.kind == "fullbatch" else str(case.batch)
        epochs = min(case.epochs, NUMPY_EPOCHS) if impl == "numpy" else case.epochs
        common = ["--sizes", "-".join(map(str, case.sizes)), "--lr", repr(case.lr), "--batch", batch,
                  "--epochs", str(epochs), "--threads", str(case.threads), "--seed", str(rep + 1),
                  "--data", DATA_DIR]
        if case.subset:
            common += ["--subset", str(case.subset)]
        if impl.startswith("pytorch"):
            cmd = [PYTHON, "bench/torch_train.py", "train", "--opt", case.opt] + common
        else:
            cmd = [PYTHON, "bench/numpy_train.py", "--momentum", "0.9"] + common
        env = {"OMP_WAIT_POLICY": "PASSIVE"} if impl == "pytorch-passive" else {}
        child = run_child(cmd, case.threads, self.timeout, env)
        if child.error:
            return Run(impl, rep, child)
        try:
            j = child.json()
            return Run(impl, rep, child, [float(s) for s in j["epoch_seconds"]], j["test_acc"], j["test_loss"],
                       extra={k: j[k] for k in ("torch", "numpy", "threads") if k in j})
        except (ValueError, KeyError, TypeError) as e:
            return Run(impl, rep, child, error=f"bad output: {e}")

    def ensure_model(self):
        """The eval case evaluates the model optlab trained in sgd-1t's first run; when that case
        was not run (or failed), one epoch of the same training makes one."""
        if os.path.exists(self.model_file):
            return None
        cmd = [self.optlab, "train", "--data", DATA_DIR, "--model", "mlp:784-256-10", "--opt", "sgd:momentum=0.9",
               "--lr", "0.1", "--batch", "128", "--epochs", "1", "--seed", "1", "--quiet", "--save", self.model_file]
        if self.a.quick:
            cmd += ["--subset", "2000"]
        child = run_child(cmd, 2, self.timeout)
        return f"could not train the model to evaluate: {child.error}" if child.error else None

    def run_eval(self, impl, case, rep):
        reps = 3 if self.a.quick else 7
        if impl == "optlab":
            cmd = [os.path.join(self.tools, "eval_time"), self.model_file, DATA_DIR, str(case.threads), str(reps)]
        else:
            cmd = [PYTHON, "bench/torch_train.py", "eval", "--model", self.model_file, "--threads",
                   str(case.threads), "--reps", str(reps), "--data", DATA_DIR]
        child = run_child(cmd, case.threads, self.timeout)
        if child.error:
            return Run(impl, rep, child)
        try:
            j = child.json()
            return Run(impl, rep, child, [float(j["seconds"])], j["test_acc"], j["test_loss"])
        except (ValueError, KeyError, TypeError) as e:
            return Run(impl, rep, child, error=f"bad output: {e}")

    def run_optim(self, impl, case, rep):
        if impl == "optlab":
            spec, lr = ("adam", "1e-3") if case.opt == "adam" else ("sgd:momentum=0.9", "0.1")
            cmd = [os.path.join(self.tools, "optim_step"), spec, lr, str(case.n_params), str(case.steps),
                   str(case.threads)]
        else:
            cmd = [PYTHON, "bench/torch_optim_step.py", "--opt", case.opt, "--lr", "1e-3" if case.opt == "adam" else "0.1",
                   "--n", str(case.n_params), "--steps", str(case.steps), "--threads", str(case.threads)]
        child = run_child(cmd, case.threads, self.timeout)
        if child.error:
            return Run(impl, rep, child)
        try:
            j = child.json()
            return Run(impl, rep, child, [float(j["seconds"])], extra={"seconds_best": j.get("seconds_best")})
        except (ValueError, KeyError, TypeError) as e:
            return Run(impl, rep, child, error=f"bad output: {e}")

    def run_impl(self, impl, case, rep):
        if case.kind in ("train", "fullbatch"):
            if impl.startswith("optlab"):
                return self.run_optlab_train(case, rep, impl)
            return self.run_python_train(impl, case, rep)
        if case.kind == "eval":
            return self.run_eval(impl, case, rep)
        return self.run_optim(impl, case, rep)

    # -- the machine's ceilings, measured in each round ---------------------------------------
    def measure_ceiling(self, case):
        if case.kind == "optim":
            mib = copy_mib(self.a)
            cmd = [os.path.join(self.tools, "copy_bw"), str(mib), str(case.threads), "5" if self.a.quick else "10"]
            key = "gbps"
        else:
            m, k, n = case.sgemm_shape()
            cmd = [os.path.join(self.tools, "sgemm_rate"), str(m), str(k), str(n), "0.25" if self.a.quick else "1.0"]
            key = "gflops"
        child = run_child(cmd, case.threads, self.timeout)
        try:
            if child.error:
                raise ValueError(child.error)
            case.ceiling.append(float(child.json()[key]))
        except (ValueError, KeyError, TypeError) as e:
            case.ceiling_error = f"{os.path.basename(cmd[0])}: {e}"

    def measure_breakdown(self, case):
        """Where optlab's step goes on the case's model (bench/step_time): one JSON line a round."""
        spec = "mlp:" + "-".join(map(str, case.sizes))
        cmd = [os.path.join(self.tools, "step_time"), spec, str(case.batch), optlab_opt_spec(case.opt),
               "100" if self.a.quick else "400", str(case.threads)]
        child = run_child(cmd, case.threads, self.timeout)
        try:
            if child.error:
                raise ValueError(child.error)
            case.breakdown.append(child.json())
        except (ValueError, KeyError, TypeError) as e:
            case.breakdown_error = f"step_time: {e}"

    # -- the whole run ------------------------------------------------------------------------
    def run_case(self, case, progress):
        if case.kind == "eval":
            err = self.ensure_model()
            if err:
                case.runs = [Run(i, 0, None, error=err) for i in case.impls]
                return
        for rep in range(self.a.reps):
            self.measure_ceiling(case)
            if has_breakdown(case):
                self.measure_breakdown(case)
            for impl in case.impls:
                t0 = time.perf_counter()
                try:
                    r = self.run_impl(impl, case, rep)
                except Exception as e:  # noqa: BLE001 - a harness bug is reported, not fatal
                    r = Run(impl, rep, None, error=f"harness error: {type(e).__name__}: {e}")
                case.runs.append(r)
                progress[0] += 1
                what = (f"{statistics.median(r.unit_seconds):.4g} s/{unit_name(case)}" if r.ok()
                        else f"FAILED: {r.error}")
                print(f"[{progress[0]}/{progress[1]}] {case.name} rep {rep + 1} {impl}: {what} "
                      f"({time.perf_counter() - t0:.1f} s)", file=self.log, flush=True)


def has_breakdown(case):
    """The step breakdown is taken for the 784-256-10 mini-batch cases (issue 6's targets)."""
    return case.kind == "train" and "optlab" in case.impls and case.sizes == [784, 256, 10]


def copy_mib(a):
    """Copy-bandwidth buffer: 512 MiB, 16x the 32 MiB L3 of the machine this was written on."""
    return 64 if a.quick else 512


def unit_name(case):
    return {"train": "epoch", "fullbatch": "step", "eval": "eval", "optim": "step"}[case.kind]


def make_cases(a):
    q = a.quick
    # 10 epochs: long enough for what builds up slowly during training to show in the time per epoch
    # (issue 14: subnormal floats in Adam's and momentum's state made an Intel core's epochs 2.8x
    # slower by epoch 3; here, a Zen 5, 1.2x by epoch 3); every epoch is timed
    ep = a.epochs or (2 if q else 10)
    sub = 2000 if q else 0
    big_ep = 1
    cases = []
    # SGD's lr: at 0.1 (effective 1.0 with momentum 0.9) the final accuracy after 2 epochs moved by
    # 1-4 points from seed to seed, more than the 1-point agreement the check asks for; at 0.01 it
    # moves by 0.2 (optlab, seeds 1-6: 82.85-83.04%), so a gap means a difference, not noise.
    for opt, lr in (("sgd", 0.01), ("adam", 1e-3)):
        for t in (1, 2):
            impls = ["optlab"] + (["optlab-default"] if t > 1 else []) + ["pytorch", "pytorch-passive"] + \
                (["numpy"] if opt == "sgd" else [])
            title = f"784-256-10, batch 128, {'SGD+momentum 0.9, lr 0.01' if opt == 'sgd' else 'Adam, lr 1e-3'}, {t} thread{'s' * (t > 1)}"
            cases.append(Case(f"{opt}-{t}t", title, "train", impls, t, opt=opt, lr=lr, epochs=ep, subset=sub))
    # a deeper net, optlab alone: is its time per epoch flat too (its dead ReLU units leave more
    # weights without a gradient: 15% of Adam's first moments were subnormal before the fix)
    for opt, lr in (("sgd", 0.01), ("adam", 1e-3)):
        for t in (1, 2):
            title = f"784-512-256-10, batch 128, {'SGD+momentum 0.9, lr 0.01' if opt == 'sgd' else 'Adam, lr 1e-3'}, {t} thread{'s' * (t > 1)}, optlab only"
            cases.append(Case(f"deep-{opt}-{t}t", title, "train", ["optlab"], t, sizes=[784, 512, 256, 10], opt=opt,
                              lr=lr, epochs=ep, subset=sub, compare_acc=False))
    cases.append(Case("big-adam-2t", "784-1024-1024-10, batch 256, Adam, lr 1e-3, 2 threads", "train",
                      ["optlab", "pytorch"], 2, sizes=[784, 1024, 1024, 10], batch=256, opt="adam", lr=1e-3,
                      epochs=big_ep, subset=1000 if q else 0))
    cases.append(Case("fullbatch-2t", "784-256-10, full-batch GD (lr 0.1, one step = all 60k), 2 threads",
                      "fullbatch", ["optlab", "pytorch"], 2, opt="gd", lr=0.1, epochs=2 if q else 3,
                      subset=5000 if q else 0, compare_acc=False))
    cases.append(Case("eval-2t", "784-256-10, evaluation of the 10k test set (batches of 1000), 2 threads",
                      "eval", ["optlab", "pytorch"], 2, compare_acc=True))
    n, steps = (1_000_000, 5) if q else (10_000_000, 20)
    for opt in ("adam", "sgd"):
        for t in (1, 2):
            title = f"optimizer step alone, {n // 1_000_000}M float32, {'Adam' if opt == 'adam' else 'SGD+momentum'}, {t} thread{'s' * (t > 1)}"
            cases.append(Case(f"optim-{opt}-{t}t", title, "optim", ["optlab", "pytorch"], t, opt=opt,
                              n_params=n, steps=steps))
    return cases


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def med(values):
    return statistics.median(values) if values else None


def steady(case, units):
    """A training run's epochs in steady state: from the second on when it has 3 or more (the first
    one warms caches, page tables and thread pools)."""
    return units[1:] if case.kind == "train" and len(units) >= 3 else units


def drift(units):
    """The last 3 epochs' mean over epochs 2-4's mean (None for runs shorter than 6 epochs)."""
    if len(units) < 6:
        return None
    return statistics.fmean(units[-3:]) / statistics.fmean(units[1:4])


def summarize(case, impl):
    """Median over every run's units (epochs 2.. of training runs, steps, passes) of this impl, and
    friends."""
    runs = [r for r in case.runs if r.impl == impl]
    good = [r for r in runs if r.ok()]
    units = [s for r in good for s in steady(case, r.unit_seconds)]
    drifts = [d for d in (drift(r.unit_seconds) for r in good) if d is not None]
    chosen = sorted({r.extra.get("threads_chosen") for r in good if r.extra.get("threads_chosen")})
    failed = [r for r in runs if not r.ok()]
    accs = [r.test_acc for r in good if r.test_acc is not None]
    rss = [r.child.rss_kib for r in good if r.child]
    return {"seconds": med(units), "min": min(units) if units else None, "max": max(units) if units else None,
            "n_units": len(units), "runs": len(runs), "failed": len(failed),
            "error": failed[0].error if failed else None,
            "acc": statistics.fmean(accs) if accs else None, "accs": accs,
            "rss_mib": max(rss) / 1024 if rss else None,
            "drift": med(drifts), "chosen": chosen,
            "e2": med([r.unit_seconds[1] for r in good if len(r.unit_seconds) >= 10]),
            "e10": med([r.unit_seconds[9] for r in good if len(r.unit_seconds) >= 10])}


def torch_best(stats):
    """PyTorch's faster setting in this case (default or OMP_WAIT_POLICY=PASSIVE): (impl, seconds)."""
    got = [(stats[i]["seconds"], i) for i in ("pytorch", "pytorch-passive") if stats.get(i, {}).get("seconds")]
    return (min(got)[1], min(got)[0]) if got else (None, None)


def fmt(x, spec, missing="-"):
    return missing if x is None else format(x, spec)


def report(cases, a, started, wall, versions, load_before, load_after):
    lines = []
    w = lines.append
    a.fma_peak = versions.get("fma_peak") or {}
    mode = "QUICK smoke run (tiny subsets; numbers are NOT meaningful)" if a.quick else "full run"
    w("# optlab benchmark results")
    w("")
    w(f"Generated by `make bench` (bench/run.py, {mode}) on {started} UTC, "
      f"git {versions.get('git', '?')}. Total run time {wall / 60:.1f} min.")
    w("")
    cpu, vendor = versions.get("cpu", "?"), versions.get("cpu vendor", "?")
    w(f"CPU: {cpu if cpu.startswith(vendor) else vendor + ' ' + cpu} ({versions.get('cpu id', '?')}); "
      f"{os.cpu_count()} logical CPUs, Linux {platform.release()}; "
      f"load average {fmt(load_before, '.2f', '?')} at the start, {fmt(load_after, '.2f', '?')} at the end"
      + (" (the machine was busy: treat the numbers as noisy)"
         if max(load_before or 0, load_after or 0) > 0.5 * (os.cpu_count() or 1) else "")
      + ".")
    w(f"PyTorch {versions.get('torch', '?')}, numpy {versions.get('numpy', '?')}, Python {platform.python_version()} "
      f"({PYTHON}). Repetitions: {a.reps} per implementation, interleaved (A B A B ...); every time is the median "
      "over all epochs/steps/passes of all repetitions, [min-max] beside it.")
    peak = versions.get("fma_peak") or {}
    w(f"Matrix products: optlab's kernel {versions.get('gemm kernel', '?')}; OpenBLAS core "
      f"{versions.get('blas core', '?')} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}), the "
      "`sgemm` rate below is OpenBLAS's (PyTorch and numpy run on it), so optlab's fraction of it can pass 100%. "
      f"FMA peak of one core (bench/fma_peak): AVX2 {fmt(peak.get('avx2_gflops'), '.0f', '?')} GFLOP/s, "
      f"AVX-512 {fmt(peak.get('avx512_gflops'), '.0f', 'n/a')} GFLOP/s.")
    if versions.get("binaries"):
        w("Binaries measured (copied from the build directory at the start; sha256 prefixes): "
          + ", ".join(f"{k} {v}" for k, v in versions["binaries"].items()) + ".")
    w("")

    flags = []
    kinds = {c.kind for c in cases}
    if kinds & {"train", "fullbatch"}:
        w("## Training (time per epoch, evaluation excluded)")
        w("")
        w("ratio = examples/s of the row / examples/s of PyTorch (above 1: faster than PyTorch). GFLOP/s counts "
          "the matrix products of forward + backward (run.py: train_flops_per_example; 0.82 MFLOP an example "
          "for 784-256-10); % sgemm = that rate over OpenBLAS sgemm's rate on the case's first-layer shape at the "
          "same thread count, measured in the same rounds.")
        w("")
        w("Training runs are 10 epochs, every epoch timed: s/epoch is the median over epochs 2-10 of every "
          "repetition (steady state; epoch 1 warms caches and thread pools). ratio vs PyTorch is against PyTorch's "
          "faster setting in the case: its default, or OMP_WAIT_POLICY=PASSIVE (pytorch-passive); both rows are "
          "shown. % of FMA peak = GFLOP/s over the FMA peak of the cores used (bench/fma_peak, the widest vector "
          "unit, times the threads). ep10/ep2 = epoch 10's median time over epoch 2's; drift = the last 3 epochs' "
          f"mean over epochs 2-4's, median over the repetitions (flagged above {DRIFT_LIMIT:.2f}). optlab-default is `optlab train` "
          "without --threads: it times training steps at each thread count on the run's first batch and keeps the "
          f"faster. numpy runs {NUMPY_EPOCHS} epochs (its accuracy is then not compared).")
        w("")
        w("| case | impl | s/epoch [min-max] | examples/s | ratio vs PyTorch | GFLOP/s | sgemm GFLOP/s | % of sgemm | % of FMA peak | ep10/ep2 | drift | peak RSS MiB | test acc % (mean) |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for case in (c for c in cases if c.kind in ("train", "fullbatch")):
            emit_compute_rows(case, w, flags, a)
        w("")
        long_runs = [c for c in cases if c.kind == "train" and c.epochs >= 3]
        if long_runs:
            n_ep = max(c.epochs for c in long_runs)
            w("### Epoch by epoch (seconds, median over the repetitions)")
            w("")
            w("| case | impl | " + " | ".join(f"ep {i + 1}" for i in range(n_ep)) + " |")
            w("|---|---|" + "---|" * n_ep)
            for case in long_runs:
                for impl in case.impls:
                    good = [r.unit_seconds for r in case.runs if r.impl == impl and r.ok()]
                    cells = [fmt(med([u[i] for u in good if len(u) > i]), ".3f") for i in range(n_ep)]
                    w(f"| {case.name} | {impl} | " + " | ".join(cells) + " |")
            w("")
        if "fullbatch" in kinds:
            w("Full-batch rows: s/epoch is seconds per step (one step = one pass over the whole training set); "
              "test accuracy after a few steps from different random inits is not compared.")
            w("")

    if "eval" in kinds:
        w("## Evaluation of the 10k test set (same weights in both: optlab's saved model loaded into torch)")
        w("")
        w("| case | impl | s/eval [min-max] | examples/s | ratio vs PyTorch | GFLOP/s | sgemm GFLOP/s | % of sgemm | % of FMA peak | ep10/ep2 | drift | peak RSS MiB | test acc % (mean) |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for case in (c for c in cases if c.kind == "eval"):
            emit_compute_rows(case, w, flags, a)
        w("")
        w("optlab's time is ol_evaluate in-process (bench/eval_time.c: the evaluation `optlab eval` runs, without "
          "reading the gzip'ed data); PyTorch's is the same loop over batches of 1000 under no_grad.")
        w("")

    steps = [c for c in cases if c.breakdown or c.breakdown_error]
    if steps:
        w("## Where optlab's training step goes (bench/step_time)")
        w("")
        w("The same model, graph and optimizer as `optlab train`, on synthetic images, timed phase by phase; "
          "\"products alone\" runs the step's matrix products (the same ol_gemm_f32 calls on the same shapes) and "
          "nothing else. Medians over the rounds of the per-round medians, microseconds per step. \"% of sgemm at "
          "most\" is what the step would reach if everything but the products and the optimizer step took no "
          "time. step_time runs in its own process between the training runs, so on a busy machine its "
          "times can differ from the training table's by the machine's mood of that moment (compare the "
          "step column with the table above).")
        w("")
        w("| case | data | forward | backward | optimizer | step | products alone | products GFLOP/s | % of sgemm: step | % of sgemm at most |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for case in steps:
            if case.breakdown_error:
                flags.append(f"{case.name}: step breakdown failed: {case.breakdown_error}")
            b = breakdown_medians(case)
            if not b:
                w(f"| {case.name} | FAILED | | | | | | | | |")
                continue
            flop = train_flops_per_example(case.sizes) * case.batch
            sgemm = med(case.ceiling)
            pct = lambda us: fmt(flop / (us * 1e-6) * 1e-9 / sgemm * 100 if sgemm else None, ".0f")
            w(f"| {case.name} | {b['data_us']:.0f} | {b['forward_us']:.0f} | {b['backward_us']:.0f} | "
              f"{b['optimizer_us']:.0f} | {b['step_us']:.0f} | {b['gemm_only_us']:.0f} | "
              f"{flop / (b['gemm_only_us'] * 1e-6) * 1e-9:.1f} | {pct(b['step_us'])} | "
              f"{pct(b['gemm_only_us'] + b['optimizer_us'])} |")
        w("")

    if "optim" in kinds:
        w("## Optimizer step alone (bytes moved per second against the memory copy bandwidth)")
        w("")
        w("Bytes per parameter and step: Adam 28 (reads x, g, m, v; writes x, m, v), SGD+momentum 20 (reads x, g, b; "
          f"writes x, b). Copy bandwidth: memcpy of a {copy_mib(a)} MiB buffer by the same number of threads, counted as "
          "2 x bytes copied, measured in the same rounds.")
        w("")
        w("| case | impl | ms/step [min-max] | GB/s moved | copy GB/s | % of copy | ratio vs PyTorch | peak RSS MiB |")
        w("|---|---|---|---|---|---|---|---|")
        for case in (c for c in cases if c.kind == "optim"):
            emit_optim_rows(case, w, flags)
        w("")

    targets = [] if a.quick else target_lines(cases, a)
    if targets:
        w("## Targets of issue 14, and issue 6's for the optimizer step (read off the tables above; the benchmark "
          "never fails on them)")
        w("")
        w("| target | measured | met |")
        w("|---|---|---|")
        for line in targets:
            w(line)
        w("")

    w("## Flags")
    w("")
    if flags:
        for f in flags:
            w(f"- {f}")
    else:
        w("- none: every run succeeded and every compared accuracy agrees with PyTorch's within 1 point.")
    w("")
    return "\n".join(lines), flags


def emit_compute_rows(case, w, flags, a):
    sizes = case.sizes
    if case.kind == "eval":
        n_examples, flops = N_TEST, forward_flops_per_example(sizes)
    else:
        n_examples, flops = case.n_train, train_flops_per_example(sizes)
    sgemm = med(case.ceiling)
    if case.ceiling_error:
        flags.append(f"{case.name}: sgemm reference failed: {case.ceiling_error}")
    stats = {impl: summarize(case, impl) for impl in case.impls}
    _, torch_seconds = torch_best(stats)
    torch_rate = n_examples / torch_seconds if torch_seconds else None
    peak = (getattr(a, "fma_peak", None) or {}).get("avx512_gflops") or (getattr(a, "fma_peak", None) or {}).get("avx2_gflops")
    for impl in case.impls:
        s = stats[impl]
        name = f"**{case.name}**" if impl == case.impls[0] else ""
        if s["seconds"] is None:
            w(f"| {name} | {impl} | FAILED: {s['error']} | | | | | | | | | |")
            flags.append(f"{case.name} / {impl}: FAILED ({s['error']})")
            continue
        if s["failed"]:
            flags.append(f"{case.name} / {impl}: {s['failed']} of {s['runs']} runs failed ({s['error']})")
        rate = n_examples / s["seconds"]
        gflops = rate * flops * 1e-9
        ratio = rate / torch_rate if torch_rate else None
        label = impl + (f" (chose {'/'.join(map(str, s['chosen']))} thread{'s' * (s['chosen'] != [1])})"
                        if s["chosen"] else "")
        if s["drift"] is not None and s["drift"] > DRIFT_LIMIT:
            flags.append(f"{case.name} / {impl}: the last epochs took {s['drift']:.2f}x the time of epochs 2-4 "
                         f"(median run; more than {DRIFT_LIMIT:.2f}x): something builds up during training")
        w(f"| {name} | {label} | {s['seconds']:.4g} [{s['min']:.3g}-{s['max']:.3g}] | {rate:,.0f} | "
          f"{fmt(ratio, '.2f')} | {gflops:.1f} | {fmt(sgemm, '.1f') if impl == case.impls[0] else ''} | "
          f"{fmt(gflops / sgemm * 100 if sgemm else None, '.0f')} | "
          f"{fmt(gflops / (peak * case.threads) * 100 if peak else None, '.0f')} | "
          f"{fmt(s['e10'] / s['e2'] if s['e2'] and s['e10'] else None, '.2f')} | {fmt(s['drift'], '.2f')} | "
          f"{fmt(s['rss_mib'], '.0f')} | {fmt(s['acc'] * 100 if s['acc'] is not None else None, '.2f')} |")
    ref = stats.get("pytorch", {}).get("acc")
    if case.compare_acc and ref is not None:
        for impl in case.impls:
            acc = stats[impl]["acc"]
            shorter = impl == "numpy" and NUMPY_EPOCHS < case.epochs   # fewer epochs: not comparable
            if not impl.startswith("pytorch") and not shorter and acc is not None and abs(acc - ref) * 100 > 1.0:
                what = ("accuracy differs (quick run: a tiny subset, not checked)" if a.quick
                        else "ACCURACY MISMATCH (more than 1 point)")
                mine, theirs = stats[impl]["accs"], stats["pytorch"]["accs"]
                spread = max(max(mine) - min(mine), max(theirs) - min(theirs))
                if min(len(mine), len(theirs)) < 2:
                    noise = "one run each, no seed-to-seed spread to compare with"
                else:
                    noise = ("within the seed-to-seed spread" if abs(acc - ref) <= spread
                             else "beyond the seed-to-seed spread") + f", {spread * 100:.1f} points"
                flags.append(f"{case.name}: {what}: {impl} {acc * 100:.2f}% vs PyTorch {ref * 100:.2f}% (mean of "
                             f"{len(mine)} and {len(theirs)} runs; per run {per_run(mine)} vs {per_run(theirs)}: "
                             f"{noise})")


def target_lines(cases, a):
    """Issue 14's targets, each with what this run measured: speed against PyTorch's faster setting,
    two threads against one, flat epochs, the products against the FMA peak, peak RSS; and issue 6's
    optimizer-step targets (against torch.optim and the copy bandwidth)."""
    lines = []

    def row(target, measured, met):
        lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")

    by_name = {c.name: c for c in cases}
    peak = (getattr(a, "fma_peak", None) or {}).get("avx512_gflops")
    for case in cases:
        stats = {impl: summarize(case, impl) for impl in case.impls}
        mine = stats.get("optlab", {}).get("seconds")
        torch_impl, ref = torch_best(stats)
        if not mine:
            continue
        if case.kind == "train" and case.batch == 128:
            d = stats["optlab"]["drift"]
            if d is not None:
                row(f"{case.name}: last 3 epochs within {(DRIFT_LIMIT - 1) * 100:.0f}% of epochs 2-4 (median run)",
                    f"{d:.2f}x", d <= DRIFT_LIMIT)
        if case.kind == "train" and case.sizes == [784, 256, 10] and case.batch == 128:
            speed_goal = 2.5 if case.threads == 1 else 3.0
            if ref:
                row(f"{case.name}: >= {speed_goal}x PyTorch's examples/s (its faster setting: {torch_impl})",
                    f"{ref / mine:.2f}x", ref / mine >= speed_goal)
            one = by_name.get(case.name.replace("-2t", "-1t"))
            if case.threads == 2 and one:
                t1 = summarize(one, "optlab")["seconds"]
                if t1:
                    row(f"{case.name}: 2 threads >= 1.6x 1 thread (epochs)", f"{t1 / mine:.2f}x", t1 / mine >= 1.6)
                    dflt = stats.get("optlab-default", {}).get("seconds")
                    if dflt:
                        best = min(t1, mine)
                        row(f"{case.name}: the default thread count (optlab-default) no slower than the faster of 1 and 2 "
                            "(within 3%)", f"{dflt / best:.2f}x the faster's time", dflt <= 1.03 * best)
            b = breakdown_medians(case)
            if case.threads == 1 and b and peak:
                rate = train_flops_per_example(case.sizes) * case.batch / (b["gemm_only_us"] * 1e-6) * 1e-9
                row(f"{case.name}: the step's products >= 60% of one core's AVX-512 FMA peak ({peak:.0f} GFLOP/s)",
                    f"{rate / peak * 100:.0f}%", rate >= 0.6 * peak)
            rss = stats["optlab"]["rss_mib"]
            if rss is not None:
                row(f"{case.name}: optlab peak RSS < 120 MiB", f"{rss:.0f} MiB", rss < 120)
        elif case.kind == "optim":
            copy = med(case.ceiling)
            ref = stats.get("pytorch", {}).get("seconds")
            if ref:
                row(f"{case.name}: >= 3x torch.optim's step", f"{ref / mine:.2f}x", ref / mine >= 3)
                if copy:
                    # the least time any step can take: its bytes moved at the measured copy bandwidth
                    floor = OPTIM_BYTES_PER_PARAM[case.opt] * case.n_params / (copy * 1e9)
                    row(f"{case.name}: 3x reachable at all (a step at the full copy bandwidth, "
                        f"{floor * 1e3:.2f} ms, vs torch.optim's {ref * 1e3:.2f} ms)", f"{ref / floor:.2f}x at most",
                        ref / floor >= 3)
            if copy:
                frac = OPTIM_BYTES_PER_PARAM[case.opt] * case.n_params / mine * 1e-9 / copy
                row(f"{case.name}: >= 50% of the copy bandwidth", f"{frac * 100:.0f}%", frac >= 0.5)
    return lines


def breakdown_medians(case):
    """Median of each step_time field over the rounds; None when no round succeeded."""
    keys = ("data_us", "forward_us", "backward_us", "optimizer_us", "step_us", "gemm_only_us")
    rounds = [b for b in case.breakdown if all(k in b for k in keys)]
    return {k: statistics.median(b[k] for b in rounds) for k in keys} if rounds else None


def per_run(accs):
    return "/".join(f"{x * 100:.1f}" for x in accs)


def emit_optim_rows(case, w, flags):
    bytes_per_step = OPTIM_BYTES_PER_PARAM[case.opt] * case.n_params
    copy = med(case.ceiling)
    if case.ceiling_error:
        flags.append(f"{case.name}: copy bandwidth reference failed: {case.ceiling_error}")
    stats = {impl: summarize(case, impl) for impl in case.impls}
    t_torch = stats.get("pytorch", {}).get("seconds")
    for impl in case.impls:
        s = stats[impl]
        name = f"**{case.name}**" if impl == case.impls[0] else ""
        if s["seconds"] is None:
            w(f"| {name} | {impl} | FAILED: {s['error']} | | | | | |")
            flags.append(f"{case.name} / {impl}: FAILED ({s['error']})")
            continue
        if s["failed"]:
            flags.append(f"{case.name} / {impl}: {s['failed']} of {s['runs']} runs failed ({s['error']})")
        gbps = bytes_per_step / s["seconds"] * 1e-9
        w(f"| {name} | {impl} | {s['seconds'] * 1e3:.2f} [{s['min'] * 1e3:.3g}-{s['max'] * 1e3:.3g}] | {gbps:.2f} | "
          f"{fmt(copy, '.2f') if impl == case.impls[0] else ''} | {fmt(gbps / copy * 100 if copy else None, '.0f')} | "
          f"{fmt(t_torch / s['seconds'] if t_torch else None, '.2f')} | {fmt(s['rss_mib'], '.0f')} |")


def versions_info():
    v = {}
    try:
        info = {}
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break   # the first processor's block is enough
                key, _, val = line.partition(":")
                info[key.strip()] = val.strip()
        v["cpu"] = info.get("model name", "?")
        vendor = info.get("vendor_id", "?")
        v["cpu vendor"] = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}.get(vendor, vendor)
        flags = info.get("flags", "").split()
        v["cpu id"] = (f"vendor_id {vendor}, family {info.get('cpu family', '?')}, model {info.get('model', '?')}, "
                       f"stepping {info.get('stepping', '?')}, "
                       + ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"))
    except OSError:
        pass
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        v["git"] = head + ("+uncommitted changes" if dirty else "") if head else "?"
    except (OSError, subprocess.SubprocessError):
        pass
    # the kernels in play: OpenBLAS's core (OPENBLAS_CORETYPE may force it) and optlab's own product's
    # kernel (optlab version), and the core's FMA peak (bench/fma_peak) they are both held against
    build = os.path.join(ROOT, "build")
    try:
        out = subprocess.run([os.path.join(build, "optlab"), "version"], capture_output=True, text=True,
                             timeout=30).stdout
        for line in out.splitlines():
            if ":" in line:
                key, val = line.split(":", 1)
                v[key.strip()] = val.strip()
        r = subprocess.run(["taskset", "-c", "0", os.path.join(build, "bench", "fma_peak")], capture_output=True,
                           text=True, timeout=60)
        v["fma_peak"] = json.loads(r.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        pass
    for mod in ("torch", "numpy"):
        try:
            r = subprocess.run([PYTHON, "-c", f"import {mod}; print({mod}.__version__)"], capture_output=True,
                               text=True, timeout=120)
            v[mod] = r.stdout.strip() if r.returncode == 0 else "not installed"
        except (OSError, subprocess.SubprocessError):
            v[mod] = "not installed"
    return v


def write_atomic(path, text):
    """Temporary name, flush, fsync, rename: never a half-written file under the real name."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def report_from_json(a, cases):
    """The report of an earlier run, from its raw results.json (e.g. after changing the report)."""
    with open(a.from_json) as f:
        raw = json.load(f)
    a.quick, a.reps, a.epochs = raw.get("quick", False), raw.get("reps", 0), raw.get("epochs", 0)
    by_name = {c.name: c for c in make_cases(a)}
    cases = []
    for rc in raw["cases"]:
        case = by_name.get(rc["name"])
        if case is None:
            print(f"run.py: {a.from_json}: unknown case {rc['name']}, skipped", file=sys.stderr)
            continue
        case.ceiling, case.ceiling_error = rc.get("ceiling", []), rc.get("ceiling_error")
        case.breakdown, case.breakdown_error = rc.get("breakdown", []), rc.get("breakdown_error")
        for r in rc["runs"]:
            child = Child(0, "", "", r.get("wall") or 0.0, r.get("rss_kib") or 0) if r.get("rss_kib") else None
            case.runs.append(Run(r["impl"], r["rep"], child, r.get("unit_seconds"), r.get("test_acc"),
                                 r.get("test_loss"), error=r.get("error"), extra=r.get("extra")))
        cases.append(case)
    text, flags = report(cases, a, raw.get("started", "?"), raw.get("wall_seconds", 0.0), raw.get("versions", {}),
                         raw.get("load_before"), raw.get("load_after"))
    print(text)
    write_atomic(a.out, text + "\n")
    print(f"run.py: wrote {os.path.relpath(a.out, ROOT)} from {a.from_json}; {len(flags)} flag(s)", file=sys.stderr)
    return 0


def main():
    p = argparse.ArgumentParser(description="optlab vs PyTorch (and numpy) on the same work; see bench/README.md")
    p.add_argument("--build", default="build", help="optlab's build directory (default build)")
    p.add_argument("--quick", action="store_true", help="smoke run: tiny subsets, 1 repetition (also BENCH_QUICK=1)")
    p.add_argument("--reps", type=int, default=0, help="repetitions per implementation (default 3; quick 1)")
    p.add_argument("--epochs", type=int, default=0, help="epochs per timed training run (default 2; quick 1)")
    p.add_argument("--cases", default="", help="comma-separated case names to run (default all; see --list)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--from-json", metavar="FILE",
                   help="run nothing: rebuild the report from a results.json an earlier run wrote")
    p.add_argument("--out", help="report file (default bench/results.md; quick runs: BUILD/bench/results-quick.md, "
                   "so a smoke run never replaces the real results)")
    a = p.parse_args()
    a.quick = a.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    a.reps = a.reps or (1 if a.quick else 3)
    if not a.out:
        build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
        a.out = os.path.join(build, "bench", "results-quick.md") if a.quick else os.path.join(ROOT, "bench", "results.md")
    cases = make_cases(a)
    if a.list:
        for c in cases:
            print(f"{c.name:16s} {c.title}")
        return 0
    if a.cases:
        wanted = set(a.cases.split(","))
        unknown = wanted - {c.name for c in cases}
        if unknown:
            p.error(f"unknown case(s): {', '.join(sorted(unknown))} (see --list)")
        cases = [c for c in cases if c.name in wanted]
    if a.from_json:
        return report_from_json(a, cases)
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))
    bench = Bench(a)
    try:
        return run_all(a, cases, bench)
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)


def run_all(a, cases, bench):
    if bench.missing:
        print(f"run.py: warning: not built: {', '.join(bench.missing)} (run `make bench`); their cells will fail",
              file=sys.stderr)
    versions = versions_info()
    versions["binaries"] = bench.binaries
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    progress = [0, sum(len(c.impls) for c in cases) * a.reps]
    for case in cases:
        print(f"== {case.name}: {case.title}", file=sys.stderr, flush=True)
        bench.run_case(case, progress)
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    raw = {"quick": a.quick, "reps": a.reps, "epochs": a.epochs, "versions": versions, "wall_seconds": wall,
           "started": started, "load_before": load_before, "load_after": load_after,
           "cases": [{"name": c.name, "title": c.title, "kind": c.kind, "threads": c.threads, "sizes": c.sizes,
                      "ceiling": c.ceiling, "ceiling_error": c.ceiling_error,
                      "breakdown": c.breakdown, "breakdown_error": c.breakdown_error,
                      "runs": [r.record() for r in c.runs]} for c in cases]}
    raw_path = os.path.join(bench.build, "bench", "results-quick.json" if a.quick else "results.json")
    try:
        os.makedirs(os.path.dirname(raw_path), exist_ok=True)
        write_atomic(raw_path, json.dumps(raw, indent=1) + "\n")
    except OSError as e:
        print(f"run.py: could not write {raw_path}: {e}", file=sys.stderr)
    text, flags = report(cases, a, started, wall, versions, load_before, load_after)
    print(text)
    write_atomic(a.out, text + "\n")
    print(f"run.py: wrote {os.path.relpath(a.out, ROOT)} in {wall / 60:.1f} min; {len(flags)} flag(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
