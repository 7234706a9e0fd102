"""The parents' API of a comune's host, under /api/v1/."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.errors import not_found
from api.views import auth, comune, documents, enrollments, payments, profile, renewals, uploads

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline <script>.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    path("comune/", comune.ComuneView.as_view(), name="comune"),
    path("services/", comune.ServiceListView.as_view(), name="services"),
    path("services/<int:pk>/", comune.ServiceDetailView.as_view(), name="service"),
    path("services/<int:pk>/definition/", comune.ServiceDefinitionView.as_view(), name="service_definition"),
    path("auth/token/", auth.TokenObtainView.as_view(), name="token"),
    path("auth/exchange/", auth.ExchangeView.as_view(), name="exchange"),
    path("auth/app-login/", auth.app_login, name="app_login"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
    path("auth/devices/", auth.DeviceListView.as_view(), name="devices"),
    path("auth/devices/<int:pk>/", auth.DeviceDetailView.as_view(), name="device"),
    path("me/", profile.ProfileView.as_view(), name="profile"),
    path("me/password/", profile.PasswordChangeView.as_view(), name="password"),
    path("me/email/send/", profile.EmailSendView.as_view(), name="email_send"),
    path("me/email/confirm/", profile.EmailConfirmView.as_view(), name="email_confirm"),
    path("pupils/", profile.PupilListView.as_view(), name="pupils"),
    path("pupils/<int:pk>/", profile.PupilDetailView.as_view(), name="pupil"),
    path("enrollments/", enrollments.EnrollmentListView.as_view(), name="enrollments"),
    path("enrollments/<uuid:domanda>/", enrollments.EnrollmentDetailView.as_view(), name="enrollment"),
    path("enrollments/<uuid:domanda>/submit/", enrollments.EnrollmentSubmitView.as_view(), name="submit"),
    path(
        "enrollments/<uuid:domanda>/withdraw/", enrollments.EnrollmentWithdrawView.as_view(), name="withdraw"
    ),
    path(
        "enrollments/<uuid:domanda>/riepilogo.pdf", documents.RiepilogoPdfView.as_view(), name="riepilogo_pdf"
    ),
    path("uploads/", uploads.UploadView.as_view(), name="uploads"),
    path("renewals/", renewals.RenewalListView.as_view(), name="renewals"),
    path("renewals/<int:pk>/", renewals.RenewalCreateView.as_view(), name="renew"),
    path("documents/manuale-informativo.pdf", documents.ManualePdfView.as_view(), name="manuale_pdf"),
    path("documents/lettera-credenziali.pdf", documents.CredenzialiPdfView.as_view(), name="credenziali_pdf"),
    path("payments/", payments.PaymentListView.as_view(), name="payments"),
    path(
        "payments/<str:codice_avviso>/avviso.pdf", payments.AvvisoPdfView.as_view(), name="payment_avviso_pdf"
    ),
    re_path(r"^.*$", not_found),
]
