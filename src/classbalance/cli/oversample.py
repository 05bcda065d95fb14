"""``classbalance oversample DATA_DIR OUT_DIR``: split, oversample, export a fastai-ready folder."""

from __future__ import annotations

import click

from classbalance.cli import options
from classbalance.cli._common import console, err_console, fresh_seed

__all__ = ["oversample"]


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


@click.command()
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
@options.seed
@click.option("--overwrite", is_flag=True, help="Replace a non-empty OUT_DIR.")
@click.option("--recursive", is_flag=True, help="Include images in sub-folders of class folders.")
@click.option("--verify", is_flag=True, help="Open every image and skip unreadable ones.")
@options.strict_images
@options.near_duplicates
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
    strict_images: bool,
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
    seed = fresh_seed(seed)
    manifest = folders.scan(
        data_dir,
        recursive=recursive,
        verify=verify,
        on_unreadable=options.on_unreadable(strict_images),
    )
    plan = folders.oversample(
        manifest,
        valid_pct=valid_pct,
        factors=_parse_factors(factors),
        strategy="oversample" if balance else None,
        alpha=alpha,
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
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console(),
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
    out = console()
    out.print(table)
    note = " (hard links impossible: copied)" if result.fell_back else ""
    out.print(
        f"{result.n_rows:,} rows, {result.n_files:,} files placed by {result.mode}{note}; "
        f"validation samples: {result.n_valid:,}"
    )
    if plan.attrs.get("n_duplicate_groups"):
        out.print(
            f"{plan.attrs['n_duplicate_groups']:,} groups of duplicate images kept in one split"
        )
