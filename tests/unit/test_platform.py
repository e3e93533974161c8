"""A service joins the local stack, the CLI and Kubernetes by one entry in the list of services."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from contracts.topics import Topic
from services.cli import service_commands
from services.deploy_docs import HPA_PATH, service_manifests
from services.platform import SERVICES, Service
from services.runtime.devstack import StackPorts
from services.stack import programs, relay_urls, service_urls, stack_at
from tests.unit.test_deploy import check_deployment

ROOT = Path(__file__).resolve().parents[2]
PENSION = Service(
    "pension",
    "Pension certification (资格认证).",
    api_port=13,
    topic=Topic("pension.events", "pension", "Pension facts."),
    relay_port=23,
    worker_port=24,
    worker_summary="Suspend pensions whose certification is overdue.",
    http_port=8109,
)
LISTED = (*SERVICES, PENSION)


def test_a_listed_service_runs_its_api_relay_and_worker_in_the_stack(tmp_path):
    stack = stack_at(tmp_path, 19000)
    (tmp_path / "secrets.env").write_text("JWT_SECRET=j\nPII_SECRET=p\n")
    found = {p.name: p for p in programs(stack, "postgresql://db", "127.0.0.1:1", False, LISTED)}
    assert {"broker", "registration-api", "registration-relay", "registration-worker"} <= found.keys()
    assert {"reporting-api", "reporting-worker"} <= found.keys() and "reporting-relay" not in found
    api, relay, worker = found["pension-api"], found["pension-relay"], found["pension-worker"]
    assert api.argv[1:] == ["pension", "api"] and api.env["HTTP_PORT"] == "19013"
    assert relay.argv[1:] == ["pension", "relay"] and relay.env["OPS_PORT"] == "19023"
    assert worker.argv[1:] == ["pension", "worker"] and worker.env["OPS_PORT"] == "19024"
    assert worker.ready_url == "http://127.0.0.1:19024/readyz"
    assert api.env["DATABASE_URL"] == "postgresql://db" and api.env["JWT_SECRET"] == "j"
    # The ports the list gives never collide.
    ports = [p.env.get("HTTP_PORT") or p.env.get("OPS_PORT") for p in found.values() if p.name != "broker"]
    assert len(ports) == len(set(ports))


def test_stack_env_names_every_listed_service_and_relay():
    ports = StackPorts(18100)
    assert service_urls(ports) == {
        "REGISTRATION_URL": "http://127.0.0.1:18110",
        "REPORTING_URL": "http://127.0.0.1:18115",
    }
    assert relay_urls(ports) == {"REGISTRATION_RELAY_URL": "http://127.0.0.1:18120"}
    assert service_urls(ports, LISTED)["PENSION_URL"] == "http://127.0.0.1:18113"
    assert relay_urls(ports, LISTED)["PENSION_RELAY_URL"] == "http://127.0.0.1:18123"


def test_a_listed_service_has_its_cli_commands():
    cli = typer.Typer()
    groups = service_commands(cli, LISTED)
    assert set(groups) == {s.name for s in LISTED}
    runner = CliRunner()
    for role, text in (("api", "Serve the pension HTTP API"), ("relay", "pension.events"), ("worker", "overdue")):
        result = runner.invoke(cli, ["pension", role, "--help"])
        assert result.exit_code == 0, result.output
        assert text in result.output
    assert runner.invoke(cli, ["reporting", "relay", "--help"]).exit_code != 0


def test_a_listed_service_gets_its_kubernetes_manifests():
    files = service_manifests(ROOT, LISTED)
    folder = Path("deploy/k8s/base/pension")
    assert {
        folder / f for f in ("database.yaml", "api.yaml", "relay.yaml", "worker.yaml", "kustomization.yaml")
    } <= set(files)
    docs = {
        (d["kind"], d["metadata"]["name"]): d
        for f in ("api.yaml", "relay.yaml", "worker.yaml")
        for d in yaml.safe_load_all(files[folder / f])
    }
    for role in ("api", "relay", "worker"):
        deployment = docs[("Deployment", f"pension-{role}")]
        check_deployment(deployment)
        assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == ["pension", role]
    assert ("PodDisruptionBudget", "pension-api") in docs and ("PodDisruptionBudget", "pension-worker") in docs
    assert ("PodDisruptionBudget", "pension-relay") not in docs
    assert docs[("Deployment", "pension-api")]["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"name": "http", "containerPort": 8109}
    ]
    env = {e["name"] for e in docs[("Deployment", "pension-api")]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "PII_SECRET" not in env
    [database] = yaml.safe_load_all(files[folder / "database.yaml"])
    assert database["spec"]["name"] == "pension"
    base = yaml.safe_load(files[Path("deploy/k8s/base/kustomization.yaml")])
    assert base["resources"][-3:] == ["registration", "reporting", "pension"]
    hpas = [d["metadata"]["name"] for d in yaml.safe_load_all(files[HPA_PATH])]
    assert hpas == ["registration-api", "reporting-api", "pension-api"]
