"""URLs of the base host: the platform site and the operators' console."""

from django.urls import include, path

from core.views import healthz
from superadmin.admin import operator_site
from superadmin.views import platform_home

urlpatterns = [
    path("", platform_home, name="platform_home"),
    path("admin/", operator_site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
]
