"""Prometheus metrics at `/metrics` on the platform's host, for a bearer token or an operator.

Requests (rate, latency histogram, errors per view) come from
django-prometheus' middleware. Under gunicorn each worker process writes its
samples to PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py sets it) and the
scrape adds them up, so one scrape counts every worker's requests whichever
worker answers it. The platform's own figures are read from PostgreSQL at
scrape time, the same for every process: the job queue and its failures
(procrastinate's tables), e-mails that could not be sent, and the waiting
rooms.

Labels stay bounded: views, methods, status codes and task names are ours and
few. The comune is a label only on the waiting-room series, which exist only
for comuni with parents waiting or served right now under the room; e-mail
failures are summed over the comuni (their detail is on the health page).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django_tenants.utils import get_public_schema_name, schema_context
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from superadmin.access import second_factor_passed
from superadmin.selectors import email_failed_count
from tenants.selectors import comuni_list
from tenants.waiting_room import inflight_counts, queue_lengths


class PlatformCollector(Collector):
    """Figures every process reads alike from the database, computed at each scrape."""

    def collect(self) -> Iterator[Metric]:
        with schema_context(get_public_schema_name()):
            yield from self._jobs()
            yield from self._mail()
            yield from self._waiting_rooms()

    def _jobs(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "iscrizioni_jobs", "Jobs in procrastinate's queue by status and task", labels=["status", "task"]
        )
        failures = CounterMetricFamily(
            "iscrizioni_job_failures",
            "Failed attempts of the jobs in the queue (retried or given up), by task",
            labels=["task"],
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT status, task_name, count(*) FROM procrastinate_jobs GROUP BY 1, 2")
            for status, task, n in cursor.fetchall():
                jobs.add_metric([status, task], n)
            cursor.execute(
                "SELECT j.task_name, count(*) FROM procrastinate_events e "
                "JOIN procrastinate_jobs j ON j.id = e.job_id "
                "WHERE e.type IN ('failed', 'deferred_for_retry') GROUP BY 1"
            )
            for task, n in cursor.fetchall():
                failures.add_metric([task], n)
        yield jobs
        yield failures

    def _mail(self) -> Iterator[Metric]:
        schemas = [get_public_schema_name(), *comuni_list().values_list("schema_name", flat=True)]
        failed = GaugeMetricFamily(
            "iscrizioni_mail_failed", "E-mails whose last attempt failed (all comuni), still retried"
        )
        failed.add_metric([], email_failed_count(schemas))
        yield failed

    def _waiting_rooms(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "iscrizioni_waiting_room_length", "Parents waiting in a comune's waiting room", labels=["comune"]
        )
        inflight = GaugeMetricFamily(
            "iscrizioni_waiting_room_in_flight",
            "Parents' requests being served on a comune with the waiting room on",
            labels=["comune"],
        )
        for schema, n in sorted(queue_lengths().items()):
            waiting.add_metric([schema], n)
        for schema, n in sorted(inflight_counts().items()):
            inflight.add_metric([schema], n)
        yield waiting
        yield inflight


def _authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    return second_factor_passed(request)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        return HttpResponse(
            "Autenticazione richiesta: token Bearer o accesso da operatore.\n",
            status=401,
            content_type="text/plain; charset=utf-8",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
        requests_part = generate_latest(processes)
    else:
        requests_part = generate_latest(REGISTRY)
    platform = CollectorRegistry()
    platform.register(PlatformCollector())
    return HttpResponse(requests_part + generate_latest(platform), content_type=CONTENT_TYPE_LATEST)
