"""A YAML value that its type cannot build (30 February) is a form error in Italian, not a 500.

PyYAML builds dates and numbers while it parses, and raises ValueError, not YAMLError, for one
that cannot be (found by a review)."""

from __future__ import annotations

import re

from django.test import Client

from tests.superadmin.test_onboarding import NEW as ONBOARDED

# test_onboarding's comune, opening on a day that does not exist.
NEW = ONBOARDED.replace("opens_at: 2025-04-01T09:00:00", "opens_at: 2026-02-30T09:00:00")
NAMED = "contiene un valore che non si può leggere, ad esempio una data che non esiste (30 febbraio)"


def test_onboarding_with_a_date_that_does_not_exist_is_a_form_error(operator_client: Client) -> None:
    assert NEW != ONBOARDED
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
