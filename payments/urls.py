"""Parents' payments pages under /pagamenti/ and the receipts' callback."""

from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("", views.payments_home, name="home"),
    path("avviso/<str:codice_avviso>.pdf", views.avviso_download, name="avviso"),
    path("ricevute/", views.receipt_callback, name="receipt_callback"),
]
