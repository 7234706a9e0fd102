"""Time per PDF page of each document, the old way against the current one, in the same run.

"before" renders as enrollment.documents did until the font configuration
was shared (WeasyPrint builds a fresh fontconfig configuration and Pango
font map for every PDF); "after" is `PdfDocument.render()` as the worker
calls it. Runs alternate, so a busy machine slows both alike; times are the
process's CPU time, and the ratio is what to compare between machines.

The family, form and account it renders are made inside a transaction that
is rolled back at the end: the bench leaves nothing behind (it renders
without storing files).

    DATABASE_URL=postgres://... .venv/bin/python bench/pdf.py [--repeat 15] [--comune palosco]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["DEBUG"] = "0"


def cpu_ms(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return 1000 * (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--comune", default="palosco", help="an existing comune (make run / sync_tenants)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL.")
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone
    from django_tenants.utils import tenant_context
    from weasyprint import HTML

    from enrollment.documents import LetteraCredenziali, ManualeInformativo, PdfDocument, Riepilogo
    from enrollment.models import Service
    from tenants.models import Comune
    from tests.factories import ParentFactory, domanda_create

    comune = Comune.objects.filter(slug=args.comune).first()
    if comune is None:
        sys.exit(f"No comune {args.comune!r}: run `manage.py sync_tenants` first.")
    with tenant_context(comune), transaction.atomic():
        account = ParentFactory.create(username="PAL-999901", email="bench.pdf@example.org", password=None)
        services = list(Service.objects.order_by("-school_year", "code")[:2])
        now = timezone.now()  # the windows are opened inside the rolled-back transaction
        Service.objects.filter(pk__in=[s.pk for s in services]).update(
            opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=1)
        )
        (row, *_) = domanda_create(account, list(Service.objects.filter(pk__in=[s.pk for s in services])))
        documents: dict[str, PdfDocument] = {
            "riepilogo": Riepilogo(comune=comune, domanda=row.domanda),
            "manuale informativo": ManualeInformativo(comune=comune),
            "lettera credenziali": LetteraCredenziali(comune=comune, account=account),
        }
        print(
            f"CPU time per page, {args.repeat} alternating runs each; load average {os.getloadavg()[0]:.2f}"
        )
        for name, doc in documents.items():
            html = doc.html()
            pages = len(HTML(string=html, base_url=str(settings.BASE_DIR)).render().pages)

            def before(html: str = html) -> object:
                return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_tags=True)

            before(), doc.render()  # warm: templates, fonts, the first font configuration
            old, new = [], []
            for _ in range(args.repeat):
                old.append(cpu_ms(before) / pages)
                new.append(cpu_ms(doc.render) / pages)
            print(
                f"  {name} ({pages} page{'s' if pages > 1 else ''}): "
                f"before median {statistics.median(old):.0f} ms (min {min(old):.0f}), "
                f"after median {statistics.median(new):.0f} ms (min {min(new):.0f}); "
                f"after/before {statistics.median(new) / statistics.median(old):.2f}"
            )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
