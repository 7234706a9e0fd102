"""Probes: liveness (`/healthz`, `/livez`) and readiness (`/readyz`), on every host.

They are answered before the comune is looked up: a probe comes with the
pod's address as Host (no comune, not in ALLOWED_HOSTS), and liveness must
not touch the database, or an outage of PostgreSQL would make the
orchestrator restart every web process instead of waiting for it.
Readiness asks the database and the job queue with one cheap query each and
answers 503, naming what failed, so that the load balancer stops sending
parents to a process that can only show them the error page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.tenancy import to_public

logger = logging.getLogger(__name__)

LIVENESS_PATHS = {"/healthz", "/livez"}
READINESS_PATH = "/readyz"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _job_queue() -> None:
    # procrastinate's tables live in the public schema.
    to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM procrastinate_jobs LIMIT 1")


def _result(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except DatabaseError as exc:
        logger.warning("readiness: %s failed: %s", name, exc)
        # The class only: the probe is reachable from outside, the details go to the log.
        return f"errore: {type(exc).__name__}"
    return "ok"


def readiness() -> JsonResponse:
    checks = {"database": _result("database", _database)}
    # The queue lives in the same database: asking again would wait a second
    # connect_timeout, longer than a probe's own timeout.
    checks["job_queue"] = (
        _result("job_queue", _job_queue)
        if checks["database"] == "ok"
        else "non verificato: database non raggiungibile"
    )
    failed = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "non pronto" if failed else "pronto", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200, headers={"Cache-Control": "no-store"})


class HealthMiddleware:
    """First in MIDDLEWARE: probes never reach the comune lookup, sessions or CSRF."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in LIVENESS_PATHS:
            return HttpResponse("ok", content_type="text/plain", headers={"Cache-Control": "no-store"})
        if request.path_info == READINESS_PATH:
            return readiness()
        return self.get_response(request)
