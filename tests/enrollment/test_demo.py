"""The demo families load idempotently and can renew last year's enrollments."""

from __future__ import annotations

from enrollment import demo
from enrollment.models import Enrollment, Pupil
from enrollment.selectors import renewals_available
from identity.models import Account


def test_palosco_demo_is_idempotent_and_renewable(in_palosco) -> None:
    demo.load_comune(in_palosco)
    demo.load_comune(in_palosco)
    account = Account.objects.get(username="PAL-000001")
    assert account.check_password(demo.DEMO_PARENT_PASSWORD)
    assert account.kind == Account.Kind.PARENT
    assert Pupil.objects.filter(guardian__account=account).count() == 2
    confirmed = Enrollment.objects.filter(status=Enrollment.Status.CONFERMATA, school_year="2024/2025")
    assert confirmed.count() == 3
    renewals = renewals_available(guardian=account.guardian)
    assert sorted((e.pupil.first_name, t.code, t.school_year) for e, t in renewals) == [
        ("Luca", "POST", "2025/2026"),
        ("Luca", "PRE", "2025/2026"),
        ("Sara", "PRE", "2025/2026"),
    ]


def test_romano_demo_attaches_to_an_existing_account(in_romano) -> None:
    existing = Account.objects.create_user(
        username="ROM-000001", codice_utente="ROM-000001", kind=Account.Kind.PARENT, first_name="Giulia"
    )
    demo.load_comune(in_romano)
    assert existing.guardian.pupils.count() == 2
    assert not existing.has_usable_password()  # identity's account is left as it is
    verdi = Account.objects.get(username="ROM-000002")
    assert [t.code for _, t in renewals_available(guardian=verdi.guardian)] == ["MENSA"]


def test_romano_demo_has_one_rata_paid_and_one_to_pay(in_romano) -> None:
    from payments.selectors import instalment_label, instalments_for_account

    demo.load_comune(in_romano)
    demo.load_comune(in_romano)
    account = Account.objects.get(username="ROM-000001")
    anna = Enrollment.objects.get(
        pupil__first_name="Anna", service__code="TRASPORTO", school_year="2025/2026"
    )
    assert anna.status == Enrollment.Status.CONFERMATA
    rate = list(instalments_for_account(account=account))
    assert [(i.amount_cents, instalment_label(i)) for i in rate] == [(9000, "Pagato"), (9000, "Da pagare")]
