"""Development profile: `make run`. Safe defaults, mail to a file outbox."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="core.mail.OutboxAndConsoleBackend")
SPID_DEMO_IDP = env.bool("SPID_DEMO_IDP", default=DEBUG)
COMUNE_URL_TEMPLATE = env.str("COMUNE_URL_TEMPLATE", default="http://{host}:8000")
