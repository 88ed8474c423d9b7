"""The fusion reranker at serving time: an onnxruntime session over the bundle's ONNX file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.bundle import BundleError

__all__ = ["FusionReranker", "open_fusion_session"]


class FusionReranker:
    """Scores one user's candidates with the bundle's fusion model."""

    def __init__(self, path: Path, manifest: dict, model: str, n_features: int) -> None:
        self._session, self._input_name = open_fusion_session(path, manifest, model, n_features)

    def rank(self, candidates: np.ndarray, features: np.ndarray, k: int):
        """``(items, scores, all scores)``: the top-``k`` of ``candidates`` (item indices, -1 =
        padding) by fused score, best first, and the fused scores of every valid candidate."""
        valid = candidates >= 0
        cands = candidates[valid]
        if len(cands) == 0:
            return cands, np.zeros(0, np.float32), np.zeros(0, np.float32)
        s = self._session.run(None, {self._input_name: features[valid]})[0].reshape(-1)
        order = np.argsort(-s, kind="stable")[:k]
        return cands[order], s[order], s


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
