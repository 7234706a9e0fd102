"""The avviso's Bollettino Postale PA: Poste's Data Matrix, read back from the rendered PDF."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from core import attachments
from payments.avviso import avviso_pdf
from payments.models import DebtPosition
from payments.poste import poste_datamatrix_payload
from payments.services import position_create
from tenants.config import ConfigError, config_parse
from tenants.models import Comune
from tenants.service_definition import FeeInstalment
from tests.conftest import host_of
from tests.factories import ParentFactory
from tests.payments.conftest import PALOSCO_CF, ROMANO_CF, payments_configure

POSTAL_ACCOUNT = "000012345678"


def _position(*, payer_name: str = "Mario Rossi", amount: str = "120.00") -> DebtPosition:
    today = timezone.localdate()
    return position_create(
        source="enrollment:2025-000777",
        payer_account=None,
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name=payer_name,
        description="MENSA 2025/2026 – Luca Rossi",
        amount=Decimal(amount),
        instalments=[
            FeeInstalment(due_date=today + timedelta(days=20), share_percent=Decimal(50)),
            FeeInstalment(due_date=today + timedelta(days=120), share_percent=Decimal(50)),
        ],
    )


def _barcodes(pdf: bytes, fmt: zxingcpp.BarcodeFormat) -> list[list[str]]:
    """The texts of the barcodes of `fmt` on each page of `pdf`."""
    pages = []
    for page in pypdfium2.PdfDocument(pdf):
        image = page.render(scale=3).to_pil()
        pages.append([r.text for r in zxingcpp.read_barcodes(image, formats=fmt)])
    return pages


def _text(pdf: bytes) -> str:
    return "\n".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf))


def _expected(codice_avviso: str, *, name: str = "Mario Rossi", cents: str = "0000006000") -> str:
    # Written out field by field from the specification, not with payments.poste.
    return (
        "codfase=NBPA;"
        f"18{codice_avviso}"
        "12000012345678"
        f"10{cents}"
        "3896"
        "1P1"
        f"{ROMANO_CF}"
        "RSSMRA80A01H501U"
        + name.ljust(40)
        + "MENSA 2025 2026 - Luca Rossi".ljust(110)  # "/" and "–" are outside the set
        + " " * 12
        + "A"
    )


def test_with_a_postal_account_each_rata_has_the_poste_data_matrix(romano: Comune) -> None:

    comune = payments_configure(romano, postal_account=POSTAL_ACCOUNT)
    with tenant_context(comune):
        position = _position()
        first, second = position.instalments.order_by("number")
        pdf = avviso_pdf(position=position)
    assert _barcodes(pdf, zxingcpp.BarcodeFormat.DataMatrix) == [
        [_expected(first.codice_avviso)],
        [_expected(second.codice_avviso)],
    ]
    assert len(_expected(first.codice_avviso)) == 256
    # The pagoPA QR code stays, one per page, next to the bollettino.
    assert _barcodes(pdf, zxingcpp.BarcodeFormat.QRCode) == [
        [f"PAGOPA|002|{first.codice_avviso}|{ROMANO_CF}|6000"],
        [f"PAGOPA|002|{second.codice_avviso}|{ROMANO_CF}|6000"],
    ]
    text = _text(pdf)
    assert "BOLLETTINO POSTALE PA" in text.upper() and POSTAL_ACCOUNT in text
    assert f"INTESTATO A {comune.display_name}" in text  # by default the comune itself


def test_holder_and_authorization_are_printed_as_configured(romano: Comune) -> None:

    comune = payments_configure(
        romano,
        postal_account=POSTAL_ACCOUNT,
        postal_account_holder="Comune di Romano di L. - Servizio Tesoreria",
        postal_authorization="Aut. n. BPA/123/2025 del 10/01/2025",
    )
    with tenant_context(comune):
        pdf = avviso_pdf(position=_position())
    text = _text(pdf)
    assert "INTESTATO A Comune di Romano di L. - Servizio Tesoreria" in text
    assert "Aut. n. BPA/123/2025 del 10/01/2025" in text


def test_without_a_postal_account_there_is_no_poste_section(romano: Comune) -> None:

    comune = payments_configure(romano)
    with tenant_context(comune):
        pdf = avviso_pdf(position=_position())
    assert _barcodes(pdf, zxingcpp.BarcodeFormat.DataMatrix) == [[], []]
    assert len(_barcodes(pdf, zxingcpp.BarcodeFormat.QRCode)[0]) == 1
    assert "BOLLETTINO POSTALE" not in _text(pdf).upper()


def test_free_text_is_cut_and_reduced_to_the_characters_poste_reads(romano: Comune) -> None:

    comune = payments_configure(romano, postal_account=POSTAL_ACCOUNT)
    with tenant_context(comune):
        position = _position(
            payer_name="Niccolò D'Àvila Bianchi-Ferrari Esposito de' Medici", amount="1234.56"
        )
        first = position.instalments.get(number=1)
        pdf = avviso_pdf(position=position)
    decoded = _barcodes(pdf, zxingcpp.BarcodeFormat.DataMatrix)[0]
    name = "Niccolo D'Avila Bianchi-Ferrari Esposito"  # no accents, cut at 40
    assert decoded == [_expected(first.codice_avviso, name=name, cents="0000061728")]


def test_the_offsets_app_io_reads_fall_on_avviso_amount_and_ente() -> None:
    # pagopa/io-app decodePosteDataMatrix: avviso [15:33], amount [49:59], CF ente [66:77].
    payload = poste_datamatrix_payload(
        codice_avviso="300715700000000032",
        postal_account="16302093",
        amount_cents=1,
        ente_codice_fiscale="00085240950",
        payer_codice_fiscale="bscmtt83a12l719r",
        payer_name="Name Surname",
        causale="test",
    )
    assert payload.startswith("codfase=NBPA;183007157000000000321200001630209310000000000138961P100085240950")
    assert payload[15:33] == "300715700000000032"
    assert payload[49:59] == "0000000001"
    assert payload[66:77] == "00085240950"
    assert payload[77:93] == "BSCMTT83A12L719R"
    assert len(payload) == 256 and payload.endswith(" " * 12 + "A")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("12345678", "'12345678'"), ("0000 1234 5678", "'0000 1234 5678'"), (12345678, "12345678")],
)
def test_a_malformed_postal_account_is_refused_in_italian(value: object, shown: str) -> None:
    text = (
        "slug: testville\nname: Testville\nprovince: Bergamo\nhosts: [testville.localhost]\n"
        "identity: {backends: [credentials]}\n"
        "payments: {ente_codice_fiscale: '00622580165', segregation_code: '01', "
        f"tassonomia: 9/0201133IM/, postal_account: {value!r}}}\n"
    )
    with pytest.raises(ConfigError) as exc:
        config_parse(text, source="testville.yaml")
    assert exc.value.problems == [
        f"testville.yaml: payments.postal_account: il conto corrente postale {shown} deve essere "
        "di 12 cifre, senza spazi (un numero più corto va completato con zeri a sinistra: "
        '12345678 diventa "000012345678", tra virgolette)'
    ]


def test_a_twelve_digit_postal_account_is_accepted() -> None:
    text = (
        "slug: testville\nname: Testville\nprovince: Bergamo\nhosts: [testville.localhost]\n"
        "identity: {backends: [credentials]}\n"
        "payments: {ente_codice_fiscale: '00622580165', segregation_code: '01', "
        "tassonomia: 9/0201133IM/, postal_account: '000012345678'}\n"
    )
    payments = config_parse(text, source="testville.yaml").payments
    assert payments is not None and payments.postal_account == "000012345678"


def _download(comune: Comune, position: DebtPosition) -> bytes:
    account = position.payer_account
    assert account is not None
    client = Client(HTTP_HOST=host_of(comune))
    client.force_login(account)
    first = position.instalments.get(number=1)
    response = client.get(f"/pagamenti/avviso/{first.codice_avviso}.pdf")
    assert response.status_code == 200
    return response.content


def _owned_position(username: str) -> DebtPosition:
    position = _position()
    position.payer_account = ParentFactory(username=username)
    position.save(update_fields=["payer_account"])
    return position


def _stored(comune: Comune) -> list[Path]:
    return sorted((Path(settings.DOCUMENTS_DIR) / comune.schema_name).glob("avviso-*.pdf"))


def test_a_download_stores_the_avviso_and_the_next_one_serves_the_stored_file(local_romano: Comune) -> None:
    position = _owned_position("ROM-000951")
    pdf = _download(local_romano, position)
    [stored] = _stored(local_romano)
    assert stored.read_bytes() == pdf and stored.name.startswith(f"avviso-{position.pk}-")
    stored.write_bytes(b"%PDF-stored")  # what the next download gets if it does not render again
    assert _download(local_romano, position) == b"%PDF-stored"


def test_a_changed_rata_makes_a_new_avviso_and_drops_the_old_one(local_romano: Comune) -> None:
    position = _owned_position("ROM-000952")
    _download(local_romano, position)
    [old] = _stored(local_romano)
    old.write_bytes(b"%PDF-old")
    position.instalments.filter(number=1).update(due_date=timezone.localdate() + timedelta(days=45))
    pdf = _download(local_romano, position)
    [new] = _stored(local_romano)
    assert new != old and not old.exists() and new.read_bytes() == pdf != b"%PDF-old"


def test_the_confirmation_mail_attachment_stores_what_downloads_serve(local_romano: Comune) -> None:
    position = _owned_position("ROM-000953")
    name, content, mimetype = attachments.render(
        {"document": "payments.avviso", "params": {"position_id": position.pk}}
    )
    assert name == f"avviso-pagamento-{position.instalments.get(number=1).codice_avviso}.pdf"
    assert mimetype == "application/pdf" and [p.read_bytes() for p in _stored(local_romano)] == [content]
    assert _download(local_romano, position) == content


def test_stored_avvisi_stay_in_their_comune_folder(romano: Comune, palosco: Comune) -> None:
    romano = payments_configure(romano)
    palosco = payments_configure(palosco)
    pdfs = {}
    for comune, username in ((romano, "ROM-000954"), (palosco, "PAL-000954")):
        with tenant_context(comune):
            position = _owned_position(username)
            pdfs[comune.schema_name] = (
                position.instalments.get(number=1).codice_avviso,
                _download(comune, position),
            )
    for comune, cf in ((romano, ROMANO_CF), (palosco, PALOSCO_CF)):
        codice, pdf = pdfs[comune.schema_name]
        assert [p.read_bytes() for p in _stored(comune)] == [pdf]
        assert _barcodes(pdf, zxingcpp.BarcodeFormat.QRCode)[0] == [f"PAGOPA|002|{codice}|{cf}|6000"]
