"""Production profile. Refuses to start without real secrets."""

from django.core.exceptions import ImproperlyConfigured

from core.logs import logging_config, sentry_init

from .base import *  # noqa: F403
from .base import CACHES, MIDDLEWARE, SECRET_KEY, env

DEBUG = False

_INSECURE_MARKERS = ("dev-only", "insecure", "test-only", "changeme")
if len(SECRET_KEY) < 50 or any(m in SECRET_KEY for m in _INSECURE_MARKERS):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing, too short (<50 chars) or a development default: "
        "set a random SECRET_KEY in the environment."
    )
if not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set in production.")
# Lockouts, replay marks and pending SPID requests must be the same for every
# worker process: a per-process (or no) cache would split or drop them.
if CACHES["default"]["BACKEND"].rsplit(".", 1)[-1] in {"LocMemCache", "DummyCache"}:
    raise ImproperlyConfigured(
        "CACHE_URL names a per-process or dummy cache: leave it unset (PostgreSQL) or use redis://."
    )

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "core.storage.StaticStorage"},  # whitenoise's, URLs kept
}
_after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE = [
    *MIDDLEWARE[:_after_security],
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[_after_security:],
]
# The demo IdP is never trusted in production, whatever the environment says.
SPID_DEMO_IDP = False
SPID_TEST_IDP_METADATA = ""

# One JSON object per line for the log collector (core.logs); LOG_FORMAT=plain to read by eye.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_config(json=LOG_FORMAT == "json", level=env.str("LOG_LEVEL", default="INFO"))
# Errors to Sentry only when a DSN is given; never personal data (core.logs).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    sentry_init(SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default="production"))
