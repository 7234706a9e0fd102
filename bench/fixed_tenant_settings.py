"""The production profile with bench/fixed_tenant.py's middleware in place of the Host lookup."""

from config.settings.prod import *  # noqa: F403
from config.settings.prod import MIDDLEWARE

MIDDLEWARE = [
    "fixed_tenant.FixedComuneMiddleware" if m == "tenants.middleware.ComuneMiddleware" else m
    for m in MIDDLEWARE
]
