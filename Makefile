# authsurge: two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench setup clean help coverage

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# Re-install only when pyproject.toml changes (the stamp is newer otherwise).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) nginx ## create .venv and install authsurge with its dev tools (and Debian's nginx)

# The embedded target's split topology puts Debian's nginx in front of its two pools.
# RUNLEVEL=1: Debian's invoke-rc.d does not start the package's own service on :80.
.PHONY: nginx
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
	  export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1; \
	  apt-get install -y -qq nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }; }

DEMO_ARGS ?=
demo: $(STAMP) nginx ## the seed incident on this machine: measure the target's sign-in capacity, surge to 3x it, say the answer (DEMO_ARGS="--target-workers 4")
	$(BIN)/authsurge demo $(DEMO_ARGS)

test: $(STAMP) nginx ## run the whole test suite (starts and stops real servers on 127.0.0.1)
	$(BIN)/python -m pytest

coverage: $(STAMP) ## the whole suite under coverage: per-module table, coverage.json (not part of make test)
	$(BIN)/python -m pytest --cov --cov-report=term --cov-report=json:coverage.json

lint: $(STAMP) ## ruff (lint + format check, no private access across modules), mypy, import contracts (lint-imports), module sizes and no private imports (tools/check_layout.py)
	$(BIN)/ruff check authsurge tests bench locustfiles analysis scenarios tools
	$(BIN)/ruff format --check authsurge
	$(BIN)/mypy authsurge
	$(BIN)/lint-imports
	$(BIN)/python tools/check_layout.py

bench: $(STAMP) ## run every benchmark under bench/ and print one table (never part of make test)
	$(BIN)/python bench/run_all.py

.PHONY: bench-compare
bench-compare: $(STAMP) ## how often `authsurge compare` cries wolf and what it catches (~25 min of real runs; not in make bench)
	$(BIN)/python bench/bench_compare.py --json bench/results/compare.json

clean: ## remove the virtualenv, runs and caches
	rm -rf $(VENV) runs .authsurge .pytest_cache .ruff_cache .mypy_cache bench/results
