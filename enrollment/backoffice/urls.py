"""Back-office pages, mounted under /admin/ by `enrollment.admin.staff_site`."""

from django.urls import path

from enrollment.backoffice import payments, views

urlpatterns = [
    path("iscrizioni/", views.enrollment_list, name="bo_list"),
    path("iscrizioni/esporta.csv", views.export_csv, name="bo_export_csv"),
    path("iscrizioni/esporta.xlsx", views.export_xlsx, name="bo_export_xlsx"),
    path("iscrizioni/conferma-selezionate/", views.bulk_confirm, name="bo_bulk_confirm"),
    path("iscrizioni/<int:pk>/", views.enrollment_detail, name="bo_detail"),
    path("iscrizioni/<int:pk>/conferma/", views.enrollment_confirm_view, name="bo_confirm"),
    path("iscrizioni/<int:pk>/respingi/", views.enrollment_reject_view, name="bo_reject"),
    path("iscrizioni/<int:pk>/riapri/", views.enrollment_reopen_view, name="bo_reopen"),
    path("iscrizioni/<int:pk>/riepilogo.pdf", views.riepilogo_pdf, name="bo_riepilogo"),
    path("lista-attesa/", views.waiting_lists, name="bo_waiting"),
    path("lista-attesa/<int:service_id>/assegna-posto/", views.waiting_promote, name="bo_promote"),
    path("graduatorie/", views.graduatorie, name="bo_graduatorie"),
    path("graduatorie/<int:service_id>/", views.graduatoria, name="bo_graduatoria"),
    path(
        "graduatorie/<int:service_id>/calcola/", views.graduatoria_compute_view, name="bo_graduatoria_compute"
    ),
    path(
        "graduatorie/<int:service_id>/rettifica/", views.graduatoria_adjust_view, name="bo_graduatoria_adjust"
    ),
    path(
        "graduatorie/<int:service_id>/pubblica/",
        views.graduatoria_publish_view,
        name="bo_graduatoria_publish",
    ),
    path("graduatorie/<int:service_id>/albo.pdf", views.graduatoria_albo, name="bo_graduatoria_albo"),
    path("catalogo/", views.catalogue, name="bo_catalogue"),
    path("catalogo/nuovo/", views.service_new, name="bo_service_new"),
    path("catalogo/<int:pk>/", views.service_edit, name="bo_service_edit"),
    path("catalogo/<int:pk>/definizione/", views.service_definition_edit, name="bo_service_definition"),
    path("catalogo/<int:pk>/ripristina/", views.service_edits_clear, name="bo_service_clear"),
    path("sportello/", views.sportello, name="bo_sportello"),
    path("personale/", views.staff_list, name="bo_staff"),
    path("personale/nuovo/", views.staff_new, name="bo_staff_new"),
    path("personale/<int:pk>/ruolo/", views.staff_role_change, name="bo_staff_role"),
    path("personale/<int:pk>/disattiva/", views.staff_deactivate, name="bo_staff_deactivate"),
    path("registro/", views.audit_log, name="bo_audit"),
    path("valutazioni/", views.feedback_list, name="bo_feedback"),
    path("pagamenti/", payments.payments_overview, name="bo_payments"),
    path("pagamenti/esporta.<str:fmt>", payments.payments_export, name="bo_payments_export"),
    path("pagamenti/importa/<str:kind>/", payments.payments_import, name="bo_payments_import"),
    path("pagamenti/eccezione/", payments.payments_exception, name="bo_payments_exception"),
    path("pagamenti/solleciti/", payments.payments_reminders, name="bo_payments_reminders"),
    path("dati-personali/", views.personal_data, name="bo_personal_data"),
    path("dati-personali/<int:pk>/esporta.<str:fmt>", views.personal_data_export, name="bo_personal_export"),
    path("dati-personali/<int:pk>/cancella/", views.personal_data_erase, name="bo_personal_erase"),
]
