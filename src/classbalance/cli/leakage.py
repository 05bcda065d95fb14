"""``classbalance leakage PATH...``: the same image in two splits; exit status 1 if any."""

from __future__ import annotations

import json
import warnings
from typing import Any

import click

from classbalance.cli import options
from classbalance.cli._common import console

__all__ = ["leakage"]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--threshold",
    type=click.IntRange(0, 32),
    default=4,
    show_default=True,
    help="Largest Hamming distance of 64-bit perceptual hashes counted as a near duplicate.",
)
@click.option("--no-near", is_flag=True, help="Exact duplicates only (bytes and pixels).")
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Pairs listed in the table.",
)
@options.as_json
def leakage(
    paths: tuple[str, ...], threshold: int, no_near: bool, show: int, as_json: bool
) -> None:
    """Find the same image in two splits; exit status 1 if there is any.

    PATHS is one folder with split sub-folders (train/ valid|val/ test/), an
    exported folder with labels.csv (is_valid), or two or three split folders
    (train valid [test]). Exact duplicates (file bytes, decoded pixels) and
    near duplicates (perceptual hash) are reported with their classes;
    duplicates under two labels are listed apart as label conflicts.
    """
    from classbalance.leakage import check_leakage

    if len(paths) > 3:
        raise click.UsageError("Give one folder, or two or three split folders.")
    source: Any = paths[0] if len(paths) == 1 else list(paths)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the counts are in the report
        report = check_leakage(source, threshold=threshold, near=not no_near)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        out = console()
        from rich.table import Table

        for title, frame in (
            ("Duplicates across splits (leakage)", report.leaks),
            ("Label conflicts (duplicates under two labels)", report.conflicts),
            ("Duplicates within a split", report.within_split),
        ):
            if frame.empty:
                continue
            table = Table(title=f"{title}: {len(frame):,}")
            for name in ("kind", "dist.", "split/label A", "file A", "split/label B", "file B"):
                table.add_column(name)
            for row in frame.head(show).itertuples(index=False):
                table.add_row(
                    row.kind,
                    str(row.distance),
                    f"{row.split_a}/{row.label_a}",
                    row.path_a,
                    f"{row.split_b}/{row.label_b}",
                    row.path_b,
                )
            out.print(table)
        out.print(str(report))
    if report.has_leakage:
        raise click.exceptions.Exit(1)
