"""Structured logs (structlog, django-structlog) and Sentry, without personal data.

Every request's lines carry `request_id`, `comune` (the schema) and
`user_id` (the account's key in that schema), bound by django-structlog's
middleware and `comune_bind`. What a request carries from people never
reaches a log line or Sentry: query strings are cut from request lines, and
anything shaped like a codice fiscale or an e-mail address is replaced in
every value, whichever logger wrote it. Client IP addresses are not logged
(DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False in settings).

`logging_config(json=...)` is the LOGGING dict the settings use: JSON lines
in production (LOG_FORMAT=json), key=value lines otherwise.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import structlog

from core.tenancy import current_schema

# A codice fiscale (also with omocodia letters) and an e-mail address.
_CODICE_FISCALE = re.compile(
    r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPR-T][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
REDACTED_CF = "[codice fiscale]"
REDACTED_EMAIL = "[e-mail]"


def redact(text: str) -> str:
    return _EMAIL.sub(REDACTED_EMAIL, _CODICE_FISCALE.sub(REDACTED_CF, text))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    return value


def personal_data_drop(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no query string, no codice fiscale, no e-mail address, no IP."""
    event.pop("ip", None)
    request = event.get("request")
    if isinstance(request, str):
        event["request"] = request.split("?", 1)[0]
    for key, value in list(event.items()):
        event[key] = _clean(value)
    return event


# Shared by structlog's own loggers and, at formatting time, by the standard
# library's (Django, gunicorn's error log, procrastinate).
_PRE_CHAIN: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]


def _rendered(json: bool) -> list[Any]:
    renderer = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.processors.KeyValueRenderer(
            key_order=["timestamp", "level", "event", "comune", "request_id", "user_id"], drop_missing=True
        )
    )
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        personal_data_drop,
        renderer,
    ]


def structlog_configure() -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def logging_config(*, json: bool, level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": _rendered(json),
                "foreign_pre_chain": _PRE_CHAIN,
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "procrastinate": {"level": "WARNING"},
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }


def comune_bind(sender: Any, request: Any, logger: Any, **kwargs: Any) -> None:
    """django-structlog's bind_extra_request_metadata: the comune's schema on every line."""
    structlog.contextvars.bind_contextvars(comune=current_schema())


def sentry_before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """The same redaction on what goes to Sentry (messages, exception values, breadcrumbs, URLs)."""
    cleaned = _clean(event)
    request = cleaned.get("request")
    if isinstance(request, dict):
        request.pop("query_string", None)
        request.pop("data", None)
        request.pop("cookies", None)
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    return cleaned


def sentry_init(dsn: str, *, environment: str, release: str = "") -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration()],
        # Sentry must not learn who the parents are: no user, IP, cookies or bodies.
        send_default_pii=False,
        max_request_body_size="never",
        before_send=sentry_before_send,  # type: ignore[arg-type]
        traces_sample_rate=0.0,
    )
