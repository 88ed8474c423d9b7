import os

import numpy as np
import pytest

from engine.cf import popularity
from engine.data import (
    DataError,
    InteractionData,
    default_datasets_dir,
    load_interactions,
    stratified_split,
    train_test_split,
)
from engine.itemitem import ease_dense
from engine.metrics import ranking_metrics, topk_from_scores


def test_from_arrays_maps_ids_to_strings_and_merges_duplicates():
    d = InteractionData.from_arrays([1, 1, 2, 1], [10, 11, 10, 10], [1.0, 2.0, 3.0, 4.0],
                                    [5, 6, 7, 9])  # fmt: skip
    assert d.user_ids.tolist() == ["1", "2"]
    assert d.item_ids.tolist() == ["10", "11"]
    assert len(d) == 3  # (1,10) merged
    m = d.csr()
    assert m[0, 0] == pytest.approx(5.0)  # 1 + 4
    row = np.flatnonzero((d.users == 0) & (d.items == 0))[0]
    assert d.timestamps[row] == 9  # latest timestamp kept
    assert d.weights.dtype == np.float32 and d.timestamps.dtype == np.int64


def test_from_arrays_records_each_users_stored_rows_before_merging():
    d = InteractionData.from_arrays(["a", "a", "b", "a"], ["x", "y", "x", "x"],
                                    row_ids=[7, 3, 12, 5])  # fmt: skip
    assert len(d) == 3  # (a, x) merged, but both of its stored rows count
    assert d.user_ids.tolist() == ["a", "b"]
    assert d.user_rows.tolist() == [[3, 7], [1, 12]]
    assert InteractionData.from_arrays(["a"], ["x"]).user_rows is None
    assert d.subset(np.ones(len(d), bool)).user_rows is None  # a split is not the stored rows


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(user_ids=["a"], item_ids=["x"], row_ids=[1.5]), "integers"),
        (dict(user_ids=["a"], item_ids=["x"], row_ids=[1, 2]), "one value per interaction"),
        (dict(user_ids=[], item_ids=[]), "empty"),
        (dict(user_ids=["a"], item_ids=["x"], weights=[0.0]), "> 0"),
        (dict(user_ids=["a", "b"], item_ids=["x"]), "same length"),
    ],
)
def test_from_arrays_rejects_bad_input(kwargs, message):
    with pytest.raises(DataError, match=message):
        InteractionData.from_arrays(**kwargs)


def test_loaders_accept_generic_csv_udata_and_ratings_csv(tmp_path):
    g = tmp_path / "i.csv"
    g.write_text("user_id,item_id,value,timestamp\nu1,a,1,100\nu1,b,2,200\nu2,a,1,300\n")
    d = load_interactions(g)
    assert (len(d), d.n_users, d.n_items) == (3, 2, 2)
    u = tmp_path / "u.data"
    u.write_text("1\t10\t3\t881250949\n2\t10\t5\t881250950\n")
    d = load_interactions(u)
    assert d.weights.tolist() == [3.0, 5.0] and d.timestamps[0] == 881250949
    r = tmp_path / "ratings.csv"
    r.write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,0.5,964981247\n")
    d = load_interactions(r)
    assert d.item_ids.tolist() == ["1", "3"]
    n = tmp_path / "noval.csv"
    n.write_text("user_id,item_id\nx,y\n")
    assert load_interactions(n).weights.tolist() == [1.0]


@pytest.mark.parametrize(
    "content, message",
    [("", "empty"), ("user_id,item_id,value,timestamp\n", "no rows"), ("a,b\n1,2\n", "header")],
)
def test_loaders_give_clear_errors(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(DataError, match=message):
        load_interactions(p)
    with pytest.raises(DataError, match="does not exist"):
        load_interactions(tmp_path / "missing.csv")


def test_stratified_split_is_per_item_with_round_half_even():
    items = np.array([0] * 4 + [1] * 2 + [2] * 1 + [3] * 10)
    mask = stratified_split(items, 0.75, seed=42)
    per_item = {i: int(mask[items == i].sum()) for i in range(4)}
    # round(3.0)=3, round(1.5)=2, round(0.75)=1, round(7.5)=8 (numpy/pandas round half even)
    assert per_item == {0: 3, 1: 2, 2: 1, 3: 8}
    assert np.array_equal(mask, stratified_split(items, 0.75, seed=42))  # deterministic


ML100K = default_datasets_dir() / "ml-100k" / "u.data"


def test_ml100k_split_and_reference_numbers_from_design_md():
    if not ML100K.is_file():
        # ml-100k is never copied into the repo (license); CI reads it from ../shared/datasets
        message = f"dataset not present at {ML100K}; set M6REC_DATASETS"
        if os.environ.get("M6REC_REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    d = load_interactions(ML100K)
    train, test = train_test_split(d)
    assert (len(train), len(test)) == (75066, 24934)
    users = np.unique(test.users)
    assert len(users) == 943
    x, truth = train.csr(binary=True), test.csr(binary=True)
    seen = x[users]

    def masked(s):
        s = np.array(s, dtype=np.float32)
        r, c = seen.nonzero()
        s[r, c] = -np.inf
        return s

    pop = popularity(x)
    m = ranking_metrics(topk_from_scores(masked(np.tile(pop, (len(users), 1))), 10), truth, users)
    # Popularity counts tie, so this figure depends on the tie order: 0.2519 (highest index
    # first) to 0.2524 (lowest first, ours); DESIGN.md's 0.2522 lies between.
    assert m["ndcg@10"] == pytest.approx(0.25235, abs=5e-5)
    assert m["ndcg@10"] == pytest.approx(0.2522, abs=3e-4)
    m = ranking_metrics(topk_from_scores(masked(seen @ ease_dense(x, 500.0)), 10), truth, users)
    assert m["ndcg@10"] == pytest.approx(0.4829, abs=5e-5)
    assert m["precision@10"] == pytest.approx(0.4198, abs=5e-5)
    assert m["recall@10"] == pytest.approx(0.2277, abs=5e-5)
    assert m["map@10"] == pytest.approx(0.1491, abs=5e-5)
