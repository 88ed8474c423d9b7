# M6-Rec developer entry points. `make demo` = embedded quick start, `make test` = the test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.m6rec-installed

.PHONY: install demo demo-traffic test lint lock sdk bench-engine clean

$(STAMP): pyproject.toml examples/m6rec-domain-books/pyproject.toml clients/python/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	# Development/CI: every role at once (web serving + the [train] stack + dev tools).
	$(PY) -m pip install --progress-bar on -e ".[dev,train]"
	# The example third-party domain plugin: the tests prove it registers through its entry point.
	$(PY) -m pip install --progress-bar on -e examples/m6rec-domain-books
	# The Python SDK (its tests drive a live server through it).
	$(PY) -m pip install --progress-bar on -e clients/python
	@touch $(STAMP)

install: $(STAMP)

## Embedded quick start: SQLite, Celery in-process, bundled ml-latest-small, server on :8000.
demo: $(STAMP)
	$(PY) manage.py demo --settings=m6rec.settings.local

## Fill the demo tenant's online metrics: synthetic users against `make demo`'s server (start it
## first, in another terminal). DEMO_TRAFFIC_ARGS adds options, e.g. "--minutes 5 --rate 20".
demo-traffic: $(STAMP)
	$(PY) manage.py simulate_traffic --settings=m6rec.settings.local --tenant demo \
		--users 200 --minutes 2 $(DEMO_TRAFFIC_ARGS)

## The test suite against PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Regenerate the hash-pinned lock files the image installs from (Python 3.11, Linux x86-64,
## PyPI): requirements/web.txt = base dependencies, requirements/worker.txt = base + [train].
LOCK_ENV := env -u PIP_FIND_LINKS -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null
PIP_COMPILE := $(LOCK_ENV) $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --index-url https://pypi.org/simple $(LOCK_ARGS)
lock: $(STAMP)
	@test -x $(VENV)/bin/pip-compile || $(PY) -m pip install --quiet pip-tools
	@mkdir -p requirements
	$(PIP_COMPILE) --output-file requirements/web.txt pyproject.toml
	$(PIP_COMPILE) --extra train --output-file requirements/worker.txt pyproject.toml

## Regenerate the SDKs from the API's OpenAPI schema: clients/openapi.json, the Python client
## (openapi-python-client, pinned, in var/sdk-tools) and the TypeScript types (openapi-typescript).
sdk: $(STAMP)
	$(PY) clients/sdkgen.py

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .ruff_cache
