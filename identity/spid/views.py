"""SPID and CIE endpoints of a comune's SP: metadata, login start, ACS, SLO.

The same views serve both protocols; `kind` comes from the URL mount
(`/accesso/spid/...` or `/accesso/cie/...`). A comune that has not enabled
the protocol answers 404 on all of them.
"""

from __future__ import annotations

import base64
import logging
import secrets
import zlib
from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lxml import etree

from identity.backends import backend_enabled
from identity.http import TenantRequest
from identity.services import safe_next_url
from identity.spid import authn
from identity.spid.keys import SpidNotConfigured
from identity.spid.metadata import metadata_build
from identity.spid.registry import idp_lookup, offered_idps
from identity.spid.services import SESSION_KEY, saml_login_complete, saml_logout
from identity.spid.slo import (
    logout_request_url,
    logout_response_url,
    redirect_signature_valid,
    slo_message_issuer,
    slo_name_id,
)
from identity.spid.sp import CIE, ServiceProvider, service_provider_check
from identity.spid.validation import (
    ResponseRefused,
    response_decode,
    response_issuer,
    response_validate,
)

logger = logging.getLogger("identity.spid")
LABELS = {"spid": "SPID", "cie": "CIE"}


def enabled_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 before anything else (method checks included) where the comune has not enabled `kind`."""

    @wraps(view)
    def wrapper(request: TenantRequest, kind: str) -> HttpResponse:
        if not backend_enabled(request.tenant, kind):
            raise Http404
        return view(request, kind)

    return wrapper


def _sp(request: TenantRequest, kind: str) -> ServiceProvider:
    return ServiceProvider.for_request(request, kind)


def error_page(request: TenantRequest, *, kind: str, reason: str, message: str, status: int) -> HttpResponse:
    """The Italian error page with a reference code; the detail goes to the log only."""
    reference = f"{kind.upper()}-{secrets.token_hex(4).upper()}"
    logger.warning(
        "%s login refused ref=%s comune=%s reason=%s", kind, reference, request.tenant.schema_name, reason
    )
    context = {"kind_label": LABELS[kind], "message": message, "reference": reference}
    return render(request, "spid/error.html", context, status=status)


def _not_configured(request: TenantRequest, kind: str, exc: SpidNotConfigured) -> HttpResponse:
    return error_page(
        request,
        kind=kind,
        reason=f"not configured: {exc}",
        message=f"L'accesso con {LABELS[kind]} non è al momento disponibile per questo comune.",
        status=503,
    )


@enabled_only
@require_GET
def metadata(request: TenantRequest, kind: str) -> HttpResponse:
    sp = _sp(request, kind)
    try:
        service_provider_check(sp)
        xml = metadata_build(sp)
    except SpidNotConfigured as exc:
        return _not_configured(request, kind, exc)
    return HttpResponse(xml, content_type="application/samlmetadata+xml; charset=utf-8")


@enabled_only
@require_GET
def login(request: TenantRequest, kind: str) -> HttpResponse:
    sp = _sp(request, kind)
    try:
        service_provider_check(sp)
    except SpidNotConfigured as exc:
        return _not_configured(request, kind, exc)
    entity_id = request.GET.get("idp", "")
    if not entity_id and kind == CIE:
        # CIE has one IdP (the Ministry's; the demo one in development).
        usable = [i for i in offered_idps(request, kind) if i.usable]
        entity_id = usable[-1].entity_id if usable else ""
    idp = idp_lookup(request, kind, entity_id)
    if idp is None:
        known = any(i.entity_id == entity_id for i in offered_idps(request, kind))
        return error_page(
            request,
            kind=kind,
            reason=f"idp {entity_id!r} {'has no certificate' if known else 'not trusted'}",
            message=(
                "Il gestore dell'identità digitale scelto non è al momento disponibile."
                + (" Scegline un altro." if kind != CIE else " Riprova più tardi.")
                if known
                else "Scegli il tuo gestore dell'identità digitale dall'elenco del pulsante "
                f"«Entra con {LABELS[kind]}»."
            ),
            status=400,
        )
    url, _pending, token = authn.authn_start(
        request=request, sp=sp, idp=idp, next_url=safe_next_url(request, default="")
    )
    response = HttpResponseRedirect(url)
    authn.binding_cookie_set(request, response, token)
    return response


def _request_data(request: HttpRequest) -> dict:
    return {
        "https": "on" if request.is_secure() else "off",
        "http_host": request.get_host(),
        "script_name": request.path,
        "get_data": {},
        "post_data": request.POST.dict(),
    }


def _in_response_to(xml: bytes) -> str:
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    return root.get("InResponseTo", "")


# The IdP posts here from its own site: there is no CSRF token to check; the
# signed response, bound to a request this browser started, is the proof.
@csrf_exempt
@enabled_only
@require_POST
def acs(request: TenantRequest, kind: str) -> HttpResponse:
    sp = _sp(request, kind)
    try:
        service_provider_check(sp)
    except SpidNotConfigured as exc:
        return _not_configured(request, kind, exc)
    try:
        xml = response_decode(request.POST.get("SAMLResponse", ""))
        issuer = response_issuer(xml)
        idp = idp_lookup(request, kind, issuer)
        if idp is None:
            raise ResponseRefused(f"issuer {issuer!r} is not a trusted IdP")
        pending = authn.pending_for(request, _in_response_to(xml))
        if pending is None or pending.kind != kind:
            raise ResponseRefused("InResponseTo is not a request started in this browser")
        if pending.idp_entity_id != idp.entity_id:
            raise ResponseRefused(f"answer from {idp.entity_id}, request sent to {pending.idp_entity_id}")
        identity = response_validate(
            xml=xml, request_data=_request_data(request), sp=sp, idp=idp, pending=pending
        )
        destination = saml_login_complete(request=request, identity=identity, pending=pending, kind=kind)
    except ResponseRefused as exc:
        return error_page(request, kind=kind, reason=exc.reason, message=exc.user_message, status=exc.status)
    response = HttpResponseRedirect(destination)
    response.delete_cookie(authn.BINDING_COOKIE, path="/accesso/")
    return response


def _decode_redirect_message(value: str) -> bytes:
    return zlib.decompress(base64.b64decode(value), -15)


@enabled_only
@require_http_methods(["GET", "POST"])
def slo(request: TenantRequest, kind: str) -> HttpResponse:
    """Single Logout: POST starts it from our logout button; GET receives the IdP's messages."""
    sp = _sp(request, kind)
    if request.method == "POST":
        saml_session = request.session.get(SESSION_KEY)
        idp = idp_lookup(request, kind, saml_session["idp"]) if saml_session else None
        saml_logout(request=request)
        if idp is None or not idp.slo_url or saml_session is None:
            return HttpResponseRedirect("/")
        return HttpResponseRedirect(logout_request_url(sp=sp, idp=idp, saml_session=saml_session))
    if "SAMLResponse" in request.GET:
        # The IdP confirms the logout we asked for; the local session is already gone.
        return render(request, "spid/logged_out.html", {"kind_label": LABELS[kind]})
    if "SAMLRequest" in request.GET:
        try:
            xml = _decode_redirect_message(request.GET["SAMLRequest"])
            idp = idp_lookup(request, kind, slo_message_issuer(xml))
        except (ValueError, zlib.error, etree.XMLSyntaxError):
            idp = None
        if idp is None or not redirect_signature_valid(
            request.META.get("QUERY_STRING", ""), idp.certificates
        ):
            return error_page(
                request,
                kind=kind,
                reason="logout request unreadable, unsigned or from an untrusted sender",
                message="Richiesta di uscita non valida.",
                status=400,
            )
        # Only the session this IdP opened for this NameID ends; a logout for
        # someone else is answered but changes nothing here.
        saml_session = request.session.get(SESSION_KEY) or {}
        if saml_session.get("idp") == idp.entity_id and saml_session.get("name_id") == slo_name_id(xml):
            saml_logout(request=request)
        return HttpResponseRedirect(logout_response_url(sp=sp, idp=idp, request_xml=xml))
    return HttpResponseRedirect("/")
