from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Pagamenti"

    def ready(self) -> None:
        # Registers the avviso PDF renderer used by the e-mail job (core.attachments).
        from payments import avviso  # noqa: F401
