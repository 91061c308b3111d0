# Two commands do all the set-up on a fresh clone:
#   make test   create .venv, install the package with its test extras, run ruff, mypy and pytest
#   make up     check for the Pulumi CLI, install the package alone, then `pulumi up` of the root program
#               (embedded emulator unless Cloudflare credentials are set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime
EMULATOR_STATE := .pulumi/emulator.json

.PHONY: install runtime test lint typecheck unit up preview refresh destroy emulator bench pulumi-cli clean

# The package with its test extras: what `make test` needs.
install: $(STAMP)

# The package alone, as `pip install pulumi-cloudflare-email-security` gives it: what `make up` needs.
runtime: $(RUNTIME_STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $(RUNTIME_STAMP)

$(RUNTIME_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

test: lint typecheck unit

# Fails before anything is installed when there is no `pulumi` binary, saying how to get one.
pulumi-cli:
	@./scripts/stack --check-cli

up preview refresh destroy: pulumi-cli
	@$(MAKE) --no-print-directory runtime
	./scripts/stack $@ $(if $(filter preview,$@),,--yes)

# The same state file as the embedded emulator of `make up`: serve it to see (or change) what `up` made.
emulator: runtime
	mkdir -p $(dir $(EMULATOR_STATE))
	$(BIN)/cfes emulator --state $(EMULATOR_STATE)

bench: runtime
	$(BIN)/python bench/emulator_round_trip.py
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info provider/*.egg-info
