from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Accessi"

    def ready(self) -> None:
        # Backends register themselves on import.
        import identity.cie.backend
        import identity.spid.backend  # noqa: F401
