"""A real S3-compatible server for the tests: moto in server mode (``python -m moto.server``) on
a free loopback port, started and stopped by the fixture, and the Django settings that make it
the bundle storage (``M6REC_BUNDLE_BACKEND=s3`` in production: django-storages' S3Storage).

Import the fixture into a test module: ``from tests.m6rec.registry._s3 import s3_bundles``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

BUCKET = "m6rec-bundles-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unavailable(message: str) -> None:
    if os.environ.get("M6REC_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " M6REC_REQUIRE_SERVICES=1 forbids skipping.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def moto_server():
    """``(endpoint_url, boto3 client)`` of a moto S3 server of this session."""
    try:
        import boto3
        import moto.server  # noqa: F401
        import storages  # noqa: F401
    except ImportError as exc:
        _unavailable(f"{exc.name} is not installed (the dev extra: moto[server], boto3, "
                     "django-storages[s3]).")  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            client.list_buckets()
            break
        except Exception:  # noqa: BLE001 - not listening yet
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _unavailable(f"moto server did not start on port {port}")
            time.sleep(0.2)
    try:
        yield endpoint, client
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


@pytest.fixture
def s3_bundles(moto_server, settings, tmp_path, monkeypatch):
    """Bundles in a fresh bucket of the moto server, as the production settings configure S3
    (``STORAGES["bundles"]``, ``M6REC_BUNDLE_STORAGE``, ``M6REC_BUNDLE_CACHE_DIR``).
    Yields ``(boto3 client, bucket, prefix)``."""
    endpoint, client = moto_server
    bucket = f"{BUCKET}-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "bundles": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "location": "m6rec",
                "file_overwrite": True,
            },
        },
    }
    settings.M6REC_BUNDLE_STORAGE = "bundles"
    settings.M6REC_BUNDLE_CACHE_DIR = str(tmp_path / "bundle-cache")
    yield client, bucket, "m6rec"
