"""What the PDFs print of a comune's name and of long texts (found by a review)."""

from __future__ import annotations

import pypdfium2

from enrollment.models import Enrollment
from tenants.models import Comune


def _text(pdf: bytes) -> str:
    return " ".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf))


def test_the_page_footer_prints_an_apostrophe_and_an_ampersand_as_they_are(in_palosco: Comune) -> None:
    """Italian comuni are often named with an apostrophe (Sant'Angelo, Cassano d'Adda). The footer is
    a CSS string, where HTML entities are not decoded: it printed "Sant&#x27;Angelo &amp; Co"."""
    from enrollment.documents import ManualeInformativo

    in_palosco.name = 'Sant\'Angelo & "Co" </style>'
    text = _text(ManualeInformativo(comune=in_palosco).render())
    assert 'Comune di Sant\'Angelo & "Co" </style>' in text
    assert "&#x27;" not in text and "&amp;" not in text


def test_a_long_unbroken_text_stays_on_the_page(in_palosco: Comune) -> None:
    from enrollment.documents import Riepilogo
    from tests.enrollment.conftest import parent_create, service
    from tests.factories import domanda_create

    rows = domanda_create(parent_create(), [service("PRE")], submit=True)
    Enrollment.objects.filter(pk=rows[0].pk).update(outcome_note="X" * 500)
    document = pypdfium2.PdfDocument(Riepilogo(comune=in_palosco, domanda=rows[0].domanda).render())
    for page in document:
        width, chars = page.get_width(), page.get_textpage()
        assert all(chars.get_charbox(i)[2] <= width for i in range(chars.count_chars()))
    assert "X" * 40 in _text(Riepilogo(comune=in_palosco, domanda=rows[0].domanda).render())
