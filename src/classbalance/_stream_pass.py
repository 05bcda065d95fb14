"""One pass of :class:`classbalance.stream.BalancedStream`: the per-chunk kernel and its state.

A pass reads its input a chunk at a time; everything between reading the
samples of a chunk and handing the served ones to the consumer is NumPy over
the chunk (label codes, repeat draws, one shuffle-buffer step, telemetry).
The pass is suspended between chunks, so its state there is small and
complete: the input position, the generator state, the buffer and the part of
the last output chunk not served yet (:meth:`Pass.state`, :meth:`Pass.restore`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from classbalance._repeat import random_round
from classbalance._stream_parts import as_objects
from classbalance._validation import short_repr

__all__ = ["Pass", "SlotBuffer", "input_kind"]

SEQUENCE, STATEFUL, ITERABLE = "sequence", "stateful", "iterable"
_TRACE = 7  # repeat distances are measured on input positions with (id & _TRACE) == 0


def input_kind(samples: Any) -> str:
    """How a resumed pass re-opens ``samples``: by index, by its own state, or by skipping."""
    kind = type(samples)
    # Iterable-style datasets (PyTorch's, Hugging Face's) may define __len__ and an
    # inherited __getitem__ that cannot index: they are not random access.
    iterable_style = any(c.__name__ == "IterableDataset" for c in kind.__mro__)
    if isinstance(samples, (Sequence, np.ndarray)) or (
        hasattr(kind, "__len__")
        and hasattr(kind, "__getitem__")
        and not iterable_style
        and not isinstance(samples, (Mapping, Iterator, str, bytes))
    ):
        return SEQUENCE
    if callable(getattr(samples, "state_dict", None)) and callable(
        getattr(samples, "load_state_dict", None)
    ):
        return STATEFUL
    return ITERABLE


class SlotBuffer:
    """A bounded shuffle buffer stepped once per chunk (tf.data's rule, vectorized).

    The first ``size`` items fill it. After that each arriving item takes a
    uniformly random slot and the slot's occupant is served in its place;
    when several arrivals of one step take the same slot, the last one stays
    and the others are served at their own position. Items travel with their
    input position (``ids``) and label codes (``labs``). A chunk's samples
    are written once behind the slots; copies are indices into them, so a
    step moves each object reference about three times, whatever its copies.
    """

    def __init__(self, size: int, labs_like: np.ndarray) -> None:
        self.size, self.n = size, 0
        self.pool = np.empty(size, dtype=object)  # the slots, then the last chunk's samples
        self.ids = np.zeros(size, dtype=np.int64)
        self.labs = np.zeros((size, *labs_like.shape[1:]), dtype=labs_like.dtype)
        self._last = np.zeros(size, dtype=np.int64)

    def push(
        self,
        chunk: list[Any],
        take: np.ndarray,
        ids: np.ndarray,
        labs: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrivals ``chunk[take[j]]`` (with ``ids[j]``, ``labs[j]``); returns the served."""
        size = self.size
        if len(self.pool) < size + len(chunk):
            grown = np.empty(size + len(chunk), dtype=object)
            grown[:size] = self.pool[:size]
            self.pool = grown
        pool = self.pool
        pool[size : size + len(chunk)] = as_objects(chunk)
        fill = min(size - self.n, len(take))
        if fill:
            end = self.n + fill
            pool[self.n : end] = pool[size + take[:fill]]
            self.ids[self.n : end], self.labs[self.n : end] = ids[:fill], labs[:fill]
            self.n = end
            take, ids, labs = take[fill:], ids[fill:], labs[fill:]
        step = max(1, self.size // 2)  # arrivals per step: few share a slot
        if len(take) <= step:
            return self._step(pool, take, ids, labs, rng)
        parts = [
            self._step(pool, take[a : a + step], ids[a : a + step], labs[a : a + step], rng)
            for a in range(0, len(take), step)
        ]
        return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))  # type: ignore[return-value]

    def _step(
        self,
        pool: np.ndarray,
        take: np.ndarray,
        ids: np.ndarray,
        labs: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size, m = self.size, len(take)
        if not m:
            return pool[:0], ids, labs
        slots = rng.integers(0, size, m)
        order = np.arange(m)
        self._last[slots] = order  # repeated slots: the last arrival's index is kept
        stays = self._last[slots] == order
        hit = slots[stays]
        source = size + take
        source[stays] = hit
        out = pool[source]
        pool[hit] = pool[size + take[stays]]
        served_ids, served_labs = ids.copy(), labs.copy()
        served_ids[stays], served_labs[stays] = self.ids[hit], self.labs[hit]
        self.ids[hit], self.labs[hit] = ids[stays], labs[stays]
        return out, served_ids, served_labs

    def flush(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        perm = rng.permutation(self.n)
        out = self.pool[perm], self.ids[perm], self.labs[perm]
        self.pool = np.empty(self.size, dtype=object)
        self.n = 0
        return out


class Pass:
    """The state of one pass over part ``index::count`` of the input, between chunks."""

    def __init__(self, stream: Any, epoch: int, index: int, count: int, rng: Any) -> None:
        self.stream, self.epoch, self.index, self.count = stream, epoch, index, count
        self.rng = rng
        k = len(stream.classes)
        self.online = stream.counts is None
        self.counts = np.zeros(k, dtype=np.int64) if self.online else stream.counts
        self.n_seen = 0
        self.means: np.ndarray | None = None
        self.cycle = 0  # reads of the whole part so far (``length`` passes re-read it)
        self.pos = 0  # items of the part read in this cycle
        self.produced = 0  # samples handed out (served or pending)
        self.buffer: SlotBuffer | None = None
        self.out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.input_state: Any = None  # the input's own state after the last chunk read
        self.input_start: Any = None  # ... and before the pass (to undo a loaded state)
        self.input_loaded = False
        self.stats = stream._fresh_stats()

    # ------------------------------------------------------------------ serving
    def chunks(
        self, samples: Iterable[Any], length: int | None, pending: Any = None
    ) -> Iterator[list[Any]]:
        """Served samples, a list per input chunk (the consumer chains them)."""
        try:
            yield from self._chunks(samples, length, pending)
        finally:
            self._unload(samples)

    def _unload(self, samples: Any) -> None:
        """Undo a state loaded into the input (Hugging Face keeps it for every later pass)."""
        if self.input_loaded:
            samples.load_state_dict(self.input_start)
            self.input_loaded = False

    def _chunks(
        self, samples: Iterable[Any], length: int | None, pending: Any = None
    ) -> Iterator[list[Any]]:
        if pending is not None:
            yield self._hand_out(*pending, length)
        while True:
            source = self._open(samples)
            for objs, ids, labs in self._one_read(source, samples):
                items = self._hand_out(objs, ids, labs, length)
                if items:
                    yield items
                if length is not None and self.produced >= length:
                    return
            if length is None or self.pos == 0:  # one read, or an empty input
                return
            if iter(samples) is samples:
                raise ValueError(
                    "`samples` is a one-shot iterator and ran out before `length` samples were "
                    "served; pass a re-iterable (a list, a dataset) or a smaller `length`."
                )
            self._unload(samples)
            self.cycle, self.pos = self.cycle + 1, 0
            self.buffer = None
            self.rng = self.stream._pass_rng(self.epoch, self.index + self.count * self.cycle)

    def _hand_out(
        self, objs: np.ndarray, ids: np.ndarray, labs: np.ndarray, length: int | None
    ) -> list[Any]:
        if length is not None:
            cut = length - self.produced
            objs, ids, labs = objs[:cut], ids[:cut], labs[:cut]
        self.stream._account(self.stats, ids, labs)
        self.produced += len(objs)
        self.out = (objs, ids, labs)
        return objs.tolist()

    def _open(self, samples: Any) -> Iterator[Any]:
        start = self.index + self.count * self.pos
        kind = input_kind(samples)
        if self.pos and kind == SEQUENCE:  # re-opened at the position by index
            return map(samples.__getitem__, range(start, len(samples), self.count))
        if kind == STATEFUL:
            if self.pos and self.input_state is not None:  # the input restores its position
                samples.load_state_dict(self.input_state)
                self.input_loaded = True
                return itertools.islice(iter(samples), self.count - 1, None, self.count)
            self._unload(samples)
            self.input_start = samples.state_dict()
        return itertools.islice(iter(samples), start, None, self.count)  # skips ``start`` items

    def _one_read(self, source: Iterator[Any], samples: Any) -> Iterator[tuple[np.ndarray, ...]]:
        s, st = self.stream, self.stats
        stateful = input_kind(samples) == STATEFUL
        pending: list[Any] = []
        exhausted = False
        while not exhausted:
            chunk = list(itertools.islice(source, s.chunk_size))
            exhausted = len(chunk) < s.chunk_size
            self.pos += len(chunk)
            if stateful:
                self.input_state = samples.state_dict()
            warming = self.online and self.n_seen == 0 and not exhausted
            if warming and len(pending) + len(chunk) < s.warmup:
                pending.extend(chunk)  # warm-up: count before serving
                continue
            if pending:
                chunk, pending = pending + chunk, []
            if not chunk:
                break
            labs = s._coder(list(map(s._label, chunk)))
            if self.online:
                first = self.n_seen == 0
                k = len(s.classes)
                self.counts = self.counts + (
                    labs.sum(0) if s.multilabel else np.bincount(labs, minlength=k)
                )
                if first:
                    s._warn_unseen(self.counts)
            self.n_seen += len(chunk)
            if self.online or self.means is None:
                self.means = s._means(self.counts, self.n_seen if self.online else s.n_samples)
            class_means = self.means
            copies = random_round(s._sample_means(class_means, labs), self.rng)
            take = np.repeat(np.arange(len(chunk)), copies)
            ids = st["read"] + take
            st["read"] += len(chunk)
            st["max_repeats"] = max(st["max_repeats"], int(copies.max(initial=0)))
            if self.buffer is None:
                self.buffer = SlotBuffer(s.buffer_size, labs)
                st["buffer"] = self.buffer
            yield self.buffer.push(chunk, take, ids, labs[take], self.rng)
        if self.buffer is not None:
            yield self.buffer.flush(self.rng)

    # ------------------------------------------------------------------- resume
    def state(self, remaining: int, samples: Any) -> dict[str, Any]:
        """Everything the pass needs to continue after its first ``produced - remaining``."""
        kind = input_kind(samples)
        st = self.stats
        owed = np.zeros_like(st["class_served"])
        if self.out is not None and remaining:
            owed = self.stream._class_counts(self.out[2][-remaining:])
        out: dict[str, Any] = {
            "part": [self.index, self.count],
            "input": kind,
            "cycle": self.cycle,
            "position": self.pos,
            "rng": self.rng.bit_generator.state,
            "produced": self.produced,
            "stats": {
                "read": st["read"],
                "served": st["served"] - remaining,
                "class_served": (st["class_served"] - owed).tolist(),
                "max_repeats": st["max_repeats"],
            },
        }
        if self.online:
            out["online"] = {"counts": self.counts.tolist(), "n_seen": self.n_seen}
        if kind == STATEFUL:
            out["input_state"], out["input_start"] = self.input_state, self.input_start
        b = self.buffer
        parts = {"buffer": (b.pool[: b.n], b.ids[: b.n], b.labs[: b.n]) if b else None}
        if self.out is not None and remaining:
            objs, ids, labs = self.out
            parts["pending"] = (objs[-remaining:], ids[-remaining:], labs[-remaining:])
        else:
            parts["pending"] = None
        for name, held in parts.items():
            if held is None:
                out[name] = None
                continue
            objs, ids, labs = held
            out[name] = {"ids": ids.tolist(), "labels": labs.tolist()}
            if kind != SEQUENCE:
                out[name]["samples"] = objs.tolist()  # no random access: stored as they are
        return out

    @classmethod
    def restore(
        cls, stream: Any, epoch: int, state: dict[str, Any], samples: Any, index: int, count: int
    ) -> tuple[Pass, Any]:
        """A pass at the saved point, and the samples it still owes from its last chunk."""
        if list(state["part"]) != [index, count]:
            raise ValueError(
                "This state was saved by the reader of input part "
                f"{state['part'][0]} of {state['part'][1]} (worker/rank split) and is loaded "
                f"by part {index} of {count}; load each worker's and rank's own state. "
                f"Received: part={state['part']}"
            )
        kind = input_kind(samples)
        if kind != state["input"] and SEQUENCE in (kind, state["input"]):
            raise ValueError(
                f"This state describes a {state['input']} input but `samples` is a {kind} "
                "input (see BalancedStream.load_state_dict); resume on the same kind of input. "
                f"Received: samples={short_repr(samples)}"
            )
        rng = np.random.default_rng()
        rng.bit_generator.state = state["rng"]
        p = cls(stream, epoch, index, count, rng)
        p.cycle, p.pos, p.produced = state["cycle"], state["position"], state["produced"]
        p.input_state, p.input_start = state.get("input_state"), state.get("input_start")
        if "online" in state and state["online"] is not None:
            p.counts = np.asarray(state["online"]["counts"], dtype=np.int64)
            p.n_seen = state["online"]["n_seen"]
        saved = state["stats"]
        p.stats.update(
            read=saved["read"],
            served=saved["served"],
            class_served=np.asarray(saved["class_served"], dtype=np.int64),
            max_repeats=saved["max_repeats"],
        )
        held = {}
        for name in ("buffer", "pending"):
            part = state[name]
            if part is None:
                held[name] = None
                continue
            ids = np.asarray(part["ids"], dtype=np.int64)
            labs = np.asarray(part["labels"], dtype=np.uint8 if stream.multilabel else np.int64)
            if stream.multilabel:
                labs = labs.reshape(len(ids), len(stream.classes))
            if "samples" in part:
                objs = as_objects(part["samples"])
            else:
                objs = as_objects(_by_index(samples, ids, index, count))
            held[name] = (objs, ids, labs)
        if held["buffer"] is not None:
            objs, ids, labs = held["buffer"]
            p.buffer = SlotBuffer(stream.buffer_size, labs)
            p.buffer.pool[: len(objs)], p.buffer.ids[: len(ids)] = objs, ids
            p.buffer.labs[: len(labs)] = labs
            p.buffer.n = len(objs)
            p.stats["buffer"] = p.buffer
        if held["pending"] is not None:
            p.produced -= len(held["pending"][0])
        return p, held["pending"]


def _by_index(samples: Sequence[Any], ids: np.ndarray, index: int, count: int) -> list[Any]:
    """The samples at read counters ``ids`` of part ``index::count`` (cycles wrap around)."""
    n_part = len(range(index, len(samples), count))
    positions = index + count * (ids % max(n_part, 1))
    getter: Callable[[int], Any] = samples.__getitem__
    return list(map(getter, positions.tolist()))
