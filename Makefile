# Two commands do all set-up on a fresh machine: `make walkthrough` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The runtime alone for `make walkthrough`; the test tools (and PyTorch, the tests' oracle) for `make test`.
RUNTIME := $(VENV)/.runtime
TOOLS := $(VENV)/.test-tools

.PHONY: install test walkthrough golden clean

install: $(RUNTIME)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(TOOLS): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(RUNTIME) $(TOOLS)

test: $(TOOLS)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

walkthrough: $(RUNTIME)
	$(BIN)/python -m jacobian_bp walkthrough

# Rewrite the golden transcripts after a deliberate change of the output; review the diff by eye.
golden: $(TOOLS)
	$(BIN)/python -m tests.golden

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .hypothesis
