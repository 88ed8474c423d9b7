"""The api_quality benchmark's ranked lists and their metrics (api_quality.py): every test
user's recommendations over HTTP, the same served bundle through ``Recommender`` as
``python -m engine bench`` evaluates it, and ``python -m engine bench`` itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from api_quality_data import K
from harness import REPO
from http_load import get_json


def fetch_all(port: int, token: str, user_ids: list[str], *, threads: int = 4) -> dict:
    """Every user's recommendations (k=10, seen items excluded) over HTTP, by user id."""

    def one(uid: str):
        path = f"/api/v1/users/{urllib.parse.quote(uid)}/recommendations?k={K}&exclude_seen=true"
        return uid, get_json(port, path, token, timeout=60)

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one, user_ids))


def evaluate(lists: dict[str, list[str]], data, test) -> dict:
    from engine.metrics import ranking_metrics

    truth = test.csr(binary=True)
    users = np.unique(test.users).astype(np.int64)
    iidx = {str(i): j for j, i in enumerate(data.item_ids.tolist())}
    top = np.full((len(users), K), -1, dtype=np.int64)
    for row, u in enumerate(users):
        got = [iidx.get(i, -1) for i in lists[str(data.user_ids[u])]][:K]
        top[row, : len(got)] = got
    return ranking_metrics(top, truth, users, K)


def engine_eval(bundle: Path, data, test) -> tuple[str, dict]:
    """What ``python -m engine bench`` computes for a served bundle (trained user vectors)."""
    from engine.recommender import Recommender

    rec = Recommender.load(bundle)
    users = np.unique(test.users)
    lists = {
        str(data.user_ids[u]): [i for i, _ in rec.recommend(str(data.user_ids[u]), K)]
        for u in users
    }
    return rec.model, evaluate(lists, data, test)


def run_engine_bench(folder: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "engine", "bench", "--data", str(folder), "--seeds", "42"]
    cmd += ["--json", str(out)]
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)
    return json.loads(out.read_text())["runs"][0]
