"""The per-user interaction index gains ``id``: serving's count and max(id) of a user's rows
become an index-only scan, and the history's (timestamp, id) order needs no sort.

Built and dropped CONCURRENTLY on PostgreSQL, so ingestion keeps writing while a large table is
indexed; a plain statement elsewhere (SQLite, the quick start).
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


def _plain_unless_postgresql(concurrent, plain):
    class Operation(concurrent):
        def database_forwards(self, app_label, schema_editor, from_state, to_state):
            op = concurrent if schema_editor.connection.vendor == "postgresql" else plain
            op.database_forwards(self, app_label, schema_editor, from_state, to_state)

        def database_backwards(self, app_label, schema_editor, from_state, to_state):
            op = concurrent if schema_editor.connection.vendor == "postgresql" else plain
            op.database_backwards(self, app_label, schema_editor, from_state, to_state)

    Operation.__name__ = concurrent.__name__
    return Operation


AddIndex = _plain_unless_postgresql(AddIndexConcurrently, migrations.AddIndex)
RemoveIndex = _plain_unless_postgresql(RemoveIndexConcurrently, migrations.RemoveIndex)


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("catalog", "0003_interaction_attributed_arm_and_more"),
    ]

    operations = [
        AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["user", "timestamp", "id"], name="catalog_inter_user_ts_id_idx"
            ),
        ),
        RemoveIndex(model_name="interaction", name="catalog_inter_user_ts_idx"),
    ]
