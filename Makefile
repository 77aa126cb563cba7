# riskmodel: the two commands of the README, and a few more.
#   make demo   set up .venv and run the main job on the sample city
#   make test   set up .venv and run the linter and the test suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test setup fonts postgres chromium lint bench sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) fonts

fonts:
	@bash scripts/ensure_cjk_font.sh

# PostgreSQL for the team tracking server's tests (they skip, saying why, without it)
postgres:
	@bash scripts/ensure_postgres.sh

# Debian's Chromium for the workbench's browser tests (they skip, saying why, without it)
chromium:
	@bash scripts/ensure_chromium.sh

demo: setup
	$(BIN)/riskmodel run experiments/sample.toml

test: setup postgres chromium
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports --no-cache

sample: $(STAMP)
	$(BIN)/riskmodel sample --out data/sample --no-track

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@echo "benchmarks live in benchmarks/<package>/; see benchmarks/README.md"

clean:
	rm -rf outputs mlruns.db mlartifacts .pytest_cache
