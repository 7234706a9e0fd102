"""Back-office list, dashboard and exports at 10,000 enrollments in one comune.

Creates (once) a scratch comune `benchbackoffice` with 10,000 submitted
enrollments (bulk_create), then times the staff pages through Django's test
client (middleware, queries, templates) and prints percentiles; the exports
are also run under tracemalloc for their peak Python memory. `--no-indexes`
repeats the run with the back office's indexes dropped inside a transaction
that is rolled back, for comparison. `--drop` removes the scratch comune.

    DATABASE_URL=postgres://... .venv/bin/python bench/backoffice_list.py [--no-indexes] [--drop]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["DEBUG"] = "0"  # no query log growing in memory

SLUG = "benchbackoffice"
HOST = f"{SLUG}.localhost"
TOTAL = 10_000
REPEAT = 20
SURNAMES = [
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
    "Bruno", "Gallo", "Conti", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri",
]  # fmt: skip
NAMES = [
    "Luca",
    "Sara",
    "Marco",
    "Giulia",
    "Matteo",
    "Chiara",
    "Andrea",
    "Anna",
    "Davide",
    "Elena",
    "Paolo",
    "Marta",
]
INDEXES = [
    "enrollment_submitted_id",
    "enrollment_year_status",
    "pupil_upper_last_name",
    "pupil_upper_first_name",
    "guardian_upper_last_name",
    "guardian_upper_first_name",
]


def setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (this benchmark writes a scratch comune schema).")
    import django

    django.setup()


def scratch_comune():  # type: ignore[no-untyped-def]
    from superadmin.operations import comune_apply_config
    from tenants.config import config_parse
    from tenants.models import Comune
    from tenants.provisioning import platform_migrate

    platform_migrate()
    text = (ROOT / "tenant_configs" / "palosco.yaml").read_text()
    text = text.replace("slug: palosco", f"slug: {SLUG}").replace("palosco.localhost", HOST)
    text = text.replace("name: Palosco", "name: Benchmark back office")
    comune_apply_config(config=config_parse(text, source="bench"))
    return Comune.objects.get(slug=SLUG)


def populate() -> None:
    from django.utils import timezone

    from enrollment.models import Enrollment, Guardian, Pupil, Service

    if Enrollment.objects.count() >= TOTAL:
        return
    rnd = random.Random(2026)
    services = list(Service.objects.all())
    now = timezone.now()
    guardians = Guardian.objects.bulk_create(
        [
            Guardian(
                first_name=rnd.choice(NAMES),
                last_name=rnd.choice(SURNAMES),
                codice_fiscale=f"GRD{i:013d}",
                email=f"g{i}@example.org",
                phone="035 000000",
                address="Via Roma 1",
                cap="24050",
                city="Palosco",
            )
            for i in range(TOTAL // 2)
        ],
        batch_size=2000,
    )
    pupils = Pupil.objects.bulk_create(
        [
            Pupil(
                guardian=guardians[i // 2],
                first_name=rnd.choice(NAMES),
                last_name=guardians[i // 2].last_name,
                codice_fiscale=f"PPL{i:013d}",
                birth_date=date(2016, 1, 1) + timedelta(days=i % 1500),
                birth_place="Bergamo",
                school="primaria",
                class_section="3ª A",
            )
            for i in range(TOTAL)
        ],
        batch_size=2000,
    )
    statuses = ["inviata"] * 60 + ["confermata"] * 25 + ["respinta"] * 8 + ["annullata"] * 5 + ["bozza"] * 2
    rows = []
    for i, pupil in enumerate(pupils):
        service = services[i % len(services)]
        status = rnd.choice(statuses)
        submitted = None if status == "bozza" else now - timedelta(minutes=rnd.randrange(120 * 24 * 60))
        rows.append(
            Enrollment(
                pupil=pupil,
                guardian=pupil.guardian,
                service=service,
                school_year=service.school_year,
                kind=rnd.choice(["nuova", "nuova", "rinnovo"]),
                status=status,
                reference=f"{service.school_year[:4]}-{i + 1:06d}",
                first_saved_at=submitted or now,
                updated_at=now,
                submitted_at=submitted,
                decided_at=submitted if status in ("confermata", "respinta") else None,
            )
        )
    Enrollment.objects.bulk_create(rows, batch_size=2000)
    answers_fill()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def answers_fill() -> None:
    """Answers for the CRE requests (weeks, diet, ISEE, work), so exports and fees have data."""
    from enrollment.models import Enrollment

    rnd = random.Random(14)
    rows = list(Enrollment.objects.filter(service__code="CRE", extra={}).only("pk"))
    weeks = ["1ª settimana (29/6\u20133/7)", "2ª settimana (6/7\u201310/7)", "3ª settimana (13/7\u201317/7)"]
    for e in rows:
        e.extra = {
            "settimane": rnd.sample(weeks, rnd.randint(1, 3)),
            "dieta": rnd.random() < 0.1,
            "isee": f"{rnd.randint(3000, 40000)}.00",
            "lavoro": rnd.random() < 0.6,
        }
    Enrollment.objects.bulk_update(rows, ["extra"], batch_size=2000)


def staff_client():  # type: ignore[no-untyped-def]
    from django.test import Client

    from enrollment.backoffice.demo import load_comune
    from identity.models import Account
    from tenants.models import Comune

    if not Account.objects.filter(username=f"ufficio.{SLUG}").exists():
        Account.objects.create_user(username=f"ufficio.{SLUG}", kind=Account.Kind.STAFF, is_staff=True)
    load_comune(Comune.objects.get(slug=SLUG))
    client = Client(HTTP_HOST=HOST)
    client.force_login(Account.objects.get(username=f"ufficio.{SLUG}"))
    return client


def timed(client, url: str, params: dict[str, str]) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(REPEAT + 2):
        t = time.perf_counter()
        response = client.get(url, params)
        if response.streaming:
            for _ in response.streaming_content:
                pass
        assert response.status_code == 200, (url, response.status_code)
        if i >= 2:  # two warm-up requests
            out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def run(client, label: str, schema: str) -> None:  # type: ignore[no-untyped-def]
    from django_tenants.utils import schema_context

    with schema_context(schema):
        _run(client, label)


def _run(client, label: str) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from enrollment.models import Enrollment, Pupil, Service

    pre = Service.objects.filter(code="PRE", school_year="2025/2026").first()
    some = Enrollment.objects.exclude(status="bozza").order_by("id")[TOTAL // 3]
    pupil = Pupil.objects.get(pk=some.pupil_id)
    today = timezone.localdate()
    cases = [
        ("elenco, prima pagina", "/admin/iscrizioni/", {}),
        ("elenco, pagina 150", "/admin/iscrizioni/", {"pagina": "150"}),
        ("filtro servizio+stato", "/admin/iscrizioni/", {"servizio": str(pre.pk), "stato": "inviata"}),
        ("filtro anno+tipo+date", "/admin/iscrizioni/",
         {"anno": "2025/2026", "tipo": "rinnovo", "dal": str(today - timedelta(days=30)), "al": str(today)}),
        ("cerca cognome (prefisso)", "/admin/iscrizioni/", {"q": "ricc"}),
        ("cerca nome e cognome", "/admin/iscrizioni/", {"q": f"{pupil.first_name} {pupil.last_name}"}),
        ("cerca codice fiscale", "/admin/iscrizioni/", {"q": pupil.codice_fiscale}),
        ("cerca n. riferimento", "/admin/iscrizioni/", {"q": some.reference}),
        ("ordina per alunno, p. 50", "/admin/iscrizioni/", {"ordina": "alunno", "pagina": "50"}),
        ("cruscotto", "/admin/", {"anno": "2025/2026"}),
    ]  # fmt: skip
    print(f"\n{label}: {REPEAT} requests each, milliseconds")
    print(f"  {'case':<28} {'p50':>8} {'p95':>8} {'max':>8}")
    for name, url, params in cases:
        ms = timed(client, url, params)
        print(f"  {name:<28} {statistics.median(ms):8.1f} {pct(ms, 95):8.1f} {max(ms):8.1f}")
    n = Enrollment.objects.exclude(status="bozza").count()
    per_row: dict[str, float] = {}
    for fmt in ("csv", "xlsx"):
        url = f"/admin/iscrizioni/esporta.{fmt}"
        t = time.perf_counter()
        response = client.get(url)
        size = sum(len(c) for c in response.streaming_content)
        seconds = time.perf_counter() - t
        per_row[fmt] = seconds / n
        tracemalloc.start()
        response = client.get(url)
        for _ in response.streaming_content:
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  export {fmt.upper():<4} {n} rows: {seconds:6.2f} s, {size / 1e6:5.2f} MB, "
              f"tracemalloc peak {peak / 1e6:5.2f} MB")  # fmt: skip
    # One service's list (the kitchen list): a column per question, answers
    # parsed and the fee computed per row; compared per row with the whole list.
    cre = Service.objects.filter(code="CRE", school_year="2025/2026").first()
    if cre is not None:
        rows = Enrollment.objects.filter(service=cre).exclude(status="bozza").count()
        for fmt in ("csv", "xlsx"):
            t = time.perf_counter()
            response = client.get(f"/admin/iscrizioni/esporta.{fmt}", {"servizio": str(cre.pk)})
            b"".join(response.streaming_content)
            seconds = time.perf_counter() - t
            columns = len(cre.definition.get("questions", []))
            print(f"  export {fmt.upper():<4} CRE only, {rows} rows, {columns} "
                  f"question columns + fee: {seconds:6.2f} s, per row {seconds / rows / per_row[fmt]:4.2f}x "
                  "the whole list's")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-indexes", action="store_true", help="also run with the indexes dropped")
    parser.add_argument("--drop", action="store_true", help="drop the scratch comune and exit")
    args = parser.parse_args()
    setup()
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    comune = scratch_comune()
    if args.drop:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{SLUG}" CASCADE')
        comune.domains.all().delete()
        type(comune).objects.filter(pk=comune.pk).delete()
        print("scratch comune dropped")
        return
    with schema_context(comune.schema_name):
        t = time.perf_counter()
        populate()
        from enrollment.models import Enrollment

        answers_fill()  # a scratch comune made before the CRE answers existed gets them
        count = Enrollment.objects.count()
        print(f"{count} enrollments in schema {SLUG} (setup {time.perf_counter() - t:.1f} s)")
        client = staff_client()
    run(client, "with the back-office indexes", comune.schema_name)
    if args.no_indexes:

        class Rollback(Exception):
            pass

        try:
            with transaction.atomic(), schema_context(comune.schema_name):
                with connection.cursor() as cursor:
                    for name in INDEXES:
                        cursor.execute(f'DROP INDEX "{SLUG}"."{name}"')
                run(client, "without them (dropped in a transaction, rolled back)", comune.schema_name)
                raise Rollback
        except Rollback:
            pass


if __name__ == "__main__":
    main()
