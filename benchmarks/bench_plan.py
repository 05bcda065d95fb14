"""Time and memory to plan one epoch, for 1e6, 1e7 and 1e8 labels.

Labels: 10 classes, imbalance ratio 100 (exponential profile), uint8. For
each size, side by side in one run (median of 5 after a warm-up; 3 for 1e8):

- ``np.random.permutation(n)``: the reference, one shuffle of n indices;
- ``BalancedSampler(y, "balanced").plan()`` (epoch of n samples, every class
  n/10): the like-for-like comparison, target <= 3x the permutation;
- ``BalancedSampler(y, "oversample").plan()`` (epoch of 10 x the largest
  class, about 4 n samples), reported per planned sample (timed once at 1e8);
- the one-off set-up (label encoding + grouping by class).

Memory (tracemalloc, which sees NumPy's allocations): bytes per label kept by
the sampler, and the peak while planning, per label; target <= 16 bytes.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_plan.py [--max 1e7]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import classbalance as cb
from _common import long_tail_labels, markdown_table, median_time


def time_epochs(sampler: cb.BalancedSampler, repeats: int, warmup: int) -> float:
    """Median time to plan a fresh epoch (a new epoch number each call)."""
    epochs = iter(range(1, 1000))
    return median_time(lambda: sampler.plan(next(epochs)), repeats=repeats, warmup=warmup)


def measure(n: int) -> list[str]:
    y = long_tail_labels(n)
    repeats = 3 if n >= 10**8 else 5
    t_perm = median_time(lambda: np.random.default_rng(0).permutation(n), repeats=repeats)

    tracemalloc.start()
    t0 = time.perf_counter()
    balanced = cb.BalancedSampler(y, "balanced", seed=0)
    setup = time.perf_counter() - t0
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    plan = balanced.plan(0)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    assert len(plan) == n
    del plan

    t_bal = time_epochs(balanced, repeats, warmup=1)
    balanced = None  # free its memory before the next sampler
    over = cb.BalancedSampler(y, "oversample", seed=0)
    size_over = len(over)
    big = n >= 10**8  # an oversampled 1e8 epoch is 4e8 indices: time it once
    t_over = time_epochs(over, 1 if big else repeats, warmup=0 if big else 1)
    per_sample = t_over / size_over * n / t_perm
    return [
        f"{n:.0e}",
        f"{t_perm:.3f} s",
        f"{t_bal:.3f} s ({t_bal / t_perm:.2f}x)",
        f"{t_over:.3f} s for {size_over / n:.1f} n ({per_sample:.2f}x per sample)",
        f"{setup:.3f} s",
        f"{kept / n:.1f} B",
        f"{peak / n:.1f} B",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=float, default=1e8, help="largest label count")
    args = parser.parse_args()
    sizes = [n for n in (10**6, 10**7, 10**8) if n <= args.max]
    rows = [measure(n) for n in sizes]
    print(
        markdown_table(
            [
                "labels",
                "permutation(n)",
                "plan 'balanced' (n samples)",
                "plan 'oversample'",
                "set-up (once)",
                "sampler state / label",
                "planning peak / label",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
