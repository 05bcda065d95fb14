"""Settings and results of ``compare``: :class:`CompareConfig`, :class:`CompareResult`, the error.

Plain data, imported by every other module of :mod:`classbalance.compare`
and importing none of them but :mod:`.stats` (for the :class:`Bootstrap`
type), so that no module needs the runner for its types.

Examples
--------
>>> from classbalance.compare.config import CompareConfig
>>> cfg = CompareConfig(quick=True, label_cols="a, b").resolved()
>>> cfg.seeds, cfg.epochs, cfg.label_cols
(1, 5, ['a', 'b'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from classbalance.compare.stats import Bootstrap

__all__ = ["CompareConfig", "CompareError", "CompareResult"]

_BAD_VALUE = "`{name}` must be a positive integer. Received: {name}={value!r}"


class CompareError(ValueError):
    """Bad input for ``compare``: the message is one readable line.

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, CompareError
    >>> try:
    ...     CompareConfig(seeds=0).resolved()
    ... except CompareError as error:
    ...     print(error)
    `seeds` must be a positive integer. Received: seeds=0
    """


@dataclass
class CompareConfig:
    """Settings of one comparison (all recorded in ``results.json``).

    ``model`` is ``"module:function"`` / ``"file.py:function"`` (a function
    ``(input_shape, n_classes) -> uncompiled Keras model with logits``), or
    ``None`` for the default (MLP for features, small residual CNN for images).
    ``strategies`` is a subset of the recipes of the data's task (``None``:
    all of them that fit the data). ``jobs`` is the number of worker
    processes (``-1``: one per core, or one per GPU). ``budget_minutes``
    bounds the wall time (None: no limit): the grid is fitted to it, racing
    first (see :mod:`classbalance.compare.budget`). ``race``: True always
    races the seeds, False never, None races when the grid does not fit.
    ``cv``: K-fold cross-validation on data without a fixed test set (None:
    5 folds when the rarest class would have fewer than 20 test samples in the
    single split, see :mod:`classbalance.compare.cv`; 0: never); ``cv_repeats``:
    its repeats (None: ``seeds``), each a fresh fold assignment and seed.
    ``image_size``: the side images are resized to (None: the backbone's
    size, else the median side of the images clipped to [8, 64]).
    ``backbone``: a Keras application name or ``"module:function"``; images
    become embeddings of that frozen network, cached under ``embedding_cache``
    (see :mod:`classbalance.compare.embeddings`), and the remedies are
    compared on a head trained on them. ``backbone_weights``: ``"none"``,
    ``"imagenet"`` or a weights file (None: imagenet for an application).

    Examples
    --------
    >>> from classbalance.compare import CompareConfig
    >>> cfg = CompareConfig(strategies=["none", "class_weight"], quick=True).resolved()
    >>> cfg.seeds, cfg.epochs, cfg.strategies  # quick: 1 seed, at most 5 epochs
    (1, 5, ['none', 'class_weight'])
    """

    data: str | None = None
    test: str | None = None
    model: str | None = None
    strategies: Sequence[str] | None = None
    seeds: int = 3
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 3e-3
    imbalance_ratio: float = 50.0
    label_col: str = "label"
    label_cols: Sequence[str] | None = None
    label_sep: str | None = None
    multilabel: bool = False
    image_size: int | None = None
    channels: str = "auto"
    on_unreadable: str = "skip"
    val_size: float = 0.2
    test_size: float = 0.2
    data_seed: int = 0
    jobs: int = 1
    budget_minutes: float | None = None
    race: bool | None = None
    quick: bool = False
    out: str = "compare-report"
    cv: int | None = None
    cv_repeats: int | None = None
    backbone: str | None = None
    backbone_weights: str | None = None
    embedding_cache: str | None = None

    def resolved(self) -> CompareConfig:
        """A validated copy with ``quick`` applied (1 seed, at most 5 epochs).

        The strategies are checked against the recipes once the data's task
        and kind are known (:func:`classbalance.compare.recipes.choose_strategies`).

        Raises
        ------
        CompareError
            A value out of range, naming the option and the value received.
        """
        cfg = CompareConfig(**asdict(self))
        for name in ("seeds", "epochs", "batch_size"):
            value = getattr(cfg, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CompareError(_BAD_VALUE.format(name=name, value=value))
        if isinstance(cfg.jobs, bool) or not isinstance(cfg.jobs, int) or cfg.jobs == 0:
            raise CompareError(
                f"`jobs` must be a positive integer or -1. Received: jobs={cfg.jobs!r}"
            )
        budget = cfg.budget_minutes
        if budget is not None and (
            isinstance(budget, bool) or not isinstance(budget, float | int) or not budget > 0
        ):
            raise CompareError(
                "`budget_minutes` must be a positive number of minutes or None (no limit). "
                f"Received: budget_minutes={budget!r}"
            )
        if cfg.race not in (None, True, False):
            raise CompareError(f"`race` must be True, False or None. Received: race={cfg.race!r}")
        if not cfg.imbalance_ratio >= 1:
            raise CompareError(f"--imbalance-ratio must be >= 1, got {cfg.imbalance_ratio}.")
        if not (isinstance(cfg.learning_rate, float | int) and cfg.learning_rate > 0):
            raise CompareError(f"--learning-rate must be > 0, got {cfg.learning_rate!r}.")
        if str(cfg.channels) not in ("auto", "1", "3"):
            raise CompareError(f"--channels must be auto, 1 or 3; got {cfg.channels!r}.")
        cfg.channels = str(cfg.channels)
        size = cfg.image_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise CompareError(
                "`image_size` must be a positive integer or None (the backbone's size, or one "
                f"derived from the images). Received: image_size={size!r}"
            )
        for name in ("backbone", "backbone_weights", "embedding_cache"):
            value = getattr(cfg, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise CompareError(
                    f"`{name}` must be a non-empty string or None. Received: {name}={value!r}"
                )
        if cfg.backbone_weights is not None and cfg.backbone is None:
            raise CompareError(
                "`backbone_weights` needs a `backbone` (--backbone NAME). "
                f"Received: backbone_weights={cfg.backbone_weights!r}"
            )
        if cfg.on_unreadable not in ("skip", "error"):
            raise CompareError(
                "`on_unreadable` must be 'skip' or 'error'. "
                f"Received: on_unreadable={cfg.on_unreadable!r}"
            )
        if cfg.quick:
            cfg.seeds = 1
            cfg.epochs = min(cfg.epochs, 5)
        if cfg.label_cols is not None:
            if isinstance(cfg.label_cols, str):
                cfg.label_cols = [c.strip() for c in cfg.label_cols.split(",") if c.strip()]
            cfg.label_cols = list(cfg.label_cols)
            if not cfg.label_cols or len(set(cfg.label_cols)) != len(cfg.label_cols):
                raise CompareError(
                    "--label-cols must name distinct label columns, e.g. --label-cols a,b,c. "
                    f"Received: {cfg.label_cols!r}"
                )
        if cfg.label_sep is not None and (not isinstance(cfg.label_sep, str) or not cfg.label_sep):
            raise CompareError(f"--label-sep must be a non-empty string; got {cfg.label_sep!r}.")
        if cfg.strategies is not None:
            cfg.strategies = list(cfg.strategies)
        _check_cv(cfg)
        return cfg


def _check_cv(cfg: CompareConfig) -> None:
    """Refuse a ``cv`` that is not None, 0 or >= 2, or a ``cv_repeats`` that is not positive."""
    cv, repeats = cfg.cv, cfg.cv_repeats
    if cv is not None and (isinstance(cv, bool) or not isinstance(cv, int) or cv < 0 or cv == 1):
        raise CompareError(
            "`cv` must be a number of folds >= 2, 0 (one train/valid/test split) or None "
            f"(automatic). Received: cv={cv!r}"
        )
    if repeats is not None and (
        isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1
    ):
        raise CompareError(_BAD_VALUE.format(name="cv_repeats", value=repeats))


@dataclass
class CompareResult:
    """Per-run rows, the summary per strategy with intervals, and what is needed to replay it.

    Attributes
    ----------
    runs : DataFrame
        One row per (strategy, seed): test metrics, ``steps`` taken, the best
        epoch(s) on validation, training time, recipe details.
    summary : DataFrame
        One row per strategy, best first: the task's primary metric
        (single-label: balanced accuracy; multi-label: mAP) with its 95%
        interval (``ci_low``, ``ci_high``), the paired difference to ``none``
        with its interval, ``within_noise_of_best``, the task's other columns
        (single-label: seed means of the other metrics and the recall of the
        head / medium / tail classes; multi-label: head / medium / tail
        mAP and macro-F1 at 0.5 and at tuned thresholds, with intervals).
    recommendation : str
        One sentence built from the intervals.
    bootstrap : Bootstrap
        The primary metric's bootstrap; ``bootstraps`` holds one per metric.
    task : classbalance.compare.task.Task
        Single- or multi-label: what the columns, the table and the report are.
    predictions : dict of str to ndarray
        Single-label: predicted class codes, shape (n_seeds, n_test);
        multi-label: test-set probabilities, shape (n_seeds, n_test, n_labels).
    confusions : dict of str to ndarray
        Single-label: confusion matrices summed over seeds.
    plan : dict
        The time plan (``plan["plan"]``: runs, epochs, estimated seconds), the
        race's rounds (what was dropped after which seed), notes, and the
        seconds the comparison really took (``plan["seconds"]``).

    Examples
    --------
    >>> import numpy as np, keras
    >>> from classbalance.compare import compare
    >>> y = np.r_[np.zeros(150), np.ones(50)].astype(int)
    >>> x = np.random.default_rng(0).normal(size=(200, 4)) + y[:, None]
    >>> def linear(input_shape, n_classes):
    ...     return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes)])
    >>> result = compare(x, y, model=linear, strategies=["none"], seeds=1, epochs=1, cv=0)
    >>> result.runs.shape[0], result.summary.index.tolist(), result.task.name
    (1, ['none'], 'single-label')
    >>> result.test_counts, result.recommendation[:22]
    ({'0': 30, '1': 10}, 'Only `none` was run: b')
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    config: CompareConfig
    data_description: str
    train_counts: dict[str, int]
    test_counts: dict[str, int]
    recommendation: str
    bootstrap: Bootstrap
    task: Any
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    confusions: dict[str, np.ndarray] = field(default_factory=dict)
    classes: list[Any] = field(default_factory=list)
    bootstraps: dict[str, Bootstrap] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    backend: str = ""
    seconds: float = 0.0
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def multilabel(self) -> bool:
        """Whether the comparison ran on multi-label (multi-hot) data."""
        return bool(self.task.multilabel)
