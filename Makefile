# Two commands for a newcomer: `make lab` and `make test`. Both create .venv and install on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
LAB_PORT ?= 8888

# the suite runs with two pytest-xdist workers per core (most end-to-end tests wait on the sandbox's
# Stripe limits, not the CPU: 4 workers on 2 cores take 6 min where 2 took 7.5), a test file's tests
# on one worker; XDIST= runs it in series
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
XDIST ?= -n $(WORKERS) --dist loadfile
PYTEST := $(PY) -m pytest -p no:cacheprovider $(XDIST)

.PHONY: install lab test check lint format bench sandbox clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check 'uv>=0.4,<1'
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

## make lab: JupyterLab on notebooks/ against the embedded sandbox (unless STRIPE_API_KEY is set)
lab: $(STAMP)
	$(PY) -m toolkit lab --port $(LAB_PORT)

## make test: ruff, mypy, then the whole suite (unit, doctests, sandbox, end to end, notebooks, browser)
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@$(PYTEST) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest ran no tests: treated as a failure" >&2; exit 1; fi; exit $$rc

## make check: ruff, mypy and the quick tests (all but those marked slow or browser), for every edit
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@$(PYTEST) -m "not slow and not browser" $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest ran no tests: treated as a failure" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench: every benchmark, then one table of each figure beside its goal (bench/all.py)
bench: $(STAMP)
	$(PY) bench/all.py $(BENCH_ARGS)

sandbox: $(STAMP)
	$(PY) -m toolkit sandbox --port 12111

## refresh the lock after changing dependencies in pyproject.toml
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
