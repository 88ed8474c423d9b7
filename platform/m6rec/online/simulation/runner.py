"""The simulator's run: threads pace recommendation requests, users take turns (never two at
once), and every click and conversion goes back with the response's ``recommendation_id``."""

from __future__ import annotations

import http.client
import itertools
import random
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from m6rec.online.simulation.client import ApiClient, ApiError
from m6rec.online.simulation.world import Behaviour, Catalogue, SimUser, click_probability

__all__ = ["MAX_CONSECUTIVE_ERRORS", "Plan", "Summary", "arm_label", "format_summary", "run"]

MAX_CONSECUTIVE_ERRORS = 20


@dataclass(frozen=True)
class Plan:
    """What to simulate: ``minutes`` of traffic at ``rate`` recommendation requests per second
    (0 = as fast as the threads go), at most ``max_requests`` of them (0 = no cap)."""

    minutes: float
    rate: float = 10.0
    max_requests: int = 0
    k: int = 10
    concurrency: int = 4
    seed_interactions: int = 3
    click_type: str = "view"
    goal_type: str = "like"
    seed: int = 0
    behaviour: Behaviour = field(default_factory=Behaviour)


@dataclass
class Summary:
    """Counts as the simulator saw them; ``arms`` keyed by ``"exp <id> arm <n> (v<m>)"`` or
    ``"v<m> <strategy>"`` when no experiment served the response."""

    requests: int = 0
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    seed_interactions: int = 0
    attributed: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    arms: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "impressions": self.impressions,
            "clicks": self.clicks,
            "conversions": self.conversions,
            "seed_interactions": self.seed_interactions,
            "attributed": self.attributed,
            "errors": self.errors,
            "error_samples": self.error_samples[:5],
            "elapsed_s": round(self.elapsed_s, 3),
            "arms": {k: dict(v) for k, v in sorted(self.arms.items())},
        }


def arm_label(response: Mapping[str, Any]) -> str:
    version = response.get("model_version")
    v = f"v{version}" if version is not None else "no model"
    experiment = response.get("experiment")
    if experiment:
        return f"exp {experiment['id']} arm {experiment['arm']} ({v})"
    return f"{v} {response.get('strategy', '?')}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _Run:
    """The shared state of one run (threads take users from a queue and time slots from a
    counter; a user is never in two threads at once)."""

    def __init__(self, make_client, catalogue, users, plan, progress):
        self.make_client = make_client
        self.catalogue = catalogue
        self.plan = plan
        self.progress = progress
        self.groups = catalogue.usable_categories()
        self.summary = Summary()
        self.lock = threading.Lock()
        self.slots = itertools.count()
        self.idle: list[SimUser] = list(users)
        self.pick = random.Random(f"{plan.seed}:pick")
        self.rngs = {u.user_id: random.Random(f"{plan.seed}:{u.user_id}") for u in users}
        self.seeded: set[str] = set()
        self.events = itertools.count()
        self.run_id = uuid.uuid4().hex[:8]
        self.stop = threading.Event()
        self.consecutive_errors = 0
        self.fatal: BaseException | None = None

    # -- scheduling
    def next_slot(self) -> float | None:
        """When to send the next recommendation request (perf_counter), or None: done."""
        i = next(self.slots)
        plan = self.plan
        if plan.max_requests and i >= plan.max_requests:
            return None
        start = self.t0 + (i / plan.rate if plan.rate > 0 else 0.0)
        if start >= self.deadline or self.stop.is_set():
            return None
        return start

    def take_user(self) -> SimUser:
        with self.lock:
            return self.idle.pop(self.pick.randrange(len(self.idle)))

    def give_user(self, user: SimUser) -> None:
        with self.lock:
            self.idle.append(user)

    def event_id(self, user: SimUser) -> str:
        return f"sim-{self.run_id}-{user.user_id}-{next(self.events)}"

    # -- one user's turn
    def seed_user(self, api: ApiClient, user: SimUser) -> None:
        rng = self.rngs[user.user_id]
        pool = sorted({i for c in user.preferred for i in self.groups.get(c, ())})
        chosen = rng.sample(pool, min(self.plan.seed_interactions, len(pool)))
        rows = [
            {
                "user_id": user.user_id,
                "item_id": item,
                "type": self.plan.click_type,
                "timestamp": _now(),
                "event_id": self.event_id(user),
            }
            for item in chosen
        ]
        if rows:
            api.post("/api/v1/interactions", {"interactions": rows})
        with self.lock:
            self.summary.seed_interactions += len(rows)

    def turn(self, api: ApiClient, user: SimUser) -> None:
        if user.user_id not in self.seeded:
            self.seed_user(api, user)
            self.seeded.add(user.user_id)
        path = f"/api/v1/users/{urllib.parse.quote(user.user_id, safe='')}/recommendations"
        response = api.get(path, k=self.plan.k)
        rng = self.rngs[user.user_id]
        token = response.get("recommendation_id")
        rows, clicks, conversions = [], 0, 0
        for position, entry in enumerate(response.get("items", ())):
            item = entry["item_id"]
            p_click, p_convert = click_probability(
                user, self.catalogue.categories_of(item), position, self.plan.behaviour
            )
            if rng.random() >= p_click:
                continue
            clicks += 1
            types = [self.plan.click_type]
            if rng.random() < p_convert:
                conversions += 1
                types.append(self.plan.goal_type)
            for t in types:
                row = {
                    "user_id": user.user_id,
                    "item_id": item,
                    "type": t,
                    "timestamp": _now(),
                    "event_id": self.event_id(user),
                }
                if token:
                    row["recommendation_id"] = token
                rows.append(row)
        attributed = 0
        if rows:
            attributed = int(
                api.post("/api/v1/interactions", {"interactions": rows}).get("attributed", 0)
            )
        shown = len(response.get("items", ()))
        with self.lock:
            s = self.summary
            s.requests += 1
            s.impressions += shown
            s.clicks += clicks
            s.conversions += conversions
            s.attributed += attributed
            arm = s.arms[arm_label(response)]
            arm["requests"] += 1
            arm["impressions"] += shown
            arm["clicks"] += clicks
            arm["conversions"] += conversions
            self.consecutive_errors = 0

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            self.summary.errors += 1
            if len(self.summary.error_samples) < 20:
                self.summary.error_samples.append(str(exc))
            self.consecutive_errors += 1
            if self.consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                self.fatal = exc
                self.stop.set()

    # -- the threads
    def worker(self) -> None:
        api = self.make_client()
        try:
            while True:
                start = self.next_slot()
                if start is None:
                    return
                delay = start - time.perf_counter()
                if delay > 0 and self.stop.wait(delay):
                    return
                user = self.take_user()
                try:
                    self.turn(api, user)
                except (ApiError, OSError, http.client.HTTPException, ValueError) as exc:
                    self.fail(exc)
                finally:
                    self.give_user(user)
                if self.progress is not None:
                    self.progress(1)
        finally:
            api.close()

    def execute(self) -> Summary:
        plan = self.plan
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + plan.minutes * 60.0
        threads = [
            threading.Thread(target=self.worker, name=f"sim-{n}", daemon=True)
            for n in range(max(1, min(plan.concurrency, len(self.idle))))
        ]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        except KeyboardInterrupt:
            self.stop.set()
            for t in threads:
                t.join(30)
        self.summary.elapsed_s = time.perf_counter() - self.t0
        return self.summary


def run(
    *,
    make_client: Callable[[], ApiClient],
    catalogue: Catalogue,
    users: Sequence[SimUser],
    plan: Plan,
    progress: Callable[[int], Any] | None = None,
) -> Summary:
    """Simulate ``plan`` with ``users``; returns what the simulator sent and saw.

    Raises the last error when ``MAX_CONSECUTIVE_ERRORS`` turns fail in a row (the server is
    down or refuses the key) after stopping every thread."""
    if not users:
        raise ValueError("no users to simulate")
    state = _Run(make_client, catalogue, users, plan, progress)
    summary = state.execute()
    if state.fatal is not None:
        raise RuntimeError(
            f"{MAX_CONSECUTIVE_ERRORS} requests failed in a row; last: {state.fatal}"
        ) from state.fatal
    return summary


def format_summary(summary: Summary) -> str:
    """A plain-text table: totals, then one line per arm (CTR = clicks / impressions)."""

    def rates(c: Mapping[str, int]) -> str:
        n = c.get("impressions", 0)
        ctr = c.get("clicks", 0) / n if n else 0.0
        cvr = c.get("conversions", 0) / n if n else 0.0
        return (
            f"{c.get('requests', 0):>8} {n:>11} {c.get('clicks', 0):>7} "
            f"{c.get('conversions', 0):>11} {ctr:>7.2%} {cvr:>7.2%}"
        )

    s = summary
    total = {
        "requests": s.requests,
        "impressions": s.impressions,
        "clicks": s.clicks,
        "conversions": s.conversions,
    }
    width = max([len("total"), *(len(k) for k in s.arms)])
    lines = [
        f"{'':{width}} {'requests':>8} {'impressions':>11} {'clicks':>7} {'conversions':>11} "
        f"{'ctr':>7} {'cvr':>7}",
        *(f"{label:{width}} {rates(c)}" for label, c in sorted(s.arms.items())),
        f"{'total':{width}} {rates(total)}",
        f"seed interactions {s.seed_interactions}, attributed interactions {s.attributed}, "
        f"errors {s.errors}, {s.elapsed_s:.1f} s "
        f"({s.requests / s.elapsed_s if s.elapsed_s else 0:.1f} recommendation requests/s)",
    ]
    return "\n".join(lines)
