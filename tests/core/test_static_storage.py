"""Production's static storage answers a name's hashed URL from the manifest, worked out once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

from core.storage import StaticStorage


@pytest.fixture
def storage(tmp_path: Path, settings) -> StaticStorage:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    manifest = {"version": "1.1", "hash": "x", "paths": {"css/site.css": "css/site.0123abcd.css"}}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return StaticStorage(location=str(tmp_path), base_url="/static/")


def test_a_name_is_worked_out_once_and_a_missing_one_still_raises(storage, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    real = ManifestStaticFilesStorage.stored_name
    monkeypatch.setattr(
        ManifestStaticFilesStorage, "stored_name", lambda self, name: calls.append(name) or real(self, name)
    )
    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
    assert calls == ["css/site.css"]
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/absent.css")
    assert calls == ["css/site.css", "css/absent.css", "css/absent.css"]


def test_debug_and_force_are_not_kept(storage, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    assert storage.url("css/site.css") == "/static/css/site.css"  # Django's unhashed URL in DEBUG
    settings.DEBUG = False
    assert storage.url("css/site.css") == "/static/css/site.0123abcd.css"
    assert storage.url("css/site.css", force=True) == "/static/css/site.0123abcd.css"
