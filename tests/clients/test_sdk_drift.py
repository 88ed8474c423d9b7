"""The checked-in schema and Python client match what the live code generates (``make sdk``
regenerates both; the TypeScript types are checked in test_typescript_sdk.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_schema_and_python_client_are_up_to_date():
    result = subprocess.run(
        [sys.executable, "clients/sdkgen.py", "--check", "--only", "schema", "python"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-8000:]


def test_the_generated_client_imports_and_names_every_operation():
    import json

    from m6rec_client import operation

    schema = json.loads((REPO / "clients" / "openapi.json").read_text())
    for operations in schema["paths"].values():
        for method in operations.values():
            module = operation(method["operationId"])
            assert callable(module.sync_detailed)
