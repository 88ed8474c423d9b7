"""The platform under benchmark: production settings on loopback, the bench database migrated,
a tenant with ml-latest-small and a model trained through the platform's own training service,
a recommend-scope API key, the paths of every user's recommendations.

Environment overrides: BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_MEDIA_ROOT.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
import urllib.parse

from harness import DEFAULT_DB, PLATFORM, REPO, ensure_database

SAMPLE = PLATFORM / "m6rec" / "catalog" / "sample_data" / "ml-latest-small"
# a model to serve, trained quickly, for benchmarks about something else than the model
QUICK_MODEL = {"use_fusion": False, "mf_max_trials": 2, "mf_iterations": 6}


# ---------------------------------------------------------------------- environment
def production_env(*, database_url: str | None = None) -> dict[str, str]:
    """Environment for m6rec.settings.production on loopback (TLS would end at a proxy)."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "m6rec.settings.production",
            "DJANGO_SECRET_KEY": env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url or env.get("BENCH_DATABASE_URL", DEFAULT_DB),
            "REDIS_URL": env.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
            "M6REC_MEDIA_ROOT": env.get("BENCH_MEDIA_ROOT", str(REPO / "var" / "bench-media")),
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "GUNICORN_LOG_LEVEL": "warning",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
    )
    paths = [str(PLATFORM), str(REPO)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def apply_env(env: dict[str, str]) -> None:
    os.environ.update(env)
    for p in (str(REPO), str(PLATFORM)):
        if p not in sys.path:
            sys.path.insert(0, p)


def django_setup(env: dict[str, str]) -> None:
    apply_env(env)
    ensure_database(env["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# ---------------------------------------------------------------------- tenant and model
def ensure_tenant(
    slug: str,
    *,
    domain: str = "content",
    config: dict | None = None,
) -> object:
    from m6rec.tenants.models import Tenant
    from m6rec.tenants.services import tenant_create

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = tenant_create(slug=slug, name=slug, domain=domain, config=config or {})
    return tenant


def import_ml_latest_small(tenant) -> None:
    from django.core.management import call_command

    from m6rec.catalog.models import Interaction

    if Interaction.objects.filter(tenant=tenant).exists():
        return
    print(f"importing {SAMPLE / 'ratings.csv'} for tenant {tenant.slug} ...", flush=True)
    call_command(
        "import_interactions", str(SAMPLE / "ratings.csv"), tenant=tenant.slug, no_progress=True
    )
    analyze()


def analyze() -> None:
    """Refresh planner statistics after a bulk load (autovacuum would, a little later)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_item, catalog_enduser, catalog_interaction")


def ensure_model(tenant, *, time_budget_s: float | None = None) -> int:
    """The tenant's active version number, training one through the platform if needed
    (``time_budget_s``: the training's safety stop; None keeps the platform's default, so the
    benchmark trains exactly what a tenant gets)."""
    from m6rec.registry.selectors import version_get_active

    active = version_get_active(tenant=tenant)
    if active is not None:
        return int(active.number)
    from m6rec.registry.services import version_promote
    from m6rec.training.services import training_run_sync

    print(f"training tenant {tenant.slug} ...", flush=True)
    started = time.perf_counter()
    overrides = {"time_budget_s": time_budget_s} if time_budget_s else {}
    run = training_run_sync(tenant=tenant, overrides=overrides)
    print(f"  run {run.pk}: {run.status} in {time.perf_counter() - started:.0f} s", flush=True)
    active = version_get_active(tenant=tenant)
    if active is None:  # the gate keeps the first version a candidate only if it failed
        version = tenant.model_versions.order_by("-number").first()
        if version is None:
            raise SystemExit(
                f"training run {run.pk} ({run.status}) produced no version: "
                f"{getattr(run, 'error_message', '')}; fix the error and run again"
            )
        version_promote(version=version, reason="benchmark set-up")
        active = version_get_active(tenant=tenant)
    return int(active.number)


def ensure_quick_model(tenant) -> int:
    """:func:`ensure_model` with :data:`QUICK_MODEL` as the tenant's training configuration
    for that one run (the tenant's configuration is restored afterwards)."""
    from m6rec.registry.selectors import version_get_active

    active = version_get_active(tenant=tenant)
    if active is not None:
        return int(active.number)
    tenant.config = {**(tenant.config or {}), "training": QUICK_MODEL}
    tenant.save(update_fields=["config"])
    try:
        return ensure_model(tenant)
    finally:
        tenant.config = {k: v for k, v in tenant.config.items() if k != "training"}
        tenant.save(update_fields=["config"])


def served_model(tenant) -> str | None:
    """The model the tenant's active version serves (None without one)."""
    from m6rec.registry.selectors import version_get_active

    active = version_get_active(tenant=tenant)
    if active is None:
        return None
    return (active.metrics or {}).get("validation", {}).get("model") or (
        active.hyperparameters or {}
    ).get("served_model")


def bench_key(tenant) -> str:
    """A recommend-scope key whose per-key rate limit does not throttle the benchmark."""
    from m6rec.tenants.services import api_key_create

    _, token = api_key_create(
        tenant=tenant, name="benchmark", scopes=["recommend"], rate_limit="100000/s"
    )
    return token


def serving_tenant(slug: str, *, time_budget_s: float | None = None) -> tuple[object, int, str]:
    """Tenant ``slug`` with ml-latest-small and a trained model (made once, reused): the
    tenant, its active version number and a fresh :func:`bench_key`."""
    tenant = ensure_tenant(slug)
    import_ml_latest_small(tenant)
    version = ensure_model(tenant, time_budget_s=time_budget_s)
    return tenant, version, bench_key(tenant)


def recommendation_paths(tenant, *, limit: int | None = None) -> tuple[list[str], list[str]]:
    """The tenant's user ids (the first ``limit``) and their recommendation paths (k=10)."""
    from m6rec.catalog.models import EndUser

    ids = EndUser.objects.filter(tenant=tenant).order_by("id").values_list("external_id", flat=True)
    users = list(ids[:limit] if limit else ids)
    paths = [f"/api/v1/users/{urllib.parse.quote(u)}/recommendations?k=10" for u in users]
    return users, paths
