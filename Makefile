# 存客宝 — the two commands a newcomer needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test services bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

# Set up and start on the embedded defaults: SQLite under var/, no Redis, demo data.
run: install
	$(BIN)/cunkebao init --demo
	$(BIN)/cunkebao serve --host $(HOST) --port $(PORT) --simulate 3

# Set up and run the whole suite: SQLite, then storage/engine again on a real PostgreSQL,
# Redis tests on a real Redis, page tests in Debian's Chromium (installed when missing).
test: install-test
	bash tests/support/ensure_system_packages.sh
	bash tests/support/run_suite.sh

bench: install-test
	$(BIN)/python bench/ingest.py

clean:
	rm -rf var/test-services .pytest_cache
