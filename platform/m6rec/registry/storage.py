"""Where model bundles live.

A bundle URI is a path *relative to the bundle storage*: ``bundles/<tenant_slug>/<number>``.
The storage is Django's storage alias ``M6REC_BUNDLE_STORAGE`` (default ``"default"``, i.e.
``FileSystemStorage`` under ``MEDIA_ROOT``). Any other backend (e.g. S3 through
django-storages: add ``"bundles": {"BACKEND": "storages.backends.s3.S3Storage", ...}`` to
``STORAGES`` and set ``M6REC_BUNDLE_STORAGE = "bundles"``) works too: bundles are uploaded file
by file (``manifest.json`` last) and fetched into ``M6REC_BUNDLE_CACHE_DIR`` on first use.

* :func:`bundle_staging_dir` — a fresh local directory for the engine to write into;
* :func:`bundle_staging_dirs` — the staging directories present (for garbage collection);
* :func:`bundle_publish` — move a finished bundle into place atomically, returns the URI;
* :func:`bundle_local_path` — a local directory holding the bundle (for ``Recommender.load``);
* :func:`bundle_discard` — remove a bundle (used when registration fails).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

BUNDLES_PREFIX = "bundles"
MANIFEST = "manifest.json"


class BundleStorageError(Exception):
    """A bundle could not be stored or fetched."""


def bundle_storage() -> Storage:
    return storages[settings.M6REC_BUNDLE_STORAGE]


def _is_local(storage: Storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def _local_root() -> Path:
    """Root for staging (and, for local storage, the final bundles): same filesystem, so the
    final rename is atomic."""
    storage = bundle_storage()
    if _is_local(storage):
        return Path(storage.path(BUNDLES_PREFIX))
    return Path(settings.M6REC_BUNDLE_CACHE_DIR)


def bundle_uri_for(*, tenant_slug: str, number: int) -> str:
    return f"{BUNDLES_PREFIX}/{tenant_slug}/{int(number)}"


def bundle_staging_dir(*, tenant_slug: str, label: str = "") -> Path:
    """A new empty directory to write a bundle into (``<root>/.staging/<slug>-<label>-<rand>``)."""
    staging = _local_root() / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    prefix = f"{tenant_slug}-{label}-" if label else f"{tenant_slug}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=staging))


def bundle_staging_dirs() -> list[Path]:
    """The staging directories on this host (finished or abandoned attempts leave them)."""
    staging = _local_root() / ".staging"
    try:
        return sorted(p for p in staging.iterdir() if p.is_dir())
    except FileNotFoundError:
        return []


def manifest_sha256(bundle_dir: Path) -> str:
    return hashlib.sha256((Path(bundle_dir) / MANIFEST).read_bytes()).hexdigest()


def bundle_publish(*, staging_dir: Path, tenant_slug: str, number: int) -> str:
    """Move a complete bundle (``staging_dir`` with its manifest.json) into place; returns the URI.

    Local storage: one ``rename`` on the same filesystem — readers see either no directory or a
    complete bundle. A leftover directory at the target (from a crash between publishing and
    registering) is moved aside first. Other storages: every file uploaded, manifest last.
    """
    staging_dir = Path(staging_dir)
    if not (staging_dir / MANIFEST).is_file():
        raise BundleStorageError(f"{staging_dir} has no {MANIFEST}; the bundle is incomplete")
    uri = bundle_uri_for(tenant_slug=tenant_slug, number=number)
    storage = bundle_storage()
    if _is_local(storage):
        target = Path(storage.path(uri))
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            aside = target.parent / f".orphan-{target.name}-{uuid.uuid4().hex[:8]}"
            os.replace(target, aside)
            shutil.rmtree(aside, ignore_errors=True)
        os.replace(staging_dir, target)
        return uri
    files = sorted(p for p in staging_dir.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == MANIFEST)  # manifest last
    for path in files:
        name = f"{uri}/{path.relative_to(staging_dir).as_posix()}"
        if storage.exists(name):
            storage.delete(name)
        with path.open("rb") as fh:
            storage.save(name, File(fh))
    shutil.rmtree(staging_dir, ignore_errors=True)
    return uri


def bundle_local_path(*, uri: str) -> Path:
    """A local directory holding the bundle at ``uri`` (fetched into the cache if remote).

    The caller (``Recommender.load``) verifies the checksums; this function only copies.
    """
    if not uri or ".." in Path(uri).parts or Path(uri).is_absolute():
        raise BundleStorageError(f"invalid bundle uri {uri!r}")
    storage = bundle_storage()
    if _is_local(storage):
        return Path(storage.path(uri))
    cache = Path(settings.M6REC_BUNDLE_CACHE_DIR)
    local = cache / uri
    if (local / MANIFEST).is_file():
        return local
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=_ensure(cache)))
    try:
        _download_dir(storage, uri, tmp)
        if not (tmp / MANIFEST).is_file():
            raise BundleStorageError(f"bundle {uri} has no {MANIFEST} in storage")
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, local)
        except OSError:  # another process fetched it first
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return local


def bundle_discard(*, uri: str) -> None:
    """Delete a published bundle (best effort)."""
    storage = bundle_storage()
    if _is_local(storage):
        shutil.rmtree(storage.path(uri), ignore_errors=True)
        return
    dirs, files = storage.listdir(uri)
    for name in files:
        storage.delete(f"{uri}/{name}")
    for sub in dirs:
        bundle_discard(uri=f"{uri}/{sub}")


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _download_dir(storage: Storage, prefix: str, dest: Path) -> None:
    dirs, files = storage.listdir(prefix)
    dest.mkdir(parents=True, exist_ok=True)
    for name in files:
        with storage.open(f"{prefix}/{name}", "rb") as src, (dest / name).open("wb") as out:
            shutil.copyfileobj(src, out)
    for sub in dirs:
        _download_dir(storage, f"{prefix}/{sub}", dest / sub)
