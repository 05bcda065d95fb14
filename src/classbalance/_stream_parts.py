"""The parts of :class:`classbalance.stream.BalancedStream`: label coding, the shuffle
buffer and the telemetry, each vectorized over a chunk of samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._validation import short_repr

__all__ = ["Coder", "RepeatDistances", "ShuffleBuffer", "as_objects"]


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
        if np.any(bad):
            value = values[np.flatnonzero(bad)[0]]
            value = value.item() if isinstance(value, np.generic) else value
            raise ValueError(
                f"A sample has label {short_repr(value)}, which is not one of the classes "
                f"{short_repr(self.classes.tolist())}. Declare every class in `classes` (or in "
                "`class_counts`), or check `label`."
            )
        return codes


class ShuffleBuffer:
    """A bounded shuffle buffer (tf.data's rule), pushed a chunk at a time.

    The first ``size`` items fill it; after that each item goes to a random
    slot and the item it replaces is served. ``flush`` serves what is left
    in random order. Items travel with their input position and labels
    (parallel arrays), so telemetry sees what was served.
    """

    def __init__(self, size: int, label_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        self.size, self.rng, self.n = size, rng, 0
        self.objs = np.empty(size, dtype=object)
        self.ids = np.zeros(size, dtype=np.int64)
        self.labs = np.zeros((size, *label_shape), dtype=np.int64)

    def push(
        self, objs: np.ndarray, ids: np.ndarray, labs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fill = min(self.size - self.n, len(objs))
        if fill:
            end = self.n + fill
            self.objs[self.n : end], self.ids[self.n : end] = objs[:fill], ids[:fill]
            self.labs[self.n : end] = labs[:fill]
            self.n = end
            objs, ids, labs = objs[fill:], ids[fill:], labs[fill:]
        m = len(objs)
        slots = self.rng.integers(0, self.size, m)
        order = np.argsort(slots, kind="stable")
        ss = slots[order]
        first = np.ones(m, dtype=bool)
        first[1:] = ss[1:] != ss[:-1]
        last = np.ones(m, dtype=bool)
        last[:-1] = first[1:]
        # Item j (in slot order) serves the slot's occupant: the buffer's item for the
        # first arrival at a slot, else the item that arrived at that slot just before.
        from_buffer, from_new = order[first], order[~first]
        previous = order[np.flatnonzero(~first) - 1]
        out = []
        for store, new in ((self.objs, objs), (self.ids, ids), (self.labs, labs)):
            served = np.empty_like(new)
            served[from_buffer] = store[ss[first]]
            served[from_new] = new[previous]
            store[ss[last]] = new[order[last]]
            out.append(served)
        return out[0], out[1], out[2]

    def flush(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        perm = self.rng.permutation(self.n)
        out = self.objs[perm], self.ids[perm], self.labs[perm]
        self.objs[:] = None
        self.n = 0
        return out


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
            self.hist += np.bincount(np.minimum(d, cap), minlength=cap + 1)
        tail = np.ones(len(sid), dtype=bool)
        tail[:-1] = ~same
        self.ring_id[sid[tail] % len(self.ring_id)] = sid[tail]
        self.ring_pos[sid[tail] % len(self.ring_id)] = spos[tail]

    def median(self) -> float | None:
        total = int(self.hist.sum())
        if total == 0:
            return None
        return float(np.searchsorted(np.cumsum(self.hist), (total + 1) / 2))
