"""Class-aware multi-label plans: time and memory for 1e6 samples x 100 labels.

Labels: 100 labels whose positive rates fall geometrically from 0.3 to 0.0003
(imbalance ratio 1000), drawn independently per sample, as a uint8 multi-hot
matrix (about 3 positive labels per sample). Side by side in one run, on the
same labels:

- the engine: ``cb.BalancedSampler(Y, multilabel=True)`` set-up (grouping the
  (sample, label) pairs by label), then one epoch's plan of ``n`` draws
  (median of 5 fresh epochs after a warm-up); targets: set-up + plan <= 2 s,
  and <= 16 bytes per (sample, positive label) pair at the peak (tracemalloc,
  which sees NumPy's allocations; the input matrix is not counted, nor is its
  validation by ``encode_multilabel``, which is done once before timing);
- a per-sample Python sampler, the design of the PyTorch community's
  multi-label samplers: for each draw pick a label with ``random``, then the
  next positive of that label from a shuffled list, reshuffled when used up
  (the lists are built with NumPy, only the draws loop in Python).

Run: ``.venv/bin/python benchmarks/bench_multilabel_plan.py [--n 1e6] [--labels 100]``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import classbalance as cb
from _common import markdown_table, median_time


def make_labels(n: int, k: int, seed: int = 0) -> np.ndarray:
    rates = 0.3 * np.geomspace(1.0, 1e-3, k)
    rng = np.random.default_rng(seed)
    Y = np.empty((n, k), dtype=np.uint8)
    for start in range(0, n, 1 << 16):  # blocks keep the float temporaries small
        block = rng.random((min(1 << 16, n - start), k))
        np.less(block, rates, out=Y[start : start + len(block)], casting="unsafe")
    return Y


def python_sampler(Y: np.ndarray, n_draws: int, seed: int = 0) -> list[int]:
    """One index at a time, as the community samplers do (the reference)."""
    rnd = random.Random(seed)
    pools = [np.flatnonzero(Y[:, j]).tolist() for j in range(Y.shape[1])]
    pools = [p for p in pools if p]
    pointers = [0] * len(pools)
    for p in pools:
        rnd.shuffle(p)
    out = []
    for _ in range(n_draws):
        j = rnd.randrange(len(pools))
        pool = pools[j]
        if pointers[j] == len(pool):
            rnd.shuffle(pool)
            pointers[j] = 0
        out.append(pool[pointers[j]])
        pointers[j] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=float, default=1e6)
    parser.add_argument("--labels", type=int, default=100)
    args = parser.parse_args()
    n, k = int(args.n), args.labels
    Y = make_labels(n, k)
    encoded = cb.encode_multilabel(Y)
    pairs = int(Y.sum(dtype=np.int64))

    tracemalloc.start()
    t0 = time.perf_counter()
    sampler = cb.BalancedSampler(encoded, seed=0)
    setup = time.perf_counter() - t0
    kept = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    plan = sampler.plan(0)
    first_plan = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    kept_after = tracemalloc.get_traced_memory()[0] - plan.nbytes
    tracemalloc.stop()
    assert len(plan) == n
    del plan
    epochs = iter(range(1, 1000))
    t_plan = median_time(lambda: sampler.plan(next(epochs)), repeats=5, warmup=1)

    t0 = time.perf_counter()
    reference = python_sampler(Y, n)
    t_python = time.perf_counter() - t0
    assert len(reference) == n

    rows = [
        ["engine: set-up (group pairs by label)", f"{setup:.2f} s", ""],
        ["engine: first plan", f"{first_plan:.2f} s", ""],
        ["engine: set-up + first plan", f"{setup + first_plan:.2f} s", "target <= 2 s"],
        ["engine: one more epoch (median of 5)", f"{t_plan:.2f} s", "1.0x"],
        ["per-sample Python sampler, one epoch", f"{t_python:.2f} s", f"{t_python / t_plan:.1f}x"],
        ["memory kept by the sampler", f"{kept / pairs:.1f} B/pair", ""],
        ["kept after a plan (with cached permutations)", f"{kept_after / pairs:.1f} B/pair", ""],
        ["peak while setting up and planning", f"{peak / pairs:.1f} B/pair", "target <= 16"],
    ]
    print(
        f"{n:,} samples x {k} labels, {pairs:,} (sample, label) pairs "
        f"({pairs / n:.2f} labels per sample), epoch of {n:,} draws\n"
    )
    print(markdown_table(["step", "measured", "vs engine epoch"], rows))


if __name__ == "__main__":
    main()
