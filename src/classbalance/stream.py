"""Balanced streams: class-balanced samples from data without random access.

:class:`BalancedStream` re-balances any iterable of samples (WebDataset
shards, a Hugging Face dataset opened with ``streaming=True``, a generator
reading from object storage) on the engine's rules (``strategy``,
``alpha``, ``{class: count or fraction}``, ``"repeat_factor"``, ``seed``,
``set_epoch``), reading each input sample once per pass:

- each arriving sample of class ``c`` is served ``k`` times, ``k`` drawn by
  random rounding with mean ``m_c = target_c / n_c`` (the engine's target
  count over the natural count): the head is thinned (``m_c < 1``), the tail
  repeated (``m_c > 1``), nothing is rejected in a loop. Multi-label: a
  sample's mean is the largest of its labels' (the LVIS rule);
- copies go through a bounded shuffle buffer (tf.data's rule), which spreads
  the repeats of one sample about a buffer apart;
- natural counts come from ``class_counts`` (e.g. :func:`count_labels` over
  a labels-only pass) or are estimated online after a warm-up.

Every random draw of a pass comes from ``(seed, epoch)``, so a pass is a
function of its input. :meth:`BalancedStream.state_dict` is taken between two
input chunks: the input position, the generator state, the buffer and the
samples of the last chunk not served yet; restoring it costs the same at any
point of a pass (see :meth:`BalancedStream.load_state_dict`).
"""

from __future__ import annotations

import itertools
import numbers
import operator
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from classbalance._repeat import as_repeat_factor, class_repeat_factors
from classbalance._resume import check_state, fingerprint, make_state
from classbalance._stream_parts import Coder, RepeatDistances
from classbalance._stream_pass import _TRACE, Pass
from classbalance._streams import STREAM_PASS
from classbalance._targets import AlphaLike, StrategyLike, resolve_targets
from classbalance._validation import check_positive_int, resolve_seed, rng_for, short_repr

__all__ = ["BalancedStream", "LabelCounts", "count_labels"]

_LOCK = threading.Lock()


class LabelCounts:
    """Natural counts of a stream's classes (labels): ``classes``, ``counts``, ``n_samples``.

    Examples
    --------
    >>> from classbalance.stream import LabelCounts
    >>> counts = LabelCounts(["cat", "dog"], [2, 1], n_samples=3, multilabel=False)
    >>> counts
    LabelCounts({'cat': 2, 'dog': 1}, n_samples=3)
    >>> counts.counts.tolist(), counts.as_dict()["dog"]
    ([2, 1], 1)
    """

    def __init__(self, classes: Any, counts: Any, n_samples: int, multilabel: bool) -> None:
        self.classes = np.asarray(classes)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.n_samples = int(n_samples)
        self.multilabel = bool(multilabel)

    def as_dict(self) -> dict[Any, int]:
        """``{class: count}``."""
        return dict(zip(self.classes.tolist(), self.counts.tolist(), strict=True))

    def __repr__(self) -> str:
        return f"LabelCounts({short_repr(self.as_dict())}, n_samples={self.n_samples})"


def count_labels(
    labels: Iterable[Any],
    *,
    classes: Sequence[Any] | None = None,
    multilabel: bool = False,
    chunk_size: int = 1 << 16,
) -> LabelCounts:
    """Count the classes of a labels-only pass (a parquet column, the ``.cls`` files of shards).

    Parameters
    ----------
    labels : iterable
        One label per sample: a class value, or (``multilabel``) a 0/1 row.
    classes : sequence, default=None
        Declared classes (kept even with no sample); default: the values seen,
        sorted. Multi-label: names of the columns (default ``0..K-1``).
    multilabel : bool, default=False
        Labels are multi-hot rows; counts are positives per label.
    chunk_size : int, default=65536
        Labels converted to an array at a time.

    Returns
    -------
    LabelCounts
        Pass it as ``BalancedStream(class_counts=...)``.

    Examples
    --------
    >>> from classbalance.stream import count_labels
    >>> count_labels(["cat", "dog", "cat"]).as_dict()
    {'cat': 2, 'dog': 1}
    >>> count_labels([[1, 0], [1, 1]], multilabel=True).counts.tolist()
    [2, 1]
    """
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    it = iter(labels)
    totals: dict[Any, int] = {}
    Y_sum: np.ndarray | None = None
    n = 0
    while chunk := list(itertools.islice(it, chunk_size)):
        n += len(chunk)
        if multilabel:
            k = len(classes) if classes is not None else len(chunk[0])
            rows = Coder(np.arange(k), multilabel=True)(chunk)
            Y_sum = rows.sum(0, dtype=np.int64) + (0 if Y_sum is None else Y_sum)
            continue
        values, counts = np.unique(np.asarray(chunk), return_counts=True)
        for v, c in zip(values.tolist(), counts.tolist(), strict=True):
            totals[v] = totals.get(v, 0) + c
    if n == 0:
        raise ValueError("`labels` is empty; there is nothing to count.")
    if multilabel:
        assert Y_sum is not None
        names = np.arange(len(Y_sum)) if classes is None else np.asarray(classes)
        return LabelCounts(names, Y_sum, n, True)
    names = np.asarray(sorted(totals) if classes is None else list(classes))
    Coder(names, multilabel=False)(list(totals))  # every value seen is a declared class
    return LabelCounts(names, [totals.get(v, 0) for v in names.tolist()], n, False)


def _counts_from(
    class_counts: Any, classes: Any, multilabel: bool
) -> tuple[np.ndarray, np.ndarray | None, int | None]:
    """(classes, counts or None, n_samples or None) from ``class_counts`` and ``classes``."""
    if class_counts is None:
        if classes is None:
            raise ValueError(
                "Without `class_counts` the stream estimates the class counts online and needs "
                "the classes declared: pass `classes=[...]` (or `class_counts=` from "
                "count_labels())."
            )
        return np.asarray(classes), None, None
    if isinstance(class_counts, LabelCounts):
        if class_counts.multilabel != multilabel:
            raise ValueError(
                f"`class_counts` counts {'multi' if class_counts.multilabel else 'single'}-label "
                f"data but multilabel={multilabel}. Count with the same `multilabel`."
            )
        return class_counts.classes, class_counts.counts, class_counts.n_samples
    if isinstance(class_counts, Mapping):
        names, counts = np.asarray(list(class_counts)), np.asarray(list(class_counts.values()))
    else:
        counts = np.asarray(class_counts)
        names = np.arange(len(counts)) if classes is None else np.asarray(classes)
    if counts.ndim != 1 or counts.dtype.kind not in "iu" or np.any(counts < 0):
        raise ValueError(
            "`class_counts` must be a LabelCounts from count_labels(), a dict {class: count} or "
            f"an array of ints >= 0. Received: class_counts={short_repr(class_counts)}"
        )
    if len(names) != len(counts):
        raise ValueError(f"`classes` must have one value per count ({len(counts)}).")
    return names, counts.astype(np.int64), None if multilabel else int(counts.sum())


class BalancedStream:
    """Class-balanced samples from an iterable without random access, one read per sample.

    Parameters
    ----------
    samples : iterable or None
        The input; each pass calls ``iter(samples)`` (a list, a WebDataset, a
        Hugging Face ``IterableDataset``, ...). A one-shot iterator allows one
        pass. ``None``: the stream is a pipeline stage, called with its source
        (``stream(source)``, e.g. inside ``wds.DataPipeline``).
    label : callable, str or int
        How to read a sample's label: ``label(sample)``, or a key
        (``sample[label]``, e.g. ``"cls"`` or ``1``). A class value, or a 0/1
        row of ``len(classes)`` labels with ``multilabel=True``.
    strategy, alpha, epoch_size :
        The target class counts, as in :class:`classbalance.BalancedSampler`
        (``"oversample"``, ``"undersample"``, ``"balanced"``, ``{class: count
        or fraction}``, a callable, ``"repeat_factor"`` or
        :func:`~classbalance.sampling.repeat_factor`), computed on the natural
        counts. Sample ``i`` of class ``c`` is served ``target_c / n_c`` times
        on average, so a pass serves about ``sum(targets)`` samples.
    class_counts : LabelCounts, dict or array, default=None
        Natural counts over one pass (:func:`count_labels`). ``None``:
        estimated online; the first ``warmup`` samples are read and counted
        before any is served, then counts keep growing with every chunk.
        ``classes`` are then required and ``epoch_size`` is refused.
    classes : sequence, default=None
        Declared classes (labels), when ``class_counts`` does not give them.
    multilabel : bool, default=False
        Labels are multi-hot rows; a sample's mean is its labels' largest.
        Samples with no label are dropped (kept once with ``"repeat_factor"``).
    buffer_size : int, default=10000
        Samples held by the shuffle buffer. A warning says when it is under
        4x the largest repeat (copies would come close together).
    warmup : int, default=10000
        Samples counted before serving, without ``class_counts``.
    length : int, default=None
        If given, every pass serves exactly ``length`` samples: it stops
        early, or reads the input again (fresh draws) if it runs out first.
    seed : int, numpy Generator or None, default=None
        Seed of every draw; a pass depends only on ``(seed, epoch)`` and its input.
    chunk_size : int, default=4096
        Input samples processed at a time (all arithmetic is per chunk).
    batch_size : int, default=None
        The batch size of the consumer, if known: checked only (a warning
        names both numbers when ``buffer_size`` is smaller).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.stream import BalancedStream
    >>> data = [(i, 0) for i in range(900)] + [(i, 1) for i in range(900, 1000)]
    >>> stream = BalancedStream(data, label=1, strategy="balanced", class_counts=[900, 100],
    ...                         buffer_size=500, seed=0)
    >>> served = list(stream)
    >>> np.bincount([y for _, y in served]).tolist()
    [509, 500]
    >>> round(stream.stats()["read_per_served"], 2)  # each input sample read once
    0.99
    """

    def __init__(
        self,
        samples: Iterable[Any] | None,
        *,
        label: Callable[[Any], Any] | str | int,
        strategy: StrategyLike = None,
        alpha: AlphaLike | None = None,
        epoch_size: int | None = None,
        class_counts: Any = None,
        classes: Sequence[Any] | None = None,
        multilabel: bool = False,
        buffer_size: int = 10_000,
        warmup: int = 10_000,
        length: int | None = None,
        seed: int | np.random.Generator | None = None,
        chunk_size: int = 4096,
        batch_size: int | None = None,
    ) -> None:
        if samples is not None and not isinstance(samples, Iterable):
            raise TypeError(
                "`samples` must be an iterable (or None for a pipeline stage). "
                f"Received: samples={short_repr(samples)}"
            )
        if callable(label):
            self._label = label
        elif isinstance(label, (str, numbers.Integral)) and not isinstance(label, bool):
            self._label = operator.itemgetter(label)
        else:
            raise TypeError(
                "`label` must be a callable sample -> label or a key (str or int). "
                f"Received: label={short_repr(label)}"
            )
        self.samples = samples
        self.multilabel = bool(multilabel)
        self.buffer_size = check_positive_int(buffer_size, "buffer_size")
        self.warmup = check_positive_int(warmup, "warmup")
        self.chunk_size = check_positive_int(chunk_size, "chunk_size")
        self.length = None if length is None else check_positive_int(length, "length")
        self.seed = resolve_seed(seed)
        self.epoch = 0
        names, counts, n = _counts_from(class_counts, classes, self.multilabel)
        self.classes = names
        self._coder = Coder(names, self.multilabel)
        self._rule = as_repeat_factor(strategy)
        self._spec = (strategy, alpha, epoch_size)
        self.counts = counts
        self.n_samples = n
        if counts is None and epoch_size is not None:
            raise ValueError(
                "`epoch_size` scales the natural counts of a whole pass, which are not known "
                "when they are estimated online; pass `class_counts=` (count_labels()), or "
                "`length=` for a fixed number of samples per pass. "
                f"Received: epoch_size={epoch_size}"
            )
        if self._rule is not None and self.multilabel and counts is not None and n is None:
            raise ValueError(
                "strategy='repeat_factor' on multi-label data needs the number of samples: pass "
                "`class_counts=count_labels(..., multilabel=True)`."
            )
        self.strategy = strategy
        if batch_size is not None:
            self._check_batch(check_positive_int(batch_size, "batch_size"))
        if counts is not None:
            self._check_buffer(self._means(counts, n))
        self._resume: dict[str, Any] | None = None
        self._pass: tuple[Pass, Iterator[Any], Any, int | None] | None = None
        self._stats = self._fresh_stats()

    # ---------------------------------------------------------------- targets
    def _means(self, counts: np.ndarray, n: int | None) -> np.ndarray:
        """Mean copies per sample of each class (label) for natural ``counts``."""
        n = int(counts.sum()) if n is None else n
        if self._rule is not None:
            return class_repeat_factors(counts, n, self._rule.threshold)
        strategy, alpha, epoch_size = self._spec
        if strategy is None and alpha is None and self.multilabel:
            strategy = "balanced"
        targets = resolve_targets(
            strategy,
            alpha,
            counts=counts,
            classes=self.classes,
            seed=self.seed,
            epoch_size=epoch_size,
            n_samples=n,
        )(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(counts > 0, targets / np.maximum(counts, 1), 0.0)

    def _check_buffer(self, means: np.ndarray) -> None:
        largest = float(means.max()) if len(means) else 0.0
        if 4 * largest > self.buffer_size:
            warnings.warn(
                f"buffer_size={self.buffer_size} is under 4x the largest mean repeat "
                f"({largest:.1f} copies of one sample): its copies will be served close "
                f"together. Use buffer_size >= {int(np.ceil(16 * largest))}.",
                UserWarning,
                stacklevel=3,
            )

    def _check_batch(self, batch_size: int) -> None:
        if self.buffer_size < batch_size:
            warnings.warn(
                f"buffer_size={self.buffer_size} is smaller than batch_size={batch_size}: a "
                "batch spans more samples than the buffer holds, so copies of one sample and "
                "runs of the input order can land in the same batch. Use buffer_size >= "
                f"{4 * batch_size}.",
                UserWarning,
                stacklevel=3,
            )

    def _sample_means(self, class_means: np.ndarray, labs: np.ndarray) -> np.ndarray:
        if not self.multilabel:
            return class_means[labs]
        means = np.where(labs > 0, class_means, 0.0).max(axis=1)
        if self._rule is not None:
            means[means == 0] = 1.0
        return means

    # ----------------------------------------------------------------- epochs
    def set_epoch(self, epoch: int) -> None:
        """Serve ``epoch`` in the next pass (call it each epoch when DataLoader workers copy it)."""
        self.epoch = check_positive_int(epoch, "epoch", allow_zero=True)
        if self._resume is not None and self._resume["epoch"] != self.epoch:
            self._resume = None  # another epoch than the loaded state's: start it afresh

    def start_pass(self) -> int:
        """Begin a pass: return its epoch and move to the next (the package's epoch rule)."""
        with _LOCK:
            epoch, self.epoch = self.epoch, self.epoch + 1
        return epoch

    def __len__(self) -> int:
        if self.length is None:
            raise TypeError("A BalancedStream has a length only with `length=` (samples per pass).")
        return self.length

    def __iter__(self) -> Iterator[Any]:
        return self.serve(0, 1, self.length)

    def expected_served(self) -> float | None:
        """Samples one pass serves on average (None while the counts are estimated online)."""
        if self.counts is None:
            return None
        means = self._means(self.counts, self.n_samples)
        if self.multilabel:
            return None
        return float((means * self.counts).sum())

    def __call__(self, source: Iterable[Any]) -> Iterator[Any]:
        """Serve one pass over ``source``: the stream as a pipeline stage.

        ``BalancedStream(None, label=..., ...)`` is a stage of a WebDataset
        pipeline (``wds.DataPipeline(..., stream, ...)`` or
        ``WebDataset(...).compose(stream)``) or of any iterator chain; each
        call is the next epoch, as a pass over the stream is.
        """
        return self.serve(0, 1, self.length, source=source)

    def serve(
        self,
        index: int = 0,
        count: int = 1,
        length: int | None = None,
        *,
        source: Iterable[Any] | None = None,
    ) -> Iterator[Any]:
        """One pass over part ``index`` of ``count`` of the input (items ``index::count``).

        ``length``: serve exactly that many samples, reading the part again
        (fresh draws) if it runs out first. This is how the PyTorch dataset
        splits the input across workers and ranks; iterating the stream is
        ``serve(0, 1, length)``. ``source``: read it instead of ``samples``.
        """
        samples = self.samples if source is None else source
        if samples is None:
            raise TypeError(
                "This BalancedStream has no `samples`: use it as a pipeline stage, "
                "stream(source), or build it with the samples to iterate it."
            )
        return self._serve(samples, index, count, length)

    def _serve(
        self, samples: Iterable[Any], index: int, count: int, length: int | None
    ) -> Iterator[Any]:
        return itertools.chain.from_iterable(self._chunks(samples, index, count, length))

    def _pass_rng(self, epoch: int, part: int) -> np.random.Generator:
        return rng_for(self.seed, STREAM_PASS, epoch, part)

    def _chunks(
        self, samples: Iterable[Any], index: int, count: int, length: int | None
    ) -> Iterator[Iterator[Any]]:
        resume, self._resume = self._resume, None
        if resume is None:
            epoch = self.start_pass()
            run, pending = Pass(self, epoch, index, count, self._pass_rng(epoch, index)), None
        else:
            epoch = resume["epoch"]
            with _LOCK:
                self.epoch = epoch + 1
            run, pending = Pass.restore(self, epoch, resume["pass"], samples, index, count)
        self._stats = run.stats
        for items in run.chunks(samples, length, pending):
            it = iter(items)
            self._pass = (run, it, samples, length)
            yield it
        self._pass = None

    def _warn_unseen(self, counts: np.ndarray) -> None:
        unseen = self.classes[counts == 0].tolist()
        if unseen:
            warnings.warn(
                f"{len(unseen)} declared class(es) had no sample in the first {self.warmup} "
                f"(warm-up) samples: {short_repr(unseen)}. They are served once they appear, at "
                "shares estimated from fewer samples; pass `class_counts=` (count_labels()) "
                "for exact shares from the start.",
                UserWarning,
                stacklevel=4,
            )

    # -------------------------------------------------------------- telemetry
    def _fresh_stats(self) -> dict[str, Any]:
        k = len(self.classes)
        return {
            "read": 0,
            "served": 0,
            "class_served": np.zeros(k, dtype=np.int64),
            "max_repeats": 0,
            "distances": RepeatDistances(8 * self.buffer_size, 4 * self.buffer_size),
            "buffer": None,
        }

    def _class_counts(self, labs: np.ndarray) -> np.ndarray:
        if self.multilabel:
            return labs.sum(0, dtype=np.int64)
        return np.bincount(labs, minlength=len(self.classes))

    def _account(self, st: dict[str, Any], ids: np.ndarray, labs: np.ndarray) -> None:
        traced = (ids & _TRACE) == 0
        positions = st["served"] + np.flatnonzero(traced)
        st["distances"].update(ids[traced], positions)
        st["served"] += len(ids)
        st["class_served"] += self._class_counts(labs)

    def stats(self) -> dict[str, Any]:
        """What the current (or last) pass cost and served.

        ``read``, ``served``, ``read_per_served``; ``served_shares``
        ``{class: share}`` of the samples served so far (multi-label: of the
        positives served); ``max_repeats`` (most copies of one sample);
        ``median_repeat_distance`` (served samples between consecutive
        copies of one sample; None before any repeat); ``buffer_size`` and
        ``buffer_held`` (samples the buffer holds now: its memory is that many
        samples, plus 3 x 8 bytes per slot of bookkeeping).
        """
        st = self._stats
        total = st["class_served"].sum()
        shares = st["class_served"] / total if total else np.zeros(len(self.classes))
        return {
            "read": st["read"],
            "served": st["served"],
            "read_per_served": st["read"] / st["served"] if st["served"] else None,
            "served_shares": dict(zip(self.classes.tolist(), shares.tolist(), strict=True)),
            "max_repeats": st["max_repeats"],
            "median_repeat_distance": st["distances"].median(),
            "buffer_size": self.buffer_size,
            "buffer_held": 0 if st["buffer"] is None else st["buffer"].n,
        }

    # ----------------------------------------------------------------- resume
    def _fingerprint(self) -> dict[str, Any]:
        counts = np.zeros(0, np.int64) if self.counts is None else self.counts
        return fingerprint(
            seed=self.seed,
            strategy=self._spec,
            n_samples=-1 if self.n_samples is None else self.n_samples,
            counts=counts,
            buffer_size=self.buffer_size,
            chunk_size=self.chunk_size,
            warmup=self.warmup,
            length=self.length,
        )

    def state_dict(self) -> dict[str, Any]:
        """Where the pass in progress stands, restorable at once (see :meth:`load_state_dict`)."""
        if self._pass is None:
            if self._resume is not None:  # loaded and not started yet: the same state
                return dict(self._resume)
            return {**make_state(self._fingerprint(), self.epoch, 0, "served"), "pass": None}
        run, it, samples, length = self._pass
        remaining = it.__length_hint__()
        if length is not None and run.produced >= length and not remaining:
            return {**make_state(self._fingerprint(), run.epoch + 1, 0, "served"), "pass": None}
        state = make_state(self._fingerprint(), run.epoch, run.produced - remaining, "served")
        return {**state, "pass": run.state(remaining, samples)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume: the next pass continues the saved one at the next sample.

        The state is taken between two input chunks (the last chunk's served
        samples not handed out yet are part of it), so restoring costs the
        same at any point of a pass; nothing is recomputed. The input is
        re-opened at the saved position, by its kind:

        - a sequence (``len`` and ``__getitem__``: a list, a map-style
          dataset): read from that index on; the buffer and the samples owed
          are stored as input positions and read back by index;
        - an input with its own ``state_dict``/``load_state_dict`` (a Hugging
          Face ``IterableDataset``): restored through them; the buffer is
          stored as the samples themselves (they must pickle);
        - any other iterable (a generator, WebDataset shards): iterated again
          and the items before the position skipped (read, without labels or
          draws); the buffer is stored as the samples themselves.

        A state from another seed, strategy, class counts or buffer is refused
        with the difference named.
        """
        epoch, _ = check_state(state, self._fingerprint(), "served", type(self).__name__)
        self.epoch = epoch
        self._resume = dict(state) if state.get("pass") is not None else None
        self._pass = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_pass"] = None
        return state

    def __repr__(self) -> str:
        return (
            f"BalancedStream(strategy={short_repr(self.strategy)}, classes={len(self.classes)}, "
            f"buffer_size={self.buffer_size}, epoch={self.epoch}, seed={self.seed})"
        )
