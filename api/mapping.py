"""The API's JSON and the portal's forms: the body as form fields, form errors as JSON fields.

The API validates with the web's own forms (identity.forms,
enrollment.forms.EnrollmentForm); these functions only translate.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

from enrollment.forms import EnrollmentForm
from enrollment.rules import DRAFT_MISSING
from enrollment.selectors import DomandaState


def etag(state: DomandaState) -> str:
    return f'"{state.version}"'


def etag_version(tag: str) -> str | None:
    """The version an `etag` names; None for anything else ("*", a weak or bare tag)."""
    return tag[1:-1] if len(tag) > 2 and tag[0] == tag[-1] == '"' else None


def form_invalid(form: Any) -> exceptions.ValidationError:
    """A plain form's errors, under the names of its fields."""
    return exceptions.ValidationError(
        {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}
    )


def body_cleaned(
    request: Request, serializer_class: Any, form_class: Any, **form_kwargs: Any
) -> dict[str, Any]:
    """The body checked twice: its shape by the serializer (the schema), its rules by the web's form.

    Returns the form's cleaned data; either check's errors are a 400 under the field names.
    """
    serializer = serializer_class(data=request.data, partial=True)
    serializer.is_valid(raise_exception=True)
    form = form_class(serializer.validated_data, **form_kwargs)
    if not form.is_valid():
        raise form_invalid(form)
    return form.cleaned_data


def to_form_data(data: dict[str, Any]) -> dict[str, Any]:
    """The API's nested JSON as the portal form's flat fields."""
    out: dict[str, Any] = {}
    for section in ("pupil", "guardian"):
        for key, value in (data.get(section) or {}).items():
            out[f"{section}_{key}"] = value
    if "services" in data:
        out["services"] = [str(pk) for pk in data["services"]]
    for code, answers in (data.get("answers") or {}).items():
        for key, value in answers.items():
            out[f"extra_{code}_{key}"] = value
    if "privacy_consent" in data:
        out["privacy"] = bool(data["privacy_consent"])
    return out


def _form_field_paths(form: EnrollmentForm) -> dict[str, str]:
    paths = {"privacy": "privacy_consent", "services": "services", "__all__": "non_field_errors"}
    for name in form.fields:
        for prefix in ("pupil_", "guardian_"):
            if name.startswith(prefix):
                paths[name] = f"{prefix[:-1]}.{name[len(prefix) :]}"
    for group in form.service_questions:
        for question_id, name in group.names.items():
            paths[name] = f"answers.{group.service.code}.{question_id}"
    return paths


def enrollment_form_errors(form: EnrollmentForm, *, draft: bool) -> exceptions.ValidationError:
    """The enrollment form's errors under the JSON paths of the body (`pupil.codice_fiscale`)."""
    paths = _form_field_paths(form)
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        errors.setdefault(paths.get(name, name), []).extend(str(message) for message in messages)
    if draft:
        errors.setdefault("non_field_errors", []).append(DRAFT_MISSING)
    return exceptions.ValidationError(errors)


def save_kwargs(form: EnrollmentForm, request: Request) -> dict[str, Any]:
    """The valid enrollment form as the arguments of the enrollment services."""
    return {
        "account": request.user,
        "guardian_data": form.guardian_data(),
        "pupil_data": form.pupil_data(),
        "extra": form.extra_data(),
        "consent": form.cleaned_data["privacy"],
        "request": request,
    }


def domanda_data(state: DomandaState) -> dict[str, Any]:
    """One form as DomandaSerializer's input."""
    first = state.first
    return {
        "id": first.domanda,
        "kind": first.kind,
        "school_year": first.school_year,
        "pupil": first.pupil,
        "guardian": first.guardian_shown,
        "items": state.rows,
        "editable": state.editable,
        "draft": state.draft,
        "etag": etag(state),
    }
