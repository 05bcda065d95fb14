"""Balanced-batch throughput, side by side in one run.

For 784-float32 rows (MNIST-sized, 200,000 rows) and 3x64x64 float32 rows
(20,000 rows), batch 256, 10 classes with imbalance ratio 100, every method
serves the batches of one full over-sampled epoch (10 x the largest class);
the table gives samples/s (median of 5 runs after a warm-up, each run
planning a fresh epoch for ours) and the ratio to the gather bound:
``np.take(x, idx, axis=0, out=buf, mode="clip")`` with the same indices in
random order, the cost of copying the rows and nothing else.

Compared: classbalance.BalancedBatches (epoch sequence) and
classbalance.balanced_batch_generator (the seed API); the original
keras-balanced-batch-generator package; imbalanced-learn's
``imblearn.keras.BalancedBatchGenerator`` with ``RandomOverSampler`` (its
set-up time and memory reported separately; it imports TensorFlow).

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_batches.py [--quick]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import classbalance as cb
from _common import long_tail_labels, markdown_table, median_time

BATCH = 256


def run_case(name: str, row_shape: tuple[int, ...], n: int) -> list[list[str]]:
    """One full over-sampled epoch per run, every method serving the same number of batches."""
    rng = np.random.default_rng(0)
    y = long_tail_labels(n)
    x = rng.random((n, *row_shape), dtype=np.float32)
    y_onehot = np.eye(10, dtype=np.float32)[y]
    batches = cb.BalancedBatches(x, y, BATCH, drop_last=True, seed=0)
    n_batches = len(batches)
    idx_all = rng.permutation(batches.plan())  # same indices, random order
    buf = np.empty((BATCH, *row_shape), dtype=np.float32)

    def gather_bound() -> None:
        for b in range(n_batches):
            np.take(x, idx_all[b * BATCH : (b + 1) * BATCH], axis=0, out=buf, mode="clip")

    def ours_sequence() -> None:
        batches.set_epoch(batches.epoch + 1)  # includes planning the fresh epoch
        for b in range(n_batches):
            batches[b]

    def ours_generator() -> None:
        gen = cb.balanced_batch_generator(x, y_onehot, BATCH, seed=0)
        for _ in itertools.islice(gen, n_batches):
            pass

    results: dict[str, float] = {}
    results["gather bound (np.take, out=, mode='clip')"] = median_time(gather_bound)
    results["classbalance.BalancedBatches"] = median_time(ours_sequence)
    results["classbalance.balanced_batch_generator"] = median_time(ours_generator)

    notes: dict[str, str] = {}
    try:
        from keras_balanced_batch_generator import make_generator

        def original() -> None:
            gen = make_generator(x, y_onehot, BATCH, seed=0)
            for _ in itertools.islice(gen, n_batches):
                pass

        results["keras-balanced-batch-generator 0.0.3"] = median_time(original, repeats=5)
    except ImportError:
        notes["keras-balanced-batch-generator 0.0.3"] = "not installed"

    try:
        from imblearn.keras import BalancedBatchGenerator
        from imblearn.over_sampling import RandomOverSampler

        # Its __init__ resamples once (fit_resample on the data, keeping only the
        # indices); every epoch then serves that same over-sampled set.
        tracemalloc.start()
        t0 = time.perf_counter()
        generator = BalancedBatchGenerator(
            x, y, sampler=RandomOverSampler(random_state=0), batch_size=BATCH, random_state=0
        )
        setup = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        name_imb = "imbalanced-learn BalancedBatchGenerator (RandomOverSampler)"
        n_imb = min(len(generator), n_batches)

        def imblearn_batches() -> None:
            for b in range(n_imb):
                generator[b]

        # Normalised to the same number of batches as the others.
        results[name_imb] = median_time(imblearn_batches) * n_batches / n_imb
        notes[name_imb] = f"+ {setup:.1f} s set-up, {peak / 2**30:.2f} GiB extra peak memory"
    except (ImportError, ValueError) as exc:
        tracemalloc.stop()
        reason = str(exc).splitlines()[0]
        notes["imbalanced-learn BalancedBatchGenerator (RandomOverSampler)"] = f"fails: {reason}"

    bound = results["gather bound (np.take, out=, mode='clip')"]
    rows = []
    for method, seconds in results.items():
        rate = n_batches * BATCH / seconds
        rows.append(
            [name, method, f"{rate / 1e6:.3f} M", f"{bound / seconds:.2f}x", notes.get(method, "")]
        )
    for method, note in notes.items():
        if method not in results:
            rows.append([name, method, "-", "-", note])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer batches")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    rows = run_case("784 float32", (784,), 200_000 // scale)
    rows += run_case("3x64x64 float32", (3, 64, 64), 20_000 // scale)
    print(markdown_table(["rows", "method", "samples/s", "vs gather bound", "notes"], rows))


if __name__ == "__main__":
    main()
