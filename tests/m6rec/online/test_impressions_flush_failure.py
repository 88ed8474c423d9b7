"""A database failure during the impression flush: what Redis held must neither vanish from
reads nor wait for the tenant's next impression (found while writing the online-loop
benchmark; ``online.impressions.flush_to_database``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant(settings, redis_url):
    """A tenant, with the impression counters in a Redis database of this test's own (the
    flush below reads every tenant's counters there)."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    import redis

    from m6rec.common.testing import make_tenant

    parts = urlsplit(redis_url)
    db = os.environ.get("M6REC_TEST_FLUSH_REDIS_DB", "12")
    url = urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))
    settings.M6REC_IMPRESSIONS_REDIS_URL = url
    client = redis.Redis.from_url(url)

    def clean():
        for key in client.scan_iter("m6rec:impressions:*"):
            client.delete(key)

    clean()
    yield make_tenant("flush-fail", domain="content")
    clean()


def test_counts_staged_by_a_failed_database_write_are_read_and_flushed_next_time(
    tenant, monkeypatch
):
    from m6rec.online import impressions
    from m6rec.online.models import ImpressionCount

    impressions.record(
        tenant_id=tenant.pk, items=10, model_version=1, strategy="model", surface="user"
    )
    impressions.flush_buffer()  # → Redis
    assert sum(v[0] for v in impressions.pending(tenant.pk).values()) == 10

    def database_down(counts):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(impressions, "_add_rows", database_down)
    with pytest.raises(RuntimeError):
        impressions.flush_to_database()
    monkeypatch.undo()

    # the 10 impressions still count in reads while they wait ...
    pending = sum(v[0] for v in impressions.pending(tenant.pk).values())
    # ... and the next beat run moves them, with no new traffic for this tenant
    impressions.flush_to_database()
    flushed = sum(
        ImpressionCount.objects.filter(tenant=tenant).values_list("impressions", flat=True)
    )
    assert (pending, flushed) == (10, 10)
