#!/usr/bin/python3
"""torch_optimize.py: the float64 torch.optim reference for `optlab optimize`.

Run with Debian's /usr/bin/python3 (torch 1.13), not a pyenv python3:

  /usr/bin/python3 tests/ref/torch_optimize.py --fn rosenbrock --x0 -1,1 --opt adam:amsgrad=1 \
      --lr 0.01 --steps 100 [--schedule cosine:t_max=100] [--warmup 10] [--clip-norm 1] \
      [--clip-value 0.5] [--seed 0] --trace trace.csv

Writes the trace CSV of DESIGN.md: header step,lr,f,x0,...,x{d-1}; row k = the iterate after k
steps, f at it and the lr that step k+1 uses, each number as %.17g; asgd adds its averaged
iterate ax0,...,ax{d-1} (x itself before the first step, as optlab's), sf-sgd and sf-adamw
their x sequence (the parameters are their y). lion, sf-sgd and sf-adamw are written by hand from
their papers and reference code (torch has none of them), lamb and lars as optax computes them.

Semantics it fixes for the C side (include/optlab/optim.h):
- torch.optim / torch.optim.lr_scheduler classes wherever torch has them; by hand: gd (SGD without
  momentum), heavyball, rmsprop with eps_inside=1, nadam (torch >= 2.0's formula, which torch 1.13
  gets wrong), random search (with a port of optlab's xoshiro256** + Box-Muller generator, so the
  trace matches the C one), inverse and inverse-sqrt schedules, and the warm-up.
- warm-up N: lr_t = L0 (t+1)/N for t < N, L0 = the schedule's lr at its step 0; then the schedule
  from its step 0.
- clipping: clip_grad_value_ first, then clip_grad_norm_; a non-finite norm stops with an error.
- lbfgs: one step is one LBFGS.step(closure); the closure evaluates f and its gradient and clips
  it as above (a non-finite norm at the first evaluation of a step stops with an error); max_eval
  left out is torch's max_iter * 5 // 4; line_search=none|strong_wolfe.
- rprop and lbfgs have no weight_decay in torch 1.13: the key is refused.
- cyclic and onecycle cycle the momentum (torch's default) only with cycle_momentum=1 (optlab's default is
  0); constant-factor is ConstantLR, multiplicative MultiplicativeLR with a constant factor; sequential
  and chain are SequentialLR and ChainedScheduler of the schedules in brackets (schedules=[A]/[B]), built
  in order on the one optimizer as torch's documentation does (constant inside them is a
  ConstantLR of factor 1); torch refuses plateau inside them, and so does this script.
- plateau is fed f at the new iterate after every step
  (ignored during warm-up); a onecycle schedule stepped past total_steps stops with an error before
  the refused step (exit status 1, trace up to the last good row).
- random search ignores lr, schedule and clipping; its seed defaults to 0.
"""
import argparse
import math
import sys

import torch

MASK = (1 << 64) - 1


def split_outside_brackets(text, sep):
    """text split at each sep outside [...] (a nested spec is one piece)"""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += (c == "[") - (c == "]")
        if c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def parse_spec(text):
    name, _, rest = text.partition(":")
    keys = {}
    if rest:
        for item in split_outside_brackets(rest, ","):
            k, eq, v = item.partition("=")
            if not eq or not k or not v:
                sys.exit("bad spec %r" % text)
            keys[k] = v
    return name, keys


def nested_specs(text):
    """"[A]/[B]/..." -> ["A", "B", ...]"""
    items = split_outside_brackets(text, "/")
    if not all(i.startswith("[") and i.endswith("]") for i in items):
        sys.exit("bad list of schedules %r" % text)
    return [i[1:-1] for i in items]


class Keys:
    """Typed access to spec keys; complains about keys nobody asked for."""

    def __init__(self, name, keys):
        self.name, self.keys, self.used = name, keys, set()

    def num(self, key, default=None):
        self.used.add(key)
        if key not in self.keys:
            return default
        return float(self.keys[key])

    def int(self, key, default=None):
        self.used.add(key)
        if key not in self.keys:
            return default
        return int(self.keys[key])

    def str(self, key, default=None):
        self.used.add(key)
        return self.keys.get(key, default)

    def done(self):
        extra = set(self.keys) - self.used
        if extra:
            sys.exit("unknown keys %s for %s" % (sorted(extra), self.name))


# ---- objectives (float64) ----

def objective(spec, d):
    name, keys = parse_spec(spec)
    k = Keys(name, keys)
    if name == "quadratic":
        kappa = k.num("kappa", 1.0)
        k.done()
        lam = torch.tensor([1.0 if d == 1 else kappa ** (i / (d - 1)) for i in range(d)], dtype=torch.float64)
        return lambda x: 0.5 * torch.sum(lam * x * x)
    k.done()
    if name == "rosenbrock":
        return lambda x: torch.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    if name == "rastrigin":
        return lambda x: 10 * d + torch.sum(x * x - 10 * torch.cos(2 * math.pi * x))
    if name == "himmelblau":
        if d != 2:
            sys.exit("himmelblau needs d = 2")
        return lambda x: (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2
    sys.exit("unknown function %r" % name)


# ---- optlab's generator (include/optlab/rng.h), bit for bit ----

class Rng:
    def __init__(self, seed):
        x = seed & MASK
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))
        self.spare = None

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        u1, u2 = self.uniform(), self.uniform()
        radius = math.sqrt(-2.0 * math.log(1.0 - u1))
        angle = 6.283185307179586 * u2
        self.spare = radius * math.sin(angle)
        return radius * math.cos(angle)


# ---- optimizers torch lacks (or gets wrong in 1.13) ----

class Manual(torch.optim.Optimizer):
    """A hand-written update on one float64 parameter; step() reads p.grad."""

    def __init__(self, p, lr, **defaults):
        super().__init__([p], dict(lr=lr, **defaults))
        self.t = 0

    def step(self):
        pass


class HeavyBall(Manual):
    """w+ = w - lr g + beta (w - w_prev), w_prev = w at the start; g += wd w."""

    def __init__(self, p, lr, beta, wd):
        super().__init__(p, lr)
        self.beta, self.wd, self.prev = beta, wd, None

    @torch.no_grad()
    def step(self):
        p = self.param_groups[0]["params"][0]
        lr = self.param_groups[0]["lr"]
        g = p.grad + self.wd * p
        if self.prev is None:
            self.prev = p.clone()
        new = p - lr * g + self.beta * (p - self.prev)
        self.prev = p.clone()
        p.copy_(new)


class NAdam2(Manual):
    """torch >= 2.0 NAdam: x -= lr (1-mu_t)/(1-P_t) g/d + lr mu_{t+1}/(1-P_t mu_{t+1}) m/d."""

    def __init__(self, p, lr, b1, b2, eps, wd, psi):
        super().__init__(p, lr, betas=(b1, b2))   # betas: a momentum schedule sets betas[0], as torch's NAdam
        self.b2, self.eps, self.wd, self.psi = b2, eps, wd, psi
        self.m = torch.zeros_like(p)
        self.v = torch.zeros_like(p)
        self.prod = 1.0

    @torch.no_grad()
    def step(self):
        p = self.param_groups[0]["params"][0]
        lr = self.param_groups[0]["lr"]
        self.t += 1
        t, b1, b2 = self.t, self.param_groups[0]["betas"][0], self.b2
        g = p.grad + self.wd * p
        bc2 = 1 - b2 ** t
        mu = b1 * (1. - 0.5 * (0.96 ** (t * self.psi)))
        mu_next = b1 * (1. - 0.5 * (0.96 ** ((t + 1) * self.psi)))
        self.prod *= mu
        self.m.mul_(b1).add_(g, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (self.v / bc2).sqrt().add_(self.eps)
        p.addcdiv_(g, denom, value=-lr * (1. - mu) / (1. - self.prod))
        p.addcdiv_(self.m, denom, value=-lr * mu_next / (1. - self.prod * mu_next))


class RMSpropInside(Manual):
    """RMSprop with the lecture's g / sqrt(v + eps) (eps_inside=1)."""

    def __init__(self, p, lr, alpha, eps, wd, momentum, centered):
        super().__init__(p, lr)
        self.alpha, self.eps, self.wd, self.mom, self.centered = alpha, eps, wd, momentum, centered
        self.v = torch.zeros_like(p)
        self.ga = torch.zeros_like(p)
        self.b = torch.zeros_like(p)

    @torch.no_grad()
    def step(self):
        p = self.param_groups[0]["params"][0]
        lr = self.param_groups[0]["lr"]
        g = p.grad + self.wd * p
        a = self.alpha
        self.v.mul_(a).addcmul_(g, g, value=1 - a)
        var = self.v
        if self.centered:
            self.ga.mul_(a).add_(g, alpha=1 - a)
            var = self.v - self.ga * self.ga
        d = (var + self.eps).sqrt()
        if self.mom > 0:
            self.b.mul_(self.mom).add_(g / d)
            p.add_(self.b, alpha=-lr)
        else:
            p.addcdiv_(g, d, value=-lr)


# ---- issue 19's modern optimizers, by hand from their papers / reference code ----

class Lion(Manual):
    """Chen et al. 2023, Algorithm 2: c = b1 m + (1-b1) g; p = p (1 - lr wd) - lr sign(c);
    m = b2 m + (1-b2) g."""

    def __init__(self, p, lr, b1, b2, wd):
        super().__init__(p, lr)
        self.b1, self.b2, self.wd = b1, b2, wd
        self.m = torch.zeros_like(p)

    @torch.no_grad()
    def step(self):
        p = self.param_groups[0]["params"][0]
        lr = self.param_groups[0]["lr"]
        g = p.grad
        c = self.m.clone().mul_(self.b1).add_(g, alpha=1 - self.b1)
        p.mul_(1 - lr * self.wd)
        p.add_(torch.sign(c), alpha=-lr)
        self.m.mul_(self.b2).add_(g, alpha=1 - self.b2)


class ScheduleFree(Manual):
    """Defazio et al. 2024 in the fused form of facebookresearch/schedule_free's sgd_schedulefree.py
    and adamw_schedulefree.py: only y (= p) and z are kept; y = lerp(y, z, c) + lr (b (1 - c) - 1) d,
    z -= lr d. The x of the trace's ax columns is recovered as the reference's eval() does,
    x = lerp(y, z, 1 - 1/b): optlab stores x instead, so the two are independent forms."""

    def __init__(self, p, lr, b, wd, warmup, adam=False, b2=0.999, eps=1e-8):
        super().__init__(p, lr)
        self.b, self.wd, self.warmup, self.adam, self.b2, self.eps = b, wd, warmup, adam, b2, eps
        self.z = p.detach().clone()
        self.v = torch.zeros_like(p)
        self.k, self.lr_max, self.weight_sum = 0, -1.0, 0.0

    def average(self, p):
        return p.detach().lerp(self.z, 1 - 1 / self.b)

    @torch.no_grad()
    def step(self):
        y = self.param_groups[0]["params"][0]
        k = self.k
        lr = self.param_groups[0]["lr"] * ((k + 1) / self.warmup if k < self.warmup else 1.0)
        if self.adam:
            lr *= math.sqrt(1 - self.b2 ** (k + 1))
        self.lr_max = max(lr, self.lr_max)
        weight = self.lr_max ** 2
        self.weight_sum += weight
        ckp1 = weight / self.weight_sum if self.weight_sum != 0 else 0
        grad = y.grad.clone()
        if self.adam:
            self.v.mul_(self.b2).addcmul_(grad, grad, value=1 - self.b2)
            grad = grad / self.v.sqrt().add_(self.eps)
        if self.wd != 0:
            grad.add_(y, alpha=self.wd)
        y.lerp_(self.z, ckp1)
        y.add_(grad, alpha=lr * (self.b * (1 - ckp1) - 1))
        self.z.sub_(grad, alpha=lr)
        self.k = k + 1


def trust_ratio(p, u, coef, eps):
    """optax's scale_by_trust_ratio over one tensor (optimize's x is one): 1 where a norm is 0"""
    pn, un = float(p.norm()), float(u.norm())
    return 1.0 if pn == 0 or un == 0 else coef * pn / (un + eps)


class Lamb(Manual):
    """You et al. 2019 as optax.lamb: u = adam's bias-corrected m^ / (sqrt(v^) + eps) + wd p;
    p -= lr (u r), r = ||p|| / ||u||."""

    def __init__(self, p, lr, b1, b2, eps, wd):
        super().__init__(p, lr)
        self.b1, self.b2, self.eps, self.wd = b1, b2, eps, wd
        self.m = torch.zeros_like(p)
        self.v = torch.zeros_like(p)

    @torch.no_grad()
    def step(self):
        p = self.param_groups[0]["params"][0]
        lr = self.param_groups[0]["lr"]
        self.t += 1
        g = p.grad
        self.m.mul_(self.b1).add_(g, alpha=1 - self.b1)
        self.v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
        u = (self.m / (1 - self.b1 ** self.t)) / ((self.v / (1 - self.b2 ** self.t)).sqrt() + self.eps) + self.wd * p
        p.add_(u * trust_ratio(p, u, 1.0, 0.0), alpha=-lr)


class Lars(Manual):
    """You et al. 2017 as optax.lars: u = g + wd p; r = eta ||p|| / (||u|| + eps); m = r u + mom m;
    p -= lr m."""

    def __init__(self, p, lr, mom, eta, eps, wd):
        super().__init__(p, lr)
        self.mom, self.eta, self.eps, self.wd = mom, eta, eps, wd
        self.m = torch.zeros_like(p)

    @torch.no_grad()
    def step(self):
        p = self.param_groups[0]["params"][0]
        lr = self.param_groups[0]["lr"]
        u = p.grad + self.wd * p
        self.m = u * trust_ratio(p, u, self.eta, self.eps) + self.mom * self.m
        p.add_(self.m, alpha=-lr)


class Adafactor(Manual):
    """torch >= 2.5's Adafactor (torch 1.13 has none) for a vector, written from its documented
    algorithm: alpha = max(eps2, RMS(p)) min(lr, 1/sqrt(t)); p *= 1 - lr wd; v = lerp(v, g^2, t^beta2_decay);
    u = g / sqrt(max(v, eps1^2)); p -= alpha / max(1, RMS(u) / d) u."""

    def __init__(self, p, lr, beta2_decay, eps1, eps2, d, wd):
        super().__init__(p, lr)
        self.decay, self.eps1, self.eps2, self.d, self.wd = beta2_decay, eps1, eps2, d, wd
        if self.eps1 is None or self.eps1 < 0:
            self.eps1 = torch.finfo(torch.float64).eps
        self.v = torch.zeros_like(p)

    @torch.no_grad()
    def step(self):
        p = self.param_groups[0]["params"][0]
        lr = self.param_groups[0]["lr"]
        self.t += 1
        n = p.numel()
        alpha = max(self.eps2, float(p.norm()) / math.sqrt(n)) * min(lr, 1 / math.sqrt(self.t))
        if self.wd != 0:
            p.mul_(1 - lr * self.wd)
        g = p.grad
        self.v.lerp_(g * g, self.t ** self.decay)
        u = g / self.v.clamp(min=self.eps1 * self.eps1).sqrt()
        denom = max(1.0, float(u.norm()) / (math.sqrt(n) * self.d))
        p.add_(u, alpha=-alpha / denom)


def make_optimizer(spec, p, lr):
    name, keys = parse_spec(spec)
    k = Keys(name, keys)
    wd = lambda default=0.0: k.num("weight_decay", default)
    if name == "gd":
        opt = torch.optim.SGD([p], lr=lr, weight_decay=wd())
    elif name == "sgd":
        opt = torch.optim.SGD([p], lr=lr, momentum=k.num("momentum", 0.0), dampening=k.num("dampening", 0.0),
                              nesterov=bool(k.int("nesterov", 0)), weight_decay=wd())
    elif name == "heavyball":
        opt = HeavyBall(p, lr, k.num("beta", 0.9), wd())
    elif name == "adagrad":
        opt = torch.optim.Adagrad([p], lr=lr, lr_decay=k.num("lr_decay", 0.0), weight_decay=wd(),
                                  initial_accumulator_value=k.num("initial_accumulator_value", 0.0),
                                  eps=k.num("eps", 1e-10))
    elif name == "rmsprop":
        args = dict(alpha=k.num("alpha", 0.99), eps=k.num("eps", 1e-8), weight_decay=wd(),
                    momentum=k.num("momentum", 0.0), centered=bool(k.int("centered", 0)))
        if k.int("eps_inside", 0):
            opt = RMSpropInside(p, lr, args["alpha"], args["eps"], args["weight_decay"], args["momentum"],
                                args["centered"])
        else:
            opt = torch.optim.RMSprop([p], lr=lr, **args)
    elif name in ("adam", "adamw", "nadam", "radam"):
        betas = (k.num("beta1", 0.9), k.num("beta2", 0.999))
        eps = k.num("eps", 1e-8)
        if name == "adam":
            opt = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps, weight_decay=wd(),
                                   amsgrad=bool(k.int("amsgrad", 0)))
        elif name == "adamw":
            opt = torch.optim.AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=wd(0.01),
                                    amsgrad=bool(k.int("amsgrad", 0)))
        elif name == "nadam":
            opt = NAdam2(p, lr, betas[0], betas[1], eps, wd(), k.num("momentum_decay", 4e-3))
        else:
            opt = torch.optim.RAdam([p], lr=lr, betas=betas, eps=eps, weight_decay=wd())
    elif name == "adadelta":
        opt = torch.optim.Adadelta([p], lr=lr, rho=k.num("rho", 0.9), eps=k.num("eps", 1e-6), weight_decay=wd())
    elif name == "adamax":
        opt = torch.optim.Adamax([p], lr=lr, betas=(k.num("beta1", 0.9), k.num("beta2", 0.999)),
                                 eps=k.num("eps", 1e-8), weight_decay=wd())
    elif name == "asgd":
        opt = torch.optim.ASGD([p], lr=lr, lambd=k.num("lambd", 1e-4), alpha=k.num("alpha", 0.75),
                               t0=k.num("t0", 1e6), weight_decay=wd())
    elif name == "rprop":
        opt = torch.optim.Rprop([p], lr=lr, etas=(k.num("eta_minus", 0.5), k.num("eta_plus", 1.2)),
                                step_sizes=(k.num("step_min", 1e-6), k.num("step_max", 50.0)))
    elif name == "lbfgs":
        search = k.str("line_search", "none")
        if search not in ("none", "strong_wolfe"):
            sys.exit("bad line_search %r" % search)
        opt = torch.optim.LBFGS([p], lr=lr, max_iter=k.int("max_iter", 20), max_eval=k.int("max_eval", None),
                                tolerance_grad=k.num("tolerance_grad", 1e-7),
                                tolerance_change=k.num("tolerance_change", 1e-9),
                                history_size=k.int("history_size", 100),
                                line_search_fn=None if search == "none" else search)
    elif name == "lion":
        opt = Lion(p, lr, k.num("beta1", 0.9), k.num("beta2", 0.99), wd())
    elif name == "sf-sgd":
        opt = ScheduleFree(p, lr, k.num("momentum", 0.9), wd(), k.int("warmup_steps", 0))
    elif name == "sf-adamw":
        opt = ScheduleFree(p, lr, k.num("beta1", 0.9), wd(), k.int("warmup_steps", 0), adam=True,
                           b2=k.num("beta2", 0.999), eps=k.num("eps", 1e-8))
    elif name == "lamb":
        opt = Lamb(p, lr, k.num("beta1", 0.9), k.num("beta2", 0.999), k.num("eps", 1e-6), wd())
    elif name == "lars":
        opt = Lars(p, lr, k.num("momentum", 0.9), k.num("trust_coefficient", 1e-3), k.num("eps", 0.0), wd())
    elif name == "adafactor":
        opt = Adafactor(p, lr, k.num("beta2_decay", -0.8), k.num("eps1", -1.0), k.num("eps2", 1e-3), k.num("d", 1.0),
                        wd())
    elif name == "muon":   # optimize's x is a vector: torch's Muon leaves it to AdamW, at its lr and decay
        k.num("momentum", 0.95), k.int("nesterov", 1), k.int("ns_steps", 5)
        opt = torch.optim.AdamW([p], lr=lr, betas=(k.num("beta1", 0.9), k.num("beta2", 0.999)), eps=k.num("eps", 1e-8),
                                weight_decay=wd(0.1))
    elif name == "random":
        opt = Manual(p, lr)
        opt.sigma = k.num("sigma", 0.1)
        opt.samples = k.int("samples", 1)
    else:
        sys.exit("unknown optimizer %r" % name)
    k.done()
    opt.kind = name
    return opt


# ---- schedules ----

class Closed:
    """A schedule torch lacks, as a closed form of the schedule's step e."""

    def __init__(self, opt, fn):
        self.opt, self.fn, self.e = opt, fn, 0
        opt.param_groups[0]["lr"] = fn(0)

    def step(self):
        self.e += 1
        self.opt.param_groups[0]["lr"] = self.fn(self.e)


def make_schedule(spec, opt, base):
    """Returns (scheduler or None, is_plateau); sets the group's lr to the schedule's step-0 lr."""
    if not spec:
        return None, False
    name, keys = parse_spec(spec)
    k = Keys(name, keys)
    S = torch.optim.lr_scheduler
    if name == "constant":
        s = None
    elif name == "step":
        s = S.StepLR(opt, step_size=k.int("step_size"), gamma=k.num("gamma", 0.1))
    elif name == "multistep":
        s = S.MultiStepLR(opt, milestones=[int(m) for m in k.str("milestones").split("/")], gamma=k.num("gamma", 0.1))
    elif name == "exponential":
        s = S.ExponentialLR(opt, gamma=k.num("gamma"))
    elif name == "cosine":
        s = S.CosineAnnealingLR(opt, T_max=k.int("t_max"), eta_min=k.num("eta_min", 0.0))
    elif name == "cosine-restarts":
        s = S.CosineAnnealingWarmRestarts(opt, T_0=k.int("t_0"), T_mult=k.int("t_mult", 1), eta_min=k.num("eta_min", 0.0))
    elif name == "cyclic":
        up = k.int("step_size_up", 2000)
        s = S.CyclicLR(opt, base_lr=k.num("base_lr", base), max_lr=k.num("max_lr"), step_size_up=up,
                       step_size_down=k.int("step_size_down", up), mode=k.str("mode", "triangular"),
                       gamma=k.num("gamma", 1.0), cycle_momentum=bool(k.int("cycle_momentum", 0)),
                       base_momentum=k.num("base_momentum", 0.8), max_momentum=k.num("max_momentum", 0.9))
    elif name == "onecycle":
        s = S.OneCycleLR(opt, max_lr=k.num("max_lr", base), total_steps=k.int("total_steps"),
                         pct_start=k.num("pct_start", 0.3), anneal_strategy=k.str("anneal", "cos"),
                         div_factor=k.num("div_factor", 25.0), final_div_factor=k.num("final_div_factor", 1e4),
                         cycle_momentum=bool(k.int("cycle_momentum", 0)), base_momentum=k.num("base_momentum", 0.85),
                         max_momentum=k.num("max_momentum", 0.95), three_phase=False)
    elif name == "constant-factor":
        s = S.ConstantLR(opt, factor=k.num("factor", 1.0 / 3), total_iters=k.int("total_iters", 5))
    elif name == "multiplicative":
        factor = k.num("factor")
        s = S.MultiplicativeLR(opt, lr_lambda=lambda e: factor)
    elif name in ("sequential", "chain"):
        children = []
        for child in nested_specs(k.str("schedules")):
            c, c_plateau = make_schedule(child, opt, base)
            if c_plateau:   # pytorch#68978: SequentialLR steps it without a metric
                sys.exit("torch cannot put ReduceLROnPlateau in %s" % name)
            children.append(c if c is not None else S.ConstantLR(opt, factor=1.0, total_iters=1))
        if name == "sequential":
            s = S.SequentialLR(opt, schedulers=children, milestones=[int(m) for m in k.str("milestones").split("/")])
        else:
            s = S.ChainedScheduler(children)
    elif name == "linear":
        s = S.LinearLR(opt, start_factor=k.num("start_factor", 1.0 / 3), end_factor=k.num("end_factor", 1.0),
                       total_iters=k.int("total_iters", 5))
    elif name == "poly":
        s = S.PolynomialLR(opt, total_iters=k.int("total_iters", 5), power=k.num("power", 1.0))
    elif name in ("inverse", "inverse-sqrt"):
        c = k.num("c", 1.0)
        alpha = k.num("alpha", c * base)
        if name == "inverse":
            s = Closed(opt, lambda e: alpha / (c + e))
        else:
            s = Closed(opt, lambda e: alpha / (c + math.sqrt(e)))
    elif name == "plateau":
        s = S.ReduceLROnPlateau(opt, mode="min", factor=k.num("factor", 0.1), patience=k.int("patience", 10),
                                threshold=k.num("threshold", 1e-4), threshold_mode="rel",
                                cooldown=k.int("cooldown", 0), min_lr=k.num("min_lr", 0.0), eps=1e-8)
        k.done()
        return s, True
    else:
        sys.exit("unknown schedule %r" % name)
    k.done()
    return s, False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fn", required=True)
    ap.add_argument("--x0", required=True)
    ap.add_argument("--opt", required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--schedule", default="")
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--clip-norm", type=float, default=0.0)
    ap.add_argument("--clip-value", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trace", required=True)
    argv = sys.argv[1:]
    for i in range(len(argv) - 1):          # "--x0 -1,1": argparse would take -1,1 for an option
        if argv[i] == "--x0":
            argv[i:i + 2] = ["--x0=" + argv[i + 1], ""]
    a = ap.parse_args([v for v in argv if v != ""])

    torch.set_default_dtype(torch.float64)
    x0 = [float(v) for v in a.x0.split(",")]
    d = len(x0)
    f = objective(a.fn, d)
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(a.opt, p, a.lr)
    import warnings
    warnings.filterwarnings("ignore")
    sched, plateau = make_schedule(a.schedule, opt, a.lr)
    group = opt.param_groups[0]
    l0 = group["lr"]                      # the schedule's step-0 lr
    N = a.warmup
    if N > 0:
        group["lr"] = l0 * (0 + 1) / N
    rng = Rng(a.seed)
    fx_cache = [None]

    def fval(x):
        with torch.no_grad():
            return float(f(x))

    rows = []

    def record(k):
        row = [k, group["lr"], fval(p)] + [float(v) for v in p.detach()]
        if opt.kind == "asgd":
            ax = opt.state[p]["ax"] if "ax" in opt.state[p] else p.detach()
            row += [float(v) for v in ax]
        elif opt.kind in ("sf-sgd", "sf-adamw"):
            row += [float(v) for v in opt.average(p)]
        rows.append(row)

    class NotFinite(Exception):
        pass

    def clip():
        if a.clip_value > 0:
            torch.nn.utils.clip_grad_value_([p], a.clip_value)
        if a.clip_norm > 0:
            return float(torch.nn.utils.clip_grad_norm_([p], a.clip_norm))
        return 0.0

    evals = [0]

    def closure():
        """lbfgs's: f and its clipped gradient at p"""
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        norm = clip()
        evals[0] += 1
        if evals[0] == 1 and not (math.isfinite(norm) and math.isfinite(float(loss))):
            raise NotFinite()
        return loss

    record(0)
    status = 0
    for k in range(1, a.steps + 1):
        if opt.kind == "random":
            with torch.no_grad():
                if fx_cache[0] is None:
                    fx_cache[0] = fval(p)
                x_start = [float(v) for v in p]
                fx = fx_cache[0]
                best = math.inf if math.isnan(fx) else fx
                best_x, best_f = None, fx
                for _ in range(opt.samples):
                    cand = [x_start[i] + opt.sigma * rng.normal() for i in range(d)]
                    fc = fval(torch.tensor(cand))
                    if (math.inf if math.isnan(fc) else fc) < best:
                        best, best_f, best_x = fc, fc, cand
                if best_x is not None:
                    p.copy_(torch.tensor(best_x))
                fx_cache[0] = best_f
        elif opt.kind == "lbfgs":
            evals[0] = 0
            try:
                opt.step(closure)
            except NotFinite:
                print("step %d: f or the gradient norm is not finite" % k, file=sys.stderr)
                status = 1
                break
        else:
            opt.zero_grad()
            f(p).backward()
            if not math.isfinite(clip()):
                print("step %d: gradient norm is not finite" % k, file=sys.stderr)
                status = 1
                break
            opt.step()
        # the schedule, stepped once after each optimizer step
        try:
            if k < N:
                group["lr"] = l0 * (k + 1) / N
            elif k == N:
                group["lr"] = l0
            elif sched is not None and not plateau:
                sched.step()
            if plateau and k >= N:
                sched.step(fval(p))
        except ValueError as e:   # onecycle past total_steps
            print("step %d: %s" % (k, e), file=sys.stderr)
            status = 1
            break
        record(k)

    with open(a.trace, "w") as out:
        ax = "".join(",ax%d" % i for i in range(d)) if opt.kind in ("asgd", "sf-sgd", "sf-adamw") else ""
        out.write("step,lr,f," + ",".join("x%d" % i for i in range(d)) + ax + "\n")
        for r in rows:
            out.write("%d," % r[0] + ",".join("%.17g" % v for v in r[1:]) + "\n")
    sys.exit(status)


if __name__ == "__main__":
    main()
