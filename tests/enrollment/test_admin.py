"""Staff see enrollments in the back office, read-only until its actions exist."""

from __future__ import annotations

from enrollment.models import Enrollment
from enrollment.services import domanda_save
from identity.models import Account
from tests.enrollment.conftest import guardian_data, pupil_data, service


def test_staff_list_enrollments_but_cannot_change_them(in_palosco, palosco_parent, login) -> None:
    e = domanda_save(
        account=palosco_parent,
        guardian_data=guardian_data(),
        pupil_data=pupil_data(),
        services=[service("PRE")],
        consent=True,
    )[0]
    staff = Account.objects.create_user(
        username="ufficio.prova", kind=Account.Kind.STAFF, is_staff=True, is_superuser=True
    )
    client = login(in_palosco, staff)
    html = client.get("/admin/enrollment/enrollment/").content.decode()
    assert e.reference in html and "Rossi Luca" in html
    response = client.post(f"/admin/enrollment/enrollment/{e.pk}/change/", {"status": "confermata"})
    assert response.status_code in (200, 403)
    e.refresh_from_db()
    assert e.status == Enrollment.Status.BOZZA
    assert client.get("/admin/enrollment/enrollment/add/").status_code == 403
