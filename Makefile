# Two commands: `make serve` runs the mock, `make test` runs the whole suite.
# Both create .venv with what they need; only Python 3.11+ and make are required.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 4010
ARGS   ?=

.PHONY: serve test lint bench mutants mutate wheel granian-latest clean

serve: $(VENV)/.core
	CAPYMOCK_PORT_HINT="make serve PORT=0" $(BIN)/capymock serve --port $(PORT) $(ARGS)

test: $(VENV)/.test
	$(BIN)/python -m pytest -n auto $(ARGS)

lint: $(VENV)/.test
	$(BIN)/python -m pip install -q ruff mypy types-PyYAML
	$(BIN)/ruff check capymock tests benchmarks
	$(BIN)/mypy

# Peer benchmarks (benchmarks/peers.py, ~5 min; ARGS=--quick for a smoke run), written to
# benchmarks/results/latest.{md,png,json}. Installs its tools: Python packages into .venv, wrk
# (apt, as root; else a Python load generator stands in), Prism and WireMock (npm, into
# benchmarks/node_modules). A peer whose runtime is missing is skipped. Not part of test or CI.
bench: $(VENV)/.core
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt \
	  || echo "bench: pip install failed; servers that need a missing package are skipped"
	@command -v wrk >/dev/null \
	  || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
	  || echo "bench: wrk could not be installed; the Python load generator stands in"
	@if command -v npm >/dev/null; then \
	  npm install --prefix benchmarks --no-audit --no-fund --silent \
	    || echo "bench: npm install failed; Prism and WireMock are skipped"; \
	else echo "bench: npm is missing; Prism and WireMock are skipped"; fi
	$(BIN)/python benchmarks/peers.py $(ARGS)

# Kill rate of `capymock contract` on single-defect mutants of tests/reference/server.py, and
# no false alarm on the reference or on `capymock serve --speed 20` running each bundled
# scenario, at seeds 1, 2 and 3 (benchmarks/mutants.py, ~15 min on 2 quiet cores, 46 min on a
# shared one; ARGS="--seeds 1" for one seed, ARGS="--sample 20" or ARGS=--conformant-only for a
# quick run), written to benchmarks/results/mutants.md. Exit 0 only if every observable defect
# is killed at every seed and nothing conformant is flagged.
mutants: $(VENV)/.test
	$(BIN)/python benchmarks/mutants.py $(ARGS)

# The tests that serve over granian, against the newest granian the index offers, in a venv of
# its own (.venv-granian-latest). capymock sets no ceiling on granian but drives its internal
# worker API: this says whether a new granian passes the self-test and serves, or falls back.
LATEST_VENV := .venv-granian-latest
SERVING_TESTS := tests/test_granian_fallback.py tests/test_serve.py tests/test_cli_serve.py \
  tests/test_served.py tests/test_cli.py tests/test_sessions.py tests/adversarial/test_security.py \
  tests/test_clock_control.py

granian-latest:
	test -x $(LATEST_VENV)/bin/python || $(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install -q -e '.[test]'
	$(LATEST_VENV)/bin/python -m pip install -q -U granian
	@$(LATEST_VENV)/bin/python -c "from importlib.metadata import version; print('granian', version('granian'))"
	$(LATEST_VENV)/bin/python -m pytest -n auto -p no:cacheprovider $(SERVING_TESTS) $(ARGS)

# Mutation score of the core: mutmut over capymock/core/ with the fast tests named in
# pyproject.toml's [tool.mutmut] (~7 min on 2 idle cores; ARGS="--max-children 1" to use one), a
# fresh run each time. benchmarks/mutate.py prints killed / survived / timeout / equivalent
# (benchmarks/mutate_equivalent.txt) per module to benchmarks/results/mutate.md; exit 0 only
# if at least 95 % of the non-equivalent mutants are killed. A mutant that loops is stopped by
# CPU time (timeout_multiplier) or, if it grows a list, by the 4 GB address-space limit. Not
# part of test or CI.
mutate: $(VENV)/.test
	$(BIN)/python -m pip install -q 'mutmut==3.8.1'
	rm -rf mutants
	ulimit -v 4194304 && $(BIN)/mutmut run --max-children 2 $(ARGS) > /dev/null
	$(BIN)/python benchmarks/mutate.py

# A wheel to install without a clone: dist/capymock-<version>-py3-none-any.whl
wheel: $(VENV)/.core
	$(BIN)/python -m pip wheel -q --no-deps -w dist .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.core

clean:
	rm -rf $(VENV) $(LATEST_VENV) build dist .pytest_cache .hypothesis
