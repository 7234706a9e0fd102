"""The role → action matrix, every role against every action, over HTTP and
through the staff services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from enrollment.backoffice.graduatoria import graduatoria_compute
from enrollment.backoffice.roles import (
    AMMINISTRATORE,
    MATRIX,
    OPERATORE,
    ROLES,
    SOLA_LETTURA,
    Action,
    RoleDenied,
)
from enrollment.backoffice.services import (
    enrollment_reopen_notify,
    enrollments_confirm_bulk,
    service_update,
    sportello_enrollment_create,
    staff_account_create,
    waiting_list_promote,
)
from enrollment.models import Enrollment
from enrollment.services import EnrollmentError
from tests.enrollment.backoffice.conftest import client_for, staff_create, submitted
from tests.enrollment.conftest import guardian_data, pupil_data, service

EXPECTED = {
    AMMINISTRATORE: set(Action),
    OPERATORE: {
        Action.VIEW,
        Action.EXPORT,
        Action.DECIDE,
        Action.WAITING_LIST,
        Action.SPORTELLO,
        Action.GRADUATORIA,
    },
    SOLA_LETTURA: {Action.VIEW, Action.EXPORT},
}


def test_matrix_is_the_documented_one() -> None:
    assert {role: set(actions) for role, actions in MATRIX.items()} == EXPECTED


def _request(client, action: Action, enrollment: Enrollment):  # type: ignore[no-untyped-def]
    """One HTTP request that performs (or opens the page of) `action`."""
    url = lambda name, *a: reverse(f"staff_admin:{name}", args=a)  # noqa: E731
    if action == Action.VIEW:
        return client.get(url("bo_detail", enrollment.pk))
    if action == Action.EXPORT:
        return client.get(url("bo_export_csv"))
    if action == Action.DECIDE:
        return client.post(url("bo_confirm", enrollment.pk), {"note": ""})
    if action == Action.WAITING_LIST:
        return client.post(url("bo_promote", enrollment.service_id))
    if action == Action.SPORTELLO:
        return client.get(url("bo_sportello"))
    if action == Action.GRADUATORIA:
        return client.post(url("bo_graduatoria_compute", service("CRE").pk))
    if action == Action.CATALOGUE:
        return client.get(url("bo_service_edit", enrollment.service_id))
    if action == Action.STAFF:
        return client.get(url("bo_staff"))
    if action == Action.PERSONAL_DATA:
        return client.get(url("bo_personal_data"))
    raise AssertionError(action)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(Action))
def test_every_role_against_every_action_over_http(palosco, staff, role, action) -> None:  # type: ignore[no-untyped-def]
    enrollment = submitted(service("PRE"))
    response = _request(client_for(palosco, staff[role]), action, enrollment)
    enrollment.refresh_from_db()
    if action in EXPECTED[role]:
        assert response.status_code in (200, 302), response.status_code
        if action == Action.DECIDE:
            assert enrollment.status == Enrollment.Status.CONFERMATA
    else:
        assert response.status_code == 403
        assert "non consente questa operazione" in response.content.decode()
        assert enrollment.status == Enrollment.Status.INVIATA


@pytest.mark.parametrize("role", ROLES)
def test_staff_services_check_the_role_too(in_palosco, staff, role) -> None:  # type: ignore[no-untyped-def]
    """Views are not the only guard: each staff service refuses a role without the action."""
    by = staff[role]
    e = submitted(service("PRE"))
    calls = {
        Action.DECIDE: lambda: enrollments_confirm_bulk(enrollments=[e], by=by),
        Action.WAITING_LIST: lambda: waiting_list_promote(service=e.service, by=by),
        Action.SPORTELLO: lambda: sportello_enrollment_create(
            by=by, guardian_data=guardian_data(), pupil_data=pupil_data(), services=[service("POST")]
        ),
        Action.GRADUATORIA: lambda: graduatoria_compute(service=service("CRE"), by=by),
        Action.CATALOGUE: lambda: service_update(service=e.service, values={"capacity": 99}, by=by),
        Action.STAFF: lambda: staff_account_create(
            by=by,
            username=f"nuovo.{role[:3]}",
            first_name="A",
            last_name="B",
            email="a@example.org",
            role=SOLA_LETTURA,
            password="Tr0ppo-Sicura-2026",
        ),
    }
    for action, call in calls.items():
        if action in EXPECTED[role]:
            try:
                call()
            except RoleDenied:  # pragma: no cover - the assertion message names the case
                pytest.fail(f"{role} should be allowed {action}")
            except (EnrollmentError, ValidationError):
                pass  # a domain refusal (e.g. empty waiting list) is not a role refusal
        else:
            with pytest.raises(RoleDenied):
                call()
    if Action.DECIDE not in EXPECTED[role]:
        with pytest.raises(RoleDenied):
            enrollment_reopen_notify(enrollment=e, by=by)


def test_staff_without_role_sees_nothing(palosco) -> None:  # type: ignore[no-untyped-def]
    from django_tenants.utils import tenant_context

    with tenant_context(palosco):
        account = staff_create("senza.ruolo", None)
    client = client_for(palosco, account)
    for name in ("index", "bo_list", "bo_waiting", "bo_catalogue", "bo_audit"):
        response = client.get(reverse(f"staff_admin:{name}"))
        assert response.status_code == 403
        assert "non è stato assegnato un ruolo" in response.content.decode()


def test_anonymous_and_parents_are_sent_to_the_staff_login(palosco, palosco_client) -> None:  # type: ignore[no-untyped-def]
    from django_tenants.utils import tenant_context

    from tests.enrollment.conftest import parent_create

    response = palosco_client.get("/admin/iscrizioni/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    with tenant_context(palosco):
        parent = parent_create(username="PAL-000777", is_staff=True)
    response = client_for(palosco, parent).get("/admin/iscrizioni/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# Every back-office URL and the action it needs: a new page missing here fails
# the first test below, a page missing its role check fails the second.
URL_ACTIONS = {
    "bo_list": Action.VIEW,
    "bo_export_csv": Action.EXPORT,
    "bo_export_xlsx": Action.EXPORT,
    "bo_bulk_confirm": Action.DECIDE,
    "bo_detail": Action.VIEW,
    "bo_confirm": Action.DECIDE,
    "bo_reject": Action.DECIDE,
    "bo_reopen": Action.DECIDE,
    "bo_riepilogo": Action.VIEW,
    "bo_waiting": Action.VIEW,
    "bo_promote": Action.WAITING_LIST,
    "bo_graduatorie": Action.VIEW,
    "bo_graduatoria": Action.VIEW,
    "bo_graduatoria_compute": Action.GRADUATORIA,
    "bo_graduatoria_adjust": Action.GRADUATORIA,
    "bo_graduatoria_publish": Action.GRADUATORIA,
    "bo_graduatoria_albo": Action.VIEW,
    "bo_catalogue": Action.VIEW,
    "bo_service_new": Action.CATALOGUE,
    "bo_service_edit": Action.CATALOGUE,
    "bo_service_clear": Action.CATALOGUE,
    "bo_service_definition": Action.CATALOGUE,
    "bo_sportello": Action.SPORTELLO,
    "bo_staff": Action.STAFF,
    "bo_staff_new": Action.STAFF,
    "bo_staff_role": Action.STAFF,
    "bo_staff_deactivate": Action.STAFF,
    "bo_audit": Action.VIEW,
    "bo_feedback": Action.VIEW,
    "bo_personal_data": Action.PERSONAL_DATA,
    "bo_personal_export": Action.PERSONAL_DATA,
    "bo_personal_erase": Action.PERSONAL_DATA,
    "bo_payments": Action.VIEW,
    "bo_payments_export": Action.EXPORT,
    "bo_payments_import": Action.DECIDE,
    "bo_payments_exception": Action.DECIDE,
    "bo_payments_reminders": Action.VIEW,
}


def test_every_back_office_url_is_in_the_matrix() -> None:
    from enrollment.backoffice.urls import urlpatterns

    assert {p.name for p in urlpatterns} == set(URL_ACTIONS)


@pytest.mark.parametrize("role", ROLES)
def test_every_url_refuses_roles_without_its_action(palosco, staff, role) -> None:  # type: ignore[no-untyped-def]
    from django_tenants.utils import tenant_context

    from enrollment.backoffice.urls import urlpatterns

    with tenant_context(palosco):
        e = submitted(service("PRE"))
    client = client_for(palosco, staff[role])
    ids = {"pk": e.pk, "service_id": e.service_id, "fmt": "json", "kind": "tesoreria"}
    for pattern in urlpatterns:
        action = URL_ACTIONS[pattern.name]
        args = {k: ids[k] if k != "pk" or "staff" not in pattern.name else staff[role].pk
                for k in pattern.pattern.converters}  # fmt: skip
        url = reverse(f"staff_admin:{pattern.name}", kwargs=args)
        for method in (client.get, client.post):
            response = method(url)
            if response.streaming:  # reading to the end closes the export's temporary file
                b"".join(response.streaming_content)
            status = response.status_code
            if action in EXPECTED[role]:
                assert status != 403, (pattern.name, method.__name__)
            else:
                assert status == 403, (pattern.name, method.__name__)
    with tenant_context(palosco):
        e.refresh_from_db()
        assert e.status == Enrollment.Status.INVIATA or Action.DECIDE in EXPECTED[role]
