"""compose, systemd and Kubernetes run exactly what `make serve-prod` runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.serve_prod import ROOT, serve_prod

DEPLOY = ROOT / "deploy"
RELEASE = " && ".join(shlex.join(step) for step in serve_prod.RELEASE)
WEB = shlex.join(serve_prod.WEB)
WORKER = shlex.join(serve_prod.WORKER)


def _k8s(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if d]


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]["containers"][0]


def _command(container: dict[str, Any]) -> str:
    command = container["command"]
    return command[2] if command[:2] == ["sh", "-c"] else shlex.join(command)


def test_compose_runs_the_same_commands_and_profile() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["release"]["command"] == f'sh -c "{RELEASE}"'
    assert services["web"]["command"] == WEB
    assert services["worker"]["command"] == WORKER
    # The worker yields the CPU to the web, as serve_prod's idle class does (weight 1024 by default).
    assert services["worker"]["cpu_shares"] <= 2 and "cpu_shares" not in services["web"]
    for role in ("release", "web", "worker"):
        assert services[role]["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    nginx = services["nginx"]
    assert "./nginx.conf:/etc/nginx/templates/default.conf.template:ro" in nginx["volumes"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", (DEPLOY / "nginx.conf").read_text()))
    assert placeholders == set(nginx["environment"])


def test_systemd_units_run_the_same_commands_and_profile() -> None:
    units = DEPLOY / "systemd"
    expected = {
        "iscrizioni-release.service": [" ".join(step) for step in serve_prod.RELEASE],
        "iscrizioni-web.service": [WEB],
        "iscrizioni-worker.service": [WORKER],
    }
    for unit, commands in expected.items():
        text = (units / unit).read_text()
        starts = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart=")]
        venv = "/srv/iscrizioni/.venv/bin/"
        assert [s.removeprefix(venv) for s in starts] == commands, unit
        assert "Environment=DJANGO_SETTINGS_MODULE=config.settings.prod" in text, unit
    worker = (units / "iscrizioni-worker.service").read_text()
    assert f"Nice={serve_prod.worker_nice()}" in worker.splitlines()
    assert serve_prod.worker_sched_idle() and "CPUSchedulingPolicy=idle" in worker.splitlines()
    web = (units / "iscrizioni-web.service").read_text()
    assert "Nice=" not in web and "CPUSchedulingPolicy" not in web


def test_kubernetes_runs_the_same_commands_with_probes_resources_and_secrets() -> None:
    (job,) = _k8s("release-job.yaml")
    assert _command(_container(job)) == RELEASE
    web = next(d for d in _k8s("web.yaml") if d["kind"] == "Deployment")
    (worker,) = _k8s("worker.yaml")
    assert _command(_container(web)) == WEB
    assert _command(_container(worker)) == WORKER
    assert _container(web)["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert _container(web)["readinessProbe"]["httpGet"]["path"] == "/readyz"
    (config,) = _k8s("configmap.yaml")
    assert config["data"]["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    for doc in (job, web, worker):
        container = _container(doc)
        assert {"requests", "limits"} <= set(container["resources"])
        sources = [next(iter(s.values()))["name"] for s in container["envFrom"]]
        assert sources == ["iscrizioni-config", "iscrizioni-secrets"]
    for path in (DEPLOY / "k8s").glob("*.yaml"):
        assert "SECRET_KEY:" not in path.read_text(), path


def test_nginx_template_fills_completely_for_this_machine(tmp_path: Path) -> None:
    values = {
        "BASE_DOMAIN": "localhost",
        "NGINX_HTTP_PORT": "8080",
        "NGINX_HTTPS_PORT": "8443",
        "WEB_UPSTREAM": "127.0.0.1:8001",
        "TLS_CERT": "/c",
        "TLS_KEY": "/k",
    }
    serve_prod._render(DEPLOY / "nginx.conf", tmp_path / "site.conf", values)
    rendered = (tmp_path / "site.conf").read_text()
    assert "${" not in rendered
    assert "proxy_set_header Host $http_host;" in rendered and "server 127.0.0.1:8001;" in rendered


def test_serve_prod_starts_one_worker_per_core_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKER_PROCESSES", raising=False)
    monkeypatch.setattr(serve_prod.os, "cpu_count", lambda: 2)
    assert serve_prod.worker_processes() == 2
    monkeypatch.setenv("WORKER_PROCESSES", "3")
    assert serve_prod.worker_processes() == 3
    monkeypatch.setenv("WORKER_PROCESSES", "0")
    assert serve_prod.worker_processes() == 1
