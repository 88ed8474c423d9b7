"""The TypeScript SDK (clients/typescript): ``npm ci``, its generated types checked against the
live schema, then ``npm test`` (node's test runner) against a live server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "clients" / "typescript"
REQUIRE_SERVICES = os.environ.get("M6REC_REQUIRE_SERVICES") == "1"


def _run(cmd: list[str], *, env: dict | None = None, timeout: int = 600) -> str:
    result = subprocess.run(
        cmd,
        cwd=PACKAGE if cmd[0] == "npm" else REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{output[-6000:]}"
    return output


@pytest.fixture(scope="module")
def npm_installed():
    if not (shutil.which("node") and shutil.which("npm")):
        message = "node and npm are needed for the TypeScript SDK tests"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (M6REC_REQUIRE_SERVICES=1 forbids skipping)", pytrace=False)
        pytest.skip(message)
    _run(["npm", "ci", "--no-audit", "--no-fund"])


def test_typescript_types_match_the_schema(npm_installed):
    _run([sys.executable, "clients/sdkgen.py", "--check", "--only", "typescript"])


def test_typescript_sdk_against_a_live_server(npm_installed, sdk_server, sdk_tenant):
    _, key = sdk_tenant
    output = _run(["npm", "test"], env={"M6REC_BASE_URL": sdk_server, "M6REC_API_KEY": key})
    assert "# fail 0" in output and "# skipped 0" in output, output[-3000:]
