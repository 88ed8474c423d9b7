"""Scoring one user at serving time: the same features as the batch path
(:func:`engine.scoring.build_features`), computed over the candidates only, with per-user
moments taken over the smaller of the eligible and ineligible item sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.scoring_base import (
    ScoringContext,
    UserBatch,
    assemble,
    log_time,
    rank_feature,
    row_totals,
)

__all__ = ["UserSideStats", "build_one", "user_side_stats"]


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
        s1, s2 = row_totals(vals)
        if self.ineligible:
            t1, t2 = totals() if callable(totals) else totals
            s1, s2 = t1 - s1, t2 - s2
        mean = s1 / self.n_eligible
        var = max(s2 / self.n_eligible - mean * mean, 0.0)
        # np.float64 scalars keep (x - mean) / std in float64 for float32 x, as zscore does
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


def build_one(ctx, batch, with_features, pool, full_rows, user_stats=None):
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
        lt_side = log_time(ctx.item_time_t[side.idx] @ th)
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
    raw = [ce, cm, pop, log_time(ctx.item_time_t[safe] @ th)]
    stats = [sc.st_icf or (0.0, 1.0), sc.st_mf, us.st_pop, us.st_time]
    ranked = [ce, cm, cscore]
    if ctx.item_factors2 is not None:
        cm2 = ctx.item_factors2[safe] @ batch.user_vectors2[0]
        raw.append(cm2)
        stats.append(us.st_mf2)
        ranked.append(cm2)
    mean, std = np.array(stats, np.float64).T[:, :, None]
    z = ((np.stack(raw) - mean) / std).astype(np.float32)  # z_icf, z_mf, z_pop, tpop[, z_mf2]
    r = rank_feature(np.where(valid, np.stack(ranked), np.float32(-1e9)), c)
    cols = [z[0], z[1], ce, cm, r[0], r[1], r[2], pop, z[2], z[3], z[3] - z[2],
            np.full(c, np.log1p(us.hist_n)), np.full(c, us.u_pop),
            _affinity(ctx, us.profile, safe)]  # fmt: skip
    if ctx.item_factors2 is not None:
        cols += [z[4], r[3]]
    return assemble(ctx, batch, [x[None, :] for x in cols], safe[None, :], valid[None, :])


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
