"""tf.data balanced input pipelines, side by side in one run, over equal windows.

784-float32 rows (MNIST-sized, 200,000 rows), batch 256, 10 classes with
imbalance ratio 100. Samples/s of each method, median of 5 timed windows
after a warm-up, the methods' windows interleaved (round after round) so that
they see the same machine load:

- ``classbalance.tf.balanced_dataset`` (``strategy="balanced"``: epochs of
  200,000 samples, every class equally often); a window is one new iteration
  = one full epoch, its planning included;
- the pattern of TensorFlow's "Classification on imbalanced data" tutorial:
  one ``from_tensor_slices(...).shuffle(100_000).repeat()`` dataset per
  class, ``tf.data.Dataset.sample_from_datasets`` with equal weights,
  ``batch``, ``prefetch``; one long-lived iterator (the warm-up fills the
  shuffle buffers), a window is **the same number of batches** as ours;
- ``Dataset.rejection_resample`` to a uniform target with the true initial
  distribution, on ``from_tensor_slices(...).repeat()``; about 700x slower,
  so its window is 10 batches (an epoch would take minutes per window);
- the gather bound: ``np.take(x, idx, axis=0, out=buf, mode="clip")`` per batch
  with random indices, the same number of batches as ours;
- ``tf.gather`` of the same batches from the rows already in a TensorFlow
  tensor, called eagerly from Python (what one batch of an in-memory tf.data
  pipeline costs at least, before any pipeline overhead).

Run: ``python benchmarks/bench_tf.py [--quick] [--gather]`` (about 2 minutes;
``--gather`` times only the two gathers).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

import classbalance as cb

sys.path.insert(0, os.path.dirname(__file__))
from _common import long_tail_labels, markdown_table
from classbalance.tf import balanced_dataset

BATCH = 256
N_CLASSES = 10
RATIO = 100.0


def drain(iterator: object, n_batches: int) -> None:
    for _ in range(n_batches):
        next(iterator)  # type: ignore[call-overload]


def gather_fns(x: np.ndarray, n_batches: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """np.take into a buffer (the bound) and eager tf.gather, over the same random batches."""
    idx_all = np.random.default_rng(1).integers(0, x.shape[0], size=n_batches * BATCH)
    buf = np.empty((BATCH, x.shape[1]), dtype=x.dtype)
    x_tf = tf.constant(x)
    idx_tf = [tf.constant(idx_all[b * BATCH : (b + 1) * BATCH]) for b in range(n_batches)]

    def gather_bound() -> None:
        for b in range(n_batches):
            np.take(x, idx_all[b * BATCH : (b + 1) * BATCH], axis=0, out=buf, mode="clip")

    def tf_gather() -> None:
        for idx in idx_tf:
            tf.gather(x_tf, idx)

    return gather_bound, tf_gather


def interleaved_times(fns: list[Callable[[], None]], repeats: int) -> list[float]:
    """Median time of each fn over `repeats` rounds (after one warm-up round); each round
    runs every fn once, so all of them see the same load."""
    samples: list[list[float]] = [[] for _ in fns]
    for round_ in range(repeats + 1):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            if round_:
                samples[i].append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 3 repeats")
    parser.add_argument("--gather", action="store_true", help="only np.take and tf.gather")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    n = 20_000 if args.quick else 200_000
    rejection_batches = 4 if args.quick else 10
    print(f"tensorflow {tf.__version__}, numpy {np.__version__}, classbalance {cb.__version__}")

    y = long_tail_labels(n)
    x = np.random.default_rng(0).random((n, 784), dtype=np.float32)
    y64 = y.astype(np.int64)
    if args.gather:
        n_batches = n // BATCH
        bound_t, tf_t = interleaved_times(list(gather_fns(x, n_batches)), repeats)
        bound, tf_rate = n_batches * BATCH / bound_t, n_batches * BATCH / tf_t
        print(f"{n} rows, {n_batches} batches of {BATCH}")
        print(
            markdown_table(
                ["method", "samples/s", "x gather bound"],
                [
                    ["gather bound (np.take into a buffer)", f"{bound:,.0f}", "1.00"],
                    [
                        "tf.gather (eager, tensor in memory)",
                        f"{tf_rate:,.0f}",
                        f"{tf_rate / bound:.2f}",
                    ],
                ],
            )
        )
        return

    ours = balanced_dataset(x, y64, BATCH, strategy="balanced", drop_last=True, seed=0)
    n_batches = int(ours.cardinality())

    def run_ours() -> None:
        for _ in ours:
            pass

    per_class = [
        tf.data.Dataset.from_tensor_slices((x[y == c], y64[y == c])).shuffle(100_000).repeat()
        for c in range(N_CLASSES)
    ]
    tutorial = (
        tf.data.Dataset.sample_from_datasets(per_class, weights=[1 / N_CLASSES] * N_CLASSES)
        .batch(BATCH)
        .prefetch(2)
    )
    tutorial_iter = iter(tutorial)

    initial = np.bincount(y, minlength=N_CLASSES) / n
    rejection = (
        tf.data.Dataset.from_tensor_slices((x, y64))
        .repeat()
        .rejection_resample(
            lambda xi, yi: yi,
            target_dist=[1 / N_CLASSES] * N_CLASSES,
            initial_dist=initial,
            seed=0,
        )
        .map(lambda _class, pair: pair)
        .batch(BATCH)
        .prefetch(2)
    )
    rejection_iter = iter(rejection)
    bound_fn, tf_gather_fn = gather_fns(x, n_batches)
    windows = {  # name: (one window, batches in it)
        "gather bound (np.take into a buffer)": (bound_fn, n_batches),
        "tf.gather (eager, tensor in memory)": (tf_gather_fn, n_batches),
        "classbalance.tf.balanced_dataset": (run_ours, n_batches),
        "tutorial: sample_from_datasets": (
            lambda: drain(tutorial_iter, n_batches),
            n_batches,
        ),
        f"rejection_resample ({rejection_batches} batches per window)": (
            lambda: drain(rejection_iter, rejection_batches),
            rejection_batches,
        ),
    }
    times = interleaved_times([fn for fn, _ in windows.values()], repeats)
    rates = {name: size * BATCH / t for (name, (_, size)), t in zip(windows.items(), times)}
    rows = list(rates.items())
    bound = rates["gather bound (np.take into a buffer)"]
    tut_rate = rates["tutorial: sample_from_datasets"]
    print(f"{n} rows, windows of {n_batches} batches of {BATCH} (one balanced epoch)")
    print(
        markdown_table(
            ["method", "samples/s", "x gather bound", "x tutorial pattern"],
            [
                [name, f"{rate:,.0f}", f"{rate / bound:.2f}", f"{rate / tut_rate:.2f}"]
                for name, rate in rows
            ],
        )
    )


if __name__ == "__main__":
    main()
