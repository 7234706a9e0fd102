from django.apps import AppConfig


class SuperadminConfig(AppConfig):
    name = "superadmin"
    verbose_name = "Console operatori"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from superadmin import signals

        user_logged_in.connect(signals.operator_logged_in, dispatch_uid="superadmin.logged_in")
        user_logged_out.connect(signals.operator_logged_out, dispatch_uid="superadmin.logged_out")
        user_login_failed.connect(signals.operator_login_failed, dispatch_uid="superadmin.login_failed")
