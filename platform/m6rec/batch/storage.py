"""Where batch outputs live: the bundle storage (``M6REC_BUNDLE_STORAGE``), under
``batch/<tenant slug>/<job id>/``.

A job writes one gzip part per chunk of users (``parts/<index>-a<attempt>.jsonl.gz``, the
attempt in the name so a stale attempt can never overwrite the part of a newer one) and, at the
end, concatenates them into ``recommendations.jsonl.gz``: gzip members concatenated are one
valid gzip stream (``gzip.open``, ``zcat`` and ``gunzip`` read it whole). Filesystem storage:
the final file appears by one rename; other storages (S3): it is uploaded once, complete.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from django.core.files import File
from django.core.files.base import ContentFile

from m6rec.registry.storage import bundle_storage

PREFIX = "batch"
OUTPUT_NAME = "recommendations.jsonl.gz"


def job_prefix(*, tenant_slug: str, job_id: int) -> str:
    return f"{PREFIX}/{tenant_slug}/{int(job_id)}"


def part_name(*, tenant_slug: str, job_id: int, index: int, attempt: int) -> str:
    prefix = job_prefix(tenant_slug=tenant_slug, job_id=job_id)
    return f"{prefix}/parts/{index:06d}-a{attempt}.jsonl.gz"


def output_name(*, tenant_slug: str, job_id: int) -> str:
    return f"{job_prefix(tenant_slug=tenant_slug, job_id=job_id)}/{OUTPUT_NAME}"


def _replace(name: str, content: File) -> None:
    storage = bundle_storage()
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, content)
    if saved != name:  # a concurrent writer created it in between
        storage.delete(saved)
        raise OSError(f"could not write {name}: the name was taken")


def part_write(*, name: str, lines: Iterable[str]) -> int:
    """Write ``lines`` (JSON texts without newline) as one gzip member; returns its size."""
    data = gzip.compress("".join(f"{line}\n" for line in lines).encode("utf-8"), mtime=0)
    _replace(name, ContentFile(data))
    return len(data)


def output_assemble(*, parts: list[str], name: str) -> tuple[str, int]:
    """Concatenate ``parts`` (in order) into ``name``; returns (sha256 hex, size in bytes)."""
    storage = bundle_storage()
    digest, size = hashlib.sha256(), 0
    local = _local_path(name)
    directory = local.parent if local is not None else None
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".assemble-", suffix=".gz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with storage.open(part, "rb") as src:
                    while chunk := src.read(1 << 20):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
        if local is not None:
            os.replace(tmp, local)  # same directory: atomic
        else:
            with open(tmp, "rb") as fh:
                _replace(name, File(fh, name=Path(name).name))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return digest.hexdigest(), size


def _local_path(name: str) -> Path | None:
    storage = bundle_storage()
    try:
        return Path(storage.path(name))
    except NotImplementedError:  # remote storage
        return None


def local_path(*, uri: str) -> str | None:
    """The file's path on this host for filesystem storage, else ``None``."""
    path = _local_path(uri)
    return str(path) if path is not None else None


def open_output(*, uri: str) -> BinaryIO:
    return bundle_storage().open(uri, "rb")


def parts_remove(*, tenant_slug: str, job_id: int) -> None:
    """Remove the job's parts (best effort; every attempt's, used or not)."""
    storage = bundle_storage()
    prefix = f"{job_prefix(tenant_slug=tenant_slug, job_id=job_id)}/parts"
    local = _local_path(prefix)
    if local is not None:
        shutil.rmtree(local, ignore_errors=True)
        return
    try:
        _, files = storage.listdir(prefix)
    except (FileNotFoundError, OSError):
        return
    for name in files:
        storage.delete(f"{prefix}/{name}")


def job_remove(*, tenant_slug: str, job_id: int, uri: str = "") -> None:
    """Remove everything a job stored (parts and output)."""
    local = _local_path(job_prefix(tenant_slug=tenant_slug, job_id=job_id))
    if local is not None:
        shutil.rmtree(local, ignore_errors=True)
        return
    parts_remove(tenant_slug=tenant_slug, job_id=job_id)
    if uri:
        storage = bundle_storage()
        if storage.exists(uri):
            storage.delete(uri)
