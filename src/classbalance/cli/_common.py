"""What the commands share besides options: reading PATH's labels, consoles, JSON numbers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

__all__ = [
    "LABELS_CSV",
    "console",
    "err_console",
    "fresh_seed",
    "json_float",
    "read_labels",
    "show_notes",
]

# A folder's table of labels (name, label, ...), as `oversample` writes and `compare` reads.
LABELS_CSV = "labels.csv"


def read_labels(
    path: str,
    label_col: str | None,
    key: str | None,
    label_cols: list[str] | None = None,
    label_sep: str | None = None,
    *,
    show: bool = True,
    on_unreadable: str = "skip",
) -> Any:
    """Read PATH's labels (:func:`classbalance.files.read_labels`).

    ``--label-sep`` (and ``--label-col`` with it) on a folder read the folder's
    ``labels.csv``, as ``compare`` does; a folder without them is a class-folder
    tree. ``show``: print the reader's notes as warnings on stderr.
    """
    from classbalance.files import read_labels as read

    target = Path(path)
    if target.is_dir() and label_sep is not None:
        table = target / LABELS_CSV
        if not table.is_file():
            raise click.BadParameter(
                f"{path} is a folder without {LABELS_CSV}; --label-sep reads the label sets of a "
                f"CSV or of a folder's {LABELS_CSV}. Drop it for class folders "
                "(root/<class>/<image>).",
                param_hint="--label-sep",
            )
        target = table
        if label_col is None:  # as compare reads it: `labels` when there is no `label` column
            import pandas as pd

            columns = pd.read_csv(table, nrows=0).columns
            if "label" not in columns and "labels" in columns:
                label_col = "labels"
    elif target.is_dir() and (label_cols is not None or label_col is not None):
        name = "--label-cols" if label_cols is not None else "--label-col"
        raise click.BadParameter(
            f"{path} is a class-folder tree (root/<class>/<image>), which has no label "
            f"columns; {name} names columns of a CSV (--label-col with --label-sep: of a "
            f"folder's {LABELS_CSV}).",
            param_hint=name,
        )
    data = read(
        target,
        label_col=label_col,
        key=key,
        label_cols=label_cols,
        label_sep=label_sep,
        on_unreadable=on_unreadable,
    )
    if show:
        show_notes(data.notes)
    return data


def show_notes(notes: list[str]) -> None:
    """Each note as a ``Warning: ...`` line on stderr."""
    for note in notes:
        click.secho(f"Warning: {note}", fg="yellow", err=True)


def console() -> Any:
    """A rich console on stdout that never cuts a long line (it wraps it)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def err_console() -> Any:
    """A rich console on stderr (progress bars)."""
    from rich.console import Console

    return Console(stderr=True)


def json_float(value: float) -> float | None:
    """``value`` for JSON: inf and NaN become null."""
    return None if not math.isfinite(value) else float(value)


def fresh_seed(seed: int | None) -> int:
    """``seed``, or a fresh one when None (printed by the command, so a run can be repeated)."""
    from classbalance._validation import resolve_seed

    return resolve_seed(seed)
