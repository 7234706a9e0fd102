"""AuthnRequest per the SPID rules: signed redirect, Issuer, NameIDPolicy, level, indexes."""

from __future__ import annotations

import base64
from html import unescape
from urllib.parse import quote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from identity.backends import backends_for
from identity.spid.keys import key_paths
from tests.conftest import ROMANO_HOST

from .conftest import DEMO_IDP, NS, ROMANO_BASE, login_start

ENTITY_ID = f"{ROMANO_BASE}/accesso/spid/metadata/"


def test_authn_request_follows_the_spid_rules(romano_spid: Client) -> None:
    started = login_start(romano_spid)
    req = started.request_xml
    assert req.tag == "{urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest"
    assert req.get("Version") == "2.0"
    assert req.get("Destination") == f"{ROMANO_BASE}/spid-demo-idp/sso/"
    assert req.get("ForceAuthn") == "true"
    assert req.get("AssertionConsumerServiceIndex") == "0"
    assert req.get("AttributeConsumingServiceIndex") == "0"
    assert req.get("IsPassive") is None
    issuer = req.find("saml:Issuer", NS)
    assert issuer.text == ENTITY_ID
    assert issuer.get("Format") == "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
    assert issuer.get("NameQualifier") == ENTITY_ID
    policy = req.find("samlp:NameIDPolicy", NS)
    assert policy.get("Format") == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    assert policy.get("AllowCreate") is None
    context = req.find("samlp:RequestedAuthnContext", NS)
    assert context.get("Comparison") == "minimum"
    assert context.findtext("saml:AuthnContextClassRef", namespaces=NS) == "https://www.spid.gov.it/SpidL2"
    assert started.params["RelayState"] and "http" not in started.params["RelayState"]


def test_authn_request_signature_verifies_with_the_metadata_certificate(romano_spid: Client) -> None:
    started = login_start(romano_spid)
    query = urlsplit(started.url).query
    signed, _, signature = query.rpartition("&Signature=")
    assert started.params["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    cert = x509.load_pem_x509_certificate(key_paths("romanodilombardia", "spid")[1].read_bytes())
    cert.public_key().verify(
        base64.b64decode(started.params["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert quote(started.params["Signature"], safe="") == signature


def test_level_comes_from_the_comune_config(romano, romano_spid: Client) -> None:  # type: ignore[no-untyped-def]
    romano.config = {**romano.config, "identity": {**romano.config["identity"], "spid_level": 1}}
    romano.save(update_fields=["config"])
    req = login_start(romano_spid).request_xml
    assert req.findtext(".//saml:AuthnContextClassRef", namespaces=NS) == "https://www.spid.gov.it/SpidL1"
    assert req.get("ForceAuthn") is None


def test_login_with_an_unknown_idp_is_refused(romano_spid: Client) -> None:
    response = romano_spid.get("/accesso/spid/login/", {"idp": "https://idp.evil.example/"})
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Scegli il tuo gestore dell'identità digitale" in html
    assert "Codice di riferimento: <strong>SPID-" in html


def test_registry_idp_without_certificate_is_listed_but_not_used(romano_spid: Client) -> None:
    response = romano_spid.get("/accesso/spid/login/", {"idp": "https://posteid.poste.it"})
    assert response.status_code == 400
    assert "non è al momento disponibile" in unescape(response.content.decode())


def test_demo_idp_is_refused_when_debug_is_off(romano, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SPID_DEMO_IDP = True  # DEBUG stays off, as in production
    client = Client(HTTP_HOST=ROMANO_HOST)
    assert client.get("/spid-demo-idp/metadata/").status_code == 404
    assert client.get("/spid-demo-idp/sso/").status_code == 404
    assert client.get("/accesso/spid/login/", {"idp": DEMO_IDP}).status_code == 400


def test_cie_login_goes_to_the_cie_idp_without_choosing(romano_spid: Client) -> None:
    response = romano_spid.get("/accesso/cie/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{ROMANO_BASE}/spid-demo-idp/sso/?SAMLRequest=")


def test_login_buttons_offer_the_idps_by_keyboard(romano, demo_idp_on) -> None:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/accesso/", {"next": "/iscrizioni/"}, HTTP_HOST=ROMANO_HOST)
    request.tenant = romano
    backends = {b.key: b for b in backends_for(romano)}
    assert backends["spid"].label == "Entra con SPID"
    assert backends["cie"].label == "Entra con CIE"
    html = render_to_string(
        backends["spid"].entry_template, backends["spid"].entry_context(request, comune=romano), request
    )
    assert "<details" in html and "<summary" in html and "Entra con SPID" in html
    for name in ("Poste ID", "InfoCert ID", "Aruba ID", "IdP dimostrativo"):
        assert name in html
    assert "/accesso/spid/login/?idp=https%3A%2F%2Fposteid.poste.it&amp;next=%2Fiscrizioni%2F" in html
    cie = render_to_string(
        backends["cie"].entry_template, backends["cie"].entry_context(request, comune=romano), request
    )
    assert "Entra con CIE" in cie and 'href="/accesso/cie/login/?next=%2Fiscrizioni%2F"' in cie


def test_demo_identities_have_valid_codici_fiscali() -> None:
    from stdnum.it import codicefiscale

    from identity.spid.demo_idp.identities import DEMO_IDENTITIES

    assert len(DEMO_IDENTITIES) >= 3
    for person in DEMO_IDENTITIES:
        assert codicefiscale.is_valid(person.codice_fiscale), person
        assert "@" in person.email
