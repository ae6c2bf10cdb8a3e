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

# The main job: the bundled default model (ProtoNN) built for the Arty A7 — the Vivado project, the
# resource fit, cycles and bit-exactness from cocotb, the speedup over the Uno, and the reports.
main: setup
	$(VENV)/bin/hlsfix build --board arty-a7 -o $(OUT)/protonn-arty

# two workers (pytest-xdist): most of the suite is Python (Amaranth, simulation drivers) on one core.
# One test at a time to whichever worker is free, the tests marked slow first (tests/conftest.py):
# longest-first, so that the last minutes are short tests on both workers, not one long test alone
test: setup
	$(VENV)/bin/python -m pytest -q -n 2 --dist load --maxschedchunk 1 --durations=15

lint: setup
	$(VENV)/bin/ruff check hlsfix tests benchmarks examples
	$(VENV)/bin/ruff format --check hlsfix tests benchmarks examples

bench: setup
	$(VENV)/bin/python benchmarks/bench_explore.py
	$(VENV)/bin/python benchmarks/bench_mcu.py

clean:
	rm -rf $(OUT) .pytest_cache
