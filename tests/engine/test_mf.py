import numpy as np

from engine.mf import confidence, fit_mf, fold_in, procrustes_align


def test_fold_in_ranking_matches_trained_user_vector(planted_data):
    data = planted_data[0]
    conf = confidence(data.csr(), alpha=3.0, transform="log")
    m = fit_mf(conf, factors=8, regularization=0.1, iterations=20, seed=1)
    yty = m.item_factors.T @ m.item_factors
    overlaps, cosines = [], []
    for u in range(0, data.n_users, 7):
        row = conf[u]
        v = fold_in(m.item_factors, row.indices, row.data, 0.1, yty)
        p = m.user_factors[u]
        cosines.append(v @ p / (np.linalg.norm(v) * np.linalg.norm(p)))
        a = np.argsort(-(m.item_factors @ v))[:10]
        b = np.argsort(-(m.item_factors @ p))[:10]
        overlaps.append(len(set(a) & set(b)) / 10)
    assert np.mean(cosines) > 0.95
    assert np.mean(overlaps) > 0.8


def test_fold_in_of_nothing_is_zero():
    q = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    assert not fold_in(q, np.array([], dtype=np.int64), np.array([]), 0.1).any()


def test_procrustes_rotation_keeps_scores_and_aligns_axes():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(50, 6)).astype(np.float32)
    p = rng.normal(size=(20, 6)).astype(np.float32)
    rot, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    q2, p2 = q @ rot.astype(np.float32), p @ rot.astype(np.float32)
    r = procrustes_align(q2, q)
    assert np.allclose(q2 @ r, q, atol=1e-4)
    assert np.allclose((p2 @ r) @ (q2 @ r).T, p @ q.T, atol=1e-3)


def test_bpr_option_fits():
    rng = np.random.default_rng(0)
    import scipy.sparse as sp

    x = sp.random(30, 20, density=0.2, random_state=1, format="csr", dtype=np.float32)
    x.data[:] = 1.0
    m = fit_mf(x, factors=4, iterations=2, kind="bpr")
    assert m.user_factors.shape[0] == 30 and m.item_factors.shape[0] == 20
    assert np.isfinite(m.item_factors).all() and rng is not None
