"""The portal home's caches: a change is visible on the next request, and two
comuni never share an entry.

The caches are per process (the validated config, the catalogue, the page's
fragments) and keyed by versions read from the database with the request, so
a change made anywhere, even through a path this process never sees (raw SQL,
as another process's write looks from here), shows on the next request.
"""

from __future__ import annotations

import json
from datetime import timedelta
from html import unescape

from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from enrollment.models import Service
from enrollment.selectors import LOCAL_CACHE, catalogue_on_offer
from superadmin.operations import comune_config_update
from tenants.config import ComuneConfig, config_from_stored
from tenants.models import Comune
from tenants.services import _forget_hosts as forget_hosts


def _home(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return unescape(response.content.decode())


def _forget_hosts(*comuni: Comune) -> None:
    # As the services do after a write.
    forget_hosts([d.domain for c in comuni for d in c.domains.all()])


def _fresh(comune: Comune) -> Comune:
    return Comune.objects.get(pk=comune.pk)


def test_a_config_change_through_the_console_shows_on_the_next_request(palosco, palosco_client) -> None:  # type: ignore[no-untyped-def]
    assert ">035 999 0000<" not in _home(palosco_client)
    data = palosco.settings.model_dump(mode="json")
    data["contacts"]["phone"] = "035 999 0000"
    data["branding"]["header_text"] = "Servizi scolastici online"
    comune_config_update(comune=_fresh(palosco), config=ComuneConfig.model_validate(data))
    html = _home(palosco_client)
    assert ">035 999 0000<" in html
    assert "Servizi scolastici online" in html


def test_a_config_written_by_another_process_shows_on_the_next_request(palosco, palosco_client) -> None:  # type: ignore[no-untyped-def]
    """Nothing in this process hears of the change: only the row and the shared host cache."""
    _home(palosco_client)
    config = _fresh(palosco).config
    config["contacts"]["phone"] = "035 111 2222"
    with connection.cursor() as cursor:
        # Another process's write: same config_hash, updated_at untouched.
        cursor.execute(
            "UPDATE public.tenants_comune SET config = %s::jsonb WHERE id = %s",
            [json.dumps(config), palosco.pk],
        )
    _forget_hosts(palosco)
    assert ">035 111 2222<" in _home(palosco_client)


def test_a_service_changed_by_the_office_shows_on_the_next_request(in_palosco, palosco_client) -> None:  # type: ignore[no-untyped-def]
    assert "MERENDA POMERIDIANA" not in _home(palosco_client)
    first = Service.objects.order_by("pk").first()
    assert first is not None
    first.name = "MERENDA POMERIDIANA"
    first.save()
    assert "MERENDA POMERIDIANA" in _home(palosco_client)
    first.delete()
    assert "MERENDA POMERIDIANA" not in _home(palosco_client)


def test_a_save_of_fields_the_home_does_not_show_leaves_the_comune_row_alone(in_palosco) -> None:  # type: ignore[no-untyped-def]
    service = Service.objects.order_by("pk").first()
    assert service is not None
    version = _fresh(in_palosco).catalogue_version
    service.capacity = (service.capacity or 0) + 1
    service.save(update_fields=["capacity"])
    assert _fresh(in_palosco).catalogue_version == version
    service.fee_note = "Tariffa ridotta per il secondo figlio"
    service.save(update_fields=["fee_note", "updated_at"])
    assert _fresh(in_palosco).catalogue_version != version


def test_a_restored_or_bulk_written_catalogue_needs_the_version_bumped(in_palosco, palosco_client) -> None:  # type: ignore[no-untyped-def]
    """Writes that send no signal (update(), a restore) must call comune_catalogue_changed:
    this is what would be shown without it, and what is shown with it."""
    from tenants.services import comune_catalogue_changed

    _home(palosco_client)
    Service.objects.update(name="NOME DA UN RIPRISTINO")
    assert "NOME DA UN RIPRISTINO" not in _home(palosco_client)
    comune_catalogue_changed(schema_name=in_palosco.schema_name)
    assert "NOME DA UN RIPRISTINO" in _home(palosco_client)


def test_the_cached_catalogue_ends_when_a_window_opens(in_palosco) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    opens = now + timedelta(days=2)
    Service.objects.create(
        code="CENTRO",
        name="CENTRO ESTIVO",
        school_year="2025/2026",
        opens_at=opens,
        closes_at=opens + timedelta(days=9),
    )
    comune = _fresh(in_palosco)
    before = catalogue_on_offer(comune=comune, at=now)
    assert before.valid_until is not None and before.valid_until <= opens
    # Inside its period the entry is the cached one (computed at `now`).
    assert catalogue_on_offer(comune=comune, at=now + timedelta(seconds=1)).valid_from == now
    after = catalogue_on_offer(comune=comune, at=opens + timedelta(seconds=1))
    assert after.valid_from == opens + timedelta(seconds=1)
    assert after.key != before.key
    # A past moment is never answered from an entry computed later.
    assert catalogue_on_offer(comune=comune, at=now).valid_from == now


def test_two_comuni_with_the_same_versions_never_see_each_others_home(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    with schema_context(romano.schema_name):
        Service.objects.update(description="Solo a Romano di Lombardia")
    # The same catalogue version on both rows: only the schema in the keys tells them apart.
    Comune.objects.filter(pk__in=[palosco.pk, romano.pk]).update(catalogue_version="stesso")
    _forget_hosts(palosco, romano)
    clients = {
        "palosco": Client(HTTP_HOST="palosco.localhost"),
        "romano": Client(HTTP_HOST="romanodilombardia.localhost"),
    }
    for order in (("palosco", "romano"), ("romano", "palosco")):
        caches[LOCAL_CACHE].clear()
        for _ in range(2):  # the second round is served from the caches
            html = {name: _home(clients[name]) for name in order}
            assert "Comune di Palosco" in html["palosco"] and "Romano di Lombardia" not in html["palosco"]
            assert "Città di Romano di Lombardia" in html["romano"] and "Palosco" not in html["romano"]
            assert "Solo a Romano di Lombardia" in html["romano"]


def test_local_cache_keys_carry_the_schema(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    local = caches[LOCAL_CACHE]
    with schema_context(palosco.schema_name):
        local.set("chiave", "palosco")
        assert palosco.schema_name in local.make_key("chiave")
    with schema_context(romano.schema_name):
        assert local.get("chiave") is None
    with schema_context(palosco.schema_name):
        assert local.get("chiave") == "palosco"
        local.delete("chiave")


def test_a_stored_config_is_validated_once_per_schema_and_version(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    stored = _fresh(palosco).config
    first = config_from_stored(stored, schema_name=palosco.schema_name)
    assert config_from_stored(json.loads(json.dumps(stored)), schema_name=palosco.schema_name) is first
    assert config_from_stored(stored, schema_name=romano.schema_name) is not first
    changed = {**stored, "contacts": {**stored["contacts"], "phone": "035 000 0001"}}
    assert config_from_stored(changed, schema_name=palosco.schema_name).contacts.phone == "035 000 0001"
