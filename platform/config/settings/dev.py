"""Development profile: `make run`. Safe defaults, mail to a file outbox."""

from .base import *  # noqa: F403
from .base import DATABASES, env

# runserver answers each request in a new thread, and a thread's connection is
# only closed at the end of a request when it is older than CONN_MAX_AGE: with
# persistent connections every finished thread leaves one open, and parallel
# use (the browser tests, a few tabs) reaches "too many clients already".
# Closed after each request here; gunicorn (prod) keeps its bounded age.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="core.mail.OutboxAndConsoleBackend")
SPID_DEMO_IDP = env.bool("SPID_DEMO_IDP", default=DEBUG)
COMUNE_URL_TEMPLATE = env.str("COMUNE_URL_TEMPLATE", default="http://{host}:8000")
