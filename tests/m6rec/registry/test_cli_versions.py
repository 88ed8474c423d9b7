"""``versions``: list, promote, roll back, pin, unpin and audit from the command line,
through the registry services (audited like the admin and the API, actor ``cli:<user>``)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from m6rec.common.commands import cli_actor
from m6rec.registry.models import AuditLog, ModelVersion

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("versions", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.fixture
def three(tenant, make_version):
    """v1 retired, v2 active (rollback target v1), v3 candidate."""
    v1 = make_version(tenant, 0.2, status="active")
    v2 = make_version(tenant, 0.3, status="active")
    v3 = make_version(tenant, 0.25)
    return v1, v2, v3


def _last_audit(tenant) -> AuditLog:
    return AuditLog.objects.filter(tenant=tenant).order_by("-id").first()


def _status(version) -> tuple[str, bool]:
    version.refresh_from_db()
    return version.status, version.pinned


def test_cli_actor_names_the_os_user(monkeypatch):
    monkeypatch.setenv("LOGNAME", "alice")
    assert cli_actor() == "cli:alice"


def test_list_shows_status_metrics_and_the_rollback_target(tenant, three):
    lines = run("list", "acme").splitlines()
    assert lines[0].split()[:5] == ["version", "status", "nDCG@10", "P@10", "R@10"]
    assert lines[1].split()[:3] == ["v3", "candidate", "0.2500"]
    assert lines[2].split()[:3] == ["v2", "active", "0.3000"]
    assert "rollback target" in lines[3] and lines[3].startswith("v1")
    rows = json.loads(run("list", "acme", "--json", "--limit", "2"))
    assert [(r["number"], r["status"], r["metrics"]["ndcg@10"]) for r in rows] == [
        (3, "candidate", 0.25),
        (2, "active", 0.3),
    ]


def test_promote_is_audited_with_the_cli_actor_and_reason(tenant, three):
    v1, v2, v3 = three
    output = run("promote", "acme", "3", "--reason", "offline win")
    assert "v3 is now active" in output
    assert _status(v3) == ("active", False) and _status(v2) == ("retired", False)
    log = _last_audit(tenant)
    assert (log.action, log.actor, log.reason) == ("promote", cli_actor(), "offline win")
    assert (log.from_version_id, log.to_version_id, log.actor_user_id) == (v2.pk, v3.pk, None)
    assert "already active" in run("promote", "acme", "v3")
    assert AuditLog.objects.filter(tenant=tenant, action="promote").count() == 3  # 2 setup + 1


def test_rollback_pin_unpin_are_audited(tenant, three):
    v1, v2, _ = three
    assert "v1 is now active" in run("rollback", "acme")
    assert _status(v1)[0] == "active"
    log = _last_audit(tenant)
    assert (log.action, log.actor, log.reason) == ("rollback", cli_actor(),
                                                   "manage.py versions rollback")  # fmt: skip
    assert "pinned" in run("pin", "acme", "2", "--reason", "freeze for launch")
    assert _status(v2) == ("active", True)
    assert (_last_audit(tenant).action, _last_audit(tenant).reason) == ("pin", "freeze for launch")
    assert "unpinned" in run("unpin", "acme")
    assert _status(v2) == ("active", False)
    assert (_last_audit(tenant).action, _last_audit(tenant).actor) == ("unpin", cli_actor())
    audit = run("audit", "acme", "--limit", "3").splitlines()
    assert [line.split()[2] for line in audit[1:]] == ["unpin", "pin", "rollback"]


def test_errors_say_what_to_do_next(tenant, three, make_version):
    with pytest.raises(CommandError, match="no version 9.*versions list acme"):
        run("promote", "acme", "9")
    with pytest.raises(CommandError, match="must be 1 or more"):
        run("pin", "acme", "0")
    failed = make_version(tenant, 0.1)
    ModelVersion.objects.filter(pk=failed.pk).update(status="failed")
    with pytest.raises(CommandError, match="failed and cannot be promoted.*versions list acme"):
        run("promote", "acme", failed.number)
    with pytest.raises(CommandError, match='No tenant "nope".*list_tenants'):
        run("list", "nope")
    with pytest.raises(CommandError, match="invalid choice"):
        run("retire", "acme")


def test_nothing_to_roll_back_and_empty_lists(tenant, other_tenant, make_version):
    assert "no model versions yet" in run("list", "globex")
    assert "train_tenant globex" in run("list", "globex")
    assert "nothing to unpin" in run("unpin", "globex")
    make_version(other_tenant, 0.2, status="active")
    with pytest.raises(CommandError, match="no previous version to roll back to"):
        run("rollback", "globex")
    assert not AuditLog.objects.filter(tenant=tenant).exists()
