# specdiff: every developer and CI command in one place.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp

.PHONY: install demo demo-hardened test pytest lint typecheck format bench package-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The vulnerable demo twin: prints findings and exits 1 (the gate fails, as it should).
demo: $(STAMP)
	$(BIN)/specdiff demo

## The hardened twin: no finding, exit 0.
demo-hardened: $(STAMP)
	$(BIN)/specdiff demo --hardened

## Everything CI runs: lint, types, the whole test suite.
test: lint typecheck pytest

pytest: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## specdiff installed as a user would: the wheel in fresh environments, no extras, then the demo
## extra (catches imports that only the development extras happened to install).
package-check:
	$(PYTHON) tests/packaging/fresh_install.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/load_corpus.py
	$(BIN)/python bench/classifier.py
	$(BIN)/python bench/jwt_wordlist.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
