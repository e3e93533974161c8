# renshe: the two commands a new user needs are `make up` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DATA ?= .data
INFRA ?= embedded
PYTEST_ARGS ?=
DEMO ?=
BENCH_ARGS ?=

.PHONY: help install up down demo test test-unit test-integration test-e2e test-faults bench lint contracts clean browser

help:
	@echo "make up          start the whole platform locally (writes $(DATA)/stack.env)"
	@echo "make demo        make up, then load a synthetic county of 20,000 persons (same as make up DEMO=1)"
	@echo "make down        stop everything make up started"
	@echo "make test        lint, unit, contract, integration, end-to-end, abuse and fault tests (what CI runs);"
	@echo "                 MARKERS='not slow_fault' skips the two slowest faults, MARKERS='not faults' all of them"
	@echo "make bench       benchmarks against their limits (not in CI); BENCH_ARGS=--quick for about 3 minutes"
	@echo "make lint        ruff + mypy"
	@echo "make contracts   regenerate JSON Schemas, the AsyncAPI document and KafkaTopic manifests"

# The virtualenv is rebuilt whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python venv module missing; installing python3-venv"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev,local]'
	@touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/renshe stack up --data-dir $(DATA) $(if $(filter 1 yes true,$(DEMO)),--demo,)

demo: $(STAMP)
	$(MAKE) up DEMO=1

down: $(STAMP)
	$(BIN)/renshe stack down --data-dir $(DATA)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy contracts services

contracts: $(STAMP)
	$(BIN)/renshe contracts

# The whole fault suite (tests/faults) is in it. Locally, MARKERS="not slow_fault" skips its two slowest tests (the
# paused worker and the poison message, about two minutes together) and MARKERS="not faults" every fault (a stack
# per fault under load).
MARKERS ?=
test: lint browser
	RENSHE_TEST_INFRA=$(INFRA) $(BIN)/pytest -q -ra $(if $(MARKERS),-m "$(MARKERS)",) $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit tests/contract $(PYTEST_ARGS)

test-integration: $(STAMP)
	RENSHE_TEST_INFRA=$(INFRA) $(BIN)/pytest -q tests/integration $(PYTEST_ARGS)

test-e2e: $(STAMP) browser
	$(BIN)/pytest -q tests/e2e $(PYTEST_ARGS)

# The whole fault suite, slow faults included (a stack per fault under load; figures in test-output/faults.md).
test-faults: $(STAMP)
	$(BIN)/pytest -q -s -m faults tests/faults $(PYTEST_ARGS)

# Niced: on a shared machine the benchmarks slow the others less, and each limit is measured niced too.
bench: $(STAMP)
	nice -n 10 $(BIN)/python -m bench $(BENCH_ARGS)

clean: down
	rm -rf $(DATA) $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The dashboard test drives Debian's chromium headless (no browser download); a CJK font makes its
# screenshot legible. Installed only when missing (we run as root; CI machines start bare).
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "installing chromium and a Chinese font for the dashboard test"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; } \
	  || echo "could not install chromium: the dashboard test will be skipped"; }
