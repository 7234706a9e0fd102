"""The catalogue stores each service's definition from the YAML, and reads it back unchanged."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from enrollment.definitions import service_definition
from enrollment.models import Enrollment, Service
from enrollment.selectors import enrollment_fee
from enrollment.services import service_catalogue_sync
from tenants.config import ServiceConfig, config_parse
from tests.factories import EnrollmentFactory


def _cre() -> ServiceConfig:
    path = settings.BASE_DIR / "tenant_configs" / "palosco.yaml"
    config = config_parse(path.read_text(encoding="utf-8"), source=path.name)
    return next(s for s in config.services if s.code == "CRE")


def test_catalogue_stores_the_yaml_definition_and_its_version(in_palosco) -> None:  # type: ignore[no-untyped-def]
    cfg = _cre()
    service_catalogue_sync(services=[cfg])
    stored = Service.objects.get(code="CRE", school_year=cfg.school_year)
    assert stored.definition_version == cfg.definition_version
    assert service_definition(stored) == cfg.definition
    assert [q.id for q in service_definition(stored).questions] == [q.id for q in cfg.questions]


def test_a_changed_definition_is_synced_with_a_new_version(in_palosco) -> None:  # type: ignore[no-untyped-def]
    cfg = _cre()
    service_catalogue_sync(services=[cfg])
    fewer = cfg.model_copy(update={"questions": cfg.questions[:1], "ranking": None, "fees": None})
    report = service_catalogue_sync(services=[fewer])
    stored = Service.objects.get(code="CRE", school_year=cfg.school_year)
    assert stored.definition_version == fewer.definition_version != cfg.definition_version
    assert [q.id for q in service_definition(stored).questions] == [cfg.questions[0].id]
    assert any("definition" in line for line in report)


def test_enrollment_fee_by_isee_band_with_the_sibling_discount(in_palosco) -> None:  # type: ignore[no-untyped-def]
    cre = _cre()
    service_catalogue_sync(services=[cre])
    service = Service.objects.get(code="CRE", school_year=cre.school_year)
    first = EnrollmentFactory(service=service, extra={"isee": "8000"})
    second = EnrollmentFactory(service=service, guardian=first.guardian, pupil__guardian=first.guardian)
    second.extra = {"isee": "8000.01"}
    second.save()
    assert enrollment_fee(enrollment=first) == Decimal("120.00")  # 8000 is inside the first band
    assert enrollment_fee(enrollment=second) == Decimal("160.00")  # second band, 20% off for the sibling
    first.status = Enrollment.Status.ANNULLATA
    first.save()
    assert enrollment_fee(enrollment=second) == Decimal("200.00")  # now the only child
    pre = EnrollmentFactory()  # PRE has no fees in its definition
    assert enrollment_fee(enrollment=pre) is None
