"""The service-definition validator's reasons in Italian.

`tenants.service_definition` words its refusals in English (they name YAML
keys); operators running `sync_tenants` and staff editing a definition in the
back office read them in Italian through this table.
"""

from __future__ import annotations

import re
from typing import Any

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


def reason_in_italian(message: str) -> str | None:
    """The Italian of one of the validator's English reasons, or None for one not in the table."""
    for pattern, italian in REASONS:
        match = re.match(pattern, message)
        if match:
            return italian.format(*match.groups())
    return None


def refusal_order(loc: tuple[Any, ...], *, items: int) -> tuple[str, ...]:
    """Sort key of a refusal: its location up to the `items`-th list index (the service, the
    question or criterion), numbers padded, so one item's refusals come together in order."""
    key: list[str] = []
    seen = 0
    for part in loc:
        key.append(f"{part:06d}" if isinstance(part, int) else str(part))
        seen += isinstance(part, int)
        if seen == items:
            break
    return tuple(key)
