# Two commands do all set-up on a fresh machine: `make walkthrough` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test walkthrough golden clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

walkthrough: $(STAMP)
	$(BIN)/python -m jacobian_bp walkthrough

# Rewrite the golden transcripts after a deliberate change of the output; review the diff by eye.
golden: $(STAMP)
	$(BIN)/python -m tests.golden

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .hypothesis
