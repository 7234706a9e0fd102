"""The operators' console site on the base host (public schema).

A separate AdminSite from the comuni's staff back office: each registers only
the models of its own side (superadmin/admin.py), so nothing public leaks into
a comune's /admin/. Every page needs an operator account that passed the TOTP
step in this session. The console's own pages are listed in superadmin/urls.py,
so that the views can use this site without the site importing the views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse

from core.views import request_as_get
from identity import ratelimit
from identity.forms import AdminLoginForm
from superadmin.access import operator_authenticated, second_factor_passed

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class OperatorAdminSite(admin.AdminSite):
    site_header = "Console operatori · Iscrizioni Scolastiche"
    site_title = "Console operatori"
    index_title = "Comuni e piattaforma"
    index_template = "superadmin/index.html"
    login_template = "superadmin/login.html"
    login_form = AdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        return second_factor_passed(request)

    def _second_factor_redirect(self, request: HttpRequest) -> HttpResponse:
        url = reverse(f"{self.name}:second_factor", current_app=self.name)
        return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        inner = super().admin_view(view, cacheable)

        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if operator_authenticated(request) and not second_factor_passed(request):
                return self._second_factor_redirect(request)
            return inner(request, *args, **kwargs)

        # Django marks its admin views so (AdminSite.admin_view); mypy knows no attributes on a function.
        wrapper.admin_site = self  # type: ignore[attr-defined]
        # The wrapper takes the view's arguments and returns a response, as the view does.
        return cast(_View, update_wrapper(wrapper, view))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if operator_authenticated(request) and not second_factor_passed(request):
            return self._second_factor_redirect(request)
        if request.method != "POST":
            return super().login(request, extra_context)
        # The password step has the same lockout as every other login form
        # (identity.ratelimit: per user name and per IP, in the public schema).
        limit = ratelimit.limit_for(request, scope="operatori", identifier=request.POST.get("username", ""))
        if not ratelimit.attempt_reserve(limit):
            response = super().login(request_as_get(request), {**(extra_context or {}), "locked": True})
            response.status_code = 429
            return response
        response = super().login(request, extra_context)
        if operator_authenticated(request):
            ratelimit.attempt_succeeded(limit)
        else:
            ratelimit.attempt_failed(limit, request=request)
        return response


operator_site = OperatorAdminSite(name="operator_admin")
