"""fastai: balanced_dataloaders (BalancedDL) against Datasets.weighted_dataloaders (WeightedDL).

Same fastai ``Datasets`` (N items of 64 float32 features, 10 long-tailed
classes, imbalance ratio 100, 80/20 split), batch 64, one training epoch
per run after a warm-up epoch, ``num_workers=0``, CPU. Both loaders are
asked for class balance: ``WeightedDL`` with the inverse class frequency
of the training split as weights (what fastai's docs suggest),
``BalancedDL`` with ``strategy="balanced"`` at the same epoch size (the
training split's length), so both serve the same number of batches.

Reported: set-up time (``*_dataloaders`` call), training batches/s, the
class shares served in one epoch (min and max over classes; 0.100 is
exact balance), and for the rarest class how many of its distinct samples
one epoch visits and the most times one sample is repeated.

Run: ``python benchmarks/bench_fastai.py [--n 20000]``
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from fastai.callback.data import WeightedDL  # noqa: F401  (patches weighted_dataloaders)
from fastai.data.core import Datasets

from _common import long_tail_labels, markdown_table
from classbalance.fastai import balanced_dataloaders


class _Features:
    """Item -> feature row (a picklable getter over one array)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = torch.from_numpy(x)

    def __call__(self, i: int) -> torch.Tensor:
        return self.x[i]


class _Label:
    def __init__(self, y: np.ndarray) -> None:
        self.y = y.tolist()

    def __call__(self, i: int) -> int:
        return self.y[i]


def served(dl) -> tuple[np.ndarray, np.ndarray, float]:
    """(targets, item ids, seconds) of one full pass."""
    targets, items = [], []
    start = time.perf_counter()
    for _, ids, yb in dl:
        targets.append(yb.numpy())
        items.append(ids.numpy())
    return np.concatenate(targets), np.concatenate(items), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    y = long_tail_labels(args.n, ratio=100.0).astype(np.int64)
    x = np.random.default_rng(0).normal(size=(args.n, 64)).astype(np.float32)
    valid = np.arange(0, args.n, 5)
    train = np.setdiff1d(np.arange(args.n), valid)
    dsets = Datasets(
        list(range(args.n)),
        [[_Features(x)], [lambda i: i], [_Label(y)]],
        splits=[train.tolist(), valid.tolist()],
        n_inp=2,
    )
    y_train = y[train]
    common = {"bs": 64, "num_workers": 0, "device": "cpu"}

    def make_weighted():
        counts = np.bincount(y_train)
        return dsets.weighted_dataloaders(wgts=1.0 / counts[y_train], **common)

    def make_balanced():
        return balanced_dataloaders(dsets, strategy="balanced", seed=0, **common)

    rows = []
    rare = int(np.argmin(np.bincount(y_train)))
    for name, make in (
        ("Datasets.weighted_dataloaders (WeightedDL)", make_weighted),
        ("classbalance balanced_dataloaders (BalancedDL)", make_balanced),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            dls = make()
            setup = time.perf_counter() - t0
        served(dls.train)  # warm-up epoch
        times, shares, rare_seen, rare_max = [], [], [], []
        for _ in range(args.repeats):
            targets, items, seconds = served(dls.train)
            times.append(seconds)
            share = np.bincount(targets, minlength=10) / len(targets)
            shares.append((share.min(), share.max()))
            rare_items = items[targets == rare]
            rare_seen.append(np.unique(rare_items).size)
            rare_max.append(np.bincount(rare_items).max())
        n_batches = len(dls.train)
        t = statistics.median(times)
        rows.append(
            [
                name,
                f"{setup:.2f}",
                f"{n_batches / t:,.0f}",
                f"{min(s[0] for s in shares):.3f}-{max(s[1] for s in shares):.3f}",
                f"{min(rare_seen)}-{max(rare_seen)} of {int((y_train == rare).sum())}",
                f"{max(rare_max)}",
            ]
        )
    print(
        f"{args.n:,} items ({len(train):,} training), 10 classes, ratio 100, batch 64, "
        f"{len(dls.train)} batches per epoch, median of {args.repeats} epochs"
    )
    print()
    print(
        markdown_table(
            [
                "loader",
                "set-up (s)",
                "batches/s",
                "class shares (min-max)",
                "rarest class: distinct samples per epoch",
                "max repeats of one sample",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
