"""Server-side prepared statements: prepared once per connection, re-prepared on a new one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from m6rec.common.prepared import PreparedQuery

pytestmark = pytest.mark.django_db(transaction=True)  # connection.close() below

QUERY = PreparedQuery("m6rec_test_add", "SELECT $1 + $2, $3::text", ("integer", "integer", "text"))


def run(params):
    with CaptureQueriesContext(connection) as sql, connection.cursor() as cursor:
        QUERY.execute(cursor, params)
        row = cursor.fetchone()
    return row, [q["sql"].split("(")[0] for q in sql.captured_queries]


def test_prepared_once_per_connection(settings):
    settings.M6REC_DB_PREPARED_STATEMENTS = True
    connection.close()
    assert run([1, 2, "a"]) == ((3, "a"), ["PREPARE m6rec_test_add", "EXECUTE m6rec_test_add"])
    assert run([5, 6, "b"]) == ((11, "b"), ["EXECUTE m6rec_test_add"])
    connection.close()  # a new server session knows no statement
    assert run([1, 1, "c"]) == ((2, "c"), ["PREPARE m6rec_test_add", "EXECUTE m6rec_test_add"])


def test_plain_sql_when_switched_off(settings):
    settings.M6REC_DB_PREPARED_STATEMENTS = False
    row, statements = run([2, 3, "x"])
    assert row == (5, "x") and len(statements) == 1 and statements[0].startswith("SELECT 2 + 3")


def test_placeholders_must_be_numbered_in_order():
    with pytest.raises(ValueError, match=r"\$1\.\.\$2"):
        PreparedQuery("m6rec_bad", "SELECT $2, $1", ("integer", "integer"))


def test_plain_sql_on_another_postgresql_backend(settings):
    """A connection that is not m6rec.common.postgresql's keeps no statement names: plain SQL."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    settings.M6REC_DB_PREPARED_STATEMENTS = True
    plain = DatabaseWrapper({**connection.settings_dict}, alias="plain")
    try:
        with CaptureQueriesContext(plain) as sql, plain.cursor() as cursor:
            QUERY.execute(cursor, [2, 2, "p"])
            assert cursor.fetchone() == (4, "p")
        assert [q["sql"].split(" ")[0] for q in sql.captured_queries] == ["SELECT"]
    finally:
        plain.close()
