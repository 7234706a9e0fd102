"""SPID/CIE fixtures: Romano's SP keys (generated once by `spid_keys`), the demo IdP, helpers."""

from __future__ import annotations

import base64
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from lxml import etree

from tests.conftest import ROMANO_HOST

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS = {"samlp": SAMLP, "saml": SAML, "md": "urn:oasis:names:tc:SAML:2.0:metadata"}
ROMANO_BASE = f"http://{ROMANO_HOST}"
DEMO_IDP = f"{ROMANO_BASE}/spid-demo-idp/metadata/"


@pytest.fixture(scope="session")
def spid_keys_dir(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("spid-keys")
    with override_settings(SPID_KEYS_DIR=str(folder)), django_db_blocker.unblock():
        call_command("spid_keys", stdout=io.StringIO())
        yield folder


@pytest.fixture(autouse=True)
def _spid_settings(settings, spid_keys_dir: Path) -> None:  # type: ignore[no-untyped-def]
    settings.SPID_KEYS_DIR = str(spid_keys_dir)


@pytest.fixture
def demo_idp_on(settings) -> None:  # type: ignore[no-untyped-def]
    # Tests run with DEBUG off; the demo IdP needs both switches on.
    settings.DEBUG = True
    settings.SPID_DEMO_IDP = True


@dataclass
class Started:
    """A login started on our SP: the redirect to the IdP and what it carries."""

    url: str
    request_xml: etree._Element
    params: dict[str, str]

    @property
    def request_id(self) -> str:
        return self.request_xml.get("ID")


def login_start(client: Client, kind: str = "spid", idp: str = DEMO_IDP, next_url: str = "") -> Started:
    query = {"idp": idp}
    if next_url:
        query["next"] = next_url
    response = client.get(f"/accesso/{kind}/login/", query)
    assert response.status_code == 302, response.content.decode()[:500]
    url = response["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    xml = zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15)
    return Started(url=url, request_xml=etree.fromstring(xml), params=params)


def demo_idp_answer(client: Client, started: Started, identity: str = "mario") -> str:
    """Go through the demo IdP's pages; return the SAMLResponse it posts to the ACS."""
    parts = urlsplit(started.url)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.content.decode()[:500]
    post = client.post(parts.path, {"query": parts.query, "identity": identity})
    assert post.status_code == 200
    html = etree.HTML(post.content)
    return html.xpath("//input[@name='SAMLResponse']/@value")[0]


@pytest.fixture
def romano_spid(romano, demo_idp_on) -> Client:  # type: ignore[no-untyped-def]
    return Client(HTTP_HOST=ROMANO_HOST)
