# Phiếu Kín: `make demo` serves the sample round, `make test` runs the whole suite.
# Both work from a fresh clone on a machine with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo serve test lint fmt typecheck pytest lock clean browser-deps messages bench-deps bench-cast
# Compiled catalogues are build output (not in git): remade whenever their .po changes.
MO := app/locale/vi/LC_MESSAGES/messages.mo app/locale/en/LC_MESSAGES/messages.mo

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# axe-core (npm registry, pinned by the lock file) for the browser tests' accessibility
# checks; the tests inject it into the page, it is never served. Without npm the checks
# are skipped, and the test suite says so.
AXE_DIR := tests/web/axe
AXE     := $(AXE_DIR)/node_modules/axe-core/axe.min.js

$(AXE): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix $(AXE_DIR) --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else \
	  echo "== npm is not installed: the accessibility checks (axe-core) will be skipped"; \
	fi

browser-deps: $(AXE) ## Install axe-core for the browser tests (needs npm)

app/locale/%/LC_MESSAGES/messages.mo: app/locale/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/python -m app.i18n_catalog compile

install: $(STAMP) $(MO) browser-deps ## Create .venv and install the project with test tools

messages: $(STAMP) ## Extract marked strings into the .po catalogues (then translate them)
	$(BIN)/python -m app.i18n_catalog extract
	$(BIN)/python -m app.i18n_catalog compile

demo: $(STAMP) $(MO) ## Load the Long Biên sample into ./phieukin.db and serve http://127.0.0.1:8000
	$(BIN)/phieukin demo
	$(BIN)/phieukin serve --host 127.0.0.1 --port 8000

serve: $(STAMP) $(MO) ## Serve without loading anything
	$(BIN)/phieukin serve

lint: $(STAMP) ## ruff (lint rules and formatting) over everything
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP) ## Format and apply ruff's safe fixes (then `make lint` says what is left)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP) ## mypy --strict over the kit, the domain and the web edge
	$(BIN)/mypy --strict crypto ballots app

pytest: $(STAMP) $(MO) browser-deps ## The test suite only (PYTEST_ARGS to narrow it)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck $(STAMP) $(MO) browser-deps ## Everything CI checks; prints the coverage
	$(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS)

lock: ## Rewrite constraints.txt from a fresh resolve
	rm -rf /tmp/phieukin-lock && $(PYTHON) -m venv /tmp/phieukin-lock
	/tmp/phieukin-lock/bin/pip install --quiet -e '.[test]'
	/tmp/phieukin-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

bench-deps: $(STAMP) ## Install what bench/ needs: wrk, pgbench (Debian wrk, postgresql), py-spy
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	@command -v pgbench >/dev/null 2>&1 || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)
	@command -v taskset >/dev/null 2>&1 || echo "taskset (util-linux) missing: the open-loop generator runs unpinned"
	@test -x $(BIN)/py-spy || $(BIN)/pip install --quiet py-spy  # the server's profile; optional

bench-cast: bench-deps ## The casting benchmark on PostgreSQL (docs/PERFORMANCE.md); not part of make test
	$(BIN)/python bench/bench_cast.py

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(AXE_DIR)/node_modules
