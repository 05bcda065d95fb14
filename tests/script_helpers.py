"""Run the installed ``classbalance`` script as users do: a subprocess, its exit code, its text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import classbalance as cb

# The sources under test: the subprocess imports the same classbalance as this test process.
SRC = str(Path(cb.__file__).resolve().parents[1])


def classbalance_script() -> str:
    """The installed console script: next to this Python, else on PATH. Missing is a failure."""
    beside = Path(sys.executable).parent / "classbalance"
    if beside.is_file():
        return str(beside)
    found = shutil.which("classbalance")
    if found is None:
        raise AssertionError(
            f"The `classbalance` console script is not installed (looked in {beside.parent} and "
            "on PATH); install the package (`pip install -e .`) to test the command line."
        )
    return found


def script_env(**overrides: str | None) -> dict[str, str]:
    """The environment of a user's shell: no KERAS_BACKEND or debug switch, 80 columns.

    ``overrides``: a value sets the variable, ``None`` removes it.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "CLASSBALANCE_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join([SRC, *filter(None, [env.get("PYTHONPATH")])])
    env["COLUMNS"] = "80"
    env.pop("LINES", None)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_script(
    *args: object, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``classbalance ARGS...`` in a subprocess, stdout and stderr captured (not a terminal)."""
    return subprocess.run(
        [classbalance_script(), *[str(a) for a in args]],
        capture_output=True,
        text=True,
        env=script_env() if env is None else env,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


_LIST_MODULES = (
    "import atexit, json, runpy, sys\n"
    "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def run_script_listing_modules(
    *args: object, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``classbalance ARGS...`` run by this Python; also returns the modules it had imported
    when it exited (printed as the last line of stderr, which is removed from the result)."""
    result = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES, classbalance_script(), *[str(a) for a in args]],
        capture_output=True,
        text=True,
        env=script_env(),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    *rest, last = result.stderr.splitlines() or [""]
    result.stderr = "".join(line + "\n" for line in rest)
    return result, set(json.loads(last))


FRAMEWORKS = frozenset({"tensorflow", "keras", "torch", "jax"})


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], *needles: str, code: int = 2
) -> str:
    """Exit ``code``; stderr holds exactly one ``Error:`` line containing every needle; no
    traceback. Returns that line."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
