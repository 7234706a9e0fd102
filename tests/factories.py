"""The suite's builders: accounts, families, enrollments and API tokens.

Every test that needs a row asks here, so a family looks the same in every
test and a model change is fixed in one place. Model rows come from
factory-boy factories; what a parent does (save a form, submit it) goes
through the real services, so the audit trail, references and snapshots are
the ones production writes.

The factories write to the schema that is active: call them inside
`in_palosco`/`in_romano` (or `tenant_context`) for a comune's rows, in the
public schema for operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory
from stdnum.it import codicefiscale

from api.models import ApiToken
from api.services import token_issue
from enrollment.backoffice.roles import staff_roles_ensure
from enrollment.models import Enrollment, Guardian, PrivacyConsent, Pupil, Service, Upload
from enrollment.services import domanda_save, enrollments_submit
from enrollment.uploads import upload_check, upload_store
from identity.models import Account

MONTHS = "ABCDEHLMPRST"


def make_cf(
    *, surname: str = "RSS", name: str = "LCU", birth: date, female: bool = False, place: str = "A794"
) -> str:
    """A valid codice fiscale (check character by python-stdnum), born in Bergamo (A794) unless told."""
    day = birth.day + (40 if female else 0)
    body = f"{surname}{name}{birth.year % 100:02d}{MONTHS[birth.month - 1]}{day:02d}{place}"
    return body + codicefiscale.calc_check_digit(body)


def letters(n: int) -> str:
    """Three letters unique for each n below 26³, for the name part of a codice fiscale."""
    return chr(65 + n // 676 % 26) + chr(65 + n // 26 % 26) + chr(65 + n % 26)


# The family most tests use: Mario Rossi and his children Luca and Giulia.
GUARDIAN_CF = "RSSMRA80A01H501U"
PUPIL_BIRTH = date(2017, 3, 10)
PUPIL_CF = make_cf(birth=PUPIL_BIRTH)
SIBLING_BIRTH = date(2019, 6, 2)
SIBLING_CF = make_cf(name="GLI", birth=SIBLING_BIRTH, female=True)
GUARDIAN_BIRTH = date(1980, 1, 1)
PARENT_PASSWORD = "Password-Genitore-1"
# The answers the services' questions need (PRE's reason, TRASPORTO's stop).
# Complete answers to each demo service's required questions (a draft missing one is not sent).
ANSWERS: dict[str, dict[str, Any]] = {
    "PRE": {"motivo": "Lavoro"},
    "TRASPORTO": {"fermata": "Via Dante 3"},
    "CRE": {"settimane": ["1ª settimana (29/6–3/7)"]},
}


class AccountFactory(DjangoModelFactory[Account]):
    """An account of the active schema, made like the product makes them (`create_user`):
    without `password` it has an unusable one."""

    class Meta:
        model = Account

    username = factory.Sequence(lambda n: f"account.{n}")
    password: str | None = None

    @classmethod
    def _create(cls, model_class: type[Account], *args: Any, **kwargs: Any) -> Account:
        return model_class.objects.create_user(*args, **kwargs)


class ParentFactory(AccountFactory):
    """A parent with a codice utente (PAL-…) and a verified e-mail address.

    `issued=True`: the account as the comune issues it, before the parent
    ever signed in (no name, no e-mail address yet).
    `new_enrollee=True`: the account "Sono un nuovo iscritto" creates, whose
    login is the pupil's codice fiscale (give `username`).
    """

    class Meta:
        model = Account

    class Params:
        issued = factory.Trait(first_name="", last_name="", email="", email_verified_at=None)
        new_enrollee = factory.Trait(
            codice_fiscale=factory.SelfAttribute("username"),
            created_by_backend="codice_fiscale",
            first_name="",
            last_name="",
            email="nuovo@example.org",
            password=None,
        )

    # Far from the numbers tests spell out (PAL-000001, PAL-000900, ...).
    username = factory.Sequence(lambda n: f"PAL-{500000 + n:06d}")
    # A codice utente looks like PAL-000900; a codice fiscale login has none.
    codice_utente = factory.LazyAttribute(lambda o: o.username if "-" in o.username else None)
    password = PARENT_PASSWORD
    kind = Account.Kind.PARENT
    first_name = "Mario"
    last_name = "Rossi"
    email = "genitore@example.org"
    email_verified_at = factory.LazyFunction(timezone.now)


class StaffFactory(AccountFactory):
    """A comune's staff member; `role` names a back-office group (AMMINISTRATORE, ...)."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"ufficio.{n}")
    kind = Account.Kind.STAFF
    is_staff = True
    first_name = "Anna"
    last_name = "Ufficio"

    @factory.post_generation
    def role(obj: Account, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if not create:
            return
        staff_roles_ensure()
        if extracted:
            obj.groups.add(Group.objects.get(name=extracted))


class OperatorFactory(AccountFactory):
    """A platform operator (public schema)."""

    class Meta:
        model = Account

    username = factory.Sequence(lambda n: f"operatore.{n}")
    kind = Account.Kind.OPERATOR
    is_staff = True
    is_superuser = True


class GuardianFactory(DjangoModelFactory[Guardian]):
    """The guardian's anagrafica; each gets its own valid codice fiscale."""

    class Meta:
        model = Guardian

    account = factory.SubFactory(ParentFactory)
    first_name = "Mario"
    last_name = "Rossi"
    codice_fiscale = factory.Sequence(lambda n: make_cf(name=letters(n), birth=GUARDIAN_BIRTH, place="H501"))
    email = "genitore@example.org"
    phone = "035 123456"
    address = "Via Roma 1"
    cap = "24050"
    city = "Palosco"


class PupilFactory(DjangoModelFactory[Pupil]):
    """A pupil; each gets its own valid codice fiscale (the field is unique)."""

    class Meta:
        model = Pupil

    guardian = factory.SubFactory(GuardianFactory)
    first_name = "Luca"
    last_name = "Rossi"
    birth_date = PUPIL_BIRTH
    codice_fiscale = factory.LazyAttributeSequence(lambda o, n: make_cf(name=letters(n), birth=o.birth_date))
    birth_place = "Bergamo"
    school = Pupil.School.PRIMARIA
    class_section = "3ª A"


class EnrollmentFactory(DjangoModelFactory[Enrollment]):
    """An enrollment row as stored, in any status: for tests about stored data.

    Tests about what a parent or the staff do use `domanda_create`, which goes
    through the services."""

    class Meta:
        model = Enrollment

    pupil = factory.SubFactory(PupilFactory)
    guardian = factory.SelfAttribute("pupil.guardian")
    service = factory.LazyFunction(lambda: Service.objects.get(code="PRE", school_year="2025/2026"))
    school_year = factory.SelfAttribute("service.school_year")
    reference = factory.Sequence(lambda n: f"2025-{900000 + n:06d}")


class PrivacyConsentFactory(DjangoModelFactory[PrivacyConsent]):
    class Meta:
        model = PrivacyConsent

    guardian = factory.SubFactory(GuardianFactory)
    account = factory.SelfAttribute("guardian.account")
    text_version = "v1"
    text = "Informativa"


class ApiTokenFactory(DjangoModelFactory[ApiToken]):
    """A device's token, issued by the API's own service; `.key` holds its clear value."""

    class Meta:
        model = ApiToken

    account = factory.SubFactory(ParentFactory)
    device_name = "Telefono di prova"
    backend = "credentials"

    @classmethod
    def _create(cls, model_class: type[ApiToken], *args: Any, **kwargs: Any) -> ApiToken:
        issued = token_issue(**kwargs)
        issued.token.key = issued.key  # type: ignore[attr-defined]
        return issued.token


def _fields(
    factory_class: type[DjangoModelFactory[Any]], relation: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    """The model's fields as a form carries them: a stub (nothing saved), without its relation."""
    data = dict(vars(factory_class.stub(**{relation: None, **overrides})))
    del data[relation]
    return data


def guardian_data(**overrides: Any) -> dict[str, Any]:
    """The guardian's part of a form (Mario Rossi, GUARDIAN_CF, unless overridden)."""
    return _fields(GuardianFactory, "account", {"codice_fiscale": GUARDIAN_CF, **overrides})


def pupil_data(**overrides: Any) -> dict[str, Any]:
    """The pupil's part of a form (Luca Rossi, PUPIL_CF, unless overridden)."""
    return _fields(PupilFactory, "guardian", {"codice_fiscale": PUPIL_CF, **overrides})


def domanda_create(
    account: Account,
    services: Sequence[Service],
    *,
    guardian: dict[str, Any] | None = None,
    pupil: dict[str, Any] | None = None,
    extra: dict[str, dict[str, str]] | None = None,
    consent: bool = True,
    submit: bool = False,
    **options: Any,
) -> list[Enrollment]:
    """A form saved by `account` through `domanda_save` (and submitted when `submit`).

    `options` go to `domanda_save` (`draft`, `domanda`, `kind`, ...)."""
    rows = domanda_save(
        account=account,
        guardian_data=guardian if guardian is not None else guardian_data(),
        pupil_data=pupil if pupil is not None else pupil_data(),
        services=services,
        extra=ANSWERS if extra is None else extra,
        consent=consent,
        **options,
    )
    return enrollments_submit(enrollments=rows, by=account) if submit else rows


def submitted(
    service: Service,
    *,
    last_name: str = "Rossi",
    first_name: str = "Luca",
    email: str = "genitore@example.org",
) -> Enrollment:
    """A new enrollment of a fresh family (own parent account and codici fiscali),
    submitted by the parent."""
    rows = domanda_create(
        ParentFactory.create(email=email),
        [service],
        guardian=_fields(GuardianFactory, "account", {"email": email}),
        pupil=_fields(PupilFactory, "guardian", {"last_name": last_name, "first_name": first_name}),
        submit=True,
    )
    return rows[0]


def last_year_confirmed(
    account: Account,
    code: str = "PRE",
    *,
    guardian: dict[str, Any] | None = None,
    extra: dict[str, dict[str, str]] | None = None,
    reference: str | None = None,
) -> Enrollment:
    """A confirmed 2024/2025 enrollment of `account`'s child, renewable now,
    as the staff would have left it last year."""
    e = domanda_create(
        account, [Service.objects.get(code=code, school_year="2025/2026")], guardian=guardian, extra=extra
    )[0]
    old = Service.objects.get(code=code, school_year="2024/2025")
    changes: dict[str, Any] = {
        "service": old,
        "school_year": old.school_year,
        "status": Enrollment.Status.CONFERMATA,
    }
    if reference:
        changes["reference"] = reference
    Enrollment.objects.filter(pk=e.pk).update(**changes)
    e.refresh_from_db()
    return e


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload_attach(
    *, enrollment: Enrollment, content: bytes = PDF_BYTES, name: str = "certificato.pdf"
) -> Upload:
    """A file answering the enrollment's `certificato`, stored as the form stores it (current schema)."""
    checked = upload_check(file=SimpleUploadedFile(name, content), max_bytes=10 * 1024 * 1024)
    account = enrollment.guardian.account
    upload = upload_store(checked=checked, account=account, enrollment=enrollment, question_id="certificato")
    enrollment.extra = dict(enrollment.extra or {}) | {"certificato": str(upload.id)}
    enrollment.save(update_fields=["extra"])
    return upload
