"""Every plan-producing object of the package, driven the way its framework drives it.

Each source builds its object over the same labels and data ``x = arange(n)``
(so whatever a batch holds tells which samples it holds) and runs passes
over it: ``passes(obj, k)`` returns ``k`` passes, each a list of index
batches. ``length(obj)`` is what the object promises a pass yields (samples
or batches, ``units``), read before the pass. The shared suite
(``test_invariant_suite.py``) checks them all with the same invariants, in
this process and (for reproducibility) in a fresh one.

Run as a script, it prints the digests of every source for ``argv[1]`` as
JSON: the fresh process of the reproducibility test.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

COUNTS = (50, 20, 7, 3)
BATCH = 4  # divides every epoch below (oversample 200, undersample 12)
STRATEGIES = ("oversample", "undersample")


def labels() -> np.ndarray:
    y = np.repeat(np.arange(len(COUNTS)), COUNTS)
    return np.random.default_rng(0).permutation(y)


@dataclass
class Source:
    name: str
    make: Callable[[np.ndarray, str, int], Any]
    passes: Callable[[Any, int], list[list[np.ndarray]]]
    length: Callable[[Any], int]
    units: str = "samples"  # what `length` counts: "samples" or "batches"
    exact: bool = False  # batches hold each class at its exact share
    time_order: bool = True  # a pass keeps each class's stream order
    epochs: bool = True  # successive passes are successive epochs
    strategies: tuple[str, ...] = STRATEGIES
    batch: int = BATCH
    needs: tuple[str, ...] = field(default_factory=tuple)

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.needs)


def _chunks(idx: np.ndarray) -> list[np.ndarray]:
    return [idx[i : i + BATCH] for i in range(0, len(idx), BATCH)]


# ------------------------------------------------------------------ core
def _core(y, strategy, seed):
    import classbalance as cb

    return cb.BalancedSampler(y, strategy, seed=seed)


def _core_passes(s, k):
    return [_chunks(np.fromiter(iter(s), dtype=np.int64)) for _ in range(k)]


def _batches(y, strategy, seed):
    import classbalance as cb

    x = np.arange(len(y))
    return cb.BalancedBatches(x, y, BATCH, strategy=strategy, exact=True, seed=seed)


def _batches_passes(b, k):
    return [[np.asarray(xb) for xb, _ in b] for _ in range(k)]


def _generator(y, strategy, seed):
    import classbalance as cb

    return cb.balanced_batch_generator(np.arange(len(y)), y, BATCH, categorical=False, seed=seed)


def _generator_passes(g, k):
    per_epoch = len(COUNTS) * max(COUNTS) // BATCH  # epochs of the seed generator
    return [[next(g).__getitem__(0) for _ in range(per_epoch)] for _ in range(k)]


def _ensemble(y, strategy, seed):
    from sklearn.dummy import DummyClassifier

    import classbalance as cb

    ens = cb.BalancedEnsemble(DummyClassifier, n_members=3, strategy=strategy, seed=seed, verbose=0)
    return ens.fit(np.arange(len(y), dtype=float)[:, None], y)


def _ensemble_passes(ens, k):
    return [[idx] for idx in ens.member_indices_[:k]]


def _folders(y, strategy, seed):
    import pandas as pd

    from classbalance.folders import oversample

    m = pd.DataFrame({"path": [f"{c}/{i}.png" for i, c in enumerate(y)], "label": y})
    return oversample(m, valid_pct=0, strategy="oversample", seed=seed)


def _folders_passes(frame, k):
    idx = frame["path"].str.split("/").str[1].str[:-4].astype(int).to_numpy()
    return [[idx]]


# ------------------------------------------------------------------ keras
def _pydataset(y, strategy, seed):
    from classbalance.keras import BalancedPyDataset

    x = np.arange(len(y))
    return BalancedPyDataset(x, y, BATCH, strategy=strategy, exact=True, seed=seed)


def _pydataset_passes(ds, k):
    out = []
    for _ in range(k):  # the hooks in the order Keras' epoch loop calls them
        ds.on_epoch_begin()
        out.append([np.asarray(ds[i][0]) for i in range(len(ds))])
        ds.on_epoch_end()
    return out


# ------------------------------------------------------------------ torch
def _loader_passes(loader, k):
    return [[b[0].numpy() for b in loader] for _ in range(k)]


def _torch_sampler(y, strategy, seed):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from classbalance.torch import BalancedSampler

    ds = TensorDataset(torch.arange(len(y)))
    return DataLoader(ds, sampler=BalancedSampler(y, strategy, seed=seed), batch_size=BATCH)


def _torch_batch_sampler(y, strategy, seed):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from classbalance.torch import BalancedBatchSampler

    ds = TensorDataset(torch.arange(len(y)))
    s = BalancedBatchSampler(y, BATCH, strategy=strategy, exact=True, seed=seed)
    return DataLoader(ds, batch_sampler=s)


def _torch_distributed(y, strategy, seed):
    from classbalance.torch import DistributedBalancedBatchSampler

    return [
        DistributedBalancedBatchSampler(  # 2 ranks x 2: every epoch has an even batch count
            y, 2, num_replicas=2, rank=r, strategy=strategy, exact=True, seed=seed
        )
        for r in (0, 1)
    ]


def _distributed_passes(ranks, k):
    out = []
    for _ in range(k):  # at step i the ranks together take one contiguous slice of the plan
        steps = zip(*(list(r) for r in ranks), strict=True)
        out.append([np.asarray(b) for step in steps for b in step])
    return out


# ------------------------------------------------------------------ tf
def _tf_dataset(y, strategy, seed):
    from classbalance.tf import balanced_dataset

    x = np.arange(len(y))
    return balanced_dataset(x, y, BATCH, strategy=strategy, exact=True, seed=seed)


def _tf_passes(ds, k):
    return [[xb.numpy() for xb, _ in ds] for _ in range(k)]


def _tf_resample(y, strategy, seed):
    import tensorflow as tf

    from classbalance.tf import resample

    ds = tf.data.Dataset.from_tensor_slices((np.arange(len(y)), y.astype(np.int64)))
    return resample(ds, lambda i, c: c, n_classes=len(COUNTS), strategy=strategy, seed=seed)


def _tf_resample_passes(ds, k):
    return [[np.array([int(i) for i, _ in ds])] for _ in range(k)]


SOURCES = [
    Source("BalancedSampler", _core, _core_passes, len),
    Source("BalancedBatches", _batches, _batches_passes, len, units="batches", exact=True),
    Source(
        "balanced_batch_generator",
        _generator,
        _generator_passes,
        lambda g: len(COUNTS) * max(COUNTS) // BATCH,
        units="batches",
        strategies=("oversample",),
    ),
    Source(
        "BalancedEnsemble",
        _ensemble,
        _ensemble_passes,
        lambda e: len(e.member_indices_[0]),
        time_order=False,
        needs=("sklearn",),
    ),
    Source(
        "folders.oversample",
        _folders,
        _folders_passes,
        len,
        time_order=False,
        epochs=False,
        strategies=("oversample",),
    ),
    Source(
        "BalancedPyDataset",
        _pydataset,
        _pydataset_passes,
        len,
        units="batches",
        exact=True,
        needs=("keras",),
    ),
    Source(
        "torch.BalancedSampler",
        _torch_sampler,
        _loader_passes,
        lambda loader: len(loader.sampler),
        needs=("torch",),
    ),
    Source(
        "torch.BalancedBatchSampler",
        _torch_batch_sampler,
        _loader_passes,
        len,
        units="batches",
        exact=True,
        needs=("torch",),
    ),
    Source(
        "torch.DistributedBalancedBatchSampler",
        _torch_distributed,
        _distributed_passes,
        lambda ranks: sum(len(r) for r in ranks),
        units="batches",
        exact=True,
        batch=2,
        needs=("torch",),
    ),
    Source(
        "tf.balanced_dataset",
        _tf_dataset,
        _tf_passes,
        lambda ds: int(ds.cardinality()),
        units="batches",
        exact=True,
        needs=("tensorflow",),
    ),
    Source(
        "tf.resample",
        _tf_resample,
        _tf_resample_passes,
        lambda ds: -1,  # resample's cardinality is unknown (label-unknown datasets)
        time_order=False,
        needs=("tensorflow",),
    ),
]


def digest(passes: list[list[np.ndarray]]) -> str:
    h = hashlib.sha256()
    for batches in passes:
        for b in batches:
            h.update(np.asarray(b, dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()[:16]


def digests(seed: int) -> dict[str, str]:
    """Digest of the first two passes of every available source and strategy."""
    y = labels()
    out = {}
    for src in SOURCES:
        if not src.available():
            continue
        for strategy in src.strategies:
            obj = src.make(y, strategy, seed)
            out[f"{src.name}/{strategy}"] = digest(src.passes(obj, 2 if src.epochs else 1))
    return out


if __name__ == "__main__":
    print(json.dumps(digests(int(sys.argv[1]))))
