"""``manage.py batch_recommendations``: --sync with a progress bar, --users, --out; queueing;
--resume of an interrupted run; clear errors."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from m6rec.batch.models import BatchJob
from tests.m6rec.batch.conftest import api_line, read_lines


def _run(*args) -> str:
    out = StringIO()
    call_command("batch_recommendations", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_sync_writes_the_listed_users_to_out(tenant, tmp_path, recommender):
    users = tmp_path / "users.txt"
    users.write_text("u3\n\nu4\nstranger\n", encoding="utf-8")
    out = tmp_path / "top.jsonl.gz"
    text = _run(tenant.slug, "--k", "3", "--users", str(users), "--sync", "--out", str(out))
    assert "3 users (1 by popularity) written to" in text and str(out) in text
    lines = read_lines(out.read_bytes())
    assert [line["user_id"] for line in lines] == ["u3", "u4", "stranger"]
    assert lines == [api_line(recommender, u, k=3) for u in ("u3", "u4", "stranger")]
    job = BatchJob.objects.get(tenant=tenant)
    assert job.requested_by_label.startswith("cli:") and job.status == "succeeded"


def test_without_sync_the_job_is_queued(tenant):
    text = _run(tenant.slug, "--k", "4")
    job = BatchJob.objects.get(tenant=tenant)
    assert f"queued batch job {job.pk}" in text
    assert job.status == "queued" and job.dispatch_pending and job.k == 4


def test_resume_continues_an_interrupted_run(tenant, monkeypatch, tmp_path):
    from m6rec.batch import execution

    real = execution.recommendation_line
    calls = []

    def interrupted(**kwargs):
        calls.append(kwargs["user_id"])
        if len(calls) == 30:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(execution, "recommendation_line", interrupted)
    with pytest.raises(CommandError, match="--resume"):
        _run(tenant.slug, "--sync", "--no-progress")
    job = BatchJob.objects.get(tenant=tenant)
    assert job.status == "queued" and job.users_done == 25
    monkeypatch.undo()
    out = tmp_path / "all.jsonl.gz"
    _run(tenant.slug, "--resume", str(job.pk), "--sync", "--out", str(out))
    users = [line["user_id"] for line in read_lines(out.read_bytes())]
    assert len(users) == len(set(users)) == 80


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.gz"], "need --sync"),
        (["--k", "0", "--sync"], "k must be between"),
        (["--users", "/nonexistent/users.txt"], "cannot read"),
        (["--users", "BAD_FILE"], "user id 2 \\('a/b'\\)"),
        (["--resume", "999999", "--sync"], "no queued batch job 999999"),
    ],
)
def test_errors_say_what_is_wrong(tenant, args, message, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("u1\na/b\n", encoding="utf-8")
    args = [str(bad) if a == "BAD_FILE" else a for a in args]
    with pytest.raises(CommandError, match=message):
        _run(tenant.slug, *args)


def test_unknown_tenant_is_named(db):
    with pytest.raises(CommandError, match='No tenant "nope"'):
        _run("nope", "--sync")
