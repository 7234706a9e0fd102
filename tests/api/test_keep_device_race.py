"""After the first save of a "Sono un nuovo iscritto" account, only the device whose request issued
the temporary password stays signed in (found by a review).

Two devices can hold tokens of one empty account: anyone may open it with the pupil's codice
fiscale until it holds data. keep_this_device used to decide from the account as read when the
token was checked: a stranger's save running while the family's first save committed found the
password "still to issue" and kept the stranger's token, now bound to an account with a
temporary password and no old password to ask for."""

from __future__ import annotations

import threading

from django.db import connection
from django_tenants.utils import tenant_context

import api.views.enrollments as enrollment_views
from core.models import OutgoingEmail
from identity.models import Account
from identity.services import temporary_password_ensure
from tests.api.conftest import api_client, body, post
from tests.enrollment.conftest import PUPIL_CF
from tests.identity.conftest import code_from


def test_db_is_the_test_database(db) -> None:  # type: ignore[no-untyped-def] # the committed fixture needs one
    assert connection.settings_dict["NAME"].startswith("test_")


def _cf_token(comune, device):  # type: ignore[no-untyped-def]
    response = post(
        api_client(comune),
        "/api/v1/auth/token/",
        {"method": "codice_fiscale", "codice_fiscale": PUPIL_CF, "device_name": device},
    )
    assert response.status_code == 201, response.json()
    return response.json()["token"]


def test_a_token_whose_request_did_not_set_the_temporary_password_ends(
    committed_palosco, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    palosco = committed_palosco
    stranger = api_client(palosco, _cf_token(palosco, "Telefono di chi conosce il CF"))
    family = api_client(palosco, _cf_token(palosco, "Telefono della famiglia"))
    assert post(family, "/api/v1/me/email/send/", {"email": "famiglia@example.org"}).status_code == 202
    with tenant_context(palosco):
        code = code_from(OutgoingEmail.objects.filter(purpose="email_verification").latest("id").body)
        data = body()
    assert post(family, "/api/v1/me/email/confirm/", {"code": code}).status_code == 200
    real_save = enrollment_views.domanda_save
    issued: list[bool] = []

    def family_saves_first(**kwargs):  # type: ignore[no-untyped-def]
        # The stranger's request is authenticated; the family's first save, on its own
        # connection, commits now and issues the temporary password.
        def family() -> None:
            try:
                with tenant_context(palosco):
                    issued.append(temporary_password_ensure(account=Account.objects.get(username=PUPIL_CF)))
            finally:
                connection.close()

        thread = threading.Thread(target=family)
        thread.start()
        thread.join()
        return real_save(**kwargs)

    monkeypatch.setattr(enrollment_views, "domanda_save", family_saves_first)
    assert post(stranger, "/api/v1/enrollments/", data).status_code == 201
    monkeypatch.undo()
    assert issued == [True]
    # The stranger's token, authenticated before the password existed, ends like every other.
    assert stranger.get("/api/v1/me/").status_code == 401
