"""A service's definition in the YAML: each refusal names file, field and reason."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
import yaml

from tenants.config import ConfigError, config_dump, config_parse

SOURCE = "palosco.yaml"


def _config(**service: Any) -> dict[str, Any]:
    return {
        "slug": "palosco",
        "name": "Palosco",
        "province": "Bergamo",
        "hosts": ["palosco.localhost"],
        "identity": {"backends": ["credentials"]},
        "services": [
            {
                "code": "CRE",
                "name": "CENTRO RICREATIVO ESTIVO",
                "school_year": "2025/2026",
                "opens_at": "2026-03-01T09:00:00",
                "closes_at": "2026-04-30T23:59:59",
                **service,
            }
        ],
    }


QUESTIONS = [
    {"id": "settimane", "label": "Settimane richieste", "type": "choices", "options": ["1ª", "2ª", "3ª"]},
    {"id": "dieta", "label": "Dieta speciale", "type": "boolean"},
    {
        "id": "certificato",
        "label": "Certificato medico",
        "type": "file",
        "required_if": {"question": "dieta", "equals": True},
    },
    {"id": "isee", "label": "Valore ISEE (euro)", "type": "number", "min": 0},
    {"id": "lavoro", "label": "Entrambi i genitori lavorano", "type": "boolean"},
]
RANKING = {
    "criteria": [
        {"id": "residenti", "label": "Residenti", "points": 10, "source": "residency"},
        {"id": "fratelli", "label": "Fratelli", "points": 3, "source": "siblings"},
        {"id": "lavoro", "label": "Lavoratori", "points": 5, "question": "lavoro", "equals": True},
    ],
    "tie_break": "submitted_at",
}
FEES = {
    "kind": "isee_bands",
    "isee_question": "isee",
    "bands": [
        {"up_to": 8000, "amount": "120.00"},
        {"up_to": 20000, "amount": "200.00"},
        {"amount": "300.00"},
    ],
    "sibling_discount_percent": 20,
}


def _cre(**changes: Any) -> dict[str, Any]:
    service = {
        "schools": ["infanzia", "primaria"],
        "questions": copy.deepcopy(QUESTIONS),
        "documents": ["Certificato medico della dieta, se richiesta"],
        "ranking": copy.deepcopy(RANKING),
        "fees": copy.deepcopy(FEES),
    }
    service.update(changes)
    return service


def _parse(service: dict[str, Any]) -> Any:
    return config_parse(yaml.safe_dump(_config(**service), allow_unicode=True), source=SOURCE)


def _problems(service: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        _parse(service)
    return exc.value.problems


def _questions(index: int, **changes: Any) -> list[dict[str, Any]]:
    questions = copy.deepcopy(QUESTIONS)
    questions[index].update(changes)
    return [{k: v for k, v in q.items() if v is not None} for q in questions]


def test_the_issue_definition_parses_with_decimal_amounts() -> None:
    service = _parse(_cre()).services[0]
    assert [q.id for q in service.questions] == ["settimane", "dieta", "certificato", "isee", "lavoro"]
    assert service.schools == ["infanzia", "primaria"]
    assert service.fees.bands[0].amount == Decimal("120.00")
    assert service.fees.sibling_discount_percent == Decimal(20)
    assert service.ranking.criteria[2].equals is True


def test_existing_services_without_a_definition_stay_valid() -> None:
    cfg = _parse({})
    assert cfg.services[0].questions == [] and cfg.services[0].fees is None
    assert cfg.upload_max_mb == 10


def test_a_definition_survives_export_and_stored_json() -> None:
    cfg = _parse(_cre())
    assert config_parse(config_dump(cfg), source=SOURCE) == cfg
    assert type(cfg).model_validate(cfg.model_dump(mode="json")) == cfg


def test_definition_version_is_stable_and_follows_meaning() -> None:
    version = _parse(_cre()).services[0].definition_version
    assert len(version) == 12
    assert _parse(_cre()).services[0].definition_version == version
    # Writing a default explicitly does not change the meaning.
    explicit = _questions(1, required=False)
    assert _parse(_cre(questions=explicit)).services[0].definition_version == version
    # A relabelled question or another fee does.
    assert _parse(_cre(questions=_questions(1, label="Dieta"))).services[0].definition_version != version
    fees = {**FEES, "sibling_discount_percent": 10}
    assert _parse(_cre(fees=fees)).services[0].definition_version != version
    # The window is not part of the definition.
    assert _parse(_cre(capacity=5)).services[0].definition_version == version


def test_duplicate_question_id_is_refused() -> None:
    questions = [*copy.deepcopy(QUESTIONS), {"id": "dieta", "label": "Altro", "type": "text"}]
    assert _problems(_cre(questions=questions)) == [
        "palosco.yaml: services.0.questions.5.id (servizio CRE, domanda «dieta»): l'identificativo «dieta» "
        "è usato da due domande"
    ]


def test_unknown_type_is_refused() -> None:
    assert _problems(_cre(questions=_questions(4, type="checkbox"))) == [
        "palosco.yaml: services.0.questions.4.type (servizio CRE, domanda «lavoro»): tipo «checkbox» "
        "sconosciuto: usa uno tra text, "
        "textarea, boolean, choice, choices, date, number, email, phone, file"
    ]


def test_choice_without_options_is_refused() -> None:
    questions = [*copy.deepcopy(QUESTIONS), {"id": "fermata", "label": "Fermata", "type": "choice"}]
    assert _problems(_cre(questions=questions)) == [
        "palosco.yaml: services.0.questions.5.options (servizio CRE, domanda «fermata»): una domanda a "
        "scelta ha bisogno delle opzioni"
    ]


def test_choices_with_empty_options_is_refused() -> None:
    assert _problems(_cre(questions=_questions(0, options=[]))) == [
        "palosco.yaml: services.0.questions.0.options (servizio CRE, domanda «settimane»): una domanda a "
        "scelta ha bisogno delle opzioni"
    ]


def test_duplicate_option_is_refused() -> None:
    assert _problems(_cre(questions=_questions(0, options=["1ª", "2ª", "1ª"]))) == [
        "palosco.yaml: services.0.questions.0.options.2 (servizio CRE, domanda «settimane»): l'opzione «1ª» "
        "compare due volte"
    ]


def test_options_on_a_non_choice_question_are_refused() -> None:
    assert _problems(_cre(questions=_questions(1, options=["sì", "no"]))) == [
        "palosco.yaml: services.0.questions.1.options (servizio CRE, domanda «dieta»): le opzioni valgono "
        "solo per le domande a scelta"
    ]


def test_min_on_a_non_number_question_is_refused() -> None:
    assert _problems(_cre(questions=_questions(1, min=1))) == [
        "palosco.yaml: services.0.questions.1.min (servizio CRE, domanda «dieta»): minimo e massimo valgono "
        "solo per le domande numeriche"
    ]


def test_min_above_max_is_refused() -> None:
    assert _problems(_cre(questions=_questions(3, min=100, max=10))) == [
        "palosco.yaml: services.0.questions.3.max (servizio CRE, domanda «isee»): non può essere minore del "
        "minimo (100)"
    ]


def test_required_if_naming_a_missing_question_is_refused() -> None:
    questions = _questions(2, required_if={"question": "allergia", "equals": True})
    assert _problems(_cre(questions=questions)) == [
        "palosco.yaml: services.0.questions.2.required_if.question (servizio CRE, domanda «certificato»): "
        "indica la domanda «allergia», "
        "che non esiste"
    ]


def test_required_if_naming_itself_is_refused() -> None:
    questions = _questions(2, required_if={"question": "certificato", "equals": True})
    assert _problems(_cre(questions=questions)) == [
        "palosco.yaml: services.0.questions.2.required_if.question (servizio CRE, domanda «certificato»): "
        "una domanda non può dipendere da "
        "se stessa"
    ]


def test_required_if_naming_a_later_question_is_refused() -> None:
    # dieta depends on lavoro (later), so a cycle dieta → lavoro → dieta is impossible.
    questions = _questions(1, required_if={"question": "lavoro", "equals": True})
    assert _problems(_cre(questions=questions)) == [
        "palosco.yaml: services.0.questions.1.required_if.question (servizio CRE, domanda «dieta»): indica "
        "la domanda «lavoro», che "
        "viene dopo: indica una domanda precedente"
    ]


def test_required_if_comparing_a_yes_no_with_text_is_refused() -> None:
    questions = _questions(2, required_if={"question": "dieta", "equals": "sì"})
    assert _problems(_cre(questions=questions)) == [
        "palosco.yaml: services.0.questions.2.required_if.equals (servizio CRE, domanda «certificato»): "
        "deve essere true o false: la "
        "domanda «dieta» è sì/no"
    ]


def test_required_together_with_required_if_is_refused() -> None:
    assert _problems(_cre(questions=_questions(2, required=True))) == [
        "palosco.yaml: services.0.questions.2.required_if (servizio CRE, domanda «certificato»): una "
        "domanda è obbligatoria oppure "
        "condizionata (required_if), non entrambe"
    ]


def test_criterion_on_a_missing_question_is_refused() -> None:
    ranking = copy.deepcopy(RANKING)
    ranking["criteria"][2]["question"] = "occupazione"
    assert _problems(_cre(ranking=ranking)) == [
        "palosco.yaml: services.0.ranking.criteria.2.question (servizio CRE, criterio «lavoro»): indica la "
        "domanda «occupazione», che "
        "non esiste"
    ]


def test_criterion_with_an_option_that_does_not_exist_is_refused() -> None:
    ranking = copy.deepcopy(RANKING)
    ranking["criteria"][2].update(question="settimane", equals="4ª")
    assert _problems(_cre(ranking=ranking)) == [
        "palosco.yaml: services.0.ranking.criteria.2.equals (servizio CRE, criterio «lavoro»): deve essere "
        "una delle opzioni della "
        "domanda «settimane»"
    ]


def test_negative_points_are_refused() -> None:
    ranking = copy.deepcopy(RANKING)
    ranking["criteria"][1]["points"] = -3
    assert _problems(_cre(ranking=ranking)) == [
        "palosco.yaml: services.0.ranking.criteria.1.points (servizio CRE, criterio «fratelli»): non può "
        "essere negativo"
    ]


def test_criterion_with_both_source_and_question_is_refused() -> None:
    ranking = copy.deepcopy(RANKING)
    ranking["criteria"][0]["question"] = "lavoro"
    assert _problems(_cre(ranking=ranking)) == [
        "palosco.yaml: services.0.ranking.criteria.0.source (servizio CRE, criterio «residenti»): indica la "
        "fonte (residency o siblings) "
        "oppure la domanda (question) con il valore (equals)"
    ]


def test_duplicate_criterion_id_is_refused() -> None:
    ranking = copy.deepcopy(RANKING)
    ranking["criteria"][1]["id"] = "residenti"
    assert _problems(_cre(ranking=ranking)) == [
        "palosco.yaml: services.0.ranking.criteria.1.id (servizio CRE, criterio «residenti»): "
        "l'identificativo «residenti» è usato da due criteri"
    ]


def test_bands_not_increasing_are_refused() -> None:
    fees = copy.deepcopy(FEES)
    fees["bands"][1]["up_to"] = 8000
    assert _problems(_cre(fees=fees)) == [
        "palosco.yaml: services.0.fees.bands.1.up_to (servizio CRE): le fasce devono crescere: 8000 non è "
        "maggiore di 8000"
    ]


def test_band_without_amount_is_refused() -> None:
    fees = copy.deepcopy(FEES)
    del fees["bands"][2]["amount"]
    assert _problems(_cre(fees=fees)) == [
        "palosco.yaml: services.0.fees.bands.2.amount (servizio CRE): ogni fascia ha bisogno dell'importo"
    ]


def test_flat_fee_without_amount_is_refused() -> None:
    assert _problems(_cre(fees={"kind": "flat"})) == [
        "palosco.yaml: services.0.fees.amount (servizio CRE): una tariffa fissa ha bisogno dell'importo"
    ]


def test_amount_written_as_a_number_is_refused() -> None:
    assert _problems(_cre(fees={"kind": "flat", "amount": 120.5})) == [
        "palosco.yaml: services.0.fees.amount (servizio CRE): scrivi l'importo tra virgolette con due "
        "decimali, ad "
        'esempio "120.00"'
    ]


def test_amount_of_zero_is_refused() -> None:
    assert _problems(_cre(fees={"kind": "flat", "amount": "0.00"})) == [
        "palosco.yaml: services.0.fees.amount (servizio CRE): deve essere maggiore di zero"
    ]


def test_only_the_last_band_may_lack_up_to() -> None:
    fees = copy.deepcopy(FEES)
    del fees["bands"][0]["up_to"]
    assert _problems(_cre(fees=fees)) == [
        "palosco.yaml: services.0.fees.bands.0.up_to (servizio CRE): solo l'ultima fascia può non avere "
        "«fino a»"
    ]


def test_last_band_with_up_to_is_refused() -> None:
    fees = copy.deepcopy(FEES)
    fees["bands"][2]["up_to"] = 50000
    assert _problems(_cre(fees=fees)) == [
        "palosco.yaml: services.0.fees.bands.2.up_to (servizio CRE): l'ultima fascia non ha «fino a»: vale "
        "sopra la "
        "fascia precedente e quando l'ISEE non è indicato"
    ]


def test_isee_question_that_is_not_a_number_is_refused() -> None:
    fees = {**FEES, "isee_question": "lavoro"}
    assert _problems(_cre(fees=fees)) == [
        "palosco.yaml: services.0.fees.isee_question (servizio CRE): la domanda «lavoro» è di tipo boolean: "
        "la "
        "domanda dell'ISEE deve essere numerica"
    ]


def test_isee_question_that_does_not_exist_is_refused() -> None:
    fees = {**FEES, "isee_question": "reddito"}
    assert _problems(_cre(fees=fees)) == [
        "palosco.yaml: services.0.fees.isee_question (servizio CRE): indica la domanda «reddito», che non "
        "esiste"
    ]


def test_isee_bands_without_isee_question_is_refused() -> None:
    fees = {k: v for k, v in FEES.items() if k != "isee_question"}
    assert _problems(_cre(fees=fees)) == [
        "palosco.yaml: services.0.fees.isee_question (servizio CRE): una tariffa per fasce ISEE ha bisogno "
        "della "
        "domanda numerica che chiede l'ISEE"
    ]


def test_unknown_school_is_refused() -> None:
    problems = _problems(_cre(schools=["nido"]))
    assert len(problems) == 1 and problems[0].startswith("palosco.yaml: services.0.schools.0 (servizio CRE):")
