"""The ACS: full round-trips through the demo IdP, and every refusal the SPID rules require.

Each refusal test also checks that nothing was accepted partly: no session,
no account.
"""

from __future__ import annotations

import base64
import datetime as dt
import zlib
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django_tenants.utils import tenant_context
from lxml import etree

from identity.models import Account
from identity.spid.demo_idp.identities import demo_identity
from identity.spid.demo_idp.keys import demo_idp_credentials
from identity.spid.demo_idp.responses import ResponseSpec, response_build
from identity.spid.keys import Credentials, self_signed_certificate
from tests.conftest import ROMANO_HOST

from .conftest import DEMO_IDP, NS, ROMANO_BASE, demo_idp_answer, login_start

MARIO = demo_identity("mario")
ENTITY_ID = f"{ROMANO_BASE}/accesso/spid/metadata/"
ACS = f"{ROMANO_BASE}/accesso/spid/acs/"


def _post(client: Client, xml: bytes | str, kind: str = "spid"):  # type: ignore[no-untyped-def]
    value = xml if isinstance(xml, str) else base64.b64encode(xml).decode()
    return client.post(f"/accesso/{kind}/acs/", {"SAMLResponse": value, "RelayState": "x"})


def _spec(started, **overrides) -> ResponseSpec:  # type: ignore[no-untyped-def]
    fields = {
        "idp_entity_id": DEMO_IDP,
        "sp_entity_id": ENTITY_ID,
        "acs_url": ACS,
        "in_response_to": started.request_id,
        "attributes": dict(MARIO.attributes),
        "level": 2,
    }
    fields.update(overrides)
    return ResponseSpec(**fields)


def _other_credentials() -> Credentials:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed_certificate(key=key, common_name="x", organization="x", locality="x", uri="http://x/")
    return Credentials(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _account_exists(romano, cf: str = MARIO.codice_fiscale) -> bool:  # type: ignore[no-untyped-def]
    with tenant_context(romano):
        return Account.objects.filter(codice_fiscale=cf).exists()


def assert_refused(response, client: Client, romano, status: int | None = None) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code in ((status,) if status else (400, 403)), response.status_code
    html = unescape(response.content.decode())
    assert "Accesso con SPID non riuscito" in html
    assert "Codice di riferimento: <strong>SPID-" in html
    assert not _logged_in(client)
    assert not _account_exists(romano)
    return html


# Round-trips ----------------------------------------------------------------


def test_spid_round_trip_creates_the_parent_and_asks_to_verify_the_email(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    saml_response = demo_idp_answer(romano_spid, started, identity="mario")
    response = _post(romano_spid, saml_response)
    assert response.status_code == 302
    assert response["Location"] == "/accesso/verifica-email/"
    assert _logged_in(romano_spid)
    with tenant_context(romano):
        account = Account.objects.get(codice_fiscale="RSSMRA80A01H501U")
        assert (account.kind, account.first_name, account.last_name) == ("genitore", "Mario", "Rossi")
        assert account.email == "mario.rossi@example.it" and account.email_verified_at is None
    saml = romano_spid.session["saml"]
    assert saml["idp"] == DEMO_IDP and saml["name_id"] and saml["session_index"]
    assert romano_spid.session["login_backend"] == "spid"


def test_spid_login_finds_the_existing_parent_by_codice_fiscale(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(romano):
        existing = Account.objects.create_user(
            username="ROM-000001",
            kind=Account.Kind.PARENT,
            codice_fiscale="BNCLRA85M41A794O",
            email="laura@famiglia.it",
            email_verified_at=dt.datetime.now(dt.UTC),
        )
    started = login_start(romano_spid, next_url="/informativa-privacy/")
    response = _post(romano_spid, demo_idp_answer(romano_spid, started, identity="laura"))
    assert response.status_code == 302 and response["Location"] == "/informativa-privacy/"
    assert int(romano_spid.session["_auth_user_id"]) == existing.pk
    with tenant_context(romano):
        existing.refresh_from_db()
        assert existing.email == "laura@famiglia.it"  # verified address kept
        assert Account.objects.filter(codice_fiscale="BNCLRA85M41A794O").count() == 1


def test_cie_round_trip(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    response = romano_spid.get("/accesso/cie/login/")
    parts = urlsplit(response["Location"])
    assert romano_spid.get(f"{parts.path}?{parts.query}").status_code == 200
    page = romano_spid.post(parts.path, {"query": parts.query, "identity": "anna"})
    saml_response = etree.HTML(page.content).xpath("//input[@name='SAMLResponse']/@value")[0]
    result = _post(romano_spid, saml_response, kind="cie")
    assert result.status_code == 302
    assert romano_spid.session["login_backend"] == "cie"
    with tenant_context(romano):
        account = Account.objects.get(codice_fiscale="CLMNNA82T55H509F")
        assert account.email == ""  # CIE releases no e-mail: "Verifica Email" asks for it


def test_cancel_at_the_idp_shows_the_agid_message(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    parts = urlsplit(started.url)
    page = romano_spid.post(parts.path, {"query": parts.query, "cancel": "1"})
    saml_response = etree.HTML(page.content).xpath("//input[@name='SAMLResponse']/@value")[0]
    html = assert_refused(_post(romano_spid, saml_response), romano_spid, romano)
    assert "Hai annullato l'accesso." in html


def test_a_response_to_palosco_sp_cannot_log_into_romano(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    palosco_acs = "http://palosco.localhost/accesso/spid/acs/"
    xml = response_build(
        _spec(started, acs_url=palosco_acs, sp_entity_id="http://palosco.localhost/accesso/spid/metadata/"),
        demo_idp_credentials(),
    )
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


# Signatures -------------------------------------------------------------------


def test_unsigned_response_and_assertion_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started, sign_response=False, sign_assertion=False), demo_idp_credentials())
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_signed_response_with_unsigned_assertion_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started, sign_assertion=False), demo_idp_credentials())
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_signed_assertion_without_response_signature_accepted(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    # SPID: the assertion must be signed, the response may be.
    started = login_start(romano_spid)
    xml = response_build(_spec(started, sign_response=False), demo_idp_credentials())
    assert _post(romano_spid, xml).status_code == 302


def test_tampered_assertion_signature_invalid(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started, sign_response=False), demo_idp_credentials())
    tampered = xml.replace(b"RSSMRA80A01H501U", b"VRDGPP75C15F205S")
    assert tampered != xml
    assert_refused(_post(romano_spid, tampered), romano_spid, romano)
    assert not _account_exists(romano, "VRDGPP75C15F205S")


def test_tampered_response_signature_invalid(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started), demo_idp_credentials())
    root = etree.fromstring(xml)
    sig = root.find(
        "{http://www.w3.org/2000/09/xmldsig#}Signature/{http://www.w3.org/2000/09/xmldsig#}SignatureValue"
    )
    sig.text = base64.b64encode(b"\0" * 384).decode()
    assert_refused(_post(romano_spid, etree.tostring(root)), romano_spid, romano)


def test_signed_with_a_key_the_registry_does_not_know(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started), _other_credentials())
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_untrusted_idp_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started, idp_entity_id="https://idp.evil.example/"), _other_credentials())
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


@pytest.mark.parametrize("placement", ["before", "extensions"])
def test_xml_signature_wrapping_refused(romano, romano_spid: Client, placement: str) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    root = etree.fromstring(response_build(_spec(started, sign_response=False), demo_idp_credentials()))
    signed = root.find("saml:Assertion", NS)
    evil = etree.fromstring(etree.tostring(signed))
    evil.set("ID", "_evil")
    for value in evil.iterfind(".//saml:AttributeValue", NS):
        if value.text == "TINIT-RSSMRA80A01H501U":
            value.text = "TINIT-VRDGPP75C15F205S"
    evil.remove(evil.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    if placement == "before":
        signed.addprevious(evil)
    else:
        root.replace(signed, evil)
        extensions = etree.SubElement(root, "{urn:oasis:names:tc:SAML:2.0:protocol}Extensions")
        root.insert(1, extensions)
        extensions.append(signed)
    assert_refused(_post(romano_spid, etree.tostring(root)), romano_spid, romano)
    assert not _account_exists(romano, "VRDGPP75C15F205S")


# Destination, Recipient, InResponseTo, replay -----------------------------------


def test_wrong_destination_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(
        _spec(started, destination=f"{ROMANO_BASE}/accesso/spid/acs/altro/"), demo_idp_credentials()
    )
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_wrong_recipient_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(
        _spec(started, recipient="http://palosco.localhost/accesso/spid/acs/"), demo_idp_credentials()
    )
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_unknown_in_response_to_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started, in_response_to="_mai-emesso"), demo_idp_credentials())
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_subject_in_response_to_must_match_too(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started, subject_in_response_to="_altro"), demo_idp_credentials())
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_response_to_a_request_of_another_browser_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    victim_request = login_start(romano_spid)
    attacker = Client(HTTP_HOST=ROMANO_HOST)
    login_start(attacker)  # the attacker has a binding cookie of their own
    xml = response_build(_spec(victim_request), demo_idp_credentials())
    assert_refused(_post(attacker, xml), attacker, romano)


def test_replayed_response_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started), demo_idp_credentials())
    assert _post(romano_spid, xml).status_code == 302
    romano_spid.logout()
    second = _post(romano_spid, xml)
    assert second.status_code == 403
    assert not _logged_in(romano_spid)


def test_replayed_assertion_under_a_new_request_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    first = login_start(romano_spid)
    spec = _spec(first)
    assert _post(romano_spid, response_build(spec, demo_idp_credentials())).status_code == 302
    romano_spid.logout()
    second = login_start(romano_spid)
    spec.in_response_to = second.request_id  # same assertion ID, re-signed for the new request
    response = _post(romano_spid, response_build(spec, demo_idp_credentials()))
    assert response.status_code == 403 and not _logged_in(romano_spid)


# Time, audience, level -----------------------------------------------------------


def test_expired_conditions_refused_beyond_a_small_skew(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    now = dt.datetime.now(dt.UTC)
    xml = response_build(
        _spec(started, not_on_or_after=now - dt.timedelta(minutes=2)), demo_idp_credentials()
    )
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_not_yet_valid_conditions_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    now = dt.datetime.now(dt.UTC)
    xml = response_build(_spec(started, not_before=now + dt.timedelta(minutes=3)), demo_idp_credentials())
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_small_clock_skew_tolerated(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    now = dt.datetime.now(dt.UTC)
    xml = response_build(_spec(started, not_before=now + dt.timedelta(seconds=20)), demo_idp_credentials())
    assert _post(romano_spid, xml).status_code == 302


def test_issue_instant_before_the_request_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(
        _spec(
            started, now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10), validity=dt.timedelta(minutes=20)
        ),
        demo_idp_credentials(),
    )
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_wrong_audience_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(
        _spec(started, audience="http://palosco.localhost/accesso/spid/metadata/"), demo_idp_credentials()
    )
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_authn_context_below_the_requested_level_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started, level=1), demo_idp_credentials())
    html = assert_refused(_post(romano_spid, xml), romano_spid, romano)
    assert "non ha il livello di sicurezza richiesto" in html


def test_higher_level_than_requested_accepted(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    xml = response_build(_spec(started, level=3), demo_idp_credentials())
    assert _post(romano_spid, xml).status_code == 302


def test_unknown_authn_context_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    spec = _spec(started, authn_context="urn:oasis:names:tc:SAML:2.0:ac:classes:SpidL2")
    assert_refused(_post(romano_spid, response_build(spec, demo_idp_credentials())), romano_spid, romano)


def test_missing_fiscal_number_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    attributes = {k: v for k, v in MARIO.attributes.items() if k != "fiscalNumber"}
    xml = response_build(_spec(started, attributes=attributes), demo_idp_credentials())
    assert_refused(_post(romano_spid, xml), romano_spid, romano)


def test_garbage_is_a_400(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    login_start(romano_spid)
    assert_refused(_post(romano_spid, "bm90IHhtbA=="), romano_spid, romano, status=400)


# Logout ------------------------------------------------------------------------------


def test_logout_ends_the_session_and_sends_a_signed_logout_request(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    _post(romano_spid, demo_idp_answer(romano_spid, started))
    name_id = romano_spid.session["saml"]["name_id"]
    response = romano_spid.post("/accesso/spid/slo/")
    assert response.status_code == 302 and not _logged_in(romano_spid)
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ROMANO_BASE}/spid-demo-idp/slo/"
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params["Signature"] and params["SigAlg"]
    logout_request = etree.fromstring(zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15))
    assert logout_request.findtext("saml:NameID", namespaces=NS) == name_id
    assert logout_request.find("saml:Issuer", NS).get("NameQualifier") == ENTITY_ID


def test_unsigned_idp_logout_request_refused(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    _post(romano_spid, demo_idp_answer(romano_spid, started))
    xml = (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x" Version="2.0" '
        f'IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>{DEMO_IDP}</saml:Issuer></samlp:LogoutRequest>'
    )
    encoded = base64.b64encode(zlib.compress(xml.encode())[2:-4]).decode()
    response = romano_spid.get("/accesso/spid/slo/", {"SAMLRequest": encoded})
    assert response.status_code == 400
    assert _logged_in(romano_spid)


def test_a_disabled_parent_account_cannot_enter_with_spid(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(romano):
        Account.objects.create_user(
            username="ROM-000009",
            kind=Account.Kind.PARENT,
            codice_fiscale=MARIO.codice_fiscale,
            is_active=False,
        )
    started = login_start(romano_spid)
    response = _post(romano_spid, demo_idp_answer(romano_spid, started))
    assert response.status_code == 403
    assert "disattivato dal comune" in unescape(response.content.decode())
    assert not _logged_in(romano_spid)


def _idp_logout(client: Client, name_id: str):  # type: ignore[no-untyped-def]
    """A LogoutRequest from the demo IdP, signed on the query string as the binding requires."""
    from urllib.parse import quote

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    xml = (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_idp-logout" Version="2.0" '
        f'IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>{DEMO_IDP}</saml:Issuer>'
        f"<saml:NameID>{name_id}</saml:NameID></samlp:LogoutRequest>"
    )
    encoded = quote(base64.b64encode(zlib.compress(xml.encode())[2:-4]).decode(), safe="")
    sig_alg = quote("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", safe="")
    signed = f"SAMLRequest={encoded}&SigAlg={sig_alg}"
    key = serialization.load_pem_private_key(demo_idp_credentials().key_pem.encode(), password=None)
    signature = base64.b64encode(key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    return client.get(f"/accesso/spid/slo/?{signed}&Signature={quote(signature, safe='')}")


def test_idp_initiated_logout_with_a_valid_signature_ends_the_session(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    _post(romano_spid, demo_idp_answer(romano_spid, started))
    response = _idp_logout(romano_spid, romano_spid.session["saml"]["name_id"])
    assert response.status_code == 302
    assert response["Location"].startswith(f"{ROMANO_BASE}/spid-demo-idp/slo/?SAMLResponse=")
    assert not _logged_in(romano_spid)
    answer = parse_qs(urlsplit(response["Location"]).query)
    logout_response = etree.fromstring(zlib.decompress(base64.b64decode(answer["SAMLResponse"][0]), -15))
    assert logout_response.get("InResponseTo") == "_idp-logout"


def test_idp_logout_for_another_name_id_leaves_this_session(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    started = login_start(romano_spid)
    _post(romano_spid, demo_idp_answer(romano_spid, started))
    response = _idp_logout(romano_spid, "_someone-else")
    assert response.status_code == 302
    assert _logged_in(romano_spid)
