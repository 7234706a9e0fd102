"""The platform's languages: Italian by default, another only when the platform offers it.

One rule for everything that speaks to a parent: the page (core.middleware),
the e-mails written later (enrollment.notifications, payments.reminders) and
the PDFs (enrollment.documents).
"""

from __future__ import annotations

from django.conf import settings


def language_supported(code: str | None) -> str:
    """`code` if the platform offers it, else the default language (Italian)."""
    return code if code in {c for c, _ in settings.LANGUAGES} else settings.LANGUAGE_CODE


def language_params(language: str) -> dict[str, str]:
    """A document spec's language: omitted for the default, so Italian documents keep their names."""
    return {} if language == settings.LANGUAGE_CODE else {"language": language}
