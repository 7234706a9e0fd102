"""Debt positions for 2,000 confirmations in one bulk confirm, their sending, and the avviso PDF.

Creates (once) a scratch comune `benchpayments` from Romano's YAML with the
`gpd` adapter pointed at the local GPD server of the test suite
(tests/payments/gpd_server.py, a real HTTP server in a thread), and 2,000
submitted TRASPORTO 2025/26 enrollments (fee 180.00 in two rate). Then, each
inside a transaction rolled back at the end:

1. baseline: the bulk confirmation with payments switched off;
2. the same bulk confirmation with payments on: the positions and their jobs
   are written in the same transaction (what "queued" means here), with the
   time of that step itself (billing.enrollments_debt_open) next to the
   difference with the baseline (a warm-up confirmation of 100 runs before
   both, so the baseline does not pay for the first templates and queries);
3. sending every queued position to the GPD server (position_sync, the job's
   body, one after the other in this process: a lower bound for one worker).

and renders the avviso PDF (2 pages) against the credentials letter (1 page)
in the same run, and the download of the stored avviso (what a parent gets once
the confirmation e-mail has been sent). Prints times and ratios. `--pdf-only`
runs only the PDF part; `--drop` removes the scratch comune.

    DATABASE_URL=postgres://... .venv/bin/python bench/payments.py [--count 2000] [--drop]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import date, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["DEBUG"] = "0"

SLUG = "benchpayments"
HOST = f"{SLUG}.localhost"


class Rollback(Exception):
    pass


def setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (this benchmark writes a scratch comune schema).")
    import django

    django.setup()


def gpd_server() -> str:
    from tests.payments.gpd_server import KEY, GpdState, _Handler

    handler = type("Handler", (_Handler,), {"state": GpdState()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["GPD_SUBSCRIPTION_KEY_BENCH"] = KEY
    return f"http://127.0.0.1:{server.server_address[1]}/gpd/debt-positions-service/v1"


def scratch_comune(gpd_url: str):  # type: ignore[no-untyped-def]
    from superadmin.operations import comune_apply_config
    from tenants.config import config_parse
    from tenants.models import Comune
    from tenants.provisioning import platform_migrate

    platform_migrate()
    text = (ROOT / "tenant_configs" / "romanodilombardia.yaml").read_text()
    text = text.replace("slug: romanodilombardia", f"slug: {SLUG}").replace(
        "romanodilombardia.localhost", HOST
    )
    text = text.replace("name: Romano di Lombardia", "name: Benchmark pagamenti")
    text = text.replace("  adapter: local\n", f"  adapter: gpd\n  gpd_base_url: {gpd_url}\n")
    text = text.replace(
        'segregation_code: "01"\n',
        # A postal account: the avviso carries the Bollettino Postale PA (the larger page).
        'segregation_code: "01"\n  gpd_subscription_key_env: GPD_SUBSCRIPTION_KEY_BENCH\n'
        '  postal_account: "000012345678"\n',
    )
    comune_apply_config(config=config_parse(text, source="bench"))
    return Comune.objects.get(slug=SLUG)


def populate(count: int) -> list[int]:
    from django.utils import timezone

    from enrollment.models import Enrollment, Guardian, Pupil, Service
    from tests.factories import letters, make_cf

    service = Service.objects.get(code="TRASPORTO", school_year="2025/2026")
    existing = list(Enrollment.objects.filter(service=service, status="inviata").values_list("pk", flat=True))
    if len(existing) >= count:
        return existing[:count]
    now = timezone.now()
    guardians = Guardian.objects.bulk_create(
        [
            Guardian(
                first_name="Mario", last_name="Rossi", email=f"g{i}@example.org", phone="0363 000000",
                codice_fiscale=make_cf(name=letters(i), birth=date(1980, 1, 1), place="H509"),
                address="Via Roma 1", cap="24058", city="Romano di Lombardia",
            )
            for i in range(len(existing), count)  # a smaller earlier run left the first ones
        ],
        batch_size=1000,
    )  # fmt: skip
    pupils = Pupil.objects.bulk_create(
        [
            Pupil(
                guardian=g, first_name="Luca", last_name="Rossi", birth_place="Bergamo", school="primaria",
                codice_fiscale=make_cf(name=letters(i), birth=date(2016, 1, 1) + timedelta(days=i % 300)),
                birth_date=date(2016, 1, 1) + timedelta(days=i % 300), class_section="3ª A",
            )
            for i, g in enumerate(guardians, len(existing))
        ],
        batch_size=1000,
    )  # fmt: skip
    rows = Enrollment.objects.bulk_create(
        [
            Enrollment(
                pupil=p, guardian=p.guardian, service=service, school_year=service.school_year, kind="nuova",
                status="inviata", reference=f"2025-{800000 + i:06d}", first_saved_at=now, updated_at=now,
                submitted_at=now, extra={"fermata": "Via Dante 3"}, guardian_snapshot=p.guardian.snapshot(),
            )
            for i, p in enumerate(pupils, len(existing))
        ],
        batch_size=1000,
    )  # fmt: skip
    return existing + [r.pk for r in rows]


class StepTimer:
    """Time spent in `module.name` while installed: the positions' own step inside the bulk confirmation.

    The difference of two whole bulk confirmations (~25 s each) is what the
    positions add with their mails, but on a busy machine it moves by seconds
    between runs; this times the step itself, in the same run.
    """

    def __init__(self, module: object, name: str) -> None:
        self.module, self.name, self.seconds = module, name, 0.0

    def __enter__(self) -> StepTimer:
        self.original = getattr(self.module, self.name)

        def timed(*args: object, **kwargs: object) -> object:
            t = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, self.name, self.original)


def bulk_confirm(ids: list[int], *, payments_on: bool, send: bool) -> tuple[float, float, int, float]:
    from django.db import transaction

    import enrollment.services
    from enrollment.backoffice.roles import AMMINISTRATORE
    from enrollment.backoffice.services import enrollments_confirm_bulk
    from enrollment.models import Enrollment
    from payments.models import DebtPosition
    from payments.services import SEND_BATCH, positions_sync
    from tenants.selectors import comune_current
    from tests.factories import StaffFactory

    queued = sent = 0.0
    positions = 0
    step = StepTimer(None, "")
    try:
        with transaction.atomic():
            comune = comune_current()
            if not payments_on:
                comune.config = {k: v for k, v in comune.config.items() if k != "payments"}
                comune._settings_cache = None
            staff = StaffFactory(username=f"bench.{time.monotonic_ns()}", role=AMMINISTRATORE)
            rows = list(Enrollment.objects.filter(pk__in=ids))
            t = time.perf_counter()
            with StepTimer(enrollment.services, "enrollments_debt_open") as step:
                result = enrollments_confirm_bulk(enrollments=rows, by=staff)
            queued = time.perf_counter() - t
            assert len(result.done) == len(ids), result.skipped[:3]
            # The baseline really is without payments (it once was not: schema_context).
            assert payments_on or not DebtPosition.objects.exists()
            pending = list(
                DebtPosition.objects.filter(sync="da_inviare").order_by("pk").values_list("pk", flat=True)
            )
            positions = len(pending)
            if send:
                # What the worker runs: one positions_send job per SEND_BATCH positions.
                t = time.perf_counter()
                for start in range(0, len(pending), SEND_BATCH):
                    positions_sync(position_ids=pending[start : start + SEND_BATCH])
                sent = time.perf_counter() - t
                assert not DebtPosition.objects.exclude(sync="allineata").exists()
            raise Rollback
    except Rollback:
        pass
    finally:
        comune = comune_current()
        comune._settings_cache = None
        comune.refresh_from_db()
    return queued, sent, positions, step.seconds


def pdf_times() -> tuple[float, float, float]:
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from enrollment.documents import LetteraCredenziali
    from identity.models import Account
    from payments.avviso import avviso_pdf, avviso_stored_path, avviso_stored_pdf
    from payments.services import position_create
    from tenants.selectors import comune_current
    from tenants.service_definition import FeeInstalment

    try:
        with transaction.atomic():
            today = timezone.localdate()
            position = position_create(
                source="bench:pdf", payer_codice_fiscale="RSSMRA80A01H501U", payer_name="Mario Rossi",
                description="TRASPORTO 2025/2026 – Luca Rossi", amount=Decimal("180.00"),
                instalments=[
                    FeeInstalment(due_date=today + timedelta(days=30), share_percent=Decimal(50)),
                    FeeInstalment(due_date=today + timedelta(days=120), share_percent=Decimal(50)),
                ],
            )  # fmt: skip
            account = Account.objects.create_user(username="BEN-000001", kind=Account.Kind.PARENT)
            letter = LetteraCredenziali(comune=comune_current(), account=account)
            avviso_pdf(position=position)  # warm-up (fonts)
            letter.render()
            n = 5
            t = time.perf_counter()
            for _ in range(n):
                avviso_pdf(position=position)
            avviso_page = (time.perf_counter() - t) / n / 2
            t = time.perf_counter()
            for _ in range(n):
                letter.render()
            letter_page = (time.perf_counter() - t) / n
            avviso_stored_pdf(position=position)  # what the confirmation e-mail's job leaves
            t = time.perf_counter()
            for _ in range(n):
                avviso_stored_pdf(position=position)
            stored = (time.perf_counter() - t) / n
            avviso_stored_path(position).unlink()
            raise Rollback
    except Rollback:
        pass
    return avviso_page, letter_page, stored


def pdf_report(avviso_page: float, letter_page: float, stored: float) -> str:
    return (
        f"avviso PDF (with the Bollettino Postale PA): {avviso_page * 1000:.0f} ms per page rendered; "
        f"credentials letter {letter_page * 1000:.0f} ms per page (x{avviso_page / letter_page:.2f}); "
        f"a download of the stored avviso: {stored * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--pdf-only", action="store_true", help="only the avviso PDF timings")
    args = parser.parse_args()
    setup()
    from django.db import connection
    from django_tenants.utils import schema_context, tenant_context

    comune = scratch_comune(gpd_server())
    if args.drop:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{SLUG}" CASCADE')
        comune.domains.all().delete()
        type(comune).objects.filter(pk=comune.pk).delete()
        print("scratch comune dropped")
        return
    if args.pdf_only:
        with schema_context(comune.schema_name):
            times = pdf_times()
        print(pdf_report(*times))
        return
    # tenant_context, not schema_context: comune_current() is then the object on
    # the connection, so switching payments off for the baseline takes effect.
    with tenant_context(comune):
        ids = populate(args.count)
        # Warm-up (templates compiled, rows in PostgreSQL's cache): else the baseline, run first, pays it.
        bulk_confirm(ids[:100], payments_on=True, send=False)
        base, _, _, _ = bulk_confirm(ids, payments_on=False, send=False)
        queued, sent, positions, step = bulk_confirm(ids, payments_on=True, send=True)
        times = pdf_times()
    print(f"bulk confirm of {len(ids)} enrollments")
    print(f"  without payments (baseline): {base:.2f} s")
    print(
        f"  with payments, {positions} positions queued: {queued:.2f} s (x{queued / base:.2f} the baseline, "
        f"+{queued - base:.2f} s)"
    )
    print(f"  of which creating the positions, their rate, audit entries and jobs: {step:.2f} s")
    print(
        f"  sent to the local GPD server, one process: {sent:.2f} s ({sent / positions * 1000:.1f} ms each)"
    )
    print(pdf_report(*times))


if __name__ == "__main__":
    main()
