"""``python manage.py train_tenant SLUG [--sync] [--time-budget S]``.

Without ``--sync`` the run is queued for a Celery worker (like the admin action and the API);
with ``--sync`` it runs in this process with a progress bar and prints the resulting version.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from m6rec.tenants.models import Tenant
from m6rec.training import services
from m6rec.training.errors import TrainingConflictError
from m6rec.training.models import TrainingRun


class Command(BaseCommand):
    help = "Train a tenant's model: queue a run, or run it here with --sync."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Tenant slug.")
        parser.add_argument(
            "--sync", action="store_true", help="Train in this process (no worker needed)."
        )
        parser.add_argument(
            "--time-budget",
            type=float,
            default=None,
            help="Safety stop in seconds (overrides M6REC_TRAIN_CONFIG): training does a "
            "fixed amount of work; past this, optional work is skipped and recorded.",
        )
        parser.add_argument(
            "--config",
            default=None,
            help="Engine TrainConfig overrides as JSON, e.g. '{\"use_fusion\": false}' (--sync).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, slug: str, sync: bool, time_budget, no_progress: bool, **options):

        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f'no tenant "{slug}"; create it with create_tenant')
        try:
            overrides = json.loads(options["config"]) if options.get("config") else {}
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc}") from exc
        if not isinstance(overrides, dict):
            raise CommandError("--config must be a JSON object")
        if time_budget is not None:
            overrides["time_budget_s"] = time_budget
        # a run left "running" by a killed process (no worker sweeps in the quick start)
        services.training_run_sweep_stuck()
        try:
            if not sync:
                run = services.training_run_create(
                    tenant=tenant, trigger=TrainingRun.Trigger.COMMAND, requested_by="command"
                )
                self.stdout.write(f"queued training run {run.pk} for {slug}")
                return
            run = services.training_run_create(
                tenant=tenant,
                trigger=TrainingRun.Trigger.COMMAND,
                requested_by="command",
                dispatch=False,
            )
        except TrainingConflictError as exc:
            raise CommandError(exc.message) from exc
        self._run_with_progress(run, overrides=overrides or None, show=not no_progress)
        run.refresh_from_db()
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"training run {run.pk} {run.status}: {run.error_message}")
        version = run.version
        metric = version.gate_metric
        self.stdout.write(
            self.style.SUCCESS(
                f"run {run.pk} succeeded: {slug} v{version.number} ({version.status}), "
                f"validation ndcg@10 "
                f"{'n/a' if metric is None else f'{metric:.4f}'}; {run.gate_decision}"
            )
        )

    def _run_with_progress(self, run: TrainingRun, *, overrides, show: bool) -> None:
        if not show:
            services.training_run_execute(run_id=run.pk, overrides=overrides)
            return
        from tqdm import tqdm

        with tqdm(total=100, bar_format="{desc:<14}{bar}| {n:.0f}% [{elapsed}]") as bar:

            def on_progress(stage: str, percent: float) -> None:
                bar.set_description_str(stage, refresh=False)
                bar.n = percent
                bar.refresh()

            services.training_run_execute(
                run_id=run.pk, overrides=overrides, on_progress=on_progress
            )
            final = TrainingRun.objects.filter(pk=run.pk).values("stage", "progress").first()
            if final:
                on_progress(final["stage"], final["progress"])
