from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Accessi"

    def ready(self) -> None:
        # Registering the built-in login backends.
        from identity.backends import codice_fiscale, credentials  # noqa: F401
