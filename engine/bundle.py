"""Model bundle: a directory of ``.npy`` / ``.onnx`` files plus ``manifest.json``.

No pickle anywhere: arrays are written with ``np.save(allow_pickle=False)`` and read back with
``allow_pickle=False``; string ids are fixed-width unicode arrays. The manifest lists the sha256
and size of every file; :func:`read_bundle` verifies them and raises :class:`BundleError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["BundleError", "FORMAT_VERSION", "read_bundle", "sha256_file", "write_bundle"]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class BundleError(RuntimeError):
    """A bundle that is missing, tampered with or incompatible; the message says what to do."""


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bundle(
    out_dir: str | Path,
    arrays: dict[str, np.ndarray],
    manifest: dict,
    files: dict[str, str | Path] | None = None,
) -> dict:
    """Write a bundle atomically (temp dir next to ``out_dir`` + ``os.replace``).

    Args:
        arrays: name -> array, saved as ``<name>.npy`` (object arrays are refused).
        manifest: metadata; ``files``/``format_version`` are filled in here.
        files: extra files to copy in (name in bundle -> source path), e.g. ONNX models.
    Returns:
        the manifest as written.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for name, arr in arrays.items():
            arr = np.asarray(arr)
            if arr.dtype == object:
                raise ValueError(f"array {name!r} has dtype object; use a fixed-width dtype")
            np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
        for name, src in (files or {}).items():
            shutil.copyfile(src, tmp / name)
        entries = {}
        for p in sorted(tmp.iterdir()):
            entries[p.name] = {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        manifest = dict(manifest)
        manifest["format_version"] = FORMAT_VERSION
        manifest["files"] = entries
        manifest["bundle_bytes"] = int(sum(e["bytes"] for e in entries.values()))
        with open(tmp / MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True, default=_json_default)
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_manifest(path: str | Path) -> dict:
    path = Path(path)
    mf = path / MANIFEST
    if not path.is_dir():
        raise BundleError(f"bundle {path} does not exist; train one with `python -m engine train`")
    if not mf.is_file():
        raise BundleError(f"{path} has no {MANIFEST}; it is not a bundle (or is incomplete)")
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{mf} is not valid JSON ({exc}); retrain the bundle") from exc
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"bundle {path} has format_version {version!r}; this engine reads "
            f"{FORMAT_VERSION}. Retrain it with this engine version."
        )
    if not isinstance(manifest.get("files"), dict):
        raise BundleError(f"{mf} lists no files; retrain the bundle")
    return manifest


def read_bundle(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Verify every checksum, then load the arrays (never pickle).

    Returns (manifest, arrays by name without ``.npy``). ONNX files are verified but not
    loaded; their paths are ``Path(path) / name``.
    """
    path = Path(path)
    manifest = read_manifest(path)
    arrays: dict[str, np.ndarray] = {}
    for name, meta in manifest["files"].items():
        if "/" in name or name.startswith(".") or name == MANIFEST:
            raise BundleError(f"bundle {path}: suspicious file name {name!r} in manifest")
        p = path / name
        if not p.is_file():
            raise BundleError(f"bundle {path} is missing {name}; the bundle is incomplete, "
                              "retrain or restore it")  # fmt: skip
        if p.stat().st_size != meta.get("bytes") or sha256_file(p) != meta.get("sha256"):
            raise BundleError(
                f"bundle {path}: checksum mismatch for {name} (file changed after training); "
                "refusing to load. Restore the bundle from the registry or retrain it."
            )
        if name.endswith(".npy"):
            try:
                arrays[name[:-4]] = np.load(p, allow_pickle=False)
            except ValueError as exc:
                raise BundleError(f"bundle {path}: {name} is not a plain array ({exc})") from exc
    return manifest, arrays
