"""The ``classbalance`` command group: lazily imported commands, one-line errors, process set-up."""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from classbalance import __version__

__all__ = ["COMMANDS", "main"]

# name -> "module:attribute" of a click.Command, imported when the command runs (or when
# --help lists it), so one command's imports (Keras, matplotlib, Pillow) never slow another.
COMMANDS: dict[str, str] = {
    "inspect": "classbalance.cli.inspect:inspect",
    "split": "classbalance.cli.split:split",
    "oversample": "classbalance.cli.oversample:oversample",
    "weights": "classbalance.cli.weights:weights",
    "leakage": "classbalance.cli.leakage:leakage",
    "compare": "classbalance.compare.command:compare",
}

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """A click group with lazily imported commands and one-line errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        module_name, _, attr = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
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
            raise CommandError(f"{type(exc).__name__}: {text}") from None


class CommandError(click.ClickException):
    """A command stopped on bad input: exit status 2, as for a usage error.

    Status 1 stays free for a verdict (``leakage``: an image sits in two splits), as
    ``grep`` and ``diff`` keep 1 for a finding and 2 for trouble.
    """

    exit_code = 2


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


def _set_up_process() -> None:
    """The command line's own process set-up (library calls never change the environment).

    TensorFlow configures its C++ logging from the environment once, when it is imported
    (by ``compare``, or by Keras); a user's own setting wins.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


@click.group(cls=_Group, context_settings=_CONTEXT)
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(version=__version__, prog_name="classbalance")
def main(debug: bool) -> None:
    """classbalance: inspect, split and rebalance class-imbalanced datasets."""
    _set_up_process()
