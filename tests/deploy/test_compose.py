"""deploy/docker-compose.yml: valid for compose, and shaped the way docs/production.md says."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from m6rec.ops.queues import QUEUES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
APP_SERVICES = ("migrate", "web", "worker-small", "worker-large", "beat")


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture
def compose_cli(require_tool):
    cmd = compose_command()
    if cmd is None:
        require_tool("neither docker-compose nor the docker compose plugin is installed")
    return cmd


def _run(cmd, *args, env_file, tmp_path):
    # A clean environment: the shell's DATABASE_URL etc. must not fill in for the file.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    return subprocess.run(
        [*cmd, "-f", str(COMPOSE), "--env-file", str(env_file), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_compose_config_is_valid_with_the_example_env(compose_cli, tmp_path):
    proc = _run(compose_cli, "config", "-q", env_file=ENV_EXAMPLE, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_compose_resolved_config(compose_cli, tmp_path):
    proc = _run(compose_cli, "config", env_file=ENV_EXAMPLE, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load(proc.stdout)
    web = resolved["services"]["web"]
    assert web["environment"]["DJANGO_SECRET_KEY"].startswith("CHANGE-ME")
    assert web["build"]["target"] == "web"
    for name in WORKERS:
        assert resolved["services"][name]["build"]["target"] == "worker"
        assert resolved["services"][name]["image"] == "m6rec-worker:latest"
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_refuses_to_run_without_secrets(compose_cli, tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc = _run(compose_cli, "config", "-q", env_file=empty, tmp_path=tmp_path)
    assert proc.returncode != 0
    assert "set " in proc.stderr and "deploy/.env" in proc.stderr


def test_services(compose):
    assert set(compose["services"]) == {"postgres", "redis", *APP_SERVICES}


WORKERS = ("worker-small", "worker-large")


def test_app_services_use_the_image_of_their_role_and_share_the_env(compose):
    """DESIGN.md, "Installs by role": workers train (the `worker` target, with [train]);
    web, migrate and beat never do (the `web` target, no TensorFlow)."""
    for name in APP_SERVICES:
        service = compose["services"][name]
        if name in WORKERS:
            assert service["image"] == "${M6REC_WORKER_IMAGE:-m6rec-worker:latest}", name
            assert service["build"]["target"] == "worker", name
        else:
            assert service["image"] == "${M6REC_IMAGE:-m6rec:latest}", name
            assert service["build"]["target"] == "web", name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["build"]["context"] == ".."
        assert service["environment"]["DJANGO_SETTINGS_MODULE"].endswith(
            "m6rec.settings.production}"
        )


def test_migrate_is_one_shot_and_gates_the_others(compose):
    migrate = compose["services"]["migrate"]
    assert migrate["command"][-2:] == ["migrate", "--noinput"]
    assert migrate["restart"] == "no"
    for name in ("web", "worker-small", "worker-large", "beat"):
        deps = compose["services"][name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"


def test_bundles_volume_shared_by_web_and_workers(compose):
    media = compose["services"]["web"]["environment"]["M6REC_MEDIA_ROOT"]
    mount_point = re.sub(r"\$\{M6REC_MEDIA_ROOT:-(.*)\}", r"\1", media)
    for name in ("web", "worker-small", "worker-large"):
        assert f"bundles:{mount_point}" in compose["services"][name]["volumes"]
    assert "bundles" in compose["volumes"]


def test_web_runs_gunicorn_with_the_deploy_config(compose):
    command = compose["services"]["web"]["command"]
    assert command[:3] == ["gunicorn", "--config", "/app/gunicorn.conf.py"]
    assert command[-1] == "m6rec.wsgi:application"


def test_one_worker_per_queue(compose):
    seen = []
    for queue in QUEUES:
        command = compose["services"][f"worker-{queue}"]["command"]
        assert command[:4] == ["celery", "-A", "m6rec", "worker"]
        assert f"--queues={queue}" in command
        seen.append(queue)
    assert seen == ["small", "large"]


def test_healthchecks(compose):
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("worker-small", "worker-large"):
        assert "inspect ping" in " ".join(services[name]["healthcheck"]["test"])
    # The image's HTTP healthcheck does not apply to processes without a server.
    assert services["beat"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_environment_names_are_known_and_required_ones_present(compose, known_env, required_env):
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert set(env) - known_env == set(), name
        assert required_env <= set(env), name


def test_every_interpolated_variable_is_in_the_example(compose):
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    example = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert used - example == set()
