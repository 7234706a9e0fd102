"""A token of Palosco is refused on Romano's host by every endpoint of the API."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern
from django_tenants.utils import tenant_context

from api import urls as api_urls
from api.models import AppLoginCode
from tests.api.conftest import api_client, parent_create, token_for

SAMPLE_KWARGS = {"pk": "1", "domanda": str(uuid.uuid4()), "codice_avviso": "301000000000000144"}


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if route == "^.*$":
            path = "qualsiasi/"
        else:
            path = route
            for name, value in SAMPLE_KWARGS.items():
                for kind in ("int", "uuid", "str"):
                    path = path.replace(f"<{kind}:{name}>", value)
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is None:
            methods = ["get"]
        else:
            methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
        cases += [(pattern.name or route, f"/api/v1/{path}", method) for method in methods]
    return cases


CASES = _cases()


def test_every_pattern_is_covered() -> None:
    assert len(api_urls.urlpatterns) == 31 and len(CASES) >= 34


@pytest.mark.parametrize(("name", "url", "method"), CASES, ids=[f"{c[2]} {c[1]}" for c in CASES])
def test_palosco_token_is_refused_on_romano(palosco, romano, name: str, url: str, method: str) -> None:
    with tenant_context(palosco):
        key = token_for(palosco, parent_create())
    foreign = api_client(romano, key)
    if name == "app_login":
        # A web page working on the session only: the token is no session.
        challenge = "a" * 43
        response = foreign.get(
            url,
            {"redirect_uri": "comunicapp://x", "code_challenge": challenge, "code_challenge_method": "S256"},
        )
        assert response.status_code == 302 and response["Location"].startswith("/accesso/")
        with tenant_context(romano):
            assert not AppLoginCode.objects.exists()
        return
    response = getattr(foreign, method)(url, {}, content_type="application/json")
    if name == "^.*$" or name is None:
        assert response.status_code == 404
        return
    assert response.status_code == 401, (url, method, response.content[:300])
    assert response.json()["error"]["code"] == "invalid_token"
    # The same token on its own comune's host is known (whatever the endpoint then answers).
    home = getattr(api_client(palosco, key), method)(url, {}, content_type="application/json")
    assert home.status_code != 401, (url, method)
