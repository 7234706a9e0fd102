"""Security headers (CSP, Permissions-Policy, no-store) and templates free of inline code."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.test import Client

from enrollment.backoffice.roles import OPERATORE
from enrollment.models import Enrollment
from tests.api.conftest import api_client, token_for
from tests.enrollment.backoffice.conftest import client_for, staff_create, submitted
from tests.enrollment.conftest import logged_in, parent_create, service
from tests.jobs import run_pending_jobs

ROOT = Path(settings.BASE_DIR)
# WeasyPrint renders these to PDF: no browser ever receives them.

INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>"  # a script element with a body
    r"|<style[\s>]"  # a style block
    r"|\sstyle\s*=\s*[\"']"  # a style attribute
    r"|\son[a-z]+\s*=\s*[\"']"  # an event handler attribute (onclick=...)
    r"|javascript:",
    re.IGNORECASE,
)


def _directives(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (p.strip() for p in policy.split(";")) if d}


def _assert_private(response) -> None:  # type: ignore[no-untyped-def]
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control, cache_control


def test_served_templates_carry_no_inline_script_style_or_handler() -> None:
    templates = [
        p
        for p in ROOT.glob("**/templates/**/*.html")
        if ".venv" not in p.parts
        and "node_modules" not in p.parts
        and "pdf" not in p.parts  # WeasyPrint input, never served as HTML
    ]
    assert len(templates) > 50  # the glob found the project's templates
    offenders = [
        f"{p.relative_to(ROOT)}: {m.group(0)!r}"
        for p in templates
        for m in INLINE_CODE.finditer(p.read_text())
    ]
    assert offenders == []


def test_pages_send_a_strict_content_security_policy(palosco_client: Client, public_client: Client) -> None:
    for response in (palosco_client.get("/"), palosco_client.get("/accesso/"), public_client.get("/")):
        assert response.status_code == 200
        directives = _directives(response)
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"].split()[0] == "'self'"
        assert all(s.startswith("'sha256-") for s in directives["style-src"].split()[1:])
        assert directives["img-src"] == "'self' data:"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["form-action"] == "'self'"
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert "camera=()" in response["Permissions-Policy"]
        assert "geolocation=()" in response["Permissions-Policy"]


def test_comune_colours_come_from_a_stylesheet(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    html = palosco_client.get("/").content.decode()
    assert '<link rel="stylesheet" href="/aspetto.css">' in html
    css = palosco_client.get("/aspetto.css")
    assert css["Content-Type"] == "text/css; charset=utf-8"
    assert f"--comune-primary: {palosco.settings.branding.primary_color};" in css.content.decode()


def test_public_home_stays_cacheable(palosco_client: Client) -> None:
    response = palosco_client.get("/")
    assert "no-store" not in response.get("Cache-Control", "")


def test_parent_pages_and_pdfs_are_not_stored(in_palosco, palosco) -> None:  # type: ignore[no-untyped-def]
    parent = parent_create()
    client = logged_in(palosco, parent)
    for url in ("/", "/iscrizioni/", "/iscrizioni/nuova/"):
        _assert_private(client.get(url))
    url = "/iscrizioni/documenti/lettera-credenziali.pdf"
    _assert_private(client.get(url))  # "preparing" page; the job renders the letter
    run_pending_jobs()
    pdf = client.get(url)
    assert pdf["Content-Type"] == "application/pdf"
    _assert_private(pdf)


def test_back_office_and_its_pdf_are_not_stored(in_palosco, palosco) -> None:  # type: ignore[no-untyped-def]
    e: Enrollment = submitted(service("PRE"))
    client = client_for(palosco, staff_create("operatore.test", OPERATORE))
    for url in ("/admin/iscrizioni/", f"/admin/iscrizioni/{e.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        _assert_private(response)
    url = f"/admin/iscrizioni/{e.pk}/riepilogo.pdf"
    client.get(url)
    run_pending_jobs()
    pdf = client.get(url)
    assert pdf["Content-Type"] == "application/pdf"
    _assert_private(pdf)


def test_api_answers_with_a_token_are_not_stored(in_palosco, palosco) -> None:  # type: ignore[no-untyped-def]
    parent = parent_create()
    response = api_client(palosco, token_for(palosco, parent)).get("/api/v1/me/")
    assert response.status_code == 200
    _assert_private(response)
    assert "no-store" not in api_client(palosco).get("/api/v1/comune/").get("Cache-Control", "")
