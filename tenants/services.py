"""Writes on comuni: apply a validated config, suspend, resume.

`comune_apply_config` is what `sync_tenants`, the operators' console and the
tests call. It is idempotent: applying the same config twice changes nothing
the second time, and it never deletes a comune, a host or a service.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_context

from core.services import audit_record
from tenants.config import ComuneConfig, ConfigError
from tenants.models import Comune, Domain


@dataclass
class ApplyResult:
    comune: Comune
    created: bool = False
    changes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.created or bool(self.changes)


def _config_hash(cfg: ComuneConfig) -> str:
    payload = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _comune_fields(cfg: ComuneConfig) -> dict[str, Any]:
    return {
        "name": cfg.name,
        "kind": cfg.kind,
        "province": cfg.province,
        "province_code": cfg.province_code or "",
        "cap": cfg.cap or "",
        "codice_fiscale": cfg.codice_fiscale or "",
        "partita_iva": cfg.partita_iva or "",
        "ipa_code": cfg.ipa_code or "",
        "config": cfg.model_dump(mode="json"),
    }


def host_cache_key(hostname: str) -> str:
    return f"comune-by-host:{hostname}"


def _forget_hosts(hosts: list[str]) -> None:
    # The middleware caches host -> comune; keys are made in the public schema.
    with schema_context(get_public_schema_name()):
        cache.delete_many([host_cache_key(h) for h in hosts])


def _check_hosts_free(cfg: ComuneConfig) -> None:
    taken = (
        Domain.objects.filter(domain__in=cfg.hosts).exclude(tenant__slug=cfg.slug).select_related("tenant")
    )
    problems = [f"{cfg.slug}: hosts: {d.domain!r} is already served by {d.tenant.slug}" for d in taken]
    if problems:
        raise ConfigError(problems)


def comune_apply_config(*, config: ComuneConfig, by: Any = None) -> ApplyResult:
    """Create or update the comune described by `config`, its hosts and catalogue."""
    from enrollment.services import service_catalogue_sync

    started = time.perf_counter()
    connection.set_schema_to_public()
    _check_hosts_free(config)
    new_hash = _config_hash(config)
    with transaction.atomic():
        comune = Comune.objects.select_for_update().filter(slug=config.slug).first()
        created = comune is None
        changes: list[str] = []
        if created:
            # save() clones the template schema (see tenants/provisioning.py).
            comune = Comune(slug=config.slug, schema_name=config.schema_name, **_comune_fields(config))
            comune.config_hash = new_hash
            comune.save()
        elif comune.config_hash != new_hash:
            for name, value in _comune_fields(config).items():
                if getattr(comune, name) != value:
                    changes.append(name)
                    setattr(comune, name, value)
            comune.config_hash = new_hash
            comune.save()
        existing = set(comune.domains.values_list("domain", flat=True))
        for i, host in enumerate(config.hosts):
            if host not in existing:
                Domain.objects.create(domain=host, tenant=comune, is_primary=(i == 0 and not existing))
                changes.append(f"host {host}")
        if created or changes:
            audit_record(
                action="comune.created" if created else "comune.config_updated",
                actor=by,
                obj=comune,
                data={"changes": changes},
            )
    with schema_context(comune.schema_name):
        changes.extend(service_catalogue_sync(services=config.services))
    connection.set_schema_to_public()
    _forget_hosts(config.hosts)
    return ApplyResult(comune=comune, created=created, changes=changes, seconds=time.perf_counter() - started)


def comune_suspend(*, comune: Comune, reason: str, by: Any = None) -> Comune:
    if not reason.strip():
        raise ValueError("A reason is required to suspend a comune.")
    with schema_context(get_public_schema_name()), transaction.atomic():
        comune.status = Comune.Status.SUSPENDED
        comune.suspended_reason = reason.strip()
        comune.save(update_fields=["status", "suspended_reason", "updated_at"])
        audit_record(action="comune.suspended", actor=by, obj=comune, message=reason)
    _forget_hosts(list(comune.domains.values_list("domain", flat=True)))
    return comune


def comune_resume(*, comune: Comune, by: Any = None) -> Comune:
    with schema_context(get_public_schema_name()), transaction.atomic():
        comune.status = Comune.Status.ACTIVE
        comune.suspended_reason = ""
        comune.save(update_fields=["status", "suspended_reason", "updated_at"])
        audit_record(action="comune.resumed", actor=by, obj=comune)
    _forget_hosts(list(comune.domains.values_list("domain", flat=True)))
    return comune
