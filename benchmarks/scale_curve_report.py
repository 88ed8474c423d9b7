"""The scale curve's report (scale_curve.py): the table printed to stdout, the generator-only
lines, and the environment recorded in the JSON (git commit, host, effective TrainConfig).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
from harness import REPO
from scale_curve_worker import jsonable, train_config


def _fmt(x, spec: str = "", none: str = "-") -> str:
    return none if x is None else format(x, spec)


def table(rows: list[dict]) -> str:
    head = [
        "interactions",
        "items",
        "users",
        "status",
        "train s",
        "peak GiB",
        "bundle MB",
        "served",
        "item-item",
        "rec p50 ms",
        "rec p99 ms",
    ]
    lines = []
    for r in rows:
        counts = r.get("data") or {}
        ii = r.get("item_item")
        if isinstance(ii, dict):
            ii = ii.get("kind") or ii.get("method") or json.dumps(ii, sort_keys=True)[:24]
        if ii is None and r.get("item_item_arrays"):
            ii = f"[{r['item_item_arrays']}]"
        rec = (r.get("recommend") or {}).get("wall_ms") or {}
        train = r.get("train_s")
        if train is None and r.get("status") in ("timeout", "oom", "error"):
            train = f">{r.get('elapsed_s', 0):.0f}" if r["status"] != "error" else None
        lines.append(
            [
                f"{counts.get('interactions', r['interactions']):,}",
                f"{counts.get('items', r['items']):,}",
                f"{counts.get('users', r['users']):,}",
                r.get("status", "?"),
                train if isinstance(train, str) else _fmt(train, ".1f"),
                _fmt(r.get("peak_rss_gib"), ".2f"),
                _fmt(r["bundle_bytes"] / 1e6 if r.get("bundle_bytes") else None, ".1f"),
                _fmt(r.get("served_model")),
                _fmt(ii),
                _fmt(rec.get("p50"), ".2f"),
                _fmt(rec.get("p99"), ".2f"),
            ]
        )
    widths = [max(len(h), *(len(x[j]) for x in lines)) for j, h in enumerate(head)]
    out = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    out += ["  ".join(c.rjust(w) for c, w in zip(x, widths, strict=True)) for x in lines]
    return "\n".join(out)


def environment(args) -> dict:
    def git(*a: str) -> str | None:
        try:
            p = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, timeout=30)
            return p.stdout.strip() if p.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            return None

    dirty = git("status", "--porcelain", "--", "engine")
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 2**20, 2)
    except OSError:
        pass
    cfg = train_config(args.config_json) if not args.generate_only else None
    return {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "git_commit": git("rev-parse", "HEAD"),
        "engine_uncommitted_changes": None if dirty is None else bool(dirty),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "host": {
            "cpus": os.cpu_count(),
            "affinity_cpus": len(os.sched_getaffinity(0)),
            "mem_total_gib": mem,
            "machine": platform.machine(),
        },
        "config_overrides": json.loads(args.config_json) if args.config_json else {},
        "train_config": jsonable(dataclasses.asdict(cfg)) if cfg is not None else None,
        "timeout_s": args.timeout_s,
    }


def print_generated(rows: list[dict]) -> None:
    """One line per point of a ``--generate-only`` run: rows, top-ups, time and memory."""
    for r in rows:
        info = r.get("generator") or {}
        print(
            f"{r['interactions']:>12,} x {r['items']:>9,} items, {r['users']:>9,} users: "
            f"{r.get('status')}, generated {info.get('interactions', 0):,} rows "
            f"(short {info.get('shortfall')}, top-ups {info.get('missing_before_round')}) in "
            f"{_fmt(r.get('gen_s'), '.1f')} s, peak RSS {_fmt(r.get('peak_rss_gib'), '.2f')} "
            f"GiB (after imports {_fmt(r.get('rss_gib', {}).get('imports'), '.2f')})"
        )
