"""SDK fixtures: a real HTTP server (pytest-django's ``live_server``: Django's threaded WSGI
server on the test PostgreSQL database) with Celery tasks run in-process, so ``POST
models/train`` trains a tiny model before it answers."""

from __future__ import annotations

import uuid

import pytest

from m6rec.common.testing import *  # noqa: F403 - shared fixtures and helpers

# Small engine settings: the SDK tests check the calls, not model quality.
TINY_TRAINING = {
    "time_budget_s": 10,
    "use_fusion": False,
    "mf_factors": [8],
    "mf_iterations": 3,
    "mf_max_trials": 2,
    "ease_lambdas": [100.0, 500.0],
}


@pytest.fixture
def sdk_server(live_server, settings):
    """The live server's base URL; training runs in the request (eager Celery)."""
    from m6rec.celery import app

    settings.M6REC_TRAIN_CONFIG = TINY_TRAINING
    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield live_server.url
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def sdk_tenant(transactional_db):
    """``(tenant, all-scopes key)``: a fresh tenant of the content domain."""
    from m6rec.common.testing import make_key
    from m6rec.tenants.services import tenant_create

    slug = f"sdk-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(slug=slug, name=slug, domain="content")
    return tenant, make_key(tenant)[1]
