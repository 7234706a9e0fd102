"""Single Logout messages (HTTP-Redirect binding, signed like AuthnRequests)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from lxml.builder import ElementMaker

from identity.spid.authn import ENTITY_FORMAT, SAML_NS, SAMLP_NS, TRANSIENT, saml_instant, signed_redirect_url
from identity.spid.registry import IdentityProvider
from identity.spid.sp import ServiceProvider

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
_samlp = ElementMaker(namespace=SAMLP_NS, nsmap={"samlp": SAMLP_NS, "saml": SAML_NS})
_saml = ElementMaker(namespace=SAML_NS)


def _issuer(sp: ServiceProvider) -> etree._Element:
    return _saml.Issuer(sp.entity_id, Format=ENTITY_FORMAT, NameQualifier=sp.entity_id)


def logout_request_url(*, sp: ServiceProvider, idp: IdentityProvider, saml_session: dict) -> str:
    xml = etree.tostring(
        _samlp.LogoutRequest(
            _issuer(sp),
            _saml.NameID(
                saml_session["name_id"],
                Format=saml_session.get("name_id_format") or TRANSIENT,
                NameQualifier=saml_session.get("name_qualifier") or idp.entity_id,
            ),
            _samlp.SessionIndex(saml_session.get("session_index", "")),
            ID=f"_{uuid.uuid4().hex}",
            Version="2.0",
            IssueInstant=saml_instant(dt.datetime.now(dt.UTC)),
            Destination=idp.slo_url,
        )
    )
    return signed_redirect_url(sp=sp, url=idp.slo_url, xml=xml)


def slo_message_issuer(xml: bytes) -> str:
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    issuer = root.find(f"{{{SAML_NS}}}Issuer")
    return (issuer.text or "").strip() if issuer is not None else ""


def slo_name_id(xml: bytes) -> str:
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    return (root.findtext(f"{{{SAML_NS}}}NameID") or "").strip()


def redirect_signature_valid(
    query_string: str, certificates: tuple[str, ...], message: str = "SAMLRequest"
) -> bool:
    """Check an HTTP-Redirect message's query signature against the sender's certificates."""
    raw = dict(part.split("=", 1) for part in query_string.split("&") if "=" in part)
    if message not in raw or "Signature" not in raw or "SigAlg" not in raw:
        return False
    signed = f"{message}={raw[message]}"
    if "RelayState" in raw:
        signed += f"&RelayState={raw['RelayState']}"
    signed += f"&SigAlg={raw['SigAlg']}"
    if unquote(raw["SigAlg"]) != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":
        return False
    signature = base64.b64decode(unquote(raw["Signature"]))
    for cert_b64 in certificates:
        public_key = x509.load_der_x509_certificate(base64.b64decode(cert_b64)).public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):  # rsa-sha256 was required above
            continue
        try:
            public_key.verify(signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return True
    return False


def logout_response_url(*, sp: ServiceProvider, idp: IdentityProvider, request_xml: bytes) -> str:
    request_id = etree.fromstring(request_xml).get("ID", "")
    xml = etree.tostring(
        _samlp.LogoutResponse(
            _issuer(sp),
            _samlp.Status(_samlp.StatusCode(Value=SUCCESS)),
            ID=f"_{uuid.uuid4().hex}",
            Version="2.0",
            IssueInstant=saml_instant(dt.datetime.now(dt.UTC)),
            Destination=idp.slo_url,
            InResponseTo=request_id,
        )
    )
    return signed_redirect_url(sp=sp, url=idp.slo_url, xml=xml, message="SAMLResponse")
