"""The parts of :class:`classbalance.stream.BalancedStream`: label coding and the
telemetry, each vectorized over a chunk of samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._validation import short_repr

__all__ = ["Coder", "RepeatDistances", "as_objects"]


def as_objects(items: list[Any]) -> np.ndarray:
    """A 1-D object array holding ``items`` as they are (tuples stay elements)."""
    return np.fromiter(items, dtype=object, count=len(items))


class Coder:
    """Class values -> codes ``0..K-1`` (single-label), or rows -> a 0/1 matrix (multi-label)."""

    def __init__(self, classes: np.ndarray, multilabel: bool) -> None:
        self.classes = classes
        self.multilabel = multilabel
        self._identity = classes.dtype.kind in "iu" and np.array_equal(
            classes, np.arange(len(classes))
        )
        self._sorter = np.argsort(classes, kind="stable")

    @staticmethod
    def _fast_codes(labels: list[Any], k: int) -> np.ndarray | None:
        """Codes of labels that are exactly the ints ``0..k-1`` (else None: the full check)."""
        try:
            codes = np.fromiter(labels, dtype=np.int64, count=len(labels))
        except (TypeError, ValueError, OverflowError):
            return None
        if codes.tolist() != labels or codes.min(initial=0) < 0 or codes.max(initial=0) >= k:
            return None  # e.g. 1.5 would have been truncated, or out of range
        return codes

    def __call__(self, labels: list[Any]) -> np.ndarray:
        k = len(self.classes)
        if self.multilabel:
            try:
                Y = np.asarray(labels, dtype=np.float64)
            except (TypeError, ValueError):
                Y = np.zeros((0, 0))
            if Y.ndim != 2 or Y.shape[1] != k or not np.isin(Y, (0, 1)).all():
                bad = next((lab for lab in labels if np.shape(lab) != (k,)), labels[0])
                raise ValueError(
                    f"Multi-label samples need a 0/1 vector of {k} labels (one per class in "
                    f"`classes`) from `label`. Received: {short_repr(bad)}"
                )
            return Y.astype(np.uint8)
        if self._identity:
            codes = self._fast_codes(labels, k)
            if codes is not None:
                return codes
        values = np.asarray(labels)
        if values.ndim != 1:
            raise ValueError(
                "Each sample's label must be one class value (multi-hot rows need "
                f"multilabel=True). Received: {short_repr(labels[0])}"
            )
        if self._identity and values.dtype.kind in "iu":
            codes = values.astype(np.int64)
            bad = (codes < 0) | (codes >= k)
        else:
            sorted_classes = self.classes[self._sorter]
            try:
                pos = np.clip(np.searchsorted(sorted_classes, values), 0, k - 1)
                bad = sorted_classes[pos] != values
            except (TypeError, ValueError):  # labels of another kind (None, str vs int): find it
                lookup = {v: i for i, v in enumerate(sorted_classes.tolist())}
                found = [lookup.get(v, -1) for v in values.tolist()]
                pos = np.maximum(np.array(found, dtype=np.int64), 0)
                bad = np.array(found) < 0
            codes = self._sorter[pos]
        if bad.any():
            value = values[np.flatnonzero(bad)[0]]
            value = value.item() if isinstance(value, np.generic) else value
            raise ValueError(
                f"A sample has label {short_repr(value)}, which is not one of the classes "
                f"{short_repr(self.classes.tolist())}. Declare every class in `classes` (or in "
                "`class_counts`), or check `label`."
            )
        return codes


class RepeatDistances:
    """Distances (in served samples) between consecutive copies of one input sample.

    The last serving position of each input sample is kept in a ring of
    ``ring`` slots indexed by input position, so distances between copies
    read up to ``ring`` samples apart are seen; distances are kept in a
    histogram capped at ``cap`` (the median is exact below the cap).
    """

    def __init__(self, ring: int, cap: int) -> None:
        self.ring_id = np.full(ring, -1, dtype=np.int64)
        self.ring_pos = np.zeros(ring, dtype=np.int64)
        self.hist = np.zeros(cap + 1, dtype=np.int64)

    def update(self, ids: np.ndarray, positions: np.ndarray) -> None:
        if not len(ids):
            return
        order = np.argsort(ids, kind="stable")
        sid, spos = ids[order], positions[order]
        same = sid[1:] == sid[:-1]
        within = spos[1:][same] - spos[:-1][same]
        head = np.ones(len(sid), dtype=bool)
        head[1:] = ~same
        slot = sid[head] % len(self.ring_id)
        known = self.ring_id[slot] == sid[head]
        across = spos[head][known] - self.ring_pos[slot[known]]
        cap = len(self.hist) - 1
        for d in (within, across):
            np.add.at(self.hist, np.minimum(d, cap), 1)
        tail = np.ones(len(sid), dtype=bool)
        tail[:-1] = ~same
        self.ring_id[sid[tail] % len(self.ring_id)] = sid[tail]
        self.ring_pos[sid[tail] % len(self.ring_id)] = spos[tail]

    def median(self) -> float | None:
        total = int(self.hist.sum())
        if total == 0:
            return None
        return float(np.searchsorted(np.cumsum(self.hist), (total + 1) / 2))
