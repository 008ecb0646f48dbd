# 小微企业专项行动门户 — two commands: `make run` (embedded default) and `make test` (the real stack).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The test stack: PostgreSQL on this machine unless the caller says otherwise (pytest creates a test database
# of the run's own beside it, tests/conftest.py), and a private redis-server started for the run
# (tests/private_stack.py) unless REDIS_URL names one: two runs on one machine share nothing they change.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_REDIS_URL ?=
# The bench flushes and refills its own database (bench/README.md); its broker messages go to their own Redis db.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: setup run serve test lint bench messages clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

# Embedded default: SQLite under var/, runserver and one Celery worker (with its beat) over a file broker under
# var/celery (portal/processes.py EMBEDDED): long jobs run in the background here too. No PostgreSQL or Redis.
# The demo world is the 2022 campaign: its clock stands at DEMO_TODAY (portal/clock.py), the 2022年12月 sheet
# under review; `make run DEMO_TODAY=` runs on the real date.
DEMO_TODAY ?= 2023-01-10
run: setup
	mkdir -p var
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL DEBUG=$${DEBUG:-1} DEMO_TODAY=$(DEMO_TODAY) $(PY) manage.py migrate --noinput -v 0
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL DEBUG=$${DEBUG:-1} DEMO_TODAY=$(DEMO_TODAY) $(PY) manage.py loaddemo
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL DEBUG=$${DEBUG:-1} DEMO_TODAY=$(DEMO_TODAY) $(PY) -m portal.processes run-embedded

# Production-like: gunicorn + Celery worker + beat against DATABASE_URL / REDIS_URL.
# docker-compose.yml runs exactly these commands (see portal/processes.py and tests/portal/test_compose.py).
# Two database roles: migrations run as the tables' owner (MIGRATION_DATABASE_URL), which then grants the
# role of DATABASE_URL — the one web, worker and beat use — rows only: no TRUNCATE, no ALTER, and on the audit
# log SELECT and INSERT alone (audit/privileges.py). Without MIGRATION_DATABASE_URL one role does both.
serve: setup
	DATABASE_URL=$${MIGRATION_DATABASE_URL:-$$DATABASE_URL} APP_DATABASE_URL=$$DATABASE_URL $(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) -m portal.processes run-all

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup lint
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} $(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} DJANGO_ALLOW_ASYNC_UNSAFE=true \
		$(PY) -m tests.private_stack run -- $(PY) -m pytest

# Benchmarks: about 20 minutes on 2 cores (most of it the 45,000-institution scaling world); writes bench/results.json, bench/results.md and the
# table in README.md. Needs PostgreSQL and Redis like `make test`; creates its database when missing.
bench: setup
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(BENCH_REDIS_URL)} \
		SECRET_KEY=$${SECRET_KEY:-bench-only-secret-key} $(PY) -m bench.run

# Regenerate and compile the English catalogue (needs gettext; the compiled .mo is committed).
messages: setup
	$(PY) manage.py makemessages -l en --no-obsolete -i ".venv/*" -i "var/*"
	$(PY) manage.py compilemessages -l en

clean:
	rm -rf $(VENV) var/*.sqlite3 staticfiles
