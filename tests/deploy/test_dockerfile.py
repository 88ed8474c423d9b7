"""deploy/Dockerfile: a shared base, web and worker targets from hash-pinned lock files,
non-root, health-checked."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def instructions():
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages():
    result, current = {}, None
    for word, rest in instructions():
        if word == "FROM":
            current = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
            result[current] = []
        elif current:
            result[current].append((word, rest))
    return result


def test_multi_stage_builder_shared_runtime_then_worker_and_web_targets():
    froms = [rest for word, rest in instructions() if word == "FROM"]
    assert len(froms) == 4
    assert froms[0].endswith("AS builder") and froms[1].endswith("AS runtime")
    assert all("slim" in f for f in froms[:2])
    # both role targets build on the one shared base stage
    assert froms[2] == "runtime AS worker" and froms[3] == "runtime AS web"
    builder = " ".join(rest for _, rest in stages()["builder"])
    assert "pip wheel --no-deps" in builder
    runtime = stages()["runtime"]
    assert any(word == "COPY" and "--from=builder" in rest for word, rest in runtime)
    assert "PYTHONPATH" not in DOCKERFILE.read_text()


@pytest.mark.parametrize("role", ["web", "worker"])
def test_each_target_installs_its_lock_file_then_the_wheel(role):
    stage = stages()[role]
    copies = [rest for word, rest in stage if word == "COPY"]
    assert f"requirements/{role}.txt /tmp/requirements.txt" in copies
    runs = " ".join(rest for word, rest in stage if word == "RUN")
    lock = runs.index("pip install --no-deps --require-hashes -r /tmp/requirements.txt")
    wheel = runs.index("pip install --no-deps /tmp/dist/m6rec-*.whl")
    assert lock < wheel
    assert "pip check" in runs
    # never an unpinned dependency resolution in the image
    assert not re.search(r"pip install (?!--no-deps)", runs)


def test_web_collects_static_and_serves_gunicorn_with_healthcheck():
    web = stages()["web"]
    runs = " ".join(rest for word, rest in web if word == "RUN")
    assert "collectstatic --noinput" in runs
    (health,) = [rest for word, rest in web if word == "HEALTHCHECK"]
    assert "/healthz" in health
    (cmd,) = [rest for word, rest in web if word == "CMD"]
    assert "gunicorn" in cmd and "/app/gunicorn.conf.py" in cmd
    # the default target (the last stage) is web: a plain `docker build` serves
    assert list(stages())[-1] == "web"


def test_worker_runs_celery_without_the_http_healthcheck():
    worker = stages()["worker"]
    assert [rest for word, rest in worker if word == "HEALTHCHECK"] == ["NONE"]
    (cmd,) = [rest for word, rest in worker if word == "CMD"]
    assert '"celery", "-A", "m6rec", "worker"' in cmd


@pytest.mark.parametrize("role", ["web", "worker"])
def test_targets_run_as_non_root(role):
    users = [rest for word, rest in stages()[role] if word == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert users[-1].startswith("10001")  # the uid the Kubernetes manifests expect


def test_environment_names_are_known(known_env):
    env_lines = [rest for word, rest in instructions() if word == "ENV"]
    names = {m for line in env_lines for m in re.findall(r"([A-Z][A-Z0-9_]+)=", line)}
    assert names and names - known_env == set()
    text = DOCKERFILE.read_text()
    assert "DJANGO_SETTINGS_MODULE=m6rec.settings.production" in text


def test_copied_sources_exist_and_pass_the_ignore_file():
    ignore = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for word, rest in instructions():
        if word != "COPY" or "--from=" in rest:
            continue
        *sources, _dest = rest.split()
        for source in sources:
            if source.endswith("*"):  # optional (README.md*)
                continue
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") in allowed, source
