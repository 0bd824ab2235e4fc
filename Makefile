# OroCert — `make run` sets up and serves the app; `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
STAMP  := $(VENV)/.installed-stamp
# Exact versions with hashes (see README, "Dependencies and the lock files"); `make lock` updates them.
LOCK      := requirements.lock
TEST_LOCK := requirements-test.lock
UV_VERSION := 0.13.9
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --quiet $(if $(UPGRADE),--upgrade,)
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export FLASK_APP := lms
comma := ,
# Links printed on certificates and QR codes point at the address `make run` serves, unless set explicitly.
export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: lock run setup db test test-sqlite test-postgres test-e2e lint bench db-check system-deps clean translations mutation

$(STAMP): pyproject.toml $(LOCK) $(TEST_LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python scripts/check_lock.py
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Re-pin after a change to pyproject.toml. Existing pins are kept unless `make lock UPGRADE=1`.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile pyproject.toml --extra test $(LOCK_FLAGS) -o $(TEST_LOCK)
	$(BIN)/uv pip compile pyproject.toml -c $(TEST_LOCK) $(LOCK_FLAGS) -o $(LOCK)
	@$(BIN)/python scripts/check_lock.py && echo "Locks updated: $(LOCK) $(TEST_LOCK)"

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

# After marking or changing interface text: collect the strings, merge them into each catalogue, compile the .mo files
# (committed, so a fresh checkout runs translated without a build step; a test checks they match the .po files).
translations: setup
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --ignore-dirs ".* __pycache__ node_modules" \
		--no-location --sort-output \
		-o lms/translations/messages.pot .
	$(BIN)/pybabel update -i lms/translations/messages.pot -d lms/translations --no-fuzzy-matching
	$(BIN)/pybabel compile --statistics -d lms/translations

lint: setup
	$(BIN)/ruff check lms tests bench config.py

# Mutation testing of the safety and trust modules listed in mutation/modules.toml (minutes, not part of `make test`).
# MUTATION_ONLY=gate,serials runs some of them; MUTATION_JOBS sets mutmut's parallel workers.
mutation: setup
	$(BIN)/python scripts/mutation.py $(foreach m,$(subst $(comma), ,$(MUTATION_ONLY)),--only $(m))

bench: setup system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
