"""One form (domanda): its state as the web and the API read it, and the services that change it."""

from __future__ import annotations

import pytest

from enrollment.models import Enrollment
from enrollment.selectors import domanda_state
from enrollment.services import (
    EnrollmentError,
    domanda_save,
    domanda_submit,
    domanda_update,
    domanda_withdraw,
    enrollment_confirm,
)
from identity.models import Account
from tests.enrollment.conftest import guardian_data, parent_create, pupil_data, service

S = Enrollment.Status


def _new_form(account: Account) -> list[Enrollment]:
    return domanda_save(
        account=account,
        guardian_data=guardian_data(),
        pupil_data=pupil_data(),
        services=[service("PRE")],
        extra={"PRE": {"motivo": "Lavoro"}},
        consent=True,
        draft=True,
    )


def test_state_follows_the_form_from_draft_to_decision(palosco_parent: Account) -> None:
    (row,) = _new_form(palosco_parent)
    state = domanda_state(account=palosco_parent, domanda=row.domanda)
    assert state is not None
    assert (state.editable, state.draft, state.can_draft, state.submitted) == (True, True, True, False)
    assert state.services_offered() is not None

    domanda_submit(account=palosco_parent, domanda=row.domanda, version=state.version)
    state = domanda_state(account=palosco_parent, domanda=row.domanda)
    assert state is not None
    assert (state.editable, state.draft, state.can_draft, state.submitted) == (True, False, False, True)
    assert state.services_offered() is None

    staff = Account.objects.create_user(username="ufficio.domanda", kind=Account.Kind.STAFF, is_staff=True)
    enrollment_confirm(enrollment=row, by=staff)
    state = domanda_state(account=palosco_parent, domanda=row.domanda)
    assert state is not None
    assert (state.editable, state.submitted) == (False, True)


def test_state_of_another_account_or_form_is_none(palosco_parent: Account) -> None:
    (row,) = _new_form(palosco_parent)
    other = parent_create(username="PAL-000901", email="altro@example.org")
    assert domanda_state(account=other, domanda=row.domanda) is None


def test_services_refuse_a_form_changed_since_it_was_read(palosco_parent: Account) -> None:
    (row,) = _new_form(palosco_parent)
    state = domanda_state(account=palosco_parent, domanda=row.domanda)
    assert state is not None
    domanda_update(
        account=palosco_parent,
        domanda=row.domanda,
        version=state.version,
        guardian_data=guardian_data(phone="035 999999"),
        pupil_data=pupil_data(),
        services=[service("PRE")],
        extra={"PRE": {"motivo": "Lavoro"}},
        consent=True,
        draft=True,
    )
    for change in (
        lambda: domanda_submit(account=palosco_parent, domanda=row.domanda, version=state.version),
        lambda: domanda_withdraw(account=palosco_parent, domanda=row.domanda, version=state.version),
    ):
        with pytest.raises(EnrollmentError) as caught:
            change()
        assert caught.value.code == "changed"
    row.refresh_from_db()
    assert row.status == S.BOZZA


def test_submit_twice_and_withdraw_twice_are_refused(palosco_parent: Account) -> None:
    (row,) = _new_form(palosco_parent)

    def version() -> str:
        state = domanda_state(account=palosco_parent, domanda=row.domanda)
        assert state is not None
        return state.version

    domanda_submit(account=palosco_parent, domanda=row.domanda, version=version())
    with pytest.raises(EnrollmentError) as caught:
        domanda_submit(account=palosco_parent, domanda=row.domanda, version=version())
    assert caught.value.code == "already_submitted"
    with pytest.raises(EnrollmentError) as caught:
        domanda_withdraw(account=palosco_parent, domanda=row.domanda, version=version(), items=[0])
    assert caught.value.code == "unknown_items"
    domanda_withdraw(account=palosco_parent, domanda=row.domanda, version=version())
    with pytest.raises(EnrollmentError) as caught:
        domanda_withdraw(account=palosco_parent, domanda=row.domanda, version=version())
    assert caught.value.code == "invalid_transition"
