"""Production's static files storage: whitenoise's compressed manifest, its URLs worked out once.

`{% static %}` asks the storage for a file's URL on every use: the manifest
lookup, then Django's URL building (urljoin, quoting, unquoting) each time.
The manifest is read once per process and never changes under it, so the
answer for a name never changes either: kept per process, for names the
manifest knows (a missing one still raises each time). A portal page uses a
handful; they were 5-6 % of a portal home's CPU under load (py-spy).
"""

from __future__ import annotations

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if force or settings.DEBUG or name is None:
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            url = self._urls[name] = super().url(name)
        return url
