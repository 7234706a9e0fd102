"""GET /api/v1/payments/: the signed-in family's rate, nobody else's, in the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django_tenants.utils import tenant_context

from payments.services import position_create
from tenants.models import Comune
from tests.api.conftest import api_client, token_for
from tests.factories import ParentFactory
from tests.payments.conftest import ROMANO_CF, payments_configure


def _position(account: object, source: str) -> None:
    position_create(
        source=source,
        payer_account=account,
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name="Mario Rossi",
        description="MENSA 2025/2026 – Luca Rossi",
        amount=Decimal("120.00"),
        today=timezone.localdate() - timedelta(days=1),
    )


def test_the_family_gets_its_rate_with_amount_status_pdf_and_checkout(
    romano: Comune, palosco: Comune
) -> None:
    romano = payments_configure(romano)
    with tenant_context(romano):
        parent = ParentFactory(username="ROM-000910")
        other = ParentFactory(username="ROM-000911")
        _position(parent, "enrollment:2025-000030")
        _position(other, "enrollment:2025-000031")
        key = token_for(romano, parent)
        other_key = token_for(romano, other)
    response = api_client(romano, key).get("/api/v1/payments/")
    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item["importo"] == "120.00" and item["stato"] == "Da pagare" and item["rata"] == 1
    assert len(item["codice_avviso"]) == 18
    assert item["paga_online"] == f"https://checkout.pagopa.it/{ROMANO_CF}{item['codice_avviso']}"
    assert item["avviso_pdf"].endswith(f"/api/v1/payments/{item['codice_avviso']}/avviso.pdf")
    pdf = api_client(romano, key).get(f"/api/v1/payments/{item['codice_avviso']}/avviso.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (
        api_client(romano, other_key).get(f"/api/v1/payments/{item['codice_avviso']}/avviso.pdf").status_code
        == 404
    )
    assert (
        item["codice_avviso"] not in api_client(romano, other_key).get("/api/v1/payments/").content.decode()
    )


def test_the_schema_documents_the_payments_endpoint(romano: Comune) -> None:
    schema = api_client(romano).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    fields = schema["components"]["schemas"]["Payment"]["properties"]
    assert {"codice_avviso", "importo", "scadenza", "stato", "avviso_pdf", "paga_online"} <= set(fields)
    assert "/api/v1/payments/" in schema["paths"]
