"""RFC 6238 time-based one-time passwords (SHA-1, 6 digits, 30 s steps), on pyotp.

The parameters are those every authenticator app uses by default (Google
Authenticator, FreeOTP, Aegis), so the otpauth:// URI needs no extras.
pyotp computes the codes; this module adds what it leaves to the caller:
the step a code matched, so that a step once accepted is never accepted again.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

import pyotp
from pyotp.utils import strings_equal

STEP_SECONDS = 30
DIGITS = 6
# Codes of the previous and next step are accepted too, for clock drift.
WINDOW = 1


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def secret_new() -> str:
    """A random 160-bit secret in base32 (the form apps and users type in)."""
    return pyotp.random_base32(length=32)


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def code_at_step(secret: str, step: int) -> str:
    return _totp(secret).generate_otp(step)


def code_now(secret: str, at: float | None = None) -> str:
    return code_at_step(secret, time_step(at))


def matching_step(secret: str, code: str, *, after_step: int | None, at: float | None = None) -> int | None:
    """The step whose code is `code` within the window, or None.

    Steps at or before `after_step` (the last one accepted) are refused, so a
    code seen once, over a shoulder or in a proxy log, cannot be replayed.
    pyotp's own `verify` only answers yes or no, hence the loop here.
    """
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    otp = _totp(secret)
    now = time_step(at)
    for step in range(now - WINDOW, now + WINDOW + 1):
        if after_step is not None and step <= after_step:
            continue
        if strings_equal(otp.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account_name: str, issuer: str) -> str:
    # Not pyotp's provisioning_uri: that one leaves the label's colon
    # unescaped and drops the default parameters; this URI stays the one
    # operators' apps were enrolled with.
    label = quote(f"{issuer}:{account_name}")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"
