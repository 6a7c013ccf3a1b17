# The commands people need. `make demo` and `make test` work on a fresh clone with Python 3.11.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= .demo/outcomes-demo.db

.PHONY: demo demo-reset test check lint typecheck bench bench-smoke wheel clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)  ## open the dashboard on the demo database (made on first use, then reused)
	@mkdir -p $(dir $(DEMO_DB))
	$(BIN)/outcomes --db $(DEMO_DB) demo

demo-reset: $(STAMP)  ## rebuild the demo database with today's dates, then open it
	@mkdir -p $(dir $(DEMO_DB))
	$(BIN)/outcomes --db $(DEMO_DB) demo --reset

test: $(STAMP)  ## types (src and tui), the architecture contracts, then the whole test suite
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q

check: lint typecheck test

lint: $(STAMP)
	$(BIN)/ruff check src tui tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)  ## the full benchmark run; writes docs/benchmarks.md
	$(BIN)/python -m bench.run

bench-smoke: $(STAMP)
	$(BIN)/python -m bench.run --smoke

wheel: $(STAMP)
	$(BIN)/python -m pip wheel --no-deps -w dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .demo bench/out
