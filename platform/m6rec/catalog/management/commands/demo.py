"""``make demo``: migrate, admin login, demo tenant from the bundled ml-latest-small, serve."""

from __future__ import annotations

import json
import secrets
import shlex
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from m6rec.catalog.management.commands.import_interactions import import_file
from m6rec.catalog.models import Interaction
from m6rec.common.commands import ProjectCommand, examples, quiet_for
from m6rec.tenants.models import Tenant
from m6rec.tenants.services import api_key_create, tenant_create

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "ml-latest-small"
DEMO_SLUG = "demo"
DEMO_DOMAIN = "content"


class Command(ProjectCommand):
    help = (
        "Embedded quick start: migrate, create superuser 'admin' (random password), tenant "
        "'demo' (domain content) from the bundled ml-latest-small, train its model in-process, "
        "print an API key and curl examples, then run the development server. Re-running "
        "keeps the data and the model and prints a new password and key. TensorFlow, absl, "
        "CUDA, tf2onnx and onnxruntime log lines are hidden unless -v 2 or M6REC_VERBOSE=1."
    )
    epilog = examples(
        "python manage.py demo --settings=m6rec.settings.local",
        "python manage.py demo --no-serve                # set up and train, do not serve",
        "python manage.py demo --no-train --limit 20000  # quick: popularity only",
        "python manage.py demo --addrport 0.0.0.0:8080",
        "M6REC_VERBOSE=1 python manage.py demo           # with third-party log output",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-serve", action="store_true", help="Stop after printing the key and examples."
        )
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="Address and port of the development server (default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Import only the first N ratings."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bars (for logs and CI)."
        )
        parser.add_argument(
            "--no-train", action="store_true", help="Skip training (serve popularity only)."
        )
        parser.add_argument(
            "--time-budget",
            type=float,
            default=None,
            help="Safety stop for the demo model's training in seconds (default: the "
            "platform's). Training does a fixed amount of work; past this, optional work "
            "is skipped and the model's manifest says so.",
        )

    def handle(self, *args, no_serve: bool, addrport: str, limit: int | None, **opts):
        self.verbosity = opts.get("verbosity", 1)
        quiet_for(opts.get("verbosity", 1))
        self._prepare_database()
        self.stdout.write("== migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
        password = self._admin()
        tenant = self._tenant()
        if not Interaction.objects.filter(tenant=tenant).exists():
            self.stdout.write(f"== importing {SAMPLE.name} into tenant {tenant.slug!r}")
            summary = import_file(
                tenant=tenant,
                file=SAMPLE / "ratings.csv",
                fmt="movielens",
                type_=self._rating_type(tenant),
                opts={"items": SAMPLE / "movies.csv", "limit": limit},
                show=not opts["no_progress"],
                write=self.stdout.write,
            )
            self.stdout.write(summary)
        else:
            self.stdout.write(f"== tenant {tenant.slug!r} already has data; import skipped")
        if not opts["no_train"]:
            self._train(tenant, time_budget=opts["time_budget"], quiet=opts["no_progress"])
        _, token = api_key_create(tenant=tenant, name="demo")
        self._banner(addrport, password, token)
        if not no_serve:
            call_command("runserver", addrport, use_reloader=False)

    def _train(self, tenant: Tenant, *, time_budget: float | None, quiet: bool) -> None:
        from m6rec.registry.selectors import version_get_active

        if version_get_active(tenant=tenant) is not None:
            self.stdout.write(f"== tenant {tenant.slug!r} already has an active model")
            return
        self.stdout.write(f"== training the {tenant.slug!r} model in-process (a few minutes)")
        args = ["--sync", f"--verbosity={self.verbosity}"] + (["--no-progress"] if quiet else [])
        if time_budget is not None:
            args += ["--time-budget", str(time_budget)]
        call_command("train_tenant", tenant.slug, *args, stdout=self.stdout)

    def _prepare_database(self) -> None:
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3") and str(db["NAME"]) != ":memory:":
            Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)

    def _admin(self) -> str:
        password = secrets.token_urlsafe(12)
        user_model = get_user_model()
        user = user_model.objects.filter(username="admin").first()
        if user is None:
            user_model.objects.create_superuser("admin", "admin@example.com", password)
        else:
            user.set_password(password)
            user.is_staff = user.is_superuser = user.is_active = True
            user.save()
        return password

    def _tenant(self) -> Tenant:
        tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
        if tenant is None:
            tenant = tenant_create(
                slug=DEMO_SLUG, name="Demo (MovieLens ml-latest-small)", domain=DEMO_DOMAIN
            )
        return tenant

    @staticmethod
    def _rating_type(tenant: Tenant) -> str:
        from m6rec.catalog.importers import default_rating_type
        from m6rec.tenants.domains import get_tenant_domain

        return default_rating_type(get_tenant_domain(tenant))

    def _banner(self, addrport: str, password: str, token: str) -> None:
        base = f"http://{addrport}"
        auth = shlex.quote(f"Authorization: Bearer {token}")
        like = self._rating_type(Tenant.objects.get(slug=DEMO_SLUG))
        row = {"user_id": "1", "item_id": "1", "type": like, "value": 5, "event_id": "demo-curl-1"}
        body = shlex.quote(json.dumps({"interactions": [row]}))
        lines = [
            "",
            "== M6-Rec demo is ready",
            f"Admin:    {base}/admin/   login: admin   password: {password}",
            f"API docs: {base}/api/docs/",
            f"API key (tenant {DEMO_SLUG!r}, all scopes): {token}",
            "",
            "Try:",
            f"  curl -s -H {auth} '{base}/api/v1/items?limit=3'",
            f"  curl -s -H {auth} {base}/api/v1/items/1",
            f"  curl -s -H {auth} {base}/api/v1/users/1",
            f"  curl -s -X POST -H {auth} -H 'Content-Type: application/json' "
            f"-d {body} {base}/api/v1/interactions",
            "  # titles and the reasons with the items (include=properties, explain=true):",
            f"  curl -s -H {auth} "
            f"'{base}/api/v1/users/1/recommendations?k=10&include=properties&explain=true'",
            f"  curl -s -H {auth} '{base}/api/v1/popular?k=10&include=properties'",
            "",
            "Fill the online charts (admin → model versions) with simulated users, from "
            "another terminal:",
            f"  make demo-traffic DEMO_TRAFFIC_ARGS='--base-url {base}'",
            "",
        ]
        self.stdout.write("\n".join(lines))
