"""RFC 6238 time-based one-time passwords (SHA-1, 6 digits, 30 s steps).

The parameters are those every authenticator app uses by default (Google
Authenticator, FreeOTP, Aegis), so the otpauth:// URI needs no extras.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
# Codes of the previous and next step are accepted too, for clock drift.
WINDOW = 1


def secret_new() -> str:
    """A random 160-bit secret in base32 (the form apps and users type in)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def code_at_step(secret: str, step: int) -> str:
    """RFC 4226 HOTP of the counter `step` (RFC 6238 §4)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def code_now(secret: str, at: float | None = None) -> str:
    return code_at_step(secret, time_step(at))


def matching_step(secret: str, code: str, *, after_step: int | None, at: float | None = None) -> int | None:
    """The step whose code is `code` within the window, or None.

    Steps at or before `after_step` (the last one accepted) are refused, so a
    code seen once, over a shoulder or in a proxy log, cannot be replayed.
    """
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = time_step(at)
    for step in range(now - WINDOW, now + WINDOW + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(code_at_step(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account_name: str, issuer: str) -> str:
    label = quote(f"{issuer}:{account_name}")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"
