#!/usr/bin/python3
"""torch_optim_step.py: torch.optim's step alone on one flat float32 tensor, timed.

  torch_optim_step.py --opt adam|sgd --lr X [--momentum M] --n N --steps S --threads T

One nn.Parameter of N float32 with a fixed random .grad, the optimizer with torch's defaults
(Adam; SGD with momentum), 2 warm-up steps (the state is allocated on the first), then S steps timed
one by one. Prints one JSON line: median and best seconds per step. The counterpart of
bench/optim_step.c."""
import argparse
import json
import time

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--opt", choices=["adam", "sgd"], required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(1)
    x = torch.nn.Parameter(torch.rand(a.n, generator=gen) - 0.5)
    x.grad = 1e-2 * (torch.rand(a.n, generator=gen) - 0.5)
    opt = (torch.optim.Adam([x], lr=a.lr) if a.opt == "adam"
           else torch.optim.SGD([x], lr=a.lr, momentum=a.momentum))
    for _ in range(2):
        opt.step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - t0)
    if not torch.isfinite(x.detach()[::997]).all():
        raise SystemExit("parameters became non-finite")
    times.sort()
    k = len(times)
    median = times[k // 2] if k % 2 else 0.5 * (times[k // 2 - 1] + times[k // 2])
    print(json.dumps({"seconds": median, "seconds_best": times[0], "n": a.n, "steps": a.steps,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
