"""The CLI as others use it: train and recommend on a tiny CSV through subprocesses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, timeout=240):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": "2"}
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def test_train_then_recommend_on_a_tiny_csv(tmp_path, planted_data):
    data = planted_data[0]
    csv = tmp_path / "interactions.csv"
    lines = ["user_id,item_id,value,timestamp"] + [
        f"{data.user_ids[u]},{data.item_ids[i]},{w},{t}"
        for u, i, w, t in zip(data.users, data.items, data.weights, data.timestamps, strict=True)
    ]
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "bundle"
    res = _run("train", "--interactions", str(csv), "--out", str(out), "--time-budget", "8")
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["served_model"] and (out / "manifest.json").is_file()
    users = tmp_path / "users.txt"
    users.write_text(f"{data.user_ids[0]}\n{data.user_ids[1]}\nstranger\n")
    res = _run("recommend", "--bundle", str(out), "--users", str(users), "--k", "5")
    assert res.returncode == 0, res.stderr[-3000:]
    rows = [json.loads(line) for line in res.stdout.strip().splitlines()]
    assert [r["user_id"] for r in rows] == [data.user_ids[0], data.user_ids[1], "stranger"]
    seen0 = set(data.item_ids[data.csr()[0].indices])
    assert len(rows[0]["items"]) == 5 and not (set(rows[0]["items"]) & seen0)
    assert len(rows[0]["scores"]) == 5 and rows[0]["scores"] == sorted(rows[0]["scores"])[::-1]
    counts = np.bincount(data.items, minlength=data.n_items)
    fifth = np.sort(counts)[::-1][4]
    pos = {i: j for j, i in enumerate(data.item_ids)}
    assert rows[2]["strategy"] == "popularity" and len(rows[2]["items"]) == 5
    assert all(counts[pos[i]] >= fifth for i in rows[2]["items"])


def test_clear_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = _run("train", "--interactions", str(empty), "--out", str(tmp_path / "b"))
    assert res.returncode == 2 and "empty" in res.stderr and "Traceback" not in res.stderr
    res = _run("train", "--interactions", str(tmp_path / "missing.csv"), "--out", "x")
    assert res.returncode == 2 and "does not exist" in res.stderr
    res = _run("recommend", "--bundle", str(tmp_path / "nobundle"), "--users", str(empty))
    assert res.returncode == 2 and "does not exist" in res.stderr
    few = tmp_path / "few.csv"
    few.write_text("user_id,item_id,value,timestamp\nu1,a,1,1\n")
    res = _run("train", "--interactions", str(few), "--out", str(tmp_path / "b"))
    assert res.returncode == 2 and "too few" in res.stderr
    res = _run("bench", "--data", str(tmp_path / "nodata"))
    assert res.returncode == 2 and "not a directory" in res.stderr
