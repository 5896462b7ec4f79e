# Athar: one Makefile for setup, demo, tests, lint and benchmarks.
# Every install step lives here, so a fresh clone needs nothing done by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo-output
DEMO_PERSONS ?= 3000
BENCH ?= all

.PHONY: demo test lint format bench clean venv translations chromium

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

test: $(STAMP) lint chromium
	bash scripts/ensure-postgres.sh
	$(BIN)/python -m pytest

bench: $(STAMP)
	bash scripts/ensure-postgres.sh
	$(BIN)/python -m bench $(BENCH)

# Headless Chromium for the Playwright browser tests (Debian's package; installed only once).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }
	@test -x /usr/bin/chromium || { echo "chromium could not be installed" >&2; exit 1; }

# Web app catalogues: re-extract messages, merge them into each .po, compile the .mo files
# (the .mo files are committed; tests/test_web_i18n.py fails when they are stale).
TRANSLATIONS := src/athar/web/translations
translations: $(STAMP)
	$(BIN)/pybabel extract -F src/athar/web/babel.cfg -k N_ --no-location --sort-output \
	  --project=Athar --copyright-holder="Athar developers" -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

clean:
	rm -rf $(VENV) $(DEMO_DIR) athar.db .pytest_cache .mypy_cache .ruff_cache
