"""``classbalance compare``: the command line of the main job."""

from __future__ import annotations

from typing import Any

import click

from classbalance.cli import options
from classbalance.compare.recipes import RECIPES, check_strategy_names

__all__ = ["compare"]


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from classbalance.compare.summary import summary_table

    console = Console()
    if not console.is_terminal:  # pipes and CI logs: don't squeeze the table to 80 columns
        console = Console(width=max(console.width, 200 if result.multilabel else 150))
    title, header, rows = summary_table(result)
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"[bold]{result.recommendation}[/bold]")
    console.print("≈: within noise of the best (the paired interval of the difference reaches 0).")
    for note in result.notes:
        console.print(note)


@click.command(name="compare")
@click.option("--data", type=str, default=None, help="Image folder (class folders, or train/ "
              "valid/ [test/] sub-folders; multi-label: a folder with labels.csv), CSV of "
              "numeric features, .npz with x and y (a multi-hot y is multi-label), or "
              "multilabel-demo. Default: built-in long-tailed digits.")  # fmt: skip
@click.option("--test", "test", type=str, default=None,
              help="A fixed test set of the same kind as --data.")  # fmt: skip
@click.option("--model", type=str, default=None, help="module:function or file.py:function "
              "returning an uncompiled Keras model (input_shape, n_classes) -> logits. "
              "Default: MLP for features, small residual CNN for images.")  # fmt: skip
@click.option("--strategies", type=str, default=None,
              help=f"Comma-separated subset of: {', '.join(RECIPES['single-label'])}; "
              f"multi-label data: {', '.join(RECIPES['multi-label'])}.")  # fmt: skip
@click.option("--seeds", type=int, default=3, show_default=True, help="Seeds 0..N-1.")
@click.option(
    "--epochs",
    type=int,
    default=30,
    show_default=True,
    help="Epochs of n_train samples: the same step budget for every strategy.",
)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--learning-rate", type=float, default=3e-3, show_default=True)
@click.option(
    "--jobs",
    type=int,
    default=-1,
    show_default=True,
    help="Worker processes for the (strategy, seed) runs; -1: one per core (with GPUs: one "
    "per GPU, memory growth on). "
    "The scores do not depend on it.",
)
@click.option(
    "--budget",
    "budget",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="MINUTES",
    help="Wall time for the whole comparison (0: no limit). One run is timed first and the "
    "plan printed; a grid that does not fit is raced (more seeds only for the strategies "
    "within noise of the leader), then given fewer epochs (the same for every strategy).",
)
@click.option(
    "--race/--no-race",
    "race",
    default=None,
    help="Race the seeds: every strategy on seed 0, further seeds only for those within "
    "noise of the leader. Default: race when the grid does not fit the budget; "
    "--no-race fits the budget with fewer seeds instead.",
)
@click.option(
    "--cv",
    "cv",
    type=click.IntRange(min=0),
    default=None,
    metavar="K",
    help="K-fold cross-validation (out-of-fold predictions pooled, a seed is a repeat) for data "
    "without a fixed test set. Default: 5 folds when the rarest class would have fewer than 20 "
    "test samples in a single split; 0: always the single split.",
)
@click.option(
    "--cv-repeats",
    type=click.IntRange(min=1),
    default=None,
    metavar="R",
    help="Repeats of the cross-validation, each with its own folds and seed (default: --seeds).",
)
@click.option(
    "--imbalance-ratio",
    type=float,
    default=50.0,
    show_default=True,
    help="Built-in data only: largest / smallest class (multilabel-demo: label rates).",
)
@options.label_col
@options.label_cols
@options.label_sep
@click.option(
    "--multilabel",
    is_flag=True,
    help="Treat y as multi-hot labels (detected for an .npz whose y has rows with 0 or >= 2 ones).",
)
@click.option(
    "--image-size",
    type=click.IntRange(min=1),
    default=None,
    help="Images are resized to this square size. Default: the backbone's (224 for most), "
    "else the median side of the images clipped to [8, 64].",
)
@click.option(
    "--backbone",
    type=str,
    default=None,
    metavar="NAME",
    help="Transfer learning: a Keras application (MobileNetV3Small, EfficientNetB0, ResNet50, "
    "...) or module:function (input_shape) -> model on pixels in [0, 255]. Each image is "
    "embedded once by the frozen network (cached), and the remedies are compared on a head "
    "trained on the embeddings.",
)
@click.option(
    "--backbone-weights",
    type=str,
    default=None,
    metavar="none|imagenet|PATH",
    help="Weights of --backbone. Default: imagenet for a Keras application (as Keras loads "
    "them), the function's own otherwise.",
)
@click.option(
    "--embedding-cache",
    type=str,
    default=None,
    metavar="DIR",
    help="Folder of the embedding cache. Default: $CLASSBALANCE_CACHE_DIR, else "
    "~/.cache/classbalance.",
)
@click.option(
    "--channels",
    type=click.Choice(["auto", "1", "3"]),
    default="auto",
    show_default=True,
    help="auto: RGB unless every image is grayscale.",
)
@options.strict_images
@click.option("--quick", is_flag=True, help="1 seed and at most 5 epochs (smoke test).")
@options.backend
@click.option(
    "--out",
    type=str,
    default="compare-report",
    show_default=True,
    help="Folder for results.csv, results.json, report.md and PNGs.",
)
def compare(
    data: str | None,
    test: str | None,
    model: str | None,
    strategies: str | None,
    seeds: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    jobs: int,
    budget: float,
    race: bool | None,
    cv: int | None,
    cv_repeats: int | None,
    imbalance_ratio: float,
    label_col: str | None,
    label_cols: list[str] | None,
    label_sep: str | None,
    multilabel: bool,
    image_size: int | None,
    backbone: str | None,
    backbone_weights: str | None,
    embedding_cache: str | None,
    channels: str,
    strict_images: bool,
    quick: bool,
    backend: str | None,
    out: str,
) -> None:
    """Train the same model under each remedy with equal budgets and compare (the main job)."""
    from classbalance.compare.config import CompareConfig
    from classbalance.compare.runner import run_compare

    cfg = CompareConfig(
        data=data, test=test, model=model,
        strategies=[s.strip() for s in strategies.split(",") if s.strip()] if strategies else None,
        seeds=seeds, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
        jobs=jobs, budget_minutes=budget or None, race=race, imbalance_ratio=imbalance_ratio,
        label_col=label_col or "label",
        label_cols=label_cols,
        label_sep=label_sep, multilabel=multilabel, image_size=image_size, channels=channels,
        on_unreadable=options.on_unreadable(strict_images), quick=quick, out=out,
        backbone=backbone, backbone_weights=backbone_weights, embedding_cache=embedding_cache,
        cv=cv, cv_repeats=cv_repeats,
    ).resolved()  # fmt: skip
    check_strategy_names(cfg.strategies)  # before Keras: a typo costs no import
    options.load_keras(backend)  # after the options are checked: a typo costs no import
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("loading data", total=None)

        def progress(label: str, done: int, total: int) -> None:
            bar.update(task, description=label, completed=done, total=total)

        def on_plan(plan: Any) -> None:
            bar.console.print(plan.describe(), soft_wrap=True, markup=False, highlight=False)

        result = run_compare(cfg, progress=progress, on_plan=on_plan)
    _print_table(result)
    from classbalance.compare.report import write_report

    written = write_report(result, out)
    from joblib import effective_n_jobs

    planned = result.plan.get("plan", {})
    estimate = (
        f", planned {planned['estimated_seconds']:.0f} s" if planned.get("mode") == "grid" else ""
    )
    click.echo(
        f"{len(result.runs)} runs in {result.seconds:.0f} s{estimate} (Keras backend "
        f"{result.backend}, {result.plan.get('workers') or effective_n_jobs(cfg.jobs)}); "
        f"wrote {', '.join(p.name for p in written)} to {out}/"
    )
