"""Settings profiles: production refuses insecure defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _load_prod(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    environ.update(env)
    code = "import sys; sys.path.insert(0, 'platform'); import config.settings.prod"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "secret",
    ["", "short", "dev-only-insecure-key-do-not-use-in-production-but-long-enough-xx"],
)
def test_prod_refuses_missing_short_or_dev_secret(secret: str) -> None:
    result = _load_prod(SECRET_KEY=secret, DATABASE_URL="postgres://u@127.0.0.1/x")
    assert result.returncode != 0
    assert "SECRET_KEY is missing, too short" in result.stderr


def test_prod_starts_with_a_real_secret_and_secure_cookies() -> None:
    secret = "k" * 20 + "Zq8-" + "r" * 40
    code = (
        "import sys; sys.path.insert(0, 'platform'); import config.settings.prod as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG)"
    )
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environ.update(SECRET_KEY=secret, DATABASE_URL="postgres://u@127.0.0.1/x")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True False"


def test_cookies_are_bound_to_the_exact_host() -> None:
    assert settings.SESSION_COOKIE_DOMAIN is None
    assert settings.CSRF_COOKIE_DOMAIN is None
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def _database_settings(profile: str, **env: str) -> str:
    code = (
        "import sys; sys.path.insert(0, 'platform'); "
        f"import config.settings.{profile} as s; d = s.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d['OPTIONS']['connect_timeout'])"
    )
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "CONN_MAX_AGE", "DATABASE_CONNECT_TIMEOUT"}
    }
    environ.update(DATABASE_URL="postgres://u@127.0.0.1/x", **env)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_dev_server_closes_connections_after_each_request_prod_keeps_them_bounded() -> None:
    # runserver's thread per request would leave a persistent connection open per thread.
    assert _database_settings("dev") == "0 True 5"
    assert _database_settings("prod", SECRET_KEY="k" * 20 + "Zq8-" + "r" * 40) == "60 True 5"


@pytest.mark.parametrize("cache_url", ["locmemcache://", "dummycache://"])
def test_prod_refuses_a_per_process_or_dummy_cache(cache_url: str) -> None:
    secret = "k" * 20 + "Zq8-" + "r" * 40
    result = _load_prod(SECRET_KEY=secret, DATABASE_URL="postgres://u@127.0.0.1/x", CACHE_URL=cache_url)
    assert result.returncode != 0
    assert "per-process or dummy cache" in result.stderr


@pytest.mark.parametrize(
    ("cache_url", "backend"),
    [("", "DatabaseCache"), ("redis://127.0.0.1:6379/5", "RedisCache")],
)
def test_prod_keeps_shared_state_in_postgresql_or_redis(cache_url: str, backend: str) -> None:
    secret = "k" * 20 + "Zq8-" + "r" * 40
    code = (
        "import sys; sys.path.insert(0, 'platform'); import config.settings.prod as s; "
        "print(s.CACHES['default']['BACKEND'])"
    )
    environ = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "CACHE_URL"}}
    environ.update(SECRET_KEY=secret, DATABASE_URL="postgres://u@127.0.0.1/x")
    if cache_url:
        environ["CACHE_URL"] = cache_url
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(backend)


def test_prod_refuses_a_trusted_proxy_that_is_not_an_address() -> None:
    secret = "k" * 20 + "Zq8-" + "r" * 40
    result = _load_prod(SECRET_KEY=secret, DATABASE_URL="postgres://u@127.0.0.1/x", TRUSTED_PROXIES="nginx")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr


def test_tests_use_the_postgresql_shared_state_like_production() -> None:
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
