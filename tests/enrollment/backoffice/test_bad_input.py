"""Bad input in the back office gets an Italian message, never a 500 (found by a review)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context

from enrollment.backoffice.roles import AMMINISTRATORE, OPERATORE
from tests.enrollment.backoffice.conftest import client_for, submitted
from tests.enrollment.conftest import service


@pytest.mark.parametrize(
    "view", ["staff_admin:bo_list", "staff_admin:bo_export_csv", "staff_admin:bo_export_xlsx"]
)
def test_a_date_beyond_any_enrollment_is_named_not_an_overflow(palosco, staff, view) -> None:  # type: ignore[no-untyped-def]
    response = client_for(palosco, staff[OPERATORE]).get(reverse(view), {"al": "31/12/9999"}, follow=True)
    # An export with a filter in error goes back to the list, which names it.
    assert [url for url, _ in response.redirect_chain] == (
        [] if view == "staff_admin:bo_list" else [reverse("staff_admin:bo_list") + "?al=31%2F12%2F9999"]
    )
    assert (
        "«Inviata fino al»: inserisci una data tra il 01/01/2000 e il 31/12/2100."
        in response.content.decode()
    )


def test_a_service_chosen_with_a_digit_beyond_ascii_is_no_service(palosco, staff) -> None:  # type: ignore[no-untyped-def]
    response = client_for(palosco, staff[OPERATORE]).get(reverse("staff_admin:bo_list"), {"servizio": "²"})
    assert response.status_code == 200


def test_a_bulk_confirmation_of_ids_beyond_ascii_confirms_nothing(palosco, staff) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, staff[OPERATORE])
    response = client.post(reverse("staff_admin:bo_bulk_confirm"), {"ids": ["²"]}, follow=True)
    assert "Seleziona almeno un&#x27;iscrizione da confermare." in response.content.decode()


def test_a_capacity_beyond_the_column_is_named(palosco, staff) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        post = service("POST")
        submitted(post)
        data = {
            "opens_at": post.opens_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "closes_at": post.closes_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "capacity": "3000000000",
            "fee_note": post.fee_note,
            "new_enrollments": "on" if post.new_enrollments else "",
            "renewals": "on" if post.renewals else "",
        }
    client = client_for(palosco, staff[AMMINISTRATORE])
    response = client.post(reverse("staff_admin:bo_service_edit", args=[post.pk]), data)
    assert response.status_code == 200
    assert "I posti disponibili possono essere al più 100.000." in response.content.decode()
    with tenant_context(palosco):
        post.refresh_from_db()
        assert post.capacity != 3000000000
