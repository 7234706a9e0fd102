"""The Identity Providers a comune's SP trusts.

Trusted are exactly: the IdPs of the registry file kept in the repository
(`identity/spid/idps/registry.json`, refreshed from AgID's metadata by
`manage.py spid_idps_refresh`), plus the development demo IdP when it is
enabled (DEBUG only), plus spid-sp-test's IdP while `make spid-test` runs
(`SPID_TEST_IDP_METADATA`). Anything else is refused at login start and at
the ACS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest
from lxml import etree

from identity.spid.sp import base_url

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
NS = {"md": MD_NS, "ds": DS_NS}
DEMO_IDP_PATH = "/spid-demo-idp/"


@dataclass(frozen=True)
class IdentityProvider:
    name: str
    entity_id: str
    sso_url: str
    slo_url: str = ""
    certificates: tuple[str, ...] = field(default=())
    demo: bool = False

    @property
    def usable(self) -> bool:
        """An IdP without a signing certificate cannot be verified, so it is not offered."""
        return bool(self.certificates and self.sso_url)


def _registry_path() -> Path:
    return Path(settings.SPID_IDP_REGISTRY)


def registry_read(path: Path | None = None) -> dict[str, list[dict]]:
    return json.loads((path or _registry_path()).read_text(encoding="utf-8"))


def _from_entry(entry: dict) -> IdentityProvider:
    return IdentityProvider(
        name=entry["name"],
        entity_id=entry["entity_id"],
        sso_url=entry.get("sso_url", ""),
        slo_url=entry.get("slo_url", ""),
        certificates=tuple(entry.get("certificates", ())),
    )


def demo_idp_enabled() -> bool:
    return bool(settings.DEBUG and settings.SPID_DEMO_IDP)


def demo_idp(request: HttpRequest) -> IdentityProvider:
    from identity.spid.demo_idp.keys import demo_idp_credentials

    root = f"{base_url(request)}{DEMO_IDP_PATH}"
    return IdentityProvider(
        name="IdP dimostrativo (solo sviluppo)",
        entity_id=f"{root}metadata/",
        sso_url=f"{root}sso/",
        slo_url=f"{root}slo/",
        certificates=(demo_idp_credentials().cert_base64,),
        demo=True,
    )


def _text(node: etree._Element) -> str:
    return "".join((node.text or "").split())


def idps_from_metadata(xml: bytes) -> list[IdentityProvider]:
    """Every IdP described by a metadata document (an EntityDescriptor or EntitiesDescriptor)."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    entities = (
        [root] if root.tag == f"{{{MD_NS}}}EntityDescriptor" else root.iter(f"{{{MD_NS}}}EntityDescriptor")
    )
    found = []
    for entity in entities:
        idp = entity.find("md:IDPSSODescriptor", NS)
        if idp is None:
            continue

        def location(tag: str, idp: etree._Element = idp) -> str:
            nodes = idp.findall(f"md:{tag}", NS)
            for binding in (BINDING_REDIRECT, BINDING_POST):
                for node in nodes:
                    if node.get("Binding") == binding:
                        return node.get("Location", "")
            return ""

        certs = tuple(
            _text(node)
            for kd in idp.findall("md:KeyDescriptor", NS)
            if kd.get("use") in (None, "signing")
            for node in kd.iterfind(".//ds:X509Certificate", NS)
        )
        names = entity.findall("md:Organization/md:OrganizationDisplayName", NS)
        name = next(
            (n.text for n in names if n.get("{http://www.w3.org/XML/1998/namespace}lang") == "it"), None
        )
        name = name or (names[0].text if names else entity.get("entityID"))
        found.append(
            IdentityProvider(
                name=(name or "").strip(),
                entity_id=entity.get("entityID", ""),
                sso_url=location("SingleSignOnService"),
                slo_url=location("SingleLogoutService"),
                certificates=certs,
            )
        )
    return found


def _test_idps() -> list[IdentityProvider]:
    path = settings.SPID_TEST_IDP_METADATA
    if not path:
        return []
    return idps_from_metadata(Path(path).read_bytes())


def offered_idps(request: HttpRequest, kind: str) -> list[IdentityProvider]:
    """The IdPs shown in the button's menu: the registry's, then the test and demo IdPs when on."""
    idps = [_from_entry(e) for e in registry_read().get(kind, [])]
    idps += _test_idps()
    if demo_idp_enabled():
        idps.append(demo_idp(request))
    return idps


def idp_lookup(request: HttpRequest, kind: str, entity_id: str) -> IdentityProvider | None:
    """The trusted IdP with this entityID: offered here and with a certificate to verify it."""
    return next(
        (idp for idp in offered_idps(request, kind) if idp.entity_id == entity_id and idp.usable), None
    )
