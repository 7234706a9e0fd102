"""Parents' enrollment pages under /iscrizioni/ (identity.access URL constants)."""

from django.urls import path

from enrollment import views

app_name = "enrollment"

urlpatterns = [
    path("", views.parent_home, name="parent_home"),
    path("nuova/", views.enrollment_new, name="new"),
    path("rinnovi/", views.renewals, name="renewals"),
    path("rinnovi/<int:pk>/", views.renewal_form, name="renew"),
    path("domanda/<uuid:domanda>/", views.domanda_summary, name="summary"),
    path("domanda/<uuid:domanda>/modifica/", views.domanda_edit, name="edit"),
    path("domanda/<uuid:domanda>/riepilogo.pdf", views.riepilogo_pdf, name="riepilogo_pdf"),
    path("allegati/<uuid:pk>/", views.upload_download, name="upload"),
    path("iscrizione/<int:pk>/annulla/", views.enrollment_withdraw_view, name="withdraw"),
    path("valutazione/", views.feedback_send, name="feedback"),
    path("documenti/manuale-informativo.pdf", views.manuale_pdf, name="manuale_pdf"),
    path("documenti/lettera-credenziali.pdf", views.credenziali_pdf, name="credenziali_pdf"),
]
