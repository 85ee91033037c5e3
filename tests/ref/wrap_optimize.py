#!/usr/bin/python3
"""wrap_optimize.py: an independent numpy float64 reference for optlab's optimizer wrappers
(lookahead, sam) on `optlab optimize`'s analytic functions; tests/test_optim_wrap.c compares
`optlab optimize --trace` with the traces this writes (committed in tests/ref/wrap_traces/, so the
test needs no python). Written from the papers, not from optlab's C:

- lookahead (Zhang et al. 2019, Algorithm 1): phi = x0; every inner step x <- inner(x); after the
  k-th, 2k-th, ... inner step phi <- phi + alpha (x - phi), x <- phi.
- sam (Foret et al. 2021, Algorithm 1 and the authors' reference code): g = grad f(w);
  e = rho g / (||g|| + 1e-12); g' = grad f(w + e); the inner optimizer steps from w with g'.
- inner optimizers: sgd (torch's momentum buffer: b = mu b + g, x -= lr b; b = g at the first step)
  and adam (torch's formula), constant lr.

  /usr/bin/python3 tests/ref/wrap_optimize.py --fn rosenbrock --x0 -1.5,2 \
      --opt lookahead:k=5,alpha=0.5,inner=sgd:momentum=0.9 --lr 0.0005 --steps 60 --trace T.csv

The trace: step,lr,f,x0,...: row k = the iterate after k steps, f there, the lr of step k+1 (%.17g).
"""
import argparse
import sys

import numpy as np


def rosenbrock(x):
    f = 0.0
    g = np.zeros_like(x)
    for i in range(len(x) - 1):
        a, b = 1 - x[i], x[i + 1] - x[i] ** 2
        f += a * a + 100 * b * b
        g[i] += -2 * a - 400 * x[i] * b
        g[i + 1] += 200 * b
    return f, g


def himmelblau(x):
    a = x[0] ** 2 + x[1] - 11
    b = x[0] + x[1] ** 2 - 7
    return a * a + b * b, np.array([4 * a * x[0] + 2 * b, 2 * a + 4 * b * x[1]])


FUNCTIONS = {"rosenbrock": rosenbrock, "himmelblau": himmelblau}


def parse_keys(text):
    keys = {}
    for kv in text.split(","):
        k, v = kv.split("=", 1)
        keys[k] = float(v)
    return keys


def parse(spec):
    """a chain of (wrapper, keys), outermost first, and the inner (name, keys)"""
    chain = []
    while spec.startswith(("lookahead", "sam")):
        head, inner = spec.split("inner=", 1)
        head = head.rstrip(":,")
        name, _, rest = head.partition(":")
        chain.append((name, parse_keys(rest) if rest else {}))
        spec = inner
    name, _, rest = spec.partition(":")
    return chain, (name, parse_keys(rest) if rest else {})


class Sgd:
    def __init__(self, keys, lr):
        self.mu, self.lr, self.b = keys.get("momentum", 0.0), lr, None

    def step(self, x, g):
        if self.mu:
            self.b = g.copy() if self.b is None else self.mu * self.b + g
            g = self.b
        return x - self.lr * g


class Adam:
    def __init__(self, keys, lr):
        self.b1, self.b2 = keys.get("beta1", 0.9), keys.get("beta2", 0.999)
        self.eps, self.lr, self.t, self.m, self.v = keys.get("eps", 1e-8), lr, 0, 0.0, 0.0

    def step(self, x, g):
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        bc1, bc2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        denom = np.sqrt(self.v) / np.sqrt(bc2) + self.eps
        return x - (self.lr / bc1) * self.m / denom


def make_step(chain, base, fn):
    """step(x, g) -> new x, g the gradient at x; the chain's layers from the outermost in"""
    if not chain:
        return base.step
    (name, keys), rest = chain[0], chain[1:]
    inner = make_step(rest, base, fn)
    if name == "sam":
        rho = keys.get("rho", 0.05)

        def sam_step(x, g):
            e = rho * g / (np.sqrt(np.sum(g * g)) + 1e-12)
            _, g2 = fn(x + e)
            return inner(x, g2)
        return sam_step
    k, alpha = int(keys.get("k", 5)), keys.get("alpha", 0.5)
    state = {"phi": None, "count": 0}

    def lookahead_step(x, g):
        if state["phi"] is None:
            state["phi"] = x.copy()
        x = inner(x, g)
        state["count"] += 1
        if state["count"] % k == 0:
            state["phi"] = state["phi"] + alpha * (x - state["phi"])
            x = state["phi"].copy()
        return x
    return lookahead_step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fn", required=True)
    ap.add_argument("--x0", required=True)
    ap.add_argument("--opt", required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--trace", required=True)
    argv, args = sys.argv[1:], []   # "--x0 -1.5,2": argparse would take -1.5,2 for a flag
    for i, w in enumerate(argv):
        if i and argv[i - 1] == "--x0":
            args[-1] += "=" + w
        else:
            args.append(w)
    a = ap.parse_args(args)
    fn = FUNCTIONS[a.fn]
    x = np.array([float(v) for v in a.x0.split(",")])
    chain, (name, keys) = parse(a.opt)
    base = {"sgd": Sgd, "adam": Adam}[name](keys, a.lr)
    step = make_step(chain, base, fn)
    with open(a.trace, "w") as out:
        out.write("step,lr,f," + ",".join("x%d" % i for i in range(len(x))) + "\n")
        for k in range(a.steps + 1):
            f, g = fn(x)
            out.write("%d,%.17g,%.17g,%s\n" % (k, a.lr, f, ",".join("%.17g" % v for v in x)))
            if k < a.steps:
                x = step(x, g)


if __name__ == "__main__":
    main()
