"""A file chosen on step 4 survives Indietro (issue #15): stored unattached, carried by a signed
reference that only its parent, on its comune's portal, can use."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.timezone import now
from django_tenants.utils import tenant_context

from enrollment.definitions import definition_json, service_definition
from enrollment.models import Enrollment, Service, Upload
from enrollment.uploads import upload_path
from tenants.models import Comune
from tenants.service_definition import ServiceDefinition
from tests.enrollment.conftest import form_data, logged_in, parent_create, service
from tests.enrollment.test_steps import NEW, carried, step_fields

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TOKEN = "extra_CRE_certificato__allegato"
GONE = "Il file allegato in un passo precedente non è più disponibile: allegalo di nuovo."


def _cre() -> dict[str, Any]:
    return form_data(
        services=[service("CRE")],
        extra_CRE_settimane=["1ª settimana (29/6–3/7)"],
        extra_CRE_dieta="true",
    )


def _to_step_4(client: Client, data: dict[str, Any]) -> str:
    html = client.get(NEW).content.decode()
    for step in (1, 2, 3):
        html = client.post(
            NEW, carried(html) | step_fields(data, step) | {"azione": "avanti"}
        ).content.decode()
    assert "Passo 4 di 5" in html
    return html


def _back_with_the_file(client: Client, html: str, data: dict[str, Any]) -> str:
    """On step 4 the parent chooses the file, then presses Indietro: step 3, the file's reference hidden."""
    fields = step_fields(data, 4) | {"extra_CRE_certificato": SimpleUploadedFile("certificato.pdf", PDF)}
    back = client.post(NEW, carried(html) | fields | {"azione": "indietro"})
    assert back.status_code == 200
    page = back.content.decode()
    assert "Passo 3 di 5" in page and TOKEN in carried(page)
    return page


def test_a_file_chosen_on_step_4_survives_indietro_and_is_attached_on_save(
    in_palosco, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(in_palosco, palosco_parent)
    data = _cre()
    html = _back_with_the_file(client, _to_step_4(client, data), data)
    upload = Upload.objects.get()
    assert upload.enrollment is None and upload.account == palosco_parent  # unattached until the save
    token = carried(html)[TOKEN]
    assert str(upload.id) != token and len(token) > 60  # signed, not the bare id
    html = client.post(NEW, carried(html) | step_fields(data, 3) | {"azione": "avanti"}).content.decode()
    assert "Passo 4 di 5" in html and "File già allegato: <strong>certificato.pdf</strong>" in html
    saved = client.post(NEW, carried(html) | step_fields(data, 4) | {"azione": "riepilogo"})
    assert saved.status_code == 302, saved.content.decode()[-3000:]
    enrollment = Enrollment.objects.get(service__code="CRE")
    upload.refresh_from_db()
    assert enrollment.extra["certificato"] == str(upload.id) and upload.enrollment == enrollment
    assert Upload.objects.count() == 1
    stored = upload_path(upload.id, schema="palosco").read_bytes()
    assert hashlib.sha256(stored).hexdigest() == upload.sha256 == hashlib.sha256(PDF).hexdigest()


def test_a_new_file_replaces_the_carried_one(in_palosco, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(in_palosco, palosco_parent)
    data = _cre()
    html = _back_with_the_file(client, _to_step_4(client, data), data)
    html = client.post(NEW, carried(html) | step_fields(data, 3) | {"azione": "avanti"}).content.decode()
    other = SimpleUploadedFile("nuovo.pdf", PDF + b"%nuovo")
    saved = client.post(
        NEW, carried(html) | step_fields(data, 4) | {"extra_CRE_certificato": other, "azione": "riepilogo"}
    )
    assert saved.status_code == 302
    attached = Upload.objects.get(enrollment__isnull=False)
    assert attached.name == "nuovo.pdf"
    assert Enrollment.objects.get(service__code="CRE").extra["certificato"] == str(attached.id)


def test_another_parent_replaying_the_reference_is_refused_and_never_gets_the_file(
    in_palosco, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    owner = logged_in(in_palosco, palosco_parent)
    data = _cre()
    token = carried(_back_with_the_file(owner, _to_step_4(owner, data), data))[TOKEN]
    upload = Upload.objects.get()
    intruder_account = parent_create(username="PAL-000901", email="altro@example.it")
    intruder = logged_in(in_palosco, intruder_account)
    html = _to_step_4(intruder, data)
    response = intruder.post(
        NEW, carried(html) | step_fields(data, 4) | {TOKEN: token, "azione": "riepilogo"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "è stato caricato da un altro utente e non può essere usato: allega il tuo file." in page
    assert "Passo 4 di 5" in page and "certificato.pdf" not in page
    assert not Enrollment.objects.exists()
    upload.refresh_from_db()
    assert upload.enrollment is None and upload.account == palosco_parent
    assert intruder.get(f"/iscrizioni/allegati/{upload.id}/").status_code in (403, 404)


def _romano_pre_with_a_file_question(romano: Comune) -> None:
    with tenant_context(romano):
        pre: Service = service("PRE")
        definition = service_definition(pre).model_dump(mode="json", exclude_defaults=True)
        definition["questions"] = [
            *definition.get("questions", []),
            {"id": "certificato", "label": "Certificato", "type": "file"},
        ]
        parsed = ServiceDefinition.model_validate(definition)
        pre.definition, pre.definition_version = definition_json(parsed), parsed.version
        # Open now, whatever the demo file's window says.
        pre.opens_at, pre.closes_at, pre.new_enrollments = (
            now() - timedelta(days=1),
            now() + timedelta(days=30),
            True,
        )
        pre.save(
            update_fields=["definition", "definition_version", "opens_at", "closes_at", "new_enrollments"]
        )


def test_the_reference_replayed_on_another_comunes_host_is_refused(
    in_palosco, palosco_parent, romano
) -> None:  # type: ignore[no-untyped-def]
    owner = logged_in(in_palosco, palosco_parent)
    data = _cre()
    token = carried(_back_with_the_file(owner, _to_step_4(owner, data), data))[TOKEN]
    upload_id = str(Upload.objects.get().id)
    _romano_pre_with_a_file_question(romano)
    with tenant_context(romano):
        # Romano's parent may even have the same account id: the comune is in the reference.
        account = parent_create(username="ROM-000900")
        client = logged_in(romano, account)
        romano_data = form_data(services=[service("PRE")])
        response = client.post(NEW, romano_data | {"extra_PRE_certificato__allegato": token})
        assert response.status_code == 400
        page = response.content.decode()
        assert "è stato caricato sul portale di un altro comune e qui non può essere usato" in page
        assert not Enrollment.objects.exists() and not Upload.objects.exists()
        assert client.get(f"/iscrizioni/allegati/{upload_id}/").status_code == 404


def test_an_altered_reference_is_refused(in_palosco, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(in_palosco, palosco_parent)
    data = _cre()
    html = _back_with_the_file(client, _to_step_4(client, data), data)
    token = carried(html)[TOKEN]
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    html = client.post(NEW, carried(html) | step_fields(data, 3) | {"azione": "avanti"}).content.decode()
    response = client.post(
        NEW, carried(html) | step_fields(data, 4) | {TOKEN: altered, "azione": "riepilogo"}
    )
    assert response.status_code == 400 and GONE in response.content.decode()
    assert not Enrollment.objects.exists()


def test_a_file_sent_with_a_save_refused_for_an_earlier_step_is_kept(in_palosco, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(in_palosco, palosco_parent)
    data = _cre() | {"guardian_cap": "2405"}
    html = _to_step_4(client, _cre())
    fields = step_fields(data, 4) | {"extra_CRE_certificato": SimpleUploadedFile("certificato.pdf", PDF)}
    refused = client.post(NEW, carried(html) | fields | {"guardian_cap": "2405", "azione": "riepilogo"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Passo 3 di 5" in page and "Il CAP è formato da 5 cifre." in page and TOKEN in carried(page)
    html = client.post(NEW, carried(page) | step_fields(_cre(), 3) | {"azione": "avanti"}).content.decode()
    saved = client.post(NEW, carried(html) | step_fields(data, 4) | {"azione": "riepilogo"})
    assert saved.status_code == 302
    upload = Upload.objects.get()
    assert Enrollment.objects.get(service__code="CRE").extra["certificato"] == str(upload.id)
