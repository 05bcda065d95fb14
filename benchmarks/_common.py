"""Shared helpers for the benchmark scripts (not part of the package)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np


def long_tail_labels(
    n: int, n_classes: int = 10, ratio: float = 100.0, seed: int = 0
) -> np.ndarray:
    """n uint8 labels with an exponential profile: class 9 is `ratio` times rarer than class 0."""
    share = ratio ** (-np.arange(n_classes) / (n_classes - 1))
    counts = np.floor(share / share.sum() * n).astype(np.int64)
    counts[0] += n - counts.sum()
    y = np.repeat(np.arange(n_classes, dtype=np.uint8), counts)
    np.random.default_rng(seed).shuffle(y)
    return y


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of `fn()` over `repeats` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
