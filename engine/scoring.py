"""Numpy-only scoring shared by training and serving: CF scores, candidates, fusion features.

The exact same code builds the fusion model's inputs when the pipeline trains it and when the
Recommender serves it, so the two can never drift apart. No TensorFlow here.

Per (user u, candidate item i) the feature vector is (D = 14 [+ du + di [+ 3f]]):
  0  z_icf    item-item CF score (Σ of the history's rows of W, see engine.itemitem)
              standardised over the user's eligible items
  1  z_mf     MF score (P_u·Q_i) standardised the same way
  2  icf      raw item-item score
  3  mf       raw MF score
  4  r_icf    log1p(rank by item-item score among candidates) / log1p(C)
  5  r_mf     the same by MF
  6  r_cand   the same by the candidate score (z_icf + z_mf)
  7  pop      log1p(item popularity), standardised over the catalogue
  8  z_pop    popularity standardised over the user's eligible items
  9  tpop     log of the item's popularity at the user's active times (time histogram), std.
 10  tlift    tpop − pop (how much more the item is watched "when the user is active")
 11  n_user   log1p(history length)
 12  u_pop    mean pop of the user's history
 13  affinity cosine(mean item features of the history, item features)
 then, with feature_set "side" or "full", user features (du) and item features (di), and
 with "full" also P_u (f), Q_i (f), P_u ⊙ Q_i (f).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.itemitem import EaseDual, SparseNeighbours

__all__ = [
    "BASE_FEATURES",
    "SECOND_MF_FEATURES",
    "ScoringContext",
    "UserBatch",
    "build_features",
    "cf_scores",
    "user_side_stats",
]

BASE_FEATURES = [
    "z_icf", "z_mf", "icf", "mf", "r_icf", "r_mf", "r_cand", "pop", "z_pop", "tpop",
    "tlift", "n_user", "u_pop", "affinity",
]  # fmt: skip


# with a second MF model (another factor count): its per-user z-score and candidate rank
SECOND_MF_FEATURES = ["z_mf2", "r_mf2"]

# per-user time-popularity totals kept by a ScoringContext (a few hundred bytes each)
TIME_MEMO_SIZE = 1 << 16


def _log_time(scores: np.ndarray) -> np.ndarray:
    """log P(i | user's bins) from ``time_hist @ item_time`` (float32, as the batch path)."""
    return np.log(scores + 1e-7).astype(np.float32)


def _totals(row: np.ndarray) -> tuple[float, float]:
    """(Σx, Σx²) of a float32 row, accumulated in float64."""
    r = row.astype(np.float64)
    return float(r.sum()), float(r @ r)


@dataclass
class ScoringContext:
    """Everything item-side that scoring needs.

    Attributes:
        item_factors: (n_items, f) float32 MF item vectors Q.
        item_item: the item-item model (:mod:`engine.itemitem`: sparse neighbours or
            user-space EASE), or None (its features are then 0).
        pop_log: (n_items,) float32 log1p(popularity).
        item_time: (n_bins, n_items) float32 P(item | time bin), smoothed.
        item_features: (n_items, di) float32 standardised item features.
        item_feat_norm: (n_items,) float32 L2 norms of item_features (0 allowed).
        n_candidates: C, the candidate pool size the fusion model reranks.
    """

    item_factors: np.ndarray
    item_item: SparseNeighbours | EaseDual | None
    pop_log: np.ndarray
    item_time: np.ndarray
    item_features: np.ndarray
    n_candidates: int

    def __post_init__(self) -> None:
        self.item_feat_norm = np.linalg.norm(self.item_features, axis=1).astype(np.float32)
        pl = self.pop_log
        self.pop_std = ((pl - pl.mean()) / max(float(pl.std()), 1e-6)).astype(np.float32)
        self.log_item_time = np.log(self.item_time + 1e-7).astype(np.float32)
        self.item_time_t = np.ascontiguousarray(self.item_time.T)  # (n_items, n_bins) rows
        self.pop_totals = _totals(self.pop_std)
        self._time_memo: dict[bytes, tuple[float, float]] = {}

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    def moments(self, which: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(QᵀQ, ΣQ_i) in float64 for MF model 1 or 2 (cached; used with a candidate pool)."""
        cache = self.__dict__.setdefault("_moments", {})
        if which not in cache:
            q = (self.item_factors if which == 1 else self.item_factors2).astype(np.float64)
            cache[which] = (q.T @ q, q.sum(axis=0))
        return cache[which]

    def time_totals(self, time_hist: np.ndarray) -> tuple[float, float]:
        """(Σ, Σ²) over the catalogue of log P(i | the bins of ``time_hist``) (one user's
        (n_bins,) histogram), memoised by the histogram's bytes: it depends on the user only."""
        th = np.asarray(time_hist, np.float32)
        key = th.tobytes()
        hit = self._time_memo.get(key)
        if hit is None:
            hit = _totals(_log_time(th[None, :] @ self.item_time)[0])
            self._remember_time(key, hit)
        return hit

    def warm_time_totals(self, time_hists: np.ndarray, chunk: int = 256) -> None:
        """Precompute :meth:`time_totals` for many histograms at once (a bundle's users)."""
        for s in range(0, len(time_hists), chunk):
            rows = np.asarray(time_hists[s : s + chunk], np.float32)
            for th, lt in zip(rows, _log_time(rows @ self.item_time), strict=True):
                self._remember_time(th.tobytes(), _totals(lt))

    def _remember_time(self, key: bytes, value: tuple[float, float]) -> None:
        if len(self._time_memo) >= TIME_MEMO_SIZE:  # bounded; a racing clear only costs a redo
            self._time_memo.clear()
        self._time_memo[key] = value

    @property
    def n_features(self) -> int:
        f = self.item_factors.shape[1]
        side = self.user_dim + self.item_features.shape[1] if self.feature_set != "base" else 0
        f = f if self.feature_set == "full" else 0
        second = len(SECOND_MF_FEATURES) if self.item_factors2 is not None else 0
        return len(BASE_FEATURES) + second + side + 3 * f

    user_dim: int = 0
    item_factors2: np.ndarray | None = None
    feature_set: str = "base"  # "base" | "side" (+ user/item features) | "full" (+ MF vectors)


@dataclass
class UserBatch:
    """A batch of n users to score.

    Attributes:
        history: (n, n_items) float32 dense 0/1 matrix of the users' items (binary).
        user_vectors: (n, f) float32 MF user vectors (trained or folded in).
        time_hist: (n, n_bins) float32 each user's distribution over time bins.
        user_features: (n, du) float32 standardised user features (zeros if unknown).
        eligible: (n, n_items) bool, items that may be recommended (not seen, allowed).
        history_items: optional, one user only: the sorted columns where ``history`` is
            nonzero (spares the single-user path a scan of the row).
    """

    history: np.ndarray
    user_vectors: np.ndarray
    time_hist: np.ndarray
    user_features: np.ndarray
    eligible: np.ndarray
    user_vectors2: np.ndarray | None = None
    history_items: np.ndarray | None = None


def cf_scores(ctx: ScoringContext, batch: UserBatch) -> tuple[np.ndarray, np.ndarray]:
    """(icf, mf) raw scores, each (n, n_items) float32."""
    mf = batch.user_vectors @ ctx.item_factors.T
    if ctx.item_item is not None:
        icf = ctx.item_item.batch_scores(batch.history)
    else:
        icf = np.zeros_like(mf)
    return icf.astype(np.float32), mf.astype(np.float32)


def _zscore(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Standardise each row over its ``mask``ed entries (population std)."""
    cnt = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    xm = np.where(mask, x, 0.0)
    mean = xm.sum(axis=1, keepdims=True) / cnt
    var = (np.where(mask, (x - mean) ** 2, 0.0)).sum(axis=1, keepdims=True) / cnt
    return ((x - mean) / np.sqrt(var + 1e-12)).astype(np.float32)


def _rank_feature(scores: np.ndarray, c: int) -> np.ndarray:
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    return (np.log1p(ranks) / np.log1p(max(c, 1))).astype(np.float32)


def build_features(
    ctx: ScoringContext,
    batch: UserBatch,
    with_features: bool = True,
    pool: np.ndarray | None = None,
    full_rows: bool = True,
    user_stats: UserSideStats | None = None,
) -> dict[str, np.ndarray]:
    """Candidates and fusion features for a batch of users.

    One user (serving) takes a fast path that touches the catalogue only where it must
    (:func:`_build_one`); its features equal the batch path's up to float rounding (tested).

    ``pool`` (one user): eligible item ids fetched by the ANN index over the MF factors;
    candidates are then taken from the pool united with the item-item model's top C eligible
    items, scored exactly, and every per-user statistic (z-scores) is still computed over all
    eligible items, so the features equal the exact path's whenever the pool holds the exact
    candidates.

    Returns a dict with
        candidates: (n, C) int64 item ids, -1 where fewer than C items are eligible;
        cand_score: (n, C) float32 candidate score (z_icf + z_mf), -inf on padding;
        itemcf, mf, blend: (n, n_items) float32 full score rows (-inf where not eligible; with
            ``pool``, -inf outside the pool too); only with ``full_rows``;
        features: (n, C, D) float32 (only if ``with_features``).
    """
    if batch.history.shape[0] == 1:
        return _build_one(ctx, batch, with_features, pool, full_rows, user_stats)
    if pool is not None:
        raise ValueError("a candidate pool needs one user")
    n = batch.history.shape[0]
    elig = batch.eligible
    icf, mf = cf_scores(ctx, batch)
    z_e = _zscore(icf, elig) if ctx.item_item is not None else np.zeros_like(icf)
    z_m = _zscore(mf, elig)
    blend = np.where(elig, z_e + z_m, -np.inf).astype(np.float32)
    c = min(ctx.n_candidates, ctx.n_items)
    if c < ctx.n_items:
        part = np.argpartition(-blend, c - 1, axis=1)[:, :c]
    else:
        part = np.tile(np.arange(ctx.n_items), (n, 1))
    ps = np.take_along_axis(blend, part, axis=1)
    order = np.argsort(-ps, axis=1, kind="stable")
    cands = np.take_along_axis(part, order, axis=1).astype(np.int64)
    cscore = np.take_along_axis(ps, order, axis=1)
    valid = np.isfinite(cscore)
    cands[~valid] = -1
    out = {"candidates": cands, "cand_score": cscore.astype(np.float32)}
    if full_rows:
        out["itemcf"] = np.where(elig, icf, -np.inf).astype(np.float32)
        out["mf"] = np.where(elig, mf, -np.inf).astype(np.float32)
        out["blend"] = blend
    if not with_features:
        return out
    safe = np.where(valid, cands, 0)

    def g(m: np.ndarray) -> np.ndarray:  # a row over the catalogue at the candidates
        return np.take_along_axis(m, safe, axis=1)

    ce, cm = g(icf), g(mf)
    neg = np.float32(-1e9)
    r_e = _rank_feature(np.where(valid, ce, neg), c)
    r_m = _rank_feature(np.where(valid, cm, neg), c)
    r_c = _rank_feature(np.where(valid, cscore, neg), c)
    z_pop = g(_zscore(np.broadcast_to(ctx.pop_std[None, :], elig.shape), elig))
    # time: log P(i | bins of u) standardised over eligible items, and lift over plain pop
    tpop = g(_zscore(_log_time(batch.time_hist @ ctx.item_time), elig))
    hist_n = batch.history.sum(axis=1)
    u_pop = (batch.history @ ctx.pop_std) / np.maximum(hist_n, 1)
    itf = ctx.item_features
    if itf.shape[1]:
        prof = (batch.history @ itf) / np.maximum(hist_n, 1)[:, None]
        pn = np.linalg.norm(prof, axis=1, keepdims=True)
        aff = np.einsum("nd,ncd->nc", prof, itf[safe]) / np.maximum(
            pn * ctx.item_feat_norm[safe], 1e-6
        )
    else:
        aff = np.zeros((n, c), np.float32)
    per_user = np.ones((1, c), np.float32)
    cols = [g(z_e), g(z_m), ce, cm, r_e, r_m, r_c, ctx.pop_std[safe], z_pop, tpop,
            tpop - z_pop, np.log1p(hist_n)[:, None] * per_user, u_pop[:, None] * per_user,
            aff]  # fmt: skip
    if ctx.item_factors2 is not None:
        mf2 = (batch.user_vectors2 @ ctx.item_factors2.T).astype(np.float32)
        cm2 = g(mf2)
        cols += [g(_zscore(mf2, elig)), _rank_feature(np.where(valid, cm2, neg), c)]
    out["features"] = _assemble(ctx, batch, cols, safe, valid)
    return out


def _assemble(ctx, batch, columns, safe, valid) -> np.ndarray:
    """(n, C, D) features from the per-candidate (n, C) feature columns (the base features,
    then the second MF's) and the optional side / MF-vector blocks."""
    n, c = safe.shape
    feats = np.stack(columns, axis=-1).astype(np.float32, copy=False)
    blocks = []
    if ctx.feature_set in ("side", "full"):
        du = batch.user_features.shape[1]
        blocks += [np.broadcast_to(batch.user_features[:, None, :], (n, c, du)),
                   ctx.item_features[safe]]  # fmt: skip
    if ctx.feature_set == "full":
        q = ctx.item_factors[safe]
        p = np.broadcast_to(batch.user_vectors[:, None, :], q.shape)
        blocks += [p, q, p * q]
    if blocks:
        feats = np.concatenate([feats, *blocks], axis=-1).astype(np.float32, copy=False)
    feats[~valid] = 0.0
    return feats


# ---------------------------------------------------------------- one user (serving)
@dataclass(frozen=True)
class _Side:
    """One user's eligible items as the smaller of two index sets, so that the per-user
    moments over the eligible items cost O(min(eligible, ineligible)): sums over the eligible
    items directly, or catalogue totals minus the sums over the ineligible ones."""

    n_eligible: int
    idx: np.ndarray  # item ids on the smaller side
    ineligible: bool  # True: idx lists the ineligible items

    @classmethod
    def of(cls, elig: np.ndarray) -> _Side:
        n_el = int(np.count_nonzero(elig))
        if 2 * n_el >= len(elig):
            return cls(n_el, np.flatnonzero(~elig), True)
        return cls(n_el, np.flatnonzero(elig), False)

    def stats(self, vals: np.ndarray, totals) -> tuple[np.float64, np.float64]:
        """(mean, std) over the eligible items. ``vals``: the values at ``idx``; ``totals``:
        (Σx, Σx²) over the catalogue, or a callable giving them (used only when needed)."""
        if self.n_eligible == 0:
            return np.float64(0.0), np.float64(1.0)
        s1, s2 = _totals(vals)
        if self.ineligible:
            t1, t2 = totals() if callable(totals) else totals
            s1, s2 = t1 - s1, t2 - s2
        mean = s1 / self.n_eligible
        var = max(s2 / self.n_eligible - mean * mean, 0.0)
        # np.float64 scalars keep (x - mean) / std in float64 for float32 x, as _zscore does
        return np.float64(mean), np.sqrt(np.float64(var) + 1e-12)


def _z(x: np.ndarray, stats: tuple[np.float64, np.float64]) -> np.ndarray:
    return ((x - stats[0]) / stats[1]).astype(np.float32)


def _top_indices(key: np.ndarray, c: int) -> np.ndarray:
    """Indices of the ``c`` largest entries of ``key``, in no particular order (exact, as
    argpartition; ties at the boundary broken arbitrarily). A strided sample's top values give
    a threshold that usually keeps a few times ``c`` entries, and only those are partitioned."""
    m = len(key)
    if c >= m:
        return np.arange(m)
    step = m // (4 * c)
    if step >= 2:
        sample = key[::step]
        j = len(sample) - (2 * c + step - 1) // step  # ~2c entries expected at or above it
        above = np.flatnonzero(key >= np.partition(sample, j)[j])
        if len(above) >= c:  # then the c-th largest is >= the threshold: all are in ``above``
            return above[np.argpartition(key[above], len(above) - c)[len(above) - c :]]
    return np.argpartition(key, m - c)[m - c :]


def _mf_stats(ctx, which: int, u: np.ndarray, side: _Side, row=None):
    """(mean, std) of u·Q_i over the eligible items (MF model 1 or 2) from QᵀQ and ΣQ_i;
    ``row``: the scores over the whole catalogue when already computed."""
    q = ctx.item_factors if which == 1 else ctx.item_factors2
    vals = row[side.idx] if row is not None else q[side.idx] @ u

    def totals():
        gram, col_sum = ctx.moments(which)
        u64 = u.astype(np.float64)
        return float(col_sum @ u64), float(u64 @ gram @ u64)

    return side.stats(vals, totals)


@dataclass(frozen=True)
class _Scores:
    """One user's CF scores over the scored columns (the catalogue, or an ANN pool) and the
    (mean, std) of each over all the user's eligible items."""

    mf: np.ndarray
    st_mf: tuple
    icf: np.ndarray | None  # None: no item-item weights (their features are 0)
    st_icf: tuple | None
    cols: np.ndarray | None  # the pool's item ids, None for the whole catalogue
    el: np.ndarray  # eligibility of the scored columns

    @classmethod
    def of(cls, ctx, batch, items, side, pool, st_mf=None, c=0) -> _Scores:
        u = batch.user_vectors[0]
        el = batch.eligible[0]
        icf = st_icf = None
        if ctx.item_item is not None:  # over the catalogue, with no n_items² work
            icf = ctx.item_item.scores(items)
            i64 = icf.astype(np.float64)
            st_icf = side.stats(icf[side.idx], lambda: (float(i64.sum()), float(i64 @ i64)))
        if pool is None:
            mf = ctx.item_factors @ u
            st_mf = st_mf or _mf_stats(ctx, 1, u, side, row=mf)
            return cls(mf, st_mf, icf, st_icf, None, el)
        cols = np.asarray(pool, np.int64)
        if icf is not None:  # candidates from both signals: MF's nearest ∪ item-item's top C
            top = _top_indices(np.where(el, icf, -np.inf), c)
            cols = np.union1d(cols, top[el[top]])
            icf = icf[cols]
        mf = ctx.item_factors[cols] @ u
        return cls(mf, _mf_stats(ctx, 1, u, side), icf, st_icf, cols, el[cols])

    def z_icf(self, at=slice(None)) -> np.ndarray:
        if self.icf is None:
            return np.zeros(len(self.mf[at]), np.float32)
        return _z(self.icf[at], self.st_icf)

    def z_mf(self, at=slice(None)) -> np.ndarray:
        return _z(self.mf[at], self.st_mf)

    def icf_at(self, at) -> np.ndarray:
        return self.icf[at] if self.icf is not None else np.zeros(len(at), np.float32)


def _select(sc: _Scores, c: int) -> tuple[np.ndarray, np.ndarray]:
    """The top-``c`` scored columns by the candidate score z_icf + z_mf, best first, padded
    to ``c`` (column 0, score -inf): (columns, candidate scores)."""
    # without item-item weights the score is z_mf alone, monotone in mf: select by mf itself
    key = sc.mf if sc.icf is None else sc.z_icf() + sc.z_mf()
    key = np.where(sc.el, key, -np.inf).astype(np.float32)
    part = _top_indices(key, c)
    ps = np.where(np.isfinite(key[part]), sc.z_icf(part) + sc.z_mf(part), -np.inf)
    ps = ps.astype(np.float32)
    order = np.argsort(-ps, kind="stable")
    local, cscore = part[order], ps[order]
    if len(local) < c:  # fewer columns than C: pad
        pad = c - len(local)
        local = np.pad(local, (0, pad))
        cscore = np.pad(cscore, (0, pad), constant_values=-np.inf)
    return local, cscore


def _history_items(batch: UserBatch) -> np.ndarray:
    """One user's history item ids: given with the batch, else read off its history row."""
    items = batch.history_items
    return np.flatnonzero(batch.history[0]) if items is None else items


def _build_one(ctx, batch, with_features, pool, full_rows, user_stats=None):
    """build_features for one user: z-score moments from the smaller (in)eligible side and
    catalogue totals (ScoringContext caches them), features only at the C candidates.
    ``user_stats``: this user's :func:`user_side_stats` for exactly this batch, computed
    earlier (exact scoring only)."""
    side = _Side.of(batch.eligible[0])
    items = _history_items(batch)
    if user_stats is not None and pool is None:
        us, st_mf = user_stats
    else:
        # the history side first, while the rows the fold-in just read are still in cache
        us = _UserStats.of(ctx, batch, side, items) if with_features else None
        st_mf = None
    c = min(ctx.n_candidates, ctx.n_items)
    sc = _Scores.of(ctx, batch, items, side, pool, st_mf, c)
    local, cscore = _select(sc, c)
    valid = np.isfinite(cscore)
    cands = local if sc.cols is None else sc.cols[local]
    cands = np.where(valid, cands, -1).astype(np.int64)
    out = {"candidates": cands[None, :], "cand_score": cscore[None, :]}
    if full_rows:
        out.update(_full_rows(ctx, sc))
    if with_features:
        at = np.where(valid, local, 0)  # padding reads column 0; its features are zeroed
        out["features"] = _features_one(ctx, batch, sc, us, at, cscore)
    return out


UserSideStats = tuple  # (_UserStats, (mean, std) of the MF scores): see user_side_stats


def user_side_stats(ctx: ScoringContext, batch: UserBatch) -> UserSideStats:
    """The per-user inputs of one user's features that depend on the user and the eligible
    items only (not on the candidates): computed once, they can be passed back to
    :func:`build_features` for the same batch (``user_stats``) with identical results."""
    side = _Side.of(batch.eligible[0])
    items = _history_items(batch)
    u = batch.user_vectors[0]
    st_mf = _mf_stats(ctx, 1, u, side, row=ctx.item_factors @ u)
    return _UserStats.of(ctx, batch, side, items), st_mf


@dataclass(frozen=True)
class _UserStats:
    """One user's per-user feature inputs: (mean, std) of popularity, time popularity and
    the second MF's score over the eligible items; history length, mean popularity and
    item-feature profile of the history."""

    st_pop: tuple
    st_time: tuple
    st_mf2: tuple | None
    hist_n: np.float32
    u_pop: np.float32
    profile: np.ndarray | None  # mean item features of the history (None: no features)

    @classmethod
    def of(cls, ctx, batch, side: _Side, items: np.ndarray) -> _UserStats:
        th = np.asarray(batch.time_hist[0], np.float32)
        lt_side = _log_time(ctx.item_time_t[side.idx] @ th)
        st_mf2 = None
        if ctx.item_factors2 is not None:
            st_mf2 = _mf_stats(ctx, 2, batch.user_vectors2[0], side)
        hw = batch.history[0][items]
        hist_n = hw.sum()
        itf = ctx.item_features
        return cls(
            st_pop=side.stats(ctx.pop_std[side.idx], ctx.pop_totals),
            st_time=side.stats(lt_side, lambda: ctx.time_totals(th)),
            st_mf2=st_mf2,
            hist_n=hist_n,
            u_pop=(hw @ ctx.pop_std[items]) / max(hist_n, 1),
            profile=(hw @ itf[items]) / max(hist_n, 1) if itf.shape[1] else None,
        )


def _features_one(ctx, batch, sc: _Scores, us: _UserStats, at, cscore) -> np.ndarray:
    """(1, C, D) features of one user's candidates (columns ``at`` of the scored columns).

    Same arithmetic as the batch path, with the z-scored and ranked columns stacked so that
    each step is one numpy call rather than one per feature."""
    c = len(at)
    valid = np.isfinite(cscore)
    safe = at if sc.cols is None else sc.cols[at]  # item ids
    th = np.asarray(batch.time_hist[0], np.float32)
    ce, cm, pop = sc.icf_at(at), sc.mf[at], ctx.pop_std[safe]
    raw = [ce, cm, pop, _log_time(ctx.item_time_t[safe] @ th)]
    stats = [sc.st_icf or (0.0, 1.0), sc.st_mf, us.st_pop, us.st_time]
    ranked = [ce, cm, cscore]
    if ctx.item_factors2 is not None:
        cm2 = ctx.item_factors2[safe] @ batch.user_vectors2[0]
        raw.append(cm2)
        stats.append(us.st_mf2)
        ranked.append(cm2)
    mean, std = np.array(stats, np.float64).T[:, :, None]
    z = ((np.stack(raw) - mean) / std).astype(np.float32)  # z_icf, z_mf, z_pop, tpop[, z_mf2]
    r = _rank_feature(np.where(valid, np.stack(ranked), np.float32(-1e9)), c)
    cols = [z[0], z[1], ce, cm, r[0], r[1], r[2], pop, z[2], z[3], z[3] - z[2],
            np.full(c, np.log1p(us.hist_n)), np.full(c, us.u_pop),
            _affinity(ctx, us.profile, safe)]  # fmt: skip
    if ctx.item_factors2 is not None:
        cols += [z[4], r[3]]
    return _assemble(ctx, batch, [x[None, :] for x in cols], safe[None, :], valid[None, :])


def _affinity(ctx, profile: np.ndarray | None, safe: np.ndarray) -> np.ndarray:
    """cosine(the history's mean item features, item features) at the candidates."""
    if profile is None:
        return np.zeros(len(safe), np.float32)
    pn = np.linalg.norm(profile)
    itf = ctx.item_features
    return (itf[safe] @ profile) / np.maximum(pn * ctx.item_feat_norm[safe], 1e-6)


def _full_rows(ctx, sc: _Scores) -> dict[str, np.ndarray]:
    """One user's itemcf / mf / blend rows over the catalogue, -inf where not eligible (or,
    with a pool, outside it)."""
    icf = sc.icf if sc.icf is not None else np.zeros_like(sc.mf)
    rows = {"itemcf": icf, "mf": sc.mf, "blend": sc.z_icf() + sc.z_mf()}
    out = {}
    for name, row in rows.items():
        full = np.full((1, ctx.n_items), -np.inf, np.float32)
        full[0, slice(None) if sc.cols is None else sc.cols] = np.where(sc.el, row, -np.inf)
        out[name] = full
    return out
