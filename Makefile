# Athar: one Makefile for setup, demo, tests, lint and benchmarks.
# Every install step lives here, so a fresh clone needs nothing done by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo-output
DEMO_PERSONS ?= 3000
BENCH ?= all

.PHONY: demo test lint format bench clean venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip setuptools wheel
	$(BIN)/pip install -q -e '.[test,bench,spark]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	ATHAR_DEMO_DIR=$(DEMO_DIR) DEMO_PERSONS=$(DEMO_PERSONS) bash scripts/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

test: $(STAMP) lint
	bash scripts/ensure-postgres.sh
	$(BIN)/python -m pytest

bench: $(STAMP)
	bash scripts/ensure-postgres.sh
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) $(DEMO_DIR) athar.db .pytest_cache .mypy_cache .ruff_cache
