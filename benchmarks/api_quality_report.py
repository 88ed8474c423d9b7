"""The api_quality benchmark's report (api_quality.py): one table per (dataset, seed), the
means over the seeds, and the JSON file that keeps the entries of other datasets and seeds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from api_quality_data import METRICS, K
from harness import write_json


def print_entry(e: dict) -> None:
    def row(label: str, m: dict, note: str = "") -> str:
        cells = "".join(f"{m[k]:>14.4f}" for k in METRICS)
        return f"{label:<22}{cells}  {note}".rstrip()

    ratio = e["ratio_api_ease"]
    rel = e["api_vs_engine"]
    lines = [
        f"\n{e['dataset']}, seed {e['seed']}: served {e['served_model']} v{e['model_version']} "
        f"(tenant {e['tenant']}; trained in {e['timings_s']['train']:.0f} s)",
        f"{'':<22}" + "".join(f"{k:>14}" for k in METRICS),
        row(
            "API (HTTP)",
            e["api"],
            f"{e['split']['test_users']} users in {e['timings_s']['api_fetch']:.1f} s; "
            f"strategies {e['api_strategies']}; versions {e['api_versions']}",
        ),
        row(
            "engine, same bundle",
            e["engine_same_bundle"],
            "" if rel is None else f"API vs engine {rel * 100:+.2f}% (target within ±1%)",
        ),
        row(f"EASE (λ={e['ease']['lambda']:g})", e["ease"]),
        row("popularity", e["popularity"]),
        f"API/EASE nDCG@{K}: " + ("n/a" if ratio is None else f"{ratio:.3f}"),
    ]
    print("\n".join(lines), flush=True)


def summarize(entries: list[dict]) -> dict:
    ratios = [e["ratio_api_ease"] for e in entries if e["ratio_api_ease"] is not None]
    return {
        "seeds": [e["seed"] for e in entries],
        "mean_ratio_api_ease": float(np.mean(ratios)) if ratios else None,
        **{
            f"mean_{who}_{m}": float(np.mean([e[who][m] for e in entries]))
            for who in ("api", "ease", "popularity")
            for m in METRICS
        },
    }


def write_results(out: Path, entries: list[dict], summary: dict, extra: dict) -> None:
    """Merge into ``out``: entries for other (dataset, seed) pairs already there are kept."""
    old: dict = {}
    if out.is_file():
        try:
            old = json.loads(out.read_text())
        except ValueError:
            old = {}
    if not isinstance(old.get("entries"), list):
        old = {}  # the previous single-run format, or not ours: start afresh
    measured = {(e["dataset_path"], e["seed"]) for e in entries}
    kept = [
        e for e in old.get("entries", []) if (e.get("dataset_path"), e.get("seed")) not in measured
    ]
    dataset = entries[0]["dataset"]
    result = {
        "benchmark": "api_quality",
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "entries": kept + entries,
        "summary": {**old.get("summary", {}), dataset: {**summary, **extra}},
    }
    write_json(out, result)
    print(f"wrote {out}")
