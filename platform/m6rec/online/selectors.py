"""Online reads: metrics per model version and per day, experiment results.

Definitions (README "The online loop"):

* **impressions**: items shown in recommendation responses (``responses``: the responses);
* **clicks**: distinct (user, item, response) engagements, i.e. shown items the user
  interacted with in any way, attributed through the response's ``recommendation_id``;
* **conversions**: those engagements that include a goal type (the tenant's
  ``online.goal_types``: purchase for ecommerce, like/share for content, ...);
* **ctr** = clicks / impressions, **conversion_rate** = conversions / impressions, each
  with a Wilson interval at 95%.

A day is the UTC day the recommendation was served (attributed interactions count on the day
of the response that led to them, so a day's rates compare like with like). Counts include
impressions still in Redis (not yet flushed to the database).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Case, IntegerField, Max, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from m6rec.online import impressions, stats
from m6rec.online.models import Experiment, ImpressionCount
from m6rec.plugins.registry import get_domain

__all__ = [
    "experiment_get",
    "experiment_list",
    "experiment_results",
    "goal_types",
    "running_experiment_id",
    "version_online_metrics",
]


def running_experiment_id(*, tenant) -> int | None:
    return (
        Experiment.objects.filter(tenant=tenant, status=Experiment.Status.RUNNING)
        .values_list("pk", flat=True)
        .first()
    )


def experiment_get(*, tenant, experiment_id: int) -> Experiment | None:
    return Experiment.objects.filter(tenant=tenant, pk=experiment_id).first()


def experiment_list(*, tenant):
    return Experiment.objects.filter(tenant=tenant).order_by("-created_at", "-pk")


def _online_config(tenant) -> dict[str, Any]:
    domain = get_domain(tenant.domain)
    return domain.resolve_config(tenant.domain_config).get("online") or {}


def goal_types(tenant) -> list[str]:
    return list(_online_config(tenant).get("goal_types") or ())


def _rate(successes: int, trials: int) -> dict[str, float]:
    low, high = stats.wilson(successes, trials)
    return {"rate": successes / trials if trials else 0.0, "low": low, "high": high}


def _summary(counts: dict[str, int]) -> dict[str, Any]:
    n = counts.get("impressions", 0)
    return {
        "impressions": n,
        "responses": counts.get("responses", 0),
        "clicks": counts.get("clicks", 0),
        "conversions": counts.get("conversions", 0),
        "ctr": _rate(counts.get("clicks", 0), n),
        "conversion_rate": _rate(counts.get("conversions", 0), n),
    }


def _impressions(tenant, **filters) -> list[tuple[str, int, int, int, int, int]]:
    """(day ISO, version, experiment, arm, impressions, responses) rows, database + Redis."""
    rows = [
        (d.isoformat(), v, e, a, i, r)
        for d, v, e, a, i, r in ImpressionCount.objects.filter(tenant=tenant, **filters)
        .values_list("day", "model_version", "experiment_id", "arm", "impressions", "responses")
        .iterator()
    ]
    for key, (items, responses) in impressions.pending(tenant.pk).items():
        _, day, version, _strategy, _surface, experiment, arm = key
        fields = {"model_version": version, "experiment_id": experiment, "arm": arm}
        if all(fields.get(k, v) == v for k, v in filters.items() if k in fields):
            if "day__gte" in filters and day < filters["day__gte"].isoformat():
                continue
            rows.append((day, version, experiment, arm, items, responses))
    return rows


def _engagements(tenant, goals: list[str], **filters):
    """(day ISO, experiment, arm, converted) per distinct attributed (user, item, response)."""
    from m6rec.catalog.models import Interaction

    qs = (
        Interaction.objects.filter(tenant=tenant, attributed_strategy__isnull=False, **filters)
        .annotate(day=TruncDate("recommended_at"))
        .values(
            "day", "attributed_experiment", "attributed_arm", "user_id", "item_id", "recommended_at"
        )
        .annotate(
            goal=Max(Case(When(type__in=goals, then=1), default=0, output_field=IntegerField()))
        )
        .values_list("day", "attributed_experiment", "attributed_arm", "goal")
    )
    for day, experiment, arm, goal in qs.iterator():
        yield day.isoformat(), experiment or 0, -1 if arm is None else arm, bool(goal)


def version_online_metrics(*, tenant, number: int, days: int = 30) -> dict[str, Any]:
    """Online metrics of version ``number``: totals and per day (the last ``days`` days)."""
    since = timezone.now().date() - timedelta(days=days - 1)
    goals = goal_types(tenant)
    per_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, _v, _e, _a, items, responses in _impressions(
        tenant, model_version=number, day__gte=since
    ):
        per_day[day]["impressions"] += items
        per_day[day]["responses"] += responses
    for day, _e, _a, goal in _engagements(
        tenant, goals, attributed_version=number, recommended_at__date__gte=since
    ):
        per_day[day]["clicks"] += 1
        per_day[day]["conversions"] += int(goal)
    total: dict[str, int] = defaultdict(int)
    for counts in per_day.values():
        for k, v in counts.items():
            total[k] += v
    return {
        "version": number,
        "goal_types": goals,
        "since": since.isoformat(),
        "totals": _summary(total),
        "days": [{"day": d, **_summary(per_day[d])} for d in sorted(per_day)],
    }


def experiment_results(*, experiment: Experiment) -> dict[str, Any]:
    """Each arm's counts and rates, its difference from the control with an interval and a
    p-value, and the decision (see :mod:`m6rec.online.stats`). A stopped experiment answers
    with the results frozen when it stopped."""
    if experiment.status == Experiment.Status.STOPPED and experiment.result:
        return experiment.result
    tenant = experiment.tenant
    goals = goal_types(tenant)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _day, _v, _e, arm, items, responses in _impressions(tenant, experiment_id=experiment.pk):
        counts[arm]["impressions"] += items
        counts[arm]["responses"] += responses
    for _day, _e, arm, goal in _engagements(tenant, goals, attributed_experiment=experiment.pk):
        counts[arm]["clicks"] += 1
        counts[arm]["conversions"] += int(goal)
    key = "conversions" if experiment.metric == "conversion" else "clicks"
    observed = [
        (counts[i][key], counts[i]["impressions"], not spec.get("ended"))
        for i, spec in enumerate(experiment.arms)
    ]
    decision, pvalues = stats.decide(
        observed,
        min_impressions=experiment.min_impressions_per_arm,
        confidence=experiment.confidence,
    )
    x0, n0, _ = observed[0]
    arms = []
    for i, spec in enumerate(experiment.arms):
        x, n, _ = observed[i]
        diff, low, high = stats.diff_interval(x, n, x0, n0, experiment.confidence)
        arms.append(
            {
                "arm": i,
                "version": spec["version"],
                "share": spec["share"],
                "ended": spec.get("ended"),
                **_summary(counts[i]),
                "vs_control": None
                if i == 0
                else {"difference": diff, "low": low, "high": high, "p_value": pvalues[i]},
            }
        )
    winner = decision.winner_arm
    return {
        "metric": experiment.metric,
        "goal_types": goals,
        "confidence": experiment.confidence,
        "min_impressions_per_arm": experiment.min_impressions_per_arm,
        "arms": arms,
        "decision": {
            "status": decision.status,
            "winner_arm": winner,
            "winner_version": experiment.arms[winner]["version"] if winner is not None else None,
            "alpha_per_comparison": decision.alpha_per_comparison,
            "explanation": decision.explanation,
        },
        "computed_at": timezone.now().isoformat(),
    }
