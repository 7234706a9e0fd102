"""Validation of an IdP's SAML Response at the ACS: all or nothing.

python3-saml (strict mode, XSD validation, signed-element and wrapping
checks, signature against the IdP's certificate from our registry only)
does the SAML core; on top of it every SPID rule of the Regole tecniche
and of AgID's validator (spid-sp-test) that python3-saml leaves open:
exact Destination and Recipient, InResponseTo on Response and
SubjectConfirmationData, IssueInstant formats and windows, Issuer Format,
NameID Format/NameQualifier, Conditions and Audience present, AuthnContext
level not below the one requested, attributes present. Any failure raises
ResponseRefused with the detail for the log and a message for the person.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass

from lxml import etree
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from stdnum.it import codicefiscale

from identity.spid.authn import ENTITY_FORMAT, SAML_NS, SAMLP_NS, TRANSIENT, PendingRequest
from identity.spid.registry import IdentityProvider
from identity.spid.sp import LEVEL_URIS, ServiceProvider

NS = {"samlp": SAMLP_NS, "saml": SAML_NS, "ds": "http://www.w3.org/2000/09/xmldsig#"}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
# Clocks of IdP and SP may differ a little; AgID asks SPs to tolerate only a
# small skew.
CLOCK_SKEW = dt.timedelta(seconds=60)
INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
LEVELS = {uri: level for level, uri in LEVEL_URIS.items()}

GENERIC_MESSAGE = (
    "Non è stato possibile completare l'accesso: la risposta del gestore dell'identità digitale "
    "non è valida. Riprova; se il problema continua, contatta il comune indicando il codice di riferimento."
)
# AgID's "Tabella messaggi di anomalia": what the person is told for each ErrorCode.
ANOMALY_MESSAGES = {
    "19": "L'accesso non è riuscito perché le credenziali sono state inserite in modo errato troppe "
    "volte. Riprova più tardi o contatta il tuo gestore dell'identità digitale.",
    "20": "La tua identità digitale non ha il livello di sicurezza richiesto da questo servizio.",
    "21": "Il tempo a disposizione per completare l'accesso è scaduto. Riprova.",
    "22": "Non hai acconsentito all'invio dei dati necessari al servizio, quindi l'accesso non è "
    "stato completato.",
    "23": "La tua identità digitale risulta sospesa o revocata, oppure le credenziali sono bloccate. "
    "Contatta il tuo gestore dell'identità digitale.",
    "25": "Hai annullato l'accesso.",
}


class ResponseRefused(Exception):
    def __init__(self, reason: str, *, user_message: str = GENERIC_MESSAGE, status: int = 403):
        super().__init__(reason)
        self.reason = reason
        self.user_message = user_message
        self.status = status


@dataclass(frozen=True)
class Identity:
    codice_fiscale: str
    first_name: str
    last_name: str
    email: str
    name_id: str
    name_id_format: str
    name_qualifier: str
    session_index: str
    level: int
    idp_entity_id: str
    assertion_id: str
    not_on_or_after: dt.datetime


def _instant(value: str | None, what: str) -> dt.datetime:
    if not value or not INSTANT_RE.match(value):
        raise ResponseRefused(f"{what}: missing or not a SAML UTC instant ({value!r})", status=400)
    seconds, _, fraction = value.rstrip("Z").partition(".")
    moment = dt.datetime.strptime(seconds, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    if fraction:
        moment += dt.timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    return moment


def response_decode(saml_response: str) -> bytes:
    try:
        return base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ResponseRefused(f"SAMLResponse is not base64: {exc}", status=400) from exc


def response_issuer(xml: bytes) -> str:
    """The Response's Issuer, read before trusting anything to find which IdP to check against."""
    try:
        root = etree.fromstring(
            xml, parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        )
    except etree.XMLSyntaxError as exc:
        raise ResponseRefused(f"not well-formed XML: {exc}", status=400) from exc
    if root.tag != f"{{{SAMLP_NS}}}Response":
        raise ResponseRefused(f"root element is {root.tag}, not samlp:Response", status=400)
    issuer = root.find("saml:Issuer", NS)
    if issuer is None or not (issuer.text or "").strip():
        raise ResponseRefused("Response Issuer missing or empty", status=400)
    return issuer.text.strip()


def response_status_check(xml: bytes) -> None:
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    code = root.find("samlp:Status/samlp:StatusCode", NS)
    if code is None or not code.get("Value"):
        raise ResponseRefused("Status or StatusCode missing", status=400)
    if code.get("Value") != SUCCESS:
        message = (root.findtext("samlp:Status/samlp:StatusMessage", default="", namespaces=NS)).strip()
        match = re.search(r"ErrorCode nr(\d+)", message)
        user_message = ANOMALY_MESSAGES.get(match.group(1)) if match else None
        raise ResponseRefused(
            f"StatusCode {code.get('Value')} ({message or 'no message'})",
            user_message=user_message or GENERIC_MESSAGE,
        )


def _saml_settings(sp: ServiceProvider, idp: IdentityProvider) -> OneLogin_Saml2_Settings:
    creds = sp.credentials
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": sp.entity_id,
                "assertionConsumerService": {
                    "url": sp.acs_url,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
                "singleLogoutService": {
                    "url": sp.slo_url,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "NameIDFormat": TRANSIENT,
                "x509cert": creds.cert_pem,
                "privateKey": creds.key_pem,
            },
            "idp": {
                "entityId": idp.entity_id,
                "singleSignOnService": {
                    "url": idp.sso_url,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "singleLogoutService": {
                    "url": idp.slo_url or idp.sso_url,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "x509certMulti": {"signing": list(idp.certificates)},
            },
            "security": {
                "authnRequestsSigned": True,
                "wantAssertionsSigned": True,
                "wantMessagesSigned": False,
                "wantNameId": True,
                "wantXMLValidation": True,
                "rejectDeprecatedAlgorithm": True,
                "requestedAuthnContext": False,
                "allowRepeatAttributeName": False,
                "rejectUnsolicitedResponsesWithInResponseTo": True,
                "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
            },
        },
        sp_validation_only=True,
    )


def _one(node: etree._Element, path: str, what: str) -> etree._Element:
    found = node.findall(path, NS)
    if len(found) != 1:
        raise ResponseRefused(f"{what}: expected exactly one, found {len(found)}", status=400)
    return found[0]


def _attr(node: etree._Element, name: str, what: str) -> str:
    value = (node.get(name) or "").strip()
    if not value:
        raise ResponseRefused(f"{what}: attribute {name} missing or empty", status=400)
    return value


def _spid_checks(
    doc: etree._Element,
    *,
    sp: ServiceProvider,
    idp: IdentityProvider,
    pending: PendingRequest,
    now: dt.datetime,
) -> tuple[etree._Element, int, dt.datetime]:
    requested_at = _instant(pending.issued_at, "AuthnRequest IssueInstant")

    if doc.get("Version") != "2.0":
        raise ResponseRefused("Response Version is not 2.0", status=400)
    _attr(doc, "ID", "Response")
    issued = _instant(doc.get("IssueInstant"), "Response IssueInstant")
    if issued < requested_at - CLOCK_SKEW or issued > now + CLOCK_SKEW:
        raise ResponseRefused(f"Response IssueInstant {issued} outside [request, now]")
    if _attr(doc, "InResponseTo", "Response") != pending.request_id:
        raise ResponseRefused("Response InResponseTo is not our request")
    if _attr(doc, "Destination", "Response") != sp.acs_url:
        raise ResponseRefused(f"Response Destination {doc.get('Destination')!r} is not our ACS")
    issuer = _one(doc, "saml:Issuer", "Response Issuer")
    if (issuer.text or "").strip() != idp.entity_id:
        raise ResponseRefused("Response Issuer is not the IdP the request was sent to")
    if issuer.get("Format") not in (None, ENTITY_FORMAT):
        raise ResponseRefused(f"Response Issuer Format {issuer.get('Format')!r}", status=400)

    assertion = _one(doc, "saml:Assertion", "Assertion")
    _attr(assertion, "ID", "Assertion")
    if assertion.get("Version") != "2.0":
        raise ResponseRefused("Assertion Version is not 2.0", status=400)
    a_issued = _instant(assertion.get("IssueInstant"), "Assertion IssueInstant")
    if a_issued < requested_at - CLOCK_SKEW or a_issued > now + CLOCK_SKEW:
        raise ResponseRefused(f"Assertion IssueInstant {a_issued} outside [request, now]")
    a_issuer = _one(assertion, "saml:Issuer", "Assertion Issuer")
    if (a_issuer.text or "").strip() != idp.entity_id:
        raise ResponseRefused("Assertion Issuer is not the IdP")
    if a_issuer.get("Format") != ENTITY_FORMAT:
        raise ResponseRefused(f"Assertion Issuer Format {a_issuer.get('Format')!r}", status=400)

    subject = _one(assertion, "saml:Subject", "Subject")
    name_id = _one(subject, "saml:NameID", "NameID")
    if not (name_id.text or "").strip():
        raise ResponseRefused("NameID empty", status=400)
    if _attr(name_id, "Format", "NameID") != TRANSIENT:
        raise ResponseRefused(f"NameID Format {name_id.get('Format')!r} is not transient", status=400)
    _attr(name_id, "NameQualifier", "NameID")
    confirmation = _one(subject, "saml:SubjectConfirmation", "SubjectConfirmation")
    if _attr(confirmation, "Method", "SubjectConfirmation") != BEARER:
        raise ResponseRefused("SubjectConfirmation Method is not bearer", status=400)
    data = _one(confirmation, "saml:SubjectConfirmationData", "SubjectConfirmationData")
    if _attr(data, "Recipient", "SubjectConfirmationData") != sp.acs_url:
        raise ResponseRefused(f"Recipient {data.get('Recipient')!r} is not our ACS")
    if _attr(data, "InResponseTo", "SubjectConfirmationData") != pending.request_id:
        raise ResponseRefused("SubjectConfirmationData InResponseTo is not our request")
    if _instant(data.get("NotOnOrAfter"), "SubjectConfirmationData NotOnOrAfter") <= now - CLOCK_SKEW:
        raise ResponseRefused("SubjectConfirmationData expired")

    conditions = _one(assertion, "saml:Conditions", "Conditions")
    not_before = _instant(conditions.get("NotBefore"), "Conditions NotBefore")
    not_after = _instant(conditions.get("NotOnOrAfter"), "Conditions NotOnOrAfter")
    if not_before > now + CLOCK_SKEW:
        raise ResponseRefused(f"Conditions NotBefore {not_before} is in the future")
    if not_after <= now - CLOCK_SKEW:
        raise ResponseRefused(f"Conditions NotOnOrAfter {not_after} has passed")
    restriction = _one(conditions, "saml:AudienceRestriction", "AudienceRestriction")
    audiences = [(a.text or "").strip() for a in restriction.findall("saml:Audience", NS)]
    if audiences != [sp.entity_id]:
        raise ResponseRefused(f"Audience {audiences!r} is not our entityID")

    statement = _one(assertion, "saml:AuthnStatement", "AuthnStatement")
    context = _one(statement, "saml:AuthnContext", "AuthnContext")
    class_ref = (_one(context, "saml:AuthnContextClassRef", "AuthnContextClassRef").text or "").strip()
    level = LEVELS.get(class_ref)
    if level is None:
        raise ResponseRefused(f"AuthnContextClassRef {class_ref!r} is not a SPID level", status=400)
    if level < pending.level:
        raise ResponseRefused(
            f"authenticated at SpidL{level}, below the requested SpidL{pending.level}",
            user_message=ANOMALY_MESSAGES["20"],
        )

    attribute_statement = _one(assertion, "saml:AttributeStatement", "AttributeStatement")
    if not attribute_statement.findall("saml:Attribute", NS):
        raise ResponseRefused("AttributeStatement without attributes", status=400)
    return assertion, level, not_after


def response_validate(
    *,
    xml: bytes,
    request_data: dict,
    sp: ServiceProvider,
    idp: IdentityProvider,
    pending: PendingRequest,
    now: dt.datetime | None = None,
) -> Identity:
    """The identity asserted by a valid Response, or ResponseRefused."""
    now = now or dt.datetime.now(dt.UTC)
    response_status_check(xml)
    settings = _saml_settings(sp, idp)
    try:
        response = OneLogin_Saml2_Response(settings, base64.b64encode(xml).decode())
        response.is_valid(request_data, request_id=pending.request_id, raise_exceptions=True)
    except (OneLogin_Saml2_ValidationError, OneLogin_Saml2_Error) as exc:
        raise ResponseRefused(f"python3-saml: {exc}") from exc
    except Exception as exc:  # malformed input can surface as lxml/xmlsec errors
        raise ResponseRefused(f"unreadable response: {exc!r}", status=400) from exc

    assertion, level, not_after = _spid_checks(response.document, sp=sp, idp=idp, pending=pending, now=now)
    # Attributes come from python3-saml, which reads them from the signed assertion only.
    attributes = response.get_attributes()

    def first(name: str) -> str:
        values = attributes.get(name) or [""]
        return (values[0] or "").strip()

    fiscal_number = first("fiscalNumber").upper()
    cf = fiscal_number.removeprefix("TINIT-")
    if not fiscal_number.startswith("TINIT-") or not codicefiscale.is_valid(cf):
        raise ResponseRefused(f"fiscalNumber {fiscal_number!r} is not TINIT-<codice fiscale>", status=400)
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    return Identity(
        codice_fiscale=cf,
        first_name=first("name"),
        last_name=first("familyName"),
        email=first("email"),
        name_id=(name_id.text or "").strip(),
        name_id_format=name_id.get("Format", ""),
        name_qualifier=name_id.get("NameQualifier", ""),
        session_index=response.get_session_index() or "",
        level=level,
        idp_entity_id=idp.entity_id,
        assertion_id=assertion.get("ID", ""),
        not_on_or_after=not_after,
    )
