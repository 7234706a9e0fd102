from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Iscrizioni"

    def ready(self) -> None:
        # Registers the PDF attachment renderers used by the e-mail job, and
        # the receivers that version the catalogue.
        from enrollment import documents, signals  # noqa: F401
