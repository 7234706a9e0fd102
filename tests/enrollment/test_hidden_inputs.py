"""The steps' hidden inputs: what the fast renderer writes is what Django's `as_hidden` writes."""

from __future__ import annotations

from html.parser import HTMLParser

from django.http import QueryDict

from enrollment.forms import EnrollmentForm, hidden_inputs
from enrollment.models import Service
from tests.enrollment.conftest import form_data, service

WEEKS = ["1ª settimana (29/6–3/7)", "3ª settimana (13/7–17/7)"]


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str | None, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            a = dict(attrs)
            assert a["type"] == "hidden"
            self.found.append((a["name"] or "", a.get("value"), "disabled" in a))


def _parsed(html: str) -> list[tuple[str, str | None, bool]]:
    parser = _Inputs()
    parser.feed(html)
    return parser.found


def _form(data: QueryDict | None, **options: object) -> EnrollmentForm:
    services = Service.objects.filter(code__in=["PRE", "CRE"], school_year="2025/2026")
    form = EnrollmentForm(data, services=services, initial={"guardian_email": "a&b@example.org"}, **options)
    form.step = 4
    return form


def test_the_fast_hidden_inputs_match_djangos(in_palosco) -> None:
    cre, pre = service("CRE"), service("PRE")
    answers = {
        "extra_CRE_settimane": WEEKS,
        "extra_CRE_isee": "8.000,50",
        "extra_CRE_lavoro": "true",
        "extra_PRE_motivo": 'Lavoro "turni" <notte>',
    }
    data = QueryDict(mutable=True)
    for key, value in (form_data(services=[cre, pre]) | answers).items():
        data.setlist(key, value if isinstance(value, list) else [value])
    for form in (_form(data), _form(data, lock_pupil_cf=True), _form(None)):
        for step in (1, 2, 3, 4):
            form.step = step
            fields = form.other_steps_hidden
            django = [i for i in _parsed("".join(f.as_hidden() for f in fields)) if not i[2]]
            fast = _parsed(hidden_inputs(fields))
            assert fast == django
            assert fast  # each step carries the others
    on_step_two = _form(data)
    on_step_two.step = 2
    bound = _parsed(hidden_inputs(on_step_two.other_steps_hidden))
    assert ("extra_CRE_settimane", WEEKS[1], False) in bound
    assert ("extra_PRE_motivo", 'Lavoro "turni" <notte>', False) in bound
    # A disabled field is not carried: the browser would not post it.
    locked = _form(data, lock_pupil_cf=True)
    locked.step = 4
    assert "pupil_codice_fiscale" not in {n for n, _, _ in _parsed(hidden_inputs(locked.other_steps_hidden))}
