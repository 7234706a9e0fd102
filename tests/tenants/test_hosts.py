"""Host rules: under the base domain or explicitly allowed, and never served twice."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_exists

from superadmin.operations import comune_apply_config
from tenants.config import ComuneConfig, ConfigError
from tenants.models import Comune, Domain
from tenants.services import (
    ComuneError,
    comune_domain_add,
    comune_domain_remove,
    host_problem,
)

BASE = {
    "slug": "testville",
    "name": "Testville",
    "province": "Bergamo",
    "identity": {"backends": ["credentials"]},
}


def _config(*hosts: str) -> ComuneConfig:
    return ComuneConfig.model_validate({**BASE, "hosts": list(hosts)})


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("testville.localhost", True),
        ("localhost", False),  # the platform itself
        ("a.testville.localhost", False),  # one label under the base only
        ("testville.example.com", False),
        ("evillocalhost", False),
        ("-bad.localhost", False),
    ],
)
def test_host_problem(settings, host: str, allowed: bool) -> None:  # type: ignore[no-untyped-def]
    settings.BASE_DOMAIN = "localhost"
    settings.EXTRA_TENANT_DOMAINS = []
    assert (host_problem(host) is None) is allowed


def test_extra_domains_are_allowed(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EXTRA_TENANT_DOMAINS = ["iscrizioni.comune.testville.bg.it"]
    assert host_problem("iscrizioni.comune.testville.bg.it") is None
    assert host_problem("altro.comune.testville.bg.it") is not None


def test_apply_refuses_a_host_outside_the_base_domain(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as exc:
        comune_apply_config(config=_config("testville.localhost", "iscrizioni.testville.it"))
    assert exc.value.problems == [
        "testville: hosts: 'iscrizioni.testville.it' è fuori dal dominio base: usa <nome>.localhost "
        "oppure aggiungi l'host a EXTRA_TENANT_DOMAINS"
    ]
    assert not Comune.objects.filter(slug="testville").exists() and not schema_exists("testville")


def test_apply_accepts_an_allowed_extra_host(db, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EXTRA_TENANT_DOMAINS = ["iscrizioni.testville.it"]
    comune_apply_config(config=_config("testville.localhost", "iscrizioni.testville.it"))
    assert Domain.objects.get(domain="iscrizioni.testville.it").tenant.slug == "testville"


def test_apply_refuses_a_host_served_by_another_comune(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=r"è già usato da Comune di Palosco \(palosco\)"):
        comune_apply_config(config=_config("testville.localhost", "palosco.localhost"))
    assert not Comune.objects.filter(slug="testville").exists()
    assert not Domain.objects.filter(domain="testville.localhost").exists()


def test_domain_add_and_remove(palosco: Comune) -> None:
    with pytest.raises(ComuneError, match="già servito da Città di Romano di Lombardia"):
        comune_domain_add(comune=palosco, host="romanodilombardia.localhost")
    with pytest.raises(ComuneError, match="già servito da questo comune"):
        comune_domain_add(comune=palosco, host="palosco.localhost")
    with pytest.raises(ComuneError, match="non è un nome host valido"):
        comune_domain_add(comune=palosco, host="non valido")
    comune_domain_add(comune=palosco, host="bis.localhost")
    comune_domain_remove(comune=palosco, host="palosco.localhost")
    palosco.refresh_from_db()
    assert palosco.settings.hosts == ["bis.localhost"]
    assert list(palosco.domains.values_list("domain", "is_primary")) == [("bis.localhost", True)]
    with pytest.raises(ComuneError, match="almeno un host"):
        comune_domain_remove(comune=palosco, host="bis.localhost")
