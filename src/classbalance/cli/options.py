"""Options shared by the commands, ``compare`` included: one name, one meaning, one check.

A command takes an option from here by decorating with it (``@options.label_sep``),
so ``--label-sep`` reads the same, is documented the same and is validated the
same in ``inspect``, ``split``, ``weights`` and ``compare``. ``--backend`` also
carries what choosing a backend means for the process (:func:`load_keras`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

__all__ = [
    "BACKENDS",
    "ColumnNames",
    "Separator",
    "as_json",
    "backend",
    "key",
    "label_col",
    "label_cols",
    "label_options",
    "label_sep",
    "load_keras",
    "near_duplicates",
    "on_unreadable",
    "seed",
    "strict_images",
]

BACKENDS = ("tensorflow", "torch", "jax")


class ColumnNames(click.ParamType):
    """``a,b,c``: distinct, non-empty column names joined by commas, as a list."""

    name = "A,B,C"

    def convert(self, value: Any, param: Any, ctx: Any) -> list[str]:
        if isinstance(value, list):
            return value
        names = [c.strip() for c in str(value).split(",")]
        if not all(names):
            self.fail(f"{value!r} must be column names joined by commas, e.g. a,b,c", param, ctx)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            self.fail(
                f"{value!r} names {repeated} more than once; name each column once", param, ctx
            )
        return names


class Separator(click.ParamType):
    """The non-empty string that joins the labels of one row, e.g. ``|`` in ``cat|dog``."""

    name = "SEP"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        if not isinstance(value, str) or not value:
            self.fail(
                f"{value!r} must be the non-empty string that joins a row's labels, "
                "e.g. '|' for cat|dog or ' ' for 'cat dog'",
                param,
                ctx,
            )
        return value


label_col = click.option(
    "--label-col",
    default=None,
    metavar="NAME",
    help="The label column of a CSV or, with --label-sep, of a folder's labels.csv "
    "(default: label; in a labels.csv without one: labels).",
)
label_cols = click.option(
    "--label-cols",
    type=ColumnNames(),
    default=None,
    help="Multi-label: a CSV's 0/1 label columns, one per label, joined by commas.",
)
label_sep = click.option(
    "--label-sep",
    type=Separator(),
    default=None,
    help="Multi-label: the separator of the label sets in the label column (--label-col) of "
    "a CSV or of a folder's labels.csv, e.g. '|' for cat|dog. Never guessed.",
)
key = click.option(
    "--key",
    default=None,
    metavar="NAME",
    help="The labels array of an .npz (default: y, labels or label).",
)
seed = click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed of the random choices (default: a fresh one, printed).",
)
as_json = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON instead of a table."
)
near_duplicates = click.option(
    "--near-duplicates",
    is_flag=True,
    help="Also keep re-encoded and perceptually near-identical images in one split.",
)
strict_images = click.option(
    "--strict-images",
    is_flag=True,
    help="Stop with an error naming the images that cannot be read, instead of skipping them "
    "with a warning (classbalance.layout's rule for unreadable images).",
)
backend = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="Keras backend (default: KERAS_BACKEND, else tensorflow).",
)


def on_unreadable(strict_images: bool) -> str:
    """The library's ``on_unreadable`` for ``--strict-images``."""
    return "error" if strict_images else "skip"


def label_options(command: Any) -> Any:
    """``--label-col``, ``--key``, ``--label-cols`` and ``--label-sep``: where PATH's labels are."""
    for option in (label_sep, label_cols, key, label_col):
        command = option(command)
    return command


def load_keras(backend: str | None) -> Any:
    """Choose the Keras backend (``--backend``), then import Keras with TensorFlow's start-up
    lines kept off the console.

    Process set-up of the command line (environment, file descriptor 2): only commands call
    it, never the library. ``KERAS_BACKEND`` must be set before Keras is first imported; the
    command group imports no framework, so a command's ``--backend`` is always in time.
    TensorFlow is imported first (quietly) whenever it is installed, on every backend:
    ``keras.utils.set_random_seed`` imports it to seed it too, which would otherwise print
    absl's and oneDNN's lines in the middle of a run.
    """
    from classbalance._optional import require
    from classbalance._quiet import import_quietly, import_tensorflow_quietly

    if backend is not None:
        loaded = sys.modules.get("keras")
        if loaded is not None and loaded.backend.backend() != backend:
            raise click.UsageError(
                f"--backend {backend}: Keras is already loaded on the "
                f"{loaded.backend.backend()} backend in this process; a backend is chosen "
                "once, before Keras is imported."
            )
        os.environ["KERAS_BACKEND"] = backend
    import_tensorflow_quietly()
    try:
        return import_quietly("keras")
    except ImportError:
        return require("keras", "classbalance compare")
