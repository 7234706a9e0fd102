"""Liveness without the database, readiness that checks it (and the job queue), on every host."""

from __future__ import annotations

from django.test import Client

from tests.conftest import PALOSCO_HOST, PUBLIC_HOST
from tests.core.outage import during_outage

POD_ADDRESS = "10.1.2.3:8000"  # how a probe calls: no comune, not in ALLOWED_HOSTS


def test_readiness_is_ok_with_database_and_job_queue(palosco) -> None:
    for host in (PALOSCO_HOST, PUBLIC_HOST, POD_ADDRESS):
        response = Client(HTTP_HOST=host).get("/readyz")
        assert response.status_code == 200, host
        assert response.json() == {
            "status": "pronto",
            "failed": [],
            "checks": {"database": "ok", "job_queue": "ok"},
        }


def test_liveness_answers_without_the_database_readiness_names_what_failed(palosco) -> None:
    for host in (PALOSCO_HOST, PUBLIC_HOST, POD_ADDRESS):
        for path in ("/healthz", "/livez"):
            response = during_outage(lambda h=host, p=path: Client(HTTP_HOST=h).get(p))
            assert response.status_code == 200 and response.content == b"ok", (host, path)
        response = during_outage(lambda h=host: Client(HTTP_HOST=h).get("/readyz"))
        assert response.status_code == 503, host
        body = response.json()
        assert body["status"] == "non pronto"
        assert body["failed"] == ["database", "job_queue"]
        assert body["checks"]["database"].startswith("errore: OperationalError")
        assert "127.0.0.1" not in response.content.decode()  # details only in the log
