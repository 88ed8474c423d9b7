"""Wall-clock safety stop and progress reporting.

Training does a fixed amount of work; the clock only stops optional work (further trials,
re-splits, epochs) once ``cap_s`` seconds have passed, and remembers where it did so, so the
manifest can say whether a bundle is the full, reproducible result or a cut-short one.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self, cap_s: float, progress):
        self.t0 = time.time()
        self.cap_s = cap_s
        self.progress = progress
        self.stages: dict[str, float] = {}
        self.cut_short: list[str] = []
        self._last = self.t0

    def over(self, frac: float, stage: str) -> bool:
        """True (and recorded against ``stage``) once ``frac`` of the safety cap has passed."""
        if time.time() - self.t0 <= frac * self.cap_s:
            return False
        self.note_cut_short(stage)
        return True

    def note_cut_short(self, stage: str) -> None:
        if stage not in self.cut_short:
            self.cut_short.append(stage)

    def deadline(self, frac: float) -> float:
        return self.t0 + frac * self.cap_s

    def report(self, stage: str, frac: float) -> None:
        if self.progress is not None:
            self.progress(stage, float(min(max(frac, 0.0), 1.0)))

    def done(self, stage: str) -> None:
        now = time.time()
        self.stages[stage] = round(self.stages.get(stage, 0.0) + now - self._last, 3)
        self._last = now

    def budget_info(self) -> dict:
        """``manifest["budget"]``: the cap, whether it was hit, and where."""
        return {
            "wall_clock_cap_s": self.cap_s,
            "cap_hit": bool(self.cut_short),
            "cut_short": list(self.cut_short),
        }
