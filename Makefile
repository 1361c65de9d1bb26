# specdiff: every developer and CI command in one place.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp

.PHONY: install express demo demo-hardened test pytest lint typecheck format bench recall package-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The Express target of tests/stacks, at the versions package-lock.json pins (needs npm).
EXPRESS = tests/stacks/express
express: $(EXPRESS)/node_modules/.package-lock.json

$(EXPRESS)/node_modules/.package-lock.json: $(EXPRESS)/package-lock.json
	cd $(EXPRESS) && npm ci --no-audit --no-fund --loglevel=error

## The vulnerable demo twin: prints findings and exits 1 (the gate fails, as it should).
demo: $(STAMP)
	$(BIN)/specdiff demo

## The hardened twin: no finding, exit 0.
demo-hardened: $(STAMP)
	$(BIN)/specdiff demo --hardened

## Everything CI runs: lint, types, the whole test suite.
test: lint typecheck pytest

# the Express target too where npm is installed (without it those tests skip and say why)
pytest: $(STAMP) $(if $(shell command -v npm),express)
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

## Recall and precision on the FastAPI and Express targets (tests/stacks).
recall: $(STAMP)
	$(BIN)/python bench/recall.py --verbose

bench: $(STAMP)
	$(BIN)/python bench/load_corpus.py
	$(BIN)/python bench/classifier.py
	$(BIN)/python bench/jwt_wordlist.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info $(EXPRESS)/node_modules
