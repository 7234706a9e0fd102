"""The rating component at the end of the service: its questions, its form, its write and its reads.

Designers Italia's model for comuni' services asks "Quanto è stato facile
usare questo servizio?" (1 to 5 stars), then what the parent liked (4 or 5 stars)
or where they struggled (1 to 3), then a short free text. A parent rates a page
once; staff read the average and the comments in the back office.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from core.services import audit_record
from enrollment.errors import EnrollmentError
from enrollment.models import Feedback

TITLE = gettext_noop("Quanto è stato facile usare questo servizio?")
THANKS = gettext_noop("Grazie, il tuo parere ci aiuterà a migliorare il servizio!")
ALREADY_GIVEN = gettext_noop("Hai già inviato la tua valutazione per questa pagina: grazie!")
DETAILS_MAX = 200
POSITIVE_FROM = 4
POSITIVE_QUESTION = gettext_noop("Quali sono stati gli aspetti che hai preferito?")
NEGATIVE_QUESTION = gettext_noop("Dove hai incontrato le maggiori difficoltà?")
# Designers Italia's answers, keyed so that a reworded label keeps its counts. The texts are
# Italian; the parents' page shows them translated (gettext_noop marks them for the catalogue).
POSITIVE_ASPECTS = {
    "chiare": gettext_noop("Le indicazioni erano chiare"),
    "complete": gettext_noop("Le indicazioni erano complete"),
    "procedura": gettext_noop("Capivo sempre che stavo procedendo correttamente"),
    "tecnica": gettext_noop("Non ho avuto problemi tecnici"),
    "altro": gettext_noop("Altro"),
}
NEGATIVE_ASPECTS = {
    "non_chiare": gettext_noop("A volte le indicazioni non erano chiare"),
    "incomplete": gettext_noop("A volte le indicazioni non erano complete"),
    "incerto": gettext_noop("A volte non capivo se stavo procedendo correttamente"),
    "problemi_tecnici": gettext_noop("Ho avuto problemi tecnici"),
    "altro_negativo": gettext_noop("Altro"),
}
ASPECT_LABELS = POSITIVE_ASPECTS | NEGATIVE_ASPECTS


class FeedbackForm(forms.Form):
    """One POST with the stars, both follow-up questions and the text.

    Without JavaScript both follow-up questions are on the page; the answer
    kept is the one that matches the stars, so a parent who answered both is
    not told off."""

    page = forms.ChoiceField(choices=Feedback.Page.choices)
    rating = forms.TypedChoiceField(
        choices=[(n, n) for n in range(1, 6)],
        coerce=int,
        error_messages={
            "required": _("Scegli da 1 a 5 stelle."),
            "invalid_choice": _("Scegli da 1 a 5 stelle."),
        },
    )
    aspect_positive = forms.ChoiceField(choices=list(POSITIVE_ASPECTS.items()), required=False)
    aspect_negative = forms.ChoiceField(choices=list(NEGATIVE_ASPECTS.items()), required=False)
    details = forms.CharField(
        required=False,
        max_length=DETAILS_MAX,
        error_messages={
            "max_length": _("Scrivi al massimo %(limit_value)d caratteri (ne hai scritti %(show_value)d).")
        },
    )

    def aspect(self) -> str:
        rating = self.cleaned_data["rating"]
        return self.cleaned_data["aspect_positive" if rating >= POSITIVE_FROM else "aspect_negative"] or ""


def feedback_record(
    *,
    account: Any,
    page: str,
    rating: int,
    aspect: str = "",
    details: str = "",
    request: HttpRequest | None = None,
) -> Feedback:
    """Store a parent's rating of `page`; a second rating of the same page is refused."""
    if not 1 <= rating <= 5:
        raise EnrollmentError(gettext("Scegli da 1 a 5 stelle."), code="feedback_rating")
    allowed = POSITIVE_ASPECTS if rating >= POSITIVE_FROM else NEGATIVE_ASPECTS
    if aspect and aspect not in allowed:
        raise EnrollmentError(gettext("Scegli una delle risposte proposte."), code="feedback_aspect")
    if len(details) > DETAILS_MAX:
        raise EnrollmentError(
            gettext("Scrivi al massimo %(max)s caratteri.") % {"max": DETAILS_MAX}, code="feedback_details"
        )
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                account=account, page=page, rating=rating, aspect=aspect, details=details.strip()
            )
            audit_record(
                action="feedback.recorded",
                actor=account,
                obj=feedback,
                data={"page": page, "rating": rating},
                request=request,
            )
    except IntegrityError as exc:
        # The unique constraint decides, so two tabs sending at once still store one rating.
        raise EnrollmentError(gettext(ALREADY_GIVEN), code="feedback_given") from exc
    return feedback


def feedback_given(*, account: Any, page: str) -> bool:
    return Feedback.objects.filter(account=account, page=page).exists()


@dataclass(frozen=True)
class FeedbackSummary:
    count: int
    average: float | None
    by_rating: dict[int, int]
    by_aspect: list[tuple[str, int]]


def feedback_summary() -> FeedbackSummary:
    """The comune's ratings: how many, the average, per number of stars and per answer."""
    totals = Feedback.objects.aggregate(count=Count("id"), average=Avg("rating"))
    per_rating = dict(
        Feedback.objects.values_list("rating").annotate(n=Count("id")).values_list("rating", "n")
    )
    per_aspect = (
        Feedback.objects.exclude(aspect="")
        .values_list("aspect")
        .annotate(n=Count("id"))
        .order_by("-n", "aspect")
    )
    return FeedbackSummary(
        count=totals["count"],
        average=totals["average"],
        by_rating={n: per_rating.get(n, 0) for n in range(5, 0, -1)},
        by_aspect=[(ASPECT_LABELS.get(a, a), n) for a, n in per_aspect.values_list("aspect", "n")],
    )


def feedback_comments() -> QuerySet[Feedback]:
    """Ratings that came with a comment, newest first (the author is not shown to staff)."""
    return Feedback.objects.exclude(details="").only("page", "rating", "aspect", "details", "created_at")
