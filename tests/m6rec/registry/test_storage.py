"""Bundle storage: atomic publish into MEDIA_ROOT/bundles/<slug>/<n>, local paths, discard."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from m6rec.registry import storage


def _staged(slug="acme"):
    staging = storage.bundle_staging_dir(tenant_slug=slug)
    (staging / "manifest.json").write_text(json.dumps({"files": {}}))
    (staging / "arrays.npy").write_bytes(b"\x93NUMPY")
    return staging


def test_publish_moves_bundle_into_place(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    staging = _staged()
    uri = storage.bundle_publish(staging_dir=staging, tenant_slug="acme", number=3)
    assert uri == "bundles/acme/3"
    path = storage.bundle_local_path(uri=uri)
    assert path == Path(settings.MEDIA_ROOT) / "bundles" / "acme" / "3"
    assert (path / "manifest.json").is_file() and (path / "arrays.npy").is_file()
    assert not staging.exists()
    # a leftover directory (crash between publish and registration) is replaced
    uri2 = storage.bundle_publish(staging_dir=_staged(), tenant_slug="acme", number=3)
    assert uri2 == uri and sorted(p.name for p in path.iterdir()) == ["arrays.npy", "manifest.json"]
    storage.bundle_discard(uri=uri)
    assert not path.exists()


def test_publish_refuses_incomplete_bundle(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    staging = storage.bundle_staging_dir(tenant_slug="acme")
    with pytest.raises(storage.BundleStorageError):
        storage.bundle_publish(staging_dir=staging, tenant_slug="acme", number=1)


@pytest.mark.parametrize("uri", ["", "../etc", "/abs/path", "bundles/../../x"])
def test_local_path_rejects_bad_uris(uri):
    with pytest.raises(storage.BundleStorageError):
        storage.bundle_local_path(uri=uri)


def test_remote_storage_uploads_and_fetches_into_cache(tmp_path, settings):
    """A non-filesystem storage (here: in-memory) gets the files; reads go through a cache."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "bundles": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.M6REC_BUNDLE_STORAGE = "bundles"
    settings.M6REC_BUNDLE_CACHE_DIR = str(tmp_path / "cache")
    uri = storage.bundle_publish(staging_dir=_staged(), tenant_slug="acme", number=1)
    remote = storage.bundle_storage()
    assert remote.exists(f"{uri}/manifest.json")
    local = storage.bundle_local_path(uri=uri)
    assert local == Path(settings.M6REC_BUNDLE_CACHE_DIR) / uri
    assert json.loads((local / "manifest.json").read_text()) == {"files": {}}
    assert storage.manifest_sha256(local)
    storage.bundle_discard(uri=uri)
    assert not remote.exists(f"{uri}/manifest.json")


def test_settings_default_storage_is_media_root():
    assert getattr(settings, "M6REC_BUNDLE_STORAGE", "default") == "default"
