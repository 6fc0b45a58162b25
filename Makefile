# The two commands the README opens with:
#   make run   - set up, load the bundled directory and run one monitoring pass (SQLite)
#   make test  - set up (servers included) and run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test unit lint setup servers

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,postgres,redis]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/freshness import directory.yaml
	$(VENV)/bin/freshness run

servers:
	bash scripts/install-test-servers

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) servers lint
	$(VENV)/bin/pytest

# The unit tests alone (no crawl through the CLI), on both cores: about 26 s here.
unit: $(STAMP)
	$(VENV)/bin/pytest -m "not e2e" -n 2
