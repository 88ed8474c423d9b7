"""The gate: every servable model compared on the gate users over the re-splits."""

from __future__ import annotations

import numpy as np

from engine.metrics import ranking_metrics
from engine.pipeline.config import K
from engine.pipeline.splits import Split


def rerank_topk(cands: np.ndarray, scores: np.ndarray, k: int = K) -> np.ndarray:
    """Top-k internal ids from candidates (n, C) by scores (n, C); padding (-1) goes last."""
    s = np.where(cands >= 0, scores, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(cands, order, axis=1)


class GateSet:
    """Gate users' candidate lists and baseline scores over one or more re-splits.

    Metrics are averaged over the re-splits, weighted by the number of evaluated users.
    """

    def __init__(self):
        self.parts: list[dict] = []

    def add(self, gb: dict, split: Split, users: np.ndarray) -> None:
        """``gb``: :func:`fusion_data.candidate_features` of ``users`` (each model's ``top``)."""
        if len(users) == 0:
            return
        metrics = {
            k: ranking_metrics(top, split.truth, users, K, per_user=True)
            for k, top in gb["top"].items()
        }
        per_user = {k: (m.pop("ndcg_per_user"), m.pop("evaluated")) for k, m in metrics.items()}
        self.parts.append({"features": gb.get("features"), "candidates": gb["candidates"],
                           "truth": split.truth, "users": users, "metrics": metrics,
                           "per_user": per_user})  # fmt: skip

    @staticmethod
    def _average(dicts: list[dict]) -> dict:
        n = np.array([d["users"] for d in dicts], dtype=np.float64)
        out = {}
        for key in dicts[0]:
            if key == "users":
                out[key] = int(n.sum())
            else:
                out[key] = float(np.dot([d[key] for d in dicts], n) / max(n.sum(), 1.0))
        out["resplits"] = len(dicts)
        return out

    def model_metrics(self) -> dict[str, dict]:
        names = self.parts[0]["metrics"].keys()
        return {k: self._average([p["metrics"][k] for p in self.parts]) for k in names}

    def features(self) -> np.ndarray:
        return np.concatenate([p["features"] for p in self.parts])

    def paired_gain(self, scores: np.ndarray, baseline: str) -> dict:
        """Per-user nDCG@10 gain of the reranking given ``scores`` (rows as
        :meth:`features`) over the single model ``baseline``: each gate user's gain averaged
        over the re-splits that evaluated them, then mean and standard error over users."""
        total: dict[int, list[float]] = {}
        start = 0
        for p in self.parts:
            n = len(p["users"])
            top = rerank_topk(p["candidates"], scores[start : start + n])
            m = ranking_metrics(top, p["truth"], p["users"], K, per_user=True)
            base, base_users = p["per_user"][baseline]
            assert np.array_equal(base_users, m["evaluated"])
            for u, g in zip(m["evaluated"].tolist(), m["ndcg_per_user"] - base, strict=True):
                total.setdefault(u, []).append(g)
            start += n
        gains = np.array([np.mean(v) for v in total.values()])
        n = len(gains)
        se = float(gains.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
        return {"mean": float(gains.mean()) if n else 0.0, "se": se, "users": n}

    def fusion_metrics(self, scores: np.ndarray) -> dict:
        """Metrics of a reranking given scores for :meth:`features` (rows in the same order)."""
        out, start = [], 0
        for p in self.parts:
            n = len(p["users"])
            top = rerank_topk(p["candidates"], scores[start : start + n])
            out.append(ranking_metrics(top, p["truth"], p["users"], K))
            start += n
        return self._average(out)
