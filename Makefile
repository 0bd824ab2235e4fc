# OroCert — `make run` sets up and serves the app; `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
STAMP  := $(VENV)/.installed-stamp
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export FLASK_APP := lms
# Links printed on certificates and QR codes point at the address `make run` serves, unless set explicitly.
export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run setup db test test-sqlite test-postgres test-e2e lint bench db-check system-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

db: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask courses load
	$(BIN)/flask seed-demo

run: db
	@echo "OroCert is starting on http://127.0.0.1:$(PORT) (Ctrl-C stops it)"
	@if [ -z "$$MAIL_SERVER" ]; then echo "No MAIL_SERVER set: emails are written as .eml files to instance/outbox/"; else echo "Email goes to $$MAIL_SERVER:$${MAIL_PORT:-25}"; fi
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: setup system-deps
	@bash scripts/run-tests.sh

test-sqlite: setup
	$(BIN)/python -m pytest -q

test-postgres: setup
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -q -m "not sqlite_only" --ignore=tests/unit

db-check: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask db check

lint: setup
	$(BIN)/ruff check lms tests bench config.py

bench: setup system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
