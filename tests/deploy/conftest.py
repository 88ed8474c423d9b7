"""Shared helpers for the deployment checks (compose, Kubernetes, Dockerfile, launcher)."""

import ast
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
UNDER_CI = os.environ.get("M6REC_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"

# Read by something other than our settings code: Django itself, Keras, the Python runtime,
# pip, the postgres image.
EXTERNAL_ENV = {
    "DJANGO_SETTINGS_MODULE",
    "KERAS_HOME",
    "OPENBLAS_NUM_THREADS",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
}
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")
_ENV_READERS = {"env", "_required", "_env", "_int", "getenv"}


def missing_tool(message: str) -> None:
    """Skip, except under CI (M6REC_REQUIRE_SERVICES=1 or CI=true) where a tool must exist."""
    if UNDER_CI:
        pytest.fail(message + " (required under CI: see docs/production.md, 'CI validation')")
    pytest.skip(message)


def code_env_vars() -> set[str]:
    """Environment variable names our code reads: settings, ops, gunicorn configuration."""
    files = [
        *sorted((ROOT / "platform" / "m6rec" / "settings").glob("*.py")),
        *sorted((ROOT / "platform" / "m6rec" / "ops").glob("*.py")),
        DEPLOY / "gunicorn.conf.py",
    ]
    names: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                reader = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else None
                )
                owner = (
                    func.value.id
                    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    else None
                )
                is_environ_get = (
                    isinstance(func, ast.Attribute)
                    and func.attr == "get"
                    and isinstance(func.value, ast.Attribute)
                    and func.value.attr == "environ"
                )
                if reader in _ENV_READERS or owner == "env" or is_environ_get:
                    first = node.args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        names.add(first.value)
            elif isinstance(node, ast.Subscript):
                target = node.value
                if isinstance(target, ast.Attribute) and target.attr == "environ":
                    key = node.slice
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        names.add(key.value)
    return {n for n in names if _ENV_NAME.match(n)}


def required_env_vars() -> set[str]:
    """Variables the production settings refuse to start without (``_required("NAME", ...)``)."""
    tree = ast.parse((ROOT / "platform" / "m6rec" / "settings" / "production.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_required"
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    # Conditionally required (only with M6REC_BUNDLE_BACKEND=s3).
    return names - {"M6REC_S3_BUCKET"}


@pytest.fixture(scope="session")
def known_env() -> set[str]:
    return code_env_vars() | EXTERNAL_ENV


@pytest.fixture(scope="session")
def k8s_docs() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


@pytest.fixture(scope="session")
def required_env() -> set[str]:
    return required_env_vars()


@pytest.fixture
def require_tool():
    """``require_tool(message)``: skip (fail under CI) when a validation tool is missing."""
    return missing_tool
