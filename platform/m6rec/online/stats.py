"""Rates, intervals and the experiment decision rule (no Django, no scipy: closed forms).

The decision rule is a fixed-horizon two-proportion z-test, Bonferroni-corrected over the
candidate arms, each compared with the control:

* nothing is decided before every live arm has ``min_impressions`` impressions (the horizon
  set when the experiment starts): p-values seen earlier are shown as provisional and never
  trigger a decision, which is what keeps repeated looks ("peeking") from inflating the false
  positive rate;
* at the horizon, a candidate wins when its rate is higher than the control's with a
  two-sided p-value below ``(1 − confidence) / m`` (m = live candidates); the best such
  candidate is the winner; the control wins when every candidate is significantly worse;
  otherwise ``no_difference``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Decision", "decide", "diff_interval", "normal_quantile", "two_proportion_p", "wilson"]


def normal_quantile(p: float) -> float:
    """Φ⁻¹(p) (Acklam's rational approximation, |error| < 1.2e-9 after one Newton step)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)  # fmt: skip
    lo = 0.02425
    if p < lo:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    elif p > 1 - lo:
        return -normal_quantile(1 - p)
    else:
        q = p - 0.5
        r = q * q
        x = (
            (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
            * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        )
    e = 0.5 * math.erfc(-x / math.sqrt(2)) - p  # one Newton step on the exact CDF
    return x - e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)


def _z(confidence: float) -> float:
    return normal_quantile(1 - (1 - confidence) / 2)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial rate; (0, 0) without trials."""
    if trials <= 0:
        return 0.0, 0.0
    z = _z(confidence)
    p = min(successes, trials) / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def diff_interval(
    x1: int, n1: int, x0: int, n0: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(p1 − p0, low, high): the difference of two rates with a Wald interval."""
    if n1 <= 0 or n0 <= 0:
        return 0.0, 0.0, 0.0
    p1, p0 = min(x1, n1) / n1, min(x0, n0) / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    z = _z(confidence)
    return p1 - p0, p1 - p0 - z * se, p1 - p0 + z * se


def two_proportion_p(x1: int, n1: int, x0: int, n0: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1.0 when undefined)."""
    if n1 <= 0 or n0 <= 0:
        return 1.0
    x1, x0 = min(x1, n1), min(x0, n0)
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if se == 0:
        return 1.0
    z = (x1 / n1 - x0 / n0) / se
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class Decision:
    status: str  # "collecting" | "winner" | "no_difference"
    winner_arm: int | None
    alpha_per_comparison: float
    explanation: str


def decide(
    arms: list[tuple[int, int, bool]], *, min_impressions: int, confidence: float
) -> tuple[Decision, list[float]]:
    """The decision over ``arms`` = [(successes, trials, live)], arm 0 the control.

    Returns the decision and each candidate's p-value against the control (1.0 for the
    control itself)."""
    x0, n0, _ = arms[0]
    live = [i for i, (_, _, ok) in enumerate(arms) if ok and i > 0]
    m = max(len(live), 1)
    alpha = (1 - confidence) / m
    pvalues = [1.0] + [two_proportion_p(x, n, x0, n0) for x, n, _ in arms[1:]]
    short = [i for i in [0, *live] if arms[i][1] < min_impressions]
    if short or not live:
        why = (
            f"collecting: arm(s) {short} below the fixed horizon of {min_impressions} "
            "impressions; p-values so far are provisional and decide nothing"
            if live
            else "no live candidate arm"
        )
        return Decision("collecting", None, alpha, why), pvalues
    rate = [x / n if n else 0.0 for x, n, _ in arms]
    better = [i for i in live if pvalues[i] < alpha and rate[i] > rate[0]]
    if better:
        best = max(better, key=lambda i: rate[i])
        return (
            Decision(
                "winner",
                best,
                alpha,
                f"arm {best} beats the control (p = {pvalues[best]:.2g} < {alpha:.3g})",
            ),
            pvalues,
        )
    if all(pvalues[i] < alpha and rate[i] < rate[0] for i in live):
        return Decision("winner", 0, alpha, "every candidate is worse than the control"), pvalues
    return (
        Decision("no_difference", None, alpha, f"no arm differs from the control at {alpha:.3g}"),
        pvalues,
    )
