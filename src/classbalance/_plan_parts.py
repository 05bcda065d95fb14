"""Vectorized parts of the engine's plans (used by :mod:`classbalance.sampling` only).

``interleave`` shuffles which class each position of a plan holds;
``group_positives`` groups the (row, label) pairs of a multi-hot matrix by label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["group_positives", "interleave"]

# Positions interleaved per step of interleave (bounds its temporaries).
_CHUNK = 1 << 22
# Rows of a multi-hot matrix grouped by label at a time (bounds the temporaries).
_PAIR_ROWS = 1 << 16


def interleave(pieces: list[np.ndarray], rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """Shuffle which class each position holds, keeping each class's stream order.

    Equivalent in distribution to shuffling the concatenated pieces, but a
    class's samples still appear in stream order, so in time no member repeats
    before all members of its class were used. Shuffles one small class code
    per position (cheaper than shuffling indices), then scatters the streams
    chunk by chunk with a stable (radix) argsort, so temporaries stay small.
    """
    k = len(pieces)
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    total = int(lengths.sum())
    code_dtype = np.uint8 if k <= 1 << 8 else np.uint16 if k <= 1 << 16 else np.int32
    slots = np.repeat(np.arange(k, dtype=code_dtype), lengths)
    rng.shuffle(slots)
    plan = np.empty(total, dtype=dtype)
    taken = np.zeros(k, dtype=np.int64)
    for start in range(0, total, _CHUNK):
        chunk = slots[start : start + _CHUNK]
        order = np.argsort(chunk, kind="stable")
        counts = np.bincount(chunk, minlength=k)
        sources = [pieces[c][taken[c] : taken[c] + counts[c]] for c in np.flatnonzero(counts)]
        plan[start + order] = np.concatenate(sources)
        taken += counts
    return plan


def group_positives(Y: np.ndarray, counts: np.ndarray, dtype: Any) -> tuple[np.ndarray, int]:
    """The row indices of each label's positives, label after label, and the unlabeled rows.

    A counting sort of the (row, label) pairs by label, a block of rows at a
    time: temporaries stay proportional to the block, and the result is one
    array of ``counts.sum()`` indices (4 bytes per pair below 2**31 rows).
    Within a label, rows keep their order.
    """
    n, k = Y.shape
    order = np.empty(int(counts.sum()), dtype=dtype)
    cursor = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    n_unlabeled = 0
    for start in range(0, n, _PAIR_ROWS):
        rows, cols = np.nonzero(Y[start : start + _PAIR_ROWS])
        per_label = np.bincount(cols, minlength=k)
        by_label = np.argsort(cols.astype(np.uint8 if k <= 256 else np.int32), kind="stable")
        cols = cols[by_label]
        # Position of each pair within its label's run of this block.
        first = np.concatenate([[0], np.cumsum(per_label)[:-1]])
        rank = np.arange(len(cols)) - first[cols]
        order[cursor[cols] + rank] = rows[by_label] + start
        cursor += per_label
        n_unlabeled += min(_PAIR_ROWS, n - start) - len(np.unique(rows))
    return order, n_unlabeled
