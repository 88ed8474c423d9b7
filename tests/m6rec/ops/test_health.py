"""/healthz (no database), /readyz (database, Redis, model cache)."""

import pytest

from m6rec.ops import checks


def test_healthz_needs_no_database(client):
    # No django_db mark: any query here would raise "Database access not allowed".
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_probes_skip_host_validation_and_https_redirect(client, settings):
    """kubelet probes pods by IP over plain HTTP: neither may break the probes."""
    settings.ALLOWED_HOSTS = ["rec.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/healthz/", HTTP_HOST="10.1.2.3:8000").status_code == 200
    # ... while everything else is still protected.
    assert client.get("/api/v1/items", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_probe_routes_also_resolve_through_urls():
    from django.urls import resolve, reverse

    assert reverse("healthz") == "/healthz"
    assert resolve("/readyz").url_name == "readyz"
    assert reverse("metrics") == "/metrics"


def test_healthz_rejects_writes(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_ok_with_database_and_redis(client, settings, redis_url):
    settings.REDIS_URL = redis_url
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["database"]["ms"] >= 0


@pytest.mark.django_db
def test_readyz_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"] == {
        "ok": False,
        "error": "ConnectionError",
        "ms": body["checks"]["redis"]["ms"],
    }


@pytest.mark.django_db
def test_readyz_503_when_database_fails(client, settings, redis_url, monkeypatch):
    settings.REDIS_URL = redis_url

    class Broken:
        def __getitem__(self, alias):
            raise RuntimeError("database down")

    monkeypatch.setattr(checks, "connections", Broken())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False
    assert response.json()["checks"]["database"]["error"] == "RuntimeError"


def test_model_cache_state_is_reported_when_serving_exposes_it(monkeypatch):
    import sys
    import types

    fake = types.ModuleType("m6rec_fake_serving")
    fake.cache_state = lambda: {"entries": 2}
    monkeypatch.setitem(sys.modules, "m6rec_fake_serving", fake)
    monkeypatch.setattr(checks, "MODEL_CACHE_PROVIDERS", ("m6rec_missing_module", fake.__name__))
    state = checks.model_cache_state()
    assert state["ok"] is True and state["state"] == {"entries": 2}


def test_model_cache_stats_object_is_reported(monkeypatch):
    import sys
    import types

    class Cache:
        def stats(self):
            return {"entries": 0, "hits": 1}

    fake = types.ModuleType("m6rec_fake_loading")
    fake.model_cache = Cache()
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setattr(checks, "MODEL_CACHE_PROVIDERS", (fake.__name__,))
    assert checks.model_cache_state()["state"] == {"entries": 0, "hits": 1}


def test_model_cache_absent_or_broken(monkeypatch):
    import sys
    import types

    monkeypatch.setattr(checks, "MODEL_CACHE_PROVIDERS", ("m6rec_missing_module",))
    assert checks.model_cache_state() is None

    fake = types.ModuleType("m6rec_fake_broken")

    def boom():
        raise OSError("bundle gone")

    fake.cache_state = boom
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setattr(checks, "MODEL_CACHE_PROVIDERS", (fake.__name__,))
    assert checks.model_cache_state() == {
        "ok": False,
        "error": "OSError",
        "ms": checks.model_cache_state()["ms"],
    }
