"""``classbalance inspect PATH``: class counts (or per-label measures), weights and warnings."""

from __future__ import annotations

import json
import math
from typing import Any

import click
import numpy as np

from classbalance.cli import options
from classbalance.cli._common import console, json_float, read_labels, show_notes

__all__ = ["inspect"]


@click.command()
@click.argument("path", type=click.Path(exists=True))
@options.label_options
@options.strict_images
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Save a histogram PNG.")
@click.option("--log", is_flag=True, help="Log-scale histogram.")
@options.as_json
def inspect(
    path: str,
    label_col: str | None,
    key: str | None,
    label_cols: list[str] | None,
    label_sep: str | None,
    plot_path: str | None,
    log: bool,
    as_json: bool,
    strict_images: bool,
) -> None:
    """Class counts, balanced weights and warnings for PATH.

    PATH is a class-folder tree (root/<class>/<image>), a CSV (--label-col)
    or .npy/.npz labels. Multi-label data shows per-label positives, IRLbl,
    MeanIR and SCUMBLE: a multi-hot y in .npy/.npz, 0/1 CSV columns
    (--label-cols), or a column of label sets (--label-sep) in a CSV or in a
    folder's labels.csv.
    """
    data = read_labels(
        path, label_col, key, label_cols, label_sep, show=False,
        on_unreadable=options.on_unreadable(strict_images),
    )  # fmt: skip
    if data.multilabel:
        _inspect_multilabel(path, data, plot_path, log, as_json)
        return
    import classbalance as cb

    try:
        dist = cb.class_distribution(data.labels, classes=data.classes)
    except ValueError:
        show_notes(data.notes)  # e.g. "read as single-label, pass --label-sep": the likely fix
        raise
    weights = list(cb.class_weights(dist).values())
    warn = list(data.notes)
    if data.kind != "folder" and dist.empty_classes:
        warn.append(f"empty classes: {dist.empty_classes[:10]}")
    singles = dist.classes[dist.counts == 1].tolist()
    if singles:
        warn.append(
            f"{len(singles)} classes with a single sample (cannot be in both training and "
            f"validation): {[str(s) for s in singles[:10]]}"
        )
    order = np.argsort(-dist.counts, kind="stable")
    rows = [
        {
            "class": dist.classes[i].item(),
            "count": int(dist.counts[i]),
            "fraction": float(dist.fractions[i]),
            "balanced_weight": float(weights[i]),
        }
        for i in order.tolist()
    ]
    if plot_path:
        dist.plot(log=log, path=plot_path)
    if as_json:
        payload = {
            "path": str(path),
            "n_samples": dist.n_samples,
            "n_classes": dist.n_classes,
            "imbalance_ratio": json_float(dist.imbalance_ratio),
            "multilabel": False,
            "classes": rows,
            "warnings": warn,
        }
        if plot_path:
            payload["plot"] = str(plot_path)
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title=f"{path}: {dist.n_samples:,} samples, {dist.n_classes} classes")
    table.add_column("class")
    table.add_column("count", justify="right")
    table.add_column("%", justify="right")
    table.add_column("balanced weight", justify="right")
    for row in rows:
        table.add_row(
            str(row["class"]),
            f"{row['count']:,}",
            f"{100 * row['fraction']:.2f}",
            f"{row['balanced_weight']:.4g}",
        )
    out = console()
    out.print(table)
    ratio = dist.imbalance_ratio
    out.print(
        "imbalance ratio (largest / smallest): "
        + ("inf (a class is empty)" if not math.isfinite(ratio) else f"{ratio:.4g}")
    )
    for line in warn:
        out.print(f"[yellow]warning:[/yellow] {line}")
    if plot_path:
        out.print(f"histogram written to {plot_path}")


def _inspect_multilabel(
    path: str, data: Any, plot_path: str | None, log: bool, as_json: bool
) -> None:
    """``inspect`` of multi-label data: per-label positives, IRLbl, MeanIR, SCUMBLE."""
    import classbalance as cb

    dist = cb.label_distribution(data.labels, classes=data.classes)
    summary = dist.summary()
    frame = dist.to_frame()
    warn = list(data.notes)
    if dist.empty_labels:
        warn.append(
            f"{len(dist.empty_labels)} labels with no positive sample (IRLbl inf, left out of "
            f"MeanIR): {[str(v) for v in dist.empty_labels[:10]]}"
        )
    singles = frame.index[frame["count"] == 1].tolist()
    if singles:
        warn.append(
            f"{len(singles)} labels with a single positive (cannot be in both training and "
            f"validation): {[str(v) for v in singles[:10]]}"
        )
    if dist.n_unlabeled:
        warn.append(
            f"{dist.n_unlabeled:,} of {dist.n_samples:,} rows have no label (negatives for "
            "every label)"
        )
    rows = [
        {
            "label": label.item() if isinstance(label, np.generic) else label,
            "count": int(row.count),
            "fraction": float(row.fraction),
            "irlbl": json_float(row.irlbl),
        }
        for label, row in zip(frame.index.tolist(), frame.itertuples(index=False))
    ]
    if plot_path:
        dist.plot(log=log, path=plot_path)
    if as_json:
        payload: dict[str, Any] = {"path": str(path), "multilabel": True}
        payload.update(summary)
        for name in ("cardinality", "mean_ir", "max_ir", "scumble"):
            payload[name] = json_float(summary[name])
        payload["labels"] = rows
        payload["warnings"] = warn
        if plot_path:
            payload["plot"] = str(plot_path)
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title=f"{path}: {dist.n_samples:,} samples, {dist.n_labels} labels (multi-label)")
    table.add_column("label")
    table.add_column("positives", justify="right")
    table.add_column("%", justify="right")
    table.add_column("IRLbl", justify="right")
    for row in rows:
        table.add_row(
            str(row["label"]),
            f"{row['count']:,}",
            f"{100 * row['fraction']:.2f}",
            "inf" if row["irlbl"] is None else f"{row['irlbl']:.4g}",
        )
    out = console()
    out.print(table)
    out.print(
        f"MeanIR {dist.mean_ir:.4g} · MaxIR {dist.max_ir:.4g} · SCUMBLE {dist.scumble:.4g} · "
        f"labels per row {dist.cardinality:.3g} · rows with no label {dist.n_unlabeled:,}"
    )
    for line in warn:
        out.print(f"[yellow]warning:[/yellow] {line}")
    if plot_path:
        out.print(f"histogram written to {plot_path}")
