"""The definition validator's refusals in Italian, for staff editing a service.

`tenants.service_definition.ServiceDefinition` refuses an invalid definition
with one pydantic error per field (a location such as `questions.2.options`
and an English reason, as the YAML's operators read them). Staff editing a
definition in the back office read the same refusals in Italian, all of them
at once: the service, the place ("Servizio CRE, Domanda 3 «Settimane
richieste» (settimane), opzioni") and the reason.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from tenants.definition_reasons import reason_in_italian, refusal_order

FIELDS = {
    "id": "identificativo", "label": "etichetta", "type": "tipo", "options": "opzioni",
    "required": "obbligatoria", "help": "aiuto", "required_if": "condizione (required_if)",
    "question": "domanda", "equals": "valore (equals)", "min": "minimo", "max": "massimo",
    "active": "attiva", "points": "punti", "source": "fonte", "tie_break": "criterio di parità",
    "kind": "tipo di tariffa", "amount": "importo", "isee_question": "domanda dell'ISEE",
    "up_to": "fino a", "sibling_discount_percent": "sconto fratelli (%)", "schools": "scuole",
    "documents": "documenti", "ranking": "graduatoria", "fees": "tariffe", "questions": "domande",
    "criteria": "criteri", "bands": "fasce",
}  # fmt: skip
TYPES = {
    "missing": "manca: è obbligatorio",
    "extra_forbidden": "campo non previsto",
    "string_pattern_mismatch": (
        "identificativo non valido: lettere minuscole senza accenti, cifre e _, "
        "iniziando con una lettera (al massimo 40 caratteri)"
    ),
    "string_too_short": "non può essere vuoto",
    "string_type": "deve essere un testo",
    "bool_type": "deve essere true o false",
    "bool_parsing": "deve essere true o false",
    "decimal_parsing": "deve essere un numero",
    "decimal_type": "deve essere un numero",
    "list_type": "deve essere un elenco",
    "model_type": "deve essere un insieme di campi (chiave: valore)",
    "dict_type": "deve essere un insieme di campi (chiave: valore)",
}


def _reason(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in TYPES:
        return TYPES[kind]
    if kind == "string_too_long":
        return f"troppo lungo: al massimo {ctx.get('max_length')} caratteri"
    if kind == "too_short":
        return "ne serve almeno uno"
    if kind == "literal_error":
        return f"valore non ammesso: usa {ctx.get('expected', '')}".replace(" or ", " oppure ")
    if kind == "greater_than_equal":
        return f"deve essere almeno {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"deve essere al massimo {ctx.get('le')}"
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return reason_in_italian(message) or f"valore non valido ({message})"


def _place(loc: tuple[Any, ...], data: Any) -> str:
    """`("questions", 2, "options")` → `Domanda 3 «Settimane richieste», opzioni`."""
    parts: list[str] = []
    node = data
    i = 0
    while i < len(loc):
        key = loc[i]
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        child = node.get(key) if isinstance(node, dict) else None
        if key in ("questions", "criteria", "bands") and isinstance(nxt, int):
            item = child[nxt] if isinstance(child, list) and nxt < len(child) else None
            name = {"questions": "Domanda", "criteria": "Criterio", "bands": "Fascia"}[key]
            label = item.get("label") if isinstance(item, dict) else None
            ident = item.get("id") if isinstance(item, dict) and key != "bands" else None
            parts.append(
                f"{name} {nxt + 1}"
                + (f" «{label}»" if isinstance(label, str) and label else "")
                + (f" ({ident})" if isinstance(ident, str) and ident else "")
            )
            node, i = item, i + 2
            continue
        if isinstance(key, int):
            parts.append(f"voce {key + 1}")
            node = node[key] if isinstance(node, list) and key < len(node) else None
        else:
            parts.append(FIELDS.get(str(key), str(key)))
            node = child
        i += 1
    place = ", ".join(parts) or "definizione"
    return place[0].upper() + place[1:]


def definition_errors(exc: ValidationError, data: Any, *, service_code: str) -> list[str]:
    """One Italian line per refusal, every refusal at once: which service, where, then why."""
    return [
        f"Servizio {service_code}, {_place(tuple(e['loc']), data)}: {_reason(e)}."
        for e in sorted(exc.errors(), key=lambda e: refusal_order(tuple(e["loc"]), items=1))
    ]
