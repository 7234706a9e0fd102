"""In-process time of a 30-question form: rendering it and validating a submission.

A service whose definition asks 30 questions of every type (choices, a
conditional file question, numbers, dates, ...) is added to a comune inside
a transaction that is rolled back at the end, so the database is left as it
was. Each round times, interleaved: GET of the parents' form, POST of a
submission answering all 30 questions (the privacy consent left out, so the
whole form is validated and rendered again with one error, and nothing is
written), and, as the baseline, the comune's public service page of the
same service. Figures are p50/p95 over every request; ratios are within
the run, so a loaded machine moves them less than the milliseconds.

    DATABASE_URL=postgres://… .venv/bin/python bench/form.py [--host palosco.localhost]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

print = functools.partial(print, flush=True)
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("DEBUG", "0")

TYPES = ["text", "textarea", "boolean", "choice", "choices", "date", "number", "email", "phone"]


def _questions() -> list[dict[str, Any]]:
    """30 questions: every type at least three times, one file question on a yes/no."""
    questions: list[dict[str, Any]] = []
    for i in range(27):
        kind = TYPES[i % len(TYPES)]
        q: dict[str, Any] = {"id": f"q{i:02d}", "label": f"Domanda {i + 1} ({kind})", "type": kind}
        if kind in ("choice", "choices"):
            q["options"] = [f"Opzione {n}" for n in range(1, 6)]
        if kind == "number":
            q["min"] = 0
        q["required"] = i % 2 == 0
        questions.append(q)
    questions.append({"id": "allergie", "label": "Allergie", "type": "boolean"})
    questions.append(
        {
            "id": "certificato",
            "label": "Certificato",
            "type": "file",
            "required_if": {"question": "allergie", "equals": True},
        }
    )
    questions.append({"id": "isee", "label": "ISEE", "type": "number", "min": 0})
    return questions


def _answer(kind: str) -> str | list[str]:
    return {
        "text": "Risposta breve",
        "textarea": "Una risposta\nsu due righe",
        "boolean": "true",
        "choice": "Opzione 2",
        "choices": ["Opzione 1", "Opzione 3"],
        "date": "2026-06-29",
        "number": "12",
        "email": "genitore@example.org",
        "phone": "035 123456",
    }[kind]


# The pupil and guardian of the submission (valid codici fiscali).
PERSON = {
    "pupil_first_name": "Luca",
    "pupil_last_name": "Rossi",
    "pupil_codice_fiscale": "RSSLCU17C10A794T",
    "pupil_birth_date": "2017-03-10",
    "pupil_birth_place": "Bergamo",
    "pupil_school": "primaria",
    "pupil_class_section": "3ª A",
    "guardian_first_name": "Mario",
    "guardian_last_name": "Rossi",
    "guardian_codice_fiscale": "RSSMRA80A01H501U",
    "guardian_email": "bench@example.org",
    "guardian_phone": "035 123456",
    "guardian_address": "Via Roma 1",
    "guardian_cap": "24050",
    "guardian_city": "Palosco",
}


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="palosco.localhost", help="the comune's portal host")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=20, help="requests per mode and round")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the PostgreSQL to benchmark against.")

    import django

    django.setup()
    from datetime import timedelta

    from django.db import transaction
    from django.test import Client
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from enrollment.definitions import definition_json
    from enrollment.forms import question_field_name
    from enrollment.models import Service
    from identity.models import Account
    from tenants.models import Domain
    from tenants.service_definition import ServiceDefinition
    from tenants.services import comune_catalogue_changed

    schema = Domain.objects.select_related("tenant").get(domain=args.host).tenant.schema_name
    definition = ServiceDefinition.model_validate({"questions": _questions()})
    assert len(definition.questions) == 30
    client = Client()

    class Rollback(Exception):
        pass

    try:
        with schema_context(schema), transaction.atomic():
            now = timezone.now()
            service = Service.objects.create(
                code="BENCHFORM",
                name="SERVIZIO DI PROVA",
                school_year="2025/2026",
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=30),
                definition=definition_json(definition),
                definition_version=definition.version,
            )
            comune_catalogue_changed(schema_name=schema)
            parent = Account.objects.create_user(
                "BENCH-FORM-1",
                kind=Account.Kind.PARENT,
                email="bench@example.org",
                email_verified_at=now,
            )
            client.force_login(parent)
            data: dict[str, Any] = {"services": [str(service.pk)], "azione": "riepilogo", **PERSON}
            for q in definition.questions:
                # No allergy: the conditional file question is checked as not applying.
                if q.type != "file" and q.id != "allergie":
                    data[question_field_name(service, q.id)] = _answer(q.type)
            page = f"/servizi/{service.code}/{service.year_in_url}/"

            def get_form() -> None:
                # Step 4 (Servizi) is the page that renders the 30 questions.
                response = client.get("/iscrizioni/nuova/?passo=4", HTTP_HOST=args.host)
                body = response.content.decode()
                if response.status_code != 200 or "Domanda 27" not in body:
                    sys.exit(
                        f"GET /iscrizioni/nuova/?passo=4 answered {response.status_code} "
                        "without the questions"
                    )

            def post_form() -> None:
                response = client.post("/iscrizioni/nuova/", data, HTTP_HOST=args.host)
                body = response.content.decode()
                # Only the privacy consent is missing: any other error means an answer was refused.
                if response.status_code != 400 or body.count('aria-invalid="true"') != 1:
                    sys.exit(f"POST: not only the privacy consent was refused ({body.count('aria-invalid')})")

            def get_page() -> None:
                response = client.get(page, HTTP_HOST=args.host)
                if response.status_code != 200:
                    sys.exit(f"GET {page} answered {response.status_code}")

            modes: dict[str, Callable[[], None]] = {
                "form, GET (render)": get_form,
                "form, POST (validate + render)": post_form,
                "service page (baseline)": get_page,
            }
            for fn in modes.values():
                for _ in range(10):
                    fn()
            samples: dict[str, list[float]] = {name: [] for name in modes}
            for _ in range(args.rounds):
                for name, fn in modes.items():
                    for _ in range(args.requests):
                        started = time.perf_counter()
                        fn()
                        samples[name].append((time.perf_counter() - started) * 1000)
            raise Rollback
    except Rollback:
        pass
    with schema_context(schema):
        comune_catalogue_changed(schema_name=schema)
    load = os.getloadavg()
    print(f"CPUs: {os.cpu_count()}; load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"30 questions; {args.rounds} rounds x {args.requests} requests per mode, interleaved")
    base = statistics.median(samples["service page (baseline)"])
    for name, values in samples.items():
        p50, p95 = statistics.median(values), _percentile(values, 95)
        print(f"  {name:<32} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ({p50 / base:.2f}x baseline p50)")


if __name__ == "__main__":
    main()
