"""PyTorch balanced loading and index planning, side by side in one run.

Loading: 784-float32 rows (MNIST-sized, 200,000 rows), batch 256, 10 classes
with imbalance ratio 100, over-sampled to 10 x the largest class per epoch
(``drop_last``). Every method is timed over whole epochs of that many rows
(median of 5 epochs after a warm-up epoch, the methods' epochs interleaved so
that all of them see the same load on a shared machine), each epoch's
planning or drawing included:

- the gather bound: ``torch.index_select(x, 0, idx, out=buf)`` per batch with
  random indices (a tensor per batch, prepared beforehand): the cost of
  copying the rows and nothing else;
- DataLoader + ``WeightedRandomSampler`` (as many draws as our epoch has
  rows) over a ``TensorDataset`` with the default collate (what most
  tutorials show);
- DataLoader + classbalance ``BalancedBatchSampler(indices="tensor")`` over
  ``classbalance.torch.ArrayDataset`` (one ``index_select`` per batch) with
  ``collate_fn=default_convert``.

Both loaders are also run with ``num_workers=2`` (persistent workers; ours
yields NumPy index arrays there, which pickle cheaper than tensors).

Planning: one epoch's index plan for 1e7 and 1e8 labels (``strategy="balanced"``,
epoch size = number of labels, the default size of WeightedRandomSampler),
after the one-off set-up (label encoding and grouping, reported apart), vs
``torch.multinomial(weights, n, replacement=True)``, which WeightedRandomSampler
calls and which refuses more than 2**24 categories. The 1e8 plan rows are
cold runs (no warm-up).

PyTorch runs on one thread in the main process.

Run: ``python benchmarks/bench_torch.py [--quick] [--no-plan]`` (about 4
minutes; the 1e8 plan needs about 4 GB of memory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from functools import partial
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler, default_convert

import classbalance as cb

sys.path.insert(0, os.path.dirname(__file__))
from _common import long_tail_labels, markdown_table, median_time
from classbalance.torch import ArrayDataset, BalancedBatchSampler

BATCH = 256
N_CLASSES = 10
RATIO = 100.0


def interleaved_median_times(methods: dict[str, Any], repeats: int) -> dict[str, float]:
    """Median time of each method, the methods' runs interleaved (one warm-up run each).

    On a shared machine the load changes from minute to minute; running
    bound, ours and theirs in turn lets every method see the same load.
    """
    for fn in methods.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeats):
        for name, fn in methods.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _epoch(loader: DataLoader) -> None:
    for _batch in loader:
        pass


def loading(n: int, repeats: int, workers: tuple[int, ...]) -> list[list[str]]:
    y = long_tail_labels(n)
    x = np.random.default_rng(0).random((n, 784), dtype=np.float32)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    n_batches = len(BalancedBatchSampler(y, BATCH, drop_last=True, seed=0))
    n_rows = n_batches * BATCH
    counts = np.bincount(y, minlength=N_CLASSES)
    weights = torch.as_tensor(1.0 / counts[y], dtype=torch.double)

    idx = torch.from_numpy(np.random.default_rng(1).integers(0, n, size=n_rows))
    idx_batches = list(idx.split(BATCH))
    buf = torch.empty((BATCH, 784), dtype=torch.float32)

    def gather_bound() -> None:
        for b in idx_batches:
            torch.index_select(x_t, 0, b, out=buf)

    def ours_loader(num_workers: int) -> DataLoader:
        sampler = BalancedBatchSampler(
            y, BATCH, drop_last=True, seed=0, indices="numpy" if num_workers else "tensor"
        )
        return DataLoader(
            ArrayDataset(x, y.astype(np.int64)),
            batch_sampler=sampler,
            collate_fn=default_convert,
            num_workers=num_workers,
            persistent_workers=num_workers > 0,
        )

    def wrs_loader(num_workers: int) -> DataLoader:
        wrs = WeightedRandomSampler(weights, num_samples=n_rows, replacement=True)
        return DataLoader(
            TensorDataset(x_t, y_t),
            batch_size=BATCH,
            sampler=wrs,
            drop_last=True,
            num_workers=num_workers,
            persistent_workers=num_workers > 0,
        )

    print(f"loading: {n} rows, {n_batches} batches of {BATCH} per over-sampled epoch")
    methods = {"bound": gather_bound}
    for w in workers:
        methods[f"ours{w}"] = partial(_epoch, ours_loader(w))
        methods[f"wrs{w}"] = partial(_epoch, wrs_loader(w))
    times = interleaved_median_times(methods, repeats)
    bound = n_rows / times["bound"]
    rows = [["gather bound (torch.index_select, out=)", "-", f"{bound:,.0f}", "1.00", ""]]
    for w in workers:
        ours_rate = n_rows / times[f"ours{w}"]
        wrs_rate = n_rows / times[f"wrs{w}"]
        rows += [
            [
                "DataLoader + BalancedBatchSampler + ArrayDataset",
                str(w),
                f"{ours_rate:,.0f}",
                f"{ours_rate / bound:.2f}",
                f"{ours_rate / wrs_rate:.1f}",
            ],
            [
                "DataLoader + WeightedRandomSampler + TensorDataset",
                str(w),
                f"{wrs_rate:,.0f}",
                f"{wrs_rate / bound:.2f}",
                "1.0",
            ],
        ]
    return rows


def plan_row(n: int, repeats: int) -> tuple[list[str], torch.Tensor]:
    y = long_tail_labels(n)
    start = time.perf_counter()
    sampler = BalancedBatchSampler(y, BATCH, strategy="balanced", seed=0)
    setup = time.perf_counter() - start
    epochs = iter(range(1, 10**6))
    # A 1e8 plan takes ~25 s and allocates afresh on every run, so a warm-up
    # run would only add time: those rows are the median of `repeats` cold runs.
    warmup = 0 if n >= 10**8 else 1
    plan_time = median_time(lambda: sampler.core.plan(next(epochs)), repeats, warmup)
    row = [
        f"{n:.0e}",
        "classbalance plan (one epoch)",
        f"{plan_time:.2f} s",
        f"{plan_time / n * 1e9:.0f} ns",
        f"set-up (once) {setup:.2f} s",
    ]
    # The per-sample weights WeightedRandomSampler would be given.
    return row, torch.as_tensor(1.0 / np.bincount(y)[y], dtype=torch.double)


def multinomial_row(n: int, weights: torch.Tensor, repeats: int) -> list[str]:
    try:
        t = median_time(lambda: torch.multinomial(weights, n, replacement=True), repeats)
    except RuntimeError as exc:
        return [f"{n:.0e}", "torch.multinomial", "refuses", "-", f"`{exc}`"]
    return [f"{n:.0e}", "torch.multinomial", f"{t:.2f} s", f"{t / n * 1e9:.0f} ns", ""]


def planning(sizes: list[int], repeats: int) -> list[list[str]]:
    rows = []
    for n in sizes:
        row, weights = plan_row(n, repeats)
        rows += [row, multinomial_row(n, weights, repeats)]
        del weights
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats (smoke test)")
    parser.add_argument("--no-plan", action="store_true", help="loading only, no planning rows")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    n_rows = 20_000 if args.quick else 200_000
    sizes = [10**6, 2**24 + 1] if args.quick else [10**7, 10**8]
    torch.set_num_threads(1)  # 2 shared cores; every method runs on one thread
    print(f"torch {torch.__version__}, numpy {np.__version__}, classbalance {cb.__version__}")
    rows = loading(n_rows, repeats, workers=(0, 2))
    print(
        markdown_table(
            ["method", "workers", "samples/s", "x gather bound", "x WeightedRandomSampler"],
            rows,
        )
    )
    if args.no_plan:
        return
    print()
    print(
        markdown_table(
            ["labels", "method", "time (median)", "per label", "note"],
            planning(sizes, repeats),
        )
    )


if __name__ == "__main__":
    main()
