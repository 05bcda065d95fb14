"""``classbalance compare`` run as users run it: the installed script in a subprocess."""

from __future__ import annotations

import json

import pytest

from script_helpers import (
    FRAMEWORKS,
    assert_one_line_error,
    run_script,
    run_script_listing_modules,
    script_env,
)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "torch", "jax"])
def test_backend_flag_chooses_the_keras_backend(tmp_path, backend):
    """From a shell without KERAS_BACKEND, `compare --backend B --quick` trains on B, exits 0
    and keeps TensorFlow's start-up lines off the console (about 20 s each)."""
    pytest.importorskip(backend)
    out = tmp_path / "report"
    result = run_script(
        "compare", "--backend", backend, "--quick", "--strategies", "none", "--jobs", "1",
        "--out", out, env=script_env(KERAS_BACKEND=None), timeout=280,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"Keras backend {backend}" in result.stdout
    assert json.loads((out / "results.json").read_text())["backend"] == backend
    assert "absl" not in result.stderr
    assert "oneDNN" not in result.stderr


def test_unknown_backend_is_a_usage_error():
    """An unknown --backend is refused before anything is imported, naming the choices."""
    result = run_script("compare", "--backend", "theano", "--quick")
    line = assert_one_line_error(result, "--backend", "'theano'", code=2)
    for name in ("tensorflow", "torch", "jax"):
        assert name in line


def test_bad_options_fail_before_keras_is_imported():
    """A bad option value of compare is one line, found before any framework is imported."""
    for args, needle in (
        (["--quick", "--strategies", "none,nope"], "Unknown strategies ['nope']"),
        (["--seeds", "0"], "seeds"),
    ):
        result, imported = run_script_listing_modules("compare", *args)
        assert_one_line_error(result, needle)
        assert "classbalance.compare.command" in imported
        assert not FRAMEWORKS & imported
