"""deploy/k8s: schema-valid (bundled Kubernetes schemas, offline, strict) and well-formed."""

from pathlib import Path

import kubernetes_validate  # a dev dependency: pip install -e ".[dev]"
import pytest
import yaml

from m6rec.ops.queues import QUEUES

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
VERSIONS = ("1.29.0", "1.33.0", kubernetes_validate.latest_version())
WORKLOAD_KINDS = {"Deployment", "Job"}


def pod_spec(doc):
    return doc["spec"]["template"]["spec"]


def containers(doc, init=True):
    spec = pod_spec(doc)
    return [*spec.get("initContainers", [])] * init + spec["containers"]


def by_kind(docs, kind):
    return {doc["metadata"]["name"]: doc for _, doc in docs if doc["kind"] == kind}


def test_schemas_are_bundled_offline():
    """The validator ships the JSON schemas: no network needed (CI has none)."""
    schema_root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    for version in VERSIONS:
        major_minor = ".".join(version.split(".")[:2])
        assert (schema_root / f"v{major_minor}.0-local-strict").is_dir(), version


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_schema_valid(k8s_docs, version):
    assert len(k8s_docs) >= 12
    for filename, doc in k8s_docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{filename} {doc['kind']}/{doc['metadata']['name']}: {exc}")


def test_the_validator_rejects_mistakes(k8s_docs):
    doc = yaml.safe_load((K8S / "beat.yaml").read_text())
    pod_spec(doc)["containers"][0]["imagePullPolicyy"] = "Always"  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)
    doc = yaml.safe_load((K8S / "hpa.yaml").read_text().split("---")[0])
    doc["spec"]["minReplicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == "m6rec"


def test_expected_resources(k8s_docs):
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in k8s_docs}
    assert {
        ("Namespace", "m6rec"),
        ("ConfigMap", "m6rec-config"),
        ("Secret", "m6rec-secrets"),
        ("PersistentVolumeClaim", "m6rec-bundles"),
        ("Job", "m6rec-migrate"),
        ("Deployment", "m6rec-web"),
        ("Service", "m6rec-web"),
        ("Deployment", "m6rec-beat"),
        ("HorizontalPodAutoscaler", "m6rec-web"),
        *{("Deployment", f"m6rec-worker-{q}") for q in QUEUES},
        *{("HorizontalPodAutoscaler", f"m6rec-worker-{q}") for q in QUEUES},
    } <= kinds
    for _, doc in k8s_docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "m6rec"


def test_one_image_per_role(k8s_docs):
    """Workers run the `worker` target (with [train]); web, the migrate job and beat run the
    `web` target (no TensorFlow). Both names are set in kustomization.yaml."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    names = [entry["name"] for entry in kustomization["images"]]
    assert names == ["registry.example.com/m6rec/m6rec", "registry.example.com/m6rec/m6rec-worker"]
    web_image, worker_image = names
    seen = set()
    for path, doc in k8s_docs:
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        want = worker_image if path.startswith("worker-") else web_image
        for c in containers(doc):
            assert c["image"].split(":")[0] == want, (path, c["name"])
            seen.add(c["image"])
    assert {image.split(":")[0] for image in seen} == set(names)
    assert len({image.split(":")[1] for image in seen}) == 1  # one release tag


def test_pods_are_non_root_and_locked_down(k8s_docs):
    for _, doc in k8s_docs:
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        pod = pod_spec(doc)["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["runAsUser"] == 10001  # the image's user
        assert pod["seccompProfile"]["type"] == "RuntimeDefault"
        for c in containers(doc):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            assert "/tmp" in mounts  # writable scratch on a read-only root
            for key in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][key]), (doc, c["name"])


def test_web_probes_and_service(k8s_docs):
    web = by_kind(k8s_docs, "Deployment")["m6rec-web"]
    (container,) = pod_spec(web)["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["command"][:3] == ["gunicorn", "--config", "/app/gunicorn.conf.py"]
    port_names = {p["name"] for p in container["ports"]}
    service = by_kind(k8s_docs, "Service")["m6rec-web"]
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert web["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names


def test_workers_per_queue_and_single_beat(k8s_docs):
    deployments = by_kind(k8s_docs, "Deployment")
    for queue in QUEUES:
        worker = deployments[f"m6rec-worker-{queue}"]
        (container,) = pod_spec(worker)["containers"]
        assert container["command"][:4] == ["celery", "-A", "m6rec", "worker"]
        assert f"--queues={queue}" in container["command"]
        assert "livenessProbe" in container
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert "bundles" in mounts and not mounts["bundles"].get("readOnly")
    beat = deployments["m6rec-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert "beat" in pod_spec(beat)["containers"][0]["command"]


def test_hpas_target_existing_deployments(k8s_docs):
    deployments = by_kind(k8s_docs, "Deployment")
    targets = set()
    for hpa in by_kind(k8s_docs, "HorizontalPodAutoscaler").values():
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and ref["name"] in deployments
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        targets.add(ref["name"])
    assert targets == {"m6rec-web", *{f"m6rec-worker-{q}" for q in QUEUES}}
    assert "m6rec-beat" not in targets


def test_migration_job_and_init_containers(k8s_docs):
    job = by_kind(k8s_docs, "Job")["m6rec-migrate"]
    (container,) = pod_spec(job)["containers"]
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}
    deployments = by_kind(k8s_docs, "Deployment")
    for name in ("m6rec-web", *(f"m6rec-worker-{q}" for q in QUEUES)):
        (init,) = pod_spec(deployments[name])["initContainers"]
        assert "migrate --check" in " ".join(init["command"])


def test_volumes_and_config_references_exist(k8s_docs):
    config_maps = by_kind(k8s_docs, "ConfigMap")
    secrets = by_kind(k8s_docs, "Secret")
    claims = by_kind(k8s_docs, "PersistentVolumeClaim")
    for _, doc in k8s_docs:
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        for volume in pod_spec(doc).get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims
        for c in containers(doc):
            refs = c["envFrom"]
            assert {r["configMapRef"]["name"] for r in refs if "configMapRef" in r} <= set(
                config_maps
            )
            assert {r["secretRef"]["name"] for r in refs if "secretRef" in r} <= set(secrets)
    assert "ReadWriteMany" in claims["m6rec-bundles"]["spec"]["accessModes"]


def test_environment_is_known_to_the_settings_and_complete(k8s_docs, known_env, required_env):
    config = by_kind(k8s_docs, "ConfigMap")["m6rec-config"]["data"]
    secret = by_kind(k8s_docs, "Secret")["m6rec-secrets"]["stringData"]
    provided = set(config) | set(secret)
    assert provided - known_env == set()
    assert required_env <= provided
    assert not set(config) & set(secret)
    for sensitive in ("DJANGO_SECRET_KEY", "DATABASE_URL"):
        assert sensitive in secret and sensitive not in config
    for _, doc in k8s_docs:
        if doc["kind"] in WORKLOAD_KINDS:
            for c in containers(doc):
                assert {e["name"] for e in c.get("env", [])} - known_env == set()
    assert config["M6REC_MEDIA_ROOT"] == "/data/media"
    assert config["DJANGO_SETTINGS_MODULE"] == "m6rec.settings.production"


def test_secret_holds_placeholders_only(k8s_docs):
    secret = by_kind(k8s_docs, "Secret")["m6rec-secrets"]
    text = (K8S / "secret.yaml").read_text()
    assert "PLACEHOLDER" in text
    assert secret["stringData"]["DJANGO_SECRET_KEY"].startswith("CHANGE-ME")
    assert "CHANGE-ME" in secret["stringData"]["DATABASE_URL"]


def test_mounts_match_the_media_root(k8s_docs):
    media_root = by_kind(k8s_docs, "ConfigMap")["m6rec-config"]["data"]["M6REC_MEDIA_ROOT"]
    deployments = by_kind(k8s_docs, "Deployment")
    for name in ("m6rec-web", *(f"m6rec-worker-{q}" for q in QUEUES)):
        (container,) = pod_spec(deployments[name])["containers"]
        bundles = next(m for m in container["volumeMounts"] if m["name"] == "bundles")
        assert bundles["mountPath"] == media_root
