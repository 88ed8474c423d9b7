"""Synthetic generators (planted preferences) and the benchmark's data plumbing (no training)."""

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from domains import bench
from domains.synthetic import SEGMENTS, generate


@pytest.mark.parametrize("name", sorted(SEGMENTS))
def test_generator_is_deterministic_valid_and_planted(name):
    domain = bench.built_in_domains()[name]
    a = generate(name, n_users=60, n_items=80, seed=5)
    b = generate(name, n_users=60, n_items=80, seed=5)
    assert a.interactions == b.interactions and a.items == b.items
    assert all(domain.validate_item_properties(dict(i.properties)) == {} for i in a.items)
    assert all(domain.validate_user_properties(dict(u.properties)) == {} for u in a.users)
    assert {e.type for e in a.interactions} <= set(domain.interaction_types)
    # planted preference: most of a user's items come from the preferred segment
    hits = Counter(a.item_segment[e.item_id] == a.user_segment[e.user_id] for e in a.interactions)
    assert hits[True] / sum(hits.values()) > 0.5


def test_interaction_data_uses_domain_weights():
    ds = generate("ecommerce", n_users=20, n_items=30, seed=1)
    domain = bench.built_in_domains()["ecommerce"]
    data = bench.interaction_data(domain, ds.interactions)
    assert data.n_users == len({e.user_id for e in ds.interactions})
    assert float(data.weights.sum()) == pytest.approx(
        float(domain.confidence_weights(ds.interactions).sum()), rel=1e-5
    )


def test_table_renders_missing_values():
    row = {"tenant": "x", "train_rows": 3, "test_rows": 1, "mf": 0.5, "features_served": "mf"}
    text = bench._table([row])
    assert "0.5000" in text and "n/a" in text


def _ml100k() -> Path:
    from engine.data import default_datasets_dir

    path = default_datasets_dir() / "ml-100k"
    if not (path / "u.data").is_file():
        if os.environ.get("M6REC_REQUIRE_SERVICES") == "1":
            pytest.fail(f"ml-100k not found at {path}; set M6REC_DATASETS", pytrace=False)
        pytest.skip(f"ml-100k not found at {path}")
    return path


def test_movielens_as_content_records():
    items, users, events, ratings = bench.movielens_100k(_ml100k())
    assert (len(items), len(users), len(events)) == (1682, 943, 100000)
    domain = bench.built_in_domains()["content"]
    assert all(domain.validate_item_properties(dict(i.properties)) == {} for i in items)
    assert all(domain.validate_user_properties(dict(u.properties)) == {} for u in users)
    toy = next(i for i in items if i.item_id == "1")
    assert toy.properties["genres"] == ["animation", "children", "comedy"]
    assert toy.properties["year"] == 1995
    assert set(np.unique(ratings)) == {1.0, 2.0, 3.0, 4.0, 5.0}
