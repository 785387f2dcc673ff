# The marketplace, in two commands:
#   make demo   create .venv, install, migrate, load the demo data, serve on http://127.0.0.1:5000
#   make test   create .venv with the test extras and run every test (PYTEST_ARGS=... passes on)
#
# Re-runnable: the virtual environment is (re)installed only when pyproject.toml changed.

PYTHON      ?= python3
VENV        ?= .venv
HOST        ?= 127.0.0.1
PORT        ?= 5000
PYTEST_ARGS ?=
# make test runs the tests in parallel processes (pytest-xdist): one per CPU, at most 4 (each
# migrates its own SQLite template and PostgreSQL database); PYTEST_WORKERS=0: one process
PYTEST_WORKERS ?= auto

BIN   := $(VENV)/bin
FLASK := $(BIN)/flask --app marketplace:create_app
PIP   := $(BIN)/python -m pip --disable-pip-version-check --no-input
DEMO  := MARKETPLACE_MODE=demo

.DEFAULT_GOAL := help
.PHONY: help demo serve seed test venv venv-test demo-reset clean

help:
	@echo "make demo        install, migrate, seed the demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test        run every test, in parallel (make test PYTEST_ARGS='-k sqlite -x' PYTEST_WORKERS=0)"
	@echo "make seed        migrate and load the demo data only"
	@echo "make serve       serve the demo without installing or seeding"
	@echo "make demo-reset  delete the demo database and uploaded pictures (instance/)"
	@echo "make clean       delete .venv and caches"

# ---- virtual environments (stamp files depend on pyproject.toml) -------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0] + " (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-test

# ---- the demo --------------------------------------------------------------------------------

demo: $(VENV)/.installed
	$(DEMO) $(FLASK) db upgrade
	$(DEMO) $(FLASK) seed demo
	$(DEMO) $(FLASK) search reindex
	@echo ""
	@echo "Serving the demo on http://$(HOST):$(PORT)  (Ctrl+C stops it)"
	$(DEMO) $(FLASK) run --host $(HOST) --port $(PORT)

seed: $(VENV)/.installed
	$(DEMO) $(FLASK) db upgrade
	$(DEMO) $(FLASK) seed demo
	$(DEMO) $(FLASK) search reindex

serve: $(VENV)/.installed
	@echo "Serving the demo on http://$(HOST):$(PORT)  (Ctrl+C stops it)"
	$(DEMO) $(FLASK) run --host $(HOST) --port $(PORT)

demo-reset:
	rm -f instance/marketplace.sqlite3 instance/marketplace.sqlite3-wal instance/marketplace.sqlite3-shm
	rm -rf instance/uploads instance/search

# ---- tests -----------------------------------------------------------------------------------

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --maxprocesses=4 --dist loadgroup $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
