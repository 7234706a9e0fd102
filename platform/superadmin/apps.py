from django.apps import AppConfig


class SuperadminConfig(AppConfig):
    name = "superadmin"
    verbose_name = "Console operatori"
