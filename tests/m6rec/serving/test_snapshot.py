"""The per-tenant serving snapshot: parity with the pipeline it replaced (engine unfiltered,
each candidate then checked against the database), refresh by generation, eviction."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from tests.m6rec.serving._data import N_ITEMS, POPULAR_URL, SESSION_URL, SIMILAR_URL, USERS_URL

pytestmark = pytest.mark.django_db


def _replaced_pipeline(monkeypatch, tenant_a) -> None:
    """Serve as before the snapshot: the engine sees every item of the category (active or
    not; the ids from the database) and each candidate is checked against the database."""
    from m6rec.catalog.models import Item
    from m6rec.serving.catalogue import Catalogue

    def eligible(self, recommender, category=None):
        if category is None:
            return None
        ids = set(
            Item.objects.filter(tenant=tenant_a, categories__contains=[category]).values_list(
                "external_id", flat=True
            )
        )
        return np.array([i in ids for i in recommender.item_ids])

    def servable(self, item_ids, *, category=None):
        rows = Item.objects.filter(tenant=tenant_a, external_id__in=list(item_ids), active=True)
        if category is not None:
            rows = rows.filter(categories__contains=[category])
        return {ext: props for ext, props in rows.values_list("external_id", "properties")}

    monkeypatch.setattr(Catalogue, "eligible", eligible)
    monkeypatch.setattr(Catalogue, "servable", servable)
    monkeypatch.setattr(
        Catalogue,
        "popular",
        lambda self, rec, n, cat=None: rec.popular(n, allowed_items=self.eligible(rec, cat)),
    )


def _requests():
    for user, k, params in itertools.product(
        ("u0", "u1", "u7", "u42", "nobody"),
        (5, 20),
        ({}, {"category": "odd"}, {"category": "high"}, {"exclude": "i3,i31,i44"}),
    ):
        yield "get", USERS_URL.format(user), {"k": k, **params}
    for k, category in itertools.product((5, 20), (None, "even")):
        yield "get", POPULAR_URL, {"k": k, **({"category": category} if category else {})}
        yield "post", SESSION_URL, {"k": k, "recent_items": ["i1", "i2", "i40"],
                                    **({"category": category} if category else {})}  # fmt: skip
    for item in ("i0", "i33", "i59"):
        yield "get", SIMILAR_URL.format(item), {"k": 12}


def _responses(client_a) -> list:
    out = []
    for method, url, params in _requests():
        send = client_a.get if method == "get" else client_a.post
        r = send(url, params, **({} if method == "get" else {"format": "json"}))
        assert r.status_code == 200, (url, params, r.content)
        body = r.json()
        out.append(
            (url, params, body["strategy"], [(i["item_id"], i["score"]) for i in body["items"]])
        )
    return out


def _categories(item_id: str) -> list[str]:
    """The fixture catalogue's categories of ``item_id``."""
    n = int(item_id[1:])
    return ["low" if n < 30 else "high", "even" if n % 2 == 0 else "odd"]


def _before_and_now(client_a, tenant_a, monkeypatch) -> tuple[list, list]:
    """The responses of the replaced pipeline and of the snapshot's, for every request."""
    from m6rec.serving import snapshot

    now = _responses(client_a)
    snapshot.clear()
    with monkeypatch.context() as patched:
        _replaced_pipeline(patched, tenant_a)
        before = _responses(client_a)
    return before, now


def test_responses_equal_the_replaced_pipelines(client_a, tenant_a, monkeypatch):
    """Every user, session, similar-items and popular request, with and without categories
    and exclusions: identical items and scores."""
    before, now = _before_and_now(client_a, tenant_a, monkeypatch)
    assert now == before
    assert len({i for *_, items in now for i, _ in items}) > N_ITEMS // 2


def test_inactive_items_are_never_served_and_responses_stay_full(client_a, tenant_a, monkeypatch):
    """The engine now ranks the servable items where it used to rank them all and drop the
    inactive ones after (the fusion's per-user feature statistics are taken over them, and
    the rules see 3 × k servable candidates): the items may differ from the replaced
    pipeline's, but no inactive item is served and every response is as full."""
    from m6rec.catalog.services import items_upsert

    inactive = ("i0", "i2", "i31", "i33", "i35", "i37", "i50")
    rows = [{"item_id": i, "properties": {}, "categories": _categories(i), "active": False}
            for i in inactive]  # fmt: skip
    items_upsert(tenant=tenant_a, rows=rows)
    before, now = _before_and_now(client_a, tenant_a, monkeypatch)
    assert [len(r[3]) for r in now] == [len(r[3]) for r in before]
    assert not {i for *_, items in now for i, _ in items} & set(inactive)


def test_the_engine_ranks_servable_items_only(tenant_a):
    from m6rec.catalog.services import items_upsert
    from m6rec.serving.snapshot import snapshot_for

    snap = snapshot_for(tenant_a)
    rec = snap.model.recommender
    assert snap.catalogue.eligible(rec) is None  # everything servable: the unfiltered path
    items_upsert(tenant=tenant_a, rows=[{"item_id": "i4", "properties": {}, "categories": ["low"],
                                       "active": False}])  # fmt: skip
    snap = snapshot_for(tenant_a)  # the write in this process refreshed it
    mask = snap.catalogue.eligible(rec)
    assert not mask[rec.item_ids.index("i4")] and mask.sum() == rec.n_items - 1
    low = snap.catalogue.eligible(rec, "low")
    assert {rec.item_ids[j] for j in np.flatnonzero(low)} == {f"i{n}" for n in range(30)} - {"i4"}
    assert snap.catalogue.eligible(rec, "low") is low  # memoised per snapshot


def test_a_snapshot_is_reused_until_its_ttl_then_rebuilt_from_three_state_reads(
    tenant_a, settings, django_assert_num_queries
):
    from m6rec.serving.snapshot import snapshot_for

    settings.M6REC_ACTIVE_VERSION_TTL = 0.3
    snapshot_for(tenant_a)  # built (the model loaded: this caller's copy says so)
    first = snapshot_for(tenant_a)
    with django_assert_num_queries(0):
        assert snapshot_for(tenant_a) is first
    time.sleep(0.35)
    # the generation, the active version and the running experiment; no catalogue, no bundle
    with django_assert_num_queries(3):
        again = snapshot_for(tenant_a)
    assert again is not first
    assert again.catalogue is first.catalogue and again.model.recommender is first.model.recommender


def test_an_evicted_model_leaves_the_snapshot_too(factory, settings):
    from m6rec.serving import loading, snapshot

    settings.M6REC_MODEL_CACHE_SIZE = 1
    settings.M6REC_ACTIVE_VERSION_TTL = 60.0
    snapshot.clear()
    a, b = factory.tenant(), factory.tenant()
    factory.version(a)
    factory.version(b)
    held = snapshot.snapshot_for(a)
    snapshot.snapshot_for(b)  # loads b's model, evicting a's
    assert list(loading.model_cache.keys()) == [(b.pk, 1)]
    assert snapshot.snapshot_for(a) is not held  # a's snapshot went with its model


def test_a_slow_catalogue_is_reloaded_for_a_change_at_most_once_per_twenty_loads(settings):
    from m6rec.serving.catalogue import Catalogue
    from m6rec.serving.snapshot import _outdated

    settings.M6REC_CATALOG_TTL = 300.0
    fast = Catalogue([], generation=1, load_seconds=0.001)
    slow = Catalogue([], generation=1, load_seconds=1.0)
    assert not _outdated(fast, 1, written=False) and not _outdated(slow, 1, written=False)
    assert _outdated(fast, 2, written=False) and _outdated(fast, 1, written=True)
    assert not _outdated(slow, 2, written=False) and not _outdated(slow, 1, written=True)
    slow.loaded_at -= 20.0  # twenty load times later
    assert _outdated(slow, 2, written=False)
    settings.M6REC_CATALOG_TTL = 10.0  # older than the catalogue age: reloaded, changed or not
    assert _outdated(slow, 1, written=False)
