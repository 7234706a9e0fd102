"""A development-only SPID/CIE Identity Provider on the comune's own host.

It answers 404 unless DEBUG and SPID_DEMO_IDP are both on (never in
production settings). It checks the SP's signed AuthnRequest like a real
IdP, lets the person pick a test identity, and posts a signed Response to
the SP's ACS.
"""

from __future__ import annotations

import base64
import datetime as dt
import zlib
from urllib.parse import parse_qs

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods
from lxml import etree
from lxml.builder import ElementMaker

from identity.http import TenantRequest
from identity.spid.authn import SAML_NS, SAMLP_NS
from identity.spid.demo_idp.identities import DEMO_IDENTITIES, demo_identity
from identity.spid.demo_idp.keys import demo_idp_credentials
from identity.spid.demo_idp.responses import ResponseSpec, response_build
from identity.spid.keys import SpidNotConfigured
from identity.spid.registry import BINDING_POST, BINDING_REDIRECT, DS_NS, MD_NS, demo_idp, demo_idp_enabled
from identity.spid.slo import redirect_signature_valid
from identity.spid.sp import CIE, LEVEL_URIS, SPID, ServiceProvider

NS = {"samlp": SAMLP_NS, "saml": SAML_NS}
LEVELS = {uri: level for level, uri in LEVEL_URIS.items()}


def _enabled() -> None:
    if not demo_idp_enabled():
        raise Http404


@require_GET
def metadata(request: TenantRequest) -> HttpResponse:
    _enabled()
    idp = demo_idp(request)
    md = ElementMaker(namespace=MD_NS, nsmap={"md": MD_NS, "ds": DS_NS})
    ds = ElementMaker(namespace=DS_NS)
    xml = md.EntityDescriptor(
        md.IDPSSODescriptor(
            md.KeyDescriptor(ds.KeyInfo(ds.X509Data(ds.X509Certificate(idp.certificates[0]))), use="signing"),
            md.SingleLogoutService(Binding=BINDING_REDIRECT, Location=idp.slo_url),
            md.SingleSignOnService(Binding=BINDING_REDIRECT, Location=idp.sso_url),
            md.SingleSignOnService(Binding=BINDING_POST, Location=idp.sso_url),
            protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
            WantAuthnRequestsSigned="true",
        ),
        entityID=idp.entity_id,
    )
    return HttpResponse(etree.tostring(xml), content_type="application/samlmetadata+xml")


def _authn_request(request: TenantRequest, query: str) -> tuple[etree._Element, ServiceProvider]:
    """The AuthnRequest of `query` if one of this comune's SPs signed it; else 400."""
    params = {k: v[0] for k, v in parse_qs(query).items()}
    try:
        xml = zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15)
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except (KeyError, ValueError, zlib.error, etree.XMLSyntaxError) as exc:
        raise _BadRequest("richiesta SAML illeggibile") from exc
    issuer = (root.findtext("saml:Issuer", default="", namespaces=NS) or "").strip()
    for kind in (SPID, CIE):
        sp = ServiceProvider.for_request(request, kind)
        if sp.entity_id == issuer:
            try:
                certificates = (sp.credentials.cert_base64,)
            except SpidNotConfigured as exc:
                raise _BadRequest(str(exc)) from exc
            if not redirect_signature_valid(query, certificates):
                raise _BadRequest("firma della richiesta non valida")
            return root, sp
    raise _BadRequest(f"fornitore di servizi sconosciuto: {issuer}")


class _BadRequest(Exception):
    pass


@require_http_methods(["GET", "POST"])
def sso(request: TenantRequest) -> HttpResponse:
    _enabled()
    query = (
        request.POST.get("query", "") if request.method == "POST" else request.META.get("QUERY_STRING", "")
    )
    try:
        authn_request, sp = _authn_request(request, query)
    except _BadRequest as exc:
        return HttpResponseBadRequest(f"IdP dimostrativo: {exc}", content_type="text/plain; charset=utf-8")
    relay_state = parse_qs(query).get("RelayState", [""])[0]
    requested = authn_request.findtext(
        "samlp:RequestedAuthnContext/saml:AuthnContextClassRef", default="", namespaces=NS
    )
    level = LEVELS.get(requested.strip(), 2)
    if request.method == "GET":
        context = {"identities": DEMO_IDENTITIES, "query": query, "sp": sp, "level": level}
        return render(request, "spid_demo_idp/login.html", context)
    idp = demo_idp(request)
    spec = ResponseSpec(
        idp_entity_id=idp.entity_id,
        sp_entity_id=sp.entity_id,
        acs_url=sp.acs_url,
        in_response_to=authn_request.get("ID", ""),
        attributes={},
        level=level,
        now=dt.datetime.now(dt.UTC),
    )
    person = demo_identity(request.POST.get("identity", ""))
    if "cancel" in request.POST or person is None:
        spec.status = "urn:oasis:names:tc:SAML:2.0:status:Responder"
        spec.status_message = "ErrorCode nr25"
    else:
        attributes = person.attributes
        if sp.kind == CIE:
            attributes.pop("email")  # CIE does not release an e-mail address
        spec.attributes = attributes
    xml = response_build(spec, demo_idp_credentials())
    context = {
        "acs_url": sp.acs_url,
        "saml_response": base64.b64encode(xml).decode(),
        "relay_state": relay_state,
    }
    return render(request, "spid_demo_idp/post.html", context)


@require_GET
def slo(request: TenantRequest) -> HttpResponse:
    """The demo IdP closes its (stateless) session and goes back to the comune's home."""
    _enabled()
    return render(request, "spid_demo_idp/logged_out.html")
