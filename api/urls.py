"""The parents' API of a comune's host, under /api/v1/."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import views
from api.errors import not_found

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline <script>.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    path("comune/", views.ComuneView.as_view(), name="comune"),
    path("services/", views.ServiceListView.as_view(), name="services"),
    path("services/<int:pk>/", views.ServiceDetailView.as_view(), name="service"),
    path("auth/token/", views.TokenObtainView.as_view(), name="token"),
    path("auth/exchange/", views.ExchangeView.as_view(), name="exchange"),
    path("auth/app-login/", views.app_login, name="app_login"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/devices/", views.DeviceListView.as_view(), name="devices"),
    path("auth/devices/<int:pk>/", views.DeviceDetailView.as_view(), name="device"),
    path("me/", views.ProfileView.as_view(), name="profile"),
    path("me/password/", views.PasswordChangeView.as_view(), name="password"),
    path("me/email/send/", views.EmailSendView.as_view(), name="email_send"),
    path("me/email/confirm/", views.EmailConfirmView.as_view(), name="email_confirm"),
    path("pupils/", views.PupilListView.as_view(), name="pupils"),
    path("pupils/<int:pk>/", views.PupilDetailView.as_view(), name="pupil"),
    path("enrollments/", views.EnrollmentListView.as_view(), name="enrollments"),
    path("enrollments/<uuid:domanda>/", views.EnrollmentDetailView.as_view(), name="enrollment"),
    path("enrollments/<uuid:domanda>/submit/", views.EnrollmentSubmitView.as_view(), name="submit"),
    path("enrollments/<uuid:domanda>/withdraw/", views.EnrollmentWithdrawView.as_view(), name="withdraw"),
    path("enrollments/<uuid:domanda>/riepilogo.pdf", views.RiepilogoPdfView.as_view(), name="riepilogo_pdf"),
    path("renewals/", views.RenewalListView.as_view(), name="renewals"),
    path("renewals/<int:pk>/", views.RenewalCreateView.as_view(), name="renew"),
    path("documents/manuale-informativo.pdf", views.ManualePdfView.as_view(), name="manuale_pdf"),
    path("documents/lettera-credenziali.pdf", views.CredenzialiPdfView.as_view(), name="credenziali_pdf"),
    re_path(r"^.*$", not_found),
]
