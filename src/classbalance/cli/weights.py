"""``classbalance weights PATH``: Keras class weights, or one pos_weight per label."""

from __future__ import annotations

import json
import warnings
from typing import Any

import click

from classbalance.cli import options
from classbalance.cli._common import console, read_labels, show_notes

__all__ = ["weights"]

_SINGLE_LABEL_WEIGHT_OPTIONS = ("strategy", "beta", "normalize")
_MULTILABEL_WEIGHT_OPTIONS = ("smoothing", "power")
# pos_weight's warning about labels without a positive: shown as a note (and in --json).
_NO_POSITIVE = r"Labels .* have no positive sample"


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--strategy",
    type=click.Choice(["balanced", "inverse", "sqrt", "effective"]),
    default="balanced",
    show_default=True,
)
@click.option("--beta", type=float, default=0.999, show_default=True, help="For 'effective'.")
@click.option(
    "--normalize",
    type=click.Choice(["samples", "classes", "none"]),
    default="samples",
    show_default=True,
    help="Mean weight 1 per sample, per class, or raw.",
)
@click.option(
    "--smoothing",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Multi-label pos_weight: add S to both counts of every label.",
)
@click.option(
    "--power",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Multi-label pos_weight: exponent of negatives/positives (0.5 = square root).",
)
@options.label_options
@options.strict_images
@options.as_json
def weights(
    path: str,
    strategy: str,
    beta: float,
    normalize: str,
    smoothing: float,
    power: float,
    label_col: str | None,
    key: str | None,
    label_cols: list[str] | None,
    label_sep: str | None,
    as_json: bool,
    strict_images: bool,
) -> None:
    """Class weights for PATH, ready for Keras fit(class_weight=...).

    Multi-label data (--label-cols, --label-sep, a multi-hot y) get one
    pos_weight per label (negatives / positives, --smoothing, --power) for
    torch.nn.BCEWithLogitsLoss(pos_weight=...) or
    classbalance.keras.losses.WeightedBinaryCrossentropy. --json prints the
    class_weight dict for Keras (or the pos_weight list).
    """
    import classbalance as cb

    data = read_labels(
        path, label_col, key, label_cols, label_sep,
        on_unreadable=options.on_unreadable(strict_images),
    )  # fmt: skip
    ctx = click.get_current_context()
    given = {
        name
        for name in _SINGLE_LABEL_WEIGHT_OPTIONS + _MULTILABEL_WEIGHT_OPTIONS
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    }
    wrong = _SINGLE_LABEL_WEIGHT_OPTIONS if data.multilabel else _MULTILABEL_WEIGHT_OPTIONS
    misplaced = sorted(given.intersection(wrong))
    if misplaced:
        kind = "multi-label" if data.multilabel else "single-label"
        use = "--smoothing/--power" if data.multilabel else "--strategy/--beta/--normalize"
        raise click.UsageError(
            f"{', '.join('--' + m for m in misplaced)} does not apply to {kind} data ({path}); "
            f"its weights take {use}."
        )
    if data.multilabel:
        _weights_multilabel(path, data, smoothing, power, as_json)
        return
    dist = cb.class_distribution(data.labels, classes=data.classes)
    values = cb.class_weights(
        dist, strategy, beta=beta, normalize=None if normalize == "none" else normalize
    )
    rows = [
        {"class": c, "key": k, "count": int(n), "weight": w}
        for c, (k, w), n in zip(dist.classes.tolist(), values.items(), dist.counts.tolist())
    ]
    if as_json:
        payload = {"strategy": strategy, "class_weight": values, "classes": rows}
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title=f"{strategy} class weights for {path}")
    for name in ("class", "key", "count", "weight"):
        table.add_column(name, justify="left" if name == "class" else "right")
    for row in rows:
        table.add_row(
            str(row["class"]), str(row["key"]), f"{row['count']:,}", f"{row['weight']:.6g}"
        )
    console().print(table)


def _weights_multilabel(
    path: str, data: Any, smoothing: float, power: float, as_json: bool
) -> None:
    """``weights`` of multi-label data: per-label pos_weight (negatives / positives)."""
    import classbalance as cb

    dist = cb.label_distribution(data.labels, classes=data.classes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", message=_NO_POSITIVE, category=UserWarning)
        values = cb.pos_weight(dist, smoothing=smoothing, power=power)
    notes = []
    for w in caught:  # anything else pos_weight warns about is shown as it comes
        if issubclass(w.category, UserWarning) and "have no positive sample" in str(w.message):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    n = dist.n_samples
    rows = [
        {"label": label, "positives": int(p), "negatives": int(n - p), "pos_weight": float(w)}
        for label, p, w in zip(dist.classes.tolist(), dist.counts.tolist(), values.tolist())
    ]
    if as_json:
        payload = {
            "multilabel": True,
            "smoothing": smoothing,
            "power": power,
            "pos_weight": values.tolist(),
            "labels": rows,
            "warnings": notes,
        }
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title=f"pos_weight per label for {path} ({n:,} rows)")
    for name in ("label", "positives", "negatives", "pos_weight"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for row in rows:
        table.add_row(
            str(row["label"]),
            f"{row['positives']:,}",
            f"{row['negatives']:,}",
            f"{row['pos_weight']:.6g}",
        )
    out = console()
    out.print(table)
    out.print(
        "torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)) or "
        "classbalance.keras.losses.WeightedBinaryCrossentropy(w), w in label order"
    )
    show_notes(notes)
