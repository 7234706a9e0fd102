"""RFC 6238 codes, the ±1 step window and single use."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

from superadmin import totp

# RFC 6238 Appendix B, SHA-1 key "12345678901234567890"; 6-digit codes are the
# last six digits of the 8-digit vectors.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = {
    59: "287082",
    1111111109: "081804",
    1111111111: "050471",
    1234567890: "005924",
    2000000000: "279037",
}


def test_rfc6238_vectors() -> None:
    for at, code in RFC_VECTORS.items():
        assert totp.code_now(RFC_SECRET, at=at) == code, at


def test_window_accepts_previous_and_next_step_only() -> None:
    at = 1_700_000_000.0
    now = totp.time_step(at)
    for offset in (-1, 0, 1):
        code = totp.code_at_step(RFC_SECRET, now + offset)
        assert totp.matching_step(RFC_SECRET, code, after_step=None, at=at) == now + offset
    for offset in (-2, 2):
        code = totp.code_at_step(RFC_SECRET, now + offset)
        assert totp.matching_step(RFC_SECRET, code, after_step=None, at=at) is None


def test_a_code_is_refused_once_its_step_was_used() -> None:
    at = 1_700_000_000.0
    now = totp.time_step(at)
    code = totp.code_at_step(RFC_SECRET, now)
    assert totp.matching_step(RFC_SECRET, code, after_step=now, at=at) is None
    assert totp.matching_step(RFC_SECRET, code, after_step=now - 1, at=at) == now


def test_malformed_codes_are_refused() -> None:
    for code in ("", "12345", "1234567", "abcdef"):
        assert totp.matching_step(RFC_SECRET, code, after_step=None) is None


def test_new_secrets_are_random_base32_of_160_bits() -> None:
    a, b = totp.secret_new(), totp.secret_new()
    assert a != b
    assert len(base64.b32decode(a)) == 20


def test_provisioning_uri() -> None:
    uri = totp.provisioning_uri("ABCDEF234567", account_name="mario", issuer="Iscrizioni Scolastiche")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert parsed.path == "/Iscrizioni%20Scolastiche%3Amario"
    assert parse_qs(parsed.query)["secret"] == ["ABCDEF234567"]
