# M6-Rec developer entry points. `make demo` = embedded quick start, `make test` = the test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.m6rec-installed

.PHONY: install demo test lint bench-engine clean

$(STAMP): pyproject.toml examples/m6rec-domain-books/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --progress-bar on -e ".[dev]"
	# The example third-party domain plugin: the tests prove it registers through its entry point.
	$(PY) -m pip install --progress-bar on -e examples/m6rec-domain-books
	@touch $(STAMP)

install: $(STAMP)

## Embedded quick start: SQLite, Celery in-process, bundled ml-latest-small, server on :8000.
demo: $(STAMP)
	$(PY) manage.py demo --settings=m6rec.settings.local

## The test suite against PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .ruff_cache
