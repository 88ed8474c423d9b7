"""Django's PostgreSQL backend with health checks skipped on connections in steady use.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request
that touches the database. For a recommendation, whose one query is the user's history, that
is a second round trip and about a tenth of the request's CPU. Here a connection that ran a
query less than ``M6REC_DB_HEALTH_CHECK_IDLE`` seconds ago, in a request that ended without a
database error, is trusted; one idle for longer is checked as Django does, so a connection
that died while idle (database restart, idle timeout, a firewall) is replaced without failing
the request. A restart that falls between two requests less than the window apart fails the
second one (a 503 with ``Retry-After``, or a recommendation answered from memory); Django then
drops the connection, and the next request reconnects.

It also keeps the names of the statements prepared in the current server session, for
:class:`m6rec.common.prepared.PreparedQuery`.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    used_at: float | None = None
    """``time.monotonic()`` of this connection's last cursor."""
    prepared_statements: set[str]
    """Names of the statements prepared in this server session (:mod:`m6rec.common.prepared`)."""

    def get_new_connection(self, conn_params):
        self.prepared_statements = set()  # a new server session knows no statement
        return super().get_new_connection(conn_params)

    def create_cursor(self, name=None):
        self.used_at = time.monotonic()
        return super().create_cursor(name)

    def close_if_unusable_or_obsolete(self):
        # runs when a request starts and when it ends; a request that hit a database error
        # leaves errors_occurred set, and Django checks (and maybe drops) the connection here
        super().close_if_unusable_or_obsolete()
        if (
            self.connection is not None
            and not self.errors_occurred
            and self.used_at is not None
            and time.monotonic() - self.used_at < settings.M6REC_DB_HEALTH_CHECK_IDLE
        ):
            self.health_check_done = True
