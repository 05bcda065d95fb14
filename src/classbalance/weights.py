"""Class weights and per-sample weights from labels or counts; per-label ``pos_weight``."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from classbalance._validation import check_choice, check_fraction, short_repr
from classbalance.distribution import ClassDistribution, LabelDistribution
from classbalance.labels import EncodedLabels, encode_labels, encode_multilabel, keras_keys

__all__ = [
    "WEIGHT_STRATEGIES",
    "class_weight_array",
    "class_weights",
    "pos_weight",
    "sample_weights",
]


def _balanced(counts: np.ndarray, beta: float, power: float) -> np.ndarray:
    present = counts > 0
    out = np.zeros(counts.shape, dtype=np.float64)
    out[present] = counts.sum() / (present.sum() * counts[present])
    return out


def _inverse(counts: np.ndarray, beta: float, power: float) -> np.ndarray:
    out = np.zeros(counts.shape, dtype=np.float64)
    present = counts > 0
    out[present] = np.power(counts[present].astype(np.float64), -power)
    return out


def _sqrt(counts: np.ndarray, beta: float, power: float) -> np.ndarray:
    return _inverse(counts, beta, 0.5)


def _effective(counts: np.ndarray, beta: float, power: float) -> np.ndarray:
    out = np.zeros(counts.shape, dtype=np.float64)
    present = counts > 0
    out[present] = (1.0 - beta) / (1.0 - np.power(beta, counts[present]))
    return out


_STRATEGIES: dict[str, Callable[[np.ndarray, float, float], np.ndarray]] = {
    "balanced": _balanced,
    "inverse": _inverse,
    "sqrt": _sqrt,
    "effective": _effective,
}
WEIGHT_STRATEGIES = tuple(_STRATEGIES)


def _labels_and_counts(
    y: Any, classes: Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray, list[int], EncodedLabels | None]:
    if isinstance(y, ClassDistribution):
        values, counts = y.classes, y.counts
        return values, counts, keras_keys(values), None
    enc = (
        y
        if isinstance(y, EncodedLabels)
        else encode_labels(
            y,
            classes=classes,
            function="class_weights",
            multilabel_alternative="cb.pos_weight(Y) (a weight per label for binary cross-entropy)",
        )
    )
    return enc.classes, enc.counts(), enc.keras_keys(), enc


def _user_weights(strategy: Mapping[Any, Any], values: np.ndarray) -> np.ndarray:
    known = {v: i for i, v in enumerate(values.tolist())}
    unknown = [k for k in strategy if (k.item() if isinstance(k, np.generic) else k) not in known]
    if unknown:
        raise ValueError(
            f"`strategy` gives weights for classes that are not in y: {unknown[:5]}. "
            f"Classes found: {values.tolist()[:20]}."
        )
    given = {known[k.item() if isinstance(k, np.generic) else k]: v for k, v in strategy.items()}
    missing = [values[i].item() for i in range(len(values)) if i not in given]
    if missing:
        raise ValueError(
            f"`strategy` has no weight for classes {missing[:5]}; give every class a weight "
            "(missing classes are not silently weighted 1.0)."
        )
    out = np.empty(len(values), dtype=np.float64)
    for i, w in given.items():
        out[i] = _check_weight(values[i], w)
    return out


def _check_weight(label: Any, w: Any) -> float:
    """One class weight as a float, refused unless a finite number >= 0."""
    if (
        isinstance(w, bool)
        or not isinstance(w, (int, float, np.number))
        or not np.isfinite(w)
        or w < 0
    ):
        raise ValueError(f"Class weights must be finite numbers >= 0. Received: {label!r}: {w!r}")
    return float(w)


def _weights_array(
    counts: np.ndarray,
    values: np.ndarray,
    strategy: str | Mapping[Any, float],
    beta: float,
    power: float,
    normalize: str | None,
) -> np.ndarray:
    if isinstance(strategy, Mapping):
        raw = _user_weights(strategy, values)
        mode = None if normalize == "auto" else normalize
    else:
        check_choice(strategy, "strategy", (*WEIGHT_STRATEGIES,))
        beta = check_fraction(beta, "beta", inclusive_one=False)
        if isinstance(power, bool) or not isinstance(power, (int, float)) or power < 0:
            raise ValueError(f"`power` must be a number >= 0. Received: power={power!r}")
        raw = _STRATEGIES[strategy](counts, beta, float(power))
        mode = "samples" if normalize == "auto" else normalize
    if mode is not None:
        check_choice(mode, "normalize", ("samples", "classes"))
        present = counts > 0
        if mode == "samples":
            total = float((raw * counts).sum())
            scale = counts.sum() / total if total > 0 else 1.0
        else:
            total = float(raw[present].sum())
            scale = present.sum() / total if total > 0 else 1.0
        raw = raw * scale
    return raw


def class_weights(
    y: Any,
    strategy: str | Mapping[Any, float] = "balanced",
    *,
    beta: float = 0.999,
    power: float = 1.0,
    normalize: str | None = "auto",
    classes: Sequence[Any] | None = None,
) -> dict[int, float]:
    """Per-class weights, as the dict Keras ``fit(class_weight=...)`` takes.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_classes), or ClassDistribution
        Labels (class vector, one-hot, pandas), or a
        :class:`ClassDistribution` when only counts are known
        (``ClassDistribution.from_counts({...})``).
    strategy : {"balanced", "inverse", "sqrt", "effective"} or dict, default="balanced"
        - ``"balanced"``: ``n_samples / (n_classes * n_c)``, identical to
          scikit-learn's ``compute_class_weight("balanced")``.
        - ``"inverse"``: ``n_c ** -power``.
        - ``"sqrt"``: ``n_c ** -0.5``, a milder correction.
        - ``"effective"``: ``(1 - beta) / (1 - beta ** n_c)`` (Cui et al. 2019).
        - a dict ``{class: weight}`` with a weight for every class, checked:
          unknown or missing classes raise instead of defaulting to 1.0.
    beta : float, default=0.999
        For ``"effective"``, in [0, 1).
    power : float, default=1.0
        For ``"inverse"``.
    normalize : {"auto", "samples", "classes", None}, default="auto"
        ``"samples"`` scales weights so the mean per-sample weight is 1 (the
        loss keeps its scale, so the learning rate needs no change);
        ``"classes"`` so the mean over classes is 1; ``None`` leaves them raw.
        ``"auto"`` is ``"samples"`` for computed strategies and ``None`` for a
        user dict.
    classes : sequence, default=None
        Declared classes; classes with no sample get weight 0.0 (they never
        occur in the loss).

    Returns
    -------
    dict of {int: float}
        Keys are what Keras looks weights up by: the label value for integer
        (or bool) labels, the column for one-hot ``y``, the position in the
        sorted (or declared) classes for string labels.

    Notes
    -----
    Unlike ``sklearn.utils.class_weight.compute_class_weight``, which returns an
    array aligned to ``classes`` and takes keyword-only arguments since 1.0 (so
    the positional call in many tutorials now fails), this returns the dict
    Keras wants directly.

    References
    ----------
    Cui, Jia, Lin, Song, Belongie. "Class-Balanced Loss Based on Effective
    Number of Samples." CVPR 2019.

    Examples
    --------
    >>> import classbalance as cb
    >>> cb.class_weights([0, 0, 0, 1])
    {0: 0.6666666666666666, 1: 2.0}
    >>> weights = cb.class_weights(["a", "a", "b"], "sqrt", normalize=None)
    >>> {k: round(w, 4) for k, w in weights.items()}
    {0: 0.7071, 1: 1.0}
    """
    values, counts, keys, _ = _labels_and_counts(y, classes)
    weights = _weights_array(counts, values, strategy, beta, power, normalize)
    return {int(k): float(w) for k, w in zip(keys, weights)}


def sample_weights(
    y: Any,
    strategy: str | Mapping[Any, float] = "balanced",
    *,
    beta: float = 0.999,
    power: float = 1.0,
    normalize: str | None = "auto",
    classes: Sequence[Any] | None = None,
) -> np.ndarray:
    """Per-sample weights: each sample gets its class's weight.

    Takes the same arguments as :func:`class_weights`; use it where Keras
    refuses ``class_weight`` (multi-output models, generators) or with
    ``fit(sample_weight=...)``.

    Returns
    -------
    ndarray of shape (n_samples,), float64

    Examples
    --------
    >>> import classbalance as cb
    >>> cb.sample_weights([0, 0, 0, 1]).round(3).tolist()
    [0.667, 0.667, 0.667, 2.0]
    """
    if isinstance(y, ClassDistribution):
        raise TypeError("`sample_weights` needs the labels themselves, not a ClassDistribution.")
    values, counts, _, enc = _labels_and_counts(y, classes)
    assert enc is not None
    weights = _weights_array(counts, values, strategy, beta, power, normalize)
    return weights[enc.codes]


def class_weight_array(
    y: Any,
    class_weight: str | Mapping[Any, float],
    *,
    beta: float = 0.999,
    power: float = 1.0,
    normalize: str | None = "auto",
    classes: Sequence[Any] | None = None,
) -> np.ndarray:
    """Per-class weights as an array aligned with the classes of ``y``.

    The one place class weights are resolved: a strategy name is computed as
    in :func:`class_weights`; a dict may be keyed as :func:`class_weights`
    returns it (Keras keys) or by class value, and must weight every class.
    The batch adapters multiply it into their per-sample weights.

    Parameters
    ----------
    y : array-like, EncodedLabels or ClassDistribution
        Labels (or labels already encoded by :func:`~classbalance.encode_labels`).
    class_weight : {"balanced", "inverse", "sqrt", "effective"} or dict
        A strategy of :func:`class_weights`, or ``{class: weight}``.
    beta, power, normalize, classes :
        As in :func:`class_weights` (``normalize`` applies to strategy names;
        a dict is used as given unless ``normalize`` is set explicitly).

    Returns
    -------
    ndarray of shape (n_classes,), float64

    Examples
    --------
    >>> from classbalance.weights import class_weight_array
    >>> class_weight_array(["a", "a", "a", "b"], "balanced").round(3).tolist()
    [0.667, 2.0]
    >>> class_weight_array(["a", "a", "a", "b"], {"a": 1.0, 1: 5.0}).tolist()
    [1.0, 5.0]
    """
    values, counts, keys, _ = _labels_and_counts(y, classes)
    if isinstance(class_weight, str):
        check_choice(class_weight, "class_weight", WEIGHT_STRATEGIES)
        return _weights_array(counts, values, class_weight, beta, power, normalize)
    if not isinstance(class_weight, Mapping):
        raise TypeError(
            "`class_weight` must be a dict {class: weight} or a strategy name "
            f"({', '.join(WEIGHT_STRATEGIES)}). Received: class_weight={short_repr(class_weight)}"
        )
    by_key = dict(zip(keys, range(len(keys))))
    by_value = {v: i for i, v in enumerate(values.tolist())}
    out = np.empty(len(keys), dtype=np.float64)
    seen = set()
    for k, w in class_weight.items():
        plain = k.item() if isinstance(k, np.generic) else k
        i = (
            by_key.get(plain, by_value.get(plain))
            if isinstance(plain, int)
            else by_value.get(plain)
        )
        if i is None:
            raise ValueError(
                f"`class_weight` names class {plain!r}, which is not in the labels "
                f"(classes: {values.tolist()[:20]})."
            )
        out[i] = _check_weight(plain, w)
        seen.add(i)
    missing = [values[i].item() for i in range(len(keys)) if i not in seen]
    if missing:
        raise ValueError(
            f"`class_weight` has no weight for classes {missing[:5]}; give every class one."
        )
    if normalize not in ("auto", None):
        return _weights_array(
            counts, values, dict(zip(values.tolist(), out)), beta, power, normalize
        )
    return out


def pos_weight(
    y: Any,
    *,
    smoothing: float = 0.0,
    power: float = 1.0,
    classes: Sequence[Any] | None = None,
    sep: str | None = None,
) -> np.ndarray:
    r"""Per-label positive weights ``negatives / positives`` for binary cross-entropy.

    Ready for ``torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))`` and for
    :class:`classbalance.keras.losses.WeightedBinaryCrossentropy`: the positive
    term of label ``l`` is multiplied by ``w[l]``, so positives and negatives
    of every label weigh the same in total.

    .. math:: w_l = \left(\frac{n_{\mathrm{neg},l} + s}{n_{\mathrm{pos},l} + s}\right)^{p}

    Parameters
    ----------
    y : multi-hot matrix, label sets, strings joined by ``sep``, or LabelDistribution
        Training labels (see :func:`~classbalance.labels.encode_multilabel`), or
        their :func:`~classbalance.label_distribution`.
    smoothing : float, default=0.0
        Additive smoothing ``s`` (>= 0) of both counts; it tames the weight of
        very rare labels (``s=1`` is Laplace smoothing).
    power : float, default=1.0
        Exponent ``p`` in [0, 1] (0.5 = square root: a milder re-weighting).
    classes, sep :
        As for :func:`~classbalance.labels.encode_multilabel`.

    Returns
    -------
    ndarray of shape (n_labels,), float64

    Warns
    -----
    UserWarning
        For labels with no positive sample when ``smoothing=0``: their
        weight would be infinite (and ``inf * 0`` is NaN inside the loss), so
        it is set to 1 (no positive term ever fires for them anyway).

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> Y = np.array([[1, 0], [1, 0], [1, 1], [0, 0]])
    >>> cb.pos_weight(Y).tolist()
    [0.3333333333333333, 3.0]
    >>> cb.pos_weight(Y, smoothing=1.0).tolist()
    [0.5, 2.0]
    """
    for value, arg in ((smoothing, "smoothing"), (power, "power")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"`{arg}` must be a number. Received: {arg}={short_repr(value)}")
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(
            f"`smoothing` must be a finite number >= 0. Received: smoothing={smoothing}"
        )
    if not 0 <= power <= 1:
        raise ValueError(f"`power` must be in [0, 1]. Received: power={power}")
    if isinstance(y, LabelDistribution):
        if classes is not None or sep is not None:
            raise ValueError(
                "`classes` and `sep` say how to read labels; a LabelDistribution was read "
                "already and would ignore them. Pass them to label_distribution instead. "
                f"Received: classes={short_repr(classes)}, sep={sep!r}"
            )
        names, n_samples, positives = y.classes, y.n_samples, y.counts.astype(np.float64)
    else:
        enc = encode_multilabel(y, classes=classes, sep=sep)
        names, n_samples = enc.classes, enc.n_samples
        positives = enc.Y.sum(axis=0, dtype=np.int64).astype(np.float64)
    negatives = n_samples - positives
    empty = positives + smoothing == 0
    if empty.any():
        warnings.warn(
            f"Labels {short_repr(names[empty].tolist())} have no positive sample; their "
            "pos_weight is set to 1. Pass smoothing > 0 to give them a finite weight instead.",
            UserWarning,
            stacklevel=2,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = (negatives + smoothing) / (positives + smoothing)
    weights = np.where(empty, 1.0, weights)
    return np.power(weights, power)
