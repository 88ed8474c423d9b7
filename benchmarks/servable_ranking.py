"""Ranking the servable items vs ranking everything and dropping the inactive ones (issue 13).

    python benchmarks/servable_ranking.py [--seed 13]

Serving hands the engine the servable items as a mask (``allowed_items``), so the fusion's
per-user feature statistics are taken over them; before the tenant snapshot the engine ranked
every item and inactive ones were dropped afterwards. This measures whether that changes what
users get: ml-latest-small (the bundled demo data), each user's last 20% of ratings (by time)
held out, a fusion bundle trained on the rest; nDCG@10 over the held-out items that are active,
under three catalogues (5% and 20% of the items inactive at random, the 50 most popular
inactive), both ways, paired per user. Prints a line per catalogue and writes JSON (default
``bench-results/servable_ranking.json``). A few minutes on two cores.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import REPO, write_json  # noqa: E402

sys.path.insert(0, str(REPO))

RATINGS = REPO / "platform/m6rec/catalog/sample_data/ml-latest-small/ratings.csv"


def time_split(path: Path) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """(training pairs, user → held-out items): each user's last 20% of ratings by time."""
    by_user: dict[str, list[tuple[int, str]]] = {}
    with path.open() as f:
        for row in csv.DictReader(f):
            by_user.setdefault(row["userId"], []).append((int(row["timestamp"]), row["movieId"]))
    train, test = [], {}
    for user, events in by_user.items():
        events.sort()
        cut = max(1, int(len(events) * 0.8))
        train += [(user, item) for _, item in events[:cut]]
        test[user] = {item for _, item in events[cut:]}
    return train, test


def ndcg(ranked: list[str], truth: set[str]) -> float:
    dcg = sum(1 / math.log2(r + 2) for r, item in enumerate(ranked) if item in truth)
    ideal = sum(1 / math.log2(r + 2) for r in range(min(len(truth), len(ranked))))
    return dcg / ideal


def compare(rec, test: dict[str, set[str]], inactive: set[str]) -> dict:
    """Paired nDCG@10: the engine over the servable items vs everything, inactive dropped."""
    mask = np.array([i not in inactive for i in rec.item_ids])
    new, old = [], []
    for user, held_out in test.items():
        truth = held_out - inactive
        if not truth or not rec.knows_user(user):
            continue
        new.append(ndcg([i for i, _ in rec.recommend(user, k=10, allowed_items=mask)], truth))
        ranked_all = [i for i, _ in rec.recommend(user, k=30) if i not in inactive]
        old.append(ndcg(ranked_all[:10], truth))
    d = np.array(new) - np.array(old)
    return {
        "users": len(d),
        "ndcg_servable": float(np.mean(new)),
        "ndcg_rank_all_then_drop": float(np.mean(old)),
        "difference": float(d.mean()),
        "difference_95ci": float(1.96 * d.std(ddof=1) / math.sqrt(len(d))),
        "users_differing": int(np.count_nonzero(d)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=13, help="which items are inactive")
    ap.add_argument("--out", type=Path, default=REPO / "bench-results" / "servable_ranking.json")
    args = ap.parse_args(argv)

    from engine.data import InteractionData
    from engine.pipeline import TrainConfig, train_bundle
    from engine.recommender import Recommender

    train, test = time_split(RATINGS)
    data = InteractionData.from_arrays([u for u, _ in train], [i for _, i in train])
    bundle = Path(tempfile.mkdtemp(prefix="servable-ranking-")) / "bundle"
    train_bundle(data, bundle, config=TrainConfig(use_fusion=True))
    rec = Recommender.load(bundle, model="fusion_int8")
    rng = np.random.default_rng(args.seed)
    most_popular = [i for i, _ in rec.popular(50)]
    catalogues = {
        "5% random inactive": set(rng.choice(rec.item_ids, rec.n_items // 20, replace=False)),
        "20% random inactive": set(rng.choice(rec.item_ids, rec.n_items // 5, replace=False)),
        "50 most popular inactive": set(most_popular),
    }
    results = {}
    for name, inactive in catalogues.items():
        r = results[name] = compare(rec, test, inactive)
        print(
            f"{name}: {r['users']} users, nDCG@10 servable {r['ndcg_servable']:.4f}, "
            f"rank all then drop {r['ndcg_rank_all_then_drop']:.4f}, difference "
            f"{r['difference']:+.4f} ± {r['difference_95ci']:.4f} (95%), "
            f"{r['users_differing']} users differ",
            flush=True,
        )
    write_json(args.out, {"seed": args.seed, "items": rec.n_items, "catalogues": results})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
