"""deploy/Dockerfile: multi-stage, installs the built wheel, non-root, health-checked."""

import re
from pathlib import Path

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


def test_multi_stage_builder_then_slim_runtime():
    froms = [rest for word, rest in instructions() if word == "FROM"]
    assert len(froms) == 2
    assert froms[0].endswith("AS builder") and froms[1].endswith("AS runtime")
    assert all("slim" in f for f in froms)
    builder = " ".join(rest for _, rest in stages()["builder"])
    assert "pip wheel --no-deps" in builder


def test_runtime_installs_the_wheel_and_collects_static():
    runtime = stages()["runtime"]
    runs = " ".join(rest for word, rest in runtime if word == "RUN")
    assert re.search(r"pip install /tmp/dist/m6rec-\*\.whl", runs)
    assert "collectstatic --noinput" in runs
    assert any(word == "COPY" and "--from=builder" in rest for word, rest in runtime)
    assert "PYTHONPATH" not in DOCKERFILE.read_text()


def test_runs_as_non_root_with_healthcheck():
    runtime = stages()["runtime"]
    users = [rest for word, rest in runtime if word == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert users[-1].startswith("10001")  # the uid the Kubernetes manifests expect
    (health,) = [rest for word, rest in runtime if word == "HEALTHCHECK"]
    assert "/healthz" in health
    (cmd,) = [rest for word, rest in runtime if word == "CMD"]
    assert "gunicorn" in cmd and "/app/gunicorn.conf.py" in cmd


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
