"""Schemathesis against a live server (issue 14): a bounded run of the examples, coverage and
fuzzing phases over every operation of the OpenAPI schema, failing on any 5xx
(``not_a_server_error``) or any answer the schema does not describe (status code, content type,
body schema). gunicorn runs with the production settings on the session's throwaway
PostgreSQL and Redis (tests/reliability/conftest.py); the run uses a tenant of its own, so the
DELETEs it generates touch nothing else. Bounded by ``--max-examples`` and a timeout (a few
minutes at most on 2 cores); ``M6REC_SCHEMATHESIS_EXAMPLES`` raises the count for a deeper run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
MAX_EXAMPLES = os.environ.get("M6REC_SCHEMATHESIS_EXAMPLES", "20")
TIMEOUT_S = 300


def _schemathesis() -> str:
    executable = Path(sys.executable).with_name("schemathesis")
    if not executable.exists():
        message = "schemathesis is not installed (the dev extra: pip install -e '.[dev]')."
        if os.environ.get("M6REC_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " M6REC_REQUIRE_SERVICES=1 forbids skipping.", pytrace=False)
        pytest.skip(message)
    return str(executable)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_stack, tmp_path):
    executable = _schemathesis()
    output = live_stack.manage("create_tenant", "fuzz", "--name", "Fuzz", "--domain", "content")
    token = output.strip().splitlines()[-1].strip()
    base = live_stack.server.base_url
    command = [
        executable,
        "run",
        f"{base}/api/schema/?format=json",
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "14",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp_path
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"schemathesis ran past {TIMEOUT_S} s:\n{(exc.stdout or '')[-6000:]}")
    report = result.stdout + result.stderr
    print(report[-3000:])
    assert result.returncode == 0, report[-12000:]
    assert "No issues found" in report or " passed" in report, report[-3000:]
