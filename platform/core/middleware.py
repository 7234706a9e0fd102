"""Language selection: Italian unless the person chose another language.

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


class ChosenLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        api = request.path_info.startswith("/api/")
        language = chosen if chosen in self.supported and not api else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
