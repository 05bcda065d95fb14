"""``BalancedEnsemble``: one model per balanced subset, predictions averaged."""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from classbalance._gather import Gatherer
from classbalance._validation import check_positive_int, resolve_seed, short_repr
from classbalance.labels import encode_labels
from classbalance.sampling import BalancedSampler, StrategyLike

__all__ = ["BalancedEnsemble"]


def _takes_index(build_model: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(build_model).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return len(positional) >= 1


def _is_sklearn(model: Any) -> bool:
    return hasattr(model, "predict_proba") and hasattr(model, "get_params")


class BalancedEnsemble:
    """Train ``n_members`` models, each on a different class-balanced subset; average them.

    With the default ``strategy="undersample"`` every member sees all
    samples of the rarest class and a fresh subset of equal size of every
    other class: member ``m`` trains on the :class:`~classbalance.BalancedSampler`
    plan of epoch ``m``, so the frequent classes are walked through without
    repeats before any sample is reused, and together the members see much
    more of the data than one undersampled model (EasyEnsemble-style;
    Liu, Wu & Zhou, "Exploratory Undersampling for Class-Imbalance
    Learning", 2009). Predictions are the mean of the members' probabilities.

    Parameters
    ----------
    build_model : callable
        Returns a fresh model: a compiled Keras model (softmax output, or one
        sigmoid unit for two classes) or a scikit-learn classifier with
        ``predict_proba``. If it takes an argument, it gets the member index.
    n_members : int, default=5
    strategy : str, dict or callable, default="undersample"
        Any :class:`~classbalance.BalancedSampler` strategy.
    fit_kwargs : dict, default=None
        Passed to every member's ``fit`` (for Keras e.g. ``epochs``; Keras
        members default to ``verbose=0``).
    seed : int, numpy Generator or None, default=None
        Seed of the subsets (member models use their own seeding); ``None``
        draws one, kept in :attr:`seed`, so refitting gives the same subsets.
    verbose : int, default=1
        1 prints one progress line per member to stderr; 0 is silent.

    Attributes
    ----------
    members_ : list
        The trained models.
    member_indices_ : list of ndarray
        The training-sample indices each member was fitted on.
    classes_ : ndarray
        Class of each column of :meth:`predict_proba`.
    seed : int
        The seed in use (recorded for replay).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> import classbalance as cb
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[np.zeros(180), np.ones(20)].astype(int)
    >>> x = rng.normal(size=(200, 2)) + y[:, None]
    >>> ens = cb.BalancedEnsemble(LogisticRegression, n_members=3, seed=0, verbose=0)
    >>> ens = ens.fit(x, y)
    >>> [np.bincount(y[idx]).tolist() for idx in ens.member_indices_]
    [[20, 20], [20, 20], [20, 20]]
    >>> ens.predict_proba(x).shape
    (200, 2)
    """

    def __init__(
        self,
        build_model: Callable[..., Any],
        n_members: int = 5,
        *,
        strategy: StrategyLike = "undersample",
        fit_kwargs: dict[str, Any] | None = None,
        seed: int | np.random.Generator | None = None,
        verbose: int = 1,
    ) -> None:
        if not callable(build_model):
            raise ValueError(
                "`build_model` must be a callable returning a fresh model. "
                f"Received: build_model={short_repr(build_model)}"
            )
        if fit_kwargs is not None and not isinstance(fit_kwargs, dict):
            raise ValueError(f"`fit_kwargs` must be a dict. Received: fit_kwargs={fit_kwargs!r}")
        self.build_model = build_model
        self.n_members = check_positive_int(n_members, "n_members")
        self.strategy = strategy
        self.fit_kwargs = dict(fit_kwargs or {})
        self.seed = resolve_seed(seed)
        self.verbose = verbose
        self.members_: list[Any] = []
        self.member_indices_: list[np.ndarray] = []

    def fit(self, x: Any, y: Any) -> BalancedEnsemble:
        """Train every member on its balanced subset of ``(x, y)``; returns ``self``."""
        labels = encode_labels(y, function="BalancedEnsemble")
        sampler = BalancedSampler(labels, self.strategy, seed=self.seed)
        x_rows, y_rows = Gatherer(x, "x"), Gatherer(y, "y", inputs=False)
        if x_rows.length != labels.n_samples:
            raise ValueError(
                f"`x` has {x_rows.length} samples but `y` has {labels.n_samples}; "
                "they must have the same length."
            )
        self.members_, self.member_indices_ = [], []
        with_index = _takes_index(self.build_model)
        for m in range(self.n_members):
            start = time.perf_counter()
            idx = np.sort(sampler.plan(m))
            model = self.build_model(m) if with_index else self.build_model()
            kwargs = dict(self.fit_kwargs)
            if not _is_sklearn(model):
                kwargs.setdefault("verbose", 0)
            model.fit(x_rows.take(idx), y_rows.take(idx), **kwargs)
            self.members_.append(model)
            self.member_indices_.append(idx)
            if self.verbose:
                per_class = np.bincount(labels.codes[idx], minlength=labels.n_classes)
                print(
                    f"BalancedEnsemble: member {m + 1}/{self.n_members} trained on {len(idx)} "
                    f"samples (per class {per_class.tolist()[:10]}) in "
                    f"{time.perf_counter() - start:.1f}s",
                    file=sys.stderr,
                    flush=True,
                )
        self.classes_ = self._classes(labels)
        return self

    def _classes(self, labels: Any) -> np.ndarray:
        first = self.members_[0]
        if _is_sklearn(first):
            classes = np.asarray(first.classes_)
            for member in self.members_[1:]:
                if not np.array_equal(np.asarray(member.classes_), classes):
                    raise ValueError("Members were fitted on different sets of classes.")
            return classes
        return labels.classes if labels.kind != "onehot" else np.arange(labels.n_classes)

    def _member_proba(self, member: Any, x: Any) -> np.ndarray:
        if _is_sklearn(member):
            return np.asarray(member.predict_proba(x), dtype=np.float64)
        out = np.asarray(member.predict(x, verbose=0), dtype=np.float64)
        if out.ndim == 2 and out.shape[1] == 1:
            out = np.c_[1.0 - out[:, 0], out[:, 0]]
        return out

    def predict_proba(self, x: Any) -> np.ndarray:
        """Mean of the members' class probabilities, shape (n_samples, n_classes)."""
        if not self.members_:
            raise RuntimeError("This BalancedEnsemble is not fitted yet; call fit(x, y) first.")
        total = None
        for member in self.members_:
            proba = self._member_proba(member, x)
            total = proba if total is None else total + proba
        return total / len(self.members_)

    def predict(self, x: Any) -> np.ndarray:
        """The class with the highest mean probability (class values, like ``y``)."""
        proba = self.predict_proba(x)
        columns = proba.argmax(axis=1)
        if proba.shape[1] == len(self.classes_):
            return self.classes_[columns]
        return columns  # Keras outputs indexed by integer label

    def __repr__(self) -> str:
        fitted = f", fitted={len(self.members_)}" if self.members_ else ""
        return (
            f"BalancedEnsemble(n_members={self.n_members}, strategy={short_repr(self.strategy)}"
            f"{fitted})"
        )
