"""PyTorch balanced loading and index planning, side by side in one run.

Loading: 784-float32 rows (MNIST-sized, 200,000 rows), batch 256, 10 classes
with imbalance ratio 100, over-sampled to 10 x the largest class per epoch.
Samples/s (median of 5 runs after a warm-up) of:

- DataLoader + classbalance BalancedBatchSampler over a dataset whose
  ``__getitems__`` gathers the whole batch (``collate_fn=default_convert``);
  each run is one full epoch, its planning included;
- DataLoader + torch's WeightedRandomSampler with per-sample ``__getitem__``
  and the default collate (what most tutorials show); each run is the first
  200 batches of an epoch (its draw of the whole epoch included);
- the gather bound: ``np.take(x, idx, axis=0, out=buf, mode="clip")`` per batch
  with random indices, the cost of copying the rows and nothing else.

Planning: one epoch's index plan for 1e7 and 1e8 labels (``strategy="balanced"``,
epoch size = number of labels, the default size of WeightedRandomSampler),
after the one-off set-up (label encoding and grouping, reported apart), vs
``torch.multinomial(weights, n, replacement=True)``, which WeightedRandomSampler
calls and which refuses more than 2**24 categories.

Every row is the median of 5 runs after one warm-up run, except the 1e8 plan
(5 runs, no warm-up: each takes tens of seconds and allocates afresh anyway).
PyTorch runs on one thread.

Run: ``python benchmarks/bench_torch.py [--quick]`` (about 3 minutes; the 1e8
plan needs about 4 GB of memory).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler, default_convert

import classbalance as cb

sys.path.insert(0, os.path.dirname(__file__))
from _common import long_tail_labels, markdown_table, median_time
from classbalance.torch import BalancedBatchSampler

BATCH = 256
N_CLASSES = 10
RATIO = 100.0


class PerSampleArrays(Dataset):
    """Rows of in-memory arrays, one ``__getitem__`` call per sample (the common pattern)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(self.x[i]), int(self.y[i])


class BatchedArrays(PerSampleArrays):
    """The same rows; ``__getitems__`` gathers a whole batch with one ``np.take``."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__(x, y)
        self.y64 = y.astype(np.int64)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = np.array(indices, dtype=np.intp)
        xb = np.take(self.x, idx, axis=0, mode="clip")
        return torch.from_numpy(xb), torch.from_numpy(self.y64[idx])


def loading(n: int, repeats: int, wrs_batches: int) -> list[list[str]]:
    y = long_tail_labels(n)
    x = np.random.default_rng(0).random((n, 784), dtype=np.float32)
    dataset = BatchedArrays(x, y)
    sampler = BalancedBatchSampler(y, BATCH, drop_last=True, seed=0)
    ours_loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=default_convert)
    n_batches = len(sampler)

    counts = np.bincount(y, minlength=N_CLASSES)
    weights = torch.as_tensor(1.0 / counts[y], dtype=torch.double)
    wrs = WeightedRandomSampler(weights, num_samples=n_batches * BATCH, replacement=True)
    wrs_loader = DataLoader(PerSampleArrays(x, y), batch_size=BATCH, sampler=wrs, drop_last=True)

    idx_all = np.random.default_rng(1).integers(0, n, size=n_batches * BATCH)
    buf = np.empty((BATCH, 784), dtype=np.float32)

    def gather_bound() -> None:
        for b in range(n_batches):
            np.take(x, idx_all[b * BATCH : (b + 1) * BATCH], axis=0, out=buf, mode="clip")

    def ours() -> None:
        for _xb, _yb in ours_loader:
            pass

    def weighted_random_sampler() -> None:
        for b, _ in enumerate(wrs_loader):
            if b + 1 == wrs_batches:
                break

    bound = n_batches * BATCH / median_time(gather_bound, repeats)
    ours_rate = n_batches * BATCH / median_time(ours, repeats)
    wrs_rate = wrs_batches * BATCH / median_time(weighted_random_sampler, repeats)
    print(f"loading: {n} rows, {n_batches} batches of {BATCH} per over-sampled epoch")
    return [
        [
            "gather bound (np.take into a buffer)",
            f"{bound:,.0f}",
            "1.00",
            f"{bound / wrs_rate:.1f}",
        ],
        [
            "DataLoader + BalancedBatchSampler, `__getitems__`",
            f"{ours_rate:,.0f}",
            f"{ours_rate / bound:.2f}",
            f"{ours_rate / wrs_rate:.1f}",
        ],
        [
            "DataLoader + WeightedRandomSampler, default collate",
            f"{wrs_rate:,.0f}",
            f"{wrs_rate / bound:.2f}",
            "1.0",
        ],
    ]


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
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    n_rows = 20_000 if args.quick else 200_000
    sizes = [10**6, 2**24 + 1] if args.quick else [10**7, 10**8]
    torch.set_num_threads(1)  # 2 shared cores; every method runs on one thread
    print(f"torch {torch.__version__}, numpy {np.__version__}, classbalance {cb.__version__}")
    rows = loading(n_rows, repeats, wrs_batches=50 if args.quick else 200)
    print(
        markdown_table(
            ["method", "samples/s", "x gather bound", "x WeightedRandomSampler"],
            rows,
        )
    )
    print()
    print(
        markdown_table(
            ["labels", "method", "time (median)", "per label", "note"],
            planning(sizes, repeats),
        )
    )


if __name__ == "__main__":
    main()
