"""Two devices at the same instant, on real separate connections: one wins, the other is told."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import schema_context

from core.models import OutgoingEmail
from enrollment.models import Enrollment
from tests.api.conftest import api_client, body, parent_create, patch, post, token_for
from tests.concurrency import together


def _two_devices(committed_palosco):  # type: ignore[no-untyped-def]
    with schema_context("palosco"):
        parent = parent_create(username="PAL-000995")
        phone = api_client(committed_palosco, token_for(committed_palosco, parent, "Telefono"))
        tablet = api_client(committed_palosco, token_for(committed_palosco, parent, "Tablet"))
        data = body()
    created = post(phone, "/api/v1/enrollments/", data).json()
    return phone, tablet, created


def test_parallel_edits_with_the_same_version_one_wins(committed_palosco) -> None:
    phone, tablet, created = _two_devices(committed_palosco)
    url = f"/api/v1/enrollments/{created['id']}/"
    responses = together(
        (
            lambda: patch(phone, url, {"pupil": {"class_section": "4ª A"}}, **{"If-Match": created["etag"]}),
            lambda: patch(tablet, url, {"pupil": {"class_section": "5ª B"}}, **{"If-Match": created["etag"]}),
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 412], [r.content[:200] for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()["pupil"]["class_section"]
    with schema_context("palosco"):
        assert Enrollment.objects.get().pupil.class_section == winner


def test_parallel_submits_submit_once(committed_palosco) -> None:
    phone, tablet, created = _two_devices(committed_palosco)
    url = f"/api/v1/enrollments/{created['id']}/submit/"
    responses = together(
        (
            lambda: post(phone, url, **{"If-Match": created["etag"]}),
            lambda: post(tablet, url, **{"If-Match": created["etag"]}),
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 412]
    with schema_context("palosco"):
        assert Enrollment.objects.get().status == Enrollment.Status.INVIATA
        assert OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() == 1


def test_parallel_calls_of_one_account_pass_exactly_its_rate(committed_palosco, settings) -> None:
    """The counter is one atomic increment: parallel calls cannot all read a count below the rate."""
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"user": "5/min"}
    with schema_context("palosco"):
        parent = parent_create(username="PAL-000996")
        keys = [token_for(committed_palosco, parent, f"D{n}") for n in range(12)]
    devices = [api_client(committed_palosco, key) for key in keys]
    responses = together([lambda d=d: d.get("/api/v1/me/") for d in devices])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 5 + [429] * 7, codes
    waits = [int(r["Retry-After"]) for r in responses if r.status_code == 429]
    assert all(0 < w <= 60 for w in waits), waits


def test_parallel_calls_of_many_accounts_behind_one_address_pass_exactly_its_rate(
    committed_palosco, settings
) -> None:
    """Each call counts its account's row and the shared address's row in one statement,
    always in the same order: parallel calls neither deadlock nor pass beyond the address's rate."""
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"ip": "5/min"}
    with schema_context("palosco"):
        keys = [token_for(committed_palosco, parent_create(username=f"PAL-0009{70 + n}")) for n in range(12)]
    devices = [api_client(committed_palosco, key) for key in keys]
    responses = together([lambda d=d: d.get("/api/v1/me/") for d in devices])
    assert sorted(r.status_code for r in responses) == [200] * 5 + [429] * 7


def test_module_uses_the_test_database(in_palosco) -> None:
    """Makes pytest-django create the test database for this module's committed tests."""
    assert connection.settings_dict["NAME"].startswith("test_")
