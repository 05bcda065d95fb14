"""Per-epoch index plans: which samples an epoch visits, in which order.

A plan is decided from labels alone and depends only on ``(seed, epoch)``, so
every process, worker or rank that builds the same sampler gets the same plan.

How a plan is built (all vectorized; the only Python loops run over classes
and blocks of permutations, never over samples):

1. Once: a stable argsort of the class codes groups the sample indices by
   class (a radix sort for ``uint8`` codes).
2. Per epoch: a target count per class from the strategy.
3. Each class has an endless *stream*: fresh permutations of its members, one
   after another, so no member repeats before every member was used once.
   Epoch ``e`` takes the next ``target`` positions of that stream, so
   under-sampling walks through the whole majority class over the epochs and
   over-sampling cycles through the minority class evenly.
4. The per-class pieces are interleaved at random positions, each class
   keeping its stream order (or, with ``exact=True``, merged so every batch
   holds the same share of each class, then shuffled within each batch).

Multi-label targets (``multilabel=True``) use the same plan with *labels* in
place of classes: a label's members are its positive samples (a sample is a
member of every label it carries), so step 1 groups the (sample, label)
pairs by label and steps 2-4 are unchanged. The default target,
``"balanced"`` at ``n_samples`` draws, is class-aware sampling (Shen et al.,
ECCV 2016): pick a label uniformly, then the next of its positives in a
fresh permutation.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from classbalance._plan_parts import group_positives, interleave
from classbalance._repeat import (
    RepeatFactor,
    as_repeat_factor,
    class_repeat_factors,
    fixed_total_copies,
    repeat_factor,
    sample_factors,
)
from classbalance._resume import check_state, fingerprint, make_state
from classbalance._streams import PHASE, REPEAT, SHUFFLE, STREAM
from classbalance._targets import (
    SAMPLING_STRATEGIES,
    AlphaLike,
    StrategyLike,
    alpha_shares,
    check_targets,
    progressive_alpha,
    resolve_targets,
)
from classbalance._validation import (
    check_positive_int,
    resolve_seed,
    rng_for,
    short_repr,
)
from classbalance.labels import EncodedLabels, MultiHotLabels, encode_labels, encode_multilabel

__all__ = [
    "SAMPLING_STRATEGIES",
    "BalancedSampler",
    "alpha_shares",
    "progressive_alpha",
    "repeat_factor",
]


# Random-stream domains (registry: classbalance._streams); every rng_for() call uses (domain, a, b).
_SHUFFLE, _STREAM, _PHASE = SHUFFLE, STREAM, PHASE
# Permutations of a small class are generated this many samples at a time
# (large enough to amortize the Python loop, small enough not to waste work
# on the short epochs of small data sets).
_BLOCK_SAMPLES = 1 << 12
# Indices turned into Python ints at a time by __iter__ (bounds its memory).
_ITER_CHUNK = 1 << 16
# One lock for every sampler's epoch counter: module-level, so samplers still pickle.
_EPOCH_LOCK = threading.Lock()


class BalancedSampler:
    """Index plans that re-balance classes, one per epoch.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_classes), or EncodedLabels
        Labels: class vector (ints, strings, bools), one-hot matrix, 0/1
        column or pandas Series. Only labels are read; data is never touched.
        Labels already encoded by :func:`~classbalance.encode_labels` (or
        :meth:`~classbalance.labels.EncodedLabels.from_counts`) are used as
        they are, without a second validation pass: this is the door the
        adapters (batches, tf, torch, ensemble, folders) use.
    strategy : str, dict or callable, default=None
        How many samples of each class an epoch holds (``target_counts``):

        - ``"oversample"`` (the default without ``epoch_size``): every class up
          to the largest.
        - ``"undersample"``: every class down to the smallest; a fresh subset
          each epoch, walking through the whole class over the epochs.
        - ``"balanced"`` (the default with ``epoch_size``, and for
          ``multilabel``): equal shares of ``epoch_size`` (default: n_samples).
        - ``{class: count_or_fraction}``: an int is that class's count, a
          float in [0, 1] that share of ``epoch_size``; unlisted classes keep
          their natural count.
        - a callable ``f(counts) -> target counts`` (array or dict by class).
    alpha : float in [0, 1] or callable(epoch) -> float, default=None
        Sample class ``c`` with probability proportional to ``n_c ** alpha``
        at ``epoch_size`` samples: 0 is balanced, 0.5 square-root, 1 natural.
        A callable gives a schedule (see :func:`progressive_alpha`). Exclusive
        with ``strategy``.
    epoch_size : int, default=None
        Samples per epoch for ``"balanced"``, fractions and ``alpha``
        (default: the number of labels). Given without ``strategy`` and
        ``alpha``, it means ``strategy="balanced"`` at that size, in the core
        and in every adapter (``num_samples`` is its PyTorch name in
        :mod:`classbalance.torch`). A strategy that fixes its own size
        (``"oversample"``, ``"undersample"``, a dict of counts only, a
        callable returning counts) refuses it rather than ignore it.
    seed : int, numpy Generator or None, default=None
        ``None`` draws a seed once; it is kept in :attr:`seed` so the run can
        be replayed.
    classes : sequence, default=None
        Declared classes (for dict keys or label order); with ``multilabel``,
        the label names, one per column.
    multilabel : bool, default=False
        ``y`` is a multi-label target: a 0/1 matrix (n_samples, n_labels), a
        sequence of label sets, or :class:`~classbalance.labels.MultiHotLabels`
        (which needs no flag; strings joined by a separator go through
        :func:`~classbalance.encode_multilabel` first). Every class-level
        notion above then applies to labels: a label's members are its
        positive samples, ``strategy``/``alpha`` set how many draws each label
        gets, and a drawn label yields the next of its positives from its
        stream of fresh permutations. The default becomes ``"balanced"`` at
        ``n_samples`` draws: class-aware sampling (Shen et al., ECCV 2016),
        each label drawn equally often. A sample with several labels can be
        drawn through each of them; ``exact=True`` spreads each label's
        *draws* evenly over the batches (the rows drawn may carry other
        labels too). Rows with no label are never drawn
        (:attr:`n_unlabeled` counts them; add a "no finding" column to sample
        them); labels with no positive get no draws and are reported in
        :attr:`empty_labels` with a warning.

    Attributes
    ----------
    seed : int
        The seed in use.
    epoch : int
        Current epoch, set with :meth:`set_epoch`.
    classes : ndarray
        Class values, aligned with :attr:`counts` and :meth:`target_counts`.
    counts : ndarray
        Samples per class in ``y`` (multi-label: positives per label).
    multilabel : bool
        Whether the plans are over labels of a multi-label target.
    empty_labels : list
        Multi-label only: labels with no positive sample.
    n_unlabeled : int
        Multi-label only: rows with no label, never drawn.

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> sampler = cb.BalancedSampler(y, seed=0)
    >>> sampler.target_counts().tolist(), len(sampler)
    ([8, 8], 16)
    >>> np.bincount(y[sampler.plan()]).tolist()
    [8, 8]

    Multi-label: each of the 3 labels gets 4 of the 12 draws.

    >>> Y = np.array([[1, 0, 0]] * 9 + [[1, 1, 0], [0, 0, 1], [0, 1, 1]])
    >>> ml = cb.BalancedSampler(Y, multilabel=True, seed=0)
    >>> ml.target_counts().tolist(), len(ml)
    ([4, 4, 4], 12)
    >>> [sorted(set(p.tolist())) for p in ml.class_plans()]
    [[1, 3, 8, 9], [9, 11], [10, 11]]
    """

    def __init__(
        self,
        y: Any,
        strategy: StrategyLike = None,
        *,
        alpha: AlphaLike | None = None,
        epoch_size: int | None = None,
        seed: int | np.random.Generator | None = None,
        classes: Sequence[Any] | None = None,
        multilabel: bool = False,
    ) -> None:
        if not isinstance(multilabel, (bool, np.bool_)):
            raise TypeError(
                f"`multilabel` must be a bool. Received: multilabel={short_repr(multilabel)}"
            )
        if isinstance(y, (EncodedLabels, MultiHotLabels)) and classes is not None:
            raise ValueError(
                f"`classes` is already fixed by the {type(y).__name__} passed as `y`; "
                f"do not pass both. Received: classes={short_repr(classes)}"
            )
        if multilabel or isinstance(y, MultiHotLabels):
            self._init_multilabel(
                encode_multilabel(y, classes=classes), strategy, alpha, epoch_size, seed
            )
            return
        if isinstance(y, EncodedLabels):
            labels = y
        else:
            labels = encode_labels(
                y,
                classes=classes,
                function="BalancedSampler",
                multilabel_alternative="multilabel=True",
            )
        self._init_from_labels(labels, strategy, alpha, epoch_size, seed)

    def _init_from_labels(
        self,
        labels: EncodedLabels,
        strategy: StrategyLike,
        alpha: AlphaLike | None,
        epoch_size: int | None,
        seed: Any,
    ) -> None:
        self.labels: EncodedLabels | MultiHotLabels = labels
        self.multilabel = False
        self.classes = labels.classes
        self.counts = labels.counts()
        present = self.counts > 0
        if present.sum() < 2:
            found = self.classes[present].tolist()
            raise ValueError(
                f"`y` has only one class with samples ({found}); balancing needs at least two. "
                "Check that the labels are not all the same."
            )
        self.n_samples = labels.n_samples
        self._index_dtype = np.int32 if self.n_samples < 2**31 else np.int64
        # Stable grouping by class: a radix sort for small unsigned codes.
        order = np.argsort(labels.codes, kind="stable").astype(self._index_dtype, copy=False)
        self._init_plans(order, strategy, alpha, epoch_size, seed)

    def _init_multilabel(
        self,
        labels: MultiHotLabels,
        strategy: StrategyLike,
        alpha: AlphaLike | None,
        epoch_size: int | None,
        seed: Any,
    ) -> None:
        self.labels = labels
        self.multilabel = True
        self.classes = labels.classes
        Y = labels.Y
        self.counts = Y.sum(axis=0, dtype=np.int64)
        if not self.counts.any():
            raise ValueError(
                f"`y` has no positive label in any of its {Y.shape[0]} rows; class-aware "
                "sampling draws positives of labels. Check that `y` is the multi-hot target."
            )
        self.n_samples = labels.n_samples
        self._index_dtype = np.int32 if self.n_samples < 2**31 else np.int64
        order, self.n_unlabeled = group_positives(Y, self.counts, self._index_dtype)
        self.empty_labels: list[Any] = self.classes[self.counts == 0].tolist()
        if self.empty_labels:
            warnings.warn(
                f"{len(self.empty_labels)} label(s) have no positive sample and are never drawn: "
                f"{short_repr(self.empty_labels)}. Drop those columns, or check the split that "
                "left them out.",
                UserWarning,
                stacklevel=3,
            )
        if strategy is None and alpha is None:
            strategy = "balanced"
        self._init_plans(order, strategy, alpha, epoch_size, seed)

    def _init_plans(
        self,
        order: np.ndarray,
        strategy: StrategyLike,
        alpha: AlphaLike | None,
        epoch_size: int | None,
        seed: Any,
    ) -> None:
        # `order`: sample indices grouped by class (label), each group in sample order.
        self.seed = resolve_seed(seed)
        self.epoch = 0
        self._repeat = as_repeat_factor(strategy)
        if self._repeat is not None:
            self._init_repeat(self._repeat, order, alpha, epoch_size)
            return
        self.epoch_size = (
            None if epoch_size is None else check_positive_int(epoch_size, "epoch_size")
        )
        self._target_fn = resolve_targets(
            strategy,
            alpha,
            counts=self.counts,
            classes=self.classes,
            seed=self.seed,
            epoch_size=self.epoch_size,
            n_samples=self.n_samples,
        )
        self.strategy = self._target_fn.strategy
        self.alpha = alpha
        self._init_common(order)

    def _init_common(self, order: np.ndarray) -> None:
        self._skip = 0  # position the next pass starts at (load_state_dict)
        self._pass: tuple[int, int, Any, int] | None = None  # (epoch, start, chunk iter, len)
        self._order = order
        self._starts = np.concatenate([[0], np.cumsum(self.counts)])
        self._offsets: list[np.ndarray] = [np.zeros(len(self.counts), dtype=np.int64)]
        # The permutation a large class is in the middle of, {class: (block, perm)}:
        # consecutive epochs that take a part of it each reuse it instead of
        # drawing it again (a pure cache: the plans are the same either way).
        self._block_cache: dict[int, tuple[int, np.ndarray]] = {}

    def _init_repeat(
        self, rule: RepeatFactor, order: np.ndarray, alpha: Any, epoch_size: Any
    ) -> None:
        if alpha is not None or epoch_size is not None:
            raise ValueError(
                "strategy='repeat_factor' sets its own epoch size (the sum of the repeat "
                "factors) and class shares; drop `alpha` and `epoch_size`. Received: "
                f"alpha={short_repr(alpha)}, epoch_size={short_repr(epoch_size)}"
            )
        factors = class_repeat_factors(self.counts, self.n_samples, rule.threshold)
        if self.multilabel:
            means = sample_factors(factors, None, self.labels.Y)
            means[means == 0] = 1.0  # rows with no label count once
        else:
            means = sample_factors(factors, self.labels.codes)
        whole = np.floor(means)
        self._repeat_means = means
        self._repeat_len = int(whole.sum()) + round(float((means - whole).sum()))
        self.strategy, self.alpha, self.epoch_size = rule, None, None
        self._target_fn = None
        self._init_common(order)

    def _repeat_copies(self, epoch: int) -> np.ndarray:
        return fixed_total_copies(self._repeat_means, rng_for(self.seed, REPEAT, epoch, 0))

    def _repeat_plan(self, epoch: int) -> np.ndarray:
        plan = np.repeat(
            np.arange(self.n_samples, dtype=self._index_dtype), self._repeat_copies(epoch)
        )
        rng_for(self.seed, _SHUFFLE, epoch, 0).shuffle(plan)
        return plan

    # ------------------------------------------------------------------ epochs
    def set_epoch(self, epoch: int) -> None:
        """Use the plan of ``epoch`` from now on (like ``DistributedSampler.set_epoch``)."""
        self.epoch = check_positive_int(epoch, "epoch", allow_zero=True)
        self._skip = 0

    def target_counts(self, epoch: int | None = None) -> np.ndarray:
        """Samples of each class in the plan of ``epoch`` (default: current), int64."""
        e = self.epoch if epoch is None else check_positive_int(epoch, "epoch", allow_zero=True)
        if self._target_fn is None:  # repeat factor: this epoch's copies, counted per class
            copies = self._repeat_copies(e)
            if self.multilabel:
                return np.asarray(copies @ self.labels.Y, dtype=np.int64)
            return np.bincount(self.labels.codes, copies, len(self.counts)).astype(np.int64)
        return check_targets(np.asarray(self._target_fn(e)), self.counts)

    def __len__(self) -> int:
        if self._target_fn is None:
            return self._repeat_len
        return int(self.target_counts().sum())

    def _stream_offset(self, epoch: int) -> np.ndarray:
        # Position in each class's stream where `epoch` starts.
        while len(self._offsets) <= epoch:
            e = len(self._offsets) - 1
            self._offsets.append(self._offsets[-1] + self.target_counts(e))
        return self._offsets[epoch]

    def _stream(self, c: int, start: int, stop: int) -> np.ndarray:
        """Positions ``start:stop`` of class ``c``'s stream of permutations."""
        n_c = int(self.counts[c])
        members = self._order[self._starts[c] : self._starts[c + 1]]
        per_block = max(1, -(-_BLOCK_SAMPLES // n_c))  # permutations per block
        block_len = per_block * n_c
        first, last = start // block_len, (stop - 1) // block_len
        pieces = []
        for block in range(first, last + 1):
            cached = self._block_cache.get(c) if per_block == 1 else None
            if cached is not None and cached[0] == block:
                flat = cached[1]
            else:
                rng = rng_for(self.seed, _STREAM, c, block)
                perms = np.tile(np.arange(n_c, dtype=self._index_dtype), (per_block, 1))
                rng.permuted(perms, axis=1, out=perms)
                flat = perms.reshape(-1)
                if per_block == 1 and block == last and stop < (block + 1) * block_len:
                    # The next epoch starts inside this permutation: keep it.
                    self._block_cache[c] = (block, flat)
            lo = max(start - block * block_len, 0)
            hi = min(stop - block * block_len, block_len)
            pieces.append(flat[lo:hi])
        local = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        return members[local]

    def class_plans(self, epoch: int | None = None) -> list[np.ndarray]:
        """The indices each class contributes to ``epoch``, before shuffling."""
        e = self.epoch if epoch is None else check_positive_int(epoch, "epoch", allow_zero=True)
        if self._target_fn is None:
            plan = self._repeat_plan(e)
            if self.multilabel:
                return [plan[self.labels.Y[plan, c] > 0] for c in range(len(self.counts))]
            codes = self.labels.codes[plan]
            cuts = np.cumsum(np.bincount(codes, minlength=len(self.counts)))[:-1]
            return np.split(plan[np.argsort(codes, kind="stable")], cuts)
        targets = self.target_counts(e)
        offsets = self._stream_offset(e)
        return [
            self._stream(c, int(offsets[c]), int(offsets[c] + t))
            if t > 0
            else np.zeros(0, dtype=self._index_dtype)
            for c, t in enumerate(targets)
        ]

    def plan(
        self, epoch: int | None = None, *, batch_size: int | None = None, exact: bool = False
    ) -> np.ndarray:
        """The shuffled sample indices of ``epoch`` (default: the current one).

        Parameters
        ----------
        epoch : int, default=None
            Which epoch; the plan depends only on ``(seed, epoch)``.
        batch_size : int, default=None
            Needed with ``exact``.
        exact : bool, default=False
            If True, every consecutive block of ``batch_size`` indices holds
            each class in proportion to its target count. With equal targets
            (oversample, undersample, balanced) that is ``batch_size // K`` or
            one more of each class, the extra samples rotating over batches;
            with unequal targets (alpha, dicts) within two samples of the
            exact share. Otherwise the plan is one uniform shuffle, so batches
            are balanced on average.

        Returns
        -------
        ndarray of shape (len(self),), int32 (int64 beyond 2**31 samples)
        """
        e = self.epoch if epoch is None else check_positive_int(epoch, "epoch", allow_zero=True)
        if self._target_fn is None:
            if exact:
                raise ValueError(
                    "`exact=True` needs per-class target counts; strategy='repeat_factor' "
                    "repeats samples instead. Use exact=False with it."
                )
            return self._repeat_plan(e)
        pieces = self.class_plans(e)
        if not exact:
            return interleave(pieces, rng_for(self.seed, _SHUFFLE, e, 0), self._index_dtype)
        if batch_size is None:
            raise ValueError("`exact=True` needs `batch_size`.")
        batch_size = check_positive_int(batch_size, "batch_size")
        return self._exact_plan(pieces, e, batch_size)

    def _exact_plan(self, pieces: list[np.ndarray], epoch: int, batch_size: int) -> np.ndarray:
        rng = rng_for(self.seed, _PHASE, epoch, 0)
        phases = rng.random(len(pieces))
        # "Virtual time" of the k-th sample of a class with t samples: (k + phase) / t.
        # Cutting the merged timeline into blocks spreads each class evenly.
        keys = np.concatenate(
            [(np.arange(len(p)) + phases[c]) / max(len(p), 1) for c, p in enumerate(pieces)]
        )
        plan = np.concatenate(pieces)[np.argsort(keys, kind="stable")]
        n_full = len(plan) // batch_size
        shuffler = rng_for(self.seed, _SHUFFLE, epoch, 1)
        if n_full:
            body = plan[: n_full * batch_size].reshape(n_full, batch_size)
            shuffler.permuted(body, axis=1, out=body)
        tail = plan[n_full * batch_size :]
        if len(tail):
            shuffler.shuffle(tail)
        return plan

    def start_pass(self) -> int:
        """Begin a pass: return the epoch it serves and move the sampler to the next.

        The one epoch rule of the package: every iterable that produces plans
        (this sampler, :class:`~classbalance.BalancedBatches`, the PyTorch
        samplers, ``balanced_dataset``, ``resample``) calls this when a pass
        yields its first item, not when ``iter()`` is called (a ``DataLoader``
        with workers calls ``iter()`` twice and drops one iterator unused).
        Moving on at the start, not the end, keeps a pass that is stopped
        early from being served again. Thread-safe.
        """
        with _EPOCH_LOCK:
            epoch = self.epoch
            self.epoch = epoch + 1
        return epoch

    def __iter__(self) -> Iterator[int]:
        """Serve the current epoch's plan as Python ints; the pass moves to the next epoch.

        The epoch moves on when the first index is taken (:meth:`start_pass`);
        :meth:`set_epoch` chooses the epoch of the next pass. Indices are
        converted a chunk at a time, so memory stays bounded for any plan size.
        """
        epoch, skip = self.start_pass(), self._skip
        self._skip = 0
        plan = self.plan(epoch)
        for start in range(skip, len(plan), _ITER_CHUNK):
            chunk = plan[start : start + _ITER_CHUNK].tolist()
            it = iter(chunk)
            self._pass = (epoch, start, it, len(chunk))
            yield from it
        self._pass = None

    # ------------------------------------------------------------------ resume
    def fingerprint(self) -> dict[str, Any]:
        """What the plans depend on (seed, strategy, sizes, class counts), for state dicts."""
        return fingerprint(
            seed=self.seed,
            strategy=self.strategy if self.alpha is None else ("alpha", self.alpha),
            n_samples=self.n_samples,
            counts=self.counts,
            multilabel=self.multilabel,
        )

    def state_dict(self) -> dict[str, Any]:
        """Where iteration stands: the epoch of the pass in progress and the indices it served.

        Resuming with :meth:`load_state_dict` on a sampler built the same way
        (in a fresh process) serves the rest of that pass, then the next
        epochs, exactly as the uninterrupted run; the plan is rebuilt from
        ``(seed, epoch)``, so the cost does not grow with the position.
        """
        if self._pass is None:
            epoch, position = self.epoch, self._skip
        else:
            epoch, start, it, n = self._pass
            position = start + n - it.__length_hint__()
        size = self._repeat_len if self._target_fn is None else self.target_counts(epoch).sum()
        if position and position >= size:  # the pass is over: the next one starts clean
            epoch, position = epoch + 1, 0
        return make_state(self.fingerprint(), epoch, position, "position")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict`: the next pass resumes that epoch at that index."""
        self.epoch, self._skip = check_state(
            state, self.fingerprint(), "position", "BalancedSampler"
        )
        self._pass = None

    def __getstate__(self) -> dict[str, Any]:
        # Workers and processes get the sampler without its cache of permutations.
        state = self.__dict__.copy()
        state["_block_cache"] = {}
        state["_pass"] = None
        return state

    def __repr__(self) -> str:
        return (
            f"BalancedSampler(strategy={short_repr(self.strategy)}, n_samples={self.n_samples}, "
            f"{'n_labels' if self.multilabel else 'n_classes'}={len(self.counts)}, "
            f"epoch={self.epoch}, seed={self.seed})"
        )
