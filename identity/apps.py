from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Accessi"

    def ready(self) -> None:
        from django.core.signals import request_started

        from identity.services import temporary_passwords_watch

        request_started.connect(temporary_passwords_watch, dispatch_uid="identity.temporary_passwords_watch")
        # Backends register themselves on import.
        from identity.backends import codice_fiscale, credentials  # noqa: F401
        from identity.cie import backend as cie_backend  # noqa: F401
        from identity.spid import backend as spid_backend  # noqa: F401
