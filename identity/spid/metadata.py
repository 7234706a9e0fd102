"""Signed SAML metadata of a comune's SP: SPID (Avviso SPID n.19 v4) and CIE.

SPID: one signing KeyDescriptor, SLO, transient NameIDFormat, ACS index 0
(default, HTTP-POST), AttributeConsumingService index 0, Organization in
Italian, ContactPerson "other" with spid:IPACode and spid:Public.
CIE (manuale operativo CIE per i fornitori di servizi): the same SP part with
CIE's attributes, ContactPerson "administrative" with cie:Public,
cie:IPACode and cie:Municipality.
"""

from __future__ import annotations

import uuid

from lxml import etree
from lxml.builder import ElementMaker
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from identity.spid.registry import BINDING_POST, BINDING_REDIRECT, DS_NS, MD_NS
from identity.spid.sp import CIE, ServiceProvider

SPID_NS = "https://spid.gov.it/saml-extensions"
CIE_NS = "https://www.cartaidentita.interno.gov.it/saml-extensions"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
ATTRNAME_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
SERVICE_NAME = "Iscrizioni ai servizi scolastici"

# The attributes we ask for. fiscalNumber identifies the parent; name and
# familyName fill the account; email (SPID only: CIE does not release it)
# prefills "Verifica Email"; dateOfBirth is optional.
SPID_ATTRIBUTES = ("fiscalNumber", "name", "familyName", "email", "dateOfBirth")
CIE_ATTRIBUTES = ("fiscalNumber", "name", "familyName", "dateOfBirth")


def requested_attributes(kind: str) -> tuple[str, ...]:
    return CIE_ATTRIBUTES if kind == CIE else SPID_ATTRIBUTES


def metadata_build(sp: ServiceProvider) -> bytes:
    """The SP's metadata, signed with its key (RSA-SHA256, SHA-256 digest)."""
    ext_ns = CIE_NS if sp.kind == CIE else SPID_NS
    ext_prefix = "cie" if sp.kind == CIE else "spid"
    md = ElementMaker(namespace=MD_NS, nsmap={"md": MD_NS, "ds": DS_NS, ext_prefix: ext_ns})
    ds = ElementMaker(namespace=DS_NS)
    ext = ElementMaker(namespace=ext_ns)
    comune = sp.comune
    display_name = comune.display_name

    def it(element: etree._Element) -> etree._Element:
        element.set(XML_LANG, "it")
        return element

    requested = [
        md.RequestedAttribute(Name=name, NameFormat=ATTRNAME_BASIC) for name in requested_attributes(sp.kind)
    ]
    spsso = md.SPSSODescriptor(
        md.KeyDescriptor(
            ds.KeyInfo(ds.X509Data(ds.X509Certificate(sp.credentials.cert_base64))), use="signing"
        ),
        md.SingleLogoutService(Binding=BINDING_REDIRECT, Location=sp.slo_url),
        md.NameIDFormat(TRANSIENT),
        md.AssertionConsumerService(index="0", isDefault="true", Binding=BINDING_POST, Location=sp.acs_url),
        md.AttributeConsumingService(it(md.ServiceName(SERVICE_NAME)), *requested, index="0"),
        protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
        AuthnRequestsSigned="true",
        WantAssertionsSigned="true",
    )
    organization = md.Organization(
        it(md.OrganizationName(display_name)),
        it(md.OrganizationDisplayName(display_name)),
        it(md.OrganizationURL(f"{sp.base_url}/")),
    )
    if sp.kind == CIE:
        extensions = md.Extensions(
            ext.Public(),
            ext.IPACode(sp.ipa_code),
            ext.Municipality(sp.cadastral_code),
            *([ext.Province(comune.province_code)] if comune.province_code else []),
            ext.Country("IT"),
        )
        contact_children = [extensions, md.Company(display_name), md.EmailAddress(sp.contact_email)]
        contact_type = "administrative"
    else:
        extensions = md.Extensions(ext.IPACode(sp.ipa_code), ext.Public())
        contact_children = [extensions, md.EmailAddress(sp.contact_email)]
        contact_type = "other"
    if sp.contact_phone:
        contact_children.append(md.TelephoneNumber(sp.contact_phone))
    entity = md.EntityDescriptor(
        spsso,
        organization,
        md.ContactPerson(*contact_children, contactType=contact_type),
        entityID=sp.entity_id,
        ID=f"_{uuid.uuid4().hex}",
    )
    xml = etree.tostring(entity, encoding="utf-8", xml_declaration=False)
    creds = sp.credentials
    signed = OneLogin_Saml2_Utils.add_sign(
        xml, creds.key_pem, creds.cert_pem, sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256
    )
    return signed if isinstance(signed, bytes) else signed.encode()
