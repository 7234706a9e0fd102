from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Piattaforma"

    def ready(self) -> None:
        from django_structlog import signals

        from core.logs import comune_bind

        signals.bind_extra_request_metadata.connect(comune_bind, dispatch_uid="core.logs.comune_bind")
