"""Staff accounts managed by the comune administrator, sign-in and its limits."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from core.models import AuditEntry
from enrollment.backoffice.roles import AMMINISTRATORE, OPERATORE, SOLA_LETTURA, staff_role
from enrollment.backoffice.services import staff_account_create, staff_role_set
from identity.models import Account
from tests.conftest import PALOSCO_HOST, ROMANO_HOST
from tests.enrollment.backoffice.conftest import client_for
from tests.jobs import run_pending_jobs

STRONG = "Scuolabus-Verde-2026"


def _new(**changes: str) -> dict[str, str]:
    return {
        "username": "giulia.neri",
        "first_name": "Giulia",
        "last_name": "Neri",
        "email": "giulia.neri@comune.example.org",
        "role": OPERATORE,
        "password1": STRONG,
        "password2": STRONG,
    } | changes


def _login(username: str, password: str) -> Client:
    client = Client(HTTP_HOST=PALOSCO_HOST)
    client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})
    return client


def test_admin_creates_a_staff_account_that_can_sign_in(palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, admin_user)
    response = client.post(reverse("staff_admin:bo_staff_new"), _new())
    assert response.status_code == 302
    with tenant_context(palosco):
        account = Account.objects.get(username="giulia.neri")
        assert account.kind == Account.Kind.STAFF and account.is_staff and not account.is_superuser
        assert staff_role(account) == OPERATORE
        assert account.password.startswith("argon2")
        entry = AuditEntry.objects.get(action="staff.created")
        assert entry.actor == admin_user
        assert entry.data == {"username": "giulia.neri", "role": OPERATORE, "invited": False}
        assert STRONG not in str(entry.data)
    new = _login("giulia.neri", STRONG)
    assert new.get("/admin/iscrizioni/").status_code == 200
    assert new.get("/admin/personale/").status_code == 403


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("corta1", "troppo corta"),
        ("12345678901", "interamente numerica"),
        ("password123", "troppo comune"),
        ("giulia.neri1", "troppo simile"),
    ],
)
def test_weak_passwords_are_refused_next_to_the_field(palosco, admin_user, password, message) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, admin_user)
    html = client.post(
        reverse("staff_admin:bo_staff_new"), _new(password1=password, password2=password)
    ).content.decode()
    assert 'role="alert"' in html and 'href="#id_password1"' in html
    assert message in html
    with tenant_context(palosco):
        assert not Account.objects.filter(username="giulia.neri").exists()


def test_other_form_errors(palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, admin_user)
    html = client.post(
        reverse("staff_admin:bo_staff_new"), _new(password2="Altra-Password-99", role="")
    ).content.decode()
    assert "Le due password non coincidono." in html and "Scegli il ruolo dell&#x27;account." in html
    html = client.post(
        reverse("staff_admin:bo_staff_new"), _new(username=admin_user.username)
    ).content.decode()
    assert "Esiste già un account con questo nome utente." in html


def test_deactivated_account_is_locked_out_at_once(palosco, admin_user, operatore) -> None:  # type: ignore[no-untyped-def]
    op_client = client_for(palosco, operatore)
    assert op_client.get("/admin/iscrizioni/").status_code == 200
    admin_client = client_for(palosco, admin_user)
    admin_client.post(reverse("staff_admin:bo_staff_deactivate", args=[operatore.pk]))
    with tenant_context(palosco):
        operatore.refresh_from_db()
        assert not operatore.is_active
        entry = AuditEntry.objects.get(action="staff.deactivated")
        assert entry.data == {"before": {"is_active": True}, "after": {"is_active": False}}
    assert op_client.get("/admin/iscrizioni/").status_code == 302  # its session no longer works
    # The administrator cannot lock themself out.
    html = admin_client.post(reverse("staff_admin:bo_staff_deactivate", args=[admin_user.pk]), follow=True)
    assert "Non puoi disattivare il tuo stesso account." in html.content.decode()


def test_role_change_and_last_administrator(in_palosco, admin_user, operatore) -> None:  # type: ignore[no-untyped-def]
    staff_role_set(account=operatore, role=SOLA_LETTURA, by=admin_user)
    assert list(operatore.groups.values_list("name", flat=True)) == [SOLA_LETTURA]
    entry = AuditEntry.objects.get(action="staff.role_changed")
    assert entry.data == {"before": [OPERATORE], "after": [SOLA_LETTURA]}
    with pytest.raises(ValidationError, match="almeno un amministratore"):
        staff_role_set(account=admin_user, role=OPERATORE, by=admin_user)


def test_role_change_over_http(palosco, admin_user, operatore) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, admin_user)
    page = client.get(reverse("staff_admin:bo_staff")).content.decode()
    assert operatore.username in page and 'for="role-' in page
    client.post(reverse("staff_admin:bo_staff_role", args=[operatore.pk]), {"role": AMMINISTRATORE})
    with tenant_context(palosco):
        assert staff_role(Account.objects.get(pk=operatore.pk)) == AMMINISTRATORE


def test_failed_logins_are_limited_and_audited(palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        staff_account_create(
            by=None, username="mario.bianchi", first_name="Mario", last_name="Bianchi",
            email="m@example.org", role=OPERATORE, password=STRONG,
        )  # fmt: skip
    client = Client(HTTP_HOST=PALOSCO_HOST)
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "mario.bianchi", "password": "sbagliata"})
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": "mario.bianchi", "password": STRONG})
    assert response.status_code == 429
    assert "Troppi tentativi" in response.content.decode()
    assert client.get("/admin/iscrizioni/").status_code == 302  # not signed in
    with tenant_context(palosco):
        assert AuditEntry.objects.filter(action="login.failed", actor_label="mario.bianchi").count() == 5


def test_password_change_page_is_the_comunes(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        operatore.set_password(STRONG)
        operatore.save()
    client = client_for(palosco, operatore)
    html = client.get("/admin/password_change/").content.decode()
    assert "Comune di Palosco" in html and 'for="id_old_password"' in html
    response = client.post(
        "/admin/password_change/",
        {"old_password": STRONG, "new_password1": "Nuova-Chiave-2027", "new_password2": "Nuova-Chiave-2027"},
    )
    assert response.status_code == 302
    assert _login(operatore.username, "Nuova-Chiave-2027").get("/admin/").status_code == 200


def test_invitation_mail_with_a_one_time_set_password_link(palosco, admin_user, smtp_server) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, admin_user)
    response = client.post(reverse("staff_admin:bo_staff_new"), _new(password1="", password2=""), follow=True)
    assert "invito inviato a giulia.neri@comune.example.org" in response.content.decode()
    with tenant_context(palosco):
        account = Account.objects.get(username="giulia.neri")
        assert not account.has_usable_password()
        assert AuditEntry.objects.get(action="staff.created").data["invited"] is True
        assert run_pending_jobs(task_name="core.email_send") == 1
    assert smtp_server.messages[0]["To"] == "giulia.neri@comune.example.org"
    body = smtp_server.bodies()[0]
    link = re.search(r"http://palosco\.localhost/admin/imposta-password/\S+/", body)
    assert link and "giulia.neri" in body and OPERATORE in body
    path = link.group(0).removeprefix("http://palosco.localhost")
    invited = Client(HTTP_HOST=PALOSCO_HOST)
    opened = invited.get(path, follow=True)
    assert 'for="id_password1"' in opened.content.decode()
    # The token moved into the session: the address left in the bar has none.
    form_url = opened.redirect_chain[-1][0]
    assert form_url.endswith("/imposta-password/") and path.split("/")[-2] not in form_url
    assert Client(HTTP_HOST=PALOSCO_HOST).get(form_url).status_code == 400
    html = invited.post(form_url, {"password1": "12345678", "password2": "12345678"}).content.decode()
    assert 'role="alert"' in html and "interamente numerica" in html
    assert invited.post(form_url, {"password1": STRONG, "password2": STRONG}).status_code == 302
    assert invited.get(form_url).status_code == 400
    assert _login("giulia.neri", STRONG).get("/admin/iscrizioni/").status_code == 200
    # The link works once: the token depends on the password it replaced.
    reused = Client(HTTP_HOST=PALOSCO_HOST).get(path)
    assert reused.status_code == 400 and "Collegamento non valido" in reused.content.decode()
    assert Client(HTTP_HOST=PALOSCO_HOST).get("/admin/imposta-password/xx/yy/").status_code == 400


def test_invitation_link_is_useless_on_another_comune(palosco, romano, admin_user, smtp_server) -> None:  # type: ignore[no-untyped-def]
    client_for(palosco, admin_user).post(
        reverse("staff_admin:bo_staff_new"), _new(password1="", password2="")
    )
    with tenant_context(palosco):
        run_pending_jobs()
    path = re.search(r"/admin/imposta-password/\S+/", smtp_server.bodies()[0]).group(0)
    response = Client(HTTP_HOST=ROMANO_HOST).post(path, {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 400
    assert Client(HTTP_HOST=ROMANO_HOST).get(path).status_code == 400
