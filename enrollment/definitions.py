"""A catalogue service's definition, read from what the catalogue stores.

`Service.definition` holds `tenants.service_definition.ServiceDefinition` as
JSON, written by the catalogue sync from the comune's YAML (and by staff
edits in the back office). Everything that derives from a definition (the
form, answers, ranking, fees, exports, the API) reads it through here.
"""

from __future__ import annotations

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


def definition_json(definition: ServiceDefinition) -> dict:
    """What `Service.definition` stores for `definition`."""
    return definition.model_dump(mode="json", exclude_defaults=True)
