"""The Kubernetes manifests under deploy/k8s, checked without a cluster and without kubectl.

Every file parses and every kustomization reference exists; every process is probed, sized and runs
unprivileged on 0.0.0.0; relays are single; APIs and workers have disruption budgets; the KafkaTopics
are the ones contracts/topics.py generates. When kubectl happens to be installed, the overlays are also
rendered and checked as rendered.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from typer.testing import CliRunner

from contracts.topics import ALL_TOPICS
from services.cli import app as cli_app
from services.deploy_docs import KAFKA_TOPICS_PATH, kafka_topics_yaml, service_manifests
from services.platform import SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
KUSTOMIZATIONS = sorted(K8S.rglob("kustomization.yaml"))
ROLES = ("api", "relay", "worker")
#: The Secret the overlays provide: dev generates it, production expects it to exist.
APP_SECRET = "renshe-secrets"


def load(path: Path) -> list[Any]:
    """The YAML documents of a file, without empty ones."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def kustomization(directory: Path) -> dict[str, Any]:
    [doc] = load(directory / "kustomization.yaml")
    return doc  # type: ignore[no-any-return]


def generator_files(entry: dict[str, Any]) -> Iterator[str]:
    """Files a configMapGenerator or secretGenerator entry reads (``files`` entries may be key=path)."""
    yield from entry.get("envs", [])
    for item in entry.get("files", []):
        yield item.split("=", 1)[-1]


def references(directory: Path) -> dict[str, list[Path]]:
    """What one kustomization points at, by kind of reference (resolved paths)."""
    k = kustomization(directory)
    directory = directory.resolve()
    return {
        "resources": [(directory / r).resolve() for r in k.get("resources", [])],
        "components": [(directory / c).resolve() for c in k.get("components", [])],
        "patches": [(directory / p["path"]).resolve() for p in k.get("patches", []) if "path" in p],
        "generators": [
            (directory / f).resolve()
            for key in ("configMapGenerator", "secretGenerator")
            for entry in k.get(key, [])
            for f in generator_files(entry)
        ],
    }


def walk(directory: Path) -> tuple[set[Path], list[dict[str, Any]]]:
    """Every file a kustomization reaches (recursively) and the resources it declares, unpatched."""
    files = {directory.resolve() / "kustomization.yaml"}
    resources: list[dict[str, Any]] = []
    refs = references(directory)
    for ref in refs["patches"] + refs["generators"]:
        files.add(ref)
    for ref in refs["resources"] + refs["components"]:
        if ref.is_dir():
            sub_files, sub_resources = walk(ref)
            files |= sub_files
            resources += sub_resources
        else:
            files.add(ref)
            resources += load(ref)
    return files, resources


BASE_RESOURCES = walk(BASE)[1]


def of_kind(kind: str, resources: list[dict[str, Any]] = BASE_RESOURCES) -> list[dict[str, Any]]:
    return [r for r in resources if r["kind"] == kind]


def name(resource: dict[str, Any]) -> str:
    return str(resource["metadata"]["name"])


def role(deployment: dict[str, Any]) -> str:
    return str(deployment["metadata"]["labels"]["app.kubernetes.io/component"])


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]  # type: ignore[no-any-return]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return only  # type: ignore[no-any-return]


def env_of(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(deployment).get("env", [])}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def check_deployment(deployment: dict[str, Any]) -> None:
    """What every renshe process needs in a pod: probes, resources, no privileges, the right port."""
    dname = name(deployment)
    spec = deployment["spec"]["template"]["spec"]
    c = container(deployment)
    env = env_of(deployment)
    assert role(deployment) in ROLES, dname
    assert selects(deployment["spec"]["selector"], pod_labels(deployment)), f"{dname}: selector misses its pods"
    # Strimzi's NetworkPolicy only lets pods with this label reach the Kafka listener.
    assert pod_labels(deployment).get("app.kubernetes.io/part-of") == "renshe", dname

    service, command = c["args"]
    assert command == role(deployment), f"{dname}: args {c['args']} do not run a {role(deployment)}"
    assert pod_labels(deployment)["renshe.io/service"] == service, dname

    assert env["HTTP_HOST"]["value"] == "0.0.0.0", f"{dname}: must listen on 0.0.0.0 in a pod"
    port_var = "HTTP_PORT" if command == "api" else "OPS_PORT"
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert len(ports) == 1, dname
    [(port_name, port)] = ports.items()
    assert int(env[port_var]["value"]) == port, f"{dname}: {port_var} differs from the container port"

    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        assert probe in c, f"{dname}: no {probe}"
        assert c[probe]["httpGet"]["path"] == path, f"{dname}: {probe} must GET {path}"
        assert c[probe]["httpGet"]["port"] in (port_name, port), f"{dname}: {probe} on the wrong port"

    for bound in ("requests", "limits"):
        assert set(c.get("resources", {}).get(bound, {})) >= {"cpu", "memory"}, f"{dname}: no {bound}"

    pod_security = spec.get("securityContext", {})
    security = c.get("securityContext", {})
    assert security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True, f"{dname}: may run as root"
    assert security.get("readOnlyRootFilesystem") is True, f"{dname}: writable root filesystem"
    assert security.get("allowPrivilegeEscalation") is False, f"{dname}: may escalate privileges"


# --- files and references ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(K8S.rglob("*.yaml")), ids=lambda p: str(p.relative_to(K8S)))
def test_every_yaml_file_parses_into_resources_or_patch_operations(path):
    docs = load(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        if isinstance(doc, list):  # a JSON 6902 patch
            assert all({"op", "path"} <= set(op) for op in doc), path
        else:
            assert {"apiVersion", "kind"} <= set(doc), f"{path}: a document without apiVersion and kind"


@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=lambda p: str(p.parent.relative_to(K8S)))
def test_every_file_a_kustomization_references_exists(path):
    for kind, refs in references(path.parent).items():
        for ref in refs:
            assert ref.exists(), f"{path.relative_to(K8S)}: {kind} entry {ref} does not exist"
            if ref.is_dir():
                assert (ref / "kustomization.yaml").exists(), f"{ref} is a folder without kustomization.yaml"


def test_every_manifest_is_reached_from_an_overlay():
    reached: set[Path] = set()
    for overlay in OVERLAYS:
        reached |= walk(overlay)[0]
    written = {p.resolve() for p in K8S.rglob("*") if p.suffix in (".yaml", ".env")}
    assert written - reached == set(), "files no overlay includes (forgotten in a kustomization.yaml?)"


def test_overlays_are_dev_and_production_in_the_base_namespace():
    assert [o.name for o in OVERLAYS] == ["dev", "production"]
    for overlay in OVERLAYS:
        # What an overlay generates gets the overlay's namespace; references to a generated name are
        # rewritten only within one namespace.
        assert kustomization(overlay).get("namespace") == kustomization(BASE)["namespace"], overlay.name


# --- processes ------------------------------------------------------------------------------------------


def test_every_service_runs_an_api_and_a_relay_or_worker():
    by_service: dict[str, set[str]] = {}
    for d in of_kind("Deployment"):
        by_service.setdefault(pod_labels(d)["renshe.io/service"], set()).add(role(d))
    assert by_service["registration"] == {"api", "relay", "worker"}
    assert by_service["reporting"] == {"api", "worker"}
    assert all("api" in roles for roles in by_service.values())
    # Every listed service, and only they, with exactly the processes its entry says.
    assert by_service == {s.name: set(s.processes) for s in SERVICES}


@pytest.mark.parametrize("relative", sorted(service_manifests(ROOT)), ids=str)
def test_service_manifests_are_generated_from_the_list_of_services(relative):
    committed = ROOT / relative
    assert committed.exists(), f"{relative} is missing: run `make contracts`"
    assert committed.read_text(encoding="utf-8") == service_manifests(ROOT)[relative], (
        f"{relative} is stale: run `make contracts` and commit the result"
    )


@pytest.mark.parametrize("deployment", of_kind("Deployment"), ids=name)
def test_deployment_is_probed_sized_and_unprivileged(deployment):
    check_deployment(deployment)


@pytest.mark.parametrize("deployment", of_kind("Deployment"), ids=name)
def test_deployment_runs_an_existing_renshe_command(deployment):
    args = container(deployment)["args"]
    result = CliRunner().invoke(cli_app, [*args, "--help"])
    assert result.exit_code == 0, f"`renshe {' '.join(args)}` does not exist: {result.output}"


@pytest.mark.parametrize("deployment", [d for d in of_kind("Deployment") if role(d) == "relay"], ids=name)
def test_relay_runs_exactly_one_replica_and_never_two_at_once(deployment):
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.parametrize("deployment", [d for d in of_kind("Deployment") if role(d) in ("api", "worker")], ids=name)
def test_every_api_and_worker_has_a_disruption_budget(deployment):
    budgets = [p for p in of_kind("PodDisruptionBudget") if selects(p["spec"]["selector"], pod_labels(deployment))]
    assert len(budgets) == 1, f"{name(deployment)}: {len(budgets)} PodDisruptionBudgets select it"
    others = [d for d in of_kind("Deployment") if d is not deployment]
    assert not any(selects(budgets[0]["spec"]["selector"], pod_labels(d)) for d in others)


def test_no_disruption_budget_covers_a_relay():
    # A budget over a single replica would block every node drain.
    relays = [d for d in of_kind("Deployment") if role(d) == "relay"]
    for budget in of_kind("PodDisruptionBudget"):
        assert not any(selects(budget["spec"]["selector"], pod_labels(r)) for r in relays), name(budget)


@pytest.mark.parametrize("deployment", [d for d in of_kind("Deployment") if role(d) == "api"], ids=name)
def test_every_api_has_a_service_on_its_http_port(deployment):
    services = [
        s for s in of_kind("Service") if selects({"matchLabels": s["spec"]["selector"]}, pod_labels(deployment))
    ]
    assert len(services) == 1, name(deployment)
    [port] = services[0]["spec"]["ports"]
    assert port["targetPort"] in ("http", container(deployment)["ports"][0]["containerPort"])


# --- settings, secrets and databases --------------------------------------------------------------------


def refs_in(deployment: dict[str, Any], kind: str) -> Iterator[tuple[str, str | None]]:
    """(name, key) of every ``secretKeyRef``/``configMapKeyRef`` (kind) and envFrom reference of a pod."""
    c = container(deployment)
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get(kind)
        if ref:
            yield ref["name"], ref["key"]
    whole = {"secretKeyRef": "secretRef", "configMapKeyRef": "configMapRef"}[kind]
    for source in c.get("envFrom", []):
        if whole in source:
            yield source[whole]["name"], None


def test_configmap_references_name_the_generated_renshe_config():
    generated = {g["name"] for g in kustomization(BASE)["configMapGenerator"]}
    for d in of_kind("Deployment"):
        assert {n for n, _ in refs_in(d, "configMapKeyRef")} <= generated, name(d)


def test_secrets_are_renshe_secrets_or_the_postgres_cluster_app_secret():
    cnpg_secrets = {f"{name(c)}-app" for c in of_kind("Cluster")}
    for d in of_kind("Deployment"):
        names = {n for n, _ in refs_in(d, "secretKeyRef")}
        assert names <= {APP_SECRET} | cnpg_secrets, f"{name(d)} reads {names}"


def test_dev_overlay_generates_every_key_the_base_reads_from_renshe_secrets():
    needed = {key for d in of_kind("Deployment") for n, key in refs_in(d, "secretKeyRef") if n == APP_SECRET}
    assert needed == {"JWT_SECRET", "PII_SECRET"}
    [generator] = [g for g in kustomization(K8S / "overlays" / "dev")["secretGenerator"] if g["name"] == APP_SECRET]
    assert {literal.split("=", 1)[0] for literal in generator["literals"]} == needed


def test_only_registration_processes_that_write_the_ledger_hold_the_pii_secret():
    holders = {f"{s.name}-{role}" for s in SERVICES for role in s.pii_roles}
    assert {"registration-api", "registration-worker"} <= holders
    assert "registration-relay" not in holders and not any(h.startswith("reporting-") for h in holders)
    for d in of_kind("Deployment"):
        has_pii = "PII_SECRET" in env_of(d)
        assert has_pii == (name(d) in holders), name(d)


@pytest.mark.parametrize("deployment", of_kind("Deployment"), ids=name)
def test_each_service_uses_its_own_database_in_the_postgres_cluster(deployment):
    url = urlparse(env_of(deployment)["DATABASE_URL"]["value"])
    service = pod_labels(deployment)["renshe.io/service"]
    assert url.path == f"/{service}", f"{name(deployment)}: database {url.path}"
    [cluster] = of_kind("Cluster")
    assert url.hostname == f"{name(cluster)}-rw", "DATABASE_URL must name the cluster's read-write service"
    databases = {(db["spec"]["name"], db["spec"]["cluster"]["name"]) for db in of_kind("Database")}
    assert (service, name(cluster)) in databases, f"no CNPG Database {service!r} in {name(cluster)}"
    for var in ("PGUSER", "PGPASSWORD"):
        assert env_of(deployment)[var]["valueFrom"]["secretKeyRef"]["name"] == f"{name(cluster)}-app"


def test_postgres_cluster_is_highly_available():
    [cluster] = of_kind("Cluster")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["storage"]["size"]


# --- Kafka ----------------------------------------------------------------------------------------------


def test_kafka_topics_manifest_is_generated_from_contracts():
    committed = (ROOT / KAFKA_TOPICS_PATH).read_text(encoding="utf-8")
    assert committed == kafka_topics_yaml(), f"{KAFKA_TOPICS_PATH} is stale: run make contracts"


def test_every_topic_and_its_dead_letter_topic_is_declared():
    topics = {t["spec"]["topicName"]: t for t in of_kind("KafkaTopic")}
    expected = {t.name: t.partitions for t in ALL_TOPICS} | {t.dead_letters: 1 for t in ALL_TOPICS}
    assert {n: t["spec"]["partitions"] for n, t in topics.items()} == expected
    [kafka] = of_kind("Kafka")
    for topic in topics.values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == name(kafka)
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == 2
    for t in ALL_TOPICS:
        assert topics[t.name]["spec"]["config"]["retention.ms"] == -1, "events are kept forever"


def test_kafka_is_kraft_with_three_nodes_and_two_in_sync_replicas():
    [kafka] = of_kind("Kafka")
    [pool] = of_kind("KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == name(kafka)
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert kafka["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
    assert "zookeeper" not in kafka["spec"]


def test_bootstrap_servers_name_the_kafka_cluster():
    [kafka] = of_kind("Kafka")
    config = (BASE / "config.env").read_text(encoding="utf-8")
    assert f"KAFKA_BOOTSTRAP_SERVERS={name(kafka)}-kafka-bootstrap:9092" in config.splitlines()


# --- production -----------------------------------------------------------------------------------------


def test_production_autoscales_every_api():
    resources = walk(K8S / "overlays" / "production")[1]
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind("HorizontalPodAutoscaler", resources)}
    apis = {name(d) for d in of_kind("Deployment") if role(d) == "api"}
    assert targets == apis
    for hpa in of_kind("HorizontalPodAutoscaler", resources):
        assert hpa["spec"]["minReplicas"] >= 2, "production runs more than one replica of every API"


# --- rendered, when kubectl is at hand ------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_overlay_renders_and_keeps_every_guarantee(overlay):
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, timeout=60, check=False
    )
    assert rendered.returncode == 0, rendered.stderr
    resources = [r for r in yaml.safe_load_all(rendered.stdout) if r is not None]
    deployments = of_kind("Deployment", resources)
    assert {name(d) for d in deployments} == {name(d) for d in of_kind("Deployment")}
    present = {name(r) for r in resources if r["kind"] in ("Secret", "ConfigMap")}
    for d in deployments:
        check_deployment(d)
        if role(d) == "relay":
            assert d["spec"]["replicas"] == 1 and d["spec"]["strategy"]["type"] == "Recreate"
        # Generated names (hash suffixes) are rewritten into every reference.
        assert {n for n, _ in refs_in(d, "configMapKeyRef")} <= present, name(d)
        secrets = {n for n, _ in refs_in(d, "secretKeyRef")} - {"renshe-pg-app"}
        if overlay.name == "production":
            assert secrets <= {APP_SECRET}  # created by the operator before the first apply
            if role(d) == "api":
                assert "JWT_SECRET" not in env_of(d) and "JWT_JWKS_URL" in env_of(d), name(d)
        else:
            assert secrets <= present, name(d)
