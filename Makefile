# policybrief — the README's two commands are `make brief` and `make test`.
# Each creates .venv from pyproject.toml when it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BRIEF  := $(BIN)/brief

.PHONY: brief html docx all check test test-fresh golden bench watch clean lint

brief: $(STAMP)
	$(BRIEF) build --format pdf

html: $(STAMP)
	$(BRIEF) build --format html

docx: $(STAMP)
	$(BRIEF) build --format docx

all: $(STAMP)
	$(BRIEF) build --format pdf,html,docx

check: $(STAMP)
	$(BRIEF) check

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The two commands on a bare Debian 12 (debootstrap), with only the README's packages.
# Needs root and network; not part of `make test`. FRESH_ROOT= chooses where.
test-fresh:
	tools/fresh-machine.sh $(FRESH_ROOT)

golden: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_assembly.py --update-golden

bench: $(STAMP)
	$(BIN)/python bench/run.py

watch: $(STAMP)
	$(BRIEF) watch

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

clean:
	rm -rf build

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)
