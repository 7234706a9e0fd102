"""Metadata of each comune's SPID and CIE SP, keys and certificates, the IdP registry command."""

from __future__ import annotations

import io
import json
from html import unescape

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID, ObjectIdentifier
from django.core.management import CommandError, call_command
from django.test import Client
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from identity.spid.keys import key_paths
from tests.conftest import PALOSCO_HOST, ROMANO_HOST

from .conftest import NS, ROMANO_BASE

SPID_NS = "https://spid.gov.it/saml-extensions"
CIE_NS = "https://www.cartaidentita.interno.gov.it/saml-extensions"


def _metadata(kind: str) -> etree._Element:
    response = Client(HTTP_HOST=ROMANO_HOST).get(f"/accesso/{kind}/metadata/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/samlmetadata+xml")
    return etree.fromstring(response.content)


def _cert(kind: str, spid_keys_dir) -> x509.Certificate:  # type: ignore[no-untyped-def]
    return x509.load_pem_x509_certificate(key_paths("romanodilombardia", kind)[1].read_bytes())


def test_spid_metadata_is_signed_with_the_comunes_key(romano, spid_keys_dir) -> None:  # type: ignore[no-untyped-def]
    root = _metadata("spid")
    assert root[0].tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"
    cert = key_paths("romanodilombardia", "spid")[1].read_text()
    assert OneLogin_Saml2_Utils.validate_metadata_sign(etree.tostring(root), cert=cert, raise_exceptions=True)
    method = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureMethod").get("Algorithm")
    assert method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def test_spid_metadata_tampered_fails_signature_check(romano) -> None:  # type: ignore[no-untyped-def]
    root = _metadata("spid")
    root.find("md:Organization/md:OrganizationName", NS).text = "Comune di Altrove"
    cert = key_paths("romanodilombardia", "spid")[1].read_text()
    assert not OneLogin_Saml2_Utils.validate_metadata_sign(etree.tostring(root), cert=cert)


def test_spid_metadata_follows_avviso_19(romano) -> None:  # type: ignore[no-untyped-def]
    root = _metadata("spid")
    entity_id = f"{ROMANO_BASE}/accesso/spid/metadata/"
    assert root.get("entityID") == entity_id
    sp = root.find("md:SPSSODescriptor", NS)
    assert sp.get("AuthnRequestsSigned") == "true"
    assert sp.get("WantAssertionsSigned") == "true"
    assert sp.find("md:KeyDescriptor", NS).get("use") == "signing"
    acs = sp.findall("md:AssertionConsumerService", NS)
    assert [(a.get("index"), a.get("isDefault"), a.get("Location")) for a in acs] == [
        ("0", "true", f"{ROMANO_BASE}/accesso/spid/acs/")
    ]
    assert acs[0].get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert sp.find("md:SingleLogoutService", NS).get("Location") == f"{ROMANO_BASE}/accesso/spid/slo/"
    assert (
        sp.findtext("md:NameIDFormat", namespaces=NS) == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    )
    service = sp.find("md:AttributeConsumingService", NS)
    assert service.get("index") == "0"
    names = [a.get("Name") for a in service.findall("md:RequestedAttribute", NS)]
    assert {"fiscalNumber", "name", "familyName", "email"} <= set(names)
    org = root.find("md:Organization", NS)
    assert org.findtext("md:OrganizationName", namespaces=NS) == "Città di Romano di Lombardia"
    assert org.find("md:OrganizationName", NS).get("{http://www.w3.org/XML/1998/namespace}lang") == "it"
    contact = root.find("md:ContactPerson", NS)
    assert contact.get("contactType") == "other"
    assert contact.findtext(f"md:Extensions/{{{SPID_NS}}}IPACode", namespaces=NS) == "c_h509"
    assert contact.find(f"md:Extensions/{{{SPID_NS}}}Public", NS) is not None
    assert contact.findtext("md:EmailAddress", namespaces=NS) == "protocollo@comune.romano.bg.it"
    assert contact.findtext("md:TelephoneNumber", namespaces=NS) == "+390363982341"


def test_cie_metadata_has_its_own_entity_and_cie_contact(romano) -> None:  # type: ignore[no-untyped-def]
    root = _metadata("cie")
    assert root.get("entityID") == f"{ROMANO_BASE}/accesso/cie/metadata/"
    names = [a.get("Name") for a in root.iterfind(".//md:RequestedAttribute", NS)]
    assert set(names) == {"fiscalNumber", "name", "familyName", "dateOfBirth"}
    contact = root.find("md:ContactPerson", NS)
    assert contact.get("contactType") == "administrative"
    ext = contact.find("md:Extensions", NS)
    assert ext.find(f"{{{CIE_NS}}}Public") is not None
    assert ext.findtext(f"{{{CIE_NS}}}IPACode") == "c_h509"
    assert ext.findtext(f"{{{CIE_NS}}}Municipality") == "H509"


@pytest.mark.parametrize("path", ["metadata/", "login/", "acs/", "slo/"])
@pytest.mark.parametrize("kind", ["spid", "cie"])
def test_palosco_has_not_enabled_spid_or_cie(palosco, kind: str, path: str) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST=PALOSCO_HOST)
    assert client.get(f"/accesso/{kind}/{path}").status_code == 404
    assert client.post(f"/accesso/{kind}/{path}").status_code == 404


def test_spid_certificate_follows_agid_profile(romano, spid_keys_dir) -> None:  # type: ignore[no-untyped-def]
    cert = _cert("spid", spid_keys_dir)
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Città di Romano di Lombardia"
    assert (
        subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Città di Romano di Lombardia"
    )
    assert subject.get_attributes_for_oid(ObjectIdentifier("2.5.4.97"))[0].value == "PA:IT-c_h509"
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "IT"
    assert subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)[0].value == "Romano di Lombardia"
    uri = subject.get_attributes_for_oid(ObjectIdentifier("2.5.4.83"))[0].value
    assert uri.endswith("/accesso/spid/metadata/") and "romanodilombardia.localhost" in uri
    assert cert.public_key().key_size >= 2048
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    policies = {
        p.policy_identifier.dotted_string
        for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    }
    assert policies == {"1.3.76.16.6", "1.3.76.16.4.2.1"}
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_encipherment
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_spid_keys_is_idempotent_and_keeps_keys_private(romano, spid_keys_dir) -> None:  # type: ignore[no-untyped-def]
    key_path, cert_path = key_paths("romanodilombardia", "spid")
    before = cert_path.read_bytes()
    out = io.StringIO()
    call_command("spid_keys", stdout=out)
    assert "romanodilombardia spid: present" in out.getvalue()
    assert cert_path.read_bytes() == before
    assert key_path.stat().st_mode & 0o077 == 0
    assert not (key_paths("palosco", "spid")[0]).exists()


def test_spid_keys_refuses_a_comune_without_ipa_code(romano) -> None:  # type: ignore[no-untyped-def]
    romano.config = {**romano.config, "ipa_code": None}
    romano.save(update_fields=["config"])
    with pytest.raises(CommandError, match=r"romanodilombardia\.yaml: ipa_code: required"):
        call_command("spid_keys", "--comune", "romanodilombardia", stdout=io.StringIO())


def test_metadata_without_ipa_code_is_an_error_page_not_a_half_metadata(romano) -> None:  # type: ignore[no-untyped-def]
    romano.config = {**romano.config, "ipa_code": None}
    romano.save(update_fields=["config"])
    response = Client(HTTP_HOST=ROMANO_HOST).get("/accesso/spid/metadata/")
    assert response.status_code == 503
    assert "non è al momento disponibile" in unescape(response.content.decode())


def test_idps_refresh_reads_idp_metadata_from_a_file(romano_spid, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "idps.xml"
    source.write_bytes(romano_spid.get("/spid-demo-idp/metadata/").content)
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps({"spid": [], "cie": [{"name": "x", "entity_id": "y"}]}))
    out = io.StringIO()
    call_command("spid_idps_refresh", str(source), "--registry", str(registry), stdout=out)
    data = json.loads(registry.read_text())
    assert [i["entity_id"] for i in data["spid"]] == [f"{ROMANO_BASE}/spid-demo-idp/metadata/"]
    assert data["spid"][0]["sso_url"] == f"{ROMANO_BASE}/spid-demo-idp/sso/"
    assert data["spid"][0]["certificates"]
    assert data["cie"] == [{"name": "x", "entity_id": "y"}]
    assert "spid: 1 IdP written" in out.getvalue()


def test_idps_refresh_refuses_a_file_without_idps(tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "empty.xml"
    source.write_text('<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>')
    with pytest.raises(CommandError, match="no IdP"):
        call_command("spid_idps_refresh", str(source), "--registry", str(tmp_path / "r.json"))


def test_shipped_registry_lists_the_official_spid_idps() -> None:
    from django.conf import settings

    data = json.loads(settings.SPID_IDP_REGISTRY.read_text())
    entity_ids = {i["entity_id"] for i in data["spid"]}
    assert {
        "https://posteid.poste.it",
        "https://identity.infocert.it",
        "https://loginspid.aruba.it",
    } <= entity_ids
    assert len(data["spid"]) == 12
    assert data["cie"][0]["entity_id"].startswith("https://idserver.servizicie.interno.gov.it/")
