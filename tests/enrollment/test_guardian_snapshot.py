"""A submitted or decided enrollment keeps the guardian data it was sent with
(security review D11): a later form changes the family's anagrafica and its
drafts, never what earlier forms show, export or mail."""

from __future__ import annotations

import csv
import importlib
import io
from datetime import date

import pytest
from django.apps import apps
from django.urls import reverse

from core.models import AuditEntry, OutgoingEmail
from enrollment import demo, documents
from enrollment.backoffice.roles import AMMINISTRATORE
from enrollment.backoffice.services import sportello_enrollment_create
from enrollment.models import Enrollment
from enrollment.services import (
    domanda_save,
    enrollment_confirm,
    enrollment_reopen,
    enrollment_withdraw,
    enrollments_submit,
)
from identity.models import Account
from tests.api.conftest import api_client, token_for
from tests.enrollment.backoffice.conftest import client_for, staff_create
from tests.enrollment.conftest import (
    SIBLING_BIRTH,
    SIBLING_CF,
    guardian_data,
    make_cf,
    pupil_data,
    service,
)

NEW_GUARDIAN_CF = make_cf(surname="BNC", name="NNA", birth=date(1982, 8, 1), female=True)
NEW_GUARDIAN = guardian_data(
    first_name="Anna",
    last_name="Bianchi",
    codice_fiscale=NEW_GUARDIAN_CF,
    email="anna@example.org",
    phone="035 999999",
)


def _sibling_form(account: Account) -> list[Enrollment]:
    """A second form, for the sibling, that rewrites the family's guardian."""
    return domanda_save(
        account=account,
        guardian_data=NEW_GUARDIAN,
        pupil_data=pupil_data(codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH, first_name="Giulia"),
        services=[service("POST")],
        consent=True,
    )


@pytest.fixture
def family(in_palosco, palosco_parent) -> tuple[Enrollment, Enrollment]:  # type: ignore[no-untyped-def]
    """A confirmed PRE form sent as Mario Rossi, then a POST form sent as Anna Bianchi."""
    staff = staff_create("admin.snapshot", AMMINISTRATORE)
    first = domanda_save(
        account=palosco_parent,
        guardian_data=guardian_data(),
        pupil_data=pupil_data(),
        services=[service("PRE")],
        extra={"PRE": {"motivo": "Lavoro"}},
        consent=True,
    )
    enrollments_submit(enrollments=first, by=palosco_parent)
    enrollment_confirm(enrollment=first[0], by=staff)
    second = _sibling_form(palosco_parent)
    enrollments_submit(enrollments=second, by=palosco_parent)
    return Enrollment.objects.get(pk=first[0].pk), Enrollment.objects.get(pk=second[0].pk)


def test_a_new_form_does_not_rewrite_the_guardian_of_a_confirmed_one(family, in_palosco) -> None:  # type: ignore[no-untyped-def]
    old, new = family
    assert old.guardian_id == new.guardian_id  # one anagrafica per family
    assert old.guardian.email == "anna@example.org"  # the live record did change
    shown = old.guardian_shown
    assert (shown.first_name, shown.last_name, shown.email) == ("Mario", "Rossi", "genitore@example.org")
    assert shown.codice_fiscale == guardian_data()["codice_fiscale"] and shown.phone == "035 123456"
    assert new.guardian_shown.full_name == "Anna Bianchi" and new.guardian_shown.email == "anna@example.org"
    context = documents.Riepilogo(comune=in_palosco, domanda=old.domanda).context()
    assert context["guardian"].email == "genitore@example.org"


def test_every_guardian_change_is_audited_with_its_fields_and_author(family, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    entry = AuditEntry.objects.get(action="guardian.updated")
    assert entry.actor == palosco_parent
    assert entry.object_id == str(family[0].guardian_id)
    assert sorted(entry.data["fields"]) == ["codice_fiscale", "email", "first_name", "last_name", "phone"]
    assert AuditEntry.objects.filter(action="guardian.created", actor=palosco_parent).count() == 1


def test_parent_pages_show_each_form_with_its_own_guardian(family, in_palosco, palosco_parent, login) -> None:  # type: ignore[no-untyped-def]
    old, new = family
    client = login(in_palosco, palosco_parent)
    html = client.get(f"/iscrizioni/domanda/{old.domanda}/").content.decode()
    assert "genitore@example.org" in html and "Mario Rossi" in html
    assert "anna@example.org" not in html and "Bianchi" not in html
    html = client.get(f"/iscrizioni/domanda/{new.domanda}/").content.decode()
    assert "anna@example.org" in html and "genitore@example.org" not in html


def test_a_draft_follows_the_live_guardian(family, in_palosco, palosco_parent, login) -> None:  # type: ignore[no-untyped-def]
    third = make_cf(name="SRA", birth=date(2018, 5, 4), female=True)
    draft = domanda_save(
        account=palosco_parent,
        guardian_data=NEW_GUARDIAN | {"email": "anna.nuova@example.org"},
        pupil_data=pupil_data(codice_fiscale=third, birth_date=date(2018, 5, 4), first_name="Sara"),
        services=[service("PRE")],
        extra={"PRE": {"motivo": "Lavoro"}},
        consent=True,
    )[0]
    assert draft.guardian_shown.email == "anna.nuova@example.org"
    html = login(in_palosco, palosco_parent).get(f"/iscrizioni/domanda/{draft.domanda}/").content.decode()
    assert "anna.nuova@example.org" in html
    old, new = (Enrollment.objects.get(pk=e.pk) for e in family)
    assert old.guardian_shown.email == "genitore@example.org"
    assert new.guardian_shown.email == "anna@example.org"


def test_editing_a_submitted_form_updates_only_that_form(family, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    old, new = family
    domanda_save(
        account=palosco_parent,
        guardian_data=NEW_GUARDIAN | {"phone": "035 777777"},
        pupil_data=pupil_data(codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH, first_name="Giulia"),
        services=[service("POST")],
        consent=True,
        domanda=new.domanda,
    )
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.guardian_shown.phone == "035 777777"
    assert old.guardian_shown.phone == "035 123456"


def test_back_office_detail_list_and_export_show_the_submitted_guardian(family, palosco) -> None:  # type: ignore[no-untyped-def]
    old, new = family
    client = client_for(palosco, Account.objects.get(username="admin.snapshot"))
    html = client.get(reverse("staff_admin:bo_detail", args=[old.pk])).content.decode()
    assert "genitore@example.org" in html and "Rossi Mario" in html and "anna@example.org" not in html
    html = client.get(reverse("staff_admin:bo_list")).content.decode()
    assert "Rossi Mario" in html and "Bianchi Anna" in html
    response = client.get(reverse("staff_admin:bo_export_csv"))
    table = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";")
    )
    by_ref = {row["Numero di riferimento"]: row for row in table}
    assert by_ref[old.reference]["Email"] == "genitore@example.org"
    assert by_ref[old.reference]["Nome genitore/tutore"] == "Mario"
    assert by_ref[new.reference]["Email"] == "anna@example.org"


def test_api_shows_the_submitted_guardian(family, in_palosco, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    old, new = family
    app = api_client(in_palosco, token_for(in_palosco, palosco_parent))
    guardian = app.get(f"/api/v1/enrollments/{old.domanda}/").json()["guardian"]
    assert guardian["email"] == "genitore@example.org" and guardian["first_name"] == "Mario"
    listed = {d["id"]: d["guardian"]["email"] for d in app.get("/api/v1/enrollments/").json()["results"]}
    assert listed == {str(old.domanda): "genitore@example.org", str(new.domanda): "anna@example.org"}


def test_outcome_mail_goes_to_the_guardian_the_form_was_sent_by(family) -> None:  # type: ignore[no-untyped-def]
    old, _ = family
    staff = Account.objects.get(username="admin.snapshot")
    enrollment_reopen(enrollment=old, by=staff)
    enrollment_confirm(enrollment=old, by=staff)
    mail = OutgoingEmail.objects.filter(purpose="enrollment_confirmed").latest("id")
    assert mail.to == ["genitore@example.org"] and "Gentile Mario Rossi" in mail.body
    receipt = OutgoingEmail.objects.filter(purpose="enrollment_submitted").latest("id")
    assert receipt.to == ["anna@example.org"] and "Gentile Anna Bianchi" in receipt.body


def test_withdrawn_draft_keeps_its_guardian_and_a_revived_row_follows_the_live_one(palosco_parent) -> None:  # type: ignore[no-untyped-def]
    draft = domanda_save(
        account=palosco_parent,
        guardian_data=guardian_data(),
        pupil_data=pupil_data(),
        services=[service("PRE")],
        consent=True,
    )[0]
    withdrawn = enrollment_withdraw(enrollment=draft, by=palosco_parent)
    assert withdrawn.guardian_snapshot["email"] == "genitore@example.org"
    revived = domanda_save(
        account=palosco_parent,
        guardian_data=NEW_GUARDIAN,
        pupil_data=pupil_data(),
        services=[service("PRE")],
        consent=True,
    )[0]
    assert revived.pk == draft.pk and revived.status == Enrollment.Status.BOZZA
    assert revived.guardian_snapshot == {} and revived.guardian_shown.email == "anna@example.org"


def test_sportello_enrollments_carry_a_snapshot_and_audit_the_guardian_change(family, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    old, _ = family
    staff = Account.objects.get(username="admin.snapshot")
    third = make_cf(name="SRA", birth=date(2018, 5, 4), female=True)
    (row,) = sportello_enrollment_create(
        by=staff,
        guardian_data=NEW_GUARDIAN | {"email": "sportello@example.org"},
        pupil_data=pupil_data(codice_fiscale=third, birth_date=date(2018, 5, 4), first_name="Sara"),
        services=[service("PRE")],
        extra={"PRE": {"motivo": "Lavoro"}},
    )
    assert row.guardian_id == old.guardian_id
    assert row.guardian_snapshot["email"] == "sportello@example.org"
    entry = AuditEntry.objects.filter(action="guardian.updated").latest("id")
    assert entry.actor == staff and entry.data["fields"] == ["email"]
    assert Enrollment.objects.get(pk=old.pk).guardian_shown.email == "genitore@example.org"


def test_demo_enrollments_keep_their_guardian_after_a_new_form(in_palosco) -> None:
    demo.load_comune(in_palosco)
    account = Account.objects.get(username="PAL-000001")
    last_year = list(Enrollment.objects.filter(guardian__account=account, school_year="2024/2025"))
    assert last_year and all(e.guardian_snapshot for e in last_year)
    before = {e.pk: e.guardian_shown for e in last_year}
    _sibling_form(account)
    for e in Enrollment.objects.filter(pk__in=before):
        assert e.guardian.email == "anna@example.org"
        assert e.guardian_shown == before[e.pk] and e.guardian_shown.email != "anna@example.org"


def test_migration_fills_the_snapshot_of_rows_already_submitted(palosco_parent) -> None:
    rows = domanda_save(
        account=palosco_parent,
        guardian_data=guardian_data(),
        pupil_data=pupil_data(),
        services=[service("PRE"), service("POST")],
        extra={"PRE": {"motivo": "Lavoro"}},
        consent=True,
    )
    sent = enrollments_submit(enrollments=rows[:1], by=palosco_parent)[0]
    Enrollment.objects.update(guardian_snapshot={})  # as the rows were before the migration
    migration = importlib.import_module("enrollment.migrations.0004_enrollment_guardian_snapshot")
    migration.fill_snapshots(apps, None)
    assert Enrollment.objects.get(pk=sent.pk).guardian_snapshot == sent.guardian.snapshot()
    assert Enrollment.objects.get(pk=rows[1].pk).guardian_snapshot == {}  # a draft follows the live data


def test_riepilogo_pdf_of_a_submitted_form_is_not_invalidated_by_a_later_form(
    in_palosco, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    rows = domanda_save(
        account=palosco_parent,
        guardian_data=guardian_data(),
        pupil_data=pupil_data(),
        services=[service("PRE")],
        extra={"PRE": {"motivo": "Lavoro"}},
        consent=True,
    )
    draft_version = documents.Riepilogo(comune=in_palosco, domanda=rows[0].domanda).version()
    enrollments_submit(enrollments=rows, by=palosco_parent)
    sent_version = documents.Riepilogo(comune=in_palosco, domanda=rows[0].domanda).version()
    assert sent_version != draft_version
    _sibling_form(palosco_parent)
    assert documents.Riepilogo(comune=in_palosco, domanda=rows[0].domanda).version() == sent_version
