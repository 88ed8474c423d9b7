"""The traffic simulator's world and run, against an in-memory stand-in for the HTTP API (the
real server is driven in tests/integration/test_online_loop.py)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from m6rec.online.simulation import (
    Behaviour,
    Catalogue,
    Plan,
    SimUser,
    click_probability,
    format_summary,
    make_users,
    run,
)
from m6rec.online.simulation.client import _retry_after

CATALOGUE = Catalogue.from_rows(
    [(f"a{j}", ["action"]) for j in range(20)]
    + [(f"d{j}", ["drama"]) for j in range(20)]
    + [(f"c{j}", ["comedy", "drama"]) for j in range(10)]
    + [("x1", ["rare"]), ("x2", [])]
)


def test_users_prefer_one_or_two_usable_categories():
    users = make_users(CATALOGUE, n=200, rng=random.Random(1), prefix="s-")
    assert len({u.user_id for u in users}) == 200
    assert all(1 <= len(u.preferred) <= 1 for u in users)  # 3 usable categories: at most 1
    assert not any("rare" in u.preferred for u in users)  # fewer than 3 items
    counts = Counter(c for u in users for c in u.preferred)
    assert counts["drama"] > counts["comedy"]  # drawn in proportion to the categories' sizes
    wide = Catalogue.from_rows([(f"i{j}", [f"g{j % 6}"]) for j in range(60)])
    sizes = {len(u.preferred) for u in make_users(wide, n=100, rng=random.Random(2), prefix="")}
    assert sizes == {1, 2}


def test_the_same_seed_gives_the_same_users():
    a = make_users(CATALOGUE, n=50, rng=random.Random(5), prefix="")
    b = make_users(CATALOGUE, n=50, rng=random.Random(5), prefix="")
    assert a == b


def test_a_catalogue_without_categories_gets_stable_pseudo_categories():
    plain = Catalogue.from_rows([(f"i{j}", []) for j in range(80)])
    groups = plain.usable_categories()
    assert 1 < len(groups) <= 8 and sum(len(v) for v in groups.values()) == 80
    assert plain.categories_of("i3") == Catalogue.from_rows([("i3", [])]).categories_of("i3")
    assert CATALOGUE.categories_of("unknown") == ()


def test_clicks_follow_the_preference_and_the_position():
    user = SimUser("u", frozenset({"drama"}))
    b = Behaviour()
    top, convert = click_probability(user, ["drama"], 0, b)
    assert (top, convert) == (b.click_preferred, b.convert_preferred)
    assert click_probability(user, ["drama"], 9, b)[0] == pytest.approx(top / 3.4594, rel=1e-3)
    assert click_probability(user, ["action"], 0, b) == (b.click_other, b.convert_other)


class FakeApi:
    """Answers like the server: recommendations (preferring nothing) with a token, and
    interactions with ``attributed`` = rows carrying a token. Records overlapping turns."""

    def __init__(self, log: dict) -> None:
        self.log = log

    def get(self, path, **params):
        user = path.split("/")[4]
        with self.log["lock"]:
            self.log["busy"][user] += 1
            self.log["overlap"] |= self.log["busy"][user] > 1
            n = self.log["n"] = self.log["n"] + 1
        items = sorted(CATALOGUE.items)[n % 7 : n % 7 + params["k"]]
        with self.log["lock"]:
            self.log["busy"][user] -= 1
        arm = n % 2
        return {
            "items": [{"item_id": i, "score": 1.0} for i in items],
            "model_version": 1 + arm,
            "strategy": "model",
            "recommendation_id": f"r{n}",
            "experiment": {"id": 9, "arm": arm},
        }

    def post(self, path, body):
        rows = body["interactions"]
        with self.log["lock"]:
            self.log["rows"].extend(rows)
        return {"attributed": sum(1 for r in rows if "recommendation_id" in r)}

    def close(self):
        pass


def test_a_run_sends_clicks_with_the_recommendation_id_and_counts_per_arm():
    log = {"lock": threading.Lock(), "busy": Counter(), "overlap": False, "n": 0, "rows": []}
    users = make_users(CATALOGUE, n=10, rng=random.Random(0), prefix="s-")
    plan = Plan(minutes=1, rate=0, max_requests=200, k=5, concurrency=4, goal_type="like")
    summary = run(make_client=lambda: FakeApi(log), catalogue=CATALOGUE, users=users, plan=plan)
    assert summary.requests == 200 and summary.errors == 0
    assert summary.impressions == 200 * 5
    assert not log["overlap"]
    seeds = [r for r in log["rows"] if "recommendation_id" not in r]
    assert len(seeds) == summary.seed_interactions == 10 * plan.seed_interactions
    clicks = [r for r in log["rows"] if "recommendation_id" in r and r["type"] == "view"]
    likes = [r for r in log["rows"] if r["type"] == "like"]
    assert len(clicks) == summary.clicks > 0 and len(likes) == summary.conversions
    assert summary.attributed == summary.clicks + summary.conversions
    assert len({r["event_id"] for r in log["rows"]}) == len(log["rows"])  # all distinct
    assert set(summary.arms) == {"exp 9 arm 0 (v1)", "exp 9 arm 1 (v2)"}
    assert sum(c["requests"] for c in summary.arms.values()) == 200
    assert "exp 9 arm 1 (v2)" in format_summary(summary)


def test_a_run_stops_when_the_server_keeps_failing():
    from m6rec.online.simulation import ApiError

    class Down(FakeApi):
        def get(self, path, **params):
            raise ApiError(401, '{"error": {"code": "not_authenticated"}}')

        def post(self, path, body):
            return {}

    users = make_users(CATALOGUE, n=3, rng=random.Random(0), prefix="s-")
    log = {"lock": threading.Lock()}
    with pytest.raises(RuntimeError, match="failed in a row"):
        run(
            make_client=lambda: Down(log),
            catalogue=CATALOGUE,
            users=users,
            plan=Plan(minutes=1, rate=0, max_requests=1000, concurrency=2),
        )


def test_retry_after_is_honoured_within_bounds():
    assert _retry_after("2", 0) == 2.0
    assert _retry_after("1000", 0) == 30.0
    assert _retry_after(None, 1) == pytest.approx(0.4)
    assert _retry_after("soon", 0) == pytest.approx(0.2)


def test_an_unreachable_server_is_named_at_once():
    from m6rec.online.simulation import ApiClient

    started = time.monotonic()
    problem = ApiClient("http://127.0.0.1:1", "token", timeout=2).reachable()
    assert problem is not None and "Connection" in problem
    assert time.monotonic() - started < 2  # no retries
    with pytest.raises(ValueError, match="not an http"):
        ApiClient("ftp://example.org", "token")
