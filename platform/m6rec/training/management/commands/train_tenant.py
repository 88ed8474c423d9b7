"""``python manage.py train_tenant SLUG [--sync] [--time-budget S]``.

Without ``--sync`` the run is queued for a Celery worker (like the admin action and the API);
with ``--sync`` it runs in this process with a progress bar and prints the resulting version.
Third-party log noise (TensorFlow, absl, CUDA, tf2onnx, onnxruntime) is silenced unless
``-v 2`` or ``M6REC_VERBOSE=1``.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from m6rec.common.commands import ProjectCommand, examples, quiet_for, tenant_by_slug
from m6rec.training import services
from m6rec.training.errors import TrainingConflictError
from m6rec.training.models import TrainingRun


class Command(ProjectCommand):
    help = (
        "Train a tenant's model: queue a run for a Celery worker (like the admin action and "
        "the API), or run it here with --sync and a progress bar. The new version goes "
        "through the quality gate; see it with: manage.py versions list SLUG. "
        "TensorFlow, absl, CUDA, tf2onnx and onnxruntime log lines are hidden unless -v 2 or "
        "M6REC_VERBOSE=1."
    )
    epilog = examples(
        "python manage.py train_tenant shop",
        "python manage.py train_tenant shop --sync",
        "python manage.py train_tenant shop --sync --time-budget 600 --no-progress",
        "python manage.py train_tenant shop --sync --config '{\"use_fusion\": false}'",
        "M6REC_VERBOSE=1 python manage.py train_tenant shop --sync   # third-party logs too",
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The tenant's slug (see: manage.py list_tenants).")
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
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (--sync; for logs)."
        )

    def handle(self, *args, slug: str, sync: bool, time_budget, no_progress: bool, **options):
        quiet_for(options.get("verbosity", 1))
        tenant = tenant_by_slug(slug)
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
        from tqdm.contrib.logging import logging_redirect_tqdm

        # log lines (e.g. "run 1: … registered") print above the bar, not glued to its end
        with (
            logging_redirect_tqdm(),
            tqdm(total=100, bar_format="{desc:<16}{bar}| {n:.0f}% [{elapsed}]") as bar,
        ):

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
