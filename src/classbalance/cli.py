"""The ``classbalance`` command line: inspect, split, oversample, weights, leakage.

Every command only calls the public API. Errors print one line (``Error:
...``) and exit with status 1; ``classbalance --debug ...`` (or
``CLASSBALANCE_DEBUG=1``) shows the traceback instead.

Adding a command from another module (e.g. ``compare``): define a
``click.Command`` there and add one entry to :data:`LAZY_COMMANDS`::

    LAZY_COMMANDS = {..., "compare": "classbalance.compare.command:compare"}

The module is imported only when the command runs (or ``--help`` lists it),
so heavy imports (Keras, matplotlib) never slow down the other commands.
``main.add_command(cmd)`` works as well for commands defined at import time.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import numpy as np
import pandas as pd

from classbalance import __version__

__all__ = ["LAZY_COMMANDS", "main"]

# name -> "module:attribute" of a click.Command, imported on first use.
LAZY_COMMANDS: dict[str, str] = {
    "compare": "classbalance.compare.command:compare",
}


_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """A click group with lazily imported commands and one-line errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        module_name, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{LAZY_COMMANDS[cmd_name]} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug")) or os.environ.get("CLASSBALANCE_DEBUG") == "1"
        try:
            with _warnings_to_stderr():
                return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if debug:
                raise
            text = " ".join(str(exc).split()) or type(exc).__name__
            raise click.ClickException(f"{type(exc).__name__}: {text}") from None


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Show library warnings as ``Warning: ...`` lines instead of file:line noise."""

    def show(message: Any, category: Any, filename: str, lineno: int, *args: Any) -> None:
        click.secho(f"Warning: {message}", fg="yellow", err=True)

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


@click.group(cls=_Group, context_settings=_CONTEXT)
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(version=__version__, prog_name="classbalance")
def main(debug: bool) -> None:
    """classbalance: inspect, split and rebalance class-imbalanced datasets."""
    # The process set-up of the command line (never done by library calls): TensorFlow's C++
    # logging is configured from the environment when it is imported. A user's setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


# ------------------------------------------------------------------ label loading
def _read_labels(
    path: str,
    label_col: str | None,
    key: str | None,
    label_cols: str | None = None,
    label_sep: str | None = None,
    *,
    show_notes: bool = True,
) -> Any:
    """Read PATH's labels; ``show_notes``: print the reader's notes as warnings on stderr."""
    from classbalance.files import read_labels

    cols = None
    if label_cols is not None:
        cols = [c.strip() for c in label_cols.split(",")]
        if not all(cols):
            raise click.BadParameter(
                f"{label_cols!r} must be column names joined by commas, e.g. a,b,c",
                param_hint="--label-cols",
            )
    data = read_labels(path, label_col=label_col, key=key, label_cols=cols, label_sep=label_sep)
    if show_notes:
        _show_notes(data.notes)
    return data


def _show_notes(notes: list[str]) -> None:
    for note in notes:
        click.secho(f"Warning: {note}", fg="yellow", err=True)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _json_float(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


_label_col = click.option(
    "--label-col", default=None, help="Label column of a CSV PATH (default: label)."
)
_key = click.option("--key", default=None, help="Array name in a .npz PATH (default: y/labels).")
_label_cols = click.option(
    "--label-cols",
    default=None,
    metavar="A,B,C",
    help="Multi-label CSV: the 0/1 columns, one per label, joined by commas.",
)
_label_sep = click.option(
    "--label-sep",
    default=None,
    metavar="SEP",
    help="Multi-label CSV: the separator of the label sets in --label-col (e.g. '|').",
)
_near_duplicates = click.option(
    "--near-duplicates",
    is_flag=True,
    help="Also keep re-encoded and perceptually near-identical images in one split.",
)


# ----------------------------------------------------------------------- inspect
@main.command(context_settings=_CONTEXT)
@click.argument("path", type=click.Path(exists=True))
@_label_col
@_key
@_label_cols
@_label_sep
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Save a histogram PNG.")
@click.option("--log", is_flag=True, help="Log-scale histogram.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def inspect(
    path: str,
    label_col: str | None,
    key: str | None,
    label_cols: str | None,
    label_sep: str | None,
    plot_path: str | None,
    log: bool,
    as_json: bool,
) -> None:
    """Class counts, balanced weights and warnings for PATH.

    PATH is a class-folder tree (root/<class>/<image>), a CSV (--label-col)
    or .npy/.npz labels. Multi-label data shows per-label positives, IRLbl,
    MeanIR and SCUMBLE: a multi-hot y in .npy/.npz, 0/1 CSV columns
    (--label-cols), or a CSV column of label sets (--label-sep).
    """
    data = _read_labels(path, label_col, key, label_cols, label_sep, show_notes=False)
    if data.multilabel:
        _inspect_multilabel(path, data, plot_path, log, as_json)
        return
    import classbalance as cb

    try:
        dist = cb.class_distribution(data.labels, classes=data.classes)
    except ValueError:
        _show_notes(data.notes)  # e.g. "read as single-label, pass --label-sep": the likely fix
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
            "imbalance_ratio": _json_float(dist.imbalance_ratio),
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
    console = _console()
    console.print(table)
    ratio = dist.imbalance_ratio
    console.print(
        "imbalance ratio (largest / smallest): "
        + ("inf (a class is empty)" if not math.isfinite(ratio) else f"{ratio:.4g}")
    )
    for line in warn:
        console.print(f"[yellow]warning:[/yellow] {line}")
    if plot_path:
        console.print(f"histogram written to {plot_path}")


def _inspect_multilabel(
    path: str, data: Any, plot_path: str | None, log: bool, as_json: bool
) -> None:
    """``inspect`` of multi-label data: per-label positives, IRLbl, MeanIR, SCUMBLE."""
    from classbalance.multilabel import label_distribution

    dist = label_distribution(data.labels, labels=data.classes)
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
            "irlbl": _json_float(row.irlbl),
        }
        for label, row in zip(frame.index.tolist(), frame.itertuples(index=False))
    ]
    if plot_path:
        dist.plot(log=log, path=plot_path)
    if as_json:
        payload: dict[str, Any] = {"path": str(path), "multilabel": True}
        payload.update(summary)
        for name in ("cardinality", "mean_ir", "max_ir", "scumble"):
            payload[name] = _json_float(summary[name])
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
    console = _console()
    console.print(table)
    console.print(
        f"MeanIR {dist.mean_ir:.4g} · MaxIR {dist.max_ir:.4g} · SCUMBLE {dist.scumble:.4g} · "
        f"labels per row {dist.cardinality:.3g} · rows with no label {dist.n_unlabeled:,}"
    )
    for line in warn:
        console.print(f"[yellow]warning:[/yellow] {line}")
    if plot_path:
        console.print(f"histogram written to {plot_path}")


# ------------------------------------------------------------------------- split
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


def _seed_or_new(seed: int | None) -> int:
    from classbalance._validation import resolve_seed

    return resolve_seed(seed)


@main.command(context_settings=_CONTEXT)
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
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed (default: random).")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="CSV to write: PATH's rows plus a `split` column.",
)
@_label_col
@_key
@_label_cols
@_label_sep
@_near_duplicates
def split(
    path: str,
    val_size: float | int,
    test_size: float | int | None,
    groups_col: str | None,
    seed: int | None,
    out_path: str,
    label_col: str | None,
    key: str | None,
    label_cols: str | None,
    label_sep: str | None,
    near_duplicates: bool,
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

    data = _read_labels(path, label_col, key, label_cols, label_sep)
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
    seed = _seed_or_new(seed)
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
    console = _console()
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
        console.print(table)
        if n_dup_groups:
            console.print(f"{n_dup_groups:,} groups of duplicate images kept in one split")
    else:
        console.print(
            f"{out_path} (seed {seed}): " + ", ".join(f"{n} {len(p)}" for n, p in zip(names, parts))
        )


# -------------------------------------------------------------------- oversample
def _parse_factors(items: tuple[str, ...]) -> dict[str, float] | None:
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        label, sep, pct = item.rpartition("=")
        try:
            if not sep or not label:
                raise ValueError
            out[label] = float(pct)
        except ValueError:
            raise click.BadParameter(
                f"{item!r} must be LABEL=PCT, e.g. cat=0.5 (adds 50% more cat rows)",
                param_hint="--factor",
            ) from None
    return out


@main.command(context_settings=_CONTEXT)
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option(
    "--val",
    "--valid-pct",
    "valid_pct",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.2,
    show_default=True,
    help="Stratified validation fraction, never oversampled (as `split --val`; "
    "--valid-pct is the seed's name).",
)
@click.option(
    "--factor",
    "factors",
    multiple=True,
    metavar="LABEL=PCT",
    help="Add PCT more training rows of LABEL (repeatable).",
)
@click.option("--balance", is_flag=True, help="Oversample every class up to the largest.")
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1),
    default=None,
    help="Partial balance: class sizes ∝ n_c**alpha (0 = --balance, 1 = unchanged).",
)
@click.option(
    "--mode",
    type=click.Choice(["hardlink", "copy", "symlink", "none"]),
    default="hardlink",
    show_default=True,
    help="How files are placed in OUT_DIR.",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed (default: random).")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty OUT_DIR.")
@click.option("--recursive", is_flag=True, help="Include images in sub-folders of class folders.")
@click.option("--verify", is_flag=True, help="Open every image and skip unreadable ones.")
@_near_duplicates
def oversample(
    data_dir: str,
    out_dir: str,
    valid_pct: float,
    factors: tuple[str, ...],
    balance: bool,
    alpha: float | None,
    mode: str,
    seed: int | None,
    overwrite: bool,
    recursive: bool,
    verify: bool,
    near_duplicates: bool,
) -> None:
    """Split DATA_DIR, oversample training rows, export OUT_DIR with labels.csv.

    OUT_DIR/labels.csv (name,label,is_valid) loads in fastai with
    ImageDataLoaders.from_csv(OUT_DIR, csv_fname="labels.csv", valid_col="is_valid").
    Byte-identical files stay in one split (--near-duplicates: also re-encoded and
    near-identical images). OUT_DIR/manifest.json records the arguments, the seed and
    each file's source, SHA-256, split and repeats.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from classbalance import folders

    chosen = sum([bool(factors), balance, alpha is not None])
    if chosen != 1:
        raise click.UsageError("Pass exactly one of --factor LABEL=PCT ..., --balance or --alpha.")
    balance_arg: str | float | None = "max" if balance else alpha
    seed = _seed_or_new(seed)
    manifest = folders.scan(data_dir, recursive=recursive, verify=verify)
    plan = folders.oversample(
        manifest,
        valid_pct=valid_pct,
        factors=_parse_factors(factors),
        balance=balance_arg,
        duplicates="near" if near_duplicates else "bytes",
        seed=seed,
    )
    provenance = {
        "command": "classbalance oversample",
        "data_dir": str(data_dir),
        "out_dir": str(out_dir),
        "valid_pct": valid_pct,
        "factors": _parse_factors(factors),
        "balance": balance,
        "alpha": alpha,
        "mode": mode,
        "seed": seed,
        "recursive": recursive,
        "verify": verify,
        "near_duplicates": near_duplicates,
    }
    n_files = int(plan["path"].nunique()) if mode != "none" else 0
    console = _console()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_console_err(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"{mode} files", total=n_files)
        result = folders.export(
            plan,
            out_dir,
            mode=mode,
            overwrite=overwrite,
            progress=lambda k: bar.advance(task, k),
            provenance=provenance,
        )
    counts = plan.groupby(["label", "is_valid"]).size().unstack(fill_value=0)
    from rich.table import Table

    table = Table(title=f"{result.out_dir}/labels.csv (seed {seed})")
    table.add_column("class")
    table.add_column("train rows", justify="right")
    table.add_column("valid rows", justify="right")
    for label, row in counts.iterrows():
        table.add_row(str(label), f"{int(row.get(False, 0)):,}", f"{int(row.get(True, 0)):,}")
    console.print(table)
    note = " (hard links impossible: copied)" if result.fell_back else ""
    console.print(
        f"{result.n_rows:,} rows, {result.n_files:,} files placed by {result.mode}{note}; "
        f"validation samples: {result.n_valid:,}"
    )
    if plan.attrs.get("n_duplicate_groups"):
        console.print(
            f"{plan.attrs['n_duplicate_groups']:,} groups of duplicate images kept in one split"
        )


def _console_err() -> Any:
    from rich.console import Console

    return Console(stderr=True)


# ----------------------------------------------------------------------- weights
_SINGLE_LABEL_WEIGHT_OPTIONS = ("strategy", "beta", "normalize")
_MULTILABEL_WEIGHT_OPTIONS = ("smoothing", "power")


@main.command(context_settings=_CONTEXT)
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
@_label_col
@_key
@_label_cols
@_label_sep
@click.option("--json", "as_json", is_flag=True, help="Print JSON (class_weight dict for Keras).")
def weights(
    path: str,
    strategy: str,
    beta: float,
    normalize: str,
    smoothing: float,
    power: float,
    label_col: str | None,
    key: str | None,
    label_cols: str | None,
    label_sep: str | None,
    as_json: bool,
) -> None:
    """Class weights for PATH, ready for Keras fit(class_weight=...).

    Multi-label data (--label-cols, --label-sep, a multi-hot y) get one
    pos_weight per label (negatives / positives, --smoothing, --power) for
    torch.nn.BCEWithLogitsLoss(pos_weight=...) or
    classbalance.keras.losses.WeightedBinaryCrossentropy.
    """
    import classbalance as cb

    data = _read_labels(path, label_col, key, label_cols, label_sep)
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
    _console().print(table)


def _weights_multilabel(
    path: str, data: Any, smoothing: float, power: float, as_json: bool
) -> None:
    """``weights`` of multi-label data: per-label pos_weight (negatives / positives)."""
    from classbalance.multilabel import label_distribution, pos_weight

    dist = label_distribution(data.labels, labels=data.classes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        values = pos_weight(dist, smoothing=smoothing, power=power)
    notes = [str(w.message) for w in caught]
    n = dist.n_samples
    rows = [
        {"label": label, "positives": int(p), "negatives": int(n - p), "pos_weight": float(w)}
        for label, p, w in zip(dist.labels.tolist(), dist.counts.tolist(), values.tolist())
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
    console = _console()
    console.print(table)
    console.print(
        "torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)) or "
        "classbalance.keras.losses.WeightedBinaryCrossentropy(w), w in label order"
    )
    _show_notes(notes)


# ----------------------------------------------------------------------- leakage
@main.command(context_settings=_CONTEXT)
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON (summary and every pair).")
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
        console = _console()
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
            console.print(table)
        console.print(str(report))
    if report.has_leakage:
        raise click.exceptions.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
