"""The avviso di pagamento PDF, in the layout of pagoPA's paper notice.

One page per rata: ente creditore, destinatario, what and how much to pay by
when, where to pay, and the payment strip with the QR code every PSP reads,
whose payload is `PAGOPA|002|<codice avviso>|<CF ente>|<importo in centesimi>`.

When the comune has a conto corrente postale (`payments.postal_account`),
each page also carries the Bollettino Postale PA with Poste's Data Matrix
(payments.poste); without one, no Poste section is printed.

A page takes about 0.2 s of CPU to render, so a rendered avviso is stored
(`avviso_stored_pdf`) under `DOCUMENTS_DIR/<schema>/`, named by the position
and the version of what it shows; the confirmation e-mail's job renders and
stores it first, and downloads serve the stored file. A download renders only
when no stored copy of that version exists yet (an avviso asked for before its
e-mail was sent, or after its data changed), and stores it for the next one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from core import attachments
from core.pdf import font_configuration, pdf_store
from core.tenancy import current_schema
from payments.codes import codice_avviso_display
from payments.models import DebtPosition, Instalment
from payments.money import euro_text
from payments.poste import datamatrix_svg_uri, poste_datamatrix_payload
from tenants.config import Payments
from tenants.selectors import comune_current


def qr_payload(*, instalment: Instalment, config: Payments) -> str:
    """The QR code's text, per the pagoPA avviso specification (version 002)."""
    return f"PAGOPA|002|{instalment.codice_avviso}|{config.ente_codice_fiscale}|{instalment.amount_cents}"


def avviso_pdf(*, position: DebtPosition) -> bytes:
    comune = comune_current()
    cfg = comune.settings
    config = cfg.payments
    if config is None:
        raise LookupError("the comune has no payments configuration")
    emblem = None
    if cfg.branding.emblem:
        emblem = (Path(settings.TENANT_CONFIG_DIR) / "assets" / cfg.branding.emblem).as_uri()
    pages = []
    instalments = list(position.instalments.order_by("number"))
    for instalment in instalments:
        payload = qr_payload(instalment=instalment, config=config)
        page = {
            "instalment": instalment,
            "amount": euro_text(instalment.amount_cents),
            "codice_avviso": codice_avviso_display(instalment.codice_avviso),
            "qr": segno.make(payload, error="m").png_data_uri(scale=8, border=4),
            "payload": payload,
        }
        if config.postal_account:
            page["datamatrix"] = datamatrix_svg_uri(
                poste_datamatrix_payload(
                    codice_avviso=instalment.codice_avviso,
                    postal_account=config.postal_account,
                    amount_cents=instalment.amount_cents,
                    ente_codice_fiscale=config.ente_codice_fiscale,
                    payer_codice_fiscale=position.payer_codice_fiscale,
                    payer_name=position.payer_name,
                    causale=position.description,
                )
            )
        pages.append(page)
    html = render_to_string(
        "payments/pdf/avviso.html",
        {
            "comune": comune,
            "cfg": cfg,
            "config": config,
            "emblem_url": emblem,
            "position": position,
            "pages": pages,
            "several": len(instalments) > 1,
            "generated_at": timezone.localtime(),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        pdf_tags=True, font_config=font_configuration()
    )


def avviso_stored_path(position: DebtPosition) -> Path:
    """Where this version of the position's avviso is stored: per comune schema,
    named by the position and a hash of everything the PDF shows."""
    comune = comune_current()
    shown = {
        "config": comune.config,
        "payer": [position.payer_name, position.payer_codice_fiscale],
        "description": position.description,
        "rate": [
            [i.number, i.codice_avviso, i.amount_cents, i.due_date.isoformat()]
            for i in position.instalments.order_by("number")
        ],
    }
    version = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return Path(settings.DOCUMENTS_DIR) / current_schema() / f"avviso-{position.pk}-{version}.pdf"


def avviso_stored_pdf(*, position: DebtPosition) -> bytes:
    """The stored avviso of this version, rendered and stored first if there is none."""
    path = avviso_stored_path(position)
    if path.is_file():
        return path.read_bytes()
    content = avviso_pdf(position=position)
    pdf_store(path, content, stem=f"avviso-{position.pk}")
    return content


def avviso_filename(position: DebtPosition) -> str:
    first = position.instalments.order_by("number").values_list("codice_avviso", flat=True).first()
    return f"avviso-pagamento-{first}.pdf"


@attachments.register("payments.avviso")
def _avviso_attachment(*, position_id: int) -> tuple[str, bytes, str]:
    position = DebtPosition.objects.get(pk=position_id)
    return avviso_filename(position), avviso_stored_pdf(position=position), "application/pdf"
