# Everything a newcomer needs: `make demo` and `make test` work on a fresh clone with only
# Python 3.10+, git and make installed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp
BENCH_VENV ?= .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp

.PHONY: install test lint format bench demo docs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,lint]"
	touch $(STAMP)

# the tests of migrate-dvc run the real DVC, from the bench environment (tests/conftest.py, dvc)
test: install $(BENCH_STAMP)
	$(PY) -m pytest -n 2 -q

lint: install
	$(VENV)/bin/ruff check dvlite tests bench
	$(VENV)/bin/ruff format --check dvlite tests bench
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format dvlite tests bench
	$(VENV)/bin/ruff check --fix dvlite tests bench

docs: install
	$(PY) -m dvlite.cli.reference > docs/commands.md

# The demo needs dvlite alone, not the test and lint extras (`make install` has them too).
$(DEMO_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test $(STAMP) -nt pyproject.toml || \
		$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash demo/tour.sh

# DVC is installed into its own virtual environment, beside dvlite, from the bench extra.
$(BENCH_STAMP): pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e ".[bench,test]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) bench/.work .pytest_cache .hypothesis
