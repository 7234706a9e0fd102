"""A comune's Service Provider for one protocol (SPID or CIE), as seen from a request.

The entityID, ACS and SLO live under the comune's own host, so each comune is
its own SP: `<scheme>://<host>/accesso/<kind>/metadata/` and friends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from django.http import HttpRequest

from identity.http import TenantRequest
from identity.spid.keys import Credentials, SpidNotConfigured, credentials_load
from tenants.models import Comune

SPID = "spid"
CIE = "cie"
LEVEL_URIS = {level: f"https://www.spid.gov.it/SpidL{level}" for level in (1, 2, 3)}
CADASTRAL_IPA_RE = re.compile(r"^c_([a-z]\d{3})$")


def base_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


@dataclass(frozen=True)
class ServiceProvider:
    kind: str
    comune: Comune
    base_url: str

    @classmethod
    def for_request(cls, request: TenantRequest, kind: str) -> ServiceProvider:
        return cls(kind=kind, comune=request.tenant, base_url=base_url(request))

    def url(self, name: str) -> str:
        return f"{self.base_url}/accesso/{self.kind}/{name}/"

    @property
    def entity_id(self) -> str:
        return self.url("metadata")

    @property
    def acs_url(self) -> str:
        return self.url("acs")

    @property
    def slo_url(self) -> str:
        return self.url("slo")

    @property
    def level(self) -> int:
        return self.comune.settings.identity.spid_level

    @property
    def level_uri(self) -> str:
        return LEVEL_URIS[self.level]

    @cached_property
    def credentials(self) -> Credentials:
        return credentials_load(self.comune.schema_name, self.kind)

    @property
    def ipa_code(self) -> str:
        code = self.comune.settings.ipa_code
        if not code:
            raise SpidNotConfigured(
                f"{self.comune.slug}.yaml: ipa_code: required by SPID/CIE "
                "(the comune's code in the Indice PA, e.g. c_h509)"
            )
        return code

    @property
    def contact_email(self) -> str:
        contacts = self.comune.settings.contacts
        email = contacts.email or contacts.pec
        if not email:
            raise SpidNotConfigured(
                f"{self.comune.slug}.yaml: contacts.email: required by SPID/CIE metadata (ContactPerson)"
            )
        return str(email)

    @property
    def contact_phone(self) -> str | None:
        """The phone in the international form AgID asks for (+39 and digits, no spaces)."""
        phone = self.comune.settings.contacts.phone
        if not phone:
            return None
        digits = re.sub(r"\D", "", phone)
        return f"+{digits}" if phone.strip().startswith("+") else f"+39{digits}"

    @property
    def cadastral_code(self) -> str:
        """The comune's codice catastale (CIE's Municipality), read from its IPA code `c_<code>`."""
        match = CADASTRAL_IPA_RE.match(self.ipa_code.lower())
        if not match:
            raise SpidNotConfigured(
                f"{self.comune.slug}.yaml: ipa_code: {self.ipa_code!r} is not of the form c_<codice "
                "catastale>, needed for CIE's Municipality"
            )
        return match.group(1).upper()


def service_provider_check(sp: ServiceProvider) -> None:
    """Raise SpidNotConfigured naming what is missing before anything is served."""
    _ = sp.ipa_code, sp.contact_email, sp.credentials
    if sp.kind == CIE:
        _ = sp.cadastral_code
