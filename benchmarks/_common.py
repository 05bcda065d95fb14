"""Shared helpers for the benchmark scripts (not part of the package)."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

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


def timed_compare(args: list[str], backend: str, out: str) -> tuple[float, dict, str]:
    """`classbalance compare ARGS --out OUT` in a fresh interpreter: seconds, results, machine."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    load = os.getloadavg()[0]
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "classbalance", "compare", *args, "--out", out],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    machine = f"load {load:.1f} -> {os.getloadavg()[0]:.1f}, {used:.0f} CPU s"
    return seconds, json.loads((Path(out) / "results.json").read_text()), machine
