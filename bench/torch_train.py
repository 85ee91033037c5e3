#!/usr/bin/python3
"""torch_train.py: the PyTorch side of `make bench`: the same work optlab does, timed the same way.

  torch_train.py train --sizes 784-256-10 --opt sgd|adam|gd --lr X [--momentum M] --batch B|full
                       --epochs E --threads T --seed S [--subset N] [--data DIR]
  torch_train.py eval  --model F.bin --threads T --reps R [--data DIR]

train: nn.Sequential of nn.Linear + ReLU with torch's default init (the one optlab copies:
kaiming-uniform a=sqrt(5), biases U(+-1/sqrt(fan_in))), images kept uint8 and converted per batch
(pixel / 255), a new random permutation each epoch cut into batches (the last one smaller),
F.cross_entropy, zero_grad(set_to_none=True), the torch.optim optimizer with its defaults.
Each epoch's training time is measured without evaluation; the 10k test set is evaluated once at
the end (batches of 1000, no_grad).
eval: loads optlab's saved model file (weights (in, out) -> nn.Linear's (out, in)) and times the
test-set evaluation R times, after one warm-up pass.
Prints one JSON line on stdout. Deliberately not: DataLoader workers, torch.compile, JIT, MKL-DNN
tuning: stock CPU PyTorch as a user would write the loop."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_data  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def make_model(sizes):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


@torch.no_grad()
def evaluate(model, x_test, y_test, batch=1000):
    """(mean loss, accuracy) over the test set; uint8 -> float per batch, as optlab does."""
    loss_sum, correct = 0.0, 0
    for i in range(0, x_test.shape[0], batch):
        xb = x_test[i:i + batch].float().div_(255)
        yb = y_test[i:i + batch]
        logits = model(xb)
        loss_sum += F.cross_entropy(logits, yb, reduction="sum").item()
        correct += (logits.argmax(1) == yb).sum().item()
    n = x_test.shape[0]
    return loss_sum / n, correct / n


def train(a):
    sizes = [int(s) for s in a.sizes.split("-")]
    torch.manual_seed(a.seed)
    x_train, y_train, x_test, y_test = (torch.from_numpy(np.ascontiguousarray(v))
                                        for v in bench_data.load(a.data, a.subset))
    model = make_model(sizes)
    params = list(model.parameters())
    if a.opt == "sgd":
        opt = torch.optim.SGD(params, lr=a.lr, momentum=a.momentum)
    elif a.opt == "gd":
        opt = torch.optim.SGD(params, lr=a.lr)
    elif a.opt == "adam":
        opt = torch.optim.Adam(params, lr=a.lr)
    else:
        raise SystemExit(f"unknown --opt {a.opt}")
    n = x_train.shape[0]
    batch = n if a.batch == "full" else int(a.batch)
    gen = torch.Generator().manual_seed(a.seed)
    epoch_seconds, steps = [], 0
    for _epoch in range(a.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        loss_sum = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb = x_train[idx].float().div_(255)
            yb = y_train[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * idx.shape[0]
            steps += 1
        train_loss = float(loss_sum) / n
        epoch_seconds.append(time.perf_counter() - t0)
    test_loss, test_acc = evaluate(model, x_test, y_test)
    return {"epoch_seconds": epoch_seconds, "steps": steps, "n_train": n, "train_loss": train_loss,
            "test_loss": test_loss, "test_acc": test_acc}


def evaluate_saved(a):
    spec, sizes, layers, mean, inv_std = bench_data.read_optlab_model(a.model)
    if "act=" in spec and "act=relu" not in spec:
        raise SystemExit(f"{a.model}: only ReLU models are supported here ({spec})")
    if mean != 0.0 or inv_std != 1.0:
        raise SystemExit(f"{a.model}: normalized-input models are not supported here")
    model = make_model(sizes)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, (w, b) in zip(linears, layers):
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
            lin.bias.copy_(torch.from_numpy(np.array(b)))
    _, _, x_test, y_test = bench_data.load(a.data)
    x_test, y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)
    evaluate(model, x_test, y_test)  # warm-up
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        test_loss, test_acc = evaluate(model, x_test, y_test)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"seconds": times[len(times) // 2] if len(times) % 2 else
            0.5 * (times[len(times) // 2 - 1] + times[len(times) // 2]),
            "seconds_all": times, "n": int(x_test.shape[0]), "test_loss": test_loss, "test_acc": test_acc}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("train")
    t.add_argument("--sizes", default="784-256-10")
    t.add_argument("--opt", default="sgd", choices=["sgd", "adam", "gd"])
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--momentum", type=float, default=0.9)
    t.add_argument("--batch", default="128")
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--subset", type=int, default=0)
    e = sub.add_parser("eval")
    e.add_argument("--model", required=True)
    e.add_argument("--reps", type=int, default=5)
    for q in (t, e):
        q.add_argument("--threads", type=int, default=1)
        q.add_argument("--seed", type=int, default=1)
        q.add_argument("--data", default=bench_data.DEFAULT_DIR)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    out = train(a) if a.mode == "train" else evaluate_saved(a)
    out.update({"threads": torch.get_num_threads(), "torch": torch.__version__})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
