"""Browser tests: a live server on both comuni's hosts and headless Debian Chromium.

The live server runs in a thread with its own database connections, so the
data it serves must be committed: the `committed_comuni` fixture
(tests/committed.py) allows that and removes the rows afterwards without a
flush (pytest-django's `live_server` would force `transactional_db`, whose
flush truncates the public schema's comuni).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test import Client
from django.test.testcases import LiveServerThread
from django_tenants.utils import schema_context
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from identity.models import Account
from tenants.models import Comune

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def live_comuni(committed_comuni: dict[str, Comune]) -> Iterator[int]:
    """A live server answering every host (`palosco.localhost:<port>`, ...); yields the port."""
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield thread.port
    finally:
        thread.terminate()
        thread.join()


@pytest.fixture
def browser(live_comuni: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Chromium for one test, closed before the live server stops (its
    keep-alive connections hold the server threads' database connections).

    Playwright's sync API keeps an event loop running in this thread, which
    Django refuses for ORM calls unless told the loop is not serving requests;
    the variable is set only while the browser lives."""
    assert CHROMIUM.exists(), "Debian chromium is missing: run `make e2e-deps`"
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While Playwright's loop runs, Django keeps this thread's connections
        # in a context of their own: close them here, or the test database
        # could not be dropped at the end of the session.
        connections.close_all()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def logged_in_context(browser: Browser, *, comune: Comune, account: Account, base_url: str) -> BrowserContext:
    """A browser context carrying a session created with `force_login` semantics.

    Stands in for the login pages (identity), which are not on this branch.
    """
    client = Client()
    with schema_context(comune.schema_name):
        client.force_login(account)
    cookie = client.cookies["iscrizioni_session"]
    context = browser.new_context(base_url=base_url, locale="it-IT", accept_downloads=True)
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])
    return context
