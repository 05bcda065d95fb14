"""``classbalance split PATH --out CSV``: a stratified train/val[/test] column for PATH's rows."""

from __future__ import annotations

import os
from typing import Any

import click
import numpy as np
import pandas as pd

from classbalance.cli import options
from classbalance.cli._common import console, fresh_seed, read_labels

__all__ = ["split"]


class _Size(click.ParamType):
    """A fraction (``0.2``) or a count (``100``)."""

    name = "SIZE"

    def convert(self, value: Any, param: Any, ctx: Any) -> float | int:
        if isinstance(value, (int, float)):
            return value
        try:
            return int(value) if value.strip().isdigit() else float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a fraction like 0.2 nor a count like 100", param, ctx)


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--val",
    "val_size",
    type=_Size(),
    default=0.2,
    show_default=True,
    help="Validation size: fraction or count.",
)
@click.option(
    "--test",
    "test_size",
    type=_Size(),
    default=None,
    help="Test size: fraction or count (default: no test split).",
)
@click.option(
    "--groups",
    "groups_col",
    default=None,
    help="CSV column of groups (e.g. patient id); no group spans two splits.",
)
@options.seed
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="CSV to write: PATH's rows plus a `split` column.",
)
@options.label_options
@options.strict_images
@options.near_duplicates
def split(
    path: str,
    val_size: float | int,
    test_size: float | int | None,
    groups_col: str | None,
    seed: int | None,
    out_path: str,
    label_col: str | None,
    key: str | None,
    label_cols: list[str] | None,
    label_sep: str | None,
    near_duplicates: bool,
    strict_images: bool,
) -> None:
    """Stratified train/val[/test] split of PATH, written to --out as CSV.

    For a class-folder PATH, byte-identical images stay in one split
    (--near-duplicates: also re-encoded and near-identical images).
    Multi-label data (--label-cols, --label-sep, a multi-hot y) is split by
    iterative stratification, keeping every label with 2 positives in
    training and validation.
    """
    import classbalance as cb
    from classbalance._atomic import atomic_write_text

    data = read_labels(
        path, label_col, key, label_cols, label_sep,
        on_unreadable=options.on_unreadable(strict_images),
    )  # fmt: skip
    groups = None
    if groups_col is not None:
        if groups_col not in data.frame.columns:
            raise ValueError(
                f"`--groups` {groups_col!r} is not a column of PATH; columns are "
                f"{list(data.frame.columns)[:20]}."
            )
        groups = data.frame[groups_col].to_numpy()
    n_dup_groups = 0
    if data.kind == "folder":
        from classbalance.leakage import duplicate_groups

        root = data.frame.attrs["root"]
        dup = duplicate_groups(
            [os.path.join(root, p) for p in data.frame["path"].tolist()], near=near_duplicates
        )
        n_dup_groups = int((np.bincount(dup) > 1).sum())
        if n_dup_groups:
            groups = dup
    elif near_duplicates:
        raise click.UsageError("--near-duplicates needs a class-folder PATH (image files).")
    seed = fresh_seed(seed)
    parts = cb.stratified_split(
        data.labels, val_size=val_size, test_size=test_size, groups=groups, seed=seed
    )
    names = np.array(["train", "val", "test"][: len(parts)], dtype=object)
    assignment = np.empty(data.labels.shape[0], dtype=np.int64)
    for s, idx in enumerate(parts):
        assignment[idx] = s
    frame = data.frame.copy()
    frame["split"] = names[assignment]
    atomic_write_text(out_path, frame.to_csv(index=False))
    out = console()
    if data.labels.ndim == 1:
        from rich.table import Table

        table = Table(title=f"{out_path} (seed {seed})")
        table.add_column("class")
        for name in names:
            table.add_column(str(name), justify="right")
        counts = pd.crosstab(pd.Series(data.labels, name="class"), frame["split"])
        counts = counts.reindex(columns=list(names), fill_value=0)
        for cls, row in counts.iterrows():
            table.add_row(str(cls), *[f"{int(v):,}" for v in row.to_numpy()])
        table.add_row("[bold]total[/bold]", *[f"{len(p):,}" for p in parts])
        out.print(table)
        if n_dup_groups:
            out.print(f"{n_dup_groups:,} groups of duplicate images kept in one split")
    else:
        out.print(
            f"{out_path} (seed {seed}): " + ", ".join(f"{n} {len(p)}" for n, p in zip(names, parts))
        )
