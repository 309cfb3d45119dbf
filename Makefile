# Two commands: `make serve` runs the mock, `make test` runs the whole suite.
# Both create .venv with what they need; only Python 3.10+ and make are required.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 4010
ARGS   ?=

.PHONY: serve test lint clean

serve: $(VENV)/.core
	$(BIN)/capymock serve --port $(PORT) $(ARGS)

test: $(VENV)/.test
	$(BIN)/python -m pytest -n auto $(ARGS)

lint: $(VENV)/.test
	$(BIN)/python -m pip install -q ruff mypy types-PyYAML
	$(BIN)/ruff check capymock tests benchmarks
	$(BIN)/mypy

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.core

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
