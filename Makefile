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

# The main job: until the Arty A7 board build lands, the furthest working step — the bundled default
# model (ProtoNN) built for an Arduino Uno, verified bit for bit in simavr, with its reports.
main: setup
	$(VENV)/bin/hlsfix build --board arduino-uno -o $(OUT)/protonn-uno

test: setup
	$(VENV)/bin/python -m pytest -q

lint: setup
	$(VENV)/bin/ruff check hlsfix tests benchmarks examples
	$(VENV)/bin/ruff format --check hlsfix tests benchmarks examples

bench: setup
	$(VENV)/bin/python benchmarks/bench_explore.py
	$(VENV)/bin/python benchmarks/bench_mcu.py

clean:
	rm -rf $(OUT) .pytest_cache
