# The README's two commands: `make demo` and `make test`. Both create/update .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-test lint i18n migration clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	bash scripts/system-packages.sh run
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

demo: install
	bash scripts/system-packages.sh run
	$(BIN)/mlpilot up --demo --host $(HOST) --port $(PORT)

# System packages are checked on every run (cheap when present) so a machine that lost Chromium says so.
test: install-test
	bash scripts/system-packages.sh test
	$(BIN)/ruff check src tests
	$(BIN)/python scripts/typecheck.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/lint-imports

# After changing UI text: extract the marked strings and merge them into the .po files, which are the source
# (new strings arrive untranslated, changed ones fuzzy; translate them in locale/ko/LC_MESSAGES/messages.po).
i18n: install
	$(BIN)/pybabel extract -F babel.cfg --omit-header --no-location --sort-output -o src/mlpilot/locale/messages.pot src/mlpilot
	$(BIN)/pybabel update -i src/mlpilot/locale/messages.pot -d src/mlpilot/locale -D messages -w 110 --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info

# Regenerate the initial migration from the models (allowed only until the first release).
migration: install
	$(BIN)/python scripts/make_initial_migration.py
