"""Attribution at ingestion: an interaction row's ``recommendation_id`` → what served it.

Rules (the API's, documented in README "The online loop"): a row's ``recommendation_id`` must
be an id this tenant received, for the row's user (or an anonymous request), listing the row's
item, and the row's timestamp must fall in the attribution window after it was issued
(from 5 minutes before, for clock skew, to ``attribution_window_hours`` after; the tenant's
domain sets the window, ``config["online"]`` overrides it). Any row that breaks a rule rejects
the whole batch with a 400 naming the row and the field, as every other invalid row does, and
nothing is written: send the row without ``recommendation_id`` to store it unattributed.

A forged, corrupted or truncated id and an id issued to another tenant get one and the same
message, so the answer never tells that an id exists elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from m6rec.common.errors import quoted
from m6rec.online import tokens

__all__ = ["FIELD", "Attribution", "attribute_rows"]

FIELD = "recommendation_id"
CLOCK_SKEW_S = 300

Attribution = tuple[int | None, int | None, int | None, int, str, datetime]
"""(model version, experiment id, arm, position, strategy, issued at)."""

NOT_ISSUED = (
    "Not a recommendation id issued to this tenant (altered, truncated or from another "
    "tenant); send the id exactly as the recommendation response gave it, or leave the field "
    "out to store the interaction unattributed."
)


def attribute_rows(*, tenant_id: int, rows: list[dict | None], config: dict[str, Any]) -> list:
    """Verify every row's ``recommendation_id`` and set ``row["attribution"]``.

    Returns the errors (``{"row", "field", "message"}``); rows without an id get
    ``attribution`` None.
    """
    window_s = 3600 * int((config.get("online") or {}).get("attribution_window_hours", 24))
    errors = []
    decoded: dict[str, tokens.Issued | None] = {}
    for index, row in enumerate(rows):
        if row is None:
            continue
        token = row.pop(FIELD, None)
        row["attribution"] = None
        if token is None:
            continue
        if token not in decoded:
            try:
                decoded[token] = tokens.decode(token, tenant_id=tenant_id)
            except tokens.InvalidToken:
                decoded[token] = None
        issued = decoded[token]
        message = _problem(issued, row, window_s) if issued is not None else NOT_ISSUED
        if message:
            errors.append({"row": index, "field": FIELD, "message": message})
            continue
        row["attribution"] = (
            issued.model_version,
            issued.experiment_id,
            issued.arm,
            issued.position_of(row["item_id"]),
            issued.strategy,
            datetime.fromtimestamp(issued.issued_at, tz=UTC),
        )
    return errors


def _problem(issued: tokens.Issued, row: dict, window_s: int) -> str | None:
    at = datetime.fromtimestamp(issued.issued_at, tz=UTC)
    if issued.position_of(row["item_id"]) is None:
        return (
            f"Item {quoted(row['item_id'])} was not in the response this recommendation id "
            "belongs to; send the id of the response that showed the item, or leave it out."
        )
    if not issued.served_to(row["user_id"]):
        return (
            f"This recommendation id was issued for another user than {quoted(row['user_id'])};"
            " send the id of the response that user received, or leave it out."
        )
    ts = row["timestamp"].timestamp()
    if ts < issued.issued_at - CLOCK_SKEW_S or ts > issued.issued_at + window_s:
        return (
            f"The interaction's timestamp {row['timestamp'].isoformat()} is outside the "
            f"attribution window of this recommendation id (issued {at.isoformat()}, window "
            f"{window_s // 3600} hours); leave recommendation_id out to store it unattributed."
        )
    return None
