"""The Bollettino Postale PA of the avviso: Poste Italiane's Data Matrix.

When the comune collects on a conto corrente postale, the pagoPA avviso
carries, for each rata, the Bollettino Postale PA with a Data Matrix that
Poste's counters and app read (pagoPA, "Avviso di pagamento", Allegato 2,
Specifiche tecniche, Dati per il pagamento, Bollettino Postale PA:
https://docs.pagopa.it/avviso-pagamento/allegato-2/specifiche-tecniche/dati-per-il-pagamento/bollettino-postale-pa;
the string itself is defined in Poste's "Manuale della stampa in proprio").

The string, 256 characters, as pagoPA's own notice generator writes it
(github.com/pagopa/pagopa-print-payment-notice-generator,
TemplateDataMapper.generatePosteDataMatrix/generateCodeline) and App IO
reads it (github.com/pagopa/io-app, ts/utils/payment.ts, decodePosteDataMatrix:
avviso at [15:33], amount at [49:59], CF ente at [66:77]):

    codfase=NBPA;                       fixed, 13
    18 <codice avviso>                  length tag + 18 digits
    12 <conto corrente postale>         length tag + 12 digits, zeros on the left
    10 <importo in centesimi>           length tag + 10 digits, zeros on the left
    3 896                               length tag + tipo documento 896 (bollettino PA)
    1P1                                 fixed (fase P1)
    <CF ente>                           11, spaces on the right
    <CF debitore>                       16, spaces on the right
    <nome e cognome debitore>           40, spaces on the right (cut if longer)
    <causale>                           110, spaces on the right (cut if longer)
    <filler>                            12 spaces
    A                                   fixed

Free text keeps only what Poste's reader accepts (letters, digits, space and
& ' - . : _ ,): accents lose their mark (Niccolò -> Niccolo), anything else
becomes a space, as the generators in use do.
"""

from __future__ import annotations

import base64
import re
import unicodedata

import zxingcpp

DOCUMENT_TYPE = "896"
_TEXT_OK = re.compile(r"[^A-Za-z0-9&'\-.:_, ]")


def poste_text(value: str, length: int) -> str:
    """`value` in Poste's character set, cut or padded with spaces to `length`."""
    plain = "".join(
        "-" if unicodedata.category(ch) == "Pd" else ch
        for ch in unicodedata.normalize("NFKD", value)
        if not unicodedata.combining(ch)
    )
    return _TEXT_OK.sub(" ", plain)[:length].ljust(length)


def poste_datamatrix_payload(
    *,
    codice_avviso: str,
    postal_account: str,
    amount_cents: int,
    ente_codice_fiscale: str,
    payer_codice_fiscale: str,
    payer_name: str,
    causale: str,
) -> str:
    """The Data Matrix text of one rata (layout in the module docstring)."""
    if not re.fullmatch(r"\d{18}", codice_avviso):
        raise ValueError(f"codice avviso {codice_avviso!r} is not 18 digits")
    if not re.fullmatch(r"\d{1,12}", postal_account):
        raise ValueError(f"postal account {postal_account!r} is not up to 12 digits")
    if not 0 < amount_cents < 10**10:
        raise ValueError(f"amount {amount_cents} cents does not fit the 10 digits of the codeline")
    codeline = f"18{codice_avviso}12{postal_account.zfill(12)}10{amount_cents:010d}3{DOCUMENT_TYPE}"
    return (
        "codfase=NBPA;"
        + codeline
        + "1P1"
        + poste_text(ente_codice_fiscale, 11)
        + poste_text(payer_codice_fiscale.upper(), 16)
        + poste_text(payer_name, 40)
        + poste_text(causale, 110)
        + " " * 12
        + "A"
    )


def datamatrix_svg_uri(payload: str) -> str:
    """An ECC 200 Data Matrix of `payload` as a vector image (SVG data URI) for the PDF."""
    barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.DataMatrix)
    svg = barcode.to_svg(add_quiet_zones=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
