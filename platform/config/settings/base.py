"""Settings shared by every profile. Values come from the environment."""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.database import database_url
from core.logs import logging_config, structlog_configure

BASE_DIR = Path(__file__).resolve().parents[3]
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")

# The base domain under which every comune gets `<slug>.<base>`; the bare
# base domain is the platform (operators') site.
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}"])
# Hosts that may be attached to a comune although they are outside BASE_DOMAIN
# (a comune's own domain, e.g. iscrizioni.comune.palosco.bg.it).
EXTRA_TENANT_DOMAINS = env.list("EXTRA_TENANT_DOMAINS", default=[])

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "core",
    "identity",
    "superadmin",
    "procrastinate.contrib.django",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
# Each comune's schema has its own accounts, sessions and audit log: a parent
# of Palosco does not exist in Romano, and a session row of one schema is
# unknown in every other.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "core",
    "identity",
    "payments",
    "enrollment",
    "api",
]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]

TENANT_MODEL = "tenants.Comune"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New comuni are cloned from this migrated template schema (seconds) rather
# than migrated one by one (see tenants/provisioning.py).
TENANT_BASE_SCHEMA = "comune_template"
# `migrate_platform` migrates the comuni that are behind in this many processes.
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("MIGRATE_PROCESSES", default=os.cpu_count() or 2)
TENANT_MULTIPROCESSING_CHUNKS = 2
TENANT_CREATION_FAKES_MIGRATIONS = True
# Without it django-tenants sends `SET search_path` before every query, one
# more round trip each: py-spy put 39 % of the web workers' time there during
# a window-opening burst (bench/burst.py --py-spy). With it the SET is sent
# once per schema switch and again after a rollback or a savepoint rollback,
# which undo it (django-tenants >= 4.0.1; tests/tenants/test_search_path.py).
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    # First and last: django-prometheus times the whole request (superadmin.metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.health.HealthMiddleware",
    "tenants.middleware.ComuneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.PrivateResponseMiddleware",
    "core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "tenants.middleware.WaitingRoomMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Every page loads its scripts and styles from our static files only: an
# injected <script> or style attribute does nothing (tests/core/test_headers.py
# keeps the templates free of inline code). Forms post to the same host only:
# SPID/CIE use the HTTP-Redirect binding towards the IdPs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Bootstrap Italia's bundle inserts two fixed <style> elements at start-up
        # (one empty): allowed by their hashes only, nothing else inline.
        "style-src": [
            SELF,
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
            "'sha256-wPXhisdsFu1DtHYH1D9W5isSGqS5vIPn6QJWSNLqfCM='",
        ],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],  # Bootstrap Italia embeds some icon fonts
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Browser features no page of the portal uses (core.middleware).
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), midi=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=()"
)

ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "core" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.comune",
            ],
        },
    }
]

DATABASES = {"default": env.db_url_config(database_url())}
DATABASES["default"]["ENGINE"] = "core.postgresql_backend"  # django-tenants' (core/postgresql_backend)
# Each connection caches catalog entries of every schema it touches: keep
# connections short-lived so thousands of schemas do not grow one process.
# gunicorn's workers reuse their threads, so a bounded age saves a connect
# per request; the development server does not (settings/dev.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A kept connection that PostgreSQL dropped (restart, failover) is replaced
# before a request uses it, instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# With the database unreachable, fail in seconds (error page, /readyz 503)
# instead of holding every worker until the proxy times out.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.Account"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "identity.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "identity.validators.LettersAndDigitsValidator"},
    {"NAME": "identity.validators.NotIdentifierValidator"},
]
LOGIN_URL = "/accesso/"
PASSWORD_RESET_TIMEOUT = 60 * 60  # "Password dimenticata" links last one hour

# Addresses (or CIDR networks) of the reverse proxies in front of the app:
# only a request from one of them may say who the client is with
# X-Forwarded-For (core.services.client_ip). Empty: the header is ignored.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network.") from exc

# Shared by every worker process: lockouts, SPID pending requests, API rate
# limits. Default: the `iscrizioni_cache` table in PostgreSQL (tenants
# migration 0002); CACHE_URL=redis://... for Redis. Never a per-process cache
# (prod.py refuses one).
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://iscrizioni_cache")}
if CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
    # Django culls a third of the table past MAX_ENTRIES (default 300).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)
# Cache keys carry the schema name: nothing cached for one comune is ever
# read for another.
CACHES["default"]["KEY_FUNCTION"] = "django_tenants.cache.make_key"
CACHES["default"]["REVERSE_KEY_FUNCTION"] = "django_tenants.cache.reverse_key"
# The host -> comune lookup (tenants.middleware) runs before the request's
# connection is pointed anywhere: the same store, with the public schema's
# keys whatever schema the connection is on. On the database the table is
# found through any path the connection may have ("<comune>, public"; no
# comune schema has a table of that name: tests/tenants/test_search_path.py),
# so the lookup needs no `SET search_path` first.
CACHES["hosts"] = CACHES["default"] | {"KEY_FUNCTION": "core.tenancy.public_cache_key"}
# Per process, and only for values that are a pure function of a version read
# from the database with the request (a comune's catalogue version, the digest
# of its config): a stale entry cannot be served, only evicted. Bounded: about
# three entries per comune (header, footer, catalogue) in each language.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "iscrizioni-local",
    "KEY_FUNCTION": "django_tenants.cache.make_key",
    "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    "OPTIONS": {"MAX_ENTRIES": env.int("LOCAL_CACHE_MAX_ENTRIES", default=8000)},
}
# Each process's copy of host -> comune in front of CACHES["hosts"], forgotten
# on PostgreSQL's notification of any change to a comune or its hosts
# (tenants.host_cache): the portal home then makes no query to find its comune.
HOSTS_LOCAL_CACHE = env.bool("HOSTS_LOCAL_CACHE", default=True)

# Bearer token of the Prometheus scraper for /metrics on the platform host
# (superadmin.metrics); without it only a signed-in operator may read them.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# The waiting room (tenants.waiting_room), turned on per comune in its YAML.
# Parents' requests in flight on all comuni with the room on before every
# new arrival waits (0: no platform-wide bound, only each comune's).
WAITING_ROOM_GLOBAL_CAPACITY = env.int("WAITING_ROOM_GLOBAL_CAPACITY", default=0)
# A request still counted as in flight after this long was lost with its
# process (gunicorn's timeout is 30 s).
WAITING_ROOM_REQUEST_SECONDS = 60
# Never held: the back office (staff), the page's own styles, the app's API
# (it has its own throttles and cannot show a page), the language switch, and
# the IdPs' POSTs back to us (SameSite=Lax keeps the pass cookie off a
# cross-site POST; only a browser let in could have started that login).
WAITING_ROOM_EXEMPT_PATHS = [
    "/admin/",
    "/static/",
    "/aspetto.css",
    "/api/",
    "/i18n/",
    "/accesso/spid/metadata/",
    "/accesso/cie/metadata/",
    "/accesso/spid/acs/",
    "/accesso/cie/acs/",
    "/accesso/spid/slo/",
    "/accesso/cie/slo/",
]

SESSION_COOKIE_NAME = "iscrizioni_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: the age restarts on each request
# No SESSION_COOKIE_DOMAIN / CSRF_COOKIE_DOMAIN: cookies stay bound to the
# exact host of the comune that set them.
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# Django's error handlers (core.views) answer under /api/ in the API's JSON
# format; named here so that core, the ground floor, does not import the API.
API_ERROR_RESPONSE = "api.errors.django_error"

LANGUAGE_CODE = "it"
LANGUAGES = [("it", "Italiano"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    ("bootstrap-italia", BASE_DIR / "node_modules" / "bootstrap-italia" / "dist"),
    ("comuni", BASE_DIR / "tenant_configs" / "assets"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(DATA_DIR / "media"))
# Rendered PDFs, one folder per comune schema (enrollment/documents.py).
DOCUMENTS_DIR = env.path("DOCUMENTS_DIR", default=str(Path(MEDIA_ROOT) / "documenti"))
# Files parents attach to file questions, one folder per comune schema
# (enrollment/uploads.py). Never under a URL: only a view that checks who asks serves them.
UPLOADS_DIR = env.path("UPLOADS_DIR", default=str(DATA_DIR / "private" / "allegati"))
# An API upload no enrollment names after this many hours is removed (enrollment.tasks).
UPLOADS_UNATTACHED_MAX_HOURS = env.int("UPLOADS_UNATTACHED_MAX_HOURS", default=24)

TENANT_CONFIG_DIR = BASE_DIR / "tenant_configs"

# E-mail: SMTP from the environment; profiles may override the backend.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@iscrizioni.localhost")
MAIL_OUTBOX_DIR = DATA_DIR / "mail"


# Structured lines with request id, comune and user id, never personal data
# (core.logs): JSON in production, key=value elsewhere.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(json=LOG_FORMAT == "json", level=env.str("LOG_LEVEL", default="INFO"))
structlog_configure()
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
DJANGO_STRUCTLOG_USER_ID_FIELD = "pk"
# One line per request, at its end: `request_finished` carries the request id,
# method, path, status, comune and user. `request_started` (the same plus the
# user agent) is at DEBUG unless LOG_REQUEST_STARTED: a second line per request
# cost about 0.1 ms of each page's CPU (bench/log_line.py; docs/scaling.md).
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = (
    logging.INFO if env.bool("LOG_REQUEST_STARTED", default=False) else logging.DEBUG
)

PROCRASTINATE_WORKER_DEFAULTS = {"concurrency": env.int("WORKER_CONCURRENCY", default=4)}

# SPID and CIE (identity/spid, identity/cie). Each comune's SP signing keys
# live outside the repository, one folder per schema (`manage.py spid_keys`).
SPID_KEYS_DIR = env.path("SPID_KEYS_DIR", default=str(DATA_DIR / "spid"))
# The registry of trusted SPID/CIE Identity Providers kept in the repository
# (refreshed by `manage.py spid_idps_refresh`).
SPID_IDP_REGISTRY = BASE_DIR / "identity" / "spid" / "idps" / "registry.json"
# The development IdP (identity/spid/demo_idp): answers and is trusted only
# when this is on AND DEBUG is on.
SPID_DEMO_IDP = False
# Metadata file of spid-sp-test's IdP, trusted only while `make spid-test` runs.
SPID_TEST_IDP_METADATA = env.str("SPID_TEST_IDP_METADATA", default="")
# Absolute address of a comune's portal outside a request ({host} is its
# primary host): links in e-mails, the SPID certificate's `uri` (entityID).
# Development adds the runserver port.
COMUNE_URL_TEMPLATE = env.str("COMUNE_URL_TEMPLATE", default="https://{host}")
# The parents' REST API (api/): tokens live in each comune's schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.TokenAuthentication", "api.auth.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.ParentReady"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.AccountAndIpThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Read at each request (api.auth): per account, per IP, and per IP on the
# endpoints that take secrets. Counts are atomic counters in the shared state
# (core.shared_state: PostgreSQL, or Redis with CACHE_URL), per comune.
# A school's network or a mobile carrier's NAT puts hundreds of families
# behind one address at a window's opening: the account's rate binds first,
# the per-IP ones are generous and stop one machine, not a school (the
# per-account lockout guards each password: identity.ratelimit).
API_THROTTLE_RATES = {
    "user": env.str("API_RATE_USER", default="120/min"),
    "ip": env.str("API_RATE_IP", default="6000/min"),
    "login": env.str("API_RATE_LOGIN", default="600/min"),
}
# Failed logins from one IP before it is locked out (identity.ratelimit), and
# "Sono un nuovo iscritto" accounts opened from one IP, per 15 minutes.
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=200)
NEW_ACCOUNTS_PER_IP = env.int("NEW_ACCOUNTS_PER_IP", default=300)
# URL schemes of the apps that may receive a one-time login code.
API_APP_REDIRECT_SCHEMES = env.list("API_APP_REDIRECT_SCHEMES", default=["comunicapp"])
SPECTACULAR_SETTINGS = {
    "TITLE": "API Iscrizioni scolastiche",
    "DESCRIPTION": (
        "API per l'app dei genitori, sull'host di ogni comune. Autenticazione: "
        "`Authorization: Bearer <token>` (POST /api/v1/auth/token/) oppure la sessione del portale con "
        'il token CSRF. Errori: `{"error": {"code", "message", "fields"}}`. Le modifiche di '
        "un'iscrizione richiedono If-Match con l'ETag letto per ultimo."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
}
