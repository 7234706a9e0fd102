from django.urls import path

from identity.spid.demo_idp import views

app_name = "spid_demo_idp"
urlpatterns = [
    path("metadata/", views.metadata, name="metadata"),
    path("sso/", views.sso, name="sso"),
    path("slo/", views.slo, name="slo"),
]
