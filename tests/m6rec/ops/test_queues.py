import pytest
from django.conf import settings

from m6rec.ops.queues import QUEUE_LARGE, QUEUE_SMALL, queue_for


def test_default_queue_is_small_so_untagged_tasks_reach_a_worker():
    assert settings.CELERY_TASK_DEFAULT_QUEUE == QUEUE_SMALL


def test_threshold_from_settings(settings):
    settings.M6REC_LARGE_TENANT_INTERACTIONS = 1000
    assert queue_for(0) == QUEUE_SMALL
    assert queue_for(999) == QUEUE_SMALL
    assert queue_for(1000) == QUEUE_LARGE
    assert queue_for(10**9) == QUEUE_LARGE


def test_default_threshold_is_a_million():
    assert settings.M6REC_LARGE_TENANT_INTERACTIONS == 1_000_000
    assert queue_for(999_999) == QUEUE_SMALL


def test_negative_counts_are_rejected():
    with pytest.raises(ValueError):
        queue_for(-1)
