"""Serving: top-K recommendations from a bundle with numpy + onnxruntime (no TensorFlow).

rec = Recommender.load("bundle/")
rec.recommend("196", k=10)                       # known user
rec.recommend("new", history=[("242", 5.0)])     # fold-in from current interactions
rec.recommend_from_items(["242", "302"])         # anonymous / session user
rec.similar_items("242"); rec.popular(10)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from engine.ann import AnnCandidates
from engine.bundle import BundleError, read_bundle
from engine.fusion_runtime import FusionReranker
from engine.histories import TrainingHistories
from engine.itemitem import item_item_from_arrays
from engine.metrics import topk_from_scores
from engine.mf import fold_in
from engine.related import RelatedItems
from engine.scoring import ScoringContext, UserBatch, build_features, user_side_stats

__all__ = ["Recommender", "SERVABLE_MODELS"]

SERVABLE_MODELS = ("fusion_int8", "fusion_float", "blend", "itemcf", "mf", "popularity")
# bundles written before the item-item weights became sparse kept a dense EASE matrix and
# called the model "ease"; they still load (the matrix is made sparse, nothing is dropped)
_LEGACY_MODEL_NAMES = {"ease": "itemcf"}
# per-user time-popularity totals are precomputed at load up to this many users × items
WARM_TIME_CELLS = 20_000_000
# each trained user's usual request (trained vector, own items excluded, every item eligible)
# is answered at load, its C fused candidates in order, for bundles with at most this many
# users (~0.6 ms each, about a second of load time; 1.2 KB each at C = 100)
WARM_USUAL_USERS = 2_000


class Recommender(RelatedItems):
    """Top-K recommendations over a verified bundle. Thread-safe for concurrent reads."""

    def __init__(
        self,
        manifest: dict,
        arrays: dict[str, np.ndarray],
        path: Path,
        model=None,
        ann_threshold: int | None = None,
        answer_usual: bool = True,
    ):
        self.manifest = manifest
        self.path = Path(path)
        try:
            self._user_ids = arrays["user_ids"]
            self._item_ids = arrays["item_ids"]
            self._P = arrays["user_factors"]
            self._Q = arrays["item_factors"]
            self._pop = arrays["popularity"]
            self._indptr = arrays["seen_indptr"]
            self._indices = arrays["seen_indices"]
            self._weights = arrays["seen_weights"]
            self._user_time = arrays["user_time"]
            item_time = arrays["item_time"]
            item_f = arrays["item_features"]
            self._user_f = arrays["user_features"]
        except KeyError as exc:
            raise BundleError(f"bundle {path} lacks array {exc}; retrain the bundle") from exc
        seen = sp.csr_matrix(
            (np.ones(len(self._indices), np.float32), self._indices, self._indptr),
            shape=(len(self._user_ids), len(self._item_ids)),
        )
        item_item = item_item_from_arrays(arrays, seen)
        if item_item is not None and item_item.n_items != len(self._item_ids):
            raise BundleError(f"bundle {path}: item-item weights do not match its items")
        self._user_rows = arrays.get("user_rows")  # (n_users, 2): rows, largest row id
        self._P2 = arrays.get("user_factors2")
        self._Q2 = arrays.get("item_factors2")
        hp = manifest.get("hyperparameters", {})
        mf_hp = hp.get("mf", {})
        self._alpha = float(mf_hp.get("alpha", 1.0))
        self._transform = str(mf_hp.get("transform", "binary"))
        self._reg = float(mf_hp.get("regularization", 0.1))
        self._hist = TrainingHistories(
            self._user_ids, self._item_ids, self._indptr, self._indices, self._weights,
            self._user_rows,
        )  # fmt: skip
        self._uidx, self._iidx = self._hist.user_index, self._hist.item_index
        self._item_list = self._hist.item_list  # str ids for the output, by index
        self.ctx = ScoringContext(
            item_factors=self._Q,
            item_item=item_item,
            item_factors2=self._Q2,
            pop_log=np.log1p(self._pop).astype(np.float32),
            item_time=item_time,
            item_features=item_f,
            n_candidates=int(hp.get("n_candidates", 100)),
            user_dim=int(self._user_f.shape[1]),
            feature_set=str(hp.get("fusion_features", "base")),
        )
        self._yty = self._Q.T.astype(np.float64) @ self._Q.astype(np.float64)
        self._yty2 = (
            self._Q2.T.astype(np.float64) @ self._Q2.astype(np.float64)
            if self._Q2 is not None
            else None
        )
        n_per_user = np.diff(self._indptr).astype(np.float64)
        g = (self._user_time * n_per_user[:, None]).sum(axis=0)
        self._global_time = (g / max(g.sum(), 1e-9)).astype(np.float32)[None, :]
        if (len(self._user_time) + 1) * self.n_items <= WARM_TIME_CELLS:
            self.ctx.warm_time_totals(np.vstack([self._user_time, self._global_time]))
        qn = np.linalg.norm(self._Q, axis=1, keepdims=True)
        self._Qn = (self._Q / np.maximum(qn, 1e-9)).astype(np.float32)
        self._pop_order = np.argsort(-self._pop, kind="stable")
        self.model = model or manifest.get("served_model", "popularity")
        self.model = _LEGACY_MODEL_NAMES.get(self.model, self.model)
        if self.model not in SERVABLE_MODELS:
            raise BundleError(f"bundle {path}: unknown served model {self.model!r}")
        if self.model in ("itemcf", "blend") and item_item is None:
            raise BundleError(
                f"bundle {path} has no item-item weights; cannot serve {self.model!r}"
            )
        self._ann = self._load_ann(ann_threshold)
        self._fusion = None
        if self.model.startswith("fusion"):
            self._fusion = FusionReranker(self.path, manifest, self.model, self.ctx.n_features)
        self._usual = self._warm_usual() if answer_usual else {}

    def _warm_usual(self) -> dict[int, tuple]:
        """user index → (the user's :func:`user_side_stats`, the fused ranking of their C
        candidates: item indices, scores) for their usual request: trained vectors, everything
        eligible but the user's own items (exact scoring, fusion models, at most
        ``WARM_USUAL_USERS`` users). Computed by the request's own code, so a usual request
        for k <= C is the ranking's first k, bit for bit."""
        if self._fusion is None or self._ann is not None:
            return {}
        if len(self._user_ids) > WARM_USUAL_USERS:
            return {}
        out = {}
        c = self.ctx.n_candidates
        for u, uid in enumerate(self._user_ids.tolist()):
            items, w = self._hist.of(uid, None)
            elig = np.ones(self.n_items, dtype=bool)
            elig[items] = False
            stats = user_side_stats(self.ctx, self._batch(uid, items, w, False, elig))
            ranked = self._recommend_model(uid, items, w, False, elig, c, stats)
            idx = np.array([self._iidx[i] for i, _ in ranked], np.int32)
            out[u] = (stats, idx, np.array([v for _, v in ranked], np.float64))
        return out

    # ------------------------------------------------------------ construction
    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        model: str | None = None,
        ann_threshold: int | None = None,
        answer_usual: bool = True,
    ) -> Recommender:
        """Load and verify a bundle. ``model`` overrides the served model (benchmarks).

        ``ann_threshold`` overrides the bundle's: ANN candidates are used when the catalogue
        has more items than it (the bundle's saved index, else one built now, in memory); with
        the catalogue at or below it, scoring is exact. ``answer_usual=False``: trained users'
        usual requests are scored per request too, not answered at load (benchmarks of the
        scoring cost).
        """
        manifest, arrays = read_bundle(path)
        return cls(
            manifest,
            arrays,
            Path(path),
            model=model,
            ann_threshold=ann_threshold,
            answer_usual=answer_usual,
        )

    def _load_ann(self, threshold: int | None) -> AnnCandidates | None:
        usable = self.model == "mf" or self.model.startswith("fusion")
        if not usable:  # itemcf/blend/popularity: always exact
            return None
        return AnnCandidates.for_bundle(self.manifest, self.path, self._Q, threshold)

    @property
    def uses_ann(self) -> bool:
        """True when candidates come from the ANN index (large catalogue)."""
        return self._ann is not None

    def _ann_pool(self, uvec: np.ndarray, elig: np.ndarray, need: int) -> np.ndarray | None:
        return self._ann.pool(uvec, elig, need) if self._ann is not None else None

    # ------------------------------------------------------------ helpers
    @property
    def n_items(self) -> int:
        return int(len(self._item_ids))

    @property
    def item_ids(self) -> list[str]:
        """The bundle's item ids in index order: a boolean ``allowed_items`` mask is over
        these (read-only)."""
        return self._item_list

    def knows_user(self, user_id) -> bool:
        return str(user_id) in self._uidx

    def knows_item(self, item_id) -> bool:
        return str(item_id) in self._iidx

    def training_rows(self, user_id) -> tuple[int, int] | None:
        """See :meth:`TrainingHistories.training_rows`."""
        return self._hist.training_rows(user_id)

    def strategy_for(self, user_id, history=None) -> str:
        """ "model" when the user has usable behaviour, else "popularity".

        With ``history`` given, only that history counts (an empty or all-unknown history means
        popularity, even for a user known at training time); without it, a user known to the
        bundle gets the model.
        """
        if self.model == "popularity":
            return "popularity"
        if history is not None:
            items, _ = self._hist.of(None, history)
            return "model" if len(items) else "popularity"
        return "model" if self.knows_user(user_id) else "popularity"

    def _mask(self, exclude_items, allowed_items) -> np.ndarray:
        """Eligible items: ``allowed_items`` (ids, or a boolean mask over :attr:`item_ids`;
        None = all) without ``exclude_items``."""
        if allowed_items is None:
            elig = np.ones(self.n_items, dtype=bool)
        elif isinstance(allowed_items, np.ndarray) and allowed_items.dtype == bool:
            if allowed_items.shape != (self.n_items,):
                raise ValueError(f"an allowed_items mask needs shape ({self.n_items},)")
            elig = allowed_items.copy()
        else:
            elig = np.zeros(self.n_items, dtype=bool)
            elig[[self._iidx[str(i)] for i in allowed_items if str(i) in self._iidx]] = True
        for i in exclude_items or ():
            j = self._iidx.get(str(i))
            if j is not None:
                elig[j] = False
        return elig

    def _confidence(self, w: np.ndarray) -> np.ndarray:
        if self._transform == "binary":
            f = np.ones_like(w)
        elif self._transform == "log":
            f = np.log1p(w)
        else:
            f = w
        return 1.0 + self._alpha * f

    def _top(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        finite = np.flatnonzero(np.isfinite(scores))
        if len(finite) == 0 or k <= 0:
            return []
        sub = scores[finite]
        part = topk_from_scores(sub[None, :], k)[0]  # ties: lowest index first
        ids, vals = finite[part].tolist(), sub[part].tolist()
        return [(self._item_list[i], v) for i, v in zip(ids, vals, strict=True)]

    # ------------------------------------------------------------ public API
    def popular(self, k: int = 10, *, allowed_items=None) -> list[tuple[str, float]]:
        """Most popular items (score = number of distinct users in training)."""
        scores = np.where(self._mask((), allowed_items), self._pop, -np.inf)
        return self._top(scores.astype(np.float64), k)

    def user_vector(self, user_id=None, history=None) -> np.ndarray:
        """The MF user vector: trained, or folded in when ``history`` is given."""
        if history is None and self.knows_user(user_id):
            return self._P[self._uidx[str(user_id)]]
        items, w = self._hist.of(user_id, history)
        if self._hist.is_training_history(user_id, items, w):
            return self._P[self._uidx[str(user_id)]]
        return fold_in(self._Q, items, self._confidence(w), self._reg, self._yty)

    def recommend(
        self,
        user_id,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        exclude_items: Iterable = (),
        allowed_items: Iterable | np.ndarray | None = None,
        history: Iterable | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (item_id, score) for a user, best first.

        Only ``allowed_items`` (ids, or a boolean mask over :attr:`item_ids`: what serving
        passes, the items servable now) minus ``exclude_items`` are eligible: they are ranked,
        and the per-user feature statistics are taken over them.

        ``history`` (item_id, weight) pairs are the user's current interactions: they are
        folded into the user vector (a history equal to the user's training history keeps the
        trained vector) and excluded when ``exclude_seen``. An unknown user without usable
        history gets popularity (see :meth:`strategy_for`).
        """
        elig = self._mask(exclude_items, allowed_items)
        items, w = self._hist.of(user_id, history)
        if exclude_seen and len(items):
            elig[items] = False
        if len(items) == 0 and (history is not None or not self.knows_user(user_id)):
            return self._top(np.where(elig, self._pop, -np.inf).astype(np.float64), k)
        if self.model == "popularity":
            return self._top(np.where(elig, self._pop, -np.inf).astype(np.float64), k)
        from_history = history is not None and not self._hist.is_training_history(user_id, items, w)
        usual = None  # the trained user's usual request: answered at load
        if exclude_seen and not from_history and not exclude_items and allowed_items is None:
            usual = self._usual.get(self._uidx.get(str(user_id)))
        if usual is not None and k <= self.ctx.n_candidates:
            idx, scores = usual[1][:k].tolist(), usual[2][:k].tolist()
            return [(self._item_list[i], v) for i, v in zip(idx, scores, strict=True)]
        stats = usual[0] if usual is not None else None
        return self._recommend_model(user_id, items, w, from_history, elig, k, stats)

    def recommend_from_items(
        self,
        item_ids: Iterable,
        k: int = 10,
        *,
        weights: Iterable[float] | None = None,
        exclude_items: Iterable = (),
        allowed_items: Iterable | None = None,
    ) -> list[tuple[str, float]]:
        """Recommendations for an anonymous/session user from the items they interacted with."""
        item_ids = list(item_ids)
        ws = list(weights) if weights is not None else [1.0] * len(item_ids)
        if len(ws) != len(item_ids):
            raise ValueError("weights must have one value per item id")
        return self.recommend(
            None,
            k,
            exclude_seen=True,
            exclude_items=exclude_items,
            allowed_items=allowed_items,
            history=list(zip(item_ids, ws, strict=True)),
        )

    # ------------------------------------------------------------ model path
    def _batch(self, user_id, items, w, from_history: bool, elig) -> UserBatch:
        u = self._uidx.get(str(user_id)) if user_id is not None else None
        hist = np.zeros((1, self.n_items), np.float32)
        hist[0, items] = 1.0
        uvec2 = None
        if u is not None and not from_history:
            uvec = self._P[u]
            if self._P2 is not None:
                uvec2 = self._P2[u]
        else:
            conf = self._confidence(w)
            uvec = fold_in(self._Q, items, conf, self._reg, self._yty)
            if self._Q2 is not None:
                uvec2 = fold_in(self._Q2, items, conf, self._reg, self._yty2)
        return UserBatch(
            history=hist,
            user_vectors=uvec[None, :].astype(np.float32),
            time_hist=self._user_time[u][None, :] if u is not None else self._global_time,
            user_features=(
                self._user_f[u][None, :]
                if u is not None
                else np.zeros((1, self._user_f.shape[1]), np.float32)
            ),
            eligible=elig[None, :],
            user_vectors2=uvec2[None, :].astype(np.float32) if uvec2 is not None else None,
            history_items=items,
        )

    def _recommend_model(self, user_id, items, w, from_history, elig, k, usual=None):
        batch = self._batch(user_id, items, w, from_history, elig)
        fusion = self._fusion is not None
        pool = None
        if self.model == "mf" or fusion:
            need = max(k, self.ctx.n_candidates) if fusion else k
            pool = self._ann_pool(batch.user_vectors[0], elig, need)
        # the fusion reads the full score rows only to go on past its C candidates
        full_rows = not fusion or k > self.ctx.n_candidates
        out = build_features(
            self.ctx, batch, with_features=fusion, pool=pool, full_rows=full_rows, user_stats=usual
        )
        if self.model in ("itemcf", "mf", "blend"):
            return self._top(out[self.model][0].astype(np.float64), k)
        cands, top, scores = self._fusion.rank(out["candidates"][0], out["features"][0], k)
        res = [(self._item_list[i], v) for i, v in zip(cands.tolist(), top.tolist(), strict=True)]
        # more than C requested: continue with the candidate score order (with k <= C
        # every eligible item is already a candidate whenever fewer than k are returned)
        if len(res) < k and full_rows:
            rest = out["blend"][0].astype(np.float64)
            every = out["candidates"][0]
            rest[every[every >= 0]] = -np.inf
            floor = float(scores.min()) if len(scores) else 0.0
            extra = self._top(rest, k - len(res))
            res += [(i, floor - 1.0 - r) for r, (i, _) in enumerate(extra)]
        return res
