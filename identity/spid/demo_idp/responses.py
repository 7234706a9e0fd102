"""SAML Responses as a SPID IdP writes them (signed assertion and signed response).

The demo IdP uses this for its answers; the tests use the keyword arguments
to craft the faulty answers an SP must refuse.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from lxml import etree
from lxml.builder import ElementMaker
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from identity.spid.authn import ENTITY_FORMAT, SAML_NS, SAMLP_NS, TRANSIENT, saml_instant
from identity.spid.keys import Credentials

XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"


def _id() -> str:
    return f"_{uuid.uuid4().hex}"


@dataclass
class ResponseSpec:
    """What goes into one Response. Defaults describe a correct answer."""

    idp_entity_id: str
    sp_entity_id: str
    acs_url: str
    in_response_to: str
    attributes: dict[str, str]
    level: int = 2
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    validity: dt.timedelta = dt.timedelta(minutes=5)
    response_id: str = field(default_factory=_id)
    assertion_id: str = field(default_factory=_id)
    session_index: str = field(default_factory=_id)
    name_id: str = field(default_factory=_id)
    # Overrides for faulty answers (None: the correct value).
    destination: str | None = None
    recipient: str | None = None
    audience: str | None = None
    subject_in_response_to: str | None = None
    not_before: dt.datetime | None = None
    not_on_or_after: dt.datetime | None = None
    authn_context: str | None = None
    status: str = SUCCESS
    status_message: str = ""
    sign_response: bool = True
    sign_assertion: bool = True


def assertion_element(spec: ResponseSpec) -> etree._Element:
    saml = ElementMaker(namespace=SAML_NS, nsmap={"saml": SAML_NS, "xs": XS_NS, "xsi": XSI_NS})
    issued = saml_instant(spec.now)
    expires = saml_instant(spec.not_on_or_after or spec.now + spec.validity)
    attributes = []
    for name, value in spec.attributes.items():
        attr_value = saml.AttributeValue(value)
        attr_value.set(f"{{{XSI_NS}}}type", "xs:date" if name == "dateOfBirth" else "xs:string")
        attributes.append(saml.Attribute(attr_value, Name=name))
    return saml.Assertion(
        saml.Issuer(spec.idp_entity_id, Format=ENTITY_FORMAT),
        saml.Subject(
            saml.NameID(spec.name_id, Format=TRANSIENT, NameQualifier=spec.idp_entity_id),
            saml.SubjectConfirmation(
                saml.SubjectConfirmationData(
                    InResponseTo=spec.subject_in_response_to or spec.in_response_to,
                    NotOnOrAfter=expires,
                    Recipient=spec.recipient or spec.acs_url,
                ),
                Method=BEARER,
            ),
        ),
        saml.Conditions(
            saml.AudienceRestriction(saml.Audience(spec.audience or spec.sp_entity_id)),
            NotBefore=saml_instant(spec.not_before or spec.now),
            NotOnOrAfter=expires,
        ),
        saml.AuthnStatement(
            saml.AuthnContext(
                saml.AuthnContextClassRef(spec.authn_context or f"https://www.spid.gov.it/SpidL{spec.level}")
            ),
            AuthnInstant=issued,
            SessionIndex=spec.session_index,
        ),
        saml.AttributeStatement(*attributes),
        ID=spec.assertion_id,
        Version="2.0",
        IssueInstant=issued,
    )


def _sign(element: etree._Element, credentials: Credentials) -> etree._Element:
    signed = OneLogin_Saml2_Utils.add_sign(
        etree.tostring(element),
        credentials.key_pem,
        credentials.cert_pem,
        sign_algorithm=C.RSA_SHA256,
        digest_algorithm=C.SHA256,
    )
    return etree.fromstring(signed)


def response_build(spec: ResponseSpec, credentials: Credentials) -> bytes:
    """The Response XML: the assertion signed first, then the whole response."""
    samlp = ElementMaker(namespace=SAMLP_NS, nsmap={"samlp": SAMLP_NS, "saml": SAML_NS})
    saml = ElementMaker(namespace=SAML_NS)
    status = samlp.Status(samlp.StatusCode(Value=spec.status))
    if spec.status != SUCCESS:
        status = samlp.Status(
            samlp.StatusCode(
                samlp.StatusCode(Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"), Value=spec.status
            ),
            samlp.StatusMessage(spec.status_message),
        )
    children = [saml.Issuer(spec.idp_entity_id, Format=ENTITY_FORMAT), status]
    if spec.status == SUCCESS:
        assertion = assertion_element(spec)
        children.append(_sign(assertion, credentials) if spec.sign_assertion else assertion)
    response = samlp.Response(
        *children,
        ID=spec.response_id,
        Version="2.0",
        IssueInstant=saml_instant(spec.now),
        Destination=spec.destination or spec.acs_url,
        InResponseTo=spec.in_response_to,
    )
    if spec.sign_response:
        response = _sign(response, credentials)
    return etree.tostring(response, encoding="utf-8")
