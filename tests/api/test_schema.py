"""The published OpenAPI schema, the local Swagger UI, and a bounded schemathesis run against them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.services import token_issue
from tests.api.conftest import api_client, body, parent_create, post

BASE_URL = "http://palosco.localhost"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 25


def test_schema_is_published_in_italian(in_palosco) -> None:
    response = api_client(in_palosco).get("/api/v1/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.") and schema["info"]["title"] == "API Iscrizioni scolastiche"
    submit = schema["paths"]["/api/v1/enrollments/{domanda}/submit/"]["post"]
    assert submit["summary"] == "Invia Iscrizione"
    assert {"409", "412", "428", "401", "429"} <= set(submit["responses"])
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert "Error" in schema["components"]["schemas"]


def test_docs_use_local_assets_only(in_palosco) -> None:
    response = api_client(in_palosco).get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"/static/drf_spectacular_sidecar/swagger-ui-dist/{asset}" in html
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}"), asset
    assert not re.findall(r"""(?:src|href)=["'](?:https?:)?//""", html)  # nothing from another host
    assert not re.findall(r"jsdelivr|unpkg|cdnjs", html)


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    """Requests through the WSGI handler must not close the test's transaction (Django's
    test client does the same around each of its own requests)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_target(settings, in_palosco):  # type: ignore[no-untyped-def]
    """A parent with an enrollment, generous throttles, and the schema as the app sees it."""
    settings.API_THROTTLE_RATES = {"user": "100000/min", "ip": "100000/min", "login": "100000/min"}
    account = parent_create()
    app = api_client(in_palosco, token_issue(account=account, device_name="seed", backend="credentials").key)
    created = post(app, "/api/v1/enrollments/", body())
    assert created.status_code == 201
    return account, created.json()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(fuzz_target) -> None:  # type: ignore[no-untyped-def]
    account, domanda = fuzz_target
    # Real ids where the path names one, so that the 200 answers are checked too.
    known = {
        "/api/v1/enrollments/{domanda}/": {"domanda": domanda["id"]},
        "/api/v1/pupils/{id}/": {"id": domanda["pupil"]["id"]},
        "/api/v1/services/{id}/": {"id": domanda["items"][0]["service"]["id"]},
    }
    with _test_connection_kept():
        _fuzz(account, known)


def _fuzz(account, known: dict[str, dict[str, object]]) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler(), base_url=BASE_URL)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 30
    for operation in operations:
        path_parameters = next((v for k, v in known.items() if operation.path.startswith(k)), None)

        # A fresh token per example: an example may revoke its own (logout, devices).
        @seed(20261126)
        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(path_parameters=path_parameters))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            key = token_issue(account=account, device_name="schemathesis", backend="credentials").key
            case.call_and_validate(
                base_url=BASE_URL, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS
            )

        run()


def test_demo_banner_points_to_the_docs() -> None:
    from api import demo
    from superadmin.management.commands.load_demo import DEMO_MODULES

    assert "api.demo" in DEMO_MODULES
    assert "http://romanodilombardia.localhost:8000/api/v1/docs/" in "\n".join(demo.banner_lines(port=8000))
