"""Forms of the access pages. Labels are the seeds' own words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.limits import column_max_length
from identity.models import Account, EmailVerification
from identity.validators import codice_fiscale_clean, identifier_normalize

PASSWORD_HELP_ID = "password-requirements"  # noqa: S105 (an HTML id)


class CredentialsLoginForm(forms.Form):
    codice_utente = forms.CharField(
        label=_("Codice utente"),
        max_length=column_max_length(Account, "codice_utente"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "characters"}),
        error_messages={"required": _("Inserire il codice utente (per esempio PAL-000123).")},
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Inserire la password.")},
    )


class CodiceFiscaleLoginForm(forms.Form):
    codice_fiscale = forms.CharField(
        label=_("Codice Fiscale Alunno"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        required=False,
        max_length=128,
        help_text=_("Solo se l'iscrizione è già stata salvata: la password ricevuta via email."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_codice_fiscale(self) -> str:
        return codice_fiscale_clean(self.cleaned_data["codice_fiscale"])


class AdminLoginForm(AdminAuthenticationForm):
    """The sign-in of the staff back office and of the operators' console.

    The user name is authenticated in the same form the lockout counts it in
    (staff and operators' user names are stored in lower case).
    """

    def clean_username(self) -> str:
        return identifier_normalize(self.cleaned_data.get("username") or "")


class _NewPasswordMixin(forms.Form):
    account: Account

    new_password1 = forms.CharField(
        label=_("Nuova password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Inserire la nuova password.")},
    )
    new_password2 = forms.CharField(
        label=_("Conferma nuova password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Ripetere la nuova password.")},
    )

    def clean_new_password1(self) -> str:
        password = self.cleaned_data["new_password1"]
        password_validation.validate_password(password, self.account)
        return password

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        first, second = data.get("new_password1"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("Le due password non coincidono."))
        return data


def password_requirements() -> list[str]:
    """The rules shown next to every new-password field, before the parent types."""
    return password_validation.password_validators_help_texts()


class PasswordChangeForm(_NewPasswordMixin):
    """ "Cambio Password". The current password is asked unless the change is forced
    right after a login with an issued or temporary one."""

    old_password = forms.CharField(
        label=_("Password attuale"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Inserire la password attuale.")},
    )
    field_order = ["old_password", "new_password1", "new_password2"]

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        if account.must_change_password:
            del self.fields["old_password"]

    def clean_old_password(self) -> str:
        password = self.cleaned_data["old_password"]
        if not self.account.check_password(password):
            raise ValidationError(_("La password attuale non è corretta."))
        return password

    def clean_new_password1(self) -> str:
        password = super().clean_new_password1()
        if self.account.check_password(password):
            raise ValidationError(_("La nuova password deve essere diversa da quella attuale."))
        return password


class PasswordResetSetForm(_NewPasswordMixin):
    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account


class PasswordResetRequestForm(forms.Form):
    identifier = forms.CharField(
        label=_("Codice utente o codice fiscale"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "characters"}),
        error_messages={"required": _("Inserire il codice utente o il codice fiscale.")},
    )


class EmailVerifyForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=column_max_length(EmailVerification, "email"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Inserire l'indirizzo email."),
            "invalid": _("Inserire un indirizzo email valido, per esempio nome@esempio.it."),
        },
    )


class EmailCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Codice sicurezza"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
        error_messages={
            "required": _("Inserire il codice sicurezza ricevuto via email."),
            "invalid": _("Il codice sicurezza è formato da 6 cifre."),
        },
    )
