"""Small helpers shared by serving rules (pure functions over candidate lists)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from domains.records import Candidate, InteractionRecord, to_datetime


def score_scale(candidates: Sequence[Candidate]) -> float:
    """Largest absolute score (1.0 when all are zero): the unit for score adjustments."""
    return max((abs(c.score) for c in candidates), default=1.0) or 1.0


def sort_by_score(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Best first; ties keep input order (stable), so rules stay deterministic."""
    return sorted(candidates, key=lambda c: -c.score)


def items_with(history: Sequence[InteractionRecord], *types: str) -> set[str]:
    """Item ids the user interacted with through any of ``types``."""
    return {e.item_id for e in history if e.type in types}


def last_time(history: Sequence[InteractionRecord], item_id: str, type_: str) -> datetime | None:
    """Latest timestamp of a ``type_`` event on ``item_id`` (``None`` if none/undated)."""
    stamps = [to_datetime(e.timestamp) for e in history if e.item_id == item_id and e.type == type_]
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


def dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep the first occurrence of each item id."""
    seen: set[str] = set()
    out = []
    for c in candidates:
        if c.item_id not in seen:
            seen.add(c.item_id)
            out.append(c)
    return out
