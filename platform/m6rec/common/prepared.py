"""Server-side prepared statements for the per-request serving queries (PostgreSQL).

Planning the history query cost PostgreSQL about as much CPU as running it (lateral joins,
~0.1 ms of 0.3 ms per recommendation). A :class:`PreparedQuery` is prepared once per database
connection and then only executed. Off with ``M6REC_DB_PREPARED_STATEMENTS=False``, which is
needed behind PgBouncer in transaction mode: there consecutive statements may run on different
server connections, which do not know the statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings

_PLACEHOLDER = re.compile(r"\$(\d+)")


class PreparedQuery:
    """``sql`` with ``$1 … $n`` placeholders, each used once and in order, of ``types``."""

    def __init__(self, name: str, sql: str, types: Sequence[str]) -> None:
        found = [int(n) for n in _PLACEHOLDER.findall(sql)]
        if found != list(range(1, len(types) + 1)):
            raise ValueError(f"{name}: placeholders must be $1..${len(types)}, once each, in order")
        self.name = name
        self.prepare = f"PREPARE {name}({', '.join(types)}) AS {sql}"
        self.run = f"EXECUTE {name}({', '.join(['%s'] * len(types))})"
        self.plain = _PLACEHOLDER.sub("%s", sql)

    def execute(self, cursor, params: Sequence[Any]) -> None:
        """Run on ``cursor`` (a Django cursor), preparing on first use in the server session
        (on :mod:`m6rec.common.postgresql`'s connections; plain SQL on any other)."""
        prepared = getattr(cursor.db, "prepared_statements", None)
        if prepared is None or not settings.M6REC_DB_PREPARED_STATEMENTS:
            cursor.execute(self.plain, params)
            return
        if self.name not in prepared:
            cursor.execute(self.prepare)
            prepared.add(self.name)
        cursor.execute(self.run, params)
