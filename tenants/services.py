"""Writes on comuni: apply a validated config, suspend, resume.

`comune_apply_config` is what `sync_tenants`, the operators' console and the
tests call. It is idempotent: applying the same config twice changes nothing
the second time, and it never deletes a comune, a host or a service.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from core.services import audit_record
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
            f"{host!r} is outside the base domain: use <name>.{base} or add the host to EXTRA_TENANT_DOMAINS"
        )
    return None


def _check_hosts_allowed(cfg: ComuneConfig) -> None:
    problems = [f"{cfg.slug}: hosts: {p}" for p in map(host_problem, cfg.hosts) if p]
    if problems:
        raise ConfigError(problems)


def comune_apply_config(*, config: ComuneConfig, by: Any = None) -> ApplyResult:
    """Create or update the comune described by `config`, its hosts and catalogue."""
    from enrollment.services import service_catalogue_sync

    started = time.perf_counter()
    connection.set_schema_to_public()
    _check_hosts_allowed(config)
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


def comune_config_update(*, comune: Comune, config: ComuneConfig, by: Any = None) -> ApplyResult:
    """Apply an edited config to an existing comune (the console's settings form)."""
    if config.slug != comune.slug:
        raise ConfigError([f"{comune.slug}: slug: lo slug di un comune esistente non si può cambiare"])
    current = set(comune.domains.values_list("domain", flat=True))
    dropped = sorted(current - set(config.hosts))
    if dropped:
        raise ConfigError(
            [f"{comune.slug}: hosts: manca {', '.join(dropped)}: per togliere un host usa «Rimuovi host»"]
        )
    return comune_apply_config(config=config, by=by)


@dataclass
class OnboardResult:
    comune: Comune
    admin: Any
    invitation_url: str
    seconds: float


def comune_url(comune: Comune, path: str = "/") -> str:
    host = comune.domains.order_by("-is_primary", "id").values_list("domain", flat=True).first()
    return settings.COMUNE_URL_TEMPLATE.format(host=host) + path


def _admin_group() -> Any:
    """The back office's "Amministratore comune" role (enrollment/backoffice/roles.py)."""
    from enrollment.backoffice.roles import AMMINISTRATORE, staff_roles_ensure

    return next(g for g in staff_roles_ensure() if g.name == AMMINISTRATORE)


def comune_onboard(
    *,
    config: ComuneConfig,
    admin_email: str,
    admin_first_name: str = "",
    admin_last_name: str = "",
    by: Any = None,
) -> OnboardResult:
    """Create a new comune and its first administrator, invited by e-mail.

    All or nothing: the schema clone, hosts, catalogue, the administrator
    account and the queued invitation commit together.
    """
    from django.contrib.auth.tokens import default_token_generator
    from django.core.validators import validate_email
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from core.services import email_enqueue
    from identity.models import Account

    started = time.perf_counter()
    validate_email(admin_email)
    connection.set_schema_to_public()
    if Comune.objects.filter(slug=config.slug).exists():
        raise ConfigError([f"{config.slug}: slug: esiste già un comune con lo slug {config.slug!r}"])
    with transaction.atomic():
        result = comune_apply_config(config=config, by=by)
        comune = result.comune
        with schema_context(comune.schema_name):
            admin = Account.objects.create_user(
                f"amministratore.{comune.slug}",
                kind=Account.Kind.STAFF,
                is_staff=True,
                email=admin_email,
                first_name=admin_first_name,
                last_name=admin_last_name,
            )
            admin.groups.add(_admin_group())
            uid = urlsafe_base64_encode(force_bytes(admin.pk))
            url = comune_url(comune, f"/invito/{uid}/{default_token_generator.make_token(admin)}/")
            email_enqueue(
                to=[admin_email],
                subject=f"Invito: amministrazione del portale iscrizioni del {comune.display_name}",
                body=(
                    "Buongiorno,\n\n"
                    f"è stato attivato il portale iscrizioni scolastiche del {comune.display_name}.\n"
                    f"Il suo codice utente è: {admin.username}\n\n"
                    f"Per scegliere la password apra questo collegamento (valido una sola volta, "
                    f"per {settings.PASSWORD_RESET_TIMEOUT // 86400} giorni):\n{url}\n\n"
                    f"Poi acceda alla gestione da {comune_url(comune, '/admin/')}\n"
                ),
                purpose="invito_amministratore",
            )
        audit_record(
            action="comune.admin_invited",
            actor=by,
            obj=comune,
            message=f"{admin.username} <{admin_email}>",
        )
    connection.set_schema_to_public()
    return OnboardResult(
        comune=comune, admin=admin, invitation_url=url, seconds=time.perf_counter() - started
    )


def _csv_export(folder: Path) -> list[str]:
    """One CSV per model of the enrollment app, read in the current schema."""
    from django.apps import apps

    written = []
    for model in apps.get_app_config("enrollment").get_models():
        fields = [f.attname for f in model._meta.concrete_fields]
        path = folder / f"{model._meta.model_name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(fields)
            writer.writerows(model._default_manager.order_by("pk").values_list(*fields).iterator())
        written.append(path.name)
    return written


def comune_data_export(*, comune: Comune, by: Any = None) -> Path:
    """Write the comune's data under DATA_DIR/offboard/<slug>-<timestamp>/.

    `schema.sql` is a pg_dump of the whole schema (restorable with psql);
    one CSV per enrollment table is for people; `configurazione.yaml` is the
    comune's config as a tenant file.
    """
    from superadmin.backup import BackupError, schema_dump

    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(settings.DATA_DIR) / "offboard" / f"{comune.slug}-{stamp}"
    folder.mkdir(parents=True)
    (folder / "configurazione.yaml").write_text(config_dump(comune.settings), encoding="utf-8")
    try:
        schema_dump(schema_name=comune.schema_name, target=folder / "schema.sql", fmt="plain")
    except BackupError as exc:
        raise ComuneError(exc.message) from exc
    files = ["configurazione.yaml", "schema.sql"]
    with schema_context(comune.schema_name):
        files += _csv_export(folder)
    with schema_context(get_public_schema_name()):
        audit_record(
            action="comune.exported", actor=by, obj=comune, message=str(folder), data={"files": files}
        )
    return folder


def comune_offboard(*, comune: Comune, confirmation: str, by: Any = None) -> Path:
    """Export the comune's data, then drop its schema, hosts and record.

    Irreversible, so it runs only when `confirmation` is exactly the comune's
    slug, and only after the export has been written.
    """
    if confirmation != comune.slug:
        raise ComuneError(
            f"Conferma non valida: per dismettere il comune scrivi esattamente «{comune.slug}»."
        )
    folder = comune_data_export(comune=comune, by=by)
    hosts = list(comune.domains.values_list("domain", flat=True))
    with schema_context(get_public_schema_name()), transaction.atomic():
        audit_record(
            action="comune.offboarded",
            actor=by,
            obj=comune,
            message=f"{comune.display_name}: esportazione in {folder}",
            data={"schema": comune.schema_name, "hosts": hosts},
        )
        comune.domains.all().delete()
        comune.delete(force_drop=True)
    _forget_hosts(hosts)
    return folder


def comune_config_export(*, comune: Comune, by: Any = None) -> str:
    """The comune's current config as YAML (a tenant file); the export is audited."""
    with schema_context(get_public_schema_name()):
        audit_record(action="comune.config_exported", actor=by, obj=comune)
    return config_dump(comune.settings)


def demo_comuni_drop(*, by: Any = None, slugs: Collection[str] | None = None) -> int:
    """Drop synthetic benchmark comuni (slug demoNNNN) with their schemas; no export.

    `slugs` limits it to those: a benchmark drops only the comuni it made."""
    dropped = 0
    with schema_context(get_public_schema_name()):
        comuni = Comune.objects.filter(slug__regex=r"^demo[0-9]{4}$")
        if slugs is not None:
            comuni = comuni.filter(slug__in=list(slugs))
        for comune in comuni:
            hosts = list(comune.domains.values_list("domain", flat=True))
            with transaction.atomic():
                audit_record(action="comune.demo_dropped", actor=by, obj=comune)
                comune.domains.all().delete()
                comune.delete(force_drop=True)
            _forget_hosts(hosts)
            dropped += 1
    return dropped
