"""URLs of the base host: the platform site, the operators' console and the metrics."""

from django.urls import include, path

from core.views import platform_accessibility
from superadmin.metrics import metrics
from superadmin.views import platform_home

urlpatterns = [
    path("", platform_home, name="platform_home"),
    path("dichiarazione-accessibilita/", platform_accessibility, name="platform_accessibility"),
    path("admin/", include("superadmin.urls", namespace="operator_admin")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("metrics", metrics, name="metrics"),
]

# Italian pages (JSON under /api/), also with the database down: see core.views.
handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
