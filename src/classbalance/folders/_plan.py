"""Plan an oversampled split of a manifest: a stratified validation set, repeated training rows."""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from classbalance._streams import FOLDERS
from classbalance._validation import check_choice, resolve_seed, rng_for, short_repr
from classbalance.labels import EncodedLabels, encode_labels
from classbalance.sampling import BalancedSampler, alpha_shares
from classbalance.split import stratified_split

__all__ = ["oversample"]


def check_manifest(manifest: Any, columns: tuple[str, ...] = ("path", "label")) -> pd.DataFrame:
    if not isinstance(manifest, pd.DataFrame):
        raise TypeError(
            "`manifest` must be a DataFrame with columns 'path' and 'label' (from `scan`). "
            f"Received: manifest of type {type(manifest).__name__}"
        )
    missing = [c for c in columns if c not in manifest.columns]
    if missing:
        raise ValueError(
            f"`manifest` lacks the columns {missing}; it needs {list(columns)}. "
            f"Received columns: {list(manifest.columns)[:10]}"
        )
    if len(manifest) == 0:
        raise ValueError("`manifest` is empty; there is nothing to split or export.")
    return manifest


def _target_counts(
    counts: np.ndarray,
    classes: np.ndarray,
    factors: Mapping[Any, Any] | None,
    strategy: str | None,
    alpha: Any,
) -> np.ndarray:
    """Training rows per class after oversampling (never fewer than ``counts``).

    ``factors`` adds a fraction of each class (the seed's ``{'cat': 0.5}``);
    ``strategy="oversample"`` raises every class to the largest; ``alpha``
    means what it means for :class:`~classbalance.BalancedSampler`: class shares proportional to
    ``n_c ** alpha``, here at the epoch size where the largest class keeps
    its ``n_max`` rows (``n_max * (n_c / n_max) ** alpha``), so no class shrinks.
    """
    given = [
        n
        for n, v in (("factors", factors), ("strategy", strategy), ("alpha", alpha))
        if v is not None
    ]
    if len(given) > 1:
        raise ValueError(
            f"Pass one of `factors`, `strategy` and `alpha`, not {' and '.join(given)}. "
            f"Received: factors={short_repr(factors)}, strategy={strategy!r}, alpha={alpha!r}"
        )
    targets = counts.astype(np.int64)
    if factors is not None:
        if not isinstance(factors, Mapping):
            raise TypeError(
                "`factors` must be a dict {label: fraction to add}, e.g. {'cat': 0.5}. "
                f"Received: factors={short_repr(factors)}"
            )
        position = {str(c): i for i, c in enumerate(classes.tolist())}
        for label, pct in factors.items():
            i = position.get(str(label))
            if i is None:
                raise ValueError(
                    f"`factors` names a class that is not in the manifest: {label!r}. "
                    f"Classes: {classes.tolist()[:20]}"
                )
            if (
                isinstance(pct, bool)
                or not isinstance(pct, numbers.Real)
                or not np.isfinite(pct)
                or pct < 0
            ):
                raise ValueError(
                    f"`factors` values must be numbers >= 0 (0.5 adds 50% more rows). "
                    f"Received: {label!r}: {pct!r}"
                )
            targets[i] = counts[i] + int(np.floor(float(pct) * counts[i] + 0.5))  # half up
        return targets
    if strategy is None and alpha is None:
        return targets
    if strategy is not None:
        # Folders only add rows: the engine's other strategies would drop images.
        check_choice(strategy, "strategy", ("oversample",))
        alpha = 0.0
    elif isinstance(alpha, numbers.Real) and not isinstance(alpha, bool) and 0 <= alpha <= 1:
        alpha = float(alpha)
    else:
        raise ValueError(
            "`alpha` must be a number in [0, 1] (class sizes ∝ n_c**alpha, never reduced; "
            f"0 is strategy='oversample', 1 changes nothing). Received: alpha={alpha!r}"
        )
    shares = alpha_shares(counts, alpha)
    present = counts > 0
    scaled = np.round(counts.max() * shares[present] / shares.max()).astype(np.int64)
    targets[present] = np.maximum(scaled, counts[present])
    return targets


def _training_plan(train_codes: np.ndarray, targets: np.ndarray, seed: int) -> np.ndarray:
    """Positions into the training rows, ``targets[c]`` of class ``c``: an engine plan.

    The engine's epoch 0 with fixed target counts: each class's stream of
    fresh permutations starts with every member once, so every image is kept
    and the repeats cycle through the class (every image once before any twice).
    """
    n_classes = len(targets)
    counts = np.bincount(train_codes, minlength=n_classes)
    if np.array_equal(targets, counts) or np.count_nonzero(counts) < 2:
        if not np.array_equal(targets, counts):
            warnings.warn(
                "Only one class has training rows; there is nothing to balance it against, "
                "so no rows are repeated.",
                UserWarning,
                stacklevel=3,
            )
        return np.arange(len(train_codes))
    labels = EncodedLabels(train_codes, np.arange(n_classes), "vector")
    plan_seed = int(rng_for(seed, FOLDERS, 0, 0).integers(0, 2**63 - 1))
    sampler = BalancedSampler(
        labels, {c: int(t) for c, t in enumerate(targets.tolist())}, seed=plan_seed
    )
    return np.concatenate(sampler.class_plans(0))


def oversample(
    manifest: pd.DataFrame,
    *,
    valid_pct: float = 0.2,
    factors: Mapping[Any, float] | None = None,
    strategy: str | None = None,
    alpha: float | None = None,
    duplicates: str | None = "bytes",
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Split off a stratified validation set, then repeat training rows.

    Parameters
    ----------
    manifest : DataFrame
        Columns ``path`` and ``label`` (from :func:`scan`); other columns are kept.
    valid_pct : float, default=0.2
        Fraction of each class held out for validation (stratified, see
        :func:`~classbalance.stratified_split`); ``0`` for none.
    factors : dict {label: fraction}, default=None
        Extra training rows per class as a fraction of its training rows: the
        seed's ``{'category_1': 0.5}`` adds 50% more rows of ``category_1``.
    strategy : {"oversample"}, default=None
        Every class up to the largest training class (the engine's
        ``"oversample"``; folders only add rows, so the strategies that drop
        samples are refused).
    alpha : float in [0, 1], default=None
        What it means for :class:`~classbalance.BalancedSampler` (class shares
        ``∝ n_c ** alpha``), at the size where the largest class keeps its
        rows: ``n_max * (n_c / n_max) ** alpha`` (0 is ``strategy="oversample"``,
        1 changes nothing); classes are never reduced. Pass one of ``factors``,
        ``strategy`` and ``alpha``. The repeated rows are a plan of the sampling
        engine (target counts, epoch 0).
    duplicates : {"bytes", "near"} or None, default="bytes"
        Keep duplicates in one split, so that no image is both trained on and
        validated on: ``"bytes"`` groups byte-identical files, ``"near"``
        also re-encoded copies (same pixels) and perceptual near duplicates
        (see :func:`classbalance.leakage.duplicate_groups`; needs
        ``imagehash``). The files are read, so their location must be known
        (``attrs["root"]`` from :func:`scan`, or absolute paths); a manifest
        of relative names without a root is split without grouping. When
        duplicates exist, the split is a grouped stratified split.
    seed : int, numpy Generator or None, default=None
        Seed of the split and of which rows are repeated.

    Returns
    -------
    DataFrame
        The manifest's columns plus ``is_valid`` (bool). Validation rows come
        first; they are never repeated. Training rows follow, each repeat next
        to its original. ``attrs`` keep ``root`` and add ``seed``,
        ``n_valid`` and ``n_duplicate_groups`` (groups of 2 or more files
        kept together).

    Examples
    --------
    >>> import pandas as pd
    >>> from classbalance.folders import oversample
    >>> m = pd.DataFrame({"path": [f"a/{i}.png" for i in range(8)] + ["b/0.png", "b/1.png"],
    ...                   "label": ["a"] * 8 + ["b"] * 2})
    >>> out = oversample(m, valid_pct=0.2, strategy="oversample", seed=0)
    >>> out.groupby(["is_valid", "label"]).size().to_dict()
    {(False, 'a'): 7, (False, 'b'): 7, (True, 'a'): 1, (True, 'b'): 1}
    """
    manifest = check_manifest(manifest)
    seed = resolve_seed(seed)
    if (
        isinstance(valid_pct, bool)
        or not isinstance(valid_pct, numbers.Real)
        or not 0 <= valid_pct < 1
    ):
        raise ValueError(
            f"`valid_pct` must be a fraction in [0, 1). Received: valid_pct={short_repr(valid_pct)}"
        )
    labels = manifest["label"].to_numpy()
    encoded = encode_labels(labels, name="manifest['label']", function="oversample")
    codes, classes = encoded.codes, encoded.classes
    n = len(manifest)
    groups = _duplicate_groups(manifest, duplicates) if valid_pct > 0 else None
    n_groups = 0 if groups is None else int((np.bincount(groups) > 1).sum())
    if valid_pct > 0:
        train, val = stratified_split(
            labels, val_size=float(valid_pct), groups=groups if n_groups else None, seed=seed
        )
    else:
        train, val = np.arange(n), np.zeros(0, dtype=np.int64)
    train_codes = codes[train]
    counts = np.bincount(train_codes, minlength=classes.shape[0])
    targets = _target_counts(counts, classes, factors, strategy, alpha)
    train_rows = np.sort(train[_training_plan(train_codes, targets, seed)], kind="stable")
    rows = np.concatenate([val, train_rows])
    out = manifest.iloc[rows].reset_index(drop=True)
    out["is_valid"] = np.arange(rows.shape[0]) < val.shape[0]
    out.attrs = {
        **manifest.attrs,
        "seed": seed,
        "n_valid": int(val.shape[0]),
        "n_duplicate_groups": n_groups,
    }
    return out


def _source_paths(manifest: pd.DataFrame) -> list[str] | None:
    """Absolute path of every row, or None if relative paths have no known root."""
    raw = manifest["path"].astype(str).tolist()
    root = manifest.attrs.get("root")
    if root is None:
        return raw if all(os.path.isabs(p) for p in raw) else None
    return [p if os.path.isabs(p) else os.path.join(str(root), p) for p in raw]


def _duplicate_groups(manifest: pd.DataFrame, duplicates: str | None) -> np.ndarray | None:
    """Group id per row (duplicates share one), or None when not asked or not possible."""
    if duplicates is None:
        return None
    check_choice(duplicates, "duplicates", ("bytes", "near"))
    paths = _source_paths(manifest)
    if paths is None:
        return None
    from classbalance.leakage import duplicate_groups

    return duplicate_groups(paths, near=duplicates == "near")
