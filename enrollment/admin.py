"""The comune staff's back office at /admin/ on the comune's host.

The Django AdminSite is the shell: it gives sign-in, sign-out, password
change, CSRF and no-cache for every page, and checks that the visitor is a
staff account of this comune. The pages themselves are the back office's
own views (`enrollment.backoffice`), rendered with the comune's branding
on Bootstrap Italia; no ModelAdmin is registered, so nothing can be changed
around the services that hold the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path
from django.utils import translation

from core.services import audit_record
from core.views import request_as_get
from enrollment.backoffice import views
from enrollment.backoffice.urls import urlpatterns as backoffice_urls
from identity import ratelimit
from identity.forms import AdminLoginForm
from identity.models import Account
from identity.validators import identifier_normalize

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class StaffAdminSite(admin.AdminSite):
    site_header = "Gestione iscrizioni"
    site_title = "Gestione iscrizioni"
    index_title = "Cruscotto"
    login_template = "backoffice/login.html"
    login_form = AdminLoginForm
    logout_template = "backoffice/logged_out.html"
    password_change_template = "backoffice/password_change.html"  # noqa: S105 (a template)
    password_change_done_template = "backoffice/password_change_done.html"  # noqa: S105

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        return _in_italian(super().admin_view(view, cacheable))

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "kind", None) == Account.Kind.STAFF)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        ours = [
            URLPattern(p.pattern, self.admin_view(p.callback), p.default_args, p.name)
            for p in backoffice_urls
        ]
        # The invitation link is opened before its owner can sign in.
        public = [
            path(
                "imposta-password/<str:uidb64>/<str:token>/", views.staff_set_password, name="bo_set_password"
            )
        ]
        return public + ours + super().get_urls()

    # AdminSite.index renders a TemplateResponse; ours is a back-office view, which may also
    # answer with the plain "not allowed" page: every caller only needs a response.
    def index(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponseBase:
        return views.dashboard(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return _in_italian(self._login)(request, extra_context)

    def _login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The admin's sign-in with the lockout of every login form (identity.ratelimit)."""
        if request.method != "POST":
            return super().login(request, extra_context)
        username = identifier_normalize(request.POST.get("username", ""))[:150]
        limit = ratelimit.limit_for(request, scope="backoffice", identifier=username)
        if not ratelimit.attempt_reserve(limit):
            context = {**(extra_context or {}), "locked": True}
            response = super().login(request_as_get(request), context)
            response.status_code = 429
            return response
        response = super().login(request, extra_context)
        if request.user.is_authenticated and self.has_permission(request):
            ratelimit.attempt_succeeded(limit)
            audit_record(action="login.success", actor=request.user, obj=request.user,
                         data={"backend": "backoffice"}, request=request)  # fmt: skip
        else:
            ratelimit.attempt_failed(limit, request=request)
            audit_record(action="login.failed", actor_label=username,
                         data={"backend": "backoffice"}, request=request)  # fmt: skip
        return response


def _in_italian(view: _View) -> _View:
    """The office works in Italian whatever the browser asks: the pages, the
    dates and Django's own messages (the parents' portal keeps its switch)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with translation.override("it"):
            response = view(request, *args, **kwargs)
            if isinstance(response, TemplateResponse) and not response.is_rendered:
                response.render()
        return response

    # The wrapper takes and returns what `view` does: only the language changes.
    return cast(_View, wrapper)


staff_site = StaffAdminSite(name="staff_admin")
