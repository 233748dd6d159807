# Wholecare. Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432
STAMP := $(VENV)/.installed
STATIC_STAMP := src/wholecare/web/static/vendor/.built
export CHROMIUM_PATH ?= /usr/bin/chromium

.PHONY: run test test-sqlite test-postgres lint bench install static system-packages clean

install: $(STAMP) $(STATIC_STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || PYTHON=python3
	test -d $(VENV) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

$(STATIC_STAMP): package.json package-lock.json scripts/build_static.py
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/build_static.py
	touch $@

static: $(STATIC_STAMP)

# Debian packages the browser tests and Spark need, installed only when missing.
system-packages:
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(BIN)/wholecare demo --if-empty
	$(BIN)/wholecare serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(BIN)/mypy src tests benchmarks scripts
	$(BIN)/wholecare makemigrations --check --dry-run

# The SQLite and PostgreSQL runs go side by side, one a core: each is one Python process, and each
# has its own database and var directory. Each line says which run printed it.
test: install system-packages lint
	$(MAKE) --no-print-directory -j2 test-sqlite test-postgres TAGGED=1

# `TAGGED=1` starts each line of a run's output with the run's name, as it is printed.
tagged = $(if $(TAGGED),2>&1 | sed -u 's/^/[$(1)] /')

test-sqlite: install
	set -o pipefail; WHOLECARE_VAR_DIR=$$(mktemp -d) $(BIN)/pytest -p no:cacheprovider $(call tagged,sqlite)

# The database-backed tests again on PostgreSQL, in a throwaway database, when a server answers.
test-postgres: install
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		db=wholecare_test_$$$$; \
		set -o pipefail; DATABASE_URL=$(PG_URL)/$$db WHOLECARE_VAR_DIR=$$(mktemp -d) $(BIN)/pytest -p no:cacheprovider -m "not spark" tests/app tests/browser $(call tagged,postgresql); \
	else \
		echo "PostgreSQL does not answer at 127.0.0.1:5432: skipping the PostgreSQL run"; \
		if [ -n "$$CI" ]; then exit 1; fi; \
	fi

bench: install system-packages
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) node_modules src/wholecare/web/static/vendor var
