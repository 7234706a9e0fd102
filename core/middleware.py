"""Middleware of the platform: language selection, private responses.

Language selection: Italian unless the person chose another language.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a
phone set to English would get `lang="en"` on Italian pages; a public
administration portal is Italian first, and English is an explicit choice
(the selector in the header, stored in the language cookie). The API is
Italian whatever the cookie says: its own messages are Italian only, and
DRF's must not switch to English next to them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from core.languages import language_supported


class ChosenLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        api = request.path_info.startswith("/api/")
        language = settings.LANGUAGE_CODE if api else language_supported(chosen)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            # The thread goes back to Italian: what runs after this request (a job, a
            # command, the next test) must not speak the language of the previous parent.
            translation.deactivate()
        response.headers.setdefault("Content-Language", language)
        return response


class PrivateResponseMiddleware:
    """Personal data never stays in a browser's or a proxy's cache.

    Every answer to a signed-in person (parents' pages, back office, console,
    API calls with a token: DRF sets `request.user` on the Django request)
    and every downloaded document gets `no-store`, whatever the view did;
    anonymous public pages keep their caching. Also sends the
    Permissions-Policy of the platform on every response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or _is_document(response):
            add_never_cache_headers(response)
        return response


def _is_document(response: HttpResponse) -> bool:
    content_type = response.headers.get("Content-Type", "")
    return content_type.startswith("application/pdf") or "attachment" in response.headers.get(
        "Content-Disposition", ""
    )
