"""The definition validator's refusals in Italian, for staff editing a service.

`tenants.service_definition.ServiceDefinition` refuses an invalid definition
with one pydantic error per field (a location such as `questions.2.options`
and an English reason, as the YAML's operators read them). Staff editing a
definition in the back office read the same refusals in Italian: the place
("Domanda 3 «Settimane richieste», opzioni") and the reason.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

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
_Q = r"'([^']*)'"
REASONS: list[tuple[str, str]] = [
    (rf"^question id {_Q} is listed twice$", "l'identificativo «{0}» è usato da due domande"),
    (rf"^criterion id {_Q} is listed twice$", "l'identificativo «{0}» è usato da due criteri"),
    (rf"^unknown type {_Q}; use one of (.+)$", "tipo «{0}» sconosciuto: usa uno tra {1}"),
    (r"^a choices? question needs options$", "una domanda a scelta ha bisogno delle opzioni"),
    (rf"^option {_Q} is listed twice$", "l'opzione «{0}» compare due volte"),
    (r"^options apply only to choice and choices questions$",
     "le opzioni valgono solo per le domande a scelta"),
    (r"^(?:min|max) applies only to number questions$",
     "minimo e massimo valgono solo per le domande numeriche"),
    (r"^must not be less than min \((.+)\)$", "non può essere minore del minimo ({0})"),
    (r"^a question is either required or required_if, not both$",
     "una domanda è obbligatoria oppure condizionata (required_if), non entrambe"),
    (r"^a question cannot depend on itself$", "una domanda non può dipendere da se stessa"),
    (rf"^names question {_Q}, defined after this one: name an earlier one$",
     "indica la domanda «{0}», che viene dopo: indica una domanda precedente"),
    (rf"^names question {_Q}, which does not exist$", "indica la domanda «{0}», che non esiste"),
    (rf"^names question {_Q}, which is deactivated$", "indica la domanda «{0}», che è disattivata"),
    (r"^must not be negative$", "non può essere negativo"),
    (r"^give either source \(residency, siblings\) or question with equals$",
     "indica la fonte (residency o siblings) oppure la domanda (question) con il valore (equals)"),
    (r"^a criterion on a question needs equals$",
     "un criterio su una domanda ha bisogno del valore (equals)"),
    (r"^equals applies only with question$", "il valore (equals) vale solo con una domanda (question)"),
    (r"^a flat fee needs an amount$", "una tariffa fissa ha bisogno dell'importo"),
    (r"^bands apply only to isee_bands fees$", "le fasce valgono solo per le tariffe per fasce ISEE"),
    (r"^isee_question applies only to isee_bands fees$",
     "la domanda dell'ISEE vale solo per le tariffe per fasce ISEE"),
    (r"^an isee_bands fee takes its amounts from bands$",
     "una tariffa per fasce ISEE prende gli importi dalle fasce"),
    (r"^isee_bands fees need isee_question.*$",
     "una tariffa per fasce ISEE ha bisogno della domanda numerica che chiede l'ISEE"),
    (r"^isee_bands fees need at least one band$",
     "una tariffa per fasce ISEE ha bisogno di almeno una fascia"),
    (r"^a band needs an amount$", "ogni fascia ha bisogno dell'importo"),
    (r"^only the last band may lack up_to$", "solo l'ultima fascia può non avere «fino a»"),
    (r"^the last band has no up_to.*$",
     "l'ultima fascia non ha «fino a»: vale sopra la fascia precedente e quando l'ISEE non è indicato"),
    (r"^bands must increase: (.+) is not above (.+)$", "le fasce devono crescere: {0} non è maggiore di {1}"),
    (rf"^must be true or false: question {_Q} is a yes/no question$",
     "deve essere true o false: la domanda «{0}» è sì/no"),
    (rf"^must be one of the options of question {_Q}$", "deve essere una delle opzioni della domanda «{0}»"),
    (rf"^must be a number: question {_Q} is a number question$",
     "deve essere un numero: la domanda «{0}» è numerica"),
    (rf"^question {_Q} is a file question: nothing to compare$",
     "la domanda «{0}» chiede un documento: non c'è un valore da confrontare"),
    (rf"^question {_Q} is of type (.+); the ISEE question must be a number$",
     "la domanda «{0}» è di tipo {1}: la domanda dell'ISEE deve essere numerica"),
    (r'^must be a string with two decimals.*$',
     'scrivi l\'importo tra virgolette con due decimali, ad esempio "120.00"'),
    (r"^must be more than zero$", "deve essere maggiore di zero"),
]  # fmt: skip
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
    for pattern, italian in REASONS:
        match = re.match(pattern, message)
        if match:
            return italian.format(*match.groups())
    return f"valore non valido ({message})"


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
            parts.append(f"{name} {nxt + 1}" + (f" «{label}»" if label else ""))
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


def definition_errors(exc: ValidationError, data: Any) -> list[str]:
    """One Italian line per refusal: where, then why."""
    return [f"{_place(tuple(e['loc']), data)}: {_reason(e)}." for e in exc.errors()]
