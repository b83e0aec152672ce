# office: `make run` serves the demo at http://127.0.0.1:5000, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app office
# The suite runs on SQLite, then on PostgreSQL; Redis/RQ tests use a real Redis.
export OFFICE_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export OFFICE_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install system-deps translations run serve worker test test-sqlite test-postgres acceptance lint bench bench-pages clean

install: system-deps $(VENV)/.installed translations

system-deps:
	@bash scripts/install-system-deps.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

translations: $(VENV)/.installed
	@$(BIN)/pybabel compile -q -d office/translations 2>/dev/null || $(BIN)/pybabel compile -d office/translations >/dev/null

run: install
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

worker: install
	$(FLASK) worker

test: install test-sqlite test-postgres

test-sqlite:
	$(BIN)/pytest -q

test-postgres:
	OFFICE_TEST_BACKEND=postgres $(BIN)/pytest -q -m "not browser"

# Load: a fresh PostgreSQL database with the demo province, gunicorn, 2 RQ workers, a throwaway Redis;
# 50 simulated users arrive and sign in over 20 s, then work for 60 s (the measured window); fails on
# any error, prints the window's p95 and the sign-ins' apart. (The fault tests run in test-postgres.)
ACCEPTANCE_USERS ?= 50
ACCEPTANCE_SECONDS ?= 60
ACCEPTANCE_ARRIVAL_SECONDS ?= 20
acceptance: install
	timeout 900 $(BIN)/python -m bench.acceptance --users $(ACCEPTANCE_USERS) --seconds $(ACCEPTANCE_SECONDS) \
		--arrival-seconds $(ACCEPTANCE_ARRIVAL_SECONDS)

lint: install
	$(BIN)/ruff check office tests bench

bench: install
	$(BIN)/python -m bench

# Only the ten main pages next to their floors, at 1x and 4x of the default data (about 12 minutes).
bench-pages: install
	$(BIN)/python -m bench --pages-only

clean:
	rm -rf $(VENV) instance .pytest_cache .test-report
