from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Accessi"

    def ready(self) -> None:
        # Backends register themselves on import.
        from identity.backends import codice_fiscale, credentials  # noqa: F401
        from identity.cie import backend as cie_backend  # noqa: F401
        from identity.spid import backend as spid_backend  # noqa: F401
