"""The fusion reranker at serving time: an onnxruntime session over the bundle's ONNX file."""

from __future__ import annotations

from pathlib import Path

from engine.bundle import BundleError

__all__ = ["open_fusion_session"]


def open_fusion_session(path: Path, manifest: dict, model: str, n_features: int):
    """``(session, input name)`` for ``<model>.onnx`` of the bundle at ``path`` (one thread per
    session: web workers run one request per thread). Raises :class:`BundleError` when the
    file is missing or expects another number of features than the bundle's arrays give."""
    import onnxruntime as ort

    onnx_path = Path(path) / f"{model}.onnx"
    if not onnx_path.is_file() or f"{model}.onnx" not in manifest["files"]:
        raise BundleError(f"bundle {path} has no {model}.onnx; retrain the bundle")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    want = session.get_inputs()[0].shape[-1]
    if isinstance(want, int) and want != n_features:
        raise BundleError(
            f"bundle {path}: {model}.onnx expects {want} features but the bundle's arrays give "
            f"{n_features}; the bundle is inconsistent, retrain it"
        )
    return session, session.get_inputs()[0].name
