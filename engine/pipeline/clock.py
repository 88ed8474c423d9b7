"""Time budget bookkeeping and progress reporting."""

from __future__ import annotations

import time


class _Clock:
    def __init__(self, budget: float, progress):
        self.t0 = time.time()
        self.budget = budget
        self.progress = progress
        self.stages: dict[str, float] = {}
        self._last = self.t0

    def left(self) -> float:
        return self.budget - (time.time() - self.t0)

    def deadline(self, frac: float) -> float:
        return self.t0 + frac * self.budget

    def report(self, stage: str, frac: float) -> None:
        if self.progress is not None:
            self.progress(stage, float(min(max(frac, 0.0), 1.0)))

    def done(self, stage: str) -> None:
        now = time.time()
        self.stages[stage] = round(self.stages.get(stage, 0.0) + now - self._last, 3)
        self._last = now

    def time_spent_frac(self) -> float:
        return (time.time() - self.t0) / max(self.budget, 1e-9)
