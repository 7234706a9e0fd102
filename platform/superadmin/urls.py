"""The operators' console under /admin/ of the base host: its own pages, then the admin's.

Mounted as `operator_site.urls` would be (application namespace "admin",
instance namespace "operator_admin"); each page but the second factor's is
wrapped in the site's `admin_view`, so it needs an operator who passed TOTP.
"""

from __future__ import annotations

from django.urls import path

from superadmin import views
from superadmin.site import operator_site

app_name = "admin"

own = operator_site.admin_view
urlpatterns = [
    path("secondo-fattore/", views.second_factor, name="second_factor"),
    path("secondo-fattore/esci/", views.second_factor_logout, name="second_factor_logout"),
    path("comuni/", own(views.comuni), name="comuni"),
    path("comuni/nuovo/", own(views.comune_onboard), name="comune_onboard"),
    path("comuni/<slug:slug>/", own(views.comune_detail), name="comune_detail"),
    path("comuni/<slug:slug>/configurazione/", own(views.comune_config), name="comune_config"),
    path(
        "comuni/<slug:slug>/configurazione.yaml",
        own(views.comune_config_export),
        name="comune_config_export",
    ),
    path("comuni/<slug:slug>/sospendi/", own(views.comune_suspend), name="comune_suspend"),
    path("comuni/<slug:slug>/riattiva/", own(views.comune_resume), name="comune_resume"),
    path("comuni/<slug:slug>/host/aggiungi/", own(views.comune_host_add), name="comune_host_add"),
    path("comuni/<slug:slug>/host/rimuovi/", own(views.comune_host_remove), name="comune_host_remove"),
    path("comuni/<slug:slug>/esporta/", own(views.comune_export), name="comune_export"),
    path("comuni/<slug:slug>/dismissione/", own(views.comune_offboard), name="comune_offboard"),
    path("salute/", own(views.health), name="health"),
    *operator_site.get_urls(),
]
