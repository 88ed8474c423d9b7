import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from m6rec.common.testing import *  # noqa: F403 - shared fixtures (tenant, api, ...)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.M6REC_PROGRESS_INTERVAL = 0.0


@pytest.fixture(autouse=True)
def _local_cache(request, settings):
    """Locks in local memory, except for tests that ask for Redis (``redis_url``)."""
    if "redis_url" in request.fixturenames:
        return
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }


@pytest.fixture
def ingest():
    """Ingest synthetic interactions: users in two taste clusters over a small catalog."""
    from m6rec.catalog.services import interactions_ingest

    def ingest(tenant, *, users=30, items=24, per_user=8, seed=0, types=("view", "like")):
        rng = random.Random(seed)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        rows = []
        for u in range(users):
            cluster = u % 2
            pool = [i for i in range(items) if i % 2 == cluster]
            for k, i in enumerate(rng.sample(pool, min(per_user, len(pool)))):
                rows.append(
                    {
                        "user_id": f"u{u}",
                        "item_id": f"i{i}",
                        "type": types[k % len(types)],
                        "value": 1.0,
                        "timestamp": start + timedelta(hours=u * 10 + k),
                        "event_id": f"s{seed}-u{u}-i{i}",
                    }
                )
        return interactions_ingest(tenant=tenant, rows=rows)

    return ingest


@pytest.fixture
def fake_engine(monkeypatch):
    """Replace engine.pipeline.train_bundle with a fast fake writing a minimal bundle.

    ``fake_engine.ndcg`` sets the validation metric; ``fake_engine.error`` makes it raise;
    ``fake_engine.calls`` records (n interactions, item feature dim, user feature dim, config).
    """
    import engine.pipeline

    class Fake:
        ndcg = 0.3
        error: Exception | None = None
        calls: list = []
        on_progress = None

        def __call__(
            self,
            data,
            out_dir,
            *,
            item_features=None,
            user_features=None,
            config=None,
            progress=None,
        ):
            self.calls.append(
                (
                    len(data),
                    item_features.dim if item_features is not None else None,
                    user_features.dim if user_features is not None else None,
                    config,
                )
            )
            for stage in ("split", "tune:itemcf", "fusion", "refit"):
                if progress:
                    progress(stage, 0.5)
                if self.on_progress:
                    self.on_progress(stage)
            if self.error is not None:
                raise self.error
            out_dir.mkdir(parents=True)
            manifest = {
                "metrics": {"validation": {"ndcg@10": self.ndcg, "model": "fake"}},
                "hyperparameters": {"fake": True},
                "data": data.counts(),
                "timings_s": {"fake": 0.0},
            }
            (out_dir / "manifest.json").write_text(json.dumps(manifest))
            if progress:
                progress("bundle", 1.0)
            return manifest

    fake = Fake()
    fake.calls = []
    monkeypatch.setattr(engine.pipeline, "train_bundle", fake)
    return fake
