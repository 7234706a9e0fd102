from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Iscrizioni"

    def ready(self) -> None:
        # Registers the PDF attachment renderers used by the e-mail job.
        from enrollment import documents  # noqa: F401
