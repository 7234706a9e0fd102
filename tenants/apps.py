from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Comuni"

    def ready(self) -> None:
        from tenants.models import Comune
        from tenants.provisioning import schema_clone

        Comune.schema_cloner = staticmethod(schema_clone)
