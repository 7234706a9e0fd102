"""gunicorn settings for the web role (compose, systemd, Kubernetes and `make serve-prod`)."""

import multiprocessing
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "platform"))

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# One process per core plus one, two threads each. The usual 2 x cores + 1
# is for requests that wait on the network; ours mostly use the CPU (Django,
# DRF, templates) next to a PostgreSQL on the same cores. Measured on 2 cores
# (README, "Measurements"), workers x threads:
#   5 x 2 (2 x cores + 1): burst 32.6-40.2 submissions/s, p95 2.5-5.0 s;
#                          home 325 req/s, p95 371 ms
#   3 x 2 (cores + 1):     burst 38.9/s, p95 2.45 s; home 322 req/s, p95 269 ms
#   2 x 2 (cores):         burst 46.2/s, p95 1.54 s; home 206-217 req/s
# One process per core serves submissions best but halves what the pages can
# overlap while they wait on PostgreSQL (the host lookup, the cache); cores + 1
# keeps the pages' throughput with a shorter tail. WEB_CONCURRENCY and
# GUNICORN_THREADS override both (e.g. 2 x 2 for a host that only takes a
# window's submissions).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Recycle workers now and then, against a leak in a library. Not for the
# memory of thousands of schemas: PostgreSQL's catalog cache is in the backend
# and goes with the connection (CONN_MAX_AGE), and this process's caches are
# capped (CACHES["local"], the host copy, the validated configs): 140 MB after
# every one of 1,002 comuni. A recycled worker starts with those caches empty,
# and at 2,000 requests each of 3 workers recycled every ~9 s under load, so
# over 1,002 comuni most of its time went to filling them again: random homes
# 419 req/s, p95 1.68x the 2 comuni's, against 670 and 607 req/s, 1.40x and
# 1.91x in two runs at 20,000 (bench/scale.py, README "Measurements").
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
# Workers started together reach max_requests together: with ±10 % they all
# restarted within seconds of each other (38 boots of 3-9 s measured under
# load, one 8 s run served nothing). ±50 % spreads the restarts over the
# whole interval, so at any moment nearly every worker is serving.
max_requests_jitter = max_requests // 2
# Django is imported once in the master and workers are forked from it: a
# recycled worker is serving in milliseconds instead of importing Django,
# WeasyPrint and the SAML stack again for seconds.
preload_app = True
timeout = 30
# Longer than nginx's idle time for kept-alive upstream connections (60 s):
# nginx closes an idle connection, never gunicorn. Otherwise nginx may send a
# request on a connection gunicorn is just closing, count it as a failure of
# that instance and, with the other instance down, answer 502 to everyone for
# fail_timeout (seen in tests/deploy/test_multi_worker.py).
keepalive = 75
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No access log: django-structlog writes one JSON line per request with its
# request id and comune, and without the query string, where personal data
# could travel (core.logs); gunicorn's line would print it whole.
accesslog = None

# Prometheus: each worker writes its samples to files in this folder and
# /metrics adds them up (superadmin.metrics). Set here, before the app is
# preloaded, so every process counts in multiprocess mode. One folder per
# gunicorn master: a given one is emptied at start, as prometheus_client asks.
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="iscrizioni-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
Path(metrics_dir).mkdir(parents=True, exist_ok=True)
for stale in Path(metrics_dir).glob("*.db"):
    stale.unlink()


# Before the first fork, the master renders the portal home of up to this many
# comuni (enrollment.warmup): every worker, a recycled one too, starts with
# their configs validated and the home's fragments cached, instead of each
# rendering each comune cold (~3x a warm home). 0 turns it off. It delays the
# first answer by about 5 ms a comune (5 s for 1,000); the caches hold them
# (CACHES["local"]: three fragments a comune and language).
warm_comuni = int(os.environ.get("GUNICORN_WARM_COMUNI", "1000"))


def when_ready(server: object) -> None:
    from django.db import connections

    if warm_comuni > 0:
        import time

        from enrollment.warmup import portal_homes_render

        started = time.monotonic()
        rendered = portal_homes_render(limit=warm_comuni)
        server.log.info(  # type: ignore[attr-defined]
            "portal homes rendered before the fork: %d comuni in %.1f s", rendered, time.monotonic() - started
        )
    # A database connection opened while the app was preloaded would be
    # inherited by every forked worker (one socket, many processes).
    connections.close_all()


def child_exit(server: object, worker: object) -> None:
    # A recycled or killed worker's gauges stop counting; its counters stay summed.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
