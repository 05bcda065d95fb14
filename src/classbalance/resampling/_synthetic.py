"""Synthetic over-sampling of feature vectors (SMOTE and friends) via imbalanced-learn."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._validation import check_choice, check_positive_int, resolve_seed, short_repr
from classbalance.labels import encode_labels

__all__ = ["SYNTHETIC_METHODS", "synthetic_oversample"]

# method -> (imblearn class, name of its neighbours argument)
_METHODS = {
    "smote": ("SMOTE", "k_neighbors"),
    "borderline_smote": ("BorderlineSMOTE", "k_neighbors"),
    "svm_smote": ("SVMSMOTE", "k_neighbors"),
    "adasyn": ("ADASYN", "n_neighbors"),
}
SYNTHETIC_METHODS = tuple(_METHODS)


def synthetic_oversample(
    x: Any,
    y: Any,
    method: str = "smote",
    *,
    strategy: str | float | dict[Any, int] = "auto",
    k_neighbors: int = 5,
    seed: int | np.random.Generator | None = None,
    **kwargs: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Add synthetic minority samples by interpolating between neighbours (SMOTE family).

    Meant for **feature vectors**: tabular data or embeddings from a
    pretrained network. Interpolating raw images pixel by pixel gives
    ghostly blends, not new images; for images use balanced sampling
    (:class:`~classbalance.BalancedSampler`) with augmentation, or SMOTE on
    embeddings. Needs imbalanced-learn (``pip install "classbalance[imblearn]"``).

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class vector or one-hot matrix; returned in the same form.
    method : {"smote", "borderline_smote", "svm_smote", "adasyn"}, default="smote"
        SMOTE (Chawla et al. 2002), Borderline-SMOTE (Han et al. 2005),
        SVM-SMOTE (Nguyen et al. 2011) or ADASYN (He et al. 2008).
    strategy : "auto", float or dict, default="auto"
        imbalanced-learn's ``sampling_strategy``: ``"auto"`` raises every
        class to the largest; a dict gives the target count per class value.
    k_neighbors : int, default=5
        Neighbours to interpolate between; every over-sampled class needs
        more samples than this.
    seed : int, numpy Generator or None, default=None
    **kwargs :
        Further arguments of the imbalanced-learn sampler.

    Returns
    -------
    x_resampled : ndarray of shape (n_samples + n_new, n_features)
        The original rows first, in order, then the synthetic ones.
    y_resampled : ndarray
        Labels in the form of ``y`` (class values or one-hot rows).

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, 3))
    >>> y = np.array(["ok"] * 50 + ["fraud"] * 10)
    >>> x_res, y_res = cb.synthetic_oversample(x, y, seed=0)
    >>> x_res.shape, sorted(cb.class_distribution(y_res).counts.tolist())
    ((100, 3), [50, 50])
    """
    method = check_choice(method, "method", SYNTHETIC_METHODS)
    k_neighbors = check_positive_int(k_neighbors, "k_neighbors")
    over_sampling = require("imblearn.over_sampling", "synthetic_oversample")
    features = np.asarray(x)
    if features.ndim != 2 or features.dtype.kind not in "biuf":
        hint = (
            " Synthetic over-sampling is meant for feature vectors, not raw images: embed the "
            "images first (or flatten with x.reshape(len(x), -1) if you really mean pixels)."
            if features.ndim > 2
            else ""
        )
        raise ValueError(
            "`x` must be a numeric 2-D array of shape (n_samples, n_features). "
            f"Received an array of shape {features.shape} and dtype {features.dtype}.{hint}"
        )
    labels = encode_labels(
        y,
        function="synthetic_oversample",
        multilabel_alternative="cb.ml_ros(Y) (clone rows of rare labels)",
    )
    if features.shape[0] != labels.n_samples:
        raise ValueError(
            f"`x` has {features.shape[0]} samples but `y` has {labels.n_samples}; "
            "they must have the same length."
        )
    if isinstance(strategy, dict):
        known = {v: i for i, v in enumerate(labels.classes.tolist())}
        unknown = [k for k in strategy if k not in known]
        if unknown:
            raise ValueError(
                f"`strategy` names classes that are not in y: {unknown[:5]}. "
                f"Classes: {short_repr(labels.classes.tolist())}"
            )
        sampling_strategy: Any = {known[k]: v for k, v in strategy.items()}
    else:
        sampling_strategy = strategy
    counts = labels.counts()
    smallest = int(counts[counts > 0].min())
    if smallest <= k_neighbors and method != "adasyn":
        small = labels.classes[(counts > 0) & (counts <= k_neighbors)].tolist()
        raise ValueError(
            f"Classes {short_repr(small)} have {smallest} samples or fewer, but {method} needs "
            f"more than `k_neighbors`={k_neighbors}. Lower `k_neighbors` (to at most "
            f"{smallest - 1}) or use BalancedSampler, which repeats real samples instead."
        )
    class_name, neighbours_arg = _METHODS[method]
    sampler = getattr(over_sampling, class_name)(
        sampling_strategy=sampling_strategy,
        random_state=resolve_seed(seed),
        **{neighbours_arg: k_neighbors},
        **kwargs,
    )
    x_res, codes = sampler.fit_resample(features, labels.codes.astype(np.int64))
    codes = np.asarray(codes)
    if labels.kind == "onehot":
        y_res = np.eye(labels.n_classes, dtype=np.asarray(y).dtype)[codes]
    else:
        y_res = labels.classes[codes]
    return np.asarray(x_res), y_res
