# Two commands do all the set-up on a fresh clone:
#   make test   create .venv, install the package with its test extras, run ruff, mypy and pytest
#   make up     install, then `pulumi up` of the root program (embedded emulator unless credentials are set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit up preview refresh destroy emulator clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

test: lint typecheck unit

up: install
	./scripts/stack up --yes

preview: install
	./scripts/stack preview

refresh: install
	./scripts/stack refresh --yes

destroy: install
	./scripts/stack destroy --yes

emulator: install
	$(BIN)/cfes emulator --state .pulumi/emulator-server.json


clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info provider/*.egg-info
