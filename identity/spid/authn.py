"""AuthnRequests (Regole tecniche SPID) and the requests we are waiting answers for.

An AuthnRequest is sent with the HTTP-Redirect binding, signed on the query
string (RSA-SHA256). It carries Issuer with Format and NameQualifier, a
transient NameIDPolicy without AllowCreate, RequestedAuthnContext "minimum"
at the comune's level (ForceAuthn from L2), and the indexes of our ACS and
AttributeConsumingService.

Pending requests live in the cache (keys are prefixed per comune schema),
bound to the browser by a random token in a cookie scoped to `/accesso/`.
The Django session cookie is SameSite=Lax, so browsers do not send it on
the IdP's cross-site POST to the ACS; the binding cookie is SameSite=None
(Secure) on https for that reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import uuid
import zlib
from dataclasses import asdict, dataclass
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from lxml import etree
from lxml.builder import ElementMaker

from identity.spid.registry import IdentityProvider
from identity.spid.sp import ServiceProvider

SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ENTITY_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
SIG_ALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
BINDING_COOKIE = "spid_authn"
PENDING_TTL = 15 * 60


def saml_instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PendingRequest:
    request_id: str
    kind: str
    idp_entity_id: str
    level: int
    issued_at: str
    browser: str  # sha256 of the binding token, never the token itself
    next_url: str


def _pending_key(request_id: str) -> str:
    return f"spid:pending:{request_id}"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authn_request_xml(
    *, sp: ServiceProvider, idp: IdentityProvider, request_id: str, issued_at: str
) -> bytes:
    samlp = ElementMaker(namespace=SAMLP_NS, nsmap={"samlp": SAMLP_NS, "saml": SAML_NS})
    saml = ElementMaker(namespace=SAML_NS)
    attrs = {
        "ID": request_id,
        "Version": "2.0",
        "IssueInstant": issued_at,
        "Destination": idp.sso_url,
        "AssertionConsumerServiceIndex": "0",
        "AttributeConsumingServiceIndex": "0",
    }
    if sp.level > 1:
        attrs["ForceAuthn"] = "true"
    root = samlp.AuthnRequest(
        saml.Issuer(sp.entity_id, Format=ENTITY_FORMAT, NameQualifier=sp.entity_id),
        samlp.NameIDPolicy(Format=TRANSIENT),
        samlp.RequestedAuthnContext(saml.AuthnContextClassRef(sp.level_uri), Comparison="minimum"),
        **attrs,
    )
    return etree.tostring(root, encoding="utf-8")


def signed_redirect_url(
    *, sp: ServiceProvider, url: str, xml: bytes, relay_state: str = "", message: str = "SAMLRequest"
) -> str:
    """`url` with the deflated message, RelayState and the query signature (HTTP-Redirect binding)."""
    deflated = zlib.compress(xml)[2:-4]  # raw DEFLATE (RFC 1951), as the binding requires
    query = f"{message}={quote(base64.b64encode(deflated).decode(), safe='')}"
    if relay_state:
        query += f"&RelayState={quote(relay_state, safe='')}"
    query += f"&SigAlg={quote(SIG_ALG, safe='')}"
    key = serialization.load_pem_private_key(sp.credentials.key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):  # SPID signs with RSA-SHA256 only
        raise TypeError("the SP key must be an RSA key")
    signature = key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{query}&Signature={quote(base64.b64encode(signature).decode(), safe='')}"


def authn_start(
    *, request: HttpRequest, sp: ServiceProvider, idp: IdentityProvider, next_url: str
) -> tuple[str, PendingRequest, str]:
    """Build and remember an AuthnRequest. Returns (IdP URL, pending request, browser token)."""
    request_id = f"_{uuid.uuid4().hex}"
    issued_at = saml_instant(dt.datetime.now(dt.UTC))
    token = secrets.token_urlsafe(32)
    # RelayState is opaque (Regole tecniche: not intelligible): a random handle.
    relay_state = secrets.token_urlsafe(16)
    pending = PendingRequest(
        request_id=request_id,
        kind=sp.kind,
        idp_entity_id=idp.entity_id,
        level=sp.level,
        issued_at=issued_at,
        browser=_token_digest(token),
        next_url=next_url,
    )
    cache.set(_pending_key(request_id), asdict(pending), PENDING_TTL)
    xml = authn_request_xml(sp=sp, idp=idp, request_id=request_id, issued_at=issued_at)
    return signed_redirect_url(sp=sp, url=idp.sso_url, xml=xml, relay_state=relay_state), pending, token


def binding_cookie_set(request: HttpRequest, response: HttpResponse, token: str) -> None:
    secure = request.is_secure()
    response.set_cookie(
        BINDING_COOKIE,
        token,
        max_age=PENDING_TTL,
        path="/accesso/",
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )


def pending_for(request: HttpRequest, request_id: str) -> PendingRequest | None:
    """The pending request `request_id` if this browser started it, else None."""
    if not request_id:
        return None
    data = cache.get(_pending_key(request_id))
    token = request.COOKIES.get(BINDING_COOKIE, "")
    if not data or not token:
        return None
    pending = PendingRequest(**data)
    if not hmac.compare_digest(pending.browser, _token_digest(token)):
        return None
    return pending


def pending_consume(pending: PendingRequest) -> bool:
    """Forget the request: an answer to it is accepted once. False if already consumed."""
    return bool(cache.delete(_pending_key(pending.request_id)))
