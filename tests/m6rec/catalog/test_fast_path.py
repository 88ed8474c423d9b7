"""The fast row cleaner accepts exactly what the field-by-field cleaners accept."""

import random

from m6rec.catalog.serializers import InteractionRowsField, _fast_interaction
from m6rec.common.batch_rows import RowSpec

SPEC = InteractionRowsField.spec
SLOW = RowSpec(SPEC.cleaners, required=SPEC.required, defaults=SPEC.defaults)

VALUES = {
    "user_id": ["u1", "", " u", "u ", "a/b", "x" * 255, "x" * 256, "tab\t", "é", 5, None, "\u200b"],
    "item_id": ["i1", "日本", "", 7.5, True, "\ud800", "ok id"],
    "type": ["view", "", "x" * 65, 3, "purchase", "a\nb"],
    "value": [1, 2.5, -3, True, "1", None, float("inf"), float("nan")],
    "timestamp": [0, 1_700_000_000, 1.5e9, -1, 5e9, True, "2024-01-01T00:00:00Z", "bad", None],
    "event_id": [None, "e1", "a/b", "", " e", "x" * 256, 3],
    "extra": ["x"],
}


def test_fast_path_agrees_with_the_slow_path_on_random_rows():
    rng = random.Random(42)
    fast_hits = 0
    for _ in range(5000):
        row = {
            k: rng.choice(v) if rng.random() < 0.3 else v[0]
            for k, v in VALUES.items()
            if rng.random() < (0.03 if k == "extra" else 0.75)
        }
        fast = _fast_interaction(dict(row))
        slow_rows, slow_errors = SLOW.clean([dict(row)])
        if fast is not None:
            fast_hits += 1
            assert not slow_errors, (row, slow_errors)
            assert fast == slow_rows[0], row
    assert fast_hits > 100  # the fast path is really exercised


def test_spec_with_fast_path_reports_the_same_errors():
    rows = [{"user_id": "u", "item_id": "i"}, {"user_id": "", "item_id": "i", "value": "x"}]
    assert SPEC.clean(rows) == SLOW.clean(rows)
