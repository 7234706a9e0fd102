"""Every transition and rule of enrollment, through the service functions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry, OutgoingEmail
from enrollment.models import Enrollment, PrivacyConsent
from enrollment.renewals import renewal_save
from enrollment.rules import PRIVACY_TEXT, PRIVACY_VERSION
from enrollment.selectors import renewals_available
from enrollment.services import (
    EnrollmentError,
    enrollment_confirm,
    enrollment_reject,
    enrollment_reopen,
    enrollment_submit,
    enrollment_withdraw,
    enrollments_submit,
)
from identity.models import Account
from tests.enrollment.conftest import (
    PUPIL_CF,
    SIBLING_BIRTH,
    SIBLING_CF,
    guardian_data,
    parent_create,
    pupil_data,
    service,
)
from tests.factories import StaffFactory, domanda_create, last_year_confirmed

S = Enrollment.Status


save = domanda_create


def staff(username: str = "ufficio.test") -> Account:
    return StaffFactory(username=username)


def test_save_creates_one_bozza_per_service_with_reference_and_consent(palosco_parent) -> None:
    rows = save(palosco_parent, [service("PRE"), service("POST")])
    assert len(rows) == 2
    assert {r.status for r in rows} == {S.BOZZA}
    assert len({r.domanda for r in rows}) == 1
    for r in rows:
        assert re.fullmatch(r"2025-\d{6}", r.reference)
        assert r.first_saved_at and r.updated_at and r.submitted_at is None
        assert r.school_year == "2025/2026"
    assert rows[0].reference != rows[1].reference
    assert rows[0].extra == {"motivo": "Lavoro"} or rows[1].extra == {"motivo": "Lavoro"}
    consent = PrivacyConsent.objects.get()
    assert consent.text == PRIVACY_TEXT
    assert consent.text_version == PRIVACY_VERSION
    assert consent.account == palosco_parent
    assert AuditEntry.objects.filter(action="enrollment.saved").count() == 2


def test_references_are_sequential_per_year(palosco_parent) -> None:
    a = save(palosco_parent, [service("PRE")])[0]
    b = save(palosco_parent, [service("POST")], pupil=pupil_data(codice_fiscale=PUPIL_CF))[0]
    assert int(b.reference[-6:]) == int(a.reference[-6:]) + 1


def test_consent_and_service_are_required(palosco_parent) -> None:
    with pytest.raises(EnrollmentError, match="autorizzare il trattamento"):
        save(palosco_parent, [service("PRE")], consent=False)
    with pytest.raises(EnrollmentError, match="almeno un servizio"):
        save(palosco_parent, [])
    assert not Enrollment.objects.exists()


def test_one_enrollment_per_pupil_service_year_is_a_database_rule(palosco_parent) -> None:
    first = save(palosco_parent, [service("PRE")])[0]
    with pytest.raises(EnrollmentError, match="ha già un'iscrizione a PRE SCUOLA"):
        save(palosco_parent, [service("PRE")])
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(
            pupil=first.pupil,
            guardian=first.guardian,
            service=first.service,
            school_year=first.school_year,
            reference="2025-999999",
        )


def test_pupil_of_another_guardian_is_refused(palosco_parent) -> None:
    save(palosco_parent, [service("PRE")])
    other = parent_create(username="PAL-000901", email="altro@example.org")
    with pytest.raises(EnrollmentError, match="Non è possibile salvare l'iscrizione") as refused:
        save(other, [service("POST")])
    # The answer must not confirm that another family enrolled this child.
    assert "registrato" not in refused.value.message and "genitore" not in refused.value.message


def test_siblings_sit_under_the_same_guardian(palosco_parent) -> None:
    a = save(palosco_parent, [service("PRE")])[0]
    b = save(
        palosco_parent,
        [service("PRE")],
        pupil=pupil_data(first_name="Giulia", codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH),
    )[0]
    assert a.guardian == b.guardian
    assert a.pupil != b.pupil
    assert a.guardian.pupils.count() == 2


def test_service_accepting_only_renewals_refuses_new(romano_parent) -> None:
    with pytest.raises(EnrollmentError, match="accetta solo rinnovi"):
        save(romano_parent, [service("PRE")])


def test_outside_window_is_refused_with_the_dates(palosco_parent) -> None:
    pre = service("PRE")
    rows = save(palosco_parent, [pre])
    pre.closes_at = timezone.now() - timedelta(days=1)
    pre.opens_at = pre.closes_at - timedelta(days=30)
    pre.save()
    with pytest.raises(EnrollmentError) as exc:
        enrollment_submit(enrollment=rows[0], by=palosco_parent)
    opens = timezone.localtime(pre.opens_at).strftime("%d/%m/%Y %H:%M")
    closes = timezone.localtime(pre.closes_at).strftime("%d/%m/%Y %H:%M")
    assert exc.value.message == f"Le iscrizioni a PRE SCUOLA 2025/2026 sono aperte dal {opens} al {closes}."
    assert exc.value.code == "outside_window"
    rows[0].refresh_from_db()
    assert rows[0].status == S.BOZZA
    with pytest.raises(EnrollmentError, match="sono aperte dal"):
        save(palosco_parent, [pre], pupil=pupil_data(codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH))


def test_submit_moves_bozza_to_inviata_once_with_one_receipt(palosco_parent) -> None:
    rows = save(palosco_parent, [service("PRE"), service("POST")])
    submitted = enrollments_submit(enrollments=rows, by=palosco_parent)
    assert {e.status for e in submitted} == {S.INVIATA}
    assert all(e.submitted_at for e in submitted)
    again = enrollments_submit(enrollments=rows, by=palosco_parent)
    assert [e.pk for e in again] == [e.pk for e in submitted]
    assert [e.submitted_at for e in again] == [e.submitted_at for e in submitted]
    assert OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() == 1
    assert OutgoingEmail.objects.filter(purpose="credentials_letter").count() == 1
    receipt = OutgoingEmail.objects.get(purpose="enrollment_submitted")
    assert receipt.to == ["genitore@example.org"]
    # No PDF to render for the receipt: it links the riepilogo, rendered at its first download.
    assert receipt.attachments == []
    link = reverse("enrollment:riepilogo_pdf", args=[rows[0].domanda])
    assert f"https://palosco.localhost{link}" in receipt.body
    assert AuditEntry.objects.filter(action="enrollment.submitted").count() == 2
    assert Enrollment.objects.count() == 2


def test_submit_queues_letter_and_receipt_together_under_the_lock_each_with_its_job(palosco_parent) -> None:
    rows = save(palosco_parent, [service("PRE")])
    with CaptureQueriesContext(connection) as queries:
        enrollments_submit(enrollments=rows, by=palosco_parent)
    statements = [q["sql"] for q in queries]
    locked = next(n for n, sql in enumerate(statements) if sql.startswith('SELECT "enrollment_service"'))
    inserts = [n for n, sql in enumerate(statements) if sql.startswith('INSERT INTO "core_outgoingemail"')]
    defers = [n for n, sql in enumerate(statements) if "procrastinate_defer_jobs" in sql]
    assert len(inserts) == len(defers) == 1 and locked < inserts[0] < defers[0]
    letter, receipt = OutgoingEmail.objects.order_by("pk")
    assert (letter.purpose, receipt.purpose) == ("credentials_letter", "enrollment_submitted")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (args->>'email_id')::int FROM procrastinate_jobs "
            "WHERE task_name = 'core.email_send' AND args->>'schema_name' = 'palosco' ORDER BY id"
        )
        assert [row[0] for row in cursor.fetchall()] == [letter.pk, receipt.pk]


def test_only_the_first_submission_claims_the_letter_and_a_later_one_makes_no_statement_for_it(
    palosco_parent,
) -> None:
    first = save(palosco_parent, [service("PRE")])
    second = save(
        palosco_parent,
        [service("POST")],
        pupil=pupil_data(codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH),
    )
    with CaptureQueriesContext(connection) as queries:
        enrollments_submit(enrollments=first, by=palosco_parent)
    statements = [q["sql"] for q in queries]
    claims = [n for n, sql in enumerate(statements) if sql.startswith('UPDATE "identity_account"')]
    locked = next(n for n, sql in enumerate(statements) if sql.startswith('SELECT "enrollment_service"'))
    assert len(claims) == 1 and claims[0] < locked  # the account's row before the services', always
    with CaptureQueriesContext(connection) as queries:
        enrollments_submit(enrollments=second, by=palosco_parent)
    statements = [q["sql"] for q in queries]
    assert not [
        sql
        for sql in statements
        if sql.startswith(('UPDATE "identity_account"', 'SELECT "identity_account"'))
    ]
    mails = [sql for sql in statements if "core_outgoingemail" in sql]
    assert len(mails) == 1 and mails[0].startswith('INSERT INTO "core_outgoingemail"')  # the receipt alone
    assert OutgoingEmail.objects.filter(purpose="credentials_letter").count() == 1
    assert OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() == 2


def test_full_service_puts_the_enrollment_on_the_waiting_list(palosco_parent) -> None:
    post = service("POST")
    post.capacity = 1
    post.save()
    a = save(palosco_parent, [post])[0]
    b = save(palosco_parent, [post], pupil=pupil_data(codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH))[0]
    a = enrollment_submit(enrollment=a, by=palosco_parent)
    b = enrollment_submit(enrollment=b, by=palosco_parent)
    assert a.waiting_position is None
    assert b.status == S.INVIATA and b.waiting_position == 1 and b.on_waiting_list
    with pytest.raises(EnrollmentError, match="lista d'attesa"):
        enrollment_confirm(enrollment=b, by=staff())


def test_staff_transitions_with_audit_and_mail(palosco_parent) -> None:
    office = staff()
    e = enrollment_submit(enrollment=save(palosco_parent, [service("PRE")])[0], by=palosco_parent)
    e = enrollment_confirm(enrollment=e, by=office, note="Benvenuti")
    assert e.status == S.CONFERMATA
    assert e.decided_at is not None
    with pytest.raises(EnrollmentError, match="non può passare a Confermata"):
        enrollment_confirm(enrollment=e, by=office)
    with pytest.raises(EnrollmentError, match="non può passare a Annullata"):
        enrollment_withdraw(enrollment=e, by=palosco_parent)
    e = enrollment_reopen(enrollment=e, by=office)
    assert e.status == S.INVIATA and e.decided_at is None
    with pytest.raises(EnrollmentError, match="motivo del rifiuto"):
        enrollment_reject(enrollment=e, by=office, reason="  ")
    e = enrollment_reject(enrollment=e, by=office, reason="Residenza fuori comune")
    assert e.status == S.RESPINTA and e.outcome_note == "Residenza fuori comune"
    actions = list(AuditEntry.objects.filter(object_id=str(e.pk)).values_list("action", flat=True))
    for action in ("enrollment.confirmed", "enrollment.reopened", "enrollment.rejected"):
        assert action in actions
    rejected = AuditEntry.objects.get(action="enrollment.rejected")
    assert rejected.data["before"] == "inviata" and rejected.data["after"] == "respinta"
    assert rejected.actor == office
    purposes = list(OutgoingEmail.objects.values_list("purpose", flat=True))
    assert purposes.count("enrollment_confirmed") == 1
    assert purposes.count("enrollment_rejected") == 1
    body = OutgoingEmail.objects.get(purpose="enrollment_rejected").body
    assert "Residenza fuori comune" in body and e.reference in body


def test_bozza_cannot_be_confirmed(palosco_parent) -> None:
    e = save(palosco_parent, [service("PRE")])[0]
    with pytest.raises(EnrollmentError, match="in stato Bozza"):
        enrollment_confirm(enrollment=e, by=staff())


def test_withdraw_before_confirmation_and_enrol_again(palosco_parent) -> None:
    e = enrollment_submit(enrollment=save(palosco_parent, [service("PRE")])[0], by=palosco_parent)
    e = enrollment_withdraw(enrollment=e, by=palosco_parent)
    assert e.status == S.ANNULLATA
    with pytest.raises(EnrollmentError, match="annullata"):
        enrollment_submit(enrollment=e, by=palosco_parent)
    again = save(palosco_parent, [service("PRE")])[0]
    assert again.pk == e.pk and again.status == S.BOZZA and again.submitted_at is None


def test_editing_is_allowed_until_staff_act(palosco_parent) -> None:
    rows = save(palosco_parent, [service("PRE")])
    e = enrollment_submit(enrollment=rows[0], by=palosco_parent)
    updated = save(
        palosco_parent, [service("PRE")], domanda=e.domanda, pupil=pupil_data(class_section="4ª B")
    )
    assert updated[0].pupil.class_section == "4ª B"
    assert updated[0].status == S.INVIATA
    with pytest.raises(EnrollmentError, match="non è possibile cambiare i servizi"):
        save(palosco_parent, [service("PRE"), service("POST")], domanda=e.domanda)
    enrollment_confirm(enrollment=e, by=staff())
    with pytest.raises(EnrollmentError, match="non può più essere modificata"):
        save(palosco_parent, [service("PRE")], domanda=e.domanda)


def test_draft_services_can_change_and_removed_rows_go(palosco_parent) -> None:
    rows = save(palosco_parent, [service("PRE"), service("POST")])
    kept = save(palosco_parent, [service("POST")], domanda=rows[0].domanda)
    assert [e.service.code for e in kept] == ["POST"]
    assert Enrollment.objects.count() == 1


def test_draft_of_codice_fiscale_account_mails_a_temporary_password(in_palosco) -> None:
    account = Account.objects.create_user(
        username=PUPIL_CF,
        codice_fiscale=PUPIL_CF,
        kind=Account.Kind.PARENT,
        created_by_backend="codice_fiscale",
        email="nuovo@example.org",
        email_verified_at=timezone.now(),
    )
    assert not account.has_usable_password()
    save(account, [service("PRE")], draft=True)
    account.refresh_from_db()
    assert account.has_usable_password() and account.must_change_password
    mail = OutgoingEmail.objects.get(purpose="temporary_password")
    assert mail.to == ["nuovo@example.org"]
    save(account, [service("PRE")], domanda=Enrollment.objects.get().domanda, draft=True)
    assert OutgoingEmail.objects.filter(purpose="temporary_password").count() == 1


def test_draft_exists_only_for_new_enrollments(palosco_parent) -> None:
    with pytest.raises(EnrollmentError, match="solo per le nuove iscrizioni"):
        save(palosco_parent, [service("PRE")], draft=True, kind=Enrollment.Kind.RINNOVO)


def _last_year_confirmed(account, code="PRE"):  # type: ignore[no-untyped-def]
    return last_year_confirmed(account, code, extra={}, reference="2024-000001")


def test_renewal_lists_last_year_and_creates_a_prefilled_rinnovo(palosco_parent) -> None:
    previous = _last_year_confirmed(palosco_parent)
    available = renewals_available(guardian=previous.guardian)
    assert [(p.pk, t.school_year) for p, t in available] == [(previous.pk, "2025/2026")]
    rows = renewal_save(
        account=palosco_parent,
        previous=previous,
        guardian_data=guardian_data(phone="035 999999"),
        pupil_data=pupil_data(class_section="4ª A"),
        extra={"PRE": {"motivo": "Lavoro"}},
        consent=True,
    )
    r = rows[0]
    assert r.kind == Enrollment.Kind.RINNOVO and r.renewal_of == previous
    assert r.service == service("PRE") and r.status == S.BOZZA
    assert r.guardian.phone == "035 999999"
    assert renewals_available(guardian=previous.guardian) == []
    r = enrollment_submit(enrollment=r, by=palosco_parent)
    assert r.status == S.INVIATA


def test_renewal_of_someone_elses_enrollment_is_refused(palosco_parent) -> None:
    previous = _last_year_confirmed(palosco_parent)
    other = parent_create(username="PAL-000901", email="altro@example.org")
    with pytest.raises(EnrollmentError, match="non trovata"):
        renewal_save(
            account=other,
            previous=previous,
            guardian_data=guardian_data(),
            pupil_data=pupil_data(),
            consent=True,
        )


def test_renewal_needs_a_service_accepting_renewals(palosco_parent) -> None:
    previous = _last_year_confirmed(palosco_parent)
    pre = service("PRE")
    pre.renewals = False
    pre.save()
    assert renewals_available(guardian=previous.guardian) == []
    with pytest.raises(EnrollmentError, match="non è disponibile"):
        renewal_save(
            account=palosco_parent,
            previous=previous,
            guardian_data=guardian_data(),
            pupil_data=pupil_data(),
            consent=True,
        )
