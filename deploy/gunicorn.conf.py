"""gunicorn settings for the web role (compose, systemd, Kubernetes and `make serve-prod`)."""

import multiprocessing
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "platform"))

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Recycle workers: each connection caches catalog entries of every schema it
# touches; with thousands of comuni this bounds per-process memory.
max_requests = 2000
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
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"


def when_ready(server: object) -> None:
    # A database connection opened while the app was preloaded would be
    # inherited by every forked worker (one socket, many processes).
    from django.db import connections

    connections.close_all()
