"""Writes on the comune record and its hosts: save a validated config,
suspend, resume, attach or detach a host, drop.

Only what the tenants app owns: the operations that also reach into a
comune's schema (its catalogue, its first administrator, its data) are in
superadmin/operations.py, which builds on these.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context

from core.services import audit_record
from core.tenancy import to_public
from tenants import host_cache
from tenants.config import HOST_RE, ComuneConfig, ConfigError, config_dump
from tenants.models import Comune, Domain

HOST_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


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


# The cache of host -> comune (settings.CACHES["hosts"]).
HOSTS_CACHE = "hosts"


def host_cache_key(hostname: str) -> str:
    return f"comune-by-host:{hostname}"


def _forget_hosts(hosts: list[str]) -> None:
    # The middleware caches host -> comune (its keys are the public schema's, from any schema).
    caches[HOSTS_CACHE].delete_many([host_cache_key(h) for h in hosts])
    # Other processes forget them on the row's notification (tenants.host_cache).
    host_cache.forget_hosts(hosts)


def comune_catalogue_changed(*, schema_name: str) -> None:
    """Give the comune of `schema_name` a new catalogue version, in the caller's transaction.

    Called for every change of a service (enrollment.signals); what the portal
    caches of the catalogue is keyed by this version. The host cache holds the
    comune row with its version, so it is forgotten now (a cache in the
    database rolls back with the change) and again after the commit (a request
    in between may have cached the row as it was before).
    """
    with schema_context(get_public_schema_name()):
        Comune.objects.filter(schema_name=schema_name).update(catalogue_version=uuid.uuid4().hex)
        hosts = list(Domain.objects.filter(tenant__schema_name=schema_name).values_list("domain", flat=True))
    _forget_hosts(hosts)
    transaction.on_commit(lambda: _forget_hosts(hosts))


def _hosts_taken(cfg: ComuneConfig) -> list[str]:
    taken = (
        Domain.objects.filter(domain__in=cfg.hosts).exclude(tenant__slug=cfg.slug).select_related("tenant")
    )
    return [f"{cfg.slug}: hosts: {d.domain!r} è già usato da {d.tenant} ({d.tenant.slug})" for d in taken]


def host_problem(host: str) -> str | None:
    """Why `host` may not serve a comune, or None when it may.

    A comune lives at `<label>.<BASE_DOMAIN>`, or on one of the hosts the
    deployment explicitly allows (EXTRA_TENANT_DOMAINS, a comune's own domain).
    """
    host = host.strip().lower()
    if host in {h.lower() for h in settings.EXTRA_TENANT_DOMAINS}:
        return None
    base = settings.BASE_DOMAIN.lower()
    label, dot, rest = host.partition(".")
    if not (dot and rest == base and HOST_LABEL_RE.match(label)):
        return (
            f"{host!r} è fuori dal dominio base: usa <nome>.{base} "
            "oppure aggiungi l'host a EXTRA_TENANT_DOMAINS"
        )
    return None


def _check_hosts(cfg: ComuneConfig) -> None:
    """Every host problem at once: a host outside the base domain and one another comune uses."""
    problems = [f"{cfg.slug}: hosts: {p}" for p in map(host_problem, cfg.hosts) if p]
    problems += _hosts_taken(cfg)
    if problems:
        raise ConfigError(problems)


def comune_config_save(*, config: ComuneConfig, by: Any = None) -> ApplyResult:
    """Create or update the comune described by `config` and its hosts (public schema).

    Idempotent: saving the same config twice changes nothing the second time,
    and it never deletes a comune or a host. The catalogue inside the comune's
    schema is the enrollment app's: superadmin.operations.comune_apply_config
    saves both.
    """
    started = time.perf_counter()
    to_public()
    _check_hosts(config)
    new_hash = _config_hash(config)
    with transaction.atomic():
        comune = Comune.objects.select_for_update().filter(slug=config.slug).first()
        created = comune is None
        changes: list[str] = []
        if comune is None:
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


class ComuneError(Exception):
    """An operator's request on a comune that cannot be done; `message` is for the user."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def _hosts_in_config(comune: Comune, hosts: list[str]) -> None:
    # The stored config follows the hosts the operators attach or detach, so
    # an export to YAML describes the comune as it is served.
    cfg = ComuneConfig.model_validate({**comune.config, "hosts": hosts})
    comune.config = cfg.model_dump(mode="json")
    comune.config_hash = _config_hash(cfg)
    comune._settings_cache = None
    comune.save(update_fields=["config", "config_hash", "updated_at"])


def comune_domain_add(*, comune: Comune, host: str, by: Any = None) -> Domain:
    """Attach one more host to a comune (e.g. the comune's own domain)."""
    host = host.strip().lower()
    if not HOST_RE.match(host):
        raise ComuneError(f"«{host}» non è un nome host valido (esempio: iscrizioni.comune.esempio.it).")
    problem = host_problem(host)
    if problem:
        raise ComuneError(
            f"«{host}» non è sotto il dominio base {settings.BASE_DOMAIN} e non è tra gli host "
            "consentiti (EXTRA_TENANT_DOMAINS)."
        )
    with schema_context(get_public_schema_name()), transaction.atomic():
        comune = Comune.objects.select_for_update().get(pk=comune.pk)
        other = Domain.objects.filter(domain=host).select_related("tenant").first()
        if other is not None:
            owner = "questo comune" if other.tenant_id == comune.pk else other.tenant.display_name
            raise ComuneError(f"«{host}» è già servito da {owner}.")
        hosts = list(comune.domains.order_by("-is_primary", "id").values_list("domain", flat=True))
        domain = Domain.objects.create(domain=host, tenant=comune, is_primary=not hosts)
        _hosts_in_config(comune, [*hosts, host])
        audit_record(action="comune.host_added", actor=by, obj=comune, message=host)
    _forget_hosts([host])
    return domain


def comune_domain_remove(*, comune: Comune, host: str, by: Any = None) -> None:
    """Detach a host; a comune always keeps at least one."""
    with schema_context(get_public_schema_name()), transaction.atomic():
        comune = Comune.objects.select_for_update().get(pk=comune.pk)
        domains = list(comune.domains.order_by("-is_primary", "id"))
        target = next((d for d in domains if d.domain == host), None)
        if target is None:
            raise ComuneError(f"«{host}» non è un host di questo comune.")
        if len(domains) == 1:
            raise ComuneError(
                "Un comune deve avere almeno un host: aggiungine un altro prima di rimuovere questo."
            )
        target.delete()
        remaining = [d for d in domains if d.pk != target.pk]
        if target.is_primary:
            remaining[0].is_primary = True
            remaining[0].save(update_fields=["is_primary"])
        _hosts_in_config(comune, [d.domain for d in remaining])
        audit_record(action="comune.host_removed", actor=by, obj=comune, message=host)
    _forget_hosts([host])


def comune_url(comune: Comune, path: str = "/") -> str:
    host = comune.domains.order_by("-is_primary", "id").values_list("domain", flat=True).first()
    return settings.COMUNE_URL_TEMPLATE.format(host=host) + path


def comune_config_export(*, comune: Comune, by: Any = None) -> str:
    """The comune's current config as YAML (a tenant file); the export is audited."""
    with schema_context(get_public_schema_name()):
        audit_record(action="comune.config_exported", actor=by, obj=comune)
    return config_dump(comune.settings)


def comune_drop(
    *, comune: Comune, action: str, by: Any = None, message: str = "", data: dict[str, Any] | None = None
) -> None:
    """Drop the comune's schema, hosts and record, audited as `action`.

    Irreversible and with no export: callers decide when it may happen
    (superadmin.operations.comune_offboard exports first).
    """
    hosts = list(comune.domains.values_list("domain", flat=True))
    with schema_context(get_public_schema_name()), transaction.atomic():
        audit_record(action=action, actor=by, obj=comune, message=message, data=data)
        comune.domains.all().delete()
        comune.delete(force_drop=True)
        schema = comune.schema_name
        transaction.on_commit(lambda: _files_drop(schema))
    _forget_hosts(hosts)


def _files_drop(schema_name: str) -> None:
    """The comune's files on disk (uploads, stored PDFs) go with its dropped schema.

    After the commit only: a drop that fails keeps the schema, and so must keep
    the files its rows name. Each folder is named by the schema alone, so no
    other comune's files are reached.
    """
    if not schema_name or schema_name == get_public_schema_name():
        return  # never the parent folder of every comune's files
    for root in (settings.UPLOADS_DIR, settings.DOCUMENTS_DIR):
        shutil.rmtree(Path(root) / schema_name, ignore_errors=True)
