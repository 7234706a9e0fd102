"""Access URLs of a comune's host; each registered login backend under /accesso/<key>/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from identity import views
from identity.backends import registered

urlpatterns: list[URLPattern | URLResolver] = [
    path("accesso/", views.login_page, name="login"),
    path("accesso/cambio-password/", views.password_change, name="password_change"),
    path("accesso/verifica-email/", views.email_verify, name="email_verify"),
    path("accesso/verifica-email/codice/", views.email_verify_code, name="email_verify_code"),
    path("accesso/password-dimenticata/", views.password_reset_request, name="password_reset"),
    path(
        "accesso/password-dimenticata/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("esci/", views.logout_view, name="logout"),
]
urlpatterns += [
    path(f"accesso/{key}/", include((backend().urlpatterns(), key), namespace=key))
    for key, backend in sorted(registered().items())
]
