"""``python manage.py batch_recommendations SLUG [--k 10] [--users FILE] [--out PATH] [--sync]``.

Without ``--sync`` the job is queued for a Celery worker (like ``POST
models/batch-recommendations``); with ``--sync`` it runs here with a progress bar and prints
where the file is (``--out`` copies it there too). ``--resume ID`` continues an interrupted job
in this process.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.core.management.base import CommandError

from m6rec.batch import execution, selectors, services
from m6rec.batch import storage as batch_storage
from m6rec.batch.errors import BatchError
from m6rec.batch.models import BatchJob
from m6rec.common.commands import ProjectCommand, cli_actor, examples, tenant_by_slug


class Command(ProjectCommand):
    help = (
        "Write top-K recommendations for every user of a tenant (or the users listed in a "
        "file) to gzip-compressed JSON Lines in the bundle storage, one line per user: "
        '{"user_id", "items": [{"item_id", "score"}], "model_version", "strategy"}, the same '
        "as the recommendations API answers. Queued for a Celery worker, or run here with "
        "--sync and a progress bar. An interrupted job continues after the last part written."
    )
    epilog = examples(
        "python manage.py batch_recommendations shop                  # queue it for a worker",
        "python manage.py batch_recommendations shop --sync --out shop-top10.jsonl.gz",
        "python manage.py batch_recommendations shop --k 20 --users newsletter.txt --sync",
        "python manage.py batch_recommendations shop --category books --include-seen --sync",
        "python manage.py batch_recommendations shop --resume 12 --sync   # after Ctrl-C",
        "zcat shop-top10.jsonl.gz | head -3",
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The tenant's slug (see: manage.py list_tenants).")
        parser.add_argument(
            "--k",
            type=int,
            default=10,
            help=f"Items per user, 1..{services.MAX_K} (default 10).",
        )
        parser.add_argument(
            "--users",
            metavar="FILE",
            default=None,
            help="A text file with one user id per line (blank lines skipped; duplicates "
            "once); default: every user the tenant has when the job starts.",
        )
        parser.add_argument("--category", default=None, help="Only items listing this category.")
        parser.add_argument(
            "--include-seen",
            action="store_true",
            help="Keep items the user already interacted with (default: left out).",
        )
        parser.add_argument(
            "--out",
            metavar="PATH",
            default=None,
            help="Also copy the finished file to PATH (.jsonl.gz); needs --sync.",
        )
        parser.add_argument(
            "--sync",
            action="store_true",
            help="Run in this process with a progress bar (no worker needed).",
        )
        parser.add_argument(
            "--resume",
            metavar="JOB_ID",
            type=int,
            default=None,
            help="Continue the tenant's queued job JOB_ID (an interrupted --sync run) here; "
            "needs --sync.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (--sync; for logs)."
        )

    def handle(self, *args, slug: str, **options):
        tenant = tenant_by_slug(slug)
        services.batch_job_recover_lost()  # a --sync run killed earlier (no beat here)
        sync, out, resume = options["sync"], options["out"], options["resume"]
        if (out or resume is not None) and not sync:
            raise CommandError("--out and --resume need --sync (the job runs in this process)")
        if resume is not None:
            job = selectors.job_get(tenant=tenant, job_id=resume)
            if job is None or job.status != BatchJob.Status.QUEUED:
                raise CommandError(
                    f"{slug} has no queued batch job {resume} "
                    f"({'not found' if job is None else job.status})"
                )
        else:
            try:
                job = services.batch_job_create(
                    tenant=tenant,
                    k=options["k"],
                    user_ids=self._users(options["users"]),
                    exclude_seen=not options["include_seen"],
                    category=options["category"],
                    requested_by=cli_actor(),
                    dispatch=not sync,
                )
            except BatchError as exc:
                raise CommandError(exc.message) from exc
            if not sync:
                self.stdout.write(
                    f"queued batch job {job.pk} for {slug}; follow it in the admin or with "
                    f"GET /api/v1/models/batch-recommendations/{job.pk}"
                )
                return
        self._run(job, show=not options["no_progress"])
        job.refresh_from_db()
        if job.status != BatchJob.Status.SUCCEEDED:
            hint = ""
            if job.status == BatchJob.Status.QUEUED:
                hint = (
                    f"; a worker continues it, or run: manage.py batch_recommendations {slug} "
                    f"--resume {job.pk} --sync"
                )
            raise CommandError(f"batch job {job.pk} {job.status}: {job.error_message}{hint}")
        where = batch_storage.local_path(uri=job.output_uri) or job.output_uri
        if out:
            with batch_storage.open_output(uri=job.output_uri) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            where = out
        self.stdout.write(
            self.style.SUCCESS(
                f"batch job {job.pk}: {job.users_done} users ({job.popularity_users} by "
                f"popularity) written to {where} (sha256 {job.sha256})"
            )
        )

    def _users(self, path: str | None) -> list[str] | None:
        if path is None:
            return None
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--users: cannot read {path}: {exc}") from exc
        ids = [line.strip() for line in text.splitlines() if line.strip()]
        if not ids:
            raise CommandError(f"--users: {path} lists no user ids")
        return ids

    def _run(self, job: BatchJob, *, show: bool) -> None:
        try:
            if not show:
                execution.batch_job_execute(job_id=job.pk)
                return
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            with logging_redirect_tqdm(), tqdm(unit="user", desc=f"batch {job.pk}") as bar:

                def on_progress(done: int, total: int | None) -> None:
                    if total is not None and bar.total != total:
                        bar.total = total
                    bar.n = done
                    bar.refresh()

                execution.batch_job_execute(job_id=job.pk, on_progress=on_progress)
        except KeyboardInterrupt:
            job.refresh_from_db()
            raise CommandError(
                f"interrupted: batch job {job.pk} is {job.status} at {job.users_done} users; "
                f"continue it with: manage.py batch_recommendations {job.tenant.slug} "
                f"--resume {job.pk} --sync"
            ) from None
