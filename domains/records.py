"""Plain records passed between the platform and a domain plugin (no Django, no numpy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """One catalogue item as stored: tenant-side id, JSON properties, categories, active flag."""

    item_id: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    categories: tuple[str, ...] | list[str] = ()
    active: bool = True


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One end user: tenant-side id and JSON properties."""

    user_id: str
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InteractionRecord:
    """One event. ``value`` is type-specific (quantity, dwell seconds, progress 0..1, score)."""

    user_id: str
    item_id: str
    type: str
    value: float | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored item offered to the serving rules; ``reason`` explains it to the end user."""

    item_id: str
    score: float
    properties: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None

    # direct construction: dataclasses.replace costs ~3x more, and serving calls these per
    # candidate per request
    def with_reason(self, reason: str) -> Candidate:
        """A copy carrying ``reason`` (candidates are immutable)."""
        return Candidate(self.item_id, self.score, self.properties, reason)

    def with_score(self, score: float) -> Candidate:
        """A copy with a new score."""
        return Candidate(self.item_id, float(score), self.properties, self.reason)


def to_datetime(value: Any) -> datetime | None:
    """Parse a timestamp: ``datetime``, ISO 8601 string or epoch seconds; naive means UTC.

    Returns ``None`` for ``None`` or an unparseable value (callers treat it as unknown).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = datetime.fromtimestamp(float(value), tz=UTC)
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return result if result.tzinfo else result.replace(tzinfo=UTC)
