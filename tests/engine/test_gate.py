"""The gate: the fusion replaces the best single model only on a significant per-user gain."""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp

from engine.pipeline.config import TrainConfig
from engine.pipeline.gate import GateSet
from engine.pipeline.selection import _gate
from engine.pipeline.splits import Split


def _gate_set(n_users: int) -> tuple[GateSet, np.ndarray]:
    """Users 0..n-1, each with relevant item 0; every single model ranks item 1 first and
    item 0 second; candidates are items 0..2 (so a reranking can put item 0 first)."""
    users = np.arange(n_users)
    truth = sp.csr_matrix((np.ones(n_users), (users, np.zeros(n_users, int))), shape=(n_users, 5))
    split = Split(None, None, None, None, truth, users)
    top = np.tile(np.array([1, 0, 2, 3, 4]), (n_users, 1))
    names = ("popularity", "mf", "itemcf", "blend")
    gb = {"top": {k: top for k in names}, "features": np.zeros((n_users, 3, 1), np.float32),
          "candidates": np.tile(np.array([0, 1, 2]), (n_users, 1))}  # fmt: skip
    gs = GateSet()
    gs.add(gb, split, users)
    return gs, users


def _metrics(gs: GateSet, fusion_scores: np.ndarray) -> tuple[dict, dict]:
    mv = gs.model_metrics()
    info = {"trained": True, "served_file": "fusion_int8", "gate_scores": fusion_scores}
    mv["fusion_float"] = mv["fusion_int8"] = gs.fusion_metrics(fusion_scores)
    return mv, info


def test_a_clear_per_user_gain_serves_the_fusion():
    gs, users = _gate_set(30)
    better = np.tile(np.array([3.0, 2.0, 1.0]), (len(users), 1))  # item 0 first: a hit at 1
    mv, info = _metrics(gs, better)
    served, gate = _gate(mv, gs, info, TrainConfig())
    assert served == "fusion_int8" and gate["winner"] == "fusion_float"
    assert gate["fusion_vs_best_single"]["mean"] > 0


def test_no_gain_keeps_the_best_single_model():
    gs, users = _gate_set(30)
    same = np.tile(np.array([2.0, 3.0, 1.0]), (len(users), 1))  # item 1 first, as the others
    mv, info = _metrics(gs, same)
    served, gate = _gate(mv, gs, info, TrainConfig())
    assert served == gate["winner"] and not served.startswith("fusion")


def test_one_gate_user_is_never_enough_and_the_record_is_valid_json():
    gs, users = _gate_set(1)
    mv, info = _metrics(gs, np.array([[3.0, 2.0, 1.0]]))
    served, gate = _gate(mv, gs, info, TrainConfig())
    assert not served.startswith("fusion")
    assert gate["fusion_vs_best_single"]["se"] is None
    json.dumps(gate, allow_nan=False)  # PostgreSQL's JSON takes no inf/NaN
