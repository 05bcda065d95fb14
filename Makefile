# Every target creates .venv and installs what it needs; run from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp-installed

.PHONY: demo test test-fast bench lint docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): requirements-test.txt requirements-docs.txt pyproject.toml | $(PY)
	$(PY) -m pip install -q -r requirements-test.txt -r requirements-docs.txt
	$(PY) -m pip install -q --no-deps fastai==2.8.12
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The main job on built-in data (long-tailed digits, no downloads).
demo: $(STAMP)
	$(PY) -m classbalance compare

## The whole test suite: TensorFlow backend, then the backend tests again on PyTorch and JAX,
## then the documentation site (make docs: warnings are errors, the gallery examples run).
## CLASSBALANCE_REQUIRE_PINNED=1: a pinned optional dependency that fails to import fails the run
## (tests/conftest.py) instead of skipping the tests that need it.
test: $(STAMP)
	$(PY) -m ruff check src tests benchmarks examples docs
	CLASSBALANCE_REQUIRE_PINNED=1 KERAS_BACKEND=tensorflow $(PY) -m pytest -q -n 2
	CLASSBALANCE_REQUIRE_PINNED=1 KERAS_BACKEND=torch $(PY) -m pytest -q -n 2 -m backend
	CLASSBALANCE_REQUIRE_PINNED=1 KERAS_BACKEND=jax $(PY) -m pytest -q -n 2 -m backend
	$(MAKE) --no-print-directory docs PY=$(PY)

## Benchmarks: print tables (docs/benchmarks.md has the numbers measured here).
bench: $(STAMP)
	$(PY) benchmarks/bench_batches.py
	$(PY) benchmarks/bench_plan.py
	$(PY) benchmarks/bench_resampling.py
	$(PY) benchmarks/bench_torch.py
	TF_CPP_MIN_LOG_LEVEL=3 $(PY) benchmarks/bench_tf.py 2>/dev/null
	$(PY) benchmarks/bench_streams.py
	$(PY) benchmarks/bench_folders.py --n-files 100000
	$(PY) benchmarks/bench_compare.py
	TF_CPP_MIN_LOG_LEVEL=3 $(PY) benchmarks/bench_compare_cv.py 2>/dev/null
	$(PY) benchmarks/bench_fastai.py
	$(PY) benchmarks/bench_huggingface.py
	$(PY) benchmarks/bench_leakage.py --n-files 100000

## The documentation site, built from scratch into docs/_build/html: warnings are errors (a
## broken cross-reference or a failing gallery example fails the build); open index.html.
docs: $(STAMP)
	rm -rf docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
	KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 $(PY) -m sphinx -b html -W --keep-going -n -q \
		docs docs/_build/html

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks examples docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache docs/_build docs/generated docs/auto_examples \
		docs/sg_execution_times.rst
