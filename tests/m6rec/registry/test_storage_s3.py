"""Bundles in S3 (issue 14): m6rec.registry.storage against a real S3-compatible server (moto
in server mode, started by the fixture) through django-storages' S3Storage, configured as the
production settings do for ``M6REC_BUNDLE_BACKEND=s3``. Publishing uploads every file with the
manifest last; a process fetches a bundle once into its cache; an object tampered with in the
bucket is refused by the checksum verification; a manifest swapped wholesale no longer matches
the registry's checksum. Serving from S3, tampered version included:
tests/m6rec/serving/test_s3_bundles.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.bundle import BundleError, read_bundle, write_bundle
from m6rec.registry import storage
from tests.m6rec.registry import _s3

moto_server, s3_bundles = _s3.moto_server, _s3.s3_bundles  # the fixtures

ARRAYS = {"item_factors": np.arange(40, dtype=np.float32).reshape(10, 4), "ids": np.arange(10)}


def staged(seed: int = 0) -> Path:
    staging = storage.bundle_staging_dir(tenant_slug="acme")
    staging.rmdir()  # write_bundle creates it atomically
    arrays = {name: value + seed for name, value in ARRAYS.items()}
    write_bundle(staging, arrays, {"tenant": "acme", "seed": seed})
    return staging


def objects(client, bucket: str, prefix: str) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {
        o["Key"][len(prefix) :]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in listed
    }


def test_publish_uploads_every_file_manifest_last_and_fetch_verifies(s3_bundles, monkeypatch):
    client, bucket, prefix = s3_bundles
    backend = storage.bundle_storage()
    saved: list[str] = []
    original = type(backend).save

    def spy(self, name, content, max_length=None):
        saved.append(name)
        return original(self, name, content, max_length=max_length)

    monkeypatch.setattr(type(backend), "save", spy)
    staging = staged()
    sha = storage.manifest_sha256(staging)
    uri = storage.bundle_publish(staging_dir=staging, tenant_slug="acme", number=1)

    assert uri == "bundles/acme/1" and not staging.exists()
    stored = objects(client, bucket, f"{prefix}/{uri}/")
    assert sorted(stored) == ["ids.npy", "item_factors.npy", "manifest.json"]
    assert saved[-1] == f"{uri}/manifest.json"  # readers never see a manifest before its files

    local = storage.bundle_local_path(uri=uri)
    assert local.is_relative_to(Path(storage.settings.M6REC_BUNDLE_CACHE_DIR))
    manifest, arrays = read_bundle(local)  # every checksum verified
    assert manifest["seed"] == 0 and np.array_equal(arrays["item_factors"], ARRAYS["item_factors"])
    assert storage.manifest_sha256(local) == sha

    def no_download(*args, **kwargs):
        raise AssertionError("a cached bundle was downloaded again")

    monkeypatch.setattr(storage, "_download_dir", no_download)
    assert storage.bundle_local_path(uri=uri) == local

    storage.bundle_discard(uri=uri)
    assert objects(client, bucket, f"{prefix}/{uri}/") == {}


def test_object_tampered_in_the_bucket_is_refused(s3_bundles):
    client, bucket, prefix = s3_bundles
    uri = storage.bundle_publish(staging_dir=staged(), tenant_slug="acme", number=2)
    key = f"{prefix}/{uri}/item_factors.npy"
    raw = bytearray(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    raw[-1] ^= 0xFF  # one bit of one factor: the file is still a valid .npy
    client.put_object(Bucket=bucket, Key=key, Body=bytes(raw))

    local = storage.bundle_local_path(uri=uri)  # the fetch copies; the loader verifies
    with pytest.raises(BundleError, match="item_factors.npy"):
        read_bundle(local)


def test_manifest_swapped_wholesale_no_longer_matches_the_registry(s3_bundles):
    """Valid checksums of another bundle: serving compares the manifest's sha256 with the one
    the registry recorded (bundle_sha256) and refuses it."""
    client, bucket, prefix = s3_bundles
    original = staged(seed=0)
    recorded = storage.manifest_sha256(original)
    uri = storage.bundle_publish(staging_dir=original, tenant_slug="acme", number=3)
    other = staged(seed=1)
    for path in sorted(other.iterdir(), key=lambda p: p.name == "manifest.json"):
        client.put_object(Bucket=bucket, Key=f"{prefix}/{uri}/{path.name}", Body=path.read_bytes())
    local = storage.bundle_local_path(uri=uri)
    read_bundle(local)  # self-consistent ...
    assert storage.manifest_sha256(local) != recorded  # ... but not the registered bundle


def test_missing_or_partial_bundle_is_a_storage_error(s3_bundles):
    client, bucket, prefix = s3_bundles
    with pytest.raises(storage.BundleStorageError, match="manifest.json"):
        storage.bundle_local_path(uri="bundles/acme/9")
    # an interrupted upload (files, no manifest yet) is not served either
    client.put_object(Bucket=bucket, Key=f"{prefix}/bundles/acme/8/ids.npy", Body=b"x")
    with pytest.raises(storage.BundleStorageError, match="manifest.json"):
        storage.bundle_local_path(uri="bundles/acme/8")
    cache = Path(storage.settings.M6REC_BUNDLE_CACHE_DIR)
    assert not (cache / "bundles" / "acme" / "8").exists()
