"""Helpers shared by the compare tests (single- and multi-label): the CLI, errors, a tiny model."""

from __future__ import annotations

from click.testing import CliRunner

from classbalance.cli import main


def run(args: list[str]):
    """``classbalance compare ARGS`` in-process; one worker unless ``--jobs`` is given."""
    jobs = [] if "--jobs" in args else ["--jobs", "1"]  # worker start-up costs seconds per test
    return CliRunner().invoke(main, ["compare", *args, *jobs], catch_exceptions=False)


def one_line_error(args: list[str], *matches: str) -> None:
    """The command fails with exactly one line, ``Error: ...``, holding every ``matches``."""
    result = CliRunner().invoke(main, ["compare", *args])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error:"), lines[0]
    for match in matches:
        assert match in lines[0], lines[0]


def tiny_mlp(input_shape, n_outputs):
    """A small Keras MLP with one logit per class or label."""
    import keras

    return keras.Sequential(
        [keras.Input(input_shape), keras.layers.Dense(16, activation="relu"),
         keras.layers.Dense(n_outputs)]
    )  # fmt: skip
