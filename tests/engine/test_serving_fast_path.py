"""The single-user serving path of build_features (and the fast fold-in) against the batch path
and a slow reference of the previous implementation: same candidates, features, top-k."""

from __future__ import annotations

import numpy as np
import pytest

import engine.recommender as recmod
from engine.bundle import read_bundle
from engine.mf import fold_in
from engine.recommender import Recommender
from engine.scoring import UserBatch, build_features
from engine.scoring_one import _Side, _top_indices

from .conftest import drop_item_item

USERS = ("u0", "u3", "u5", "u17", "u42", "u77")


def reference_fold_in(item_factors, items, conf, regularization, yty=None):
    """The previous fold-in: float64 normal equations, np.linalg.solve."""
    f = item_factors.shape[1]
    if len(items) == 0:
        return np.zeros(f, dtype=np.float32)
    y = item_factors[np.asarray(items)].astype(np.float64)
    c = np.asarray(conf, dtype=np.float64)
    if yty is None:
        yty = item_factors.T.astype(np.float64) @ item_factors.astype(np.float64)
    a = yty + (y.T * (c - 1.0)) @ y + regularization * np.eye(f)
    return np.linalg.solve(a, y.T @ c).astype(np.float32)


def reference_build_features(
    ctx, batch, with_features=True, pool=None, full_rows=True, user_stats=None
):
    """The previous serving path: full-catalogue scoring and z-scores over the eligible items
    (the batch path's arithmetic, run on the user twice and read back for one)."""
    assert batch.history.shape[0] == 1 and pool is None  # exact scoring, no ANN pool
    two = UserBatch(
        history=np.repeat(batch.history, 2, axis=0),
        user_vectors=np.repeat(batch.user_vectors, 2, axis=0),
        time_hist=np.repeat(batch.time_hist, 2, axis=0),
        user_features=np.repeat(batch.user_features, 2, axis=0),
        eligible=np.repeat(batch.eligible, 2, axis=0),
        user_vectors2=(
            None if batch.user_vectors2 is None else np.repeat(batch.user_vectors2, 2, axis=0)
        ),
    )
    out = build_features(ctx, two, with_features)
    return {k: v[:1] for k, v in out.items()}


def _recommender(bundle, *, itemcf: bool, model=None):
    out, manifest, _ = bundle
    manifest, arrays = read_bundle(out)
    if not itemcf:
        drop_item_item(arrays)
    model = model or manifest["fusion"]["served_file"]
    return Recommender(manifest, arrays, out, model=model, ann_threshold=10**9)


def _user_case(rec, uid, case):
    """(items, weights, eligible) for one user under an exclusion / allowed-items case."""
    items, w = rec._hist.of(uid, None)
    rng = np.random.default_rng(int(uid[1:]))
    allowed = excluded = None
    if case == "exclude":
        excluded = [rec._item_list[j] for j in rng.choice(rec.n_items, 15, replace=False)]
    elif case == "allowed":  # a small allowed set: the eligible side is the smaller one
        allowed = [rec._item_list[j] for j in rng.choice(rec.n_items, 40, replace=False)]
    elig = rec._mask(excluded, allowed)
    elig[items] = False
    return items, w, elig, excluded, allowed


def _stack(batches):
    cat = np.concatenate
    return UserBatch(
        history=cat([b.history for b in batches]),
        user_vectors=cat([b.user_vectors for b in batches]),
        time_hist=cat([b.time_hist for b in batches]),
        user_features=cat([b.user_features for b in batches]),
        eligible=cat([b.eligible for b in batches]),
        user_vectors2=(
            None if batches[0].user_vectors2 is None else cat([b.user_vectors2 for b in batches])
        ),
    )


@pytest.mark.parametrize("itemcf", [True, False])
@pytest.mark.parametrize("case", ["plain", "exclude", "allowed"])
def test_single_user_features_equal_batch_features(trained_bundle, itemcf, case):
    rec = _recommender(trained_bundle, itemcf=itemcf)
    ctx = rec.ctx
    assert (ctx.item_item is not None) == itemcf
    singles = []
    for uid in USERS:
        items, w, elig, _, _ = _user_case(rec, uid, case)
        singles.append(rec._batch(uid, items, w, True, elig))  # folded in, history_items set
    many = build_features(ctx, _stack(singles))
    for j, (uid, one_batch) in enumerate(zip(USERS, singles, strict=True)):
        one = build_features(ctx, one_batch)
        assert np.array_equal(one["candidates"][0], many["candidates"][j]), uid
        np.testing.assert_allclose(one["cand_score"][0], many["cand_score"][j], rtol=1e-4)
        np.testing.assert_allclose(
            one["features"][0], many["features"][j], rtol=1e-4, atol=1e-4, err_msg=uid
        )
        for row in ("itemcf", "mf", "blend"):
            np.testing.assert_allclose(one[row][0], many[row][j], rtol=1e-4, atol=1e-5)
        # the same without history_items (the row is scanned) and without the full rows
        one_batch.history_items = None
        lean = build_features(ctx, one_batch, full_rows=False)
        assert "blend" not in lean
        np.testing.assert_array_equal(lean["features"], one["features"])


def test_pool_path_equals_the_exact_single_user_path(trained_bundle):
    rec = _recommender(trained_bundle, itemcf=False)
    for uid in USERS:
        items, w, elig, _, _ = _user_case(rec, uid, "exclude")
        b = rec._batch(uid, items, w, True, elig)
        exact = build_features(rec.ctx, b)
        pooled = build_features(rec.ctx, b, pool=np.flatnonzero(elig)[::-1])
        assert np.array_equal(exact["candidates"], pooled["candidates"])
        np.testing.assert_allclose(pooled["features"], exact["features"], rtol=1e-4, atol=1e-4)
        ref = reference_build_features(rec.ctx, b)
        np.testing.assert_allclose(exact["features"], ref["features"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("itemcf", [True, False])
def test_recommend_matches_the_previous_implementation(trained_bundle, monkeypatch, itemcf):
    fast = _recommender(trained_bundle, itemcf=itemcf)
    slow = _recommender(trained_bundle, itemcf=itemcf)
    cases = []
    for uid in USERS + ("u8", "u9", "u10", "u11"):
        for case in ("plain", "exclude", "allowed"):
            items, _, _, excluded, allowed = _user_case(fast, uid, case)
            history = [(fast._item_list[j], 1.0 + j % 3) for j in items]
            for k in (5, 30):  # 30 > C (20): continues past the candidates
                cases.append((uid, k, history, excluded, allowed))
    want = {}
    with monkeypatch.context() as m:
        m.setattr(recmod, "fold_in", reference_fold_in)
        m.setattr(recmod, "build_features", reference_build_features)
        for i, (uid, k, history, excluded, allowed) in enumerate(cases):
            want[i] = slow.recommend(
                uid, k=k, history=history, exclude_items=excluded, allowed_items=allowed
            )
    for i, (uid, k, history, excluded, allowed) in enumerate(cases):
        got = fast.recommend(uid, k=k, history=history, exclude_items=excluded,
                             allowed_items=allowed)  # fmt: skip
        assert [g for g, _ in got] == [w for w, _ in want[i]], (uid, k)
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want[i]], atol=1e-4)


def test_the_training_history_keeps_the_trained_vector(trained_bundle, monkeypatch):
    rec = _recommender(trained_bundle, itemcf=False)
    solves = []
    monkeypatch.setattr(recmod, "fold_in", lambda *a, **kw: solves.append(1) or fold_in(*a, **kw))
    for uid in USERS:
        items, w = rec._hist.of(uid, None)
        history = [(rec._item_list[j], float(x)) for j, x in zip(items, w, strict=True)]
        trained = rec.user_vector(uid)
        assert rec.recommend(uid, k=10, history=history[::-1]) == rec.recommend(uid, k=10)
        np.testing.assert_array_equal(rec.user_vector(uid, history), trained)
        assert not solves  # nothing to fold in
        # one interaction more, or one weight changed: folded in
        extra = rec._item_list[next(j for j in range(rec.n_items) if j not in set(items))]
        assert not np.allclose(rec.user_vector(uid, [*history, (extra, 1.0)]), trained)
        got = rec.recommend(uid, k=10, history=[*history, (extra, 1.0)])
        assert extra not in {i for i, _ in got}
        changed = [(history[0][0], history[0][1] + 1.0), *history[1:]]
        assert not np.allclose(rec.user_vector(uid, changed), trained)
        assert solves
        solves.clear()


def test_the_bundle_tells_which_stored_rows_each_user_was_trained_on(trained_bundle, planted_data):
    data = planted_data[0]
    rec = _recommender(trained_bundle, itemcf=False)
    for u, uid in enumerate(data.user_ids[:20].tolist()):
        n, last = data.user_rows[u].tolist()
        assert rec.training_rows(uid) == (n, last) and n >= 1 and last >= 1000
    assert rec.training_rows("nobody") is None
    manifest, arrays = read_bundle(trained_bundle[0])
    del arrays["user_rows"]  # trained without row ids (e.g. the engine's own bench)
    older = Recommender(manifest, arrays, trained_bundle[0], ann_threshold=10**9)
    assert older.training_rows(data.user_ids[0]) is None


@pytest.mark.parametrize("itemcf", [True, False])
def test_usual_requests_are_answered_at_load(trained_bundle, monkeypatch, itemcf):
    """A trained user's usual request (trained vector, own items excluded, no filter): for
    k <= C the ranking computed at load, nothing scored; above C the user statistics computed
    at load. Always the numbers of a per-request computation."""
    import engine.scoring_one as scoring_one

    warm = _recommender(trained_bundle, itemcf=itemcf)
    assert len(warm._usual) == len(warm._user_ids)  # every trained user, at load
    with monkeypatch.context() as m:
        m.setattr(recmod, "WARM_USUAL_USERS", 10)  # too many users to precompute: per request
        cold = _recommender(trained_bundle, itemcf=itemcf)
    assert cold._usual == {}
    c = warm.ctx.n_candidates
    computed, scored = [], []
    real_of = scoring_one._UserStats.of
    monkeypatch.setattr(
        scoring_one._UserStats, "of", classmethod(lambda cls, *a: computed.append(1) or real_of(*a))
    )
    real_build = recmod.build_features
    monkeypatch.setattr(
        recmod, "build_features", lambda *a, **kw: scored.append(1) or real_build(*a, **kw)
    )
    for uid in USERS + ("u8", "u9", "u10"):
        for k in (5, c, c + 10):  # above C: the full rows too
            scored.clear()
            got = warm.recommend(uid, k=k)
            assert not computed  # the usual request: no statistics recomputed
            assert bool(scored) == (k > c)  # and up to C nothing scored at all
            assert got == cold.recommend(uid, k=k)  # the same code ran at load: same numbers
            assert computed
            computed.clear()
        # anything else than the usual request computes its statistics
        items, _ = warm._hist.of(uid, None)
        other = warm._item_list[next(j for j in range(warm.n_items) if j not in set(items))]
        assert warm.recommend(uid, k=5, exclude_items=[other]) == cold.recommend(
            uid, k=5, exclude_items=[other]
        )
        assert computed
        computed.clear()
        warm.recommend(uid, k=5, exclude_seen=False)
        assert computed
        computed.clear()


def test_fold_in_matches_a_float64_solve():
    rng = np.random.default_rng(3)
    q = rng.standard_normal((500, 48)).astype(np.float32)
    yty = q.T.astype(np.float64) @ q.astype(np.float64)
    for m in (1, 7, 48, 300):
        items = rng.choice(500, m, replace=False)
        conf = 1.0 + 3.0 * rng.random(m)
        want = reference_fold_in(q, items, conf, 0.5, yty).astype(np.float64)
        for given in (yty, None):
            got = fold_in(q, items, conf, 0.5, given).astype(np.float64)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_top_indices_is_exact():
    rng = np.random.default_rng(0)
    for m, c in ((50, 100), (1000, 10), (20000, 100), (20000, 1)):
        key = rng.standard_normal(m).astype(np.float32)
        key[rng.random(m) < 0.3] = -np.inf
        got = np.sort(_top_indices(key, c))
        want = np.sort(np.argsort(-key, kind="stable")[: min(c, m)])
        assert np.array_equal(got, want)
    skewed = np.full(5000, -np.inf, np.float32)  # fewer finite values than c
    skewed[:30] = 1.0
    assert set(range(30)) <= set(_top_indices(skewed, 100).tolist())


def test_side_moments_equal_direct_moments():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(1000).astype(np.float32) * 3 + 1
    totals = (float(x.astype(np.float64).sum()), float((x.astype(np.float64) ** 2).sum()))
    for frac in (0.05, 0.5, 0.95):
        elig = rng.random(1000) < frac
        side = _Side.of(elig)
        assert side.ineligible == (2 * elig.sum() >= 1000)
        mean, std = side.stats(x[side.idx], totals)
        assert mean == pytest.approx(x[elig].astype(np.float64).mean(), rel=1e-9, abs=1e-12)
        assert std == pytest.approx(x[elig].astype(np.float64).std(), rel=1e-9)


def test_time_totals_memo_equals_direct_computation(trained_bundle):
    rec = _recommender(trained_bundle, itemcf=False)
    ctx = rec.ctx
    for th in (rec._user_time[0], rec._user_time[5], rec._global_time[0]):
        warm = ctx.time_totals(th)  # precomputed at load (small bundle)
        lt = np.log(th[None, :] @ ctx.item_time + 1e-7).astype(np.float64)[0]
        assert warm == pytest.approx((lt.sum(), (lt * lt).sum()), rel=1e-6)
    odd = np.linspace(1.0, 1.7, ctx.item_time.shape[0]).astype(np.float32)
    odd /= odd.sum()
    n = len(ctx._time_memo)
    first = ctx.time_totals(odd)  # a histogram no user has: computed, then remembered
    assert len(ctx._time_memo) == n + 1 and ctx.time_totals(odd) == first
