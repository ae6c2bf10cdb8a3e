# `make main` and `make test` set everything up on a fresh Debian machine, then run.
VENV   := .venv
PYTHON ?= python3
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: setup main test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-tools.sh
	./scripts/install-system-tools.sh
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@

# The main job: until the Arty A7 board build lands, the furthest working step — the fixed-point
# program of the bundled default model with its reports.
main: setup
	$(VENV)/bin/hlsfix compile protonn --bits 16 -o $(OUT)/protonn

test: setup
	$(VENV)/bin/python -m pytest -q

lint: setup
	$(VENV)/bin/ruff check hlsfix tests benchmarks examples
	$(VENV)/bin/ruff format --check hlsfix tests benchmarks examples

bench: setup
	$(VENV)/bin/python benchmarks/bench_explore.py

clean:
	rm -rf $(OUT) .pytest_cache
