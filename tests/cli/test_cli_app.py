"""The command group and its entry points: the installed script, ``python -m``, registration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomllib
from click.testing import CliRunner

import classbalance as cb
from classbalance import cli
from script_helpers import SRC, assert_one_line_error, run_script, script_env

COMMANDS = ("compare", "inspect", "leakage", "oversample", "split", "weights")


def test_help_lists_every_command():
    """`classbalance --help` lists every command with its summary."""
    result = run_script("--help")
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert f"  {command} " in result.stdout


def test_version():
    """--version prints the package version."""
    result = run_script("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"classbalance, version {cb.__version__}"


def test_unknown_command_is_a_usage_error():
    """A mistyped command exits 2 naming it."""
    assert_one_line_error(run_script("inpsect", "."), "No such command 'inpsect'", code=2)


def test_python_m(tmp_path):
    """`python -m classbalance` runs the same CLI; errors exit 1 without a traceback."""
    ok = subprocess.run(
        [sys.executable, "-m", "classbalance", "--help"],
        capture_output=True,
        text=True,
        env=script_env(),
        check=False,
    )
    assert ok.returncode == 0
    for command in COMMANDS:
        assert command in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "classbalance", "inspect", str(tmp_path)],
        capture_output=True,
        text=True,
        env=script_env(),
        check=False,
    )
    assert bad.returncode == 2  # bad input; 1 is a verdict (leakage found)
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("Error: ValueError")


def test_console_script_declared():
    """pyproject declares the `classbalance` console script at cli:main."""
    scripts = tomllib.loads((Path(SRC).parent / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["classbalance"] == "classbalance.cli:main"
    assert callable(cli.main)


def test_importing_the_cli_changes_no_environment():
    """Importing the command line (and compare's command) sets no environment variable: the
    process set-up happens when the command line runs."""
    code = (
        "import os; before = dict(os.environ)\n"
        "import classbalance.cli, classbalance.cli.options, classbalance.compare.command\n"
        "print(sorted(set(os.environ.items()) ^ set(before.items())))\n"
    )
    env = script_env(TF_CPP_MIN_LOG_LEVEL=None, GRPC_VERBOSITY=None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_lazy_command_registration(tmp_path, monkeypatch):
    """A command in another module registers through COMMANDS and is imported on use
    (in-process: the registry is an internal)."""
    (tmp_path / "cb_extra_cmd.py").write_text(
        "import click\n@click.command()\ndef hello():\n    'Say hi.'\n    click.echo('hi')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "hello", "cb_extra_cmd:hello")
    assert "cb_extra_cmd" not in sys.modules
    assert "hello" in CliRunner().invoke(cli.main, ["--help"]).stdout
    result = CliRunner().invoke(cli.main, ["hello"])
    assert result.exit_code == 0
    assert result.stdout == "hi\n"
