"""A catalogue service's definition, read from what the catalogue stores.

`Service.definition` holds `tenants.service_definition.ServiceDefinition` as
JSON, written by the catalogue sync from the comune's YAML (and by staff
edits in the back office). Everything that derives from a definition (the
form, answers, ranking, fees, exports, the API) reads it through here.
"""

from __future__ import annotations

from collections.abc import Iterable

from enrollment.models import Service
from tenants.service_definition import ServiceDefinition

_CACHE_ATTR = "_definition_cache"


def service_definition(service: Service) -> ServiceDefinition:
    """The parsed definition of `service`; parsed once per instance and version."""
    cached = getattr(service, _CACHE_ATTR, None)
    if cached is not None and cached[0] == service.definition_version:
        return cached[1]
    definition = ServiceDefinition.model_validate(service.definition or {})
    setattr(service, _CACHE_ATTR, (service.definition_version, definition))
    return definition


def service_definitions_share(services: Iterable[Service]) -> None:
    """Parse once per service and version for many instances of the same rows.

    A bulk read gives each enrollment its own `Service` instance; afterwards
    `service_definition` of any of them runs no parse. The version is a hash
    of the definition, so instances with the same one hold the same text.
    """
    parsed: dict[tuple[int, str], ServiceDefinition] = {}
    for service in services:
        key = (service.pk, service.definition_version)
        if key in parsed:
            setattr(service, _CACHE_ATTR, (service.definition_version, parsed[key]))
        else:
            parsed[key] = service_definition(service)


def definition_json(definition: ServiceDefinition) -> dict:
    """What `Service.definition` stores for `definition`."""
    return definition.model_dump(mode="json", exclude_defaults=True)
