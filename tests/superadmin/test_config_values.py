"""A YAML value that its type cannot build (30 February) is a form error in Italian, not a 500.

PyYAML builds dates and numbers while it parses, and raises ValueError, not YAMLError, for one
that cannot be (found by a review)."""

from __future__ import annotations

import re

from django.test import Client

NEW = """
slug: testville
name: Testville
province: Bergamo
hosts: [testville.localhost]
identity: {backends: [credentials, codice_fiscale]}
services:
  - code: MENSA
    name: REFEZIONE SCOLASTICA
    school_year: 2025/2026
    opens_at: 2026-02-30T09:00:00
    closes_at: 2027-06-30T23:59:59
"""
NAMED = "contiene un valore che non si può leggere, ad esempio una data che non esiste (30 febbraio)"


def test_onboarding_with_a_date_that_does_not_exist_is_a_form_error(operator_client: Client) -> None:
    response = operator_client.post(
        "/admin/comuni/nuovo/", {"yaml_text": NEW, "admin_email": "segreteria@testville.example"}
    )
    assert response.status_code == 400 and NAMED in response.content.decode()


def test_a_config_edited_with_a_date_that_does_not_exist_is_a_form_error(
    operator_client: Client, palosco
) -> None:  # type: ignore[no-untyped-def]
    text = operator_client.get("/admin/comuni/palosco/configurazione/").context["form"].initial["yaml_text"]
    text, replaced = re.subn(
        r"closes_at: '2027-06-30T23:59:59\+02:00'", "closes_at: 2027-02-30T23:59:59", text, count=1
    )
    assert replaced == 1
    response = operator_client.post("/admin/comuni/palosco/configurazione/", {"yaml_text": text})
    assert response.status_code == 400 and NAMED in response.content.decode()
