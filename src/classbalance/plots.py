"""Plots: class and label histograms, confusion matrix (matplotlib, optional extra ``plot``).

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas, not
``pyplot``: no GUI backend is touched, no global figure state is kept, and the
functions work on headless machines and in worker processes. PNGs are saved
atomically (temporary file, then rename).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from classbalance._atomic import atomic_write_with
from classbalance._optional import require
from classbalance._validation import check_choice, short_repr
from classbalance.labels import encode_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_class_histogram",
    "plot_confusion_matrix",
    "plot_label_histogram",
    "plot_strategy_comparison",
]

NORMALIZE_CHOICES = ("both", "true", "none")


def _new_figure(width: float, height: float) -> Figure:
    figure_mod = require("matplotlib.figure", "classbalance.plots")
    agg = require("matplotlib.backends.backend_agg", "classbalance.plots")
    fig = figure_mod.Figure(figsize=(width, height), layout="constrained")
    agg.FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike[str] | None) -> None:
    if path is None:
        return
    atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


def _count_bars(
    ax: Axes | None,
    names: list[str],
    counts: np.ndarray,
    bar_labels: list[str] | None,
    *,
    log: bool,
    xlabel: str,
    ylabel: str,
) -> tuple[Figure, Axes]:
    """Bars of ``counts`` (already sorted) on ``ax`` or a new figure: the histograms' one style."""
    if ax is None:
        fig = _new_figure(max(5.0, 0.45 * len(names) + 2.0), 4.0)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    positions = np.arange(len(names))
    bars = ax.bar(positions, counts, color="#4C72B0")
    many = len(names) > 6
    ax.set_xticks(positions, names, rotation=45 if many else 0, ha="right" if many else "center")
    if log:
        ax.set_yscale("log")
    if bar_labels is not None:
        ax.bar_label(bars, labels=bar_labels, fontsize=8 if len(names) <= 20 else 6, padding=2)
    ax.margins(y=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (log scale)" if log else ""))
    return fig, ax


def plot_class_histogram(
    dist_or_y: Any,
    *,
    log: bool = False,
    path: str | os.PathLike[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Bar chart of samples per class, largest first, with counts and percentages.

    Parameters
    ----------
    dist_or_y : ClassDistribution or array-like of labels
        Counts to draw (labels are counted with
        :func:`~classbalance.class_distribution`).
    log : bool, default=False
        Log-scale count axis (long-tailed data).
    path : path, default=None
        Save the figure as PNG there (atomically).
    ax : matplotlib Axes, default=None
        Draw into these axes instead of a new figure.
    title : str, default=None
        Title; default states the imbalance ratio.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import classbalance as cb
    >>> from classbalance.plots import plot_class_histogram
    >>> fig = plot_class_histogram(["bee"] * 30 + ["wasp"] * 49 + ["other"] * 9)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['wasp', 'bee', 'other']
    """
    if not isinstance(log, bool):
        raise TypeError(f"`log` must be a bool. Received: log={short_repr(log)}")
    # A ClassDistribution is read by its attributes: plots imports nothing from
    # distribution (whose .plot() calls this), so the two modules form no cycle.
    if hasattr(dist_or_y, "counts") and hasattr(dist_or_y, "classes"):
        all_counts, all_classes = np.asarray(dist_or_y.counts), np.asarray(dist_or_y.classes)
    else:
        encoded = encode_labels(
            dist_or_y,
            function="plot_class_histogram",
            multilabel_alternative="cb.label_distribution(Y).plot()",
        )
        all_counts, all_classes = encoded.counts(), encoded.classes
    order = np.argsort(-all_counts, kind="stable")
    counts = all_counts[order]
    share = counts / counts.sum() * 100.0
    fig, ax = _count_bars(
        ax,
        [str(c) for c in all_classes[order].tolist()],
        counts,
        [f"{n:,}\n{p:.1f}%" for n, p in zip(counts.tolist(), share.tolist())],
        log=log,
        xlabel="class",
        ylabel="samples",
    )
    smallest = all_counts.min() if len(all_counts) else 0
    ratio = float(all_counts.max() / smallest) if smallest > 0 else float("inf")
    if not np.isfinite(ratio):
        ratio_text = "inf (empty class)"
    else:
        ratio_text = f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.3g}"
    ax.set_title(
        title
        or f"{int(all_counts.sum()):,} samples, {len(all_counts)} classes, "
        f"imbalance ratio {ratio_text}"
    )
    _save(fig, path)
    return fig


def plot_label_histogram(
    dist: Any,
    *,
    log: bool = False,
    path: str | os.PathLike[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Bar chart of positives per label of a multi-label target, most frequent first.

    Parameters
    ----------
    dist : LabelDistribution
        From :func:`~classbalance.label_distribution`.
    log : bool, default=False
        Log-scale count axis (long-tailed labels).
    path : path, default=None
        Save the figure as PNG there (atomically).
    ax : matplotlib Axes, default=None
        Draw into these axes instead of a new figure.
    title : str, default=None
        Title; default states MeanIR and SCUMBLE.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import classbalance as cb
    >>> fig = cb.label_distribution(["a|b", "a", "a|c"], sep="|").plot()
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['a', 'b', 'c']
    """
    if not isinstance(log, bool):
        raise TypeError(f"`log` must be a bool. Received: log={short_repr(log)}")
    # Read by attributes, like plot_class_histogram: plots imports nothing from distribution.
    if not all(hasattr(dist, a) for a in ("to_frame", "scumble", "mean_ir", "empty_labels")):
        raise TypeError(
            "`dist` must be a LabelDistribution (cb.label_distribution(Y)). "
            f"Received: dist={short_repr(dist)}"
        )
    frame = dist.to_frame()
    counts = frame["count"].to_numpy()
    names = [str(v) for v in frame.index.tolist()]
    bar_labels = [f"{n:,}" for n in counts.tolist()] if len(names) <= 40 else None
    fig, ax = _count_bars(
        ax, names, counts, bar_labels, log=log, xlabel="label", ylabel="positive samples"
    )
    empty = f", {len(dist.empty_labels)} without positives" if dist.empty_labels else ""
    ax.set_title(
        title
        or f"{dist.n_samples:,} samples, {dist.n_labels} labels{empty}; "
        f"MeanIR {dist.mean_ir:.3g}, SCUMBLE {dist.scumble:.3f}"
    )
    _save(fig, path)
    return fig


def plot_confusion_matrix(
    y_true: Any = None,
    y_pred: Any = None,
    *,
    confusion: Any = None,
    classes: Sequence[Any] | None = None,
    normalize: str | None = "both",
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Confusion matrix heat map: counts and/or rows normalized to recall.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,), default=None
        True and predicted labels (class vectors or one-hot/probabilities,
        turned into classes with ``argmax``). Give these or ``confusion``.
    confusion : array of shape (n_classes, n_classes), default=None
        A precomputed matrix (rows true, columns predicted), e.g. from
        ``sklearn.metrics.confusion_matrix``.
    classes : sequence, default=None
        Classes in matrix order: the label values of ``y_true``/``y_pred``
        (like scikit-learn's ``labels=``), or names of the integer codes
        ``0..K-1`` they hold, or names of the rows of ``confusion``.
        Default: the sorted labels seen, or ``0..K-1`` for ``confusion``.
    normalize : {"both", "true", "none"} or None, default="both"
        ``"both"``: counts and row-normalized side by side; ``"true"``: rows
        normalized (each row sums to 1: per-class recall on the diagonal);
        ``"none"``/``None``: counts only.
    path : path, default=None
        Save the figure as PNG there (atomically).
    title : str, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from classbalance.plots import plot_confusion_matrix
    >>> fig = plot_confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], classes=["neg", "pos"])
    >>> len(fig.axes) >= 2
    True
    """
    mode = check_choice("none" if normalize is None else normalize, "normalize", NORMALIZE_CHOICES)
    matrix, names = _confusion(y_true, y_pred, confusion, classes)
    k = matrix.shape[0]
    panels = ["counts", "true"] if mode == "both" else ["true" if mode == "true" else "counts"]
    side = max(3.5, 0.5 * k + 2.0)
    fig = _new_figure(side * len(panels) + 0.5, side)
    rows = matrix.sum(axis=1, keepdims=True)
    normalized = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        values = matrix if panel == "counts" else normalized
        image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if panel == "true" else None)
        fig.colorbar(image, ax=ax, shrink=0.8)
        ticks = np.arange(k)
        ax.set_xticks(ticks, names, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
        ax.set_yticks(ticks, names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title("counts" if panel == "counts" else "row-normalized (recall)")
        if k <= 30:
            high = values.max() if values.size else 0
            for r in range(k):  # one text per cell; K is small
                for c in range(k):
                    v = values[r, c]
                    text = f"{int(v):,}" if panel == "counts" else f"{v:.2f}"
                    ax.text(
                        c,
                        r,
                        text,
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if high and v > 0.6 * high else "black",
                    )
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def _confusion(
    y_true: Any, y_pred: Any, confusion: Any, classes: Sequence[Any] | None
) -> tuple[np.ndarray, list[str]]:
    if confusion is not None:
        if y_true is not None or y_pred is not None:
            raise ValueError("Pass either `confusion` or `y_true` and `y_pred`, not both.")
        matrix = np.asarray(confusion)
        if (
            matrix.ndim != 2
            or matrix.shape[0] != matrix.shape[1]
            or matrix.dtype.kind not in "iuf"
            or np.any(matrix < 0)
        ):
            raise ValueError(
                "`confusion` must be a square (n_classes, n_classes) matrix of non-negative "
                f"numbers. Received: confusion of shape {matrix.shape}"
            )
        names = [str(c) for c in (classes if classes is not None else range(matrix.shape[0]))]
        if len(names) != matrix.shape[0]:
            raise ValueError(
                f"`classes` has {len(names)} names but `confusion` has {matrix.shape[0]} rows."
            )
        return matrix, names
    if y_true is None or y_pred is None:
        raise ValueError("Pass `y_true` and `y_pred`, or a precomputed `confusion=` matrix.")
    from sklearn.metrics import confusion_matrix

    true = np.asarray(y_true)
    pred = np.asarray(y_pred)
    true = true.argmax(axis=1) if true.ndim == 2 else true
    pred = pred.argmax(axis=1) if pred.ndim == 2 else pred
    if true.shape != pred.shape:
        raise ValueError(
            f"`y_true` has {true.shape[0]} samples but `y_pred` has {pred.shape[0]}; they must "
            "have the same length."
        )
    seen = np.unique(np.concatenate([true, pred]))
    if classes is None:
        return confusion_matrix(true, pred, labels=seen), [str(c) for c in seen.tolist()]
    declared = np.asarray(list(classes))
    names = [str(c) for c in declared.tolist()]
    if np.isin(seen, declared).all():
        return confusion_matrix(true, pred, labels=declared), names
    if seen.dtype.kind in "iu" and seen.min() >= 0 and seen.max() < len(declared):
        # Integer codes 0..K-1 with `classes` naming them.
        return confusion_matrix(true, pred, labels=np.arange(len(declared))), names
    raise ValueError(
        f"`classes` must list the label values of `y_true`/`y_pred` (or name the codes "
        f"0..K-1). Labels {seen[~np.isin(seen, declared)].tolist()[:5]} are not in "
        f"classes={names[:10]}."
    )


def plot_strategy_comparison(
    summary: Any,
    *,
    metric: str = "balanced_accuracy",
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal bars of a metric per strategy, with ± one standard deviation.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per strategy (the index), with columns ``{metric}_mean`` and
        ``{metric}_std`` (e.g. per-seed scores grouped by strategy).
    metric : str, default="balanced_accuracy"
    path : path, default=None
        Save the figure as PNG there (atomically).
    title : str, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from classbalance.plots import plot_strategy_comparison
    >>> table = pd.DataFrame({"balanced_accuracy_mean": [0.8, 0.7],
    ...                       "balanced_accuracy_std": [0.01, 0.02]}, index=["a", "b"])
    >>> [t.get_text() for t in plot_strategy_comparison(table).axes[0].get_yticklabels()]
    ['b', 'a']

    (Bars go bottom to top, so the best strategy, ``a``, is drawn at the top.)
    """
    mean_col, std_col = f"{metric}_mean", f"{metric}_std"
    missing = [c for c in (mean_col, std_col) if c not in getattr(summary, "columns", [])]
    if missing:
        raise ValueError(
            f"`summary` needs columns {mean_col!r} and {std_col!r} for metric={metric!r}; "
            f"missing {missing}."
        )
    table = summary.sort_values(mean_col, ascending=True)
    names = [str(n) for n in table.index]
    fig = _new_figure(7.0, max(2.5, 0.4 * len(names) + 1.2))
    ax = fig.add_subplot()
    positions = np.arange(len(names))
    means = table[mean_col].to_numpy(float)
    stds = table[std_col].to_numpy(float)
    bars = ax.barh(positions, means, xerr=stds, color="#4C72B0", ecolor="#333333", capsize=3)
    ax.set_yticks(positions, names)
    ax.bar_label(bars, labels=[f"{m:.3f}" for m in means], fontsize=8, padding=4)
    low = max(0.0, float(np.nanmin(means - stds)) - 0.05)
    ax.set_xlim(low, min(1.0, float(np.nanmax(means + stds)) + 0.08))
    ax.set_xlabel(metric.replace("_", " ") + " (mean ± std over seeds)")
    ax.set_title(title or f"{metric.replace('_', ' ')} per strategy, best at the top")
    _save(fig, path)
    return fig
