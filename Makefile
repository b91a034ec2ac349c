# Two commands do all set-up on a fresh machine: `make walkthrough` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The runtime alone for `make walkthrough`; the test tools (and PyTorch, the tests' oracle) for `make test`.
RUNTIME := $(VENV)/.runtime
TOOLS := $(VENV)/.test-tools

.PHONY: install test fuzz walkthrough golden clean

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

# The fuzz test of hostile input at length: thousands of mutated walkthroughs and answer files
# (`make test` runs a hundred); the statistics show how often each outcome came up.
FUZZ_EXAMPLES ?= 5000
fuzz: $(TOOLS)
	JACOBIAN_BP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest --hypothesis-show-statistics \
		tests/test_hostile.py::test_fuzz_mutated_files_end_in_a_verdict_or_one_line

walkthrough: $(RUNTIME)
	$(BIN)/python -m jacobian_bp walkthrough

# Rewrite the golden transcripts after a deliberate change of the output; review the diff by eye.
golden: $(TOOLS)
	$(BIN)/python -m tests.golden

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .hypothesis
