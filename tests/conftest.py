"""Shared fixtures. Keras tests run on the backend named by KERAS_BACKEND (default TensorFlow)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")

# Optional modules pinned in requirements-test.txt. Tests that need one skip without it (a
# partial install may run the core suite), but under CI or `make test` a pinned module that
# fails to import fails the run: a broken install must not pass as skipped tests.
# Add a module here when requirements-test.txt pins its package.
PINNED_OPTIONAL_MODULES = [
    "tensorflow",
    "keras",
    "torch",
    "torchdata",
    "webdataset",
    "jax",
    "matplotlib",
    "PIL",
    "imblearn",
    "iterstrat",
    "h5py",
    "distributed",
    "fastai",
    "imagehash",
    "transformers",
    "accelerate",
    "datasets",
    "lightning",
    "hypothesis",
    "xdist",
    "pytest_timeout",
    "sybil",
]
SLOW_TIMEOUT = 300  # seconds, for tests marked slow (pyproject sets the default timeout)


def _require_pinned() -> bool:
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("CLASSBALANCE_REQUIRE_PINNED") == "1"


def pytest_sessionstart(session):
    if not _require_pinned() or hasattr(session.config, "workerinput"):
        return  # checked once, in the main process (not in each xdist worker)
    from classbalance._quiet import import_quietly  # TensorFlow's start-up lines stay off

    broken = []
    for name in PINNED_OPTIONAL_MODULES:
        try:
            import_quietly(name)
        except Exception as exc:  # ImportError, or a binary that fails to load
            broken.append(f"{name} ({type(exc).__name__}: {exc})")
    if broken:
        pytest.exit(
            "Pinned optional modules fail to import: " + "; ".join(broken) + ". Install "
            "requirements-test.txt (make test does); without CI or CLASSBALANCE_REQUIRE_PINNED=1 "
            "the tests that need them are skipped instead.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


# Test directories with no `backend`-marked test whose imports are heavy (transformers,
# lightning): the `-m backend` passes of `make test` (torch, jax) do not even import them.
NO_BACKEND_TEST_DIRS = ("huggingface", "lightning")


def pytest_ignore_collect(collection_path, config):
    if config.getoption("markexpr", "") == "backend" and collection_path.is_dir():
        here = collection_path.parent == Path(__file__).parent
        if here and collection_path.name in NO_BACKEND_TEST_DIRS:
            return True
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


def long_tailed_labels(n_classes: int = 5, head: int = 200, ratio: float = 50.0) -> np.ndarray:
    """Class c has head * ratio**(-c/(K-1)) samples (exponential profile), shuffled."""
    counts = np.maximum(1, np.round(head * ratio ** (-np.arange(n_classes) / (n_classes - 1))))
    y = np.repeat(np.arange(n_classes), counts.astype(int))
    return np.random.default_rng(123).permutation(y)


@pytest.fixture
def y_long_tail() -> np.ndarray:
    return long_tailed_labels()
