"""Demo families for `make run`: guardians, pupils (siblings) and last year's
confirmed enrollments, so that "Rinnova iscrizione" can be tried on both comuni;
and in Romano a new, confirmed 2025/26 TRASPORTO for ROM-000001's daughter
Anna (not one of last year's services, so every renewal stays available),
whose debt position has one rata paid and one to pay, so that "Pagamenti"
shows both.

Parent accounts are identity's demo accounts (codice utente PAL-000001,
ROM-000001, ROM-000002; identity/demo.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from stdnum.it import codicefiscale

from enrollment.billing import enrollment_debt_open
from enrollment.models import Enrollment, Guardian, Pupil, Service
from enrollment.selectors import comune_current
from enrollment.services import reference_allocate
from identity import demo as identity_demo
from identity.models import Account
from payments.services import receipt_record
from tenants.models import Comune

DEMO_PARENT_PASSWORD = identity_demo.DEMO_PARENT_PASSWORD
LAST_YEAR = "2024/2025"
MONTHS = "ABCDEHLMPRST"


# The Belfiore codes the demo's codici fiscali use, and the places they name.
BIRTH_PLACES = {"A794": "Bergamo", "H509": "Romano di Lombardia"}


def _cf(surname: str, name: str, birth: date, *, female: bool, place: str) -> str:
    day = birth.day + (40 if female else 0)
    body = f"{surname}{name}{birth.year % 100:02d}{MONTHS[birth.month - 1]}{day:02d}{place}"
    return body + codicefiscale.calc_check_digit(body)


FAMILIES: dict[str, list[dict[str, Any]]] = {
    "palosco": [
        {
            "code": "PAL-000001",
            "guardian": ("Mario", "Rossi", _cf("RSS", "MRA", date(1982, 4, 12), female=False, place="A794")),
            "email": "mario.rossi@example.org",
            "phone": "035 845001",
            "address": "Via Roma 10",
            "cap": "24050",
            "city": "Palosco",
            "pupils": [
                ("Luca", "Rossi", date(2016, 9, 3), False, "primaria", "3ª A", ["PRE", "POST"]),
                ("Sara", "Rossi", date(2018, 2, 21), True, "primaria", "1ª A", ["PRE"]),
            ],
        }
    ],
    "romanodilombardia": [
        {
            "code": "ROM-000001",
            "guardian": (
                "Giulia",
                "Bianchi",
                _cf("BNC", "GLI", date(1985, 7, 30), female=True, place="H509"),
            ),
            "email": "giulia.bianchi@example.org",
            "phone": "0363 900001",
            "address": "Via Mazzini 5",
            "cap": "24058",
            "city": "Romano di Lombardia",
            "pupils": [
                ("Marco", "Bianchi", date(2015, 5, 14), False, "primaria", "4ª B", ["MENSA", "TRASPORTO"]),
                ("Anna", "Bianchi", date(2019, 11, 2), True, "infanzia", "Sez. Gialli", ["MENSA"]),
            ],
        },
        {
            "code": "ROM-000002",
            "guardian": ("Luca", "Verdi", _cf("VRD", "LCU", date(1979, 1, 8), female=False, place="H509")),
            "email": "luca.verdi@example.org",
            "phone": "0363 900002",
            "address": "Via Dante 22",
            "cap": "24058",
            "city": "Romano di Lombardia",
            "pupils": [("Elena", "Verdi", date(2013, 3, 19), True, "secondaria", "1ª C", ["MENSA"])],
        },
    ],
}


def _account(code: str) -> Account:
    """The demo parent with this codice utente, created by identity's demo loader."""
    account = Account.objects.filter(codice_utente=code).first()
    if account is None:
        identity_demo.load_comune(comune_current())
        account = Account.objects.get(codice_utente=code)
    return account


def load_comune(comune: Comune) -> None:
    now = timezone.now()
    for family in FAMILIES.get(comune.slug, []):
        first, last, cf = family["guardian"]
        with transaction.atomic():
            account = _account(family["code"])
            guardian, _ = Guardian.objects.get_or_create(
                account=account,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "codice_fiscale": cf,
                    **{k: family[k] for k in ("email", "phone", "address", "cap", "city")},
                },
            )
            for p_first, p_last, birth, female, school, class_section, codes in family["pupils"]:
                place = "A794" if comune.slug == "palosco" else "H509"
                p_cf = _cf(p_last[:3].upper(), p_first[:3].upper(), birth, female=female, place=place)
                pupil, _ = Pupil.objects.get_or_create(
                    codice_fiscale=p_cf,
                    defaults={
                        "guardian": guardian,
                        "first_name": p_first,
                        "last_name": p_last,
                        "birth_date": birth,
                        "birth_place": BIRTH_PLACES[place],
                        "school": school,
                        "class_section": class_section,
                    },
                )
                for code in codes:
                    service = Service.objects.filter(code=code, school_year=LAST_YEAR).first()
                    if service is None or Enrollment.objects.filter(pupil=pupil, service=service).exists():
                        continue
                    Enrollment.objects.create(
                        pupil=pupil,
                        guardian=guardian,
                        service=service,
                        school_year=LAST_YEAR,
                        kind=Enrollment.Kind.NUOVA,
                        status=Enrollment.Status.CONFERMATA,
                        reference=reference_allocate(year=2024),
                        first_saved_at=service.opens_at,
                        updated_at=now,
                        submitted_at=service.opens_at,
                        decided_at=service.closes_at,
                        guardian_snapshot=guardian.snapshot(),
                    )
    if comune.slug == "romanodilombardia":
        _paid_and_unpaid(comune)


def _paid_and_unpaid(comune: Comune) -> None:
    """ROM-000001's Anna: TRASPORTO 2025/2026 confirmed, first rata paid, second to pay."""
    service = Service.objects.filter(code="TRASPORTO", school_year="2025/2026").first()
    pupil = Pupil.objects.filter(first_name="Anna", last_name="Bianchi").first()
    if comune.settings.payments is None or service is None or pupil is None:
        return
    with transaction.atomic():
        if Enrollment.objects.filter(pupil=pupil, service=service).exists():
            return
        now = timezone.now()
        enrollment = Enrollment.objects.create(
            pupil=pupil,
            guardian=pupil.guardian,
            service=service,
            school_year=service.school_year,
            kind=Enrollment.Kind.NUOVA,
            status=Enrollment.Status.CONFERMATA,
            reference=reference_allocate(year=2025),
            extra={"fermata": "Via Mazzini 5"},
            first_saved_at=now,
            updated_at=now,
            submitted_at=now,
            decided_at=now,
            guardian_snapshot=pupil.guardian.snapshot(),
        )
        position = enrollment_debt_open(enrollment=enrollment, by=None)
        if position is None:
            return
        first = position.instalments.get(number=1)
        receipt_record(
            iuv=first.iuv,
            receipt_id=f"demo-{first.iuv}",
            amount_cents=first.amount_cents,
            paid_at=now,
            channel="pagoPA",
        )


def banner_lines(*, port: int) -> list[str]:
    return [
        "Genitori demo (iscrizioni 2024/2025 confermate, da rinnovare in Anagrafiche > Rinnova iscrizione):",
        f"  Palosco: PAL-000001 (Mario Rossi, due figli) / {DEMO_PARENT_PASSWORD}"
        f"  http://palosco.localhost:{port}/iscrizioni/",
        f"  Romano:  ROM-000001 (Giulia Bianchi, due figli), ROM-000002 (Luca Verdi) / {DEMO_PARENT_PASSWORD}"
        f"  http://romanodilombardia.localhost:{port}/iscrizioni/",
        "",
    ]
