"""The parents' Pagamenti page, the avviso PDF and its QR code, and isolation between families and comuni."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pypdfium2
import zxingcpp
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from identity.models import Account
from payments.models import DebtPosition
from payments.services import position_create, receipt_record
from tenants.models import Comune
from tenants.service_definition import FeeInstalment
from tests.conftest import host_of
from tests.factories import ParentFactory
from tests.payments.conftest import PALOSCO_CF, ROMANO_CF, payments_configure

CF = "RSSMRA80A01H501U"


def _position(
    account: Account | None, *, cf: str = CF, source: str = "enrollment:2025-000001"
) -> DebtPosition:
    today = timezone.localdate()
    return position_create(
        source=source,
        payer_account=account,
        payer_codice_fiscale=cf,
        payer_name="Mario Rossi",
        description="MENSA 2025/2026 – Luca Rossi",
        amount=Decimal("120.00"),
        instalments=[
            FeeInstalment(due_date=today + timedelta(days=20), share_percent=Decimal(50)),
            FeeInstalment(due_date=today + timedelta(days=120), share_percent=Decimal(50)),
        ],
    )


def _client(comune: Comune, account: Account) -> Client:
    client = Client(HTTP_HOST=host_of(comune))
    with tenant_context(comune):
        client.force_login(account)
    return client


def _decode_qr(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    texts = []
    for page in document:
        image = page.render(scale=3).to_pil()
        texts.extend(
            r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
        )
    return texts


def test_the_page_lists_each_rata_with_status_amount_pdf_and_checkout(local_romano: Comune) -> None:
    parent = ParentFactory(username="ROM-000901")
    position = _position(parent)
    first, second = position.instalments.order_by("number")
    receipt_record(
        iuv=second.iuv, receipt_id="R-2", amount_cents=6000, paid_at=timezone.now(), channel="pagoPA"
    )
    response = _client(local_romano, parent).get("/pagamenti/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "MENSA 2025/2026 – Luca Rossi" in html and "60,00 €" in html
    assert "Da pagare" in html and "Pagato" in html
    assert f"https://checkout.pagopa.it/{ROMANO_CF}{first.codice_avviso}" in html
    assert f"https://checkout.pagopa.it/{ROMANO_CF}{second.codice_avviso}" not in html  # paid
    assert f"/pagamenti/avviso/{first.codice_avviso}.pdf" in html
    home = _client(local_romano, parent).get("/iscrizioni/").content.decode()
    assert 'href="/pagamenti/"' in home


def test_overdue_rata_reads_scaduto(local_romano: Comune) -> None:
    parent = ParentFactory(username="ROM-000902")
    position = _position(parent)
    position.instalments.filter(number=1).update(due_date=date(2020, 1, 31))
    assert "Scaduto" in _client(local_romano, parent).get("/pagamenti/").content.decode()


def test_the_avviso_pdf_carries_a_qr_code_with_the_exact_pagopa_payload(local_romano: Comune) -> None:
    parent = ParentFactory(username="ROM-000903")
    position = _position(parent)
    first, second = position.instalments.order_by("number")
    response = _client(local_romano, parent).get(f"/pagamenti/avviso/{first.codice_avviso}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert _decode_qr(response.content) == [
        f"PAGOPA|002|{first.codice_avviso}|{ROMANO_CF}|6000",
        f"PAGOPA|002|{second.codice_avviso}|{ROMANO_CF}|6000",
    ]


def test_another_family_sees_nothing_and_gets_404_for_the_avviso(local_romano: Comune) -> None:
    owner = ParentFactory(username="ROM-000904")
    other = ParentFactory(username="ROM-000905")
    first = _position(owner).instalments.get(number=1)
    client = _client(local_romano, other)
    assert first.codice_avviso not in client.get("/pagamenti/").content.decode()
    assert client.get(f"/pagamenti/avviso/{first.codice_avviso}.pdf").status_code == 404


def test_positions_by_codice_fiscale_stay_in_their_comune(romano: Comune, palosco: Comune) -> None:
    romano = payments_configure(romano)
    palosco = payments_configure(palosco)
    with tenant_context(romano):
        first = _position(None, cf=CF).instalments.get(number=1)
        romano_parent = ParentFactory(username="ROM-000906", codice_fiscale=CF)
    with tenant_context(palosco):
        palosco_parent = ParentFactory(username="PAL-000906", codice_fiscale=CF)
    assert first.codice_avviso in _client(romano, romano_parent).get("/pagamenti/").content.decode()
    client = _client(palosco, palosco_parent)
    assert first.codice_avviso not in client.get("/pagamenti/").content.decode()
    assert client.get(f"/pagamenti/avviso/{first.codice_avviso}.pdf").status_code == 404
    assert PALOSCO_CF != ROMANO_CF
