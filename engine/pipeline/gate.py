"""The gate: every servable model compared on the gate users over the re-splits."""

from __future__ import annotations

import numpy as np

from engine.cf import popularity
from engine.metrics import ranking_metrics, topk_from_scores
from engine.pipeline.config import K
from engine.pipeline.splits import _Split


def rerank_topk(cands: np.ndarray, scores: np.ndarray, k: int = K) -> np.ndarray:
    """Top-k internal ids from candidates (n, C) by scores (n, C); padding (-1) goes last."""
    s = np.where(cands >= 0, scores, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(cands, order, axis=1)


class _GateSet:
    """Gate users' candidate lists and baseline scores over one or more re-splits.

    Metrics are averaged over the re-splits, weighted by the number of evaluated users.
    """

    def __init__(self, use_ease: bool):
        self.use_ease = use_ease
        self.parts: list[dict] = []

    def add(self, gb: dict, split: _Split, users: np.ndarray) -> None:
        if len(users) == 0:
            return
        pop_in = popularity(split.x_inner)
        rows = {
            "popularity": np.where(gb["mf"] > -np.inf, pop_in[None, :], -np.inf),
            "mf": gb["mf"],
        }
        if self.use_ease:
            rows["ease"], rows["blend"] = gb["ease"], gb["blend"]
        metrics = {
            k: ranking_metrics(topk_from_scores(v, K), split.truth, users, K)
            for k, v in rows.items()
        }
        self.parts.append({"features": gb.get("features"), "candidates": gb["candidates"],
                           "truth": split.truth, "users": users, "metrics": metrics})  # fmt: skip

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

    def fusion_metrics(self, scores: np.ndarray) -> dict:
        """Metrics of a reranking given scores for :meth:`features` (rows in the same order)."""
        out, start = [], 0
        for p in self.parts:
            n = len(p["users"])
            top = rerank_topk(p["candidates"], scores[start : start + n])
            out.append(ranking_metrics(top, p["truth"], p["users"], K))
            start += n
        return self._average(out)
