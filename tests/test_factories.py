"""The builders themselves: what every other test takes for granted."""

from __future__ import annotations

from stdnum.it import codicefiscale

from enrollment.backoffice.roles import AMMINISTRATORE
from enrollment.models import Enrollment
from identity.validators import codice_fiscale_clean
from tenants.models import Comune
from tests.enrollment.conftest import service
from tests.factories import (
    GUARDIAN_CF,
    PUPIL_BIRTH,
    PUPIL_CF,
    SIBLING_BIRTH,
    SIBLING_CF,
    GuardianFactory,
    ParentFactory,
    PupilFactory,
    StaffFactory,
    guardian_data,
    pupil_data,
    submitted,
)


def test_codici_fiscali_are_valid_distinct_and_carry_the_birth_date() -> None:
    pupils = [PupilFactory.stub(guardian=None) for _ in range(30)]
    guardians = [GuardianFactory.stub(account=None) for _ in range(30)]
    codes = [p.codice_fiscale for p in pupils] + [g.codice_fiscale for g in guardians]
    codes += [GUARDIAN_CF, PUPIL_CF, SIBLING_CF]
    assert len(set(codes)) == len(codes)
    assert all(codice_fiscale_clean(cf) == cf for cf in codes)
    assert all(codicefiscale.get_birth_date(p.codice_fiscale) == p.birth_date for p in pupils)
    assert codicefiscale.get_birth_date(PUPIL_CF) == PUPIL_BIRTH
    assert codicefiscale.get_birth_date(SIBLING_CF) == SIBLING_BIRTH
    assert codicefiscale.get_gender(SIBLING_CF) == "F"


def test_form_data_is_the_family_of_most_tests() -> None:
    assert guardian_data()["codice_fiscale"] == GUARDIAN_CF
    assert pupil_data()["codice_fiscale"] == PUPIL_CF
    assert "account" not in guardian_data() and "guardian" not in pupil_data()
    assert guardian_data(city="Romano di Lombardia")["city"] == "Romano di Lombardia"


def test_parents_issued_and_new_enrollee_accounts(in_palosco: Comune) -> None:
    parent = ParentFactory.create()
    assert parent.codice_utente == parent.username and parent.username.startswith("PAL-")
    assert parent.check_password("Password-Genitore-1") and parent.email_verified_at is not None
    issued = ParentFactory.create(issued=True)
    assert issued.email == "" and issued.email_verified_at is None
    new = ParentFactory.create(username=PUPIL_CF, new_enrollee=True)
    assert new.codice_utente is None and new.codice_fiscale == PUPIL_CF
    assert new.created_by_backend == "codice_fiscale" and not new.has_usable_password()


def test_staff_role_is_a_back_office_group(in_palosco: Comune) -> None:
    admin = StaffFactory.create(role=AMMINISTRATORE)
    assert list(admin.groups.values_list("name", flat=True)) == [AMMINISTRATORE]
    assert admin.is_staff and not admin.has_usable_password()
    assert not StaffFactory.create().groups.exists()


def test_submitted_enrollments_belong_to_distinct_families(in_palosco: Comune) -> None:
    a, b = submitted(service("PRE")), submitted(service("PRE"))
    assert a.status == b.status == Enrollment.Status.INVIATA
    assert a.guardian.account != b.guardian.account
    assert a.guardian.codice_fiscale != b.guardian.codice_fiscale
    assert a.pupil.codice_fiscale != b.pupil.codice_fiscale
    assert codice_fiscale_clean(a.guardian.codice_fiscale) == a.guardian.codice_fiscale
