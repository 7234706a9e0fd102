"""Every comune's portal home rendered once in the gunicorn master, before it forks the workers.

A worker's first request to a comune validates its config, reads its
catalogue and renders the home's three cached fragments (the shell's brand
and footer, the catalogue): about 3x a warm home (bench/home.py). Each of
three workers does that once per comune, and again after every recycle:
with a thousand comuni that first sight is what the p95 over random comuni
measured (bench/scale.py). Rendered here once, the entries are in the
master's per-process caches (tenants.config's validated configs,
CACHES["local"]) and every worker forked from it, a recycled one included,
starts with them.

Nothing rendered here can be served stale: each entry is named by a version
read from the database with the request (the config's digest, the catalogue
version and the next window boundary), so a change made after the fork is
simply a new entry, rendered by the worker that first sees it. The host
lookup is not kept: a forked worker forgets the master's copy
(tenants.host_cache), so a comune suspended meanwhile is still refused.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.test import RequestFactory
from django.utils import translation

from core.tenancy import tenant_connection, to_public
from enrollment.views import portal_home
from tenants.models import Comune

logger = logging.getLogger(__name__)


def portal_homes_render(*, limit: int) -> int:
    """Render the Italian home of up to `limit` active comuni (first created first); returns how many.

    A comune whose home fails (a config the portal refuses, say) is logged
    and skipped: it fails the same way for its visitors, and no warm-up may
    stop the web role from starting. A database that cannot be read stops
    the warm-up, not the start.
    """
    if limit <= 0:
        return 0
    factory = RequestFactory()
    rendered = 0
    try:
        comuni = list(
            Comune.objects.exclude(schema_name="public")
            .filter(status=Comune.Status.ACTIVE)
            .prefetch_related("domains")
            .order_by("pk")[:limit]
        )
        with translation.override("it"):
            for comune in comuni:
                host = next((d.domain for d in comune.domains.all() if d.is_primary), None)
                if host is None:
                    continue
                request = factory.get("/", HTTP_HOST=host, secure=True)
                request.tenant = comune  # type: ignore[attr-defined]
                request.user = AnonymousUser()
                comune.domain_url = host
                tenant_connection().set_tenant(comune)
                try:
                    response = portal_home(request)
                except DatabaseError:
                    raise
                except Exception:
                    extra = {"schema": comune.schema_name}
                    logger.warning("portal_home_warmup_failed", extra=extra, exc_info=True)
                    continue
                if response.status_code == 200:
                    rendered += 1
    except DatabaseError:
        logger.warning("portal_home_warmup_stopped", extra={"rendered": rendered}, exc_info=True)
    finally:
        to_public()
    return rendered
