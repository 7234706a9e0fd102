"""The production stack of `make serve-prod`, started and driven over TLS through nginx.

deploy/serve_prod.py runs as `make serve-prod` runs it (release step,
collectstatic, nginx, gunicorn with several workers on config.settings.prod,
the procrastinate worker), on free ports, against the test database, with
mail to the suite's SMTP server. Requests go to nginx over HTTPS, verified
against the CA the script made: a parent signs in with codice utente and
password, verifies the e-mail address with the code from the mail, renews
last year's enrollment and submits it; staff confirm it in the back office.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import lxml.html
import pytest
import requests
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from enrollment.backoffice.roles import OPERATORE
from enrollment.models import Enrollment
from enrollment.services import domanda_save
from identity.models import Account
from tenants.models import Comune, Domain
from tests.deploy.serve_prod import SCRIPT, serve_prod
from tests.enrollment.backoffice.conftest import staff_create
from tests.enrollment.conftest import guardian_data, parent_create, pupil_data, service
from tests.identity.conftest import code_from
from tests.processes import processes

pytestmark = pytest.mark.prod_stack
PASSWORD = "Password-Genitore-1"
STAFF_PASSWORD = "Ufficio-Stack-2026"
EMAIL = "famiglia.stack@example.org"
# Readiness is polled, never timed: the release step alone takes a while on a
# busy machine. Each poll waits a little before the next one.
POLLS = 2400
POLL_PAUSE = 0.25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    """The test database as a URL for the stack's processes (TCP or the embedded server's socket)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    host = s["HOST"] or ""
    query = {}
    if not host and s["OPTIONS"].get("host"):
        query["host"] = s["OPTIONS"]["host"]
    netloc = f"{auth}@{host}" + (f":{s['PORT']}" if host and s["PORT"] else "")
    return f"postgres://{netloc}/{s['NAME']}" + (f"?{urlencode(query)}" if query else "")


@dataclass
class Stack:
    https_port: int
    http_port: int
    web_port: int
    ca: Path
    log: Path
    pid: int = 0  # serve_prod.py's

    def children(self) -> dict[int, str]:
        """serve_prod.py's child processes: pid → command line."""
        return {p.pid: p.command for p in processes() if p.ppid == self.pid}

    def url(self, host: str, path: str = "/") -> str:
        return f"https://{host}:{self.https_port}{path}"

    def session(self, host: str) -> requests.Session:
        session = requests.Session()
        # Only the stack's own CA: REQUESTS_CA_BUNDLE would otherwise win over `verify`.
        session.trust_env = False
        session.verify = str(self.ca)
        # Browsers send Origin on every POST; Django's CSRF check compares it
        # with the host nginx passes on (port included).
        session.headers["Origin"] = f"https://{host}:{self.https_port}"
        return session


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-6000:]


@pytest.fixture
def resolve_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    """*.localhost to 127.0.0.1 for this process, as Chromium and curl resolve it (glibc does not)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def prod_stack(committed_comuni, smtp_server, tmp_path: Path, resolve_localhost) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    state = tmp_path / "stack"
    stack = Stack(_free_port(), _free_port(), _free_port(), state / "tls" / "ca.crt", tmp_path / "stack.log")
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment.update(
        DATABASE_URL=_database_url(),
        SERVE_PROD_DIR=str(state),
        NGINX_HTTPS_PORT=str(stack.https_port),
        NGINX_HTTP_PORT=str(stack.http_port),
        WEB_PORT=str(stack.web_port),
        WEB_CONCURRENCY="3",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        EMAIL_USE_TLS="false",
        SPID_KEYS_DIR=str(tmp_path / "spid"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    with stack.log.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own script, fixed arguments)
            [sys.executable, str(SCRIPT)], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    stack.pid = process.pid
    try:
        for _ in range(POLLS):
            if process.poll() is not None:
                pytest.fail(f"serve_prod.py ended with {process.returncode}:\n{_log_tail(stack.log)}")
            try:
                if requests.get(f"http://127.0.0.1:{stack.web_port}/readyz", timeout=10).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(POLL_PAUSE)
        else:
            pytest.fail(f"gunicorn never became ready:\n{_log_tail(stack.log)}")
        yield stack
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _form(html: str, containing: str) -> list[tuple[str, str]]:
    """The values a browser would submit from the page's form whose markup holds `containing`."""
    forms = lxml.html.fromstring(html).forms
    form = next(f for f in forms if containing in lxml.html.tostring(f, encoding="unicode"))
    return list(form.form_values())


def _errors(html: str) -> list[str]:
    """The form's error messages, for a failing assertion."""
    page = lxml.html.fromstring(html)
    return [
        e.text_content().strip()
        for e in page.xpath('//*[contains(@class, "invalid-feedback") or @role="alert"]')
    ]


def _set(values: list[tuple[str, str]], **fields: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in values if k not in fields] + list(fields.items())


def _wait_for_mail(smtp_server, predicate) -> int:  # type: ignore[no-untyped-def]
    """Index of the first received message matching `predicate` (the worker sends it)."""
    for _ in range(POLLS):
        for index, message in enumerate(smtp_server.messages):
            if predicate(message):
                return index
        time.sleep(POLL_PAUSE)
    pytest.fail("the worker sent no such e-mail")


def _cookie_headers(response: requests.Response) -> list[str]:
    headers = []
    for r in [*response.history, response]:
        headers += r.raw.headers.getlist("Set-Cookie")
    return headers


def _family(palosco: Comune) -> tuple[Enrollment, Account]:
    with schema_context(palosco.schema_name):
        parent = parent_create(username="PAL-000950", email="vecchio@example.org")
        Account.objects.filter(pk=parent.pk).update(email_verified_at=None)
        previous = domanda_save(
            account=parent,
            guardian_data=guardian_data(email="vecchio@example.org"),
            pupil_data=pupil_data(class_section="3ª A"),
            services=[service("PRE")],
            consent=True,
        )[0]
        old = service("PRE", "2024/2025")
        Enrollment.objects.filter(pk=previous.pk).update(
            service=old, school_year=old.school_year, status=Enrollment.Status.CONFERMATA
        )
        staff = staff_create("operatore.stack", OPERATORE)
        staff.set_password(STAFF_PASSWORD)
        staff.save(update_fields=["password"])
        previous.refresh_from_db()
        return previous, staff


def test_certificate_names_every_comune_host(db) -> None:  # type: ignore[no-untyped-def]
    """Python and OpenSSL refuse `*.localhost`, so the certificate names each host.

    Also makes pytest-django create the test database for this module's stack test."""
    hosts = set(Domain.objects.exclude(tenant__schema_name="public").values_list("domain", flat=True))
    assert hosts and hosts <= set(serve_prod.comune_hosts())


def test_parent_renews_and_staff_confirm_through_nginx_tls_gunicorn_and_worker(
    prod_stack: Stack, committed_comuni: dict[str, Comune], smtp_server
) -> None:  # type: ignore[no-untyped-def]
    palosco = committed_comuni["palosco"]
    host = "palosco.localhost"
    previous, staff = _family(palosco)
    parent = prod_stack.session(host)

    # Plain HTTP is sent to HTTPS; readiness is not published through nginx.
    redirect = requests.get(
        f"http://{host}:{prod_stack.http_port}/accesso/", allow_redirects=False, timeout=30
    )
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == prod_stack.url(host, "/accesso/")
    assert parent.get(prod_stack.url(host, "/readyz"), timeout=30).status_code == 404
    # The master rendered both comuni's homes before forking the workers (enrollment.warmup).
    assert "portal homes rendered before the fork: 2 comuni" in prod_stack.log.read_text(errors="replace")
    # The job workers run at a lower priority than the web (WORKER_NICE, default 10) and
    # in the kernel's idle class (WORKER_SCHED_IDLE), threads included.
    children = prod_stack.children()
    niceness = {cmd: os.getpriority(os.PRIO_PROCESS, pid) for pid, cmd in children.items()}
    workers = [n for cmd, n in niceness.items() if "procrastinate worker" in cmd]
    assert workers and set(workers) == {10}, niceness
    assert [n for cmd, n in niceness.items() if "gunicorn" in cmd] == [0], niceness
    policies = {
        cmd: {os.sched_getscheduler(int(t.name)) for t in Path(f"/proc/{pid}/task").iterdir()}
        for pid, cmd in children.items()
    }
    assert {frozenset(p) for cmd, p in policies.items() if "procrastinate worker" in cmd} == {
        frozenset({os.SCHED_IDLE})
    }, policies
    assert {frozenset(p) for cmd, p in policies.items() if "gunicorn" in cmd} == {
        frozenset({os.SCHED_OTHER})
    }, policies
    assert parent.get(prod_stack.url(host, "/healthz"), timeout=30).status_code == 200

    home = parent.get(prod_stack.url(host), timeout=30)
    assert home.status_code == 200 and "Comune di Palosco" in home.text
    assert home.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csp = home.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    # Hashed static files (whitenoise behind nginx) are cached for good.
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', home.text)
    assert stylesheet, home.text[:2000]
    static = parent.get(prod_stack.url(host, stylesheet.group(1)), timeout=30)
    assert static.status_code == 200 and static.headers["Content-Type"].startswith("text/css")
    assert "max-age=315360000" in static.headers["Cache-Control"]
    assert "immutable" in static.headers["Cache-Control"]

    # Codice utente and password, then "Verifica Email" with the code the worker mails.
    login_page = parent.get(prod_stack.url(host, "/accesso/"), timeout=30)
    form = _set(
        _form(login_page.text, "/accesso/credentials/"),
        **{"credentials-codice_utente": "PAL-000950", "credentials-password": PASSWORD},
    )
    signed_in = parent.post(prod_stack.url(host, "/accesso/credentials/"), data=form, timeout=30)
    assert signed_in.status_code == 200 and "/accesso/verifica-email/" in signed_in.url, signed_in.text[:2000]
    session_cookies = [c for c in _cookie_headers(signed_in) if c.startswith("iscrizioni_session=")]
    assert session_cookies
    for cookie in session_cookies:
        assert "; Secure" in cookie and "; HttpOnly" in cookie, cookie
    csrf_cookies = [c for c in _cookie_headers(home) if c.startswith("csrftoken=")]
    assert csrf_cookies and all("; Secure" in c for c in csrf_cookies)
    assert "Verifica Email" in signed_in.text
    form = _set(_form(signed_in.text, 'name="email"'), email=EMAIL)
    sent = parent.post(signed_in.url, data=form, timeout=30)
    assert sent.status_code == 200 and sent.url.startswith(
        prod_stack.url(host, "/accesso/verifica-email/codice/")
    )
    received = _wait_for_mail(smtp_server, lambda m: m["To"] == EMAIL)
    code = code_from(smtp_server.bodies()[received])
    confirmed = parent.post(sent.url, data=_set(_form(sent.text, 'name="code"'), code=code), timeout=30)
    assert confirmed.url == prod_stack.url(host, "/iscrizioni/"), confirmed.text[:2000]

    # "Rinnova iscrizione": last year's answers prefilled, a new class, submitted.
    renewals = parent.get(prod_stack.url(host, "/iscrizioni/rinnovi/"), timeout=30)
    renew_path = f"/iscrizioni/rinnovi/{previous.pk}/"
    assert f'href="{renew_path}"' in renewals.text
    renew_page = parent.get(prod_stack.url(host, renew_path), timeout=30)
    assert 'value="Luca"' in renew_page.text
    form = _set(
        _form(renew_page.text, "pupil_class_section"),
        pupil_class_section="4ª A",
        extra_PRE_motivo="Orario di lavoro dei genitori",
        privacy="on",
        azione="riepilogo",
    )
    summary = parent.post(prod_stack.url(host, renew_path), data=form, timeout=30)
    assert "/iscrizioni/domanda/" in summary.url and "Invia Iscrizione" in summary.text, _errors(summary.text)
    submitted = parent.post(
        summary.url, data=_set(_form(summary.text, 'value="invia"'), azione="invia"), timeout=30
    )
    assert submitted.status_code == 200 and "Inviata" in submitted.text
    with schema_context(palosco.schema_name):
        renewal = Enrollment.objects.get(renewal_of=previous)
        assert renewal.status == Enrollment.Status.INVIATA and renewal.pupil.class_section == "4ª A"

    # The comune's staff confirm it in the back office.
    office = prod_stack.session(host)
    login = office.get(prod_stack.url(host, "/admin/login/?next=/admin/"), timeout=30)
    form = _set(_form(login.text, 'name="password"'), username=staff.username, password=STAFF_PASSWORD)
    signed_in = office.post(login.url, data=form, timeout=30)
    assert signed_in.url == prod_stack.url(host, "/admin/"), signed_in.text[:2000]
    detail = office.get(prod_stack.url(host, f"/admin/iscrizioni/{renewal.pk}/"), timeout=30)
    confirm_path = f"/admin/iscrizioni/{renewal.pk}/conferma/"
    form = _set(_form(detail.text, confirm_path), note="Inizio il 15 settembre")
    decided = office.post(prod_stack.url(host, confirm_path), data=form, timeout=30)
    assert "confermata: il genitore riceverà" in decided.text, decided.text[:3000]
    with schema_context(palosco.schema_name):
        renewal.refresh_from_db()
        assert renewal.status == Enrollment.Status.CONFERMATA and renewal.decided_at <= timezone.now()
    _wait_for_mail(smtp_server, lambda m: renewal.reference in m["Subject"] and "confermata" in m["Subject"])
