"""URLs of a comune's host: the parents' portal and the staff back office."""

from django.urls import include, path

from core.views import comune_stylesheet, platform_accessibility
from enrollment.admin import staff_site
from enrollment.views import legal_notes, portal_home, privacy_notice, service_page
from superadmin.views import invitation

urlpatterns = [
    path("", portal_home, name="portal_home"),
    path("informativa-privacy/", privacy_notice, name="privacy_notice"),
    path("note-legali/", legal_notes, name="legal_notes"),
    path("dichiarazione-accessibilita/", platform_accessibility, name="platform_accessibility"),
    # The school year as 2025-2026: a slash cannot sit in one path segment.
    path("servizi/<str:code>/<str:year>/", service_page, name="service_page"),
    path("admin/", staff_site.urls),
    path("iscrizioni/", include("enrollment.urls")),
    path("pagamenti/", include("payments.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("aspetto.css", comune_stylesheet, name="comune_stylesheet"),
    path("api/v1/", include("api.urls")),
    path("", include("identity.urls")),
    path("", include("identity.spid.urls")),
    path("invito/<uidb64>/<token>/", invitation, name="invitation"),
]

# Italian pages (JSON under /api/), also with the database down: see core.views.
handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
