"""Bundle round trip, checksums, no pickle, and no TensorFlow at serving time."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.bundle import BundleError, read_bundle, write_bundle
from engine.recommender import Recommender

ROOT = Path(__file__).resolve().parents[2]


def test_round_trip_preserves_arrays_and_manifest(tmp_path):
    arrays = {"ids": np.array(["a", "bb"]), "x": np.arange(6, dtype=np.float32).reshape(2, 3)}
    m = write_bundle(tmp_path / "b", arrays, {"served_model": "ease"})
    manifest, got = read_bundle(tmp_path / "b")
    assert manifest["served_model"] == "ease" and manifest["files"] == m["files"]
    assert got["ids"].dtype.kind == "U" and got["ids"].tolist() == ["a", "bb"]
    assert np.array_equal(got["x"], arrays["x"])
    # rewriting replaces atomically and leaves no temp dirs behind
    write_bundle(tmp_path / "b", arrays, {"served_model": "mf"})
    assert read_bundle(tmp_path / "b")[0]["served_model"] == "mf"
    assert [p.name for p in tmp_path.iterdir()] == ["b"]


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError, match="object"):
        write_bundle(tmp_path / "b", {"bad": np.array([{"a": 1}], dtype=object)}, {})
    assert not (tmp_path / "b").exists()


def test_trained_bundle_loads_and_tampering_is_refused(trained_bundle, tmp_path):
    out, manifest, _ = trained_bundle
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    Recommender.load(copy)  # intact copy loads
    # every array loads without pickle
    for name in manifest["files"]:
        if name.endswith(".npy"):
            np.load(copy / name, allow_pickle=False)
    # flip one byte of a factor file
    target = copy / "item_factors.npy"
    raw = bytearray(target.read_bytes())
    raw[-1] ^= 0xFF
    target.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="checksum mismatch for item_factors.npy"):
        Recommender.load(copy)
    # a missing ONNX file
    shutil.rmtree(copy)
    shutil.copytree(out, copy)
    served = manifest["fusion"]["served_file"] + ".onnx"
    (copy / served).unlink()
    with pytest.raises(BundleError, match="missing"):
        Recommender.load(copy)
    # an incompatible format version
    shutil.rmtree(copy)
    shutil.copytree(out, copy)
    mf = json.loads((copy / "manifest.json").read_text())
    mf["format_version"] = 999
    (copy / "manifest.json").write_text(json.dumps(mf))
    with pytest.raises(BundleError, match="format_version"):
        Recommender.load(copy)
    with pytest.raises(BundleError, match="does not exist"):
        Recommender.load(tmp_path / "nope")


def test_serving_imports_no_tensorflow(trained_bundle):
    out, _, _ = trained_bundle
    code = (
        "import sys\n"
        "import engine.recommender, engine.bundle, engine.pipeline, engine.cli\n"
        f"rec = engine.recommender.Recommender.load({str(out)!r})\n"
        "rec.recommend(rec.manifest and 'u1', k=5)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
        "assert 'keras' not in sys.modules, 'keras imported'\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().endswith("ok")
