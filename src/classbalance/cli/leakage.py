"""``classbalance leakage PATH...``: the same image in two splits; exit status 1 if any.

The pairs are printed one per line, never cut: a long line wraps in a terminal and
stays whole in a file or a CI log (a table would squeeze its cells to the width).
Files are named relative to PATH when one folder is given, or relative to their
own split folder when two or three are given (the first line says which folder
each split is). ``--json`` keeps the library's absolute paths.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import click
import pandas as pd

from classbalance.cli import options
from classbalance.cli._common import console

__all__ = ["leakage"]

# check_leakage warns with the counts of skipped files; the report prints them already.
_SKIPPED_WARNING = "Files skipped by the leakage check"
_SPLITS = ("train", "valid", "test")


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
    help="Pairs listed per kind of finding.",
)
@options.as_json
@options.strict_images
def leakage(
    paths: tuple[str, ...],
    threshold: int,
    no_near: bool,
    show: int,
    as_json: bool,
    strict_images: bool,
) -> None:
    """Find the same image in two splits; exit status 1 if there is any, 2 on bad input.

    PATHS is one folder with split sub-folders (train/ valid|val/ test/), an
    exported folder with labels.csv (is_valid), or two or three split folders
    (train valid [test]). Exact duplicates (file bytes, decoded pixels) and
    near duplicates (perceptual hash) are reported with their classes;
    duplicates under two labels are listed apart as label conflicts. Files are
    named relative to PATH (to their split folder when several are given),
    one pair per line, never cut; --json gives absolute paths.
    """
    from classbalance.leakage import check_leakage

    if len(paths) > 3:
        raise click.UsageError("Give one folder, or two or three split folders.")
    source = paths[0] if len(paths) == 1 else list(paths)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SKIPPED_WARNING, category=UserWarning)
        report = check_leakage(
            source,
            threshold=threshold,
            near=not no_near,
            on_unreadable=options.on_unreadable(strict_images),
        )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        roots = {"": paths[0]} if len(paths) == 1 else dict(zip(_SPLITS, paths))
        out = console()
        if len(paths) == 1:
            out.print(f"Files are named relative to {paths[0]}", markup=False)
        else:
            where = ", ".join(f"{s} = {p}" for s, p in roots.items())
            out.print(f"Files are named relative to their split folder: {where}", markup=False)
        for title, frame in (
            ("Duplicates across splits (leakage)", report.leaks),
            ("Label conflicts (duplicates under two labels)", report.conflicts),
            ("Duplicates within a split", report.within_split),
        ):
            if frame.empty:
                continue
            out.print(f"{title}: {len(frame):,}", markup=False, style="bold")
            for line in _pair_lines(frame.head(show), roots):
                out.print(line, markup=False)
            if len(frame) > show:
                out.print(f"  ... and {len(frame) - show:,} more (--show N, or --json)")
        out.print(str(report), markup=False)
    if report.has_leakage:
        raise click.exceptions.Exit(1)


def _pair_lines(frame: pd.DataFrame, roots: dict[str, str]) -> list[str]:
    """``  kind  split/label: file  <->  split/label: file``, one line per pair."""
    one_root = roots.get("")
    lines = []
    for row in frame.itertuples(index=False):
        kind = row.kind if row.kind != "near" else f"near (distance {row.distance})"
        a = _relative(row.path_a, one_root or roots.get(row.split_a))
        b = _relative(row.path_b, one_root or roots.get(row.split_b))
        lines.append(
            f"  {kind}: {row.split_a}/{row.label_a}: {a}  <->  {row.split_b}/{row.label_b}: {b}"
        )
    return lines


def _relative(path: str, root: str | None) -> str:
    """``path`` relative to ``root`` (as given or resolved), else as it is."""
    if root is None:
        return path
    for start in (os.path.abspath(root), str(Path(root).resolve())):
        name = os.path.relpath(os.path.abspath(path), start)
        if not name.startswith(os.pardir):
            return name
    return path
