# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# An unset APP_ENV means production, which refuses to start without production settings;
# `make run` and `make migrate` are for this machine, so they say development (unless told).
FLASK := APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app app
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# `make run PORT=8000`: absolute links (emails, .ics, canonical) follow unless SITE_URL is set.
PORT ?= 5000

.PHONY: run stack install install-dev migrate test test-sqlite test-postgres test-stack test-services bench bench-stack lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

run: migrate
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The production stack on this machine, in the foreground: nginx (HTTPS on
# STACK_HTTPS_PORT, 8443), two app servers, two outbox workers. Ctrl-C stops it all.
stack: install-dev
	VENV=$(VENV) bash scripts/stack

# The whole suite on SQLite, then again on PostgreSQL (required when CI=true), then the
# stack tests once: through nginx, against the stack `make stack` starts.
test: install-dev test-services test-sqlite test-postgres test-stack

test-services:
	bash scripts/ensure-test-services

# Two pytest workers (pytest-xdist) on the 2-core machines this runs on: each worker has its
# own PostgreSQL schema and Redis database. `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 2

test-sqlite: install-dev
	TEST_DATABASE_URL= $(BIN)/python -m pytest --ignore=tests/stack -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-postgres: install-dev
	@if bash scripts/postgres-ready; then \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest --ignore=tests/stack -n $(TEST_WORKERS) $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL is required in CI but is not reachable on 127.0.0.1:5432" >&2; exit 1; \
	else \
	  echo "*** PostgreSQL not reachable: the PostgreSQL run was NOT done (it is required in CI)" >&2; \
	fi

# Needs nginx, PostgreSQL and Redis (test-services provides them).
test-stack: install-dev
	@if bash scripts/postgres-ready; then \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest tests/stack $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL is required in CI but is not reachable on 127.0.0.1:5432" >&2; exit 1; \
	else \
	  echo "*** PostgreSQL not reachable: the stack tests were NOT run (they are in CI)" >&2; \
	fi

# Every figure of issue 11 beside its reference (bench/README.md says how to read them).
# Needs PostgreSQL, Redis and nginx (test-services) and wrk (the bench installs it).
bench: install-dev test-services
	$(BIN)/python -m bench

# Requests per second through nginx against the stack (needs what test-stack needs, and wrk).
bench-stack: install-dev
	$(BIN)/python -m bench.stack

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
