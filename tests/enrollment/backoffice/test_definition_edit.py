"""Staff editing a service's definition: the same validator as the YAML, refusals
in Italian, nothing written when refused, and the sync keeping the staff's edit."""

from __future__ import annotations

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_tenants.utils import tenant_context

from core.models import AuditEntry
from enrollment.backoffice.services import (
    service_definition_text,
    service_definition_update,
    service_staff_edits_clear,
)
from enrollment.definitions import service_definition
from enrollment.models import Enrollment, Service
from enrollment.services import service_catalogue_sync
from tenants.config import ServiceConfig
from tests.enrollment.backoffice.conftest import client_for, submitted
from tests.enrollment.conftest import service


def _data(cre: Service) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(service_definition_text(service=cre))


def _refusal(cre: Service, data: dict, by) -> list[str]:  # type: ignore[no-untyped-def,type-arg]
    version = cre.definition_version
    with pytest.raises(ValidationError) as exc:
        service_definition_update(service=cre, text=yaml.safe_dump(data, allow_unicode=True), by=by)
    cre.refresh_from_db()
    assert cre.definition_version == version  # nothing written
    return exc.value.message_dict["definizione"]


def test_add_reorder_relabel_and_deactivate(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    cre = service("CRE")
    data = _data(cre)
    questions = data["questions"]
    questions[0]["label"] = "Settimane di frequenza"
    questions[0]["options"].append("4ª settimana (20/7\u201324/7)")
    questions.append({"id": "fermata", "label": "Fermata del pulmino", "type": "choice",
                      "options": ["Piazza", "Scuola"]})  # fmt: skip
    questions.insert(0, questions.pop(1))  # dieta first
    data["ranking"]["criteria"][1]["active"] = False  # no sibling points this year
    before = cre.definition_version
    service_definition_update(service=cre, text=yaml.safe_dump(data, allow_unicode=True), by=admin_user)
    cre.refresh_from_db()
    definition = service_definition(cre)
    assert cre.definition_version == definition.version != before
    assert [q.id for q in definition.questions][:2] == ["dieta", "settimane"]
    assert definition.question("settimane").label == "Settimane di frequenza"  # type: ignore[union-attr]
    assert definition.question("fermata") is not None
    assert definition.ranking is not None and not definition.ranking.criteria[1].active
    entry = AuditEntry.objects.get(action="service.staff_updated", object_id=str(cre.pk))
    assert entry.actor == admin_user and entry.data["fields"] == ["definition", "definition_version"]
    assert entry.data["before"]["definition_version"] == before


def test_refusals_are_in_italian_and_name_the_place(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    cre = service("CRE")
    data = _data(cre)
    data["questions"][1]["id"] = "settimane"
    assert any("Domanda 2 «Dieta speciale per motivi di salute»" in m and "usato da due domande" in m
               for m in _refusal(cre, data, admin_user))  # fmt: skip
    data = _data(cre)
    data["questions"][0]["type"] = "scelta"
    assert _refusal(cre, data, admin_user) == [
        "Servizio CRE, Domanda 1 «Settimane richieste» (settimane), tipo: tipo «scelta» sconosciuto: usa "
        "uno tra text, textarea, "
        "boolean, choice, choices, date, number, email, phone, file."
    ]
    data = _data(cre)
    del data["questions"][0]["options"]
    assert _refusal(cre, data, admin_user) == [
        "Servizio CRE, Domanda 1 «Settimane richieste» (settimane), opzioni: una domanda a scelta ha "
        "bisogno delle opzioni."
    ]
    data = _data(cre)
    data["ranking"]["criteria"][2]["question"] = "genitori"
    assert _refusal(cre, data, admin_user) == [
        "Servizio CRE, Graduatoria, Criterio 3 «Entrambi i genitori lavoratori» (lavoro), domanda: "
        "indica la domanda «genitori», che non esiste."
    ]
    data = _data(cre)
    data["ranking"]["criteria"][0]["points"] = -1
    assert "non può essere negativo" in _refusal(cre, data, admin_user)[0]
    data = _data(cre)
    data["questions"][4]["active"] = False  # "lavoro" is still used by a criterion
    assert "che è disattivata" in _refusal(cre, data, admin_user)[0]
    data = _data(cre)
    data["questions"][0]["colore"] = "blu"
    assert _refusal(cre, data, admin_user) == [
        "Servizio CRE, Domanda 1 «Settimane richieste» (settimane), colore: campo non previsto."
    ]
    with pytest.raises(ValidationError, match="non è YAML valido"):
        service_definition_update(service=cre, text="questions: [\n", by=admin_user)


def test_a_question_with_answers_is_deactivated_not_removed(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    cre = service("CRE")
    e = submitted(cre)
    Enrollment.objects.filter(pk=e.pk).update(extra={"dieta": True})
    data = _data(cre)
    data["questions"] = [q for q in data["questions"] if q["id"] not in ("dieta", "certificato")]
    assert "ha già delle risposte" in _refusal(cre, data, admin_user)[0]
    data = _data(cre)
    for q in data["questions"]:
        if q["id"] in ("dieta", "certificato"):
            q["active"] = False
    service_definition_update(service=cre, text=yaml.safe_dump(data, allow_unicode=True), by=admin_user)
    cre.refresh_from_db()
    assert not service_definition(cre).question("dieta").active  # type: ignore[union-attr]
    e.refresh_from_db()
    assert e.extra == {"dieta": True}  # the answer stays


def test_the_sync_keeps_the_staff_definition(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    cre = service("CRE")
    yaml_definition, yaml_version = dict(cre.definition), cre.definition_version
    config = ServiceConfig.model_validate(
        {f: getattr(cre, f) for f in ("code", "name", "description", "school_year", "opens_at", "closes_at",
                                      "capacity")} | yaml_definition
    )  # fmt: skip
    data = _data(cre)
    data["questions"][0]["label"] = "Settimane scelte dall'ufficio"
    service_definition_update(service=cre, text=yaml.safe_dump(data, allow_unicode=True), by=admin_user)
    report = service_catalogue_sync(services=[config])
    cre.refresh_from_db()
    assert service_definition(cre).questions[0].label == "Settimane scelte dall'ufficio"
    assert report == [
        "service CRE 2025/2026 kept staff values (definition, definition_version) over the YAML"
    ]
    service_staff_edits_clear(service=cre, by=admin_user)
    service_catalogue_sync(services=[config])
    cre.refresh_from_db()
    assert cre.definition_version == yaml_version


def test_the_page_over_http(palosco, admin_user, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        cre = service("CRE")
    url = reverse("staff_admin:bo_service_definition", args=[cre.pk])
    client = client_for(palosco, admin_user)
    page = client.get(url).content.decode()
    assert "Settimane richieste" in page and 'for="id_definizione"' in page
    refused = client.post(
        url, {"definizione": "questions:\n  - id: Settimane\n    label: X\n    type: text\n"}
    )
    assert refused.status_code == 400
    assert "identificativo non valido" in refused.content.decode()
    assert client_for(palosco, operatore).get(url).status_code == 403


def test_every_refusal_of_a_question_is_listed_at_once(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    cre = service("CRE")
    data = _data(cre)
    first = data["questions"][0]
    # Four problems on one question (it is also required): each used to hide the next until fixed.
    first.update(type="scelta", options=["A", "A"], required_if={"question": "allergia", "equals": True})
    assert _refusal(cre, data, admin_user) == [
        "Servizio CRE, Domanda 1 «Settimane richieste» (settimane), tipo: tipo «scelta» sconosciuto: usa "
        "uno tra text, textarea, boolean, choice, choices, date, number, email, phone, file.",
        "Servizio CRE, Domanda 1 «Settimane richieste» (settimane), opzioni, voce 2: l'opzione «A» compare "
        "due volte.",
        "Servizio CRE, Domanda 1 «Settimane richieste» (settimane), condizione (required_if): una domanda è "
        "obbligatoria oppure condizionata (required_if), non entrambe.",
        "Servizio CRE, Domanda 1 «Settimane richieste» (settimane), condizione (required_if), domanda: "
        "indica la domanda «allergia», che non esiste.",
    ]


def test_a_value_yaml_cannot_build_is_refused_in_italian(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    cre = Service.objects.get(code="CRE", school_year="2025/2026")
    text = service_definition_text(service=cre) + "documents: [2026-02-30]\n"
    with pytest.raises(ValidationError) as refused:
        service_definition_update(service=cre, text=text, by=admin_user)
    assert "una data che non esiste (30 febbraio)" in str(refused.value)


def test_a_deactivated_question_keeps_the_answer_of_a_submitted_form_saved_again(
    in_palosco, admin_user
) -> None:  # type: ignore[no-untyped-def]
    """Deactivating is what the docs ask instead of removing; the family's answer went at their next
    save of the submitted form (found by a review)."""
    from enrollment.answers import answers_clean
    from tests.factories import ParentFactory, domanda_create

    post = Service.objects.get(code="POST", school_year="2025/2026")
    parent = ParentFactory.create()
    (e,) = domanda_create(parent, [post], extra={"POST": {"delegati": "Nonna Maria"}}, submit=True)
    data = yaml.safe_load(service_definition_text(service=post))
    data["questions"][0]["active"] = False
    service_definition_update(service=post, text=yaml.safe_dump(data, allow_unicode=True), by=admin_user)
    post.refresh_from_db()
    sent = answers_clean(questions=service_definition(post).questions, answers={"delegati": "Nonna Maria"})
    assert sent.values == {}  # the form no longer asks it
    domanda_create(parent, [post], extra={"POST": {}}, domanda=e.domanda)
    e.refresh_from_db()
    assert (e.status, e.extra.get("delegati")) == (Enrollment.Status.INVIATA, "Nonna Maria")
