"""The parents' form derived from a service's definition: controls, conditions, files, versions.

Palosco's CRE exists only in its YAML (tenant_configs/palosco.yaml): choices,
a boolean, a file required only when the boolean is true, an ISEE number
feeding the fee bands.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from enrollment.definitions import definition_json, service_definition
from enrollment.models import Enrollment, Service, Upload
from enrollment.selectors import enrollment_answer_rows
from enrollment.services import EnrollmentError, answers_store
from enrollment.uploads import upload_path
from tenants.service_definition import ServiceDefinition
from tests.enrollment.conftest import (
    SIBLING_BIRTH,
    SIBLING_CF,
    form_data,
    logged_in,
    parent_create,
    pupil_data,
    service,
)
from tests.factories import (
    GUARDIAN_BIRTH,
    PUPIL_BIRTH,
    StaffFactory,
    domanda_create,
    last_year_confirmed,
    make_cf,
)

# As the YAML writes them, with en dashes.
WEEKS = ["1ª settimana (29/6–3/7)", "2ª settimana (6/7–10/7)", "3ª settimana (13/7–17/7)"]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _cre_form(**answers: Any) -> dict[str, Any]:
    data = form_data(services=[service("CRE")])
    data.update({f"extra_CRE_{k}": v for k, v in answers.items()})
    return data


def _redefine(svc: Service, **changes: Any) -> None:
    """Change the service's stored definition as a YAML sync or a staff edit would."""
    definition = service_definition(svc).model_dump(mode="json", exclude_defaults=True) | changes
    parsed = ServiceDefinition.model_validate(definition)
    svc.definition = definition_json(parsed)
    svc.definition_version = parsed.version
    svc.save(update_fields=["definition", "definition_version"])


def test_the_form_renders_each_question_with_its_control(in_palosco, palosco_parent) -> None:
    client = logged_in(in_palosco, palosco_parent)
    html = client.get("/iscrizioni/nuova/?passo=4").content.decode()  # step 4: Servizi
    assert 'enctype="multipart/form-data"' in html
    assert "Domande per CENTRO RICREATIVO ESTIVO 2025/2026" in html
    # choices: one checkbox per option in a fieldset whose legend is the label.
    assert '<legend class="fs-6 fw-semibold">Settimane richieste' in html
    for i, week in enumerate(WEEKS):
        assert (
            f'type="checkbox" name="extra_CRE_settimane" id="id_extra_CRE_settimane_{i}" value="{week}"'
            in html
        )
    # boolean: a checkbox controlling the conditional file question.
    assert (
        'name="extra_CRE_dieta" id="id_extra_CRE_dieta" value="true" '
        'aria-controls="id_extra_CRE_certificato-block"' in html
    )
    # file: conditional, with the no-JS note and the accepted formats.
    assert 'data-depends-on="extra_CRE_dieta" data-depends-value="true"' in html
    assert 'type="file"' in html and "PDF, JPEG o PNG, al massimo 10 MB." in html
    assert "Da compilare solo se hai risposto «Sì» a «Dieta speciale per motivi di salute»." in html
    # number with help, described by its help text.
    assert (
        'name="extra_CRE_isee" id="id_extra_CRE_isee" value="" inputmode="decimal" '
        'aria-describedby="id_extra_CRE_isee-help"' in html
    )
    # PRE's textarea, required.
    assert (
        '<textarea class="form-control" name="extra_PRE_motivo" id="id_extra_PRE_motivo" rows="3" '
        'aria-describedby="id_extra_PRE_motivo-help" aria-required="true">' in html
    )
    assert "enrollment/questions.js" in html


def test_cre_submission_with_choices_file_and_isee(in_palosco, palosco_parent) -> None:
    client = logged_in(in_palosco, palosco_parent)
    data = _cre_form(settimane=[WEEKS[0], WEEKS[2]], dieta="true", isee="7.999,50", lavoro="true")
    data["extra_CRE_certificato"] = SimpleUploadedFile("../../Certificato dietà.PDF", PDF, "text/plain")
    response = client.post("/iscrizioni/nuova/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    e = Enrollment.objects.get(service__code="CRE")
    upload = Upload.objects.get()
    assert e.extra == {
        "settimane": [WEEKS[0], WEEKS[2]],
        "dieta": True,
        "certificato": str(upload.id),
        "isee": "7999.50",
        "lavoro": True,
    }
    assert e.definition_version == service("CRE").definition_version != ""
    assert upload.enrollment == e and upload.account == palosco_parent
    assert upload.name == "Certificato_dieta.pdf" and upload.content_type == "application/pdf"
    path = upload_path(upload.id, schema="palosco")
    assert path.read_bytes() == PDF and str(upload.id) == path.name
    summary = client.get(response["Location"]).content.decode()
    for text in (
        "Settimane richieste",
        f"{WEEKS[0]}, {WEEKS[2]}",
        'Dieta speciale per motivi di salute</dt><dd class="col-sm-8">Sì',
        "7999,50",
        'Quota annuale</dt><dd class="col-sm-8">€ 120,00',
        f'href="/iscrizioni/allegati/{upload.id}/">Certificato_dieta.pdf',
    ):
        assert text in summary, text


def test_conditional_file_is_required_only_when_its_condition_holds(in_palosco, palosco_parent) -> None:
    client = logged_in(in_palosco, palosco_parent)
    asked = client.post("/iscrizioni/nuova/", _cre_form(settimane=[WEEKS[1]], dieta="true"))
    assert asked.status_code == 400
    html = asked.content.decode()
    assert "Allega il documento «Certificato medico della dieta»." in html
    assert 'href="#id_extra_CRE_certificato"' in html  # in the error summary too
    assert not Enrollment.objects.exists()
    # Without the condition, a file sent anyway is not kept (and not stored).
    data = _cre_form(settimane=[WEEKS[1]])
    data["extra_CRE_certificato"] = SimpleUploadedFile("x.pdf", PDF)
    assert client.post("/iscrizioni/nuova/", data).status_code == 302
    assert "certificato" not in Enrollment.objects.get().extra and not Upload.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "vuoto.pdf", "Il file è vuoto"),
        (b"MZ\x90\x00 not a pdf", "finto.pdf", "Il file non è un PDF, un&#x27;immagine JPEG o PNG"),
        (
            b"%PDF-" + b"x" * (1024 * 1024),
            "grande.pdf",
            "Il file è troppo grande (1,0 MB): il massimo è 1 MB.",
        ),
    ],
)
def test_refused_files_are_not_stored_and_the_rest_is_kept(
    in_palosco, palosco_parent, content: bytes, name: str, message: str
) -> None:
    config = in_palosco.config | {"upload_max_mb": 1}
    in_palosco.config = config
    in_palosco.save(update_fields=["config"])
    in_palosco._settings_cache = None
    client = logged_in(in_palosco, palosco_parent)
    data = _cre_form(settimane=[WEEKS[1]], dieta="true", isee="12000")
    data["extra_CRE_certificato"] = SimpleUploadedFile(name, content, "application/pdf")
    response = client.post("/iscrizioni/nuova/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="id_extra_CRE_certificato-error"' in html
    assert 'value="12000"' in html and "checked" in html  # the rest of the form is kept
    assert not Upload.objects.exists() and not Enrollment.objects.exists()


def test_eligibility_by_school(in_palosco, palosco_parent) -> None:
    client = logged_in(in_palosco, palosco_parent)
    data = _cre_form(settimane=[WEEKS[0]])
    data["pupil_school"] = "secondaria"
    # Step 4 validated on its own (the full submit first shows step 2's birth-date error).
    html = client.post("/iscrizioni/nuova/", data | {"azione": "avanti", "passo": "4"}).content.decode()
    assert "Passo 4 di 5" in html
    assert (
        "CENTRO RICREATIVO ESTIVO 2025/2026 è riservato agli alunni della scuola dell&#x27;infanzia, "
        "scuola primaria: non è disponibile per la scuola secondaria di primo grado."
    ) in html
    assert not Enrollment.objects.exists()


def test_a_draft_keeps_partial_answers_and_reopens_with_them(in_palosco, palosco_parent) -> None:
    client = logged_in(in_palosco, palosco_parent)
    data = _cre_form(isee="9000", lavoro="true") | {"azione": "bozza"}
    response = client.post("/iscrizioni/nuova/", data)
    assert response.status_code == 302
    e = Enrollment.objects.get()
    assert e.status == "bozza" and e.extra == {"isee": "9000", "lavoro": True, "dieta": False}
    html = client.get(response["Location"] + "?passo=4").content.decode()
    assert 'name="extra_CRE_isee" id="id_extra_CRE_isee" value="9000"' in html
    assert 'name="extra_CRE_lavoro" id="id_extra_CRE_lavoro" value="true" checked' in html
    # The draft still needs the required weeks when it is completed.
    final = client.post(response["Location"], _cre_form(isee="9000"))
    assert "Scegli una risposta per «Settimane richieste»." in final.content.decode()


def test_a_partial_draft_cannot_be_sent_from_the_riepilogo(in_palosco, palosco_parent) -> None:
    """«Salva Bozza» keeps partial answers; «Invia Iscrizione» from the riepilogo refuses them."""
    client = logged_in(in_palosco, palosco_parent)
    response = client.post("/iscrizioni/nuova/", _cre_form(isee="9000", lavoro="true") | {"azione": "bozza"})
    assert response.status_code == 302
    e = Enrollment.objects.get()
    summary = f"/iscrizioni/domanda/{e.domanda}/"
    refused = client.post(summary, {"azione": "invia"}, follow=True)
    e.refresh_from_db()
    assert e.status == "bozza" and e.submitted_at is None
    assert (
        "CENTRO RICREATIVO ESTIVO: la domanda non è completa. «Settimane richieste»: "
        "Scegli una risposta per «Settimane richieste»." in refused.content.decode()
    )
    # Completed through the form, the same draft is sent.
    client.post(f"{summary}modifica/", _cre_form(isee="9000", lavoro="true", settimane=[WEEKS[0]]))
    client.post(summary, {"azione": "invia"})
    e.refresh_from_db()
    assert e.status == "inviata" and e.extra["settimane"] == [WEEKS[0]]


def test_a_definition_change_keeps_submitted_answers_and_revalidates_drafts(
    in_palosco, palosco_parent
) -> None:
    client = logged_in(in_palosco, palosco_parent)
    assert (
        client.post("/iscrizioni/nuova/", _cre_form(settimane=[WEEKS[0]], lavoro="true")).status_code == 302
    )
    sent = Enrollment.objects.get()
    summary = f"/iscrizioni/domanda/{sent.domanda}/"
    client.post(summary, {"azione": "invia"})
    # Another family's draft, saved under the same (old) definition.
    other = logged_in(in_palosco, parent_create(username="PAL-000901", email="altro@example.org"))
    other_cf = make_cf(name="GLI", birth=PUPIL_BIRTH)
    other_form = {
        "pupil_cf": other_cf,
        "guardian_codice_fiscale": make_cf(surname="VRD", name="GPP", birth=GUARDIAN_BIRTH),
        "guardian_email": "altro@example.org",
    }
    draft_data = form_data(services=[service("CRE")], azione="bozza", **other_form)
    draft_response = other.post("/iscrizioni/nuova/", draft_data | {"extra_CRE_settimane": [WEEKS[0]]})
    assert draft_response.status_code == 302
    sent.refresh_from_db()
    old_version, old_extra = sent.definition_version, dict(sent.extra)

    cre = service("CRE")
    definition = service_definition(cre)
    # Mid-window the comune drops "lavoro" (and its criterion) and adds a required question.
    questions = [
        q.model_dump(mode="json", exclude_defaults=True) for q in definition.questions if q.id != "lavoro"
    ]
    questions.append(
        {"id": "taglia", "label": "Taglia della maglietta", "type": "choice", "options": ["S", "M", "L"],
         "required": True}
    )  # fmt: skip
    assert definition.ranking is not None
    ranking = definition.ranking.model_dump(mode="json", exclude_defaults=True)
    ranking["criteria"] = [c for c in ranking["criteria"] if c["id"] != "lavoro"]
    _redefine(cre, questions=questions, ranking=ranking)

    sent.refresh_from_db()
    assert sent.extra == old_extra and sent.definition_version == old_version != cre.definition_version
    rows = {r.question_id: r for r in enrollment_answer_rows(enrollment=sent)}
    assert rows["lavoro"].retired and rows["lavoro"].text == "Sì"
    page = client.get(summary).content.decode()
    assert "domanda non più presente nel modulo" in page and "Taglia della maglietta" not in page
    # The parent edits the sent form: the retired answer stays, the new version is recorded.
    edit = client.post(f"{summary}modifica/", _cre_form(settimane=[WEEKS[1]], taglia="M"))
    assert edit.status_code == 302
    sent.refresh_from_db()
    assert sent.extra["lavoro"] is True and sent.extra["taglia"] == "M"
    assert sent.definition_version == cre.definition_version
    # The draft is now checked against the new definition: the new required question is asked.
    draft_url = draft_response["Location"]
    completed = other.post(draft_url, form_data(services=[service("CRE")], **other_form)
                           | {"extra_CRE_settimane": [WEEKS[0]]})  # fmt: skip
    assert completed.status_code == 400
    assert "Scegli una risposta per «Taglia della maglietta»." in completed.content.decode()
    assert 'name="extra_CRE_lavoro"' not in other.get(draft_url).content.decode()


def test_renewal_prefills_answers_still_asked_and_still_valid(in_palosco, palosco_parent) -> None:
    previous = last_year_confirmed(palosco_parent, "PRE", extra={"PRE": {"motivo": "Turni in fabbrica"}})
    client = logged_in(in_palosco, palosco_parent)
    html = client.get(f"/iscrizioni/rinnovi/{previous.pk}/?passo=4").content.decode()
    assert ">Turni in fabbrica</textarea>" in html


def test_uploads_reach_only_their_parent_and_the_comunes_staff(in_palosco, palosco_parent, romano) -> None:
    client = logged_in(in_palosco, palosco_parent)
    data = _cre_form(settimane=[WEEKS[0]], dieta="true")
    data["extra_CRE_certificato"] = SimpleUploadedFile("foto.png", PNG, "image/png")
    assert client.post("/iscrizioni/nuova/", data).status_code == 302
    upload = Upload.objects.get()
    url = f"/iscrizioni/allegati/{upload.id}/"
    mine = client.get(url)
    assert mine.status_code == 200 and mine.content == PNG
    assert mine["Content-Type"] == "image/png" and "no-store" in mine["Cache-Control"]
    assert mine["Content-Disposition"] == 'attachment; filename="foto.png"'
    stranger = logged_in(in_palosco, parent_create(username="PAL-000902"))
    assert stranger.get(url).status_code == 404
    assert Client(HTTP_HOST="palosco.localhost").get(url).status_code == 404
    staff = logged_in(in_palosco, StaffFactory.create(role="Operatore"))
    assert staff.get(url).status_code == 200
    no_role = logged_in(in_palosco, StaffFactory.create(role=None))
    assert no_role.get(url).status_code == 404
    with tenant_context(romano):
        romano_staff = StaffFactory.create(role="Amministratore comune")
        romano_client = logged_in(romano, romano_staff)
    assert romano_client.get(url).status_code == 404


def test_the_public_service_page(in_palosco, palosco, romano) -> None:
    anonymous = Client(HTTP_HOST="palosco.localhost")
    home = anonymous.get("/").content.decode()
    assert 'href="/servizi/CRE/2025-2026/"' in home
    response = anonymous.get("/servizi/CRE/2025-2026/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "<h1>CENTRO RICREATIVO ESTIVO</h1>",
        "A chi è rivolto",
        "Scuola dell&#x27;infanzia",
        "Scuola primaria",
        "precedenza in graduatoria (10 punti)",
        "Come fare",
        "Cosa serve",
        "Certificato medico della dieta, se richiesta (PDF, JPEG o PNG)",
        "Certificato medico della dieta (PDF, JPEG o PNG)",
        "Quanto costa",
        "ISEE fino a € 8.000,00: € 120,00",
        "ISEE fino a € 20.000,00: € 200,00",
        "ISEE oltre € 20.000,00 o non dichiarato: € 300,00",
        "ridotta del 20%",
        "Tempi e scadenze",
        "05/05/2025 09:00",
        'href="/iscrizioni/nuova/">Accedi al servizio</a>',
    ):
        assert text in html, text
    free = anonymous.get("/servizi/POST/2024-2025/").content.decode()
    assert "<p>Gratuito.</p>" in free and "ISEE" not in free
    assert (
        "Tariffa annuale secondo le fasce ISEE" in anonymous.get("/servizi/PRE/2025-2026/").content.decode()
    )
    assert anonymous.get("/servizi/MENSA/2025-2026/").status_code == 404  # Romano's service
    assert Client(HTTP_HOST="romanodilombardia.localhost").get("/servizi/CRE/2025-2026/").status_code == 404


def test_a_file_of_one_enrollment_is_not_taken_by_a_siblings(in_palosco, palosco_parent) -> None:
    """The same family, a second child: naming the first child's certificate is refused, and it stays."""
    client = logged_in(in_palosco, palosco_parent)
    data = _cre_form(settimane=[WEEKS[0]], dieta="true")
    data["extra_CRE_certificato"] = SimpleUploadedFile("certificato.pdf", PDF)
    assert client.post("/iscrizioni/nuova/", data).status_code == 302
    first, upload = Enrollment.objects.get(service__code="CRE"), Upload.objects.get()
    sibling = domanda_create(
        palosco_parent,
        [service("CRE")],
        pupil=pupil_data(codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH),
    )[0]
    with pytest.raises(EnrollmentError) as refused:
        answers_store(
            enrollment=sibling,
            answers={"settimane": [WEEKS[0]], "dieta": True, "certificato": str(upload.id)},
            account=palosco_parent,
        )
    assert refused.value.code == "upload_unknown"
    upload.refresh_from_db()
    assert upload.enrollment == first and first.extra["certificato"] == str(upload.id)
    # A file uploaded but not yet on any enrollment is the family's to attach.
    loose = Upload.objects.create(
        account=palosco_parent,
        question_id="certificato",
        name="nuovo.pdf",
        content_type="application/pdf",
        size=3,
    )
    stored = answers_store(
        enrollment=sibling, answers={"settimane": [WEEKS[0]], "dieta": True, "certificato": str(loose.id)},
        account=palosco_parent,
    )  # fmt: skip
    loose.refresh_from_db()
    assert stored["certificato"] == str(loose.id) and loose.enrollment == sibling


def test_a_replaced_or_dropped_file_is_removed_after_the_commit(
    in_palosco, palosco_parent, django_capture_on_commit_callbacks
) -> None:
    client = logged_in(in_palosco, palosco_parent)
    first = _cre_form(settimane=[WEEKS[0]], dieta="true") | {"azione": "bozza"}
    first["extra_CRE_certificato"] = SimpleUploadedFile("primo.pdf", PDF)
    response = client.post("/iscrizioni/nuova/", first)
    assert response.status_code == 302
    old = Upload.objects.get()
    old_path = upload_path(old.id)
    assert old_path.read_bytes() == PDF
    second = _cre_form(settimane=[WEEKS[0]], dieta="true") | {"azione": "bozza"}
    second["extra_CRE_certificato"] = SimpleUploadedFile("secondo.png", PNG, "image/png")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(response["Location"], second).status_code == 302
        assert old_path.is_file()  # not before the commit
    new = Upload.objects.get()
    assert new.pk != old.pk and Enrollment.objects.get().extra["certificato"] == str(new.id)
    assert not old_path.exists() and upload_path(new.id).read_bytes() == PNG
    # Saved again without sending the file: the one attached stays (this answered 500 before).
    again = _cre_form(settimane=[WEEKS[1]], dieta="true") | {"azione": "bozza"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(response["Location"], again).status_code == 302
    assert Enrollment.objects.get().extra["certificato"] == str(new.id) and upload_path(new.id).is_file()
    # Saved again without the condition: the certificate is no longer an answer, nor kept.
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(response["Location"], _cre_form(settimane=[WEEKS[0]]) | {"azione": "bozza"})
    assert saved.status_code == 302 and "certificato" not in Enrollment.objects.get().extra
    assert not Upload.objects.exists() and not upload_path(new.id).exists()


def test_a_draft_removed_from_the_form_takes_its_file(
    in_palosco, palosco_parent, django_capture_on_commit_callbacks
) -> None:
    client = logged_in(in_palosco, palosco_parent)
    data = _cre_form(settimane=[WEEKS[0]], dieta="true") | {"azione": "bozza"}
    data["services"] = [service("CRE").pk, service("PRE").pk]
    data["extra_CRE_certificato"] = SimpleUploadedFile("dieta.pdf", PDF)
    response = client.post("/iscrizioni/nuova/", data)
    assert response.status_code == 302 and Enrollment.objects.count() == 2
    path = upload_path(Upload.objects.get().id)
    with django_capture_on_commit_callbacks(execute=True):
        kept = client.post(response["Location"], form_data(services=[service("PRE")], azione="bozza"))
    assert kept.status_code == 302
    assert list(Enrollment.objects.values_list("service__code", flat=True)) == ["PRE"]
    assert not Upload.objects.exists() and not path.exists()
