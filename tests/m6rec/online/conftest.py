"""Online-loop fixtures: the serving fixtures (a real trained bundle, tenants, keys, versions)
plus a deliberately worse bundle, trained on the same users with their items shuffled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.m6rec.serving._data import N_ITEMS, synthetic_pairs
from tests.m6rec.serving.conftest import (  # noqa: F401 - fixtures shared with serving
    _fresh_serving_state,
    api,
    factory,
    trained_bundle,
)


@pytest.fixture(scope="session")
def worse_bundle(tmp_path_factory) -> Path:
    """A real bundle that learned nothing useful: every user's items drawn at random."""
    from engine.data import InteractionData
    from engine.pipeline import TrainConfig, train_bundle

    rng = np.random.default_rng(11)
    pairs = [(u, f"i{rng.integers(N_ITEMS)}") for u, _ in synthetic_pairs()]
    data = InteractionData.from_arrays([u for u, _ in pairs], [i for _, i in pairs])
    out = tmp_path_factory.mktemp("worse-bundle") / "bundle"
    train_bundle(data, out, config=TrainConfig(time_budget_s=20, use_fusion=False))
    return out


@pytest.fixture(autouse=True)
def _fresh_online_state(settings, redis_url):
    """Impressions through the test Redis under a per-test prefix-free hash; no snapshot."""
    import redis

    from m6rec.online import impressions
    from m6rec.serving import snapshot

    settings.M6REC_IMPRESSIONS_REDIS_URL = redis_url
    client = redis.Redis.from_url(redis_url)
    snapshot.invalidate()
    impressions.buffer.take()
    yield
    snapshot.invalidate()
    impressions.buffer.take()
    for key in client.scan_iter("m6rec:impressions:*"):
        client.delete(key)
