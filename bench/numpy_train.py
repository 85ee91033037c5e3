#!/usr/bin/python3
"""numpy_train.py: the same training loop written by hand in numpy (the third column of `make bench`).

  numpy_train.py --sizes 784-256-10 --lr 0.1 --momentum 0.9 --batch 128 --epochs E --seed S
                 [--subset N] [--data DIR]

MLP with ReLU, torch's default init drawn with numpy's generator (weights and biases
U(+-1/sqrt(fan_in)), which is kaiming-uniform with a = sqrt(5)), weights stored (in, out) like
optlab's, float32 throughout, images uint8 converted per batch; a new permutation each epoch, the
last batch smaller; softmax cross-entropy (mean) and its gradient written out; SGD with momentum as
torch.optim.SGD (b = g on the first step, then b = mu b + g; x -= lr b). Threads: the BLAS's own,
from OPENBLAS_NUM_THREADS / OMP_NUM_THREADS in the environment (the driver sets them).
Prints one JSON line as torch_train.py does."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_data  # noqa: E402

import numpy as np  # noqa: E402


def forward(weights, biases, x):
    """Activations of every layer; the last one is the logits."""
    acts = [x]
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = acts[-1] @ w
        z += b
        if i < len(weights) - 1:
            np.maximum(z, 0, out=z)
        acts.append(z)
    return acts


def loss_and_grad_logits(logits, y):
    """Mean softmax cross-entropy and its gradient with respect to the logits (in place)."""
    rows = np.arange(y.shape[0])
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    s = logits.sum(axis=1, keepdims=True)
    logits /= s
    loss = float(-np.log(logits[rows, y] + 1e-30).mean())
    logits[rows, y] -= 1
    logits /= y.shape[0]
    return loss, logits


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="784-256-10")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--subset", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="recorded only: set the BLAS's env variables")
    p.add_argument("--data", default=bench_data.DEFAULT_DIR)
    a = p.parse_args()
    sizes = [int(s) for s in a.sizes.split("-")]
    rng = np.random.default_rng(a.seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        biases.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    params = weights + biases
    bufs = [None] * len(params)
    x_train, y_train, x_test, y_test = bench_data.load(a.data, a.subset)
    n = x_train.shape[0]
    n_layers = len(weights)
    epoch_seconds, steps = [], 0
    for _epoch in range(a.epochs):
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        loss_sum = 0.0
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            xb = x_train[idx].astype(np.float32)
            xb /= np.float32(255)
            yb = y_train[idx]
            acts = forward(weights, biases, xb)
            loss, d = loss_and_grad_logits(acts[-1], yb)
            grads_w, grads_b = [None] * n_layers, [None] * n_layers
            for l in range(n_layers - 1, -1, -1):
                grads_w[l] = acts[l].T @ d
                grads_b[l] = d.sum(axis=0)
                if l > 0:
                    d = d @ weights[l].T
                    d *= acts[l] > 0
            for k, (x, g) in enumerate(zip(params, grads_w + grads_b)):
                if bufs[k] is None:
                    bufs[k] = g.copy()
                else:
                    bufs[k] *= np.float32(a.momentum)
                    bufs[k] += g
                x -= np.float32(a.lr) * bufs[k]
            loss_sum += loss * idx.shape[0]
            steps += 1
        epoch_seconds.append(time.perf_counter() - t0)
    loss_sum_test, correct = 0.0, 0
    for i in range(0, x_test.shape[0], 1000):
        xb = x_test[i:i + 1000].astype(np.float32) / np.float32(255)
        yb = y_test[i:i + 1000]
        logits = forward(weights, biases, xb)[-1]
        correct += int((logits.argmax(axis=1) == yb).sum())
        loss, _ = loss_and_grad_logits(logits, yb)
        loss_sum_test += loss * yb.shape[0]
    print(json.dumps({"epoch_seconds": epoch_seconds, "steps": steps, "n_train": n,
                      "train_loss": loss_sum / n, "test_loss": loss_sum_test / x_test.shape[0],
                      "test_acc": correct / x_test.shape[0], "threads": a.threads,
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()
