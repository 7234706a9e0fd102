"""App IO: outcome and payment notices to the parent's inbox, only if reachable; queued, retried, once."""

from __future__ import annotations

import pytest

from enrollment.models import Enrollment
from enrollment.services import enrollment_confirm, enrollment_reject
from payments.appio import IoUnavailable, io_deliver
from payments.models import IoMessage
from tenants.models import Comune
from tests.factories import EnrollmentFactory, StaffFactory
from tests.jobs import run_pending_jobs
from tests.payments.conftest import payments_configure
from tests.payments.io_server import IoServer


@pytest.fixture
def io_romano(romano: Comune, io_server: IoServer):  # type: ignore[no-untyped-def]
    from django_tenants.utils import tenant_context

    comune = payments_configure(
        romano,
        app_io={"service_id": "01ROMANOSCUOLA", "api_key_env": "IO_API_KEY_TEST", "base_url": io_server.url},
    )
    with tenant_context(comune):
        yield comune


def _trasporto(**kwargs: object) -> Enrollment:
    from enrollment.models import Service

    return EnrollmentFactory(
        service=Service.objects.get(code="TRASPORTO", school_year="2025/2026"),
        status=Enrollment.Status.INVIATA,
        extra={"fermata": "Via Dante 3"},
        **kwargs,
    )


def test_confirmation_sends_the_outcome_and_one_notice_per_rata(
    io_romano: Comune, io_server: IoServer
) -> None:
    enrollment = _trasporto()
    cf = enrollment.guardian.codice_fiscale
    io_server.state.profiles[cf] = True
    enrollment_confirm(enrollment=enrollment, by=StaffFactory())
    run_pending_jobs(task_name="payments.io_send")
    messages = io_server.state.messages
    assert [m["fiscal_code"] for m in messages] == [cf, cf, cf]
    assert "confermata" in messages[0]["content"]["markdown"]
    notices = [m["content"]["payment_data"] for m in messages[1:]]
    from payments.models import Instalment

    avvisi = set(Instalment.objects.values_list("codice_avviso", flat=True))
    assert [n["amount"] for n in notices] == [9000, 9000]
    assert {n["notice_number"] for n in notices} == avvisi and len(avvisi) == 2
    assert all(n["payee"]["fiscal_code"] == "00622580165" for n in notices)
    assert set(IoMessage.objects.values_list("status", flat=True)) == {"inviato"}


def test_no_profile_or_opted_out_gets_nothing_and_the_outage_is_retried(
    io_romano: Comune, io_server: IoServer
) -> None:
    opted_out = _trasporto()
    io_server.state.profiles[opted_out.guardian.codice_fiscale] = False
    enrollment_reject(enrollment=opted_out, by=StaffFactory(), reason="Posti esauriti")
    no_profile = _trasporto()
    enrollment_reject(enrollment=no_profile, by=StaffFactory(), reason="Posti esauriti")
    run_pending_jobs(task_name="payments.io_send")
    assert io_server.state.messages == []
    assert set(IoMessage.objects.values_list("status", flat=True)) == {"non_abilitato"}

    reachable = _trasporto()
    io_server.state.profiles[reachable.guardian.codice_fiscale] = True
    enrollment_reject(enrollment=reachable, by=StaffFactory(), reason="Posti esauriti")
    message = IoMessage.objects.get(fiscal_code=reachable.guardian.codice_fiscale)
    io_server.state.down_for = 1
    with pytest.raises(IoUnavailable):
        io_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("da_inviare", 1)
    io_deliver(message_id=message.pk)
    io_deliver(message_id=message.pk)  # a duplicate job sends nothing more
    assert len(io_server.state.messages) == 1
    assert "Posti esauriti" in io_server.state.messages[0]["content"]["markdown"]


def test_comuni_without_app_io_queue_nothing(local_romano: Comune) -> None:
    enrollment_confirm(enrollment=_trasporto(), by=StaffFactory())
    assert not IoMessage.objects.exists()
