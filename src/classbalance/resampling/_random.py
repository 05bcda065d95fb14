r"""ML-ROS and ML-RUS: static random resampling of multi-label feature data.

Charte, Rivera, del Jesus and Herrera (2015) resample a multi-label data set
label by label. A label is a *minority* label when its imbalance ratio
``IRLbl = max count / count`` is above MeanIR (their mean over labels) and a
*majority* label when it is below. ML-ROS clones random samples of the
minority labels, ML-RUS deletes random samples of the majority labels, each
label taking turns, one sample per turn, until ``percentage`` of the data set
size has been added or removed, or until no label is left to resample: a
label leaves when its IRLbl has crossed MeanIR.

Both functions return **indices** into the rows of ``y``, sorted, so the same
plan applies to features and labels: ``x[idx], Y[idx]``. Resample the
training split only, after splitting (a clone on both sides of a split is
leakage). For per-epoch plans that never materialize copies, use a sampler
instead; these are for feature data that a model sees as a fixed table.

How this relates to the paper
-----------------------------
The published algorithm is a loop over single samples. Here every draw of
that loop is still made, in the same order and from the same distribution,
but many turns at once: a *chunk* of turns (whole rounds over the labels in
resampling) is drawn in one go, the label counts after each turn are one
cumulative sum, and the chunk is cut at the end of the first round in which a
label leaves (ML-RUS also cuts before a sample that an earlier turn of the
chunk already deleted). Draws past the cut are discarded and drawn afresh,
which leaves the distribution unchanged because they are independent of
everything before them. The result is therefore distributed exactly like the
one-sample-at-a-time algorithm with these rules:

- MeanIR is computed once, on the input (as in the pseudo-code); IRLbl is
  re-evaluated after each of a label's own turns with the current counts
  (its own count and the current maximum count over all labels).
- Labels take turns in column order; a label whose IRLbl has crossed MeanIR
  after its own turn takes no further turn.
- ML-ROS draws each clone uniformly from the label's positives in the input
  (clones are not drawn again); ML-RUS draws each deletion uniformly from
  the label's positives that are still there and carry no minority label.
- The budget is ``round(percentage * n_samples)`` samples, rounded half up.
  The published loop (and the R package ``mldr.resampling``) checks the
  budget only between rounds, so it can overshoot by up to one round; here
  the count is exact unless every label leaves (or, in ML-RUS, runs out of
  deletable samples) first.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np

from classbalance._streams import ML_ROS, ML_RUS
from classbalance._validation import ArgumentTypeError, resolve_seed, rng_for, short_repr
from classbalance.distribution import LabelDistribution
from classbalance.labels import MultiHotLabels, encode_multilabel

__all__ = ["MultiLabelResampling", "ml_ros", "ml_rus"]

# Turns drawn per chunk start small and double while chunks are accepted whole;
# a chunk never holds more than _MAX_CELLS cumulative counts (turns x labels).
_FIRST_CHUNK = 1024
_MAX_CELLS = 1 << 22


@dataclass(frozen=True)
class MultiLabelResampling:
    """What :func:`ml_ros` or :func:`ml_rus` did (``return_info=True``).

    Attributes
    ----------
    method : {"ML-ROS", "ML-RUS"}
        The algorithm.
    indices : ndarray of shape (n_after,), int64
        The returned indices (sorted).
    resampled_labels : list
        Names of the labels that took turns: the minority labels (ML-ROS) or
        majority labels (ML-RUS) of the input.
    mean_ir : float
        MeanIR of the input, the fixed threshold of the run.
    budget : int
        ``round(percentage * n_samples)``: samples to add or remove.
    n_changed : int
        Samples actually added (ML-ROS) or removed (ML-RUS); ``<= budget``.
    stop : {"budget", "balanced", "exhausted", "nothing to do"}
        Why the run ended: the budget was used up; every label that took
        turns crossed MeanIR; (ML-RUS) the remaining labels had no deletable
        sample left; or there was no label to resample.
    before, after : LabelDistribution
        Measures of ``y`` and of ``y[indices]``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance import ml_rus
    >>> Y = np.array([[1, 0]] * 8 + [[1, 1]] + [[0, 1]])
    >>> idx, info = ml_rus(Y, percentage=0.3, seed=0, return_info=True)
    >>> info.method, info.resampled_labels, info.budget, info.n_changed, info.stop
    ('ML-RUS', [0], 3, 3, 'budget')
    >>> info.before.counts.tolist(), info.after.counts.tolist()
    ([9, 2], [6, 2])
    """

    method: str
    indices: np.ndarray
    resampled_labels: list[Any]
    mean_ir: float
    budget: int
    n_changed: int
    stop: str
    before: LabelDistribution
    after: LabelDistribution


class _Turns:
    """Round-robin turns over labels: the rest of the current round, then whole rounds.

    ``queue`` holds the labels still to play in the current round (in column
    order); ``members`` the labels of the next rounds. A label that leaves
    finishes its round: it is taken out of ``members`` only.
    """

    def __init__(self, labels: np.ndarray) -> None:
        self.members = labels.copy()
        self.queue = labels.copy()

    def __bool__(self) -> bool:
        return bool(self.queue.size or self.members.size)

    def sequence(self, n_turns: int) -> tuple[np.ndarray, np.ndarray]:
        """The labels of the next ``n_turns`` turns, and where each turn's round ends."""
        if not self.queue.size:
            self.queue = self.members.copy()
        q, k = self.queue.size, self.members.size
        rounds = -(-max(n_turns - q, 0) // k) if k else 0
        labels = np.concatenate([self.queue, np.tile(self.members, rounds)])[:n_turns]
        turn = np.arange(labels.size)
        ends = np.where(turn < q, q, q + ((turn - q) // max(k, 1) + 1) * k)
        return labels, np.minimum(ends, labels.size)

    def advance(self, n_turns: int, leaving: np.ndarray) -> None:
        """Record that ``n_turns`` turns were played and ``leaving`` labels left."""
        q = self.queue.size
        if n_turns < q:
            self.queue = self.queue[n_turns:]
        else:
            rest = (n_turns - q) % self.members.size if self.members.size else 0
            self.queue = self.members[rest:] if rest else self.members[:0]
        if leaving.size:
            self.members = self.members[~np.isin(self.members, leaving)]

    def drop(self, labels: np.ndarray) -> None:
        """Take ``labels`` out at once (they have nothing left to draw)."""
        self.queue = self.queue[~np.isin(self.queue, labels)]
        self.members = self.members[~np.isin(self.members, labels)]


def _check_percentage(percentage: Any) -> float:
    message = (
        "`percentage` must be a number in (0, 1], the share of the data set size to add or "
        f"remove. Received: percentage={short_repr(percentage)}"
    )
    if isinstance(percentage, bool) or not isinstance(percentage, numbers.Real):
        raise ArgumentTypeError(message)
    if not (np.isfinite(percentage) and 0 < percentage <= 1):
        raise ValueError(message)
    return float(percentage)


def _bags(
    Y: np.ndarray, labels: np.ndarray, rows: np.ndarray, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positives among ``rows`` of each label in ``labels``, as one flat array.

    Returns ``flat`` (row ids grouped by label: ascending within a label, or in
    a uniformly random order when ``rng`` is given) and ``start``, ``stop``
    indexed by label id (all columns of ``Y``).
    """
    sub = (Y if rows.size == Y.shape[0] else Y[rows])[:, labels]  # 6x faster than np.ix_
    pos, which = np.nonzero(sub)
    if rng is not None:  # shuffled, then grouped by a stable sort: random order within labels
        shuffle = rng.permutation(pos.size)
        pos, which = pos[shuffle], which[shuffle]
    small = np.int16 if labels.size <= np.iinfo(np.int16).max else np.int32
    flat = rows[pos[np.argsort(which.astype(small), kind="stable")]]  # radix sort for int16
    sizes = np.bincount(which, minlength=labels.size)
    start = np.zeros(Y.shape[1], dtype=np.int64)
    start[labels] = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    stop = start.copy()
    stop[labels] += sizes
    return flat, start, stop


def _prepare(
    y: Any, classes: Sequence[Any] | None, sep: str | None, percentage: Any, seed: Any
) -> tuple[MultiHotLabels, LabelDistribution, float, int]:
    fraction = _check_percentage(percentage)
    seed = resolve_seed(seed)
    enc = encode_multilabel(y, classes=classes, sep=sep)
    dist = LabelDistribution(enc)
    if dist.empty_labels:
        warnings.warn(
            f"Labels {short_repr(dist.empty_labels)} have no positive sample; they are left out "
            "of MeanIR and never resampled.",
            UserWarning,
            stacklevel=3,
        )
    return enc, dist, fraction, seed


def _first_repeat(values: np.ndarray) -> int:
    """Position of the first element equal to an earlier one (``len`` if none)."""
    order = np.argsort(values, kind="stable")
    repeated = values[order][1:] == values[order][:-1]
    return int(order[1:][repeated].min()) if repeated.any() else int(values.size)


def _occurrence(labels: np.ndarray) -> np.ndarray:
    """For each element, how many earlier elements are equal to it."""
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, labels.size])
    occ = np.empty(labels.size, dtype=np.int64)
    occ[order] = np.arange(labels.size) - np.repeat(starts, sizes)
    return occ


def _finish(
    method: str,
    enc: MultiHotLabels,
    dist: LabelDistribution,
    indices: np.ndarray,
    turn_labels: np.ndarray,
    budget: int,
    n_changed: int,
    stop: str,
    return_info: bool,
) -> Any:
    if not return_info:
        return indices
    after = LabelDistribution(MultiHotLabels(Y=enc.Y[indices], classes=enc.classes))
    return indices, MultiLabelResampling(
        method=method,
        indices=indices,
        resampled_labels=enc.classes[turn_labels].tolist(),
        mean_ir=dist.mean_ir,
        budget=budget,
        n_changed=n_changed,
        stop=stop,
        before=dist,
        after=after,
    )


def _nothing_to_do(method: str, dist: LabelDistribution) -> None:
    warnings.warn(
        f"{method}: no label has IRLbl above MeanIR ({dist.mean_ir:.4g}); every label with "
        "positives is equally frequent, so there is nothing to resample. The identity is "
        "returned.",
        UserWarning,
        stacklevel=3,
    )


@overload
def ml_ros(
    y: Any,
    *,
    percentage: float = ...,
    seed: Any = ...,
    classes: Sequence[Any] | None = ...,
    sep: str | None = ...,
    return_info: Literal[False] = ...,
) -> np.ndarray: ...
@overload
def ml_ros(
    y: Any,
    *,
    percentage: float = ...,
    seed: Any = ...,
    classes: Sequence[Any] | None = ...,
    sep: str | None = ...,
    return_info: Literal[True],
) -> tuple[np.ndarray, MultiLabelResampling]: ...
def ml_ros(
    y: Any,
    *,
    percentage: float = 0.25,
    seed: Any = None,
    classes: Sequence[Any] | None = None,
    sep: str | None = None,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, MultiLabelResampling]:
    """ML-ROS: clone random samples of the minority labels (Charte et al. 2015).

    The minority labels are those with IRLbl above MeanIR (both from
    :func:`~classbalance.label_distribution` of ``y``). They take
    turns in column order; at its turn a label clones one sample drawn
    uniformly from its positives in ``y`` (clones are never drawn again as
    such) and leaves once its IRLbl, with the counts after that clone, is at
    or below MeanIR. The run stops when ``round(percentage * n_samples)``
    samples are added or no minority label is left. See the module docstring
    for how the vectorized run relates to the paper's loop: it has the same
    stopping rule and the same distribution.

    Parameters
    ----------
    y : multi-hot matrix, sequence of label sets, or strings joined by ``sep``
        Training labels (see :func:`~classbalance.labels.encode_multilabel`).
    percentage : float, default=0.25
        Samples to add, as a share of ``n_samples``, in (0, 1].
    seed : int, numpy Generator or None, default=None
        Randomness; the same seed gives the same indices.
    classes, sep :
        As for :func:`~classbalance.labels.encode_multilabel`.
    return_info : bool, default=False
        Also return a :class:`MultiLabelResampling` (counts and measures
        before and after, why the run stopped).

    Returns
    -------
    indices : ndarray of shape (n_samples + n_added,), int64
        Every row of ``y`` once plus the clones, sorted (a clone sits beside
        its original); shuffle before training if your loop does not.
    info : MultiLabelResampling
        Only with ``return_info=True``.

    Warns
    -----
    UserWarning
        Labels with no positive sample (left out of MeanIR, never cloned);
        no label above MeanIR (the identity ``arange(n_samples)`` is returned).

    Notes
    -----
    Rows with no label belong to no bag and are never cloned. A clone copies
    all labels of its row, so frequent labels that co-occur with rare ones
    grow too (high SCUMBLE data profits less, as the paper observes).

    References
    ----------
    F. Charte, A. J. Rivera, M. J. del Jesus, F. Herrera, "Addressing imbalance
    in multilabel classification: Measures and random resampling algorithms",
    Neurocomputing 163 (2015) 3-16.

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> Y = np.array([[1, 0]] * 8 + [[1, 1]] + [[0, 1]])
    >>> idx = cb.ml_ros(Y, percentage=0.3, seed=0)  # label 1 is the minority label
    >>> idx.tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 9]
    >>> idx, info = cb.ml_ros(Y, percentage=0.3, seed=0, return_info=True)
    >>> info.budget, info.n_changed, info.stop  # IRLbl of label 1 reached MeanIR first
    (3, 2, 'balanced')
    >>> round(info.before.mean_ir, 3), round(info.after.mean_ir, 3)
    (2.75, 1.875)
    """
    enc, dist, fraction, seed = _prepare(y, classes, sep, percentage, seed)
    Y, n = enc.Y, enc.n_samples
    budget = int(np.floor(fraction * n + 0.5))
    finite = np.isfinite(dist.irlbl)
    minority = np.flatnonzero(finite & (dist.irlbl > dist.mean_ir))
    if not minority.size:
        _nothing_to_do("ML-ROS", dist)
        return _finish(
            "ML-ROS", enc, dist, np.arange(n), minority, budget, 0, "nothing to do", return_info
        )
    rng = rng_for(seed, ML_ROS, 0, 0)
    flat, start, stop = _bags(Y, minority, np.arange(n))  # every row: one bag per label
    counts = dist.counts.astype(np.int64)
    turns = _Turns(minority)
    clones: list[np.ndarray] = []
    remaining = budget
    chunk = _FIRST_CHUNK
    cap = max(_MAX_CELLS // Y.shape[1], 1)
    while remaining and turns:
        size = min(remaining, max(chunk, turns.queue.size + turns.members.size))
        size = min(size, max(cap, turns.queue.size + turns.members.size))
        who, ends = turns.sequence(size)
        rows = flat[start[who] + rng.integers(0, stop[who] - start[who])]
        cum = np.cumsum(Y[rows], axis=0, dtype=np.int64)
        cum += counts
        own = cum[np.arange(who.size), who]
        left = cum.max(axis=1) / own <= dist.mean_ir
        if left.any():
            accepted = int(ends[int(np.argmax(left))])
            chunk = max(accepted, 1)
        else:
            accepted = who.size
            chunk *= 2
        counts = cum[accepted - 1]
        clones.append(rows[:accepted])
        remaining -= accepted
        turns.advance(accepted, who[:accepted][left[:accepted]])
    added = np.concatenate(clones) if clones else np.zeros(0, np.int64)
    indices = np.sort(np.concatenate([np.arange(n), added]))
    reason = "budget" if remaining == 0 else "balanced"
    return _finish("ML-ROS", enc, dist, indices, minority, budget, added.size, reason, return_info)


@overload
def ml_rus(
    y: Any,
    *,
    percentage: float = ...,
    seed: Any = ...,
    classes: Sequence[Any] | None = ...,
    sep: str | None = ...,
    return_info: Literal[False] = ...,
) -> np.ndarray: ...
@overload
def ml_rus(
    y: Any,
    *,
    percentage: float = ...,
    seed: Any = ...,
    classes: Sequence[Any] | None = ...,
    sep: str | None = ...,
    return_info: Literal[True],
) -> tuple[np.ndarray, MultiLabelResampling]: ...
def ml_rus(
    y: Any,
    *,
    percentage: float = 0.25,
    seed: Any = None,
    classes: Sequence[Any] | None = None,
    sep: str | None = None,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, MultiLabelResampling]:
    """ML-RUS: delete random samples of the majority labels (Charte et al. 2015).

    The majority labels are those with IRLbl below MeanIR (both from
    :func:`~classbalance.label_distribution` of ``y``). A sample
    carrying any minority label (IRLbl above MeanIR) is never deleted, as in
    the authors' R package ``mldr.resampling``. The majority labels take turns
    in column order; at its turn a label deletes one sample drawn uniformly
    from its remaining deletable positives and leaves once its IRLbl, with the
    counts after that deletion, is at or above MeanIR, or when it has no
    deletable positive left. The run stops when ``round(percentage *
    n_samples)`` samples are deleted or no majority label is left. See the
    module docstring for how the vectorized run relates to the paper's loop.

    Parameters
    ----------
    y : multi-hot matrix, sequence of label sets, or strings joined by ``sep``
        Training labels (see :func:`~classbalance.labels.encode_multilabel`).
    percentage : float, default=0.25
        Samples to delete, as a share of ``n_samples``, in (0, 1]. It is an
        upper bound: what is kept always includes every sample with a
        minority label and every sample with no label, so even
        ``percentage=1`` keeps those (at least one sample, since the data set
        has a minority label whenever there is anything to do).
    seed : int, numpy Generator or None, default=None
        Randomness; the same seed gives the same indices.
    classes, sep :
        As for :func:`~classbalance.labels.encode_multilabel`.
    return_info : bool, default=False
        Also return a :class:`MultiLabelResampling`.

    Returns
    -------
    indices : ndarray of shape (n_samples - n_removed,), int64
        The kept rows, sorted.
    info : MultiLabelResampling
        Only with ``return_info=True``.

    Warns
    -----
    UserWarning
        Labels with no positive sample (left out of MeanIR, never deleted
        from); no label below MeanIR (the identity is returned); a label whose
        every positive was deleted (possible with a large ``percentage`` when
        the label's samples carry no minority label).

    Notes
    -----
    Rows with no label belong to no majority bag and are never deleted
    (they are the negatives of every label; drop them yourself if they
    dominate). A label that is neither minority nor majority, or has left,
    is not protected: deleting a sample of another label can lower its count.
    The most frequent label keeps IRLbl 1 while it stays the most frequent,
    so it rarely leaves: the budget usually ends an ML-RUS run.

    The paper's pseudo-code deletes from the majority bags without excluding
    samples that also carry a minority label; excluding them (as the R
    package does) keeps ML-RUS from undoing the rare labels it is meant to
    help.

    References
    ----------
    F. Charte, A. J. Rivera, M. J. del Jesus, F. Herrera, "Addressing imbalance
    in multilabel classification: Measures and random resampling algorithms",
    Neurocomputing 163 (2015) 3-16.

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> Y = np.array([[1, 0]] * 8 + [[1, 1]] + [[0, 1]])
    >>> idx = cb.ml_rus(Y, percentage=0.3, seed=0)
    >>> idx.size, Y[idx].sum(axis=0).tolist()
    (7, [6, 2])
    >>> bool(Y[idx][:, 1].sum() == Y[:, 1].sum())  # samples of the minority label stay
    True
    """
    enc, dist, fraction, seed = _prepare(y, classes, sep, percentage, seed)
    Y, n = enc.Y, enc.n_samples
    budget = int(np.floor(fraction * n + 0.5))
    finite = np.isfinite(dist.irlbl)
    minority = np.flatnonzero(finite & (dist.irlbl > dist.mean_ir))
    majority = np.flatnonzero(finite & (dist.irlbl < dist.mean_ir))
    if not minority.size:
        _nothing_to_do("ML-RUS", dist)
        return _finish(
            "ML-RUS", enc, dist, np.arange(n), majority, budget, 0, "nothing to do", return_info
        )
    rng = rng_for(seed, ML_RUS, 0, 0)
    deletable = np.flatnonzero(~Y[:, minority].any(axis=1))
    # One uniform random order per bag: walking it and skipping deleted rows draws
    # uniformly among the bag's remaining rows at every turn.
    flat, start, stop = _bags(Y, majority, deletable, rng)
    pointer = start.copy()
    alive = np.ones(n, dtype=bool)
    counts = dist.counts.astype(np.int64)
    turns = _Turns(majority)
    remaining = budget
    chunk = _FIRST_CHUNK
    cap = max(_MAX_CELLS // Y.shape[1], 1)
    exhausted = False
    while remaining and turns:
        empty = turns.members[pointer[turns.members] >= stop[turns.members]]
        if turns.queue.size:
            empty = np.r_[empty, turns.queue[pointer[turns.queue] >= stop[turns.queue]]]
        if empty.size:
            turns.drop(empty)
            exhausted = True
            continue
        k = turns.queue.size + turns.members.size
        who, ends = turns.sequence(min(remaining, max(min(chunk, cap), k)))
        occ = _occurrence(who)
        # A window of each label's walk, long enough for its turns in this chunk.
        uniq, need = np.unique(who, return_counts=True)
        width = np.minimum(2 * need + 16, stop[uniq] - pointer[uniq])
        owner = np.repeat(np.arange(uniq.size), width)
        first = np.concatenate([[0], np.cumsum(width)[:-1]])
        where = pointer[uniq][owner] + np.arange(owner.size) - first[owner]
        live = np.flatnonzero(alive[flat[where]])
        found = np.bincount(owner[live], minlength=uniq.size)
        live_start = np.concatenate([[0], np.cumsum(found)[:-1]])
        slot = np.searchsorted(uniq, who)
        missing = occ >= found[slot]
        reach = int(np.argmax(missing)) if missing.any() else who.size
        take = live[live_start[slot[:reach]] + occ[:reach]]
        rows = flat[where[take]]
        reach = min(reach, _first_repeat(rows))
        rows = rows[:reach]
        accepted = reach
        left = np.zeros(0, dtype=bool)
        if reach:
            cum = counts - np.cumsum(Y[rows], axis=0, dtype=np.int64)
            own = cum[np.arange(reach), who[:reach]]
            with np.errstate(divide="ignore"):
                left = cum.max(axis=1) / own >= dist.mean_ir
            if left.any():
                accepted = int(min(ends[int(np.argmax(left))], reach))
            counts = cum[accepted - 1] if accepted else counts
        chunk = chunk * 2 if accepted == who.size else max(accepted, 1)
        alive[rows[:accepted]] = False
        remaining -= accepted
        # Move each label's pointer to its first live row not used yet (rows before it
        # are deleted), or past its window when the window has none left.
        used = np.bincount(slot[:accepted], minlength=uniq.size)
        after = pointer[uniq] + width
        if live.size:
            following = where[live[np.minimum(live_start + used, live.size - 1)]]
            after = np.where(used < found, following, after)
        pointer[uniq] = after
        turns.advance(accepted, who[:accepted][left[:accepted]])
    wiped = (dist.counts > 0) & (counts == 0)
    if wiped.any():
        warnings.warn(
            f"ML-RUS deleted every positive of labels {short_repr(enc.classes[wiped].tolist())} "
            f"(percentage={fraction}); lower `percentage` to keep some.",
            UserWarning,
            stacklevel=2,
        )
    indices = np.flatnonzero(alive)
    removed = n - indices.size
    reason = "budget" if remaining == 0 else ("exhausted" if exhausted else "balanced")
    return _finish("ML-RUS", enc, dist, indices, majority, budget, removed, reason, return_info)
