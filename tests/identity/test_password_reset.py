""" "Password dimenticata": link by e-mail, expiry, single use, no account enumeration."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.models import OutgoingEmail
from identity.models import Account
from tests.jobs import run_pending_jobs

from .conftest import PASSWORD, credentials_post, reload

ANSWER = "Se il codice inserito corrisponde a un account con un indirizzo email"


@pytest.fixture(autouse=True)
def _addresses_verified(palosco, romano, palosco_parent, romano_parent) -> None:  # type: ignore[no-untyped-def]
    """Reset links go only to verified addresses: these parents have verified theirs."""
    for comune, account in ((palosco, palosco_parent), (romano, romano_parent)):
        with tenant_context(comune):
            Account.objects.filter(pk=account.pk).update(email_verified_at=timezone.now())


def _request(client: Client, identifier: str):  # type: ignore[no-untyped-def]
    return client.post("/accesso/password-dimenticata/", {"identifier": identifier}, follow=True)


def _link(smtp_server) -> str:  # type: ignore[no-untyped-def]
    run_pending_jobs()
    match = re.search(
        r"http://palosco\.localhost(/accesso/password-dimenticata/\S+/)", smtp_server.bodies()[-1]
    )
    assert match
    return match.group(1)


def test_reset_by_mail_link(smtp_server, palosco_client: Client, palosco, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    response = _request(palosco_client, "pal-000777")
    assert ANSWER in response.content.decode()
    link = _link(smtp_server)
    assert smtp_server.messages[-1]["To"] == "anna@example.org"
    response = palosco_client.get(link, follow=True)
    assert "Requisiti della password" in response.content.decode()
    form_url = response.redirect_chain[-1][0]
    response = palosco_client.post(
        form_url, {"new_password1": "Ricordata-2026", "new_password2": "Ricordata-2026"}
    )
    assert response["Location"] == "/accesso/"
    assert reload(palosco, palosco_parent).check_password("Ricordata-2026")
    # The link works once: the password hash it was made from has changed.
    assert palosco_client.get(link).status_code == 400
    assert credentials_post(palosco_client, "PAL-000777", "Ricordata-2026").status_code == 302


def test_unknown_code_gets_the_same_answer_and_no_mail(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    response = _request(palosco_client, "PAL-424242")
    assert ANSWER in response.content.decode()
    with tenant_context(palosco):
        assert not OutgoingEmail.objects.exists()


def test_expired_link_is_refused(smtp_server, settings, palosco_client: Client, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    _request(palosco_client, "PAL-000777")
    link = _link(smtp_server)
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert "scaduto" in palosco_client.get(link).content.decode()


def test_palosco_link_does_not_work_on_romano(
    smtp_server, palosco_client: Client, romano_parent, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    _request(palosco_client, "PAL-000777")
    link = _link(smtp_server)
    assert Client(HTTP_HOST="romanodilombardia.localhost").get(link).status_code == 400


def test_reset_requests_are_rate_limited(palosco_client: Client, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        _request(palosco_client, "PAL-000777")
    assert "Troppi tentativi" in _request(palosco_client, "PAL-000777").content.decode()


def test_reset_does_not_touch_current_password_until_used(
    palosco_client: Client, palosco, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    _request(palosco_client, "PAL-000777")
    assert credentials_post(palosco_client, "PAL-000777", PASSWORD).status_code == 302


def test_the_token_leaves_the_address_bar_after_the_first_request(
    smtp_server, palosco_client: Client, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    _request(palosco_client, "PAL-000777")
    link = _link(smtp_server)
    token = link.rstrip("/").rsplit("/", 1)[1]
    response = palosco_client.get(link)
    assert response.status_code == 302
    form_url = response["Location"]
    assert token not in form_url and form_url.endswith("/imposta-password/")
    page = palosco_client.get(form_url)
    assert page.status_code == 200 and token not in page.content.decode()
    # The clean address alone opens nothing: the token is in that browser's session only.
    assert Client(HTTP_HOST="palosco.localhost").get(form_url).status_code == 400


def test_a_used_link_fails_even_in_the_session_that_used_it(
    smtp_server, palosco_client: Client, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    _request(palosco_client, "PAL-000777")
    link = _link(smtp_server)
    form_url = palosco_client.get(link)["Location"]
    passwords = {"new_password1": "Ricordata-2026", "new_password2": "Ricordata-2026"}
    assert palosco_client.post(form_url, passwords)["Location"] == "/accesso/"
    assert palosco_client.get(form_url).status_code == 400
    assert palosco_client.get(link).status_code == 400
