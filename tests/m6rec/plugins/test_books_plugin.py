"""The example third-party plugin (examples/m6rec-domain-books) is discovered, validated and
trained without any edit to core code. CI installs it with
``pip install -e examples/m6rec-domain-books``."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from m6rec.plugins import registry

ROOT = Path(__file__).resolve().parents[3]
FAST_TRAINING = {
    "time_budget_s": 8.0,
    "mf_max_trials": 2,
    "mf_factors": [16],
    "ease_lambdas": [200.0],
    "fusion_epochs": 3,
    "fusion_min_users": 5,
    "finetune_epochs": 1,
}


def _books_entry_point():
    eps = [ep for ep in entry_points(group=registry.GROUP) if ep.name == "books"]
    if not eps:
        message = "m6rec-domain-books is not installed: pip install -e examples/m6rec-domain-books"
        if os.environ.get("M6REC_REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return eps[0]


@pytest.fixture(scope="module")
def books_ep():
    return _books_entry_point()


def test_books_registers_through_its_own_distribution(books_ep):
    assert books_ep.value == "m6rec_books:BooksDomain"
    assert books_ep.dist is not None and books_ep.dist.name == "m6rec-domain-books"
    domain = registry.get_domain("books")
    assert type(domain).__module__ == "m6rec_books"
    assert domain.validate_item_properties({"title": "Dune", "pages": 0}) == {
        "pages": ["0 is less than the minimum of 1"]
    }


def test_no_core_file_mentions_the_books_plugin(books_ep):
    core = [ROOT / "pyproject.toml", *sorted((ROOT / "domains").rglob("*.py"))]
    core += sorted((ROOT / "platform" / "m6rec").rglob("*.py"))
    mentions = [str(p.relative_to(ROOT)) for p in core if "m6rec_books" in p.read_text()]
    assert mentions == []


def _books_tenant_data(n_users=40, n_books=30, seed=0):
    from m6rec_books import GENRES

    rng = np.random.default_rng(seed)
    books = [
        {
            "item_id": f"b{i}",
            "properties": {"title": f"Book {i}", "genres": [GENRES[i % 4]], "pages": 100 + i},
        }
        for i in range(n_books)
    ]
    users = [{"user_id": f"r{u}", "properties": {"age": 20 + u % 50}} for u in range(n_users)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = []
    for u in range(n_users):
        taste = [i for i in range(n_books) if i % 4 == u % 4]
        for k, i in enumerate(rng.choice(taste, size=5, replace=False)):
            events.append(
                {
                    "user_id": f"r{u}",
                    "item_id": f"b{i}",
                    "type": ("view", "borrow", "purchase")[k % 3],
                    "value": 1.0,
                    "timestamp": start + timedelta(hours=u * 10 + k),
                    "event_id": f"e{u}-{i}",
                }
            )
    return books, users, events


def test_books_trains_with_the_engine(books_ep, tmp_path):
    """Engine level (no fusion, fast): the plugin's features and weights feed train_bundle,
    and its rules filter the bundle's recommendations. The platform test below trains the
    full pipeline, fusion included."""
    from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord
    from engine.data import InteractionData
    from engine.pipeline import TrainConfig, train_bundle
    from engine.recommender import Recommender

    domain = registry.get_domain("books")
    books, users, events = _books_tenant_data()
    items = [ItemRecord(b["item_id"], b["properties"]) for b in books]
    people = [UserRecord(u["user_id"], u["properties"]) for u in users]
    records = [
        InteractionRecord(e["user_id"], e["item_id"], e["type"], e["value"], e["timestamp"])
        for e in events
    ]
    data = InteractionData.from_arrays(
        [e.user_id for e in records],
        [e.item_id for e in records],
        domain.confidence_weights(records),
        [e.timestamp.timestamp() for e in records],
    )
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in FAST_TRAINING.items()}
    manifest = train_bundle(
        data,
        tmp_path / "bundle",
        item_features=domain.item_features(items),
        user_features=domain.user_features(people, records, items=items),
        config=TrainConfig(**{**config, "use_fusion": False}),
    )
    assert manifest["features"]["item"][:2] == ["genre=fiction", "genre=fantasy"]
    rec = Recommender.load(tmp_path / "bundle")
    top = rec.recommend("r1", 15)
    props = {b["item_id"]: b["properties"] for b in books}
    history = [e for e in records if e.user_id == "r1"]
    out = domain.apply_rules(
        user=people[1],
        history=history,
        candidates=[Candidate(i, s, props[i]) for i, s in top],
    )
    bought = {e.item_id for e in history if e.type == "purchase"}
    assert out and not bought & {c.item_id for c in out}


@pytest.mark.django_db
def test_books_tenant_end_to_end_through_the_platform(books_ep, settings, tmp_path):
    """Platform level: tenant with domain "books" → ingest (validated by the plugin) → train
    (features from the plugin) → recommendations (rules from the plugin)."""
    from m6rec.catalog.services import interactions_ingest, items_upsert, users_upsert
    from m6rec.serving.services import recommend_for_user
    from m6rec.tenants.services import tenant_create
    from m6rec.training.services import training_run_sync

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.M6REC_TRAIN_CONFIG = FAST_TRAINING
    tenant = tenant_create(slug="bookshop", name="Bookshop", domain="books")
    books, users, events = _books_tenant_data()
    items_upsert(tenant=tenant, rows=[{**b, "categories": [], "active": True} for b in books])
    users_upsert(tenant=tenant, rows=users)
    interactions_ingest(tenant=tenant, rows=events)
    run = training_run_sync(tenant=tenant)
    assert run.status == "succeeded", getattr(run, "error", run.status)
    result = recommend_for_user(tenant=tenant, user_id="r1", k=5)
    ids = [c.item_id for c in result.items]
    assert ids and len(ids) <= 5
    bought = {e["item_id"] for e in events if e["user_id"] == "r1" and e["type"] == "purchase"}
    assert not bought & set(ids)
